/* chat_redis.c - rooms shared through one Redis stream (see chat_redis.h):
 * the outbox of events to XADD, the feed that XREADs them back in stream
 * order, and the replay of a returning member's missed events. */
#include "chat_redis.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* ---- the outbox: every room event goes out through XADD ------------- */

static void out_remove(chat_redis *r, outgoing *o)
{
    outgoing **pp = &r->out;
    while (*pp != o)
        pp = &(*pp)->next;
    *pp = o->next;
    if (r->out_tail == &o->next)
        r->out_tail = pp;
    r->out_count--;
    free(o);
}

static void on_added(redisAsyncContext *ac, void *reply, void *priv)
{
    outgoing *o = priv;
    redisReply *rep = reply;
    (void)ac;
    if (!rep) { /* connection lost: send again once it is back */
        o->inflight = 0;
        return;
    }
    if (rep->type == REDIS_REPLY_ERROR)
        fprintf(stderr, "chat: redis XADD: %s (event dropped)\n", rep->str);
    out_remove(o->r, o);
}

static void out_send(chat_redis *r, outgoing *o, redisAsyncContext *ac)
{
    const char *argv[] = {"XADD", CHAT_REDIS_KEY, "MAXLEN", "~", r->history,
                          "*", "r", o->room, "e", o->json, "o", r->tag};
    size_t lens[sizeof argv / sizeof *argv];
    for (size_t i = 0; i < sizeof argv / sizeof *argv; i++)
        lens[i] = strlen(argv[i]);
    lens[9] = o->len;
    int argc = o->local ? 12 : 10;
    if (redisAsyncCommandArgv(ac, on_added, o, argc, argv, lens) == REDIS_OK)
        o->inflight = 1;
}

static int publish(chat *ch, const char *room, const char *json, size_t len,
                   void *user)
{
    chat_redis *r = user;
    redisAsyncContext *ac = redis_link_ctx(r->cmd);
    /* Redis is away: local members do not wait for it. */
    if (r->out_count >= CHAT_REDIS_OUTBOX)
        return ac ? WSX_EFULL : chat_deliver(ch, room, json, len);
    size_t rlen = strlen(room);
    outgoing *o = malloc(sizeof *o + len + 1 + rlen + 1);
    if (!o)
        return ac ? WSX_ENOMEM : chat_deliver(ch, room, json, len);
    memset(o, 0, sizeof *o);
    o->r = r;
    o->local = !ac;
    o->len = len;
    memcpy(o->json, json, len);
    o->json[len] = '\0';
    o->room = o->json + len + 1;
    memcpy(o->room, room, rlen + 1);
    *r->out_tail = o;
    r->out_tail = &o->next;
    r->out_count++;
    if (ac)
        out_send(r, o, ac);
    else /* last: a send that fails here may end the room */
        chat_deliver(ch, o->room, o->json, o->len);
    return 0;
}

static void cmd_changed(redis_link *k, redisAsyncContext *ac, void *user)
{
    chat_redis *r = user;
    (void)k;
    for (outgoing *o = r->out; ac && o; o = o->next)
        if (!o->inflight)
            out_send(r, o, ac);
}

/* ---- stream entries ----------------------------------------------- */

/* The value of field name in an entry's field list, or NULL. */
static const redisReply *entry_field(const redisReply *fields, const char *name)
{
    if (fields->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *f = fields->element[i];
        if (f->type == REDIS_REPLY_STRING && !strcmp(f->str, name))
            return fields->element[i + 1]->type == REDIS_REPLY_STRING
                       ? fields->element[i + 1]
                       : NULL;
    }
    return NULL;
}

/* One entry [id, [field, value, ...]] read: 0, or -1 when malformed. */
static int entry_read(const redisReply *e, stream_id *id, const redisReply **room,
                      const redisReply **json, const redisReply **origin)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING ||
        stream_id_parse(e->element[0]->str, e->element[0]->len, id) < 0)
        return -1;
    *room = entry_field(e->element[1], "r");
    *json = entry_field(e->element[1], "e");
    *origin = entry_field(e->element[1], "o");
    return *room && *json ? 0 : -1;
}

/* ---- the feed: the stream, in order, to local members -------------- */

static void feed_read(chat_redis *r, redisAsyncContext *ac);

static void deliver_entry(chat_redis *r, const redisReply *e)
{
    stream_id id;
    const redisReply *room, *json, *origin;
    if (entry_read(e, &id, &room, &json, &origin) < 0 ||
        stream_id_cmp(id, r->cursor) <= 0)
        return;
    r->cursor = id;
    if (origin && !strcmp(origin->str, r->tag))
        return; /* delivered here while Redis was away */
    size_t n;
    char *stamped = stream_id_stamp(json->str, json->len, id, &n);
    if (stamped)
        chat_deliver(r->ch, room->str, stamped, n);
    free(stamped);
}

/* XREAD's reply: [[key, [entry, ...]]], or nil. */
static void on_read(redisAsyncContext *ac, void *reply, void *priv)
{
    chat_redis *r = priv;
    redisReply *rep = reply;
    if (!rep || r->closing)
        return; /* the link comes back through feed_changed */
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY &&
        rep->element[0]->elements == 2) {
        const redisReply *entries = rep->element[0]->element[1];
        for (size_t i = 0; entries->type == REDIS_REPLY_ARRAY &&
                           i < entries->elements; i++)
            deliver_entry(r, entries->element[i]);
    } else if (rep->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "chat: redis XREAD: %s\n", rep->str);
    }
    feed_read(r, ac);
}

static void feed_read(chat_redis *r, redisAsyncContext *ac)
{
    char from[STREAM_ID_MAX], count[8];
    stream_id_format(r->cursor, from);
    snprintf(count, sizeof count, "%d", PAGE);
    const char *argv[] = {"XREAD", "COUNT", count, "BLOCK", "0",
                          "STREAMS", CHAT_REDIS_KEY, from};
    redisAsyncCommandArgv(ac, on_read, r, 8, argv, NULL);
}

/* XREVRANGE's reply: the stream's last entry, if any, where the feed
 * starts on its first connection (later ones go on from the cursor). */
static void on_end(redisAsyncContext *ac, void *reply, void *priv)
{
    chat_redis *r = priv;
    redisReply *rep = reply;
    stream_id id = {0, 0};
    if (!rep || r->closing || rep->type != REDIS_REPLY_ARRAY)
        return;
    if (rep->elements == 1 && rep->element[0]->type == REDIS_REPLY_ARRAY &&
        rep->element[0]->elements == 2 &&
        rep->element[0]->element[0]->type == REDIS_REPLY_STRING)
        stream_id_parse(rep->element[0]->element[0]->str,
                        rep->element[0]->element[0]->len, &id);
    r->cursor = id;
    r->cursor_known = 1;
    feed_read(r, ac);
}

static void feed_changed(redis_link *k, redisAsyncContext *ac, void *user)
{
    chat_redis *r = user;
    (void)k;
    if (ac && r->cursor_known)
        feed_read(r, ac);
    else if (ac)
        redisAsyncCommand(ac, on_end, r, "XREVRANGE %s + - COUNT 1",
                          CHAT_REDIS_KEY);
}

/* ---- replay: a returning member gets what it missed, then joins ------ */

static void replay_next(resume *rs);

/* The member joins the live room after its replay (err NULL) or without
 * one (err says why); either way rs is freed. */
static void replay_end(resume *rs, const char *err)
{
    chat_redis *r = rs->r;
    chat_member *m = rs->m;
    resume **pp = &r->resumes;
    while (*pp != rs)
        pp = &(*pp)->next;
    *pp = rs->next;
    if (m && !r->closing) {
        if (err)
            chat_error(m, err);
        chat_join(m, rs->room, rs->nick);
    }
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
    for (size_t i = 0; i < rep->elements && !beyond; i++) {
        stream_id id;
        const redisReply *room, *json, *origin;
        if (entry_read(rep->element[i], &id, &room, &json, &origin) < 0)
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
    if (beyond || (rep->elements < PAGE &&
                   !stream_id_cmp(r->cursor, rs->cursor_at)))
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

static void forget(chat_member *m, void *user)
{
    chat_redis *r = user;
    for (resume *rs = r->resumes; rs; rs = rs->next)
        if (rs->m == m)
            rs->m = NULL;
}

static int join_since(chat_member *m, const char *room, const char *nick,
                      const char *since, void *user)
{
    chat_redis *r = user;
    stream_id last;
    if (stream_id_parse(since, strlen(since), &last) < 0)
        return WSX_EPROTO;
    resume *rs = calloc(1, sizeof *rs);
    if (!rs)
        return WSX_ENOMEM;
    forget(m, r); /* a second join overrides a replay still under way */
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

/* ---- setup ---------------------------------------------------------- */

static const chat_relay relay_ops = {publish, join_since, forget};

static int parse_addr(const char *addr, char *host, size_t size, int *port)
{
    const char *colon = strrchr(addr, ':');
    char *end;
    if (!colon || colon == addr || (size_t)(colon - addr) >= size)
        return -1;
    long p = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || p < 1 || p > 65535)
        return -1;
    /* "[::1]:6379" names an IPv6 host as URLs do. */
    size_t n = (size_t)(colon - addr);
    if (addr[0] == '[' && colon[-1] == ']')
        addr++, n -= 2;
    memcpy(host, addr, n);
    host[n] = '\0';
    *port = (int)p;
    return 0;
}

chat_redis *chat_redis_new(chat *ch, wsx_loop *l, const char *addr,
                           long long history)
{
    char host[256];
    int port;
    if (parse_addr(addr, host, sizeof host, &port) < 0 || history < 1) {
        errno = EINVAL;
        return NULL;
    }
    chat_redis *r = calloc(1, sizeof *r);
    if (!r) {
        errno = ENOMEM;
        return NULL;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(r->tag, sizeof r->tag, "%ld-%lld-%ld", (long)getpid(),
             (long long)ts.tv_sec, ts.tv_nsec);
    snprintf(r->history, sizeof r->history, "%lld", history);
    r->ch = ch;
    r->out_tail = &r->out;
    r->cmd = redis_link_new(l, host, port, "commands", cmd_changed, r);
    r->feed = redis_link_new(l, host, port, "feed", feed_changed, r);
    if (!r->cmd || !r->feed) {
        chat_redis_free(r);
        errno = ENOMEM;
        return NULL;
    }
    chat_set_relay(ch, &relay_ops, r);
    return r;
}

void chat_redis_free(chat_redis *r)
{
    if (!r)
        return;
    chat_set_relay(r->ch, NULL, NULL);
    r->closing = 1;
    /* Freeing a link runs its pending callbacks with no reply. */
    redis_link_free(r->cmd);
    redis_link_free(r->feed);
    while (r->out)
        out_remove(r, r->out);
    while (r->resumes)
        replay_end(r->resumes, NULL);
    free(r);
}
