/* inflate_fast.c - the inflater's hot loop (RFC 1951 §3.2.5): literals
 * and matches of a Huffman block decoded with 64-bit refills and no
 * input checks while the input and the window have room, and LZ77 match
 * copies within the circular window. */
#include <string.h>

#include "inflate_int.h"

/* Copy n bytes (3..258) from d - dist to d, forward, as LZ77 demands
 * when the regions overlap (a short distance repeats a pattern). Most
 * matches are short: with dist >= 8 they go in 8-byte steps that read
 * only bytes already written, the last step ending exactly at n (it
 * rewrites a few bytes with their own values), so nothing past the
 * match is touched and no library call is made. */
static inline void copy_forward(uint8_t *d, uint32_t dist, uint32_t n)
{
    const uint8_t *src = d - dist;
    if (dist >= 8 && n >= 8) {
        if (n > 64 && dist >= n) {
            memcpy(d, src, n);
            return;
        }
        for (uint32_t i = 0; i + 8 < n; i += 8)
            memcpy(d + i, src + i, 8);
        memcpy(d + n - 8, src + n - 8, 8);
    } else if (dist >= 4 && n >= 4) {
        memcpy(d, src, 4);
        for (uint32_t i = 4; i + 4 < n; i += 4)
            memcpy(d + i, src + i, 4);
        memcpy(d + n - 4, src + n - 4, 4);
    } else if (dist == 1) {
        memset(d, *src, n);
    } else {
        for (uint32_t i = 0; i < n; i++)
            d[i] = src[i];
    }
}

void wsx__inflate_copy(uint8_t *win, uint32_t wpos, uint32_t wsize, uint32_t dist,
                      uint32_t n)
{
    if (dist <= wpos) {
        copy_forward(win + wpos, dist, n);
        return;
    }
    /* The source starts at or after wpos (dist <= wsize), so memmove's
     * semantics equal a forward copy. */
    uint32_t src = wpos + wsize - dist;
    uint32_t m = wsize - src < n ? wsize - src : n;
    memmove(win + wpos, win + src, m);
    if (n > m)
        copy_forward(win + wpos + m, dist, n - m);
}

/* The canonical walk for a code longer than the table's root, through
 * a copy of *e: a table entry whose address escapes would live in
 * memory for the whole loop instead of a register. */
static int slow(const wsx_hdec *h, uint64_t bits, unsigned nbits, uint32_t *e)
{
    uint32_t x;
    int r = wsx__hdec_slow(h, bits, nbits, &x);
    *e = x;
    return r;
}

static uint64_t load64le(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
           (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/* One 8-byte refill gives 56 bits, enough for a length, a distance and
 * their extra bits (at most 48), so nothing inside needs to wait. */
int wsx__inflate_fast(wsx_inflater *s, const uint8_t **pp, const uint8_t *end)
{
    const uint8_t *p = *pp;
    uint64_t bits = s->bits;
    unsigned nbits = s->nbits;
    uint8_t *win = s->win;
    uint32_t wpos = s->wpos;
    /* History a distance may reach at wpos: whave + (wpos - s->wpos),
     * kept as one offset (mod 2^32) so the loop holds one value less. */
    const uint32_t reach0 = s->whave - wpos;
    const uint32_t wsize = s->wsize, wlimit = wsize - WSX_DFL_MAX_MATCH;
    const uint32_t *lt = s->lit.table, *dt = s->dist_h.table;
    /* Huffman blocks always decode literals/lengths with a LIT_ROOT
     * table: a constant mask is one register less in this loop. */
    const uint32_t lmask = (1u << LIT_ROOT) - 1, dmask = (1u << DIST_ROOT) - 1;
    int ret = 0;

    while (end - p >= 8 && wpos <= wlimit) {
        bits |= load64le(p) << nbits;
        p += (63 - nbits) >> 3;
        nbits |= 56;
        uint32_t e = lt[bits & lmask];
        if (!WSX_HD_LEN(e) && slow(&s->lit, bits, nbits, &e) < 0)
            goto bad;
        bits >>= WSX_HD_LEN(e);
        nbits -= WSX_HD_LEN(e);
        unsigned kind = WSX_HD_KIND(e);
        if (kind == WSX_HD_LIT) {
            win[wpos++] = (uint8_t)WSX_HD_VAL(e);
            /* 41 bits are left and a table code has at most 15: a
             * literal that follows needs no refill (wlimit leaves room
             * for it). Anything else waits for the next turn. */
            e = lt[bits & lmask];
            if (WSX_HD_LEN(e) && WSX_HD_KIND(e) == WSX_HD_LIT) {
                bits >>= WSX_HD_LEN(e);
                nbits -= WSX_HD_LEN(e);
                win[wpos++] = (uint8_t)WSX_HD_VAL(e);
            }
            continue;
        }
        if (kind != WSX_HD_BASE) {
            if (kind == WSX_HD_BAD)
                goto bad;
            s->mode = s->last ? INF_DONE : INF_HEADER;
            break;
        }
        unsigned x = WSX_HD_EXTRA(e);
        uint32_t length = WSX_HD_VAL(e) + (uint32_t)(bits & ((1u << x) - 1));
        bits >>= x;
        nbits -= x;
        e = dt[bits & dmask];
        if (!WSX_HD_LEN(e) && slow(&s->dist_h, bits, nbits, &e) < 0)
            goto bad;
        if (WSX_HD_KIND(e) != WSX_HD_BASE)
            goto bad;
        bits >>= WSX_HD_LEN(e);
        nbits -= WSX_HD_LEN(e);
        x = WSX_HD_EXTRA(e);
        uint32_t dist = WSX_HD_VAL(e) + (uint32_t)(bits & ((1u << x) - 1));
        bits >>= x;
        nbits -= x;
        if (dist > reach0 + wpos || dist > wsize)
            goto bad; /* beyond the window or before the output began */
        if (dist <= wpos)
            copy_forward(win + wpos, dist, length);
        else
            wsx__inflate_copy(win, wpos, wsize, dist, length);
        wpos += length;
    }
    /* Give back the whole bytes the refill read ahead (only those of this
     * call's input: older ones are already counted as consumed). */
    size_t back = nbits >> 3;
    if (back > (size_t)(p - *pp))
        back = (size_t)(p - *pp);
    p -= back;
    nbits -= 8 * (unsigned)back;
    bits &= ((uint64_t)1 << nbits) - 1;
    goto out;
bad:
    ret = WSX_EPROTO;
out:
    *pp = p;
    s->bits = bits;
    s->nbits = nbits;
    wsx_inflate_history(s, wpos - s->wpos);
    s->wpos = wpos;
    return ret;
}
