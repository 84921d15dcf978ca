/* inflate_fast.c - the inflater's hot loop (RFC 1951 §3.2.5): literals
 * and matches of a Huffman block decoded with 64-bit refills and no
 * input checks while the input and the window have room, and LZ77 match
 * copies within the circular window. */
#include <string.h>

#include "inflate_int.h"

/* The loop body is compiled into two functions (see the end). */
#if defined(__GNUC__) || defined(__clang__)
#define WSX_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define WSX_ALWAYS_INLINE inline
#endif

/* Copy n bytes (n >= 1) from d - dist to d, forward, as LZ77 demands
 * when the regions overlap (a short distance repeats a pattern), writing
 * nothing past d + n. The careful path's copy, and the fast loop's when
 * the source wraps around the window's end. */
static void copy_exact(uint8_t *d, uint32_t dist, uint32_t n)
{
    const uint8_t *src = d - dist;
    if (dist >= 8 && n >= 8) {
        for (uint32_t i = 0; i + 8 < n; i += 8)
            memcpy(d + i, src + i, 8);
        memcpy(d + n - 8, src + n - 8, 8);
    } else {
        for (uint32_t i = 0; i < n; i++)
            d[i] = src[i];
    }
}

void wsx__inflate_copy(uint8_t *win, uint32_t wpos, uint32_t wend, uint32_t dist,
                      uint32_t n)
{
    if (dist <= wpos) {
        copy_exact(win + wpos, dist, n);
        return;
    }
    /* The source starts at or after wpos (dist <= wsize < wend), so
     * memmove's semantics equal a forward copy. */
    uint32_t src = wpos + wend - dist;
    uint32_t m = wend - src < n ? wend - src : n;
    memmove(win + wpos, win + src, m);
    if (n > m)
        copy_exact(win + wpos + m, dist, n - m);
}

/* Copy a match of n bytes (3..258) from src, dist bytes back or (when the
 * match reaches into the window's previous lap) at least 16 bytes ahead,
 * writing in whole 8-byte words up to 15 bytes past d + n (the window's
 * slack) and reading as far past src + n. With src at least 8 bytes away
 * each word reads only bytes already final (or not yet overwritten); a
 * shorter period is first written byte by byte over 8 bytes, then copied
 * from the nearest multiple of it that is at least 8 back, which holds
 * the same bytes. */
static WSX_ALWAYS_INLINE void copy_fast(uint8_t *d, const uint8_t *src, uint32_t dist, uint32_t n)
{
    uint8_t *end = d + n;
    if (dist < 8) {
        if (dist == 1) {
            uint64_t v = 0x0101010101010101ull * *src;
            do {
                memcpy(d, &v, 8);
                memcpy(d + 8, &v, 8);
                d += 16;
            } while (d < end);
            return;
        }
        for (int i = 0; i < 8; i++)
            d[i] = src[i];
        uint32_t step = dist;
        while (step < 8)
            step += dist;
        d += 8;
        src = d - step;
        while (d < end) {
            memcpy(d, src, 8);
            d += 8;
            src += 8;
        }
        return;
    }
    do {
        memcpy(d, src, 8);
        memcpy(d + 8, src + 8, 8);
        d += 16;
        src += 16;
    } while (d < end);
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

/* One 8-byte refill gives at least 56 bits: three literals (at most 15
 * bits each), or a length and a distance with their extra bits (at most
 * 20 + 28), so nothing inside a turn needs to wait. Every entry is taken
 * by one shift of its low byte (code and extra bits together). The body
 * is compiled twice: for the baseline CPU and for BMI2 (below). */
static WSX_ALWAYS_INLINE int fast_loop(wsx_inflater *s, const uint8_t **pp,
                                       const uint8_t *end, bool full)
{
    const uint8_t *p = *pp;
    uint64_t bits = s->bits;
    unsigned nbits = s->nbits;
    uint8_t *win = s->win;
    uint32_t wpos = s->wpos;
    /* History a distance may reach at wpos: whave + (wpos - s->wpos),
     * kept as one offset (mod 2^32) so the loop holds one value less;
     * once the window is full (the usual case) only wsize bounds it. */
    const uint32_t reach0 = s->whave - wpos;
    const uint32_t wsize = s->wsize, wend = s->wend, wlimit = wsize - WSX_DFL_MAX_MATCH;
    const uint32_t *lt = s->lit.table, *dt = s->dist_h.table;
    /* Huffman blocks always decode literals/lengths with a LIT_ROOT
     * table: a constant mask is one register less in this loop. */
    const uint32_t lmask = (1u << LIT_ROOT) - 1, dmask = (1u << DIST_ROOT) - 1;
    int ret = 0;

    if (end - p < 8)
        return 0;
    const uint8_t *const in_last = end - 8;
    while (p <= in_last && wpos <= wlimit) {
        bits |= wsx_inflate_load64(p) << nbits;
        p += (63 - nbits) >> 3;
        nbits |= 56;
        uint32_t e = lt[bits & lmask];
        if (e & WSX_HD_LIT) {
            /* wlimit leaves room for the three. */
            bits >>= WSX_HD_USE(e);
            nbits -= WSX_HD_USE(e);
            win[wpos++] = (uint8_t)(e >> 16);
            e = lt[bits & lmask];
            if (!(e & WSX_HD_LIT))
                continue;
            bits >>= WSX_HD_USE(e);
            nbits -= WSX_HD_USE(e);
            win[wpos++] = (uint8_t)(e >> 16);
            e = lt[bits & lmask];
            if (!(e & WSX_HD_LIT))
                continue;
            bits >>= WSX_HD_USE(e);
            nbits -= WSX_HD_USE(e);
            win[wpos++] = (uint8_t)(e >> 16);
            continue;
        }
        if (e & WSX_HD_EXC) {
            if ((e & WSX_HD_LONG) && slow(&s->lit, bits, nbits, &e) < 0)
                goto bad;
            if (e & WSX_HD_LIT) {
                bits >>= WSX_HD_USE(e);
                nbits -= WSX_HD_USE(e);
                win[wpos++] = (uint8_t)(e >> 16);
                continue;
            }
            if (e & WSX_HD_EXC) {
                if (!(e & WSX_HD_END))
                    goto bad;
                bits >>= WSX_HD_USE(e);
                nbits -= WSX_HD_USE(e);
                s->mode = s->last ? INF_DONE : INF_HEADER;
                break;
            }
        }
        uint64_t saved = bits;
        bits >>= WSX_HD_USE(e);
        nbits -= WSX_HD_USE(e);
        /* Neither LIT nor EXC: e >> 16 is the base. */
        uint32_t length = (e >> 16) + wsx__hdec_extra(e, saved);
        e = dt[bits & dmask];
        if (e & WSX_HD_EXC) {
            if (!(e & WSX_HD_LONG) || slow(&s->dist_h, bits, nbits, &e) < 0 ||
                (e & WSX_HD_EXC))
                goto bad;
        }
        saved = bits;
        bits >>= WSX_HD_USE(e);
        nbits -= WSX_HD_USE(e);
        uint32_t dist = (e >> 16) + wsx__hdec_extra(e, saved);
        if (dist > wsize || (!full && dist > reach0 + wpos))
            goto bad; /* beyond the window or before the output began */
        if (dist <= wpos) {
            copy_fast(win + wpos, win + wpos - dist, dist, length);
        } else {
            /* The source is in the window's previous lap. */
            uint32_t from = wpos + wend - dist;
            if (from + length + 15 <= wend)
                copy_fast(win + wpos, win + from, dist, length);
            else
                wsx__inflate_copy(win, wpos, wend, dist, length); /* it wraps */
        }
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

/* BMI2's shifts by a register count (shlx/shrx) and its bzhi, which
 * keeps the low n bits in one instruction, take about a fifth of the
 * loop's instructions away; x86-64 does not promise BMI2, so it is
 * picked at run time (__builtin_cpu_supports reads what libgcc recorded
 * once at startup: no state of ours is mutable). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__BMI2__)
__attribute__((target("bmi2"))) static int fast_bmi2(wsx_inflater *s, const uint8_t **pp,
                                                      const uint8_t *end)
{
    if (s->whave == s->wsize)
        return fast_loop(s, pp, end, true);
    return fast_loop(s, pp, end, false);
}
#define WSX_INFLATE_BMI2 1
#endif

static int fast_base(wsx_inflater *s, const uint8_t **pp, const uint8_t *end)
{
    if (s->whave == s->wsize)
        return fast_loop(s, pp, end, true);
    return fast_loop(s, pp, end, false);
}

int wsx__inflate_fast(wsx_inflater *s, const uint8_t **pp, const uint8_t *end)
{
#ifdef WSX_INFLATE_BMI2
    if (!s->baseline && __builtin_cpu_supports("bmi2"))
        return fast_bmi2(s, pp, end);
#endif
    return fast_base(s, pp, end);
}
