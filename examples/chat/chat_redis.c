/* chat_redis.c - rooms shared through one Redis stream (see chat_redis.h):
 * the outbox of events to XADD and the feed that XREADs them back in
 * stream order; chat_replay.c serves members that come back. */
#include "chat_redis.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chat_redis_impl.h"

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

int chat_redis_entry(const redisReply *e, stream_id *id, const redisReply **room,
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
    if (chat_redis_entry(e, &id, &room, &json, &origin) < 0 ||
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

/* ---- setup ---------------------------------------------------------- */

static int join_since(chat_member *m, const char *room, const char *nick,
                      const char *since, void *user)
{
    return chat_replay_start(user, m, room, nick, since);
}

static void forget(chat_member *m, void *user)
{
    chat_replay_forget(user, m);
}

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
    chat_replay_free_all(r);
    free(r);
}
