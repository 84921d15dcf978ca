/* ticker.h - a helper thread that runs fn(loop, arg) on a loop's thread
 * every period, through wsx_loop_post (the loop's one cross-thread call).
 * The dashboard's 50 ms batch and the devices' send clock use it. */
#ifndef DASHBOARD_TICKER_H
#define DASHBOARD_TICKER_H

#include <stdint.h>

#include "wsx_loop.h"

typedef struct ticker ticker;

/* Start posting fn every period_ms; NULL when no thread or memory. */
ticker *ticker_start(wsx_loop *l, uint32_t period_ms, wsx_loop_fn fn,
                     void *arg);
/* Stop posting and join the thread (closures already posted still run on
 * the loop, or are dropped by wsx_loop_free). */
void ticker_stop(ticker *t);

#endif
