/* redis_link.c - connect, notice the loss, back off, connect again: the
 * life of one hiredis context (see redis_link.h). */
#include "redis_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_loop.h"

enum { BACKOFF_FIRST_MS = 100, BACKOFF_MAX_MS = 2000 };

typedef enum link_state {
    LINK_WAITING,    /* the retry timer runs */
    LINK_CONNECTING, /* ac exists, the TCP connect is under way */
    LINK_UP,         /* ac is connected */
    LINK_CLOSING     /* redis_link_free is freeing ac */
} link_state;

struct redis_link {
    wsx_loop *loop;
    char *host;
    int port;
    const char *name;
    redis_link_fn fn;
    void *user;
    link_state state;
    redisAsyncContext *ac;
    wsx_timer *retry;
    uint64_t backoff_ms;
    int was_up; /* print "down" once per loss, not per failed attempt */
};

static void lost(redis_link *k, const char *why)
{
    k->ac = NULL;
    k->state = LINK_WAITING;
    if (k->was_up) {
        fprintf(stderr, "chat: redis %s %s:%d down (%s), reconnecting\n",
                k->name, k->host, k->port, why);
        k->was_up = 0;
        k->fn(k, NULL, k->user);
    }
    wsx_timer_start(k->retry, k->backoff_ms, 0);
    k->backoff_ms = k->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                        : k->backoff_ms * 2;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    redis_link *k = ac->data;
    if (status != REDIS_OK) {
        lost(k, ac->errstr); /* hiredis frees ac after this */
        return;
    }
    k->state = LINK_UP;
    k->backoff_ms = BACKOFF_FIRST_MS;
    k->was_up = 1;
    fprintf(stderr, "chat: redis %s %s:%d up\n", k->name, k->host, k->port);
    k->fn(k, k->ac, k->user);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    redis_link *k = ac->data;
    (void)status;
    if (k->state != LINK_CLOSING)
        lost(k, ac->err ? ac->errstr : "closed");
}

static void attempt(wsx_timer *t, void *user)
{
    redis_link *k = user;
    (void)t;
    redisAsyncContext *ac = redisAsyncConnect(k->host, k->port);
    if (!ac) {
        lost(k, "out of memory");
        return;
    }
    if (ac->err || redis_loop_attach(ac, k->loop) < 0) {
        char why[128];
        snprintf(why, sizeof why, "%s", ac->err ? ac->errstr : "no watcher");
        redisAsyncFree(ac);
        lost(k, why);
        return;
    }
    ac->data = k;
    k->ac = ac;
    k->state = LINK_CONNECTING;
    /* Attached first: hiredis asks for the first write event here. */
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
}

redis_link *redis_link_new(wsx_loop *l, const char *host, int port,
                           const char *name, redis_link_fn fn, void *user)
{
    redis_link *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->loop = l;
    k->host = strdup(host);
    k->port = port;
    k->name = name;
    k->fn = fn;
    k->user = user;
    k->backoff_ms = BACKOFF_FIRST_MS;
    k->retry = wsx_timer_new(l, attempt, k);
    if (!k->host || !k->retry) {
        redis_link_free(k);
        return NULL;
    }
    k->was_up = 1; /* the first failure is worth a line too */
    attempt(k->retry, k);
    return k;
}

redisAsyncContext *redis_link_ctx(const redis_link *k)
{
    return k->state == LINK_UP ? k->ac : NULL;
}

void redis_link_free(redis_link *k)
{
    if (!k)
        return;
    if (k->ac) {
        k->state = LINK_CLOSING;
        redisAsyncFree(k->ac);
    }
    wsx_timer_free(k->retry);
    free(k->host);
    free(k);
}
