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

/* Refilling is exact in any number of steps (tokens + dt x per_sec,
 * capped), so a bucket may be refilled only when it is about to be read. */
static inline void wsx__bucket_refill(wsx__bucket *b, const wsx_rate *r,
                                      uint64_t now)
{
    if (now <= b->at) /* the same millisecond: nothing to add */
        return;
    int64_t cap = wsx__rate_cap(r);
    uint64_t dt = now - b->at;
    b->at = now;
    if (!r->per_sec || b->tokens >= cap)
        return;
    /* dt may be any clock distance: a product of two 32-bit values cannot
     * overflow, a longer silence fills the bucket (per_sec >= 1 and the
     * shortfall is below 2^63). No division: this runs for every frame. */
    uint64_t missing = (uint64_t)(cap - b->tokens);
    uint64_t add = dt <= UINT32_MAX ? dt * r->per_sec : UINT64_MAX;
    b->tokens = add >= missing ? cap : b->tokens + (int64_t)add;
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
