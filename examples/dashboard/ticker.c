/* ticker.c - the ticker thread: sleep, post, repeat, until stopped. */
#include "ticker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct ticker {
    wsx_loop *loop;
    wsx_loop_fn fn;
    void *arg;
    uint32_t period_ms;
    atomic_bool stop;
    pthread_t thread;
};

static void *run(void *arg)
{
    ticker *t = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!atomic_load(&t->stop)) {
        /* Absolute deadlines: a slow post does not make the period drift. */
        next.tv_nsec += (long)t->period_ms * 1000000L;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL))
            continue;
        if (!atomic_load(&t->stop))
            wsx_loop_post(t->loop, t->fn, t->arg); /* ENOMEM: skip a beat */
    }
    return NULL;
}

ticker *ticker_start(wsx_loop *l, uint32_t period_ms, wsx_loop_fn fn,
                     void *arg)
{
    ticker *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->loop = l;
    t->fn = fn;
    t->arg = arg;
    t->period_ms = period_ms;
    atomic_init(&t->stop, false);
    if (pthread_create(&t->thread, NULL, run, t)) {
        free(t);
        return NULL;
    }
    return t;
}

void ticker_stop(ticker *t)
{
    if (!t)
        return;
    atomic_store(&t->stop, true);
    pthread_join(t->thread, NULL);
    free(t);
}
