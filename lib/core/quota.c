/* quota.c - guards against a peer that floods with well-formed frames:
 * token buckets for messages, payload bytes and control frames per
 * second, a cap on frames per message, and the Origin allow-list; all
 * behind wsx_guards() (conn.h). Sans-I/O: time is the caller's clock as
 * given to wsx_conn_clock/wsx_conn_tick. */
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

/* A guard is made when the first frame of an open connection is near
 * (wsx_conn_clock, or that frame itself) and given back by the idle tick
 * (guard_idle), so an idle connection holds none: at 10,000 idle
 * connections, 128 B each of the process's memory. A new one has full
 * buckets as of now, which is what an old one would have (nothing was
 * charged since the last release, or ever). */
static int attach_at(wsx_conn *c, uint64_t now)
{
    const wsx_config *cfg = c->cfg;
    struct wsx__guard *g = wsx__alloc(c, sizeof *g);
    if (!g)
        return WSX_ENOMEM;
    memset(g, 0, sizeof *g);
    for (int q = 0; q < Q_N; q++)
        wsx__bucket_init(&g->bucket[q], rate_of(cfg, q), now);
    g->now = now;
    c->guard = g;
    return 0;
}

static void guard_detach(wsx_conn *c)
{
    wsx__buf_release(c, &c->guard->held);
    wsx__free(c, c->guard, sizeof *c->guard);
    c->guard = NULL;
}

/* What the frame in c->fh costs in each bucket, in thousandths. */
static void frame_cost(const wsx_conn *c, int64_t cost[Q_N])
{
    uint8_t op = c->fh.opcode;
    cost[Q_MSG] = op == WSX_TEXT || op == WSX_BINARY ? 1000 : 0;
    cost[Q_BYTE] = op & 0x8 ? 0 : (int64_t)c->fh.length * 1000;
    cost[Q_CTL] = op == WSX_PING || op == WSX_PONG ? 1000 : 0;
}

/* Whether bucket q lacks the frame's cost, refilled to the latest clock
 * first. A bucket the frame is not charged in is not looked at. */
static inline bool lacks(wsx_conn *c, int q, int64_t cost)
{
    if (!cost)
        return false;
    struct wsx__guard *g = c->guard;
    const wsx_rate *r = rate_of(c->cfg, q);
    wsx__bucket_refill(&g->bucket[q], r, g->now);
    return wsx__bucket_short(&g->bucket[q], r, cost) != 0;
}

/* The first bucket short for the frame's cost, or Q_N. Buckets are
 * refilled only as they are read (refilling composes: the same tokens one
 * step later), and a frame that is short is charged nowhere, so checking
 * stops at the first short one. Unrolled, so rate_of folds. */
static int first_short(wsx_conn *c, const int64_t cost[Q_N])
{
    if (lacks(c, Q_MSG, cost[Q_MSG]))
        return Q_MSG;
    if (lacks(c, Q_BYTE, cost[Q_BYTE]))
        return Q_BYTE;
    if (lacks(c, Q_CTL, cost[Q_CTL]))
        return Q_CTL;
    return Q_N;
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

static int guard_frame(wsx_conn *c)
{
    /* Not made by wsx_conn_clock (frames in the handshake's read, a
     * caller that only ticks, or no memory then): made now, as of the
     * tick that last saw input. That may be earlier than now, so the
     * next refill may credit up to one burst more than was due. */
    if (!c->guard && attach_at(c, c->rx_at) < 0)
        return WSX_ENOMEM;
    struct wsx__guard *g = c->guard;
    uint8_t op = c->fh.opcode;
    if (!(op & 0x8)) {
        g->frags = op == WSX_CONTINUATION ? g->frags + 1 : 1;
        if (c->cfg->max_fragments && g->frags > c->cfg->max_fragments) {
            g->trips.fragments++;
            wsx__m_quota(c, 3);
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
    wsx__m_quota(c, q); /* Q_MSG, Q_BYTE, Q_CTL index quota_trips */
    if (c->cfg->quota_policy != WSX_QUOTA_THROTTLE)
        return trip(c, quota_name[q]);
    return 1;
}

/* Paused: 0 when the waiting frame is admitted now (charged), else the
 * clock value at which it will be. */
static uint64_t guard_wait(wsx_conn *c)
{
    struct wsx__guard *g = c->guard;
    int64_t cost[Q_N];
    frame_cost(c, cost);
    if (first_short(c, cost) == Q_N) {
        charge(g, cost);
        return 0;
    }
    /* Buckets refill independently: the frame passes when the slowest
     * has enough (each refilled to now: first_short stopped at the first
     * short one). */
    uint64_t wait = 0;
    for (int q = 0; q < Q_N; q++) {
        const wsx_rate *r = rate_of(c->cfg, q);
        wsx__bucket_refill(&g->bucket[q], r, g->now);
        int64_t s = wsx__bucket_short(&g->bucket[q], r, cost[q]);
        uint64_t w = s ? wsx__bucket_wait(r, s) : 0;
        if (w > wait)
            wait = w;
    }
    /* Saturating, like every deadline (conn.c). */
    return wait < WSX_NO_DEADLINE - 1 - g->now ? g->now + wait
                                               : WSX_NO_DEADLINE - 1;
}

static int guard_hold(wsx_conn *c, const uint8_t *p, size_t n)
{
    wsx_buf *h = &c->guard->held;
    int r = wsx__buf_reserve(c, h, n);
    if (r == 0) {
        memcpy(h->p + h->len, p, n);
        h->len += n;
    }
    return r;
}

/* A throttled reader: once the waiting frame's quota has refilled, start
 * it and run the held input, which may pause again at a later frame. */
static uint64_t guard_tick(wsx_conn *c, uint64_t now)
{
    wsx_buf *h = &c->guard->held;
    if (now > c->guard->now)
        c->guard->now = now;
    while (c->rstate == WSX_RD_PAUSED) {
        uint64_t at = guard_wait(c);
        if (at)
            return at;
        int r = wsx__frame_admitted(c);
        if (r < 0) {
            if (r != WSX__EGONE)
                wsx__fail(c, r);
            break;
        }
        /* The reader may fail or close, but only destroy frees h. */
        h->off += wsx__consume(c, h->p + h->off, h->len - h->off);
        if (c->gone)
            break;
    }
    if (!c->gone && h->p)
        wsx__buf_release(c, h);
    return WSX_NO_DEADLINE;
}

/* An Origin outside cfg->origins is refused before the application sees
 * the request: browsers send Origin on every WebSocket request (RFC 6455
 * §10.2), and a page from another site must not ride the user's cookies
 * (cross-site WebSocket hijacking). */
static bool guard_origin_ok(const wsx_conn *c, const wsx_http_request *req)
{
    const wsx_config *cfg = c->cfg;
    const wsx_header *o = wsx_http_find(req->headers, req->num_headers, "Origin");
    if (!cfg->origins)
        return true;
    if (!o)
        return !cfg->origin_required;
    return wsx_origin_allowed(cfg->origins, o->value, o->value_len);
}

/* An idle connection between messages gives its guard back when it
 * holds nothing that a new one would not: every bucket full, no trip
 * counted, no input held (the reader is not paused between messages).
 * The fragment count starts again at the next message anyway. */
static bool guard_idle(wsx_conn *c, uint64_t now)
{
    struct wsx__guard *g = c->guard;
    if (now > g->now)
        g->now = now;
    const wsx_quota_trips *t = &g->trips;
    if (g->held.p || t->message_rate || t->byte_rate ||
        t->control_rate || t->fragments)
        return false;
    for (int q = 0; q < Q_N; q++) {
        const wsx_rate *r = rate_of(c->cfg, q);
        wsx__bucket_refill(&g->bucket[q], r, g->now);
        if (r->per_sec && g->bucket[q].tokens < wsx__rate_cap(r))
            return true;
    }
    guard_detach(c);
    return false;
}

static const wsx_guard_ops guard_ops = {guard_detach,
                                        guard_frame,  guard_tick,
                                        guard_hold,   guard_origin_ok,
                                        guard_idle};

const wsx_guard_ops *wsx_guards(void)
{
    return &guard_ops;
}

void wsx_conn_clock(wsx_conn *c, uint64_t now)
{
    if (c->guard) {
        if (now > c->guard->now)
            c->guard->now = now;
    } else if (c->cfg->guards && c->state == WSX_STATE_OPEN) {
        attach_at(c, now); /* on failure, the frame tries again */
    }
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
