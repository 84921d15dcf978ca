/* deflate.c - streaming raw-DEFLATE encoder: LZ77 (RFC 1951 §4) over a
 * buffer holding the 2^wbits window and the lookahead, with hash chains;
 * greedy matching for levels 1-3, lazy matching for 4-9. Distances never
 * exceed 2^wbits, including wbits 8. */
#include <string.h>

#include "deflate_int.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__ARM_NEON) || defined(__ARM_NEON__)
#include <arm_neon.h>
#endif

/* The match finder hashes 4 bytes, so every candidate on a chain
 * usually shares them and the walk wastes no steps on 3-byte prefixes;
 * matches of 3 bytes, which zlib keeps only within 4 KiB because they
 * seldom pay, are not looked for. */
#define HASH_BYTES 4u
#define OUT_CAP 2048u
#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

/* Per level: give up at `good` (search a quarter of the chain once a
 * match this long is in hand), `lazy` (no lazy search past this length;
 * for greedy levels the longest match whose positions are all hashed),
 * `nice` (stop at this length) and `chain` (candidates tried). These are
 * zlib's tunings, which balance speed and ratio well, except level 6's
 * chain of 96 instead of 128: with 4-byte hashing its output is still
 * smaller than zlib's level 6 on JSON and text, for 2-12 % fewer
 * instructions (tests/bench/README.md, "Round two"). */
static const struct level_params {
    uint16_t good, lazy, nice, chain;
} levels[10] = {
    {0, 0, 0, 0},        {4, 4, 8, 4},      {4, 5, 16, 8},      {4, 6, 32, 32},
    {4, 4, 16, 16},      {8, 16, 32, 32},   {8, 16, 128, 96},   {8, 32, 128, 256},
    {32, 128, 258, 1024}, {32, 258, 258, 4096}};

typedef struct layout {
    uint32_t wsize, bufsize, hbits, max_syms;
    size_t head, prev, buf, syms, out, size;
} layout;

static bool plan(layout *l, int wbits, int mem_level)
{
    if (wbits < WSX_DEFLATE_WBITS_MIN || wbits > WSX_DEFLATE_WBITS_MAX ||
        mem_level < 1 || mem_level > 9)
        return false;
    l->wsize = 1u << wbits;
    /* Two windows plus a maximal match, capped so that positions fit in
     * 16 bits; sliding needs pos >= wsize, which holds even with the cap
     * since encoding stops 258 bytes before the end. */
    l->bufsize = 2 * l->wsize + WSX_DFL_MAX_MATCH;
    if (l->bufsize > 65536)
        l->bufsize = 65536;
    /* More hash heads than twice the window only add slide cost. */
    l->hbits = (uint32_t)mem_level + 7 < (uint32_t)wbits + 1 ? (uint32_t)mem_level + 7
                                                             : (uint32_t)wbits + 1;
    l->max_syms = 1u << (mem_level + 6);
    l->head = ALIGN8(sizeof(wsx_deflater));
    l->prev = l->head + ALIGN8(((size_t)2 << l->hbits));
    l->buf = l->prev + ALIGN8((size_t)2 * l->wsize);
    l->syms = l->buf + ALIGN8(l->bufsize);
    l->out = l->syms + ALIGN8((size_t)3 * l->max_syms);
    l->size = l->out + OUT_CAP;
    return true;
}

size_t wsx_deflater_mem(int wbits, int mem_level)
{
    layout l;
    return plan(&l, wbits, mem_level) ? l.size : 0;
}

wsx_deflater *wsx_deflater_new(const wsx_allocator *a, int level, int wbits,
                               int mem_level)
{
    layout l;
    if (!a || !a->malloc || level < 1 || level > 9 || !plan(&l, wbits, mem_level))
        return NULL;
    uint8_t *m = a->malloc(l.size, a->user);
    if (!m)
        return NULL;
    wsx_deflater *s = (wsx_deflater *)(void *)m;
    memset(s, 0, sizeof *s);
    s->alloc = *a;
    s->size = l.size;
    s->head = (uint16_t *)(void *)(m + l.head);
    s->prev = (uint16_t *)(void *)(m + l.prev);
    s->buf = m + l.buf;
    s->syms = m + l.syms;
    s->out = m + l.out;
    s->wsize = l.wsize;
    s->bufsize = l.bufsize;
    s->hbits = l.hbits;
    s->max_syms = l.max_syms;
    s->out_cap = OUT_CAP;
    s->good = levels[level].good;
    s->max_lazy = levels[level].lazy;
    s->nice = levels[level].nice;
    s->chain = levels[level].chain;
    s->lazy = level >= 4;
    s->prev_len = WSX_DFL_MIN_MATCH - 1;
    wsx__dfl_init_fixed(s);
    /* Position 0 doubles as "no entry", so it is never a candidate. */
    memset(s->head, 0, (size_t)2 << l.hbits);
    return s;
}

void wsx_deflater_free(wsx_deflater *s)
{
    if (s)
        s->alloc.free(s, s->size, s->alloc.user);
}

void wsx_deflater_reset(wsx_deflater *s, bool keep_window)
{
    s->err = 0;
    s->finished = false;
    s->end = s->pos;
    s->bits = 0;
    s->nbits = 0;
    s->out_len = 0;
    s->nsyms = 0;
    s->prev_avail = false;
    s->prev_len = WSX_DFL_MIN_MATCH - 1;
    s->block_start = (int32_t)s->pos;
    s->block_bytes = 0;
    memset(s->lfreq, 0, sizeof s->lfreq);
    memset(s->dfreq, 0, sizeof s->dfreq);
    if (!keep_window)
        s->msg_start = s->pos;
}

static uint32_t load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Multiplicative hash of the 4 bytes at p; read in little-endian order
 * so that every platform builds the same chains and output. */
static uint32_t hash4(const wsx_deflater *s, uint32_t p)
{
    const uint8_t *b = s->buf + p;
    uint32_t v = load32(b);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#elif !defined(__BYTE_ORDER__)
    v = b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
#endif
    return (v * 0x9E3779B1u) >> (32 - s->hbits);
}

static void insert(wsx_deflater *s, uint32_t p)
{
    uint32_t h = hash4(s, p);
    s->prev[p & (s->wsize - 1)] = s->head[h];
    s->head[h] = (uint16_t)p;
}

/* Length of the common prefix of a and b, at most max. */
static uint32_t match_len(const uint8_t *a, const uint8_t *b, uint32_t max)
{
    uint32_t i = 0;
#if defined(__GNUC__) && defined(__BYTE_ORDER__)
    for (; i + 8 <= max; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return i + ((unsigned)__builtin_ctzll(x ^ y) >> 3);
#else
            return i + ((unsigned)__builtin_clzll(x ^ y) >> 3);
#endif
        }
    }
#endif
    while (i < max && a[i] == b[i])
        i++;
    return i;
}

/* Walk the chain from cand for a match at pos longer than found (the
 * caller's current length, at least 2) and than HASH_BYTES - 1; returns
 * the best length, *dist set when it grew. Candidates lie within the
 * window and after msg_start. */
static uint32_t longest_match(const wsx_deflater *s, uint32_t pos, uint32_t cand,
                              uint32_t found, uint32_t *dist)
{
    uint32_t max = s->end - pos < WSX_DFL_MAX_MATCH ? s->end - pos : WSX_DFL_MAX_MATCH;
    uint32_t best = found > HASH_BYTES - 1 ? found : HASH_BYTES - 1;
    if (best >= max)
        return found;
    uint32_t limit = pos > s->wsize ? pos - s->wsize : 0;
    if (limit < s->msg_start)
        limit = s->msg_start;
    if (limit == 0)
        limit = 1;
    uint32_t chain = found >= s->good ? s->chain >> 2 : s->chain;
    uint32_t nice = s->nice < max ? s->nice : max;
    const uint8_t *buf = s->buf, *scan = buf + pos;
    const uint16_t *prev = s->prev;
    const uint32_t wmask = s->wsize - 1;
    /* A candidate must match the four bytes that end one longer than
     * best, and the first four, before a full comparison. */
    uint32_t start4 = load32(scan), end4 = load32(scan + best - 3);
    for (; cand >= limit && chain; chain--, cand = prev[cand & wmask]) {
        const uint8_t *m = buf + cand;
        if (load32(m + best - 3) != end4 || load32(m) != start4)
            continue;
        uint32_t len = 4 + match_len(scan + 4, m + 4, max - 4);
        if (len > best) {
            best = found = len;
            *dist = pos - cand;
            if (len >= nice)
                break;
            end4 = load32(scan + best - 3);
        }
    }
    return found;
}

static void put_literal(wsx_deflater *s, uint8_t c)
{
    uint8_t *sy = s->syms + 3 * s->nsyms++;
    sy[0] = c;
    sy[1] = sy[2] = 0;
    s->lfreq[c]++;
    s->block_bytes++;
}

static void put_match(wsx_deflater *s, uint32_t len, uint32_t dist)
{
    uint8_t *sy = s->syms + 3 * s->nsyms++;
    sy[0] = (uint8_t)(len - WSX_DFL_MIN_MATCH);
    sy[1] = (uint8_t)dist;
    sy[2] = (uint8_t)(dist >> 8);
    s->lfreq[257 + wsx__dfl_len_code(len)]++;
    s->dfreq[wsx__dfl_dist_code(dist)]++;
    s->block_bytes += len;
}

/* Find the match at pos (reporting at most `best` when none is longer)
 * and hash pos. */
static uint32_t find(wsx_deflater *s, uint32_t pos, uint32_t best, bool search,
                     uint32_t *dist)
{
    if (s->end - pos < HASH_BYTES)
        return best;
    uint32_t h = hash4(s, pos), cand = s->head[h];
    /* Search before hashing pos: a chain entry exactly wsize back shares
     * pos's prev slot, which hashing pos overwrites. */
    if (search)
        best = longest_match(s, pos, cand, best, dist);
    s->prev[pos & (s->wsize - 1)] = (uint16_t)cand;
    s->head[h] = (uint16_t)pos;
    return best;
}

/* Hash the positions inside a match, (from, to). */
static void insert_range(wsx_deflater *s, uint32_t from, uint32_t to)
{
    uint32_t last = s->end >= HASH_BYTES - 1 ? s->end - (HASH_BYTES - 1) : 0;
    if (to > last)
        to = last;
    for (uint32_t p = from; p < to; p++)
        insert(s, p);
}

static void compress_greedy(wsx_deflater *s, bool flushing)
{
    while (s->pos < s->end && s->nsyms < s->max_syms) {
        if (s->end - s->pos < WSX_DFL_MAX_MATCH && !flushing)
            break;
        uint32_t dist = 0;
        uint32_t len = find(s, s->pos, WSX_DFL_MIN_MATCH - 1, true, &dist);
        if (len >= WSX_DFL_MIN_MATCH) {
            put_match(s, len, dist);
            /* Long matches are rarely worth hashing inside at these
             * levels: speed first. */
            if (len <= s->max_lazy)
                insert_range(s, s->pos + 1, s->pos + len);
            s->pos += len;
        } else {
            put_literal(s, s->buf[s->pos++]);
        }
    }
}

/* Lazy evaluation: a match at pos - 1 is emitted only when the match at
 * pos is not longer (RFC 1951 §4 suggests this deferral). */
static void compress_lazy(wsx_deflater *s, bool flushing)
{
    while (s->pos < s->end && s->nsyms < s->max_syms) {
        if (s->end - s->pos < WSX_DFL_MAX_MATCH && !flushing)
            return;
        uint32_t dist = 0;
        uint32_t len = find(s, s->pos, s->prev_len, s->prev_len < s->max_lazy, &dist);
        if (s->prev_len >= WSX_DFL_MIN_MATCH && len <= s->prev_len) {
            uint32_t stop = s->pos - 1 + s->prev_len;
            put_match(s, s->prev_len, s->prev_dist);
            insert_range(s, s->pos + 1, stop);
            s->pos = stop;
            s->prev_avail = false;
            s->prev_len = WSX_DFL_MIN_MATCH - 1;
            continue;
        }
        if (s->prev_avail)
            put_literal(s, s->buf[s->pos - 1]);
        s->prev_avail = true;
        s->prev_len = len > s->prev_len ? len : WSX_DFL_MIN_MATCH - 1;
        s->prev_dist = dist;
        s->pos++;
    }
    if (flushing && s->pos == s->end && s->prev_avail && s->nsyms < s->max_syms) {
        put_literal(s, s->buf[s->pos - 1]);
        s->prev_avail = false;
        s->prev_len = WSX_DFL_MIN_MATCH - 1;
    }
}

/* Encode what the buffer allows, writing blocks as the symbol buffer
 * fills. */
static int compress(wsx_deflater *s, bool flushing)
{
    for (;;) {
        if (s->lazy)
            compress_lazy(s, flushing);
        else
            compress_greedy(s, flushing);
        if (s->nsyms < s->max_syms)
            return 0;
        int r = wsx__dfl_write_block(s, false);
        if (r)
            return r;
    }
}

/* t[i] = t[i] - w, or 0 (no entry) for the positions that slide out.
 * The hash heads and chain links are rebased at every slide: 64 K
 * entries per window of input at window 15, so this loop was a quarter
 * of level 1's instructions before it took 8 entries per step. */
static void rebase(uint16_t *t, uint32_t n, uint32_t w)
{
    uint32_t i = 0;
#if defined(__SSE2__)
    const __m128i vw = _mm_set1_epi16((short)(uint16_t)w);
    for (; i + 8 <= n; i += 8) {
        __m128i *v = (__m128i *)(void *)(t + i);
        _mm_storeu_si128(v, _mm_subs_epu16(_mm_loadu_si128(v), vw));
    }
#elif defined(__ARM_NEON) || defined(__ARM_NEON__)
    const uint16x8_t vw = vdupq_n_u16((uint16_t)w);
    for (; i + 8 <= n; i += 8)
        vst1q_u16(t + i, vqsubq_u16(vld1q_u16(t + i), vw));
#endif
    for (; i < n; i++)
        t[i] = (uint16_t)(t[i] >= w ? t[i] - w : 0);
}

/* Drop the oldest window's worth of bytes: only pos - wsize onwards can
 * still be referred to. */
static void slide(wsx_deflater *s)
{
    uint32_t w = s->wsize;
    memmove(s->buf, s->buf + w, s->end - w);
    s->pos -= w;
    s->end -= w;
    s->msg_start = s->msg_start > w ? s->msg_start - w : 0;
    s->block_start -= (int32_t)w;
    rebase(s->head, 1u << s->hbits, w);
    rebase(s->prev, w, w);
}

int wsx_deflater_run(wsx_deflater *s, const uint8_t *in, size_t len,
                     wsx_flush flush, wsx_emit_fn emit, void *ctx)
{
    if (s->err)
        return s->err;
    if (s->finished)
        return WSX_ESTATE;
    if ((unsigned)flush > WSX_FLUSH_FINISH)
        return WSX_EINVAL;
    s->emit = emit;
    s->ctx = ctx;
    int r;
    for (;;) {
        /* compress() stopped at most 258 bytes before a full buffer, so
         * pos >= wsize here. */
        if (len && s->end == s->bufsize) {
            /* Incompressible input is best stored, which needs its bytes:
             * end the block before they slide out. */
            if (s->block_start >= 0 && s->block_start < (int32_t)s->wsize &&
                wsx__dfl_stored_wins(s) && (r = wsx__dfl_write_block(s, false)) != 0)
                goto fail;
            slide(s);
        }
        size_t n = s->bufsize - s->end < len ? s->bufsize - s->end : len;
        if (n) {
            memcpy(s->buf + s->end, in, n);
            s->end += (uint32_t)n;
            in += n;
            len -= n;
        }
        if ((r = compress(s, !len && flush != WSX_FLUSH_NONE)) != 0)
            goto fail;
        if (!len)
            break;
    }
    if (flush == WSX_FLUSH_NONE)
        return 0;
    if ((s->nsyms || flush == WSX_FLUSH_FINISH) &&
        (r = wsx__dfl_write_block(s, flush == WSX_FLUSH_FINISH)) != 0)
        goto fail;
    if ((r = wsx__dfl_sync(s, flush)) != 0)
        goto fail;
    s->finished = flush == WSX_FLUSH_FINISH;
    return 0;
fail:
    s->err = r;
    return r;
}
