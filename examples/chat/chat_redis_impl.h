/* chat_redis_impl.h - what chat_redis.c (outbox, feed, setup) and
 * chat_replay.c (a returning member's missed events) share: the relay's
 * state and the reading of stream entries. Not for other files. */
#ifndef CHAT_CHAT_REDIS_IMPL_H
#define CHAT_CHAT_REDIS_IMPL_H

#include <hiredis/hiredis.h>

#include "chat_redis.h"
#include "redis_link.h"
#include "stream_id.h"

enum { PAGE = 256 }; /* entries per XREAD or XRANGE reply */

/* An event waiting for its XADD to be acknowledged. */
typedef struct outgoing {
    struct outgoing *next;
    struct chat_redis *r;
    int inflight; /* XADD sent on the current connection */
    int local;    /* already delivered here: tag it so the feed skips it */
    char *room;   /* points into json's allocation */
    size_t len;
    char json[];
} outgoing;

/* A member replaying from since before it joins. */
typedef struct resume {
    struct resume *next;
    struct chat_redis *r;
    chat_member *m; /* NULL: the member left, drop at the reply */
    char room[CHAT_NAME_MAX + 1], nick[CHAT_NAME_MAX + 1];
    stream_id last;      /* the last id it has (since, then replayed ones) */
    stream_id cursor_at; /* the feed's cursor when the XRANGE went out */
} resume;

struct chat_redis {
    chat *ch;
    redis_link *cmd;  /* XADD and XRANGE */
    redis_link *feed; /* XREAD BLOCK, which holds its connection */
    char history[24];
    char tag[40];        /* this instance, on the events it delivered early */
    stream_id cursor;    /* last id the feed delivered */
    int cursor_known;    /* the feed has read the stream's end once */
    int closing;         /* chat_redis_free runs: replies are dropped */
    outgoing *out, **out_tail;
    size_t out_count;
    resume *resumes;
};

/* One entry [id, [field, value, ...]] read: its id, room ("r"), event
 * JSON ("e") and origin tag ("o", or NULL). 0, or -1 when malformed. */
int chat_redis_entry(const redisReply *e, stream_id *id, const redisReply **room,
                     const redisReply **json, const redisReply **origin);

/* join_since's work: replay to m what came after since, then join it. */
int chat_replay_start(chat_redis *r, chat_member *m, const char *room,
                      const char *nick, const char *since);
/* m is gone: its replay, if any, ends at its next reply. */
void chat_replay_forget(chat_redis *r, chat_member *m);
/* Free what is left at chat_redis_free (after the links, whose pending
 * replies ended the replays under way). */
void chat_replay_free_all(chat_redis *r);

#endif
