/* redis_loop.h - runs a hiredis asynchronous context (Debian libhiredis-dev,
 * 0.14 and later) inside a wsx_loop: its socket becomes a wsx_watch, so
 * Redis replies arrive on the loop's thread between WebSocket events and
 * no other event library is needed. Example code: the library itself stays
 * libc-only. */
#ifndef CHAT_REDIS_LOOP_H
#define CHAT_REDIS_LOOP_H

#include <hiredis/async.h>

#include "wsx_loop.h"

/* Hook ac (fresh from redisAsyncConnect, before any command) to l. From
 * then on hiredis reads and writes when the loop says its socket is
 * ready, and the watcher goes with the context (hiredis calls our cleanup
 * when it frees ac, after a disconnect or redisAsyncFree). Returns 0, or
 * WSX_ENOMEM / WSX_EIO (errno tells why) and then ac is left as it was:
 * the caller frees it. */
int redis_loop_attach(redisAsyncContext *ac, wsx_loop *l);

#endif
