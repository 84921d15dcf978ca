/* inflate.c - streaming raw-DEFLATE decoder (RFC 1951 §3.2). Input is
 * taken in any split: an explicit state machine waits for the bits each
 * step needs. Output is written into the 2^wbits window itself and emitted
 * from there, so memory never grows with the data. */
#include <string.h>

#include "inflate_int.h"

size_t wsx_inflater_mem(int wbits)
{
    if (wbits < WSX_DEFLATE_WBITS_MIN || wbits > WSX_DEFLATE_WBITS_MAX)
        return 0;
    return sizeof(wsx_inflater) + ((size_t)1 << wbits) + WSX_INF_SLACK;
}

wsx_inflater *wsx_inflater_new(const wsx_allocator *a, int wbits)
{
    size_t size = wsx_inflater_mem(wbits);
    if (!size || !a || !a->malloc)
        return NULL;
    wsx_inflater *s = a->malloc(size, a->user);
    if (!s)
        return NULL;
    memset(s, 0, sizeof *s);
    s->alloc = *a;
    s->win = (uint8_t *)(s + 1);
    s->wsize = (uint32_t)1 << wbits;
    s->wend = s->wsize + WSX_INF_SLACK;
    s->lit.table = s->lit_table;
    s->lit.sorted = s->lit_sorted;
    s->dist_h.table = s->dist_table;
    s->dist_h.sorted = s->dist_sorted;
    s->mode = INF_HEADER;
    return s;
}

void wsx_inflater_free(wsx_inflater *s)
{
    if (s)
        s->alloc.free(s, sizeof *s + s->wend, s->alloc.user);
}

void wsx_inflater_reset(wsx_inflater *s, bool keep_window)
{
    s->mode = INF_HEADER;
    s->err = 0;
    s->bits = 0;
    s->nbits = 0;
    s->last = false;
    s->total = 0;
    s->epos = s->wpos; /* output not emitted before an error is dropped */
    if (!keep_window)
        s->whave = 0;
}

void wsx_inflater_set_limit(wsx_inflater *s, uint64_t max)
{
    s->limit = max;
}

bool wsx_inflater_at_boundary(const wsx_inflater *s)
{
    return s->mode == INF_HEADER || s->mode == INF_DONE;
}

bool wsx_inflater_finished(const wsx_inflater *s)
{
    return s->mode == INF_DONE;
}

/* Bytes the window takes before the next flush: up to its end, and no
 * more than wsize in one chunk. */
static uint32_t room(const wsx_inflater *s)
{
    uint32_t to_end = s->wend - s->wpos, to_chunk = s->epos + s->wsize - s->wpos;
    return to_end < to_chunk ? to_end : to_chunk;
}

/* Emit win[epos..wpos) after the limit check; wrap at the window's end. */
static int flush_window(wsx_inflater *s, wsx_emit_fn emit, void *ctx)
{
    uint32_t n = s->wpos - s->epos;
    if (n) {
        s->total += n;
        if (s->limit && s->total > s->limit)
            return WSX_ETOOBIG;
        int r = emit(ctx, s->win + s->epos, n);
        if (r)
            return r;
    }
    if (s->wpos == s->wend)
        s->wpos = 0;
    s->epos = s->wpos;
    return 0;
}

/* Pull bytes until n bits are buffered; false when the input ran out. */
static bool need(wsx_inflater *s, const uint8_t **p, const uint8_t *end,
                 unsigned n)
{
    while (s->nbits < n) {
        if (*p == end)
            return false;
        s->bits |= (uint64_t)*(*p)++ << s->nbits;
        s->nbits += 8;
    }
    return true;
}

static void drop(wsx_inflater *s, unsigned n)
{
    s->bits >>= n;
    s->nbits -= n;
}

/* Take n low bits (n <= 32). */
static uint32_t take(wsx_inflater *s, unsigned n)
{
    uint32_t v = (uint32_t)(s->bits & (((uint64_t)1 << n) - 1));
    drop(s, n);
    return v;
}

/* Decode one symbol with its extra bits all buffered: 1, 0 when the input
 * ran out first, -1 for bits that match no code. The caller consumes
 * WSX_HD_USE(*e) bits (WSX_HD_CODELEN for an EXC entry). */
static int need_symbol(wsx_inflater *s, const wsx_hdec *h, const uint8_t **p,
                       const uint8_t *end, uint32_t *e)
{
    for (;;) {
        int r = wsx__hdec_decode(h, s->bits, s->nbits, e);
        if (r < 0)
            return -1;
        if (r > 0 && WSX_HD_USE(*e) <= s->nbits)
            return 1;
        if (*p == end)
            return 0;
        s->bits |= (uint64_t)*(*p)++ << s->nbits;
        s->nbits += 8;
    }
}

static int load_fixed(wsx_inflater *s)
{
    /* RFC 1951 §3.2.6: the fixed literal/length and distance codes. */
    if (s->fixed)
        return 0;
    memset(s->lens, 8, 144);
    memset(s->lens + 144, 9, 112);
    memset(s->lens + 256, 7, 24);
    memset(s->lens + 280, 8, 8);
    memset(s->lens + 288, 5, 32);
    if (wsx__hdec_build(&s->lit, s->lens, 288, WSX_HD_ALPHA_LIT, LIT_ROOT) ||
        wsx__hdec_build(&s->dist_h, s->lens + 288, 32, WSX_HD_ALPHA_DIST, DIST_ROOT))
        return WSX_EPROTO;
    s->fixed = true;
    return 0;
}

/* One step of the code-length sequence (RFC 1951 §3.2.7). */
static int read_lengths(wsx_inflater *s, const uint8_t **p, const uint8_t *end)
{
    unsigned total = (unsigned)s->nlen + s->ndist;
    const uint8_t *start = *p;
    while (s->have < total) {
        /* A symbol and its extra bits take at most 14 bits: while the
         * input lasts, one 8-byte load serves several of them. */
        if (s->nbits < 14 && end - *p >= 8) {
            s->bits |= wsx_inflate_load64(*p) << s->nbits;
            *p += (63 - s->nbits) >> 3;
            s->nbits |= 56;
        }
        uint32_t e;
        int r = need_symbol(s, &s->lit, p, end, &e);
        if (r <= 0)
            return r < 0 ? WSX_EPROTO : WSX_EAGAIN;
        uint64_t saved = s->bits;
        drop(s, WSX_HD_USE(e));
        unsigned sym = WSX_HD_VAL(e), rep = wsx__hdec_extra(e, saved);
        uint8_t v = 0;
        if (sym < 16) {
            s->lens[s->have++] = (uint8_t)sym;
            continue;
        }
        if (sym == 16) {
            if (s->have == 0)
                return WSX_EPROTO; /* repeat with no previous length */
            v = s->lens[s->have - 1];
            rep += 3;
        } else {
            rep += sym == 17 ? 3 : 11;
        }
        if (s->have + rep > total)
            return WSX_EPROTO; /* more lengths than HLIT + HDIST */
        memset(s->lens + s->have, v, rep);
        s->have = (uint16_t)(s->have + rep);
    }
    /* Give back the whole bytes read ahead (this call's only), so that a
     * stream that ends soon after reports the input it used exactly. */
    size_t back = s->nbits >> 3;
    if (back > (size_t)(*p - start))
        back = (size_t)(*p - start);
    *p -= back;
    s->nbits -= 8 * (unsigned)back;
    s->bits &= ((uint64_t)1 << s->nbits) - 1;
    /* RFC 1951 §3.2.7: the block must be able to end. */
    if (s->lens[WSX_DFL_END] == 0 ||
        wsx__hdec_build(&s->lit, s->lens, s->nlen, WSX_HD_ALPHA_LIT, LIT_ROOT) ||
        wsx__hdec_build(&s->dist_h, s->lens + s->nlen, s->ndist, WSX_HD_ALPHA_DIST,
                       DIST_ROOT))
        return WSX_EPROTO;
    return 0;
}

/* Run the state machine until the input runs out (WSX_EAGAIN), the stream
 * ends (1) or an error. */
static int inflate_steps(wsx_inflater *s, const uint8_t **p, const uint8_t *end,
                         wsx_emit_fn emit, void *ctx)
{
    int r;
    uint32_t e;
    for (;;) {
        if (room(s) == 0 && (r = flush_window(s, emit, ctx)) != 0)
            return r;
        switch (s->mode) {
        case INF_HEADER:
            if (!need(s, p, end, 3))
                return WSX_EAGAIN;
            s->last = take(s, 1);
            switch (take(s, 2)) {
            case 0:
                s->mode = INF_STORED;
                break;
            case 1:
                if ((r = load_fixed(s)) != 0)
                    return r;
                s->mode = INF_LEN;
                break;
            case 2:
                s->mode = INF_TABLE;
                break;
            default:
                return WSX_EPROTO; /* RFC 1951 §3.2.3: BTYPE 11 is reserved */
            }
            break;
        case INF_STORED:
            drop(s, s->nbits & 7); /* RFC 1951 §3.2.4: skip to a byte */
            if (!need(s, p, end, 32))
                return WSX_EAGAIN;
            s->len = take(s, 16);
            if (s->len != (take(s, 16) ^ 0xffffu))
                return WSX_EPROTO; /* NLEN is not the complement of LEN */
            s->mode = INF_STORED_COPY;
            break;
        case INF_STORED_COPY:
            while (s->len && room(s)) {
                if (s->nbits >= 8) {
                    s->win[s->wpos++] = (uint8_t)take(s, 8);
                    s->len--;
                    wsx_inflate_history(s, 1);
                    continue;
                }
                if (*p == end)
                    return WSX_EAGAIN;
                uint32_t n = s->len, k = room(s);
                if (n > k)
                    n = k;
                if (n > (size_t)(end - *p))
                    n = (uint32_t)(end - *p);
                memcpy(s->win + s->wpos, *p, n);
                *p += n;
                s->wpos += n;
                s->len -= n;
                wsx_inflate_history(s, n);
            }
            if (!s->len)
                s->mode = s->last ? INF_DONE : INF_HEADER;
            break;
        case INF_TABLE:
            if (!need(s, p, end, 14))
                return WSX_EAGAIN;
            s->nlen = (uint16_t)(257 + take(s, 5));
            s->ndist = (uint16_t)(1 + take(s, 5));
            s->ncode = (uint16_t)(4 + take(s, 4));
            if (s->nlen > WSX_DFL_NLIT || s->ndist > WSX_DFL_NDIST)
                return WSX_EPROTO;
            s->have = 0;
            s->fixed = false;
            s->mode = INF_CLENS;
            break;
        case INF_CLENS:
            for (; s->have < s->ncode; s->have++) {
                if (!need(s, p, end, 3))
                    return WSX_EAGAIN;
                s->lens[wsx__dfl_clen_order[s->have]] = (uint8_t)take(s, 3);
            }
            for (; s->have < WSX_DFL_NCLEN; s->have++)
                s->lens[wsx__dfl_clen_order[s->have]] = 0;
            /* The code-length code borrows the literal table. */
            if (wsx__hdec_build(&s->lit, s->lens, WSX_DFL_NCLEN, WSX_HD_ALPHA_CLEN,
                               WSX_DFL_CLEN_BITS))
                return WSX_EPROTO;
            s->have = 0;
            s->mode = INF_LENS;
            break;
        case INF_LENS:
            if ((r = read_lengths(s, p, end)) != 0)
                return r;
            s->mode = INF_LEN;
            break;
        case INF_LEN:
            if (end - *p >= 8 && s->wpos + WSX_DFL_MAX_MATCH <= s->wsize) {
                if ((r = wsx__inflate_fast(s, p, end)) != 0)
                    return r;
                break;
            }
            if ((r = need_symbol(s, &s->lit, p, end, &e)) <= 0)
                return r < 0 ? WSX_EPROTO : WSX_EAGAIN;
            if (e & WSX_HD_LIT) {
                drop(s, WSX_HD_USE(e));
                s->win[s->wpos++] = (uint8_t)(e >> 16);
                wsx_inflate_history(s, 1);
            } else if (!(e & WSX_HD_EXC)) {
                uint64_t saved = s->bits;
                drop(s, WSX_HD_USE(e));
                s->len = WSX_HD_VAL(e) + wsx__hdec_extra(e, saved);
                s->mode = INF_DIST;
            } else if (e & WSX_HD_END) {
                drop(s, WSX_HD_USE(e));
                s->mode = s->last ? INF_DONE : INF_HEADER;
            } else {
                return WSX_EPROTO;
            }
            break;
        case INF_DIST:
            if ((r = need_symbol(s, &s->dist_h, p, end, &e)) <= 0)
                return r < 0 ? WSX_EPROTO : WSX_EAGAIN;
            if (e & WSX_HD_EXC)
                return WSX_EPROTO;
            uint64_t saved = s->bits;
            drop(s, WSX_HD_USE(e));
            s->dist = WSX_HD_VAL(e) + wsx__hdec_extra(e, saved);
            if (s->dist > s->whave)
                return WSX_EPROTO; /* beyond the window or the output */
            s->mode = INF_COPY;
            break;
        case INF_COPY: {
            uint32_t n = s->len, k = room(s);
            if (n > k)
                n = k;
            wsx__inflate_copy(s->win, s->wpos, s->wend, s->dist, n);
            s->wpos += n;
            s->len -= n;
            wsx_inflate_history(s, n);
            if (!s->len)
                s->mode = INF_LEN;
            break;
        }
        case INF_DONE:
            return 1;
        default:
            return s->err;
        }
    }
}

int wsx_inflater_run(wsx_inflater *s, const uint8_t *in, size_t len,
                     size_t *used, wsx_emit_fn emit, void *ctx)
{
    if (s->mode == INF_BAD)
        return s->err;
    const uint8_t *p = in;
    int r = inflate_steps(s, &p, len ? in + len : in, emit, ctx);
    if (r == WSX_EAGAIN || r == 1)
        r = flush_window(s, emit, ctx);
    if (r) {
        s->mode = INF_BAD;
        s->err = r;
        return r;
    }
    if (used)
        *used = (size_t)(p - in);
    return 0;
}
