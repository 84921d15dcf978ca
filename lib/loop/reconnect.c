/* reconnect.c - the opt-in reconnect policy of wsx_loop_connect
 * (wsx_loop.h): on each close decide whether to try again, wait an
 * exponentially growing, fully jittered delay on a loop timer, and
 * connect anew with the options kept from the first call. */
#include "loop_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct wsx_reconnector {
    wsx_loop *loop;
    wsx_connect_opts o;     /* the caller's, pointing at the copies here */
    wsx_config cfg;
    wsx_reconnect policy;
    char *url;
    void (*app_close)(wsx_conn *, const wsx_close_info *, void *);
    wsx_timer *timer;
    uint32_t delay;         /* the wait in progress */
    unsigned failures;      /* failed attempts since the last open */
    bool retry;             /* the decision wsx_loop_will_retry reports */
    struct wsx_reconnector *prev, *next; /* loop->reconnects */
} wsx_reconnector;

void wsx_reconnect_init_(wsx_reconnect *p, size_t size)
{
    memset(p, 0, sizeof *p);
    p->size = size;
    p->base_ms = 250;
    p->cap_ms = 30000;
}

uint32_t wsx_backoff_delay(const wsx_reconnect *p, unsigned n, uint32_t rnd)
{
    uint64_t ceil = p->cap_ms;
    /* base * 2^n, stopping at the cap before it can overflow */
    if (n < 32 && ((uint64_t)p->base_ms << n) < ceil)
        ceil = (uint64_t)p->base_ms << n;
    return (uint32_t)(rnd % (ceil + 1));
}

static void rc_free(wsx_reconnector *rc)
{
    WSX__LIST_UNLINK(rc->loop->reconnects, rc);
    wsx_timer_free(rc->timer);
    free(rc->url);
    free(rc);
}

void wsx__reconnect_free_all(wsx_loop *l)
{
    while (l->reconnects)
        rc_free(l->reconnects);
}

/* Wait before the next attempt; false when the policy gave up. */
static bool rc_schedule(wsx_reconnector *rc)
{
    if (rc->policy.max_tries && rc->failures >= rc->policy.max_tries)
        return false;
    uint32_t rnd = 0;
    if (getentropy(&rnd, sizeof rnd) < 0)
        rnd = (uint32_t)wsx__clock_ms();
    rc->delay = wsx_backoff_delay(&rc->policy, rc->failures, rnd);
    wsx_timer_start(rc->timer, rc->delay, 0);
    return true;
}

static void on_timer(wsx_timer *t, void *user)
{
    wsx_reconnector *rc = user;
    (void)t;
    /* A shutdown does not wait for timers: no new connection after it. */
    if (rc->loop->phase != WSX_PHASE_RUN) {
        rc_free(rc);
        return;
    }
    if (rc->policy.on_attempt &&
        rc->policy.on_attempt(rc->loop, rc->failures + 1, rc->delay, rc->o.user)) {
        rc_free(rc);
        return;
    }
    if (wsx__connect(rc->loop, &rc->o, rc, NULL) < 0) {
        rc->failures++;
        if (!rc_schedule(rc))
            rc_free(rc);
    }
}

int wsx__reconnect_start(wsx_loop *l, const wsx_connect_opts *o,
                         wsx_conn **out)
{
    const wsx_reconnect *p = o->reconnect;
    if (p->size != sizeof *p || !o->url || !o->callbacks ||
        o->callbacks->size != sizeof *o->callbacks ||
        (o->config && o->config->size != sizeof *o->config))
        return WSX_EINVAL;
    wsx_reconnector *rc = calloc(1, sizeof *rc);
    if (!rc)
        return WSX_ENOMEM;
    rc->loop = l;
    rc->o = *o;
    rc->policy = *p;
    if (o->config)
        rc->cfg = *o->config;
    else
        wsx_config_init(&rc->cfg, WSX_CLIENT);
    rc->o.config = &rc->cfg;
    rc->app_close = o->callbacks->on_close;
    rc->url = malloc(strlen(o->url) + 1);
    rc->timer = wsx_timer_new(l, on_timer, rc);
    WSX__LIST_PUSH(l->reconnects, rc);
    if (!rc->url || !rc->timer) {
        rc_free(rc);
        return WSX_ENOMEM;
    }
    rc->o.url = strcpy(rc->url, o->url);
    /* Failures known at once end the call as without a policy. */
    int r = wsx__connect(l, &rc->o, rc, out);
    if (r < 0)
        rc_free(rc);
    return r;
}

static wsx_reconnector *policy_of(const wsx_conn *c)
{
    const wsx_sock *s = wsx__loop_sock(c);
    if (!s || !(s->io.flags & WSX_SOCK_CLIENT))
        return NULL;
    return ((const wsx_client_ep *)wsx__conn_ep(c))->rc;
}

void wsx__reconnect_on_close(wsx_conn *c, const wsx_close_info *ci,
                             void *user)
{
    wsx_reconnector *rc = policy_of(c);
    /* A 101 that failed its checks never opened. */
    bool opened = ci->http_status == 101 && ci->error != WSX_EHANDSHAKE;
    rc->failures = opened ? 0 : rc->failures + 1;
    /* The application's own close (not remote, no error) is final. */
    rc->retry = (ci->remote || ci->error) &&
                rc->loop->phase == WSX_PHASE_RUN &&
                (!rc->policy.max_tries || rc->failures < rc->policy.max_tries);
    if (rc->app_close)
        rc->app_close(c, ci, user);
    ((wsx_client_ep *)(uintptr_t)wsx__conn_ep(c))->rc = NULL;
    if (!rc->retry || !rc_schedule(rc))
        rc_free(rc);
}

bool wsx_loop_will_retry(const wsx_conn *c)
{
    const wsx_reconnector *rc = policy_of(c);
    return rc && rc->retry;
}
