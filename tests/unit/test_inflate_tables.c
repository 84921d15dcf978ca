/* test_inflate_tables.c - the inflater's decode tables (huff_decode.c,
 * RFC 1951 §3.2.2) entry by entry against an independent canonical coder:
 * codes of every length 1..15 in and beyond the lookup table, every extra
 * bit value, the codes that must be refused; then whole streams with every
 * match length 3..258 and distances at the window's edges, through both
 * builds of the fast loop (baseline and, where the CPU has it, BMI2), fed
 * whole and one byte at a time. */
#include "dfl_tables.h"
#include "huff_decode.h"
#include "inflate_int.h"
#include "deflate_bits.h"
#include "test.h"
#include "wsx_deflate.h"

/* ---- an independent canonical coder ----------------------------------- */

/* Canonical codes for lens[0..n) (RFC 1951 §3.2.2), most significant bit
 * first. */
static void canon(const uint8_t *lens, unsigned n, uint32_t *codes)
{
    unsigned count[16] = {0}, next[16] = {0}, c = 0;
    for (unsigned i = 0; i < n; i++)
        count[lens[i]]++;
    count[0] = 0;
    for (unsigned l = 1; l < 16; l++)
        next[l] = c = (c + count[l - 1]) << 1;
    for (unsigned i = 0; i < n; i++)
        if (lens[i])
            codes[i] = next[lens[i]]++;
}

/* The code as it sits at the bottom of the bit buffer: its first (most
 * significant) bit lowest (RFC 1951 §3.1.1). */
static uint64_t as_bits(uint32_t code, unsigned len)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < len; i++)
        r |= (uint64_t)((code >> (len - 1 - i)) & 1u) << i;
    return r;
}

typedef struct table {
    uint32_t t[1u << LIT_ROOT];
    uint32_t sorted[288];
    wsx_hdec h;
} table;

static int build(table *tb, const uint8_t *lens, unsigned n, int alphabet, unsigned root)
{
    tb->h.table = tb->t;
    tb->h.sorted = tb->sorted;
    return wsx__hdec_build(&tb->h, lens, n, alphabet, root);
}

/* What symbol sym of `alphabet` must decode to, with extra-bit value x. */
static void check_symbol(const table *tb, int alphabet, unsigned sym, unsigned len,
                         uint32_t code, uint64_t *seed)
{
    unsigned extra = 0, base = sym;
    bool bad = false;
    if (alphabet == WSX_HD_ALPHA_LIT && sym > 256) {
        bad = sym >= 286;
        if (!bad) {
            extra = wsx__dfl_len_extra[sym - 257];
            base = wsx__dfl_len_base[sym - 257];
        }
    } else if (alphabet == WSX_HD_ALPHA_DIST) {
        bad = sym >= 30;
        if (!bad) {
            extra = wsx__dfl_dist_extra[sym];
            base = wsx__dfl_dist_base[sym];
        }
    } else if (alphabet == WSX_HD_ALPHA_CLEN) {
        extra = sym < 16 ? 0 : sym == 16 ? 2 : sym == 17 ? 3 : 7;
    }
    /* Every extra value when there are few, else the two ends and some. */
    unsigned nx = 1u << extra;
    for (unsigned k = 0; k < (nx <= 64 ? nx : 64); k++) {
        uint32_t x = nx <= 64 ? k : k == 0 ? 0 : k == 1 ? nx - 1 : (uint32_t)test_rand(seed) & (nx - 1);
        uint64_t junk = test_rand(seed) << (len + extra);
        uint64_t bits = as_bits(code, len) | (uint64_t)x << len | junk;
        uint32_t e = 0;
        if (wsx__hdec_decode(&tb->h, bits, 64, &e) != 1) {
            CHECK(!"decodes");
            return;
        }
        /* With one bit too few, the code is not there yet. */
        uint64_t cut = bits & (((uint64_t)1 << (len - 1)) - 1);
        uint32_t e2;
        CHECK_EQ(wsx__hdec_decode(&tb->h, cut, len - 1, &e2), 0);
        CHECK_EQ(WSX_HD_CODELEN(e), len);
        if (bad) {
            CHECK((e & WSX_HD_EXC) && !(e & WSX_HD_END) && !(e & WSX_HD_LIT));
            CHECK_EQ(WSX_HD_USE(e), len);
            continue;
        }
        CHECK_EQ(WSX_HD_USE(e), len + extra);
        if (alphabet == WSX_HD_ALPHA_LIT && sym < 256) {
            CHECK((e & WSX_HD_LIT) && !(e & WSX_HD_EXC));
            CHECK_EQ((e >> 16) & 255u, sym);
        } else if (alphabet == WSX_HD_ALPHA_LIT && sym == 256) {
            CHECK((e & WSX_HD_EXC) && (e & WSX_HD_END) && !(e & WSX_HD_LIT));
        } else {
            CHECK(!(e & WSX_HD_EXC) && !(e & WSX_HD_LIT));
            CHECK_EQ(WSX_HD_VAL(e), base);
            CHECK_EQ(wsx__hdec_extra(e, bits), x);
            /* Consuming USE bits leaves the junk above. */
            CHECK_EQ(bits >> WSX_HD_USE(e), junk >> (len + extra));
        }
    }
}

/* Check every symbol of a built table. */
static void check_all(const table *tb, const uint8_t *lens, unsigned n, int alphabet,
                      uint64_t *seed)
{
    uint32_t codes[288] = {0};
    canon(lens, n, codes);
    for (unsigned s = 0; s < n; s++)
        if (lens[s])
            check_symbol(tb, alphabet, s, lens[s], codes[s], seed);
}

/* For every longest length L in 1..15: a complete code with one code of
 * each length 1..L-1 and two of length L, on symbols picked at random
 * (literals, end of block, lengths, the unusable 286/287; distances
 * 0..31), decoded through the table (root 10, 8, 7) and the walk. */
static void test_every_length(void)
{
    uint64_t seed = 7;
    static const struct {
        int alphabet;
        unsigned n, root, maxl;
    } alpha[] = {{WSX_HD_ALPHA_LIT, 288, LIT_ROOT, 15},
                 {WSX_HD_ALPHA_DIST, 32, DIST_ROOT, 15},
                 {WSX_HD_ALPHA_CLEN, 19, WSX_DFL_CLEN_BITS, 7}};
    for (unsigned a = 0; a < 3; a++) {
        for (unsigned maxl = 1; maxl <= alpha[a].maxl; maxl++) {
            for (int round = 0; round < 8; round++) {
                uint8_t lens[288] = {0};
                unsigned n = alpha[a].n;
                for (unsigned l = 1; l <= maxl; l++) {
                    for (unsigned twice = 0; twice < (l == maxl ? 2u : 1u); twice++) {
                        unsigned s;
                        do
                            s = (unsigned)(test_rand(&seed) % n);
                        while (lens[s]);
                        lens[s] = (uint8_t)l;
                    }
                }
                /* A one-bit code has room for a single symbol only when
                 * maxl is 1; the first round puts END and a length in. */
                if (alpha[a].alphabet == WSX_HD_ALPHA_LIT && round == 0 && maxl >= 2) {
                    memset(lens, 0, sizeof lens);
                    lens[256] = 1;
                    for (unsigned l = 2; l <= maxl; l++)
                        lens[257 + (l * 3) % 29] = (uint8_t)l;
                    lens[65] = (uint8_t)maxl;
                }
                table tb;
                CHECK_EQ(build(&tb, lens, n, alpha[a].alphabet, alpha[a].root), 0);
                CHECK_EQ(tb.h.maxlen, maxl);
                check_all(&tb, lens, n, alpha[a].alphabet, &seed);
            }
        }
    }
    /* Every symbol at once: the fixed literal/length code (RFC 1951
     * §3.2.6) and a flat distance code of 5 bits. */
    uint8_t lens[288];
    memset(lens, 8, 144);
    memset(lens + 144, 9, 112);
    memset(lens + 256, 7, 24);
    memset(lens + 280, 8, 8);
    table tb;
    CHECK_EQ(build(&tb, lens, 288, WSX_HD_ALPHA_LIT, LIT_ROOT), 0);
    check_all(&tb, lens, 288, WSX_HD_ALPHA_LIT, &seed);
    memset(lens, 5, 32);
    CHECK_EQ(build(&tb, lens, 32, WSX_HD_ALPHA_DIST, DIST_ROOT), 0);
    check_all(&tb, lens, 32, WSX_HD_ALPHA_DIST, &seed);
}

/* Over-subscribed and incomplete codes are refused; the two incomplete
 * codes RFC 1951 §3.2.7 and zlib allow decode their missing code to an
 * EXC entry that is neither END nor LONG. */
static void test_refused(void)
{
    static const struct {
        uint8_t lens[4];
        unsigned n;
        int alphabet, want;
    } cases[] = {
        {{1, 1, 1}, 3, WSX_HD_ALPHA_LIT, WSX_EPROTO},   /* over-subscribed */
        {{1, 2, 2, 2}, 4, WSX_HD_ALPHA_DIST, WSX_EPROTO},
        {{15, 15, 15}, 3, WSX_HD_ALPHA_LIT, WSX_EPROTO}, /* incomplete */
        {{1, 2}, 2, WSX_HD_ALPHA_LIT, WSX_EPROTO},
        {{2}, 1, WSX_HD_ALPHA_DIST, WSX_EPROTO},          /* one code, 2 bits */
        {{1}, 1, WSX_HD_ALPHA_CLEN, WSX_EPROTO},          /* clen: never */
        {{0}, 1, WSX_HD_ALPHA_CLEN, WSX_EPROTO},
        {{0}, 1, WSX_HD_ALPHA_LIT, WSX_EPROTO},           /* empty lit code */
        {{1}, 1, WSX_HD_ALPHA_LIT, 0},                    /* one code, 1 bit */
        {{0, 1}, 2, WSX_HD_ALPHA_DIST, 0},
        {{0, 0}, 2, WSX_HD_ALPHA_DIST, 0},                /* no distances */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        table tb;
        unsigned root = cases[c].alphabet == WSX_HD_ALPHA_LIT ? LIT_ROOT : DIST_ROOT;
        int r = build(&tb, cases[c].lens, cases[c].n, cases[c].alphabet, root);
        CHECK_EQ(r, cases[c].want);
        if (r)
            continue;
        bool empty = cases[c].lens[cases[c].n - 1] == 0;
        uint32_t e = 0;
        /* The code "1" is missing (and everything in an empty code). */
        CHECK_EQ(wsx__hdec_decode(&tb.h, 1, 1, &e), 1);
        CHECK((e & WSX_HD_EXC) && !(e & WSX_HD_LONG) && !(e & WSX_HD_END));
        CHECK_EQ(WSX_HD_CODELEN(e), empty ? 0u : 1u);
        if (!empty) {
            /* "0" is the one symbol; with no bit it is still unknown. */
            CHECK_EQ(wsx__hdec_decode(&tb.h, 0, 1, &e), 1);
            CHECK(!(e & WSX_HD_EXC) && WSX_HD_CODELEN(e) == 1);
            CHECK_EQ(wsx__hdec_decode(&tb.h, 0, 0, &e), 0);
        }
    }
}

/* ---- whole streams ------------------------------------------------------ */

/* A match of any length 3..258 and distance 1..32768, and the same in the
 * reference output. */
static void match(bits_out *w, uint8_t *ref, size_t *rn, unsigned len, unsigned dist)
{
    unsigned lc = wsx__dfl_len_code(len), dc = wsx__dfl_dist_code(dist);
    fixed_sym(w, 257 + lc);
    put(w, len - wsx__dfl_len_base[lc], wsx__dfl_len_extra[lc]);
    put_code(w, dc, 5);
    put(w, dist - wsx__dfl_dist_base[dc], wsx__dfl_dist_extra[dc]);
    for (unsigned i = 0; i < len; i++, (*rn)++)
        ref[*rn] = ref[*rn - dist];
}

static void literal(bits_out *w, uint8_t *ref, size_t *rn, uint8_t c)
{
    fixed_sym(w, c);
    ref[(*rn)++] = c;
}

typedef struct sink {
    uint8_t *p;
    size_t n;
    size_t max_chunk;
} sink;

static int sink_put(void *ctx, const uint8_t *p, size_t n)
{
    sink *s = ctx;
    memcpy(s->p + s->n, p, n);
    s->n += n;
    if (n > s->max_chunk)
        s->max_chunk = n;
    return 0;
}

/* Inflate in[0..n) whole or byte by byte, with the baseline fast loop or
 * the one the CPU picks; the result must be exactly ref[0..rn). */
static void check_stream(const uint8_t *in, size_t n, int wbits, const uint8_t *ref,
                         size_t rn, int want)
{
    for (int variant = 0; variant < 4; variant++) {
        test_alloc t = {0};
        wsx_allocator a = test_allocator(&t);
        wsx_inflater *s = wsx_inflater_new(&a, wbits);
        s->baseline = variant & 1;
        sink out = {malloc(rn + 1), 0, 0};
        int r = 0;
        if (variant & 2) {
            for (size_t i = 0; i < n && r == 0; i++)
                r = wsx_inflater_run(s, in + i, 1, NULL, sink_put, &out);
        } else {
            r = wsx_inflater_run(s, in, n, NULL, sink_put, &out);
        }
        CHECK_EQ(r, want);
        if (!want) {
            CHECK(wsx_inflater_finished(s));
            CHECK_EQ(out.n, rn);
            CHECK(out.n == rn && !memcmp(out.p, ref, rn));
            CHECK(out.max_chunk <= (size_t)1 << wbits);
        }
        free(out.p);
        wsx_inflater_free(s);
    }
}

/* Every length 3..258 (so every extra-bit value of every length code),
 * each at short distances (overlapping copies, periods 1..8) and at far
 * ones, with literals between, in a window of 32 KiB and one of 256. */
static void test_every_match_length(void)
{
    uint64_t seed = 11;
    for (int wbits = 8; wbits <= 15; wbits += 7) {
        unsigned wsize = 1u << wbits;
        size_t cap = 4u << 20;
        uint8_t *ref = malloc(cap);
        size_t rn = 0;
        bits_out w = {0};
        put(&w, 1, 1);
        put(&w, 1, 2);
        for (unsigned i = 0; i < 300; i++)
            literal(&w, ref, &rn, (uint8_t)test_rand(&seed));
        for (unsigned dist = 1; dist <= 300; dist += dist < 20 ? 1 : 37) {
            if (dist > wsize)
                break;
            for (unsigned len = 3; len <= 258; len++) {
                match(&w, ref, &rn, len, dist);
                if (len % 7 == 0)
                    literal(&w, ref, &rn, (uint8_t)test_rand(&seed));
            }
        }
        fixed_sym(&w, 256);
        check_stream(w.b, w.n, wbits, ref, rn, 0);
        free(w.b);
        free(ref);
    }
}

/* For every window 2^8..2^15: distances 1..40, the window's last 40, the
 * base and the last value of every distance code that fits, each with
 * lengths 3, 10 and 258, after a stored block fills the window; then one
 * byte past the window is refused. */
static void test_window_edges(void)
{
    uint64_t seed = 13;
    for (int wbits = 8; wbits <= 15; wbits++) {
        unsigned wsize = 1u << wbits;
        size_t cap = 8u << 20;
        uint8_t *ref = malloc(cap);
        size_t rn = 0;
        bits_out w = {0};
        /* A stored block of wsize random bytes (RFC 1951 §3.2.4). */
        put(&w, 0, 1);
        put(&w, 0, 2);
        w.bit = 0;
        put(&w, wsize, 16);
        put(&w, ~wsize & 0xffffu, 16);
        for (unsigned i = 0; i < wsize; i++) {
            uint8_t c = (uint8_t)test_rand(&seed);
            put(&w, c, 8);
            ref[rn++] = c;
        }
        put(&w, 1, 1);
        put(&w, 1, 2);
        unsigned dists[200], nd = 0;
        for (unsigned d = 1; d <= 40; d++)
            dists[nd++] = d;
        for (unsigned d = wsize - 39; d <= wsize; d++)
            dists[nd++] = d;
        for (unsigned dc = 0; dc < 30; dc++) {
            unsigned lo = wsx__dfl_dist_base[dc], hi = lo + (1u << wsx__dfl_dist_extra[dc]) - 1;
            if (lo <= wsize)
                dists[nd++] = lo;
            if (hi <= wsize)
                dists[nd++] = hi;
        }
        static const unsigned lens[] = {3, 10, 258};
        for (int rep = 0; rep < 3; rep++) {
            for (unsigned i = 0; i < nd; i++) {
                match(&w, ref, &rn, lens[(i + (unsigned)rep) % 3], dists[i]);
                literal(&w, ref, &rn, (uint8_t)i);
            }
        }
        bits_out bad = {0};
        bad.b = malloc(w.n + 64);
        memcpy(bad.b, w.b, w.n);
        bad.n = w.n;
        bad.cap = w.n + 64;
        bad.bit = w.bit;
        fixed_sym(&w, 256);
        check_stream(w.b, w.n, wbits, ref, rn, 0);
        if (wbits < 15) {
            size_t bn = rn;
            match(&bad, ref, &bn, 3, wsize + 1);
            fixed_sym(&bad, 256);
            check_stream(bad.b, bad.n, wbits, ref, rn, WSX_EPROTO);
        }
        free(bad.b);
        free(w.b);
        free(ref);
    }
}

int main(void)
{
    RUN(test_every_length);
    RUN(test_refused);
    RUN(test_every_match_length);
    RUN(test_window_edges);
    return test_summary("inflate_tables");
}
