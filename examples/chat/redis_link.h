/* redis_link.h - one Redis connection kept up inside a wsx_loop: connects
 * without blocking (hiredis through redis_loop.h), and when the server
 * goes away or refuses, tries again after a delay that doubles from
 * 100 ms up to 2 s (a wsx_timer), so a restarted Redis is back within
 * about two seconds and a dead one costs a connect attempt every 2 s. */
#ifndef CHAT_REDIS_LINK_H
#define CHAT_REDIS_LINK_H

#include <hiredis/async.h>

#include "wsx_loop.h"

typedef struct redis_link redis_link;
/* ac: the connected context, ready for commands; NULL: the connection
 * was lost (the callbacks of its pending commands have had a NULL
 * reply) and a new attempt is scheduled. */
typedef void (*redis_link_fn)(redis_link *k, redisAsyncContext *ac,
                              void *user);

/* Start connecting to host:port (host an IP address: hiredis resolves
 * other names with a blocking call). name tags the up/down lines on
 * stderr. Returns NULL when out of memory. */
redis_link *redis_link_new(wsx_loop *l, const char *host, int port,
                           const char *name, redis_link_fn fn, void *user);
/* The connected context, or NULL while down. */
redisAsyncContext *redis_link_ctx(const redis_link *k);
/* Disconnect (fn is not called) and free; NULL: nothing. */
void redis_link_free(redis_link *k);

#endif
