/* chat_redis.h - the chat's rooms shared by every chat instance through one
 * Redis stream (XADD with MAXLEN ~ history), so clients on any instance
 * behind a proxy talk in one room, and a client that reconnects, to any
 * instance, gets what it missed: `{"type":"join",...,"since":"<id>"}`.
 *
 * Every room event is XADDed once; each instance reads the stream
 * (XREAD BLOCK on a second connection) and delivers each event to its
 * local members with its stream id as "id", framed once per instance.
 * One stream for all rooms gives every room one order on every instance.
 * While Redis is away, events reach the local members at once (without
 * an "id") and wait, up to CHAT_REDIS_OUTBOX of them, to be XADDed when it
 * is back, for the other instances; the instance reconnects with backoff
 * and reads the stream on from its last id, which fills its gap. */
#ifndef CHAT_CHAT_REDIS_H
#define CHAT_CHAT_REDIS_H

#include "room.h"
#include "wsx_loop.h"

#define CHAT_REDIS_KEY "wsx:chat"  /* the stream */
#define CHAT_REDIS_OUTBOX 10000    /* events kept while Redis is away */

typedef struct chat_redis chat_redis;

/* Relay ch's rooms through the Redis at addr ("HOST:PORT", HOST an IP
 * address) on loop l, keeping about history events in the stream.
 * Connecting goes on in the background. Returns NULL with errno EINVAL for
 * a bad addr, ENOMEM when out of memory. */
chat_redis *chat_redis_new(chat *ch, wsx_loop *l, const char *addr,
                           long long history);
/* Stop relaying (ch broadcasts locally again) and free; before
 * wsx_loop_free, whose handles it uses. NULL: nothing. */
void chat_redis_free(chat_redis *r);

#endif
