/* rate.h - the token bucket behind every rate limit (the connection's
 * quotas in quota.c, the loop's handshake rate per address): pure
 * arithmetic on the caller's millisecond clock. */
#ifndef WSX_RATE_H
#define WSX_RATE_H

#include "wsx.h"

/* Tokens are counted in thousandths: a bucket refilling at per_sec units
 * a second gains exactly per_sec of them a millisecond, with no rounding
 * at any rate. They may go negative: the debt of a cost above the burst
 * (see wsx_rate). */
typedef struct wsx__bucket {
    int64_t tokens;
    uint64_t at; /* clock of the last refill */
} wsx__bucket;

static inline int64_t wsx__rate_cap(const wsx_rate *r)
{
    return (int64_t)(r->burst ? r->burst : r->per_sec) * 1000;
}

/* A full bucket as of now. */
static inline void wsx__bucket_init(wsx__bucket *b, const wsx_rate *r,
                                    uint64_t now)
{
    b->tokens = wsx__rate_cap(r);
    b->at = now;
}

static inline void wsx__bucket_refill(wsx__bucket *b, const wsx_rate *r,
                                      uint64_t now)
{
    int64_t cap = wsx__rate_cap(r);
    uint64_t dt = now > b->at ? now - b->at : 0;
    b->at = now > b->at ? now : b->at;
    if (!r->per_sec || b->tokens >= cap)
        return;
    /* Compared before multiplying: dt may be any clock distance. */
    uint64_t missing = (uint64_t)(cap - b->tokens);
    b->tokens = dt >= missing / r->per_sec + 1
                    ? cap
                    : b->tokens + (int64_t)(dt * r->per_sec);
    if (b->tokens > cap)
        b->tokens = cap;
}

/* How many thousandths the bucket lacks for `cost` thousandths (0: it
 * has enough). A cost above the burst needs a full bucket. */
static inline int64_t wsx__bucket_short(const wsx__bucket *b,
                                        const wsx_rate *r, int64_t cost)
{
    int64_t cap = wsx__rate_cap(r);
    int64_t need = cost < cap ? cost : cap;
    if (!r->per_sec || !cost || b->tokens >= need)
        return 0;
    return need - b->tokens;
}

/* Milliseconds until a shortfall is refilled, rounded up. */
static inline uint64_t wsx__bucket_wait(const wsx_rate *r, int64_t shortfall)
{
    return ((uint64_t)shortfall + r->per_sec - 1) / r->per_sec;
}

#endif
