/* chat_replay.c - a member that comes back with "since" gets the room's
 * events after that id from the stream (XRANGE, a page at a time), then
 * joins the live room where the feed takes over (see chat_redis.h). */
#include <stdlib.h>
#include <string.h>

#include "chat_redis_impl.h"

static void replay_next(resume *rs);

/* The member joins the live room after its replay (err NULL) or without
 * one (err says why); either way rs is freed. A send to a member whose
 * peer is gone fails it at once and its on_close frees it: rs stays
 * listed until the end, so that chat_replay_forget clears rs->m then. */
static void replay_end(resume *rs, const char *err)
{
    chat_redis *r = rs->r;
    if (rs->m && !r->closing && err)
        chat_error(rs->m, err);
    if (rs->m && !r->closing)
        chat_join(rs->m, rs->room, rs->nick);
    resume **pp = &r->resumes;
    while (*pp != rs)
        pp = &(*pp)->next;
    *pp = rs->next;
    free(rs);
}

/* XRANGE's reply: the entries after rs->last. The feed delivers those
 * after its cursor to the room; the member needs the ones up to it. It
 * has them all once an entry beyond the cursor shows up, or once a short
 * page came back while the cursor stood still (anything the feed
 * delivered was in the stream before the XRANGE ran). */
static void on_range(redisAsyncContext *ac, void *reply, void *priv)
{
    resume *rs = priv;
    chat_redis *r = rs->r;
    redisReply *rep = reply;
    (void)ac;
    if (!rs->m || r->closing || !rep || rep->type != REDIS_REPLY_ARRAY) {
        replay_end(rs, "history is unavailable: Redis is away");
        return;
    }
    int beyond = 0;
    for (size_t i = 0; i < rep->elements && rs->m; i++) {
        stream_id id;
        const redisReply *room, *json, *origin;
        if (chat_redis_entry(rep->element[i], &id, &room, &json, &origin) < 0)
            continue;
        beyond = stream_id_cmp(id, r->cursor) > 0;
        if (beyond)
            break;
        rs->last = id;
        if (strcmp(room->str, rs->room))
            continue;
        size_t n;
        char *stamped = stream_id_stamp(json->str, json->len, id, &n);
        if (stamped)
            wsx_send(chat_member_conn(rs->m), WSX_TEXT, stamped, n);
        free(stamped);
    }
    if (!rs->m || beyond ||
        (rep->elements < PAGE && !stream_id_cmp(r->cursor, rs->cursor_at)))
        replay_end(rs, NULL);
    else
        replay_next(rs);
}

static void replay_next(resume *rs)
{
    chat_redis *r = rs->r;
    redisAsyncContext *ac = redis_link_ctx(r->cmd);
    if (!ac || !r->cursor_known) {
        replay_end(rs, "history is unavailable: Redis is away");
        return;
    }
    if (stream_id_cmp(rs->last, r->cursor) >= 0) {
        replay_end(rs, NULL); /* nothing missed: the feed has the rest */
        return;
    }
    char from[STREAM_ID_MAX + 1], count[8];
    from[0] = '('; /* exclusive start, Redis 6.2 and later */
    stream_id_format(rs->last, from + 1);
    snprintf(count, sizeof count, "%d", PAGE);
    rs->cursor_at = r->cursor;
    const char *argv[] = {"XRANGE", CHAT_REDIS_KEY, from, "+", "COUNT", count};
    if (redisAsyncCommandArgv(ac, on_range, rs, 6, argv, NULL) != REDIS_OK)
        replay_end(rs, "history is unavailable: Redis is away");
}

void chat_replay_forget(chat_redis *r, chat_member *m)
{
    for (resume *rs = r->resumes; rs; rs = rs->next)
        if (rs->m == m)
            rs->m = NULL;
}

int chat_replay_start(chat_redis *r, chat_member *m, const char *room,
                      const char *nick, const char *since)
{
    stream_id last;
    if (stream_id_parse(since, strlen(since), &last) < 0)
        return WSX_EPROTO;
    resume *rs = calloc(1, sizeof *rs);
    if (!rs)
        return WSX_ENOMEM;
    chat_replay_forget(r, m); /* a second join overrides a replay under way */
    chat_leave(m);
    rs->r = r;
    rs->m = m;
    rs->last = last;
    strcpy(rs->room, room); /* chat_join_since checked the lengths */
    strcpy(rs->nick, nick);
    rs->next = r->resumes;
    r->resumes = rs;
    replay_next(rs);
    return 0;
}

void chat_replay_free_all(chat_redis *r)
{
    while (r->resumes)
        replay_end(r->resumes, NULL);
}
