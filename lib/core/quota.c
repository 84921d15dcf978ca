/* quota.c - guards against a peer that floods with well-formed frames:
 * token buckets for messages, payload bytes and control frames per
 * second, and a cap on frames per message. Sans-I/O: time is the
 * caller's clock as given to wsx_conn_clock/wsx_conn_tick. */
#include "conn.h"

#include <string.h>

enum { Q_MSG, Q_BYTE, Q_CTL, Q_N };

/* The close reasons name the quota, so a peer (or its log) learns why. */
static const char *const quota_name[Q_N] = {"message rate", "byte rate",
                                            "control rate"};

/* Tokens are counted in thousandths: a bucket refilling at per_sec units
 * a second gains exactly per_sec of them a millisecond, with no rounding
 * at any rate. May go negative: the debt of a frame above the burst. */
struct wsx__guard {
    int64_t tokens[Q_N];
    uint64_t at;          /* clock of the last refill */
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

static int64_t capacity(const wsx_rate *r)
{
    return (int64_t)(r->burst ? r->burst : r->per_sec) * 1000;
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
    for (int q = 0; q < Q_N; q++)
        g->tokens[q] = capacity(rate_of(cfg, q));
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

static void refill(wsx_conn *c, struct wsx__guard *g)
{
    if (g->now <= g->at)
        return;
    uint64_t dt = g->now - g->at;
    g->at = g->now;
    for (int q = 0; q < Q_N; q++) {
        const wsx_rate *r = rate_of(c->cfg, q);
        int64_t cap = capacity(r);
        if (!r->per_sec || g->tokens[q] >= cap)
            continue;
        /* Compared before multiplying: dt may be any clock distance. */
        uint64_t missing = (uint64_t)(cap - g->tokens[q]);
        if (dt >= missing / r->per_sec + 1)
            g->tokens[q] = cap;
        else
            g->tokens[q] += (int64_t)(dt * r->per_sec);
        if (g->tokens[q] > cap)
            g->tokens[q] = cap;
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

/* How many thousandths bucket q lacks for the frame (0: enough). A cost
 * above the burst needs a full bucket (see wsx_rate). */
static int64_t shortfall(const wsx_conn *c, int q, const int64_t cost[Q_N])
{
    const wsx_rate *r = rate_of(c->cfg, q);
    if (!r->per_sec || !cost[q])
        return 0;
    int64_t cap = capacity(r);
    int64_t need = cost[q] < cap ? cost[q] : cap;
    return c->guard->tokens[q] < need ? need - c->guard->tokens[q] : 0;
}

static void charge(struct wsx__guard *g, const int64_t cost[Q_N])
{
    for (int q = 0; q < Q_N; q++)
        g->tokens[q] -= cost[q];
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
    refill(c, g);
    int q = 0;
    while (q < Q_N && !shortfall(c, q, cost))
        q++;
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
    refill(c, g);
    /* Buckets refill independently: the frame passes when the slowest
     * has enough, rounded up to the millisecond at which it has. */
    uint64_t wait = 0;
    for (int q = 0; q < Q_N; q++) {
        uint64_t per = rate_of(c->cfg, q)->per_sec;
        uint64_t w = per ? ((uint64_t)shortfall(c, q, cost) + per - 1) / per : 0;
        if (w > wait)
            wait = w;
    }
    if (wait) /* saturating, like every deadline (conn.c) */
        return wait < WSX_NO_DEADLINE - 1 - g->now ? g->now + wait
                                                   : WSX_NO_DEADLINE - 1;
    charge(g, cost);
    return 0;
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
