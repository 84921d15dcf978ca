/* quota.c - guards against a peer that floods with well-formed frames:
 * token buckets for messages, payload bytes and control frames per
 * second, and a cap on frames per message. Sans-I/O: time is the
 * caller's clock as given to wsx_conn_clock/wsx_conn_tick. */
#include "conn.h"
#include "rate.h"

#include <string.h>

enum { Q_MSG, Q_BYTE, Q_CTL, Q_N };

/* The close reasons name the quota, so a peer (or its log) learns why. */
static const char *const quota_name[Q_N] = {"message rate", "byte rate",
                                            "control rate"};

struct wsx__guard {
    wsx__bucket bucket[Q_N];
    uint64_t now;         /* the latest clock the caller gave */
    wsx_buf held;         /* input received while paused */
    wsx_quota_trips trips;
    uint32_t frags;       /* frames of the message being received */
};

static const wsx_rate *rate_of(const wsx_config *cfg, int q)
{
    return q == Q_MSG ? &cfg->message_rate
           : q == Q_BYTE ? &cfg->byte_rate
                         : &cfg->control_rate;
}

int wsx__guard_new(wsx_conn *c)
{
    const wsx_config *cfg = c->cfg;
    if (!cfg->message_rate.per_sec && !cfg->byte_rate.per_sec &&
        !cfg->control_rate.per_sec && !cfg->max_fragments)
        return 0;
    struct wsx__guard *g = wsx__alloc(c, sizeof *g);
    if (!g)
        return WSX_ENOMEM;
    memset(g, 0, sizeof *g);
    /* Full from the start: the first clock seen only refills further. */
    for (int q = 0; q < Q_N; q++)
        wsx__bucket_init(&g->bucket[q], rate_of(cfg, q), 0);
    c->guard = g;
    return 0;
}

void wsx__guard_free(wsx_conn *c)
{
    if (c->guard) {
        wsx__buf_release(c, &c->guard->held);
        wsx__free(c, c->guard, sizeof *c->guard);
        c->guard = NULL;
    }
}

/* What the frame in c->fh costs in each bucket, in thousandths. */
static void frame_cost(const wsx_conn *c, int64_t cost[Q_N])
{
    uint8_t op = c->fh.opcode;
    cost[Q_MSG] = op == WSX_TEXT || op == WSX_BINARY ? 1000 : 0;
    cost[Q_BYTE] = op & 0x8 ? 0 : (int64_t)c->fh.length * 1000;
    cost[Q_CTL] = op == WSX_PING || op == WSX_PONG ? 1000 : 0;
}

/* Refill every bucket to the latest clock; the first one short for the
 * frame's cost, or Q_N. */
static int first_short(wsx_conn *c, const int64_t cost[Q_N])
{
    struct wsx__guard *g = c->guard;
    int found = Q_N;
    for (int q = Q_N - 1; q >= 0; q--) {
        wsx__bucket_refill(&g->bucket[q], rate_of(c->cfg, q), g->now);
        if (wsx__bucket_short(&g->bucket[q], rate_of(c->cfg, q), cost[q]))
            found = q;
    }
    return found;
}

static void charge(struct wsx__guard *g, const int64_t cost[Q_N])
{
    for (int q = 0; q < Q_N; q++)
        g->bucket[q].tokens -= cost[q];
}

static uint32_t *trip_counter(struct wsx__guard *g, int q)
{
    return q == Q_MSG ? &g->trips.message_rate
           : q == Q_BYTE ? &g->trips.byte_rate
                         : &g->trips.control_rate;
}

static int trip(wsx_conn *c, const char *why)
{
    wsx__fail_why(c, WSX_EQUOTA, why);
    return c->gone ? WSX__EGONE : WSX_EQUOTA;
}

int wsx__guard_frame(wsx_conn *c)
{
    struct wsx__guard *g = c->guard;
    if (!g)
        return 0;
    uint8_t op = c->fh.opcode;
    if (!(op & 0x8)) {
        g->frags = op == WSX_CONTINUATION ? g->frags + 1 : 1;
        if (c->cfg->max_fragments && g->frags > c->cfg->max_fragments) {
            g->trips.fragments++;
            return trip(c, "too many fragments");
        }
    }
    int64_t cost[Q_N];
    frame_cost(c, cost);
    int q = first_short(c, cost);
    if (q == Q_N) {
        charge(g, cost);
        return 0;
    }
    (*trip_counter(g, q))++;
    if (c->cfg->quota_policy != WSX_QUOTA_THROTTLE)
        return trip(c, quota_name[q]);
    return 1;
}

uint64_t wsx__guard_wait(wsx_conn *c, uint64_t now)
{
    struct wsx__guard *g = c->guard;
    int64_t cost[Q_N];
    if (now > g->now)
        g->now = now;
    frame_cost(c, cost);
    if (first_short(c, cost) == Q_N) {
        charge(g, cost);
        return 0;
    }
    /* Buckets refill independently: the frame passes when the slowest
     * has enough. */
    uint64_t wait = 0;
    for (int q = 0; q < Q_N; q++) {
        const wsx_rate *r = rate_of(c->cfg, q);
        int64_t s = wsx__bucket_short(&g->bucket[q], r, cost[q]);
        uint64_t w = s ? wsx__bucket_wait(r, s) : 0;
        if (w > wait)
            wait = w;
    }
    /* Saturating, like every deadline (conn.c). */
    return wait < WSX_NO_DEADLINE - 1 - g->now ? g->now + wait
                                               : WSX_NO_DEADLINE - 1;
}

wsx_buf *wsx__guard_held(wsx_conn *c)
{
    return &c->guard->held;
}

void wsx_conn_clock(wsx_conn *c, uint64_t now)
{
    if (c->guard && now > c->guard->now)
        c->guard->now = now;
}

bool wsx_conn_paused(const wsx_conn *c)
{
    return c->rstate == WSX_RD_PAUSED;
}

void wsx_conn_quota_trips(const wsx_conn *c, wsx_quota_trips *t)
{
    if (c->guard)
        *t = c->guard->trips;
    else
        memset(t, 0, sizeof *t);
}
