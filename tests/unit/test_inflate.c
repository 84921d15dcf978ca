/* test_inflate.c - wsx's DEFLATE codec without zlib: known streams (RFC
 * 1951, RFC 7692 §7.2.3), a table of corrupt streams, window and
 * distance bounds for every window size, compression bombs, splits down
 * to one byte, guard pages, failing allocators, length-limited Huffman
 * codes, and deflate -> inflate round trips at every level and window. */
#include "dfl_tables.h"
#include "huff_encode.h"
#include "deflate_bits.h"
#include "test.h"
#include "wsx_deflate.h"

/* ---- helpers --------------------------------------------------------- */

typedef struct sink {
    uint8_t *p;
    size_t n, cap;
    size_t max_chunk; /* largest piece emit received */
    long calls;
    int fail_at;      /* return -42 from this call (1-based), 0 never */
} sink;

static int sink_put(void *ctx, const uint8_t *p, size_t n)
{
    sink *s = ctx;
    if (s->fail_at && ++s->calls == s->fail_at)
        return -42;
    if (n > s->max_chunk)
        s->max_chunk = n;
    if (s->n + n > s->cap) {
        s->cap = (s->n + n) * 2 + 64;
        s->p = realloc(s->p, s->cap);
    }
    memcpy(s->p + s->n, p, n);
    s->n += n;
    return 0;
}

/* Counts without storing: for outputs too large to keep. */
static int count_put(void *ctx, const uint8_t *p, size_t n)
{
    uint64_t *c = ctx;
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return -99; /* bombs here decode to zeros only */
    *c += n;
    return 0;
}

/* wsx_inflater_run, with 1 for a finished stream as the checks read it. */
static int inflate_run(wsx_inflater *s, const uint8_t *in, size_t n, size_t *used,
                       wsx_emit_fn emit, void *ctx)
{
    int r = wsx_inflater_run(s, in, n, used, emit, ctx);
    return r ? r : wsx_inflater_finished(s);
}

static wsx_allocator plain_alloc(void)
{
    static test_alloc t;
    return test_allocator(&t);
}

enum { WHOLE, BYTES, RANDOM, NSPLIT };

/* Inflate in[0..n) at wbits fed whole, one byte at a time or in random
 * pieces. Returns the last result (1 end, 0 more, <0 error); *used is the
 * input the stream took. */
static int inflate_split(const uint8_t *in, size_t n, int wbits, int split,
                         uint64_t seed, sink *out, size_t *used)
{
    wsx_allocator a = plain_alloc();
    wsx_inflater *s = wsx_inflater_new(&a, wbits);
    size_t off = 0, u = 0;
    int r = 0;
    if (!s)
        return WSX_ENOMEM;
    do {
        size_t k = n - off;
        if (split == BYTES && k > 1)
            k = 1;
        else if (split == RANDOM && k > 1)
            k = 1 + (size_t)(test_rand(&seed) % (k < 300 ? k : 300));
        r = inflate_run(s, in + off, k, &u, sink_put, out);
        if (r != 0) {
            if (r == 1)
                off += u;
            break;
        }
        off += k;
    } while (off < n);
    if (used)
        *used = off;
    wsx_inflater_free(s);
    return r;
}

/* A match in a fixed block: length 3..10 (symbols 257..264, no extra
 * bits) and any distance 1..32768. */
static void fixed_match(bits_out *w, unsigned len, unsigned dist)
{
    fixed_sym(w, 257 + len - 3);
    unsigned dc = wsx__dfl_dist_code(dist);
    put_code(w, dc, 5);
    put(w, dist - wsx__dfl_dist_base[dc], wsx__dfl_dist_extra[dc]);
}

/* Canonical codes for lens[0..n) (independent of the library's). */
static void canon(const uint8_t *lens, unsigned n, uint16_t *codes)
{
    unsigned count[16] = {0}, next[16] = {0}, c = 0;
    for (unsigned i = 0; i < n; i++)
        count[lens[i]]++;
    count[0] = 0;
    for (unsigned l = 1; l < 16; l++)
        next[l] = c = (c + count[l - 1]) << 1;
    for (unsigned i = 0; i < n; i++)
        if (lens[i])
            codes[i] = (uint16_t)next[lens[i]]++;
}

/* A dynamic block header: clen[19] by symbol, then `seq` code-length
 * symbols (value; repeat symbols take their extra bits from ext[]). */
static void dyn_header(bits_out *w, bool final, unsigned nlen, unsigned ndist,
                       const uint8_t clen[19], const uint8_t *seq,
                       const uint8_t *ext, size_t nseq)
{
    uint16_t cc[19];
    canon(clen, 19, cc);
    put(w, final, 1);
    put(w, 2, 2);
    put(w, nlen - 257, 5);
    put(w, ndist - 1, 5);
    put(w, 19 - 4, 4);
    for (unsigned i = 0; i < 19; i++)
        put(w, clen[wsx__dfl_clen_order[i]], 3);
    for (size_t i = 0; i < nseq; i++) {
        put_code(w, cc[seq[i]], clen[seq[i]]);
        if (seq[i] >= 16)
            put(w, ext[i], seq[i] == 16 ? 2 : seq[i] == 17 ? 3 : 7);
    }
}

/* Code lengths with the flat clen code (0..15 four bits each). */
static const uint8_t flat_clen[19] = {4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
                                      4, 4, 4, 4, 4, 4, 0, 0, 0};

/* A dynamic block with the given literal/length and distance lengths,
 * sent with the flat code-length code. */
static void dyn_block(bits_out *w, bool final, const uint8_t *llen, unsigned nlen,
                      const uint8_t *dlen, unsigned ndist)
{
    uint8_t seq[320] = {0}, ext[320] = {0};
    memcpy(seq, llen, nlen);
    memcpy(seq + nlen, dlen, ndist);
    dyn_header(w, final, nlen, ndist, flat_clen, seq, ext, nlen + ndist);
}

/* ---- known streams --------------------------------------------------- */

static void test_known(void)
{
    static const uint8_t fixed_hello[] = {0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
    static const uint8_t stored_hello[] = {0x01, 0x05, 0x00, 0xfa, 0xff,
                                           0x48, 0x65, 0x6c, 0x6c, 0x6f};
    /* RFC 7692 §7.2.3.5: two blocks in one message, trailer appended. */
    static const uint8_t two_blocks[] = {0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff,
                                         0xca, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff,
                                         0xff, 0x03, 0x00};
    static const uint8_t empty_final[] = {0x03, 0x00};
    /* zlib level 9, raw, of the text built below: a dynamic block. */
    static const uint8_t dynamic[] = {
        0xed, 0xd2, 0xb9, 0x11, 0x80, 0x30, 0x0c, 0x44, 0xd1, 0x56, 0xb6, 0x02, 0x86, 0x3b,
        0xa1, 0x0d, 0x1a, 0xe0, 0x30, 0x60, 0x2e, 0x81, 0xc1, 0xe6, 0xa8, 0x1e, 0x15, 0x40,
        0xaa, 0x19, 0x02, 0x62, 0x7d, 0xbd, 0x68, 0xf3, 0x4e, 0x61, 0xb5, 0xba, 0x1a, 0x50,
        0x1a, 0x3a, 0x66, 0x34, 0x74, 0xc2, 0x47, 0x6f, 0xa7, 0x65, 0x03, 0x39, 0x65, 0xb0,
        0x73, 0x30, 0x16, 0xf7, 0x85, 0x9a, 0xda, 0x0c, 0x4b, 0xc1, 0xe5, 0x74, 0xa1, 0xe4,
        0xec, 0xd0, 0x7b, 0x87, 0x46, 0x3b, 0xc5, 0xa7, 0x5b, 0xcd, 0x18, 0xf5, 0x6a, 0xc9,
        0xf0, 0x6f, 0xbb, 0x79, 0xc8, 0x5f, 0xdc, 0x40, 0xc8, 0x0d, 0x85, 0xdc, 0x48, 0xc8,
        0x8d, 0x85, 0xdc, 0x44, 0xc8, 0x4d, 0x85, 0xdc, 0x7f, 0x67, 0xdf, 0xdf, 0xd9, 0x03};
    char text[2048];
    size_t tl = 0;
    for (int i = 0; i < 12; i++)
        tl += (size_t)sprintf(text + tl,
                              "The quick brown fox %d jumps over the lazy dog; pack my "
                              "box with five dozen liquor jugs. ",
                              i % 7);
    struct {
        const uint8_t *in;
        size_t n;
        const char *out;
        size_t out_len;
    } cases[] = {
        {fixed_hello, sizeof fixed_hello, "Hello", 5},
        {stored_hello, sizeof stored_hello, "Hello", 5},
        {two_blocks, sizeof two_blocks, "Hello", 5},
        {empty_final, sizeof empty_final, "", 0},
        {dynamic, sizeof dynamic, text, tl},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int split = 0; split < NSPLIT; split++) {
            for (int wbits = c == 4 ? 11 : 8; wbits <= 15; wbits += c == 4 ? 4 : 7) {
                sink out = {0};
                size_t used = 0;
                int r = inflate_split(cases[c].in, cases[c].n, wbits, split, c + 1, &out,
                                      &used);
                CHECK_EQ(r, 1);
                CHECK_EQ(used, cases[c].n);
                CHECK_EQ(out.n, cases[c].out_len);
                CHECK(out.n == cases[c].out_len && (!out.n || !memcmp(out.p, cases[c].out, out.n)));
                free(out.p);
            }
        }
        /* Whole input ending at a PROT_NONE page: no over-read. */
        test_guard g = test_guard_copy(cases[c].in, cases[c].n);
        sink out = {0};
        CHECK_EQ(inflate_split(g.data, cases[c].n, 15, WHOLE, 0, &out, NULL), 1);
        CHECK_EQ(out.n, cases[c].out_len);
        test_guard_free(&g);
        free(out.p);
    }
    /* Bytes after the final block are not taken. */
    uint8_t tail[sizeof fixed_hello + 3];
    memcpy(tail, fixed_hello, sizeof fixed_hello);
    memset(tail + sizeof fixed_hello, 0xab, 3);
    sink out = {0};
    size_t used = 0;
    CHECK_EQ(inflate_split(tail, sizeof tail, 15, WHOLE, 0, &out, &used), 1);
    CHECK_EQ(used, sizeof fixed_hello);
    free(out.p);
}

/* ---- corrupt streams ------------------------------------------------- */

typedef void (*build_fn)(bits_out *w);

static void bad_btype(bits_out *w)
{
    put(w, 1, 1);
    put(w, 3, 2);
}
static void bad_nlen(bits_out *w)
{
    static const uint8_t b[] = {0x01, 0x05, 0x00, 0xfa, 0xfe, 'H', 'e', 'l', 'l', 'o'};
    for (size_t i = 0; i < sizeof b; i++)
        put(w, b[i], 8);
}
static void bad_lit286(bits_out *w)
{
    put(w, 1, 1);
    put(w, 1, 2);
    fixed_sym(w, 'a');
    fixed_sym(w, 286);
}
static void bad_lit287(bits_out *w)
{
    put(w, 1, 1);
    put(w, 1, 2);
    fixed_sym(w, 287);
}
static void bad_dist30(bits_out *w)
{
    put(w, 1, 1);
    put(w, 1, 2);
    fixed_sym(w, 'a');
    fixed_sym(w, 257);
    put_code(w, 30, 5);
}
static void bad_dist31(bits_out *w)
{
    put(w, 1, 1);
    put(w, 1, 2);
    fixed_sym(w, 'a');
    fixed_sym(w, 257);
    put_code(w, 31, 5);
}
static void bad_before_start(bits_out *w)
{
    put(w, 1, 1);
    put(w, 1, 2);
    fixed_sym(w, 'a');
    fixed_match(w, 3, 2); /* only one byte of output so far */
}
static void bad_first_match(bits_out *w)
{
    put(w, 1, 1);
    put(w, 1, 2);
    fixed_match(w, 3, 1);
}
static void bad_hlit(bits_out *w)
{
    put(w, 1, 1);
    put(w, 2, 2);
    put(w, 287 - 257, 5);
    put(w, 0, 5);
    put(w, 0, 4);
}
static void bad_hdist(bits_out *w)
{
    put(w, 1, 1);
    put(w, 2, 2);
    put(w, 0, 5);
    put(w, 31 - 1, 5);
    put(w, 0, 4);
}
static void bad_clen_over(bits_out *w)
{
    uint8_t clen[19] = {0};
    clen[0] = clen[8] = clen[16] = 1; /* three codes of one bit */
    dyn_header(w, true, 257, 1, clen, NULL, NULL, 0);
    put(w, 0, 16);
}
static void bad_clen_incomplete(bits_out *w)
{
    uint8_t clen[19] = {0};
    clen[8] = 2;
    dyn_header(w, true, 257, 1, clen, NULL, NULL, 0);
    put(w, 0, 16);
}
static void bad_clen_empty(bits_out *w)
{
    uint8_t clen[19] = {0};
    dyn_header(w, true, 257, 1, clen, NULL, NULL, 0);
    put(w, 0, 16);
}
static void bad_repeat_first(bits_out *w)
{
    uint8_t clen[19] = {0}, seq[1] = {16}, ext[1] = {0};
    clen[16] = 1;
    clen[0] = clen[8] = 2;
    dyn_header(w, true, 257, 1, clen, seq, ext, 1);
}
static void bad_too_many(bits_out *w)
{
    uint8_t clen[19] = {0}, seq[2] = {18, 18}, ext[2] = {127, 127};
    clen[18] = 1;
    clen[0] = clen[8] = 2;
    dyn_header(w, true, 257, 1, clen, seq, ext, 2); /* 276 > 258 */
}
static void bad_repeat_overflow(bits_out *w)
{
    /* 138 zeros, an 8, six repeats of it, 138 zeros: 283 > 258. */
    uint8_t clen[19] = {0}, seq[4] = {18, 8, 16, 18}, ext[4] = {127, 0, 3, 127};
    clen[18] = 1;
    clen[8] = clen[16] = 2;
    dyn_header(w, true, 257, 1, clen, seq, ext, 4);
}
static void bad_no_eob(bits_out *w)
{
    uint8_t llen[257] = {0}, dlen[1] = {1};
    llen['a'] = llen['b'] = 1;
    dyn_block(w, true, llen, 257, dlen, 1);
}
static void bad_lit_incomplete(bits_out *w)
{
    uint8_t llen[257] = {0}, dlen[1] = {1};
    llen['a'] = 2;
    llen[256] = 2; /* two codes of two bits: half the code space */
    dyn_block(w, true, llen, 257, dlen, 1);
}
static void bad_lit_over(bits_out *w)
{
    uint8_t llen[257] = {0}, dlen[1] = {1};
    llen['a'] = llen['b'] = 1;
    llen[256] = 1;
    dyn_block(w, true, llen, 257, dlen, 1);
}
static void bad_dist_incomplete(bits_out *w)
{
    uint8_t llen[258] = {0}, dlen[2] = {2, 2};
    llen['a'] = llen[256] = llen[257] = 2;
    llen['b'] = 2;
    dyn_block(w, true, llen, 258, dlen, 2);
}
static void bad_dist_missing(bits_out *w)
{
    /* One distance code (allowed), then the code that is not there. */
    uint8_t llen[258] = {0}, dlen[1] = {1};
    uint16_t lc[258];
    llen['a'] = 1;
    llen[256] = llen[257] = 2;
    canon(llen, 258, lc);
    dyn_block(w, true, llen, 258, dlen, 1);
    put_code(w, lc['a'], 1);
    put_code(w, lc['a'], 1);
    put_code(w, lc[257], 2);
    put_code(w, 1, 1); /* distance code 1 has no length */
    put(w, 0xffff, 16);
}
static void bad_dist_empty_used(bits_out *w)
{
    uint8_t llen[258] = {0}, dlen[1] = {0};
    uint16_t lc[258];
    llen['a'] = 1;
    llen[256] = llen[257] = 2;
    canon(llen, 258, lc);
    dyn_block(w, true, llen, 258, dlen, 1);
    for (int i = 0; i < 4; i++)
        put_code(w, lc['a'], 1);
    put_code(w, lc[257], 2);
    put(w, 0, 15);
}

static void test_corrupt(void)
{
    static const struct {
        const char *name;
        build_fn build;
    } cases[] = {
        {"btype 3", bad_btype},
        {"stored nlen", bad_nlen},
        {"literal 286", bad_lit286},
        {"literal 287", bad_lit287},
        {"distance 30", bad_dist30},
        {"distance 31", bad_dist31},
        {"distance before start", bad_before_start},
        {"match first", bad_first_match},
        {"hlit 287", bad_hlit},
        {"hdist 31", bad_hdist},
        {"clen over-subscribed", bad_clen_over},
        {"clen incomplete", bad_clen_incomplete},
        {"clen empty", bad_clen_empty},
        {"repeat first", bad_repeat_first},
        {"too many lengths", bad_too_many},
        {"repeat overflow", bad_repeat_overflow},
        {"no end of block", bad_no_eob},
        {"lit incomplete", bad_lit_incomplete},
        {"lit over-subscribed", bad_lit_over},
        {"dist incomplete", bad_dist_incomplete},
        {"dist code missing", bad_dist_missing},
        {"dist empty but used", bad_dist_empty_used},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        bits_out w = {0};
        cases[c].build(&w);
        for (int split = 0; split < NSPLIT; split++) {
            sink out = {0};
            int r = inflate_split(w.b, w.n, 15, split, c, &out, NULL);
            if (r != WSX_EPROTO)
                fprintf(stderr, "corrupt case '%s' split %d: %d\n", cases[c].name, split, r);
            CHECK_EQ(r, WSX_EPROTO);
            free(out.p);
        }
        free(w.b);
    }
    /* Errors are sticky until reset. */
    bits_out w = {0};
    bad_btype(&w);
    wsx_allocator a = plain_alloc();
    wsx_inflater *s = wsx_inflater_new(&a, 15);
    sink out = {0};
    static const uint8_t ok[] = {0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
    CHECK_EQ(inflate_run(s, w.b, w.n, NULL, sink_put, &out), WSX_EPROTO);
    CHECK_EQ(inflate_run(s, ok, sizeof ok, NULL, sink_put, &out), WSX_EPROTO);
    wsx_inflater_reset(s, true);
    CHECK_EQ(inflate_run(s, ok, sizeof ok, NULL, sink_put, &out), 1);
    CHECK(out.n == 5 && !memcmp(out.p, "Hello", 5));
    wsx_inflater_free(s);
    free(out.p);
    free(w.b);
}

/* Streams the RFC allows although they look odd. */
static void test_odd_valid(void)
{
    /* A single one-bit distance code and an empty distance code. */
    for (int empty = 0; empty < 2; empty++) {
        bits_out w = {0};
        uint8_t llen[258] = {0}, dlen[1] = {(uint8_t)!empty};
        uint16_t lc[258];
        llen['a'] = 1;
        llen[256] = 2;
        llen[257] = (uint8_t)(empty ? 0 : 2);
        if (empty)
            llen['b'] = 2;
        canon(llen, 258, lc);
        dyn_block(&w, true, llen, 258, dlen, 1);
        put_code(&w, lc['a'], 1);
        if (!empty) {
            put_code(&w, lc[257], 2); /* length 3, distance 1 (code 0) */
            put_code(&w, 0, 1);
        } else {
            put_code(&w, lc['b'], 2);
        }
        put_code(&w, lc[256], 2);
        for (int split = 0; split < NSPLIT; split++) {
            sink out = {0};
            CHECK_EQ(inflate_split(w.b, w.n, 15, split, 7, &out, NULL), 1);
            CHECK(empty ? out.n == 2 && !memcmp(out.p, "ab", 2)
                        : out.n == 4 && !memcmp(out.p, "aaaa", 4));
            free(out.p);
        }
        free(w.b);
    }
    /* A code-length repeat may run from the literal lengths into the
     * distance lengths (RFC 1951 §3.2.7): 16 repeats lens[255] = 2 into
     * lens[256] (end of block) and distance codes 0 and 1. */
    bits_out w = {0};
    uint8_t clen[19] = {0};
    static const uint8_t seq[8] = {18, 1, 18, 18, 2, 16, 2, 2};
    static const uint8_t ext[8] = {97 - 11, 0, 138 - 11, 19 - 11, 0, 0, 0, 0};
    clen[1] = clen[2] = clen[16] = clen[18] = 2;
    dyn_header(&w, true, 257, 4, clen, seq, ext, 8);
    put_code(&w, 0, 1);    /* 'a' */
    put_code(&w, 0, 1);    /* 'a' */
    put_code(&w, 2, 2);    /* 255 */
    put_code(&w, 3, 2);    /* end of block */
    sink out = {0};
    CHECK_EQ(inflate_split(w.b, w.n, 15, WHOLE, 0, &out, NULL), 1);
    CHECK(out.n == 3 && !memcmp(out.p, "aa\xff", 3));
    free(out.p);
    free(w.b);
}

/* ---- window bounds --------------------------------------------------- */

/* A stored block of n bytes (not final), then a fixed block with one
 * match of length 3 at distance dist. */
static size_t window_stream(uint8_t *buf, size_t n, unsigned dist, uint64_t *seed)
{
    buf[0] = 0x00;
    buf[1] = (uint8_t)n;
    buf[2] = (uint8_t)(n >> 8);
    buf[3] = (uint8_t)~n;
    buf[4] = (uint8_t)(~n >> 8);
    for (size_t i = 0; i < n; i++)
        buf[5 + i] = (uint8_t)test_rand(seed);
    bits_out w = {0};
    put(&w, 1, 1);
    put(&w, 1, 2);
    fixed_match(&w, 3, dist);
    fixed_sym(&w, 256);
    memcpy(buf + 5 + n, w.b, w.n);
    n += 5 + w.n;
    free(w.b);
    return n;
}

static void test_window(void)
{
    static uint8_t buf[40000];
    uint64_t seed = 99;
    for (int wbits = 8; wbits <= 15; wbits++) {
        unsigned w = 1u << wbits;
        for (int far = 0; far < 2; far++) {
            if (far && wbits == 15)
                continue; /* 32769 has no distance code */
            size_t n = window_stream(buf, w + 10, w + (unsigned)far, &seed);
            for (int split = 0; split < NSPLIT; split++) {
                sink out = {0};
                int r = inflate_split(buf, n, wbits, split, (uint64_t)wbits, &out, NULL);
                CHECK_EQ(r, far ? WSX_EPROTO : 1);
                if (!far) {
                    CHECK_EQ(out.n, w + 13);
                    CHECK(out.n == w + 13 && !memcmp(out.p + w + 10, out.p + 10, 3));
                    CHECK(out.max_chunk <= w); /* emitted from the window */
                }
                free(out.p);
            }
        }
    }
    /* Context takeover: a second stream may refer to the first one's
     * output only when the window was kept. */
    static const uint8_t first[] = {0x00, 0x03, 0x00, 0xfc, 0xff, 'a', 'b', 'c'};
    bits_out m = {0};
    put(&m, 1, 1);
    put(&m, 1, 2);
    fixed_match(&m, 3, 3);
    fixed_sym(&m, 256);
    for (int keep = 0; keep < 2; keep++) {
        wsx_allocator a = plain_alloc();
        wsx_inflater *s = wsx_inflater_new(&a, 9);
        sink out = {0};
        CHECK_EQ(inflate_run(s, first, sizeof first, NULL, sink_put, &out), 0);
        wsx_inflater_reset(s, keep);
        CHECK_EQ(inflate_run(s, m.b, m.n, NULL, sink_put, &out), keep ? 1 : WSX_EPROTO);
        CHECK(!keep || (out.n == 6 && !memcmp(out.p, "abcabc", 6)));
        wsx_inflater_free(s);
        free(out.p);
    }
    free(m.b);
}

/* ---- bombs and limits ------------------------------------------------ */

/* RFC 1951 lets a 2-bit symbol pair stand for 258 bytes: literal 0, then
 * length 258 / distance 1 forever, each as a one-bit code. The body is
 * all zero bytes: 1 GiB of output is about 1 MiB of input. */
static size_t bomb_header(uint8_t *buf)
{
    bits_out w = {0};
    uint8_t llen[286] = {0}, dlen[1] = {1};
    uint16_t lc[286];
    llen[285] = 1;
    llen[0] = llen[256] = 2;
    canon(llen, 286, lc);
    dyn_block(&w, false, llen, 286, dlen, 1);
    put_code(&w, lc[0], 2);
    /* Pad the header with matches up to a byte boundary: every match is
     * "0" then "0". */
    while (w.bit)
        put(&w, 0, 1);
    memcpy(buf, w.b, w.n);
    size_t n = w.n;
    free(w.b);
    return n;
}

static void test_bomb(void)
{
    static uint8_t zeros[65536];
    uint8_t head[512];
    size_t hl = bomb_header(head);
    wsx_allocator a = plain_alloc();
    wsx_inflater *s = wsx_inflater_new(&a, 15);
    uint64_t got = 0;
    /* Without a limit, 16 KiB of body is 16 KiB * 8 / 2 matches of 258
     * (plus the literal and the header's padding matches). */
    const uint64_t body = 16384, want = body * 4 * 258;
    CHECK_EQ(inflate_run(s, head, hl, NULL, count_put, &got), 0);
    CHECK_EQ(inflate_run(s, zeros, body, NULL, count_put, &got), 0);
    CHECK(got >= want && got <= want + 1 + 4 * 258);
    /* With a 1 MiB limit: the first 64 KiB of a 1 GiB bomb already fail,
     * and no more than the limit was emitted. */
    wsx_inflater_reset(s, false);
    wsx_inflater_set_limit(s, 1 << 20);
    got = 0;
    CHECK_EQ(inflate_run(s, head, hl, NULL, count_put, &got), 0);
    int r = 0;
    size_t fed = 0;
    while (r == 0 && fed < (1u << 30) / 258 / 4) {
        r = inflate_run(s, zeros, sizeof zeros, NULL, count_put, &got);
        fed += sizeof zeros;
    }
    CHECK_EQ(r, WSX_ETOOBIG);
    CHECK_EQ(fed, sizeof zeros);
    CHECK(got <= 1 << 20);
    CHECK(got >= (1 << 20) - 32768);
    /* Sticky. */
    CHECK_EQ(inflate_run(s, zeros, 1, NULL, count_put, &got), WSX_ETOOBIG);
    /* Exactly the limit is fine; the count restarts at reset. */
    static const uint8_t hello[] = {0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
    sink out = {0};
    wsx_inflater_reset(s, false);
    wsx_inflater_set_limit(s, 5);
    CHECK_EQ(inflate_run(s, hello, sizeof hello, NULL, sink_put, &out), 1);
    wsx_inflater_reset(s, false);
    wsx_inflater_set_limit(s, 4);
    CHECK_EQ(inflate_run(s, hello, sizeof hello, NULL, sink_put, &out), WSX_ETOOBIG);
    /* emit's own refusal stops decoding and is returned, sticky. */
    wsx_inflater_reset(s, false);
    wsx_inflater_set_limit(s, 0);
    sink fail = {0};
    fail.fail_at = 1;
    CHECK_EQ(inflate_run(s, hello, sizeof hello, NULL, sink_put, &fail), -42);
    CHECK_EQ(inflate_run(s, hello, sizeof hello, NULL, sink_put, &fail), -42);
    CHECK_EQ(fail.n, 0);
    wsx_inflater_free(s);
    free(out.p);
}

/* ---- allocation ------------------------------------------------------ */

static void test_alloc_paths(void)
{
    for (int wbits = 7; wbits <= 16; wbits++) {
        test_alloc t = {0};
        wsx_allocator a = test_allocator(&t);
        wsx_inflater *s = wsx_inflater_new(&a, wbits);
        bool valid = wbits >= 8 && wbits <= 15;
        CHECK_EQ(s != NULL, valid);
        CHECK_EQ(wsx_inflater_mem(wbits) != 0, valid);
        if (valid)
            CHECK_EQ(t.peak_bytes, wsx_inflater_mem(wbits));
        wsx_inflater_free(s);
        CHECK_EQ(t.live, 0);
        t.fail_at = 1;
        t.calls = 0;
        CHECK(wsx_inflater_new(&a, wbits) == NULL);
        for (int level = 0; level <= 10; level += 5) {
            for (int ml = 0; ml <= 10; ml += 5) {
                test_alloc u = {0};
                wsx_allocator b = test_allocator(&u);
                wsx_deflater *d = wsx_deflater_new(&b, level, wbits, ml);
                bool ok = valid && level >= 1 && level <= 9 && ml >= 1 && ml <= 9;
                CHECK_EQ(d != NULL, ok);
                if (ok)
                    CHECK_EQ(u.peak_bytes, wsx_deflater_mem(wbits, ml));
                wsx_deflater_free(d);
                CHECK_EQ(u.live, 0);
                u.fail_at = 1;
                u.calls = 0;
                CHECK(wsx_deflater_new(&b, level, wbits, ml) == NULL);
            }
        }
    }
    CHECK(wsx_inflater_new(NULL, 15) == NULL);
    CHECK(wsx_deflater_new(NULL, 6, 15, 8) == NULL);
    wsx_inflater_free(NULL);
    wsx_deflater_free(NULL);
}

/* ---- Huffman construction -------------------------------------------- */

static void test_huffman(void)
{
    /* Fibonacci weights make the optimal code 29 bits deep: the limit
     * must fold it to 15 and keep the code complete. */
    uint32_t freq[288] = {0};
    uint8_t lens[288];
    uint32_t a = 1, b = 1;
    for (int i = 0; i < 30; i++) {
        freq[i * 9] = a;
        uint32_t c = a + b;
        a = b;
        b = c;
    }
    for (unsigned maxbits = 7; maxbits <= 15; maxbits += 8) {
        unsigned n = maxbits == 7 ? 19 : 288;
        if (maxbits == 7) {
            memset(freq, 0, sizeof freq);
            a = b = 1;
            for (int i = 0; i < 19; i++) {
                freq[i] = a;
                uint32_t c = a + b;
                a = b;
                b = c;
            }
        }
        wsx__huff_lengths(freq, n, maxbits, lens);
        uint64_t kraft = 0;
        unsigned maxlen = 0;
        for (unsigned i = 0; i < n; i++) {
            CHECK_EQ(lens[i] != 0, freq[i] != 0);
            if (lens[i])
                kraft += (uint64_t)1 << (maxbits - lens[i]);
            if (lens[i] > maxlen)
                maxlen = lens[i];
        }
        CHECK_EQ(kraft, (uint64_t)1 << maxbits);
        CHECK_EQ(maxlen, maxbits);
    }
    /* One used symbol still gets a two-symbol code; none gets two. */
    memset(freq, 0, sizeof freq);
    freq[5] = 10;
    wsx__huff_lengths(freq, 30, 15, lens);
    CHECK(lens[5] == 1 && lens[0] == 1);
    memset(freq, 0, sizeof freq);
    wsx__huff_lengths(freq, 30, 15, lens);
    CHECK(lens[0] == 1 && lens[1] == 1 && lens[2] == 0);
    /* Canonical codes, RFC 1951 §3.2.2's example: lengths 3,3,3,3,3,2,4,4
     * give 010,011,100,101,110,00,1110,1111 (here bit-reversed). */
    static const uint8_t ex[8] = {3, 3, 3, 3, 3, 2, 4, 4};
    static const uint16_t want[8] = {2, 3, 4, 5, 6, 0, 14, 15};
    uint16_t codes[8];
    wsx__huff_codes(ex, 8, codes);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(codes[i], wsx__dfl_bitrev(want[i], ex[i]));
}

/* ---- deflate -> inflate round trips ---------------------------------- */

static void fill(uint8_t *p, size_t n, int kind, uint64_t *seed)
{
    static const char *words[] = {"alpha", "beta", "gamma", "delta", "omega",
                                  "{\"id\":", "\"name\":", "}, ", "\n", " the "};
    size_t i = 0;
    switch (kind) {
    case 0: /* random */
        for (; i < n; i++)
            p[i] = (uint8_t)test_rand(seed);
        break;
    case 1: /* text-like */
        while (i < n) {
            const char *w = words[test_rand(seed) % 10];
            for (; *w && i < n; w++)
                p[i++] = (uint8_t)*w;
        }
        break;
    case 2: /* runs */
        while (i < n) {
            uint8_t c = (uint8_t)(test_rand(seed) % 4);
            size_t r = 1 + test_rand(seed) % 600;
            for (; r-- && i < n;)
                p[i++] = c;
        }
        break;
    default: /* a period that never fits a small window */
        for (; i < n; i++)
            p[i] = (uint8_t)((i % 1021) * 7 + (i % 1021) / 13);
        break;
    }
}

/* Deflate `in` in random pieces with the given flush between pieces and
 * a final flush, collect the output. Returns 0 or the error. */
static int deflate_split(wsx_deflater *d, const uint8_t *in, size_t n, wsx_flush mid,
                         wsx_flush last, uint64_t *seed, sink *out)
{
    size_t off = 0;
    while (off < n) {
        size_t k = 1 + (size_t)(test_rand(seed) % (n - off < 70000 ? n - off : 70000));
        int r = wsx_deflater_run(d, in + off, k, mid, sink_put, out);
        if (r)
            return r;
        off += k;
    }
    return wsx_deflater_run(d, NULL, 0, last, sink_put, out);
}

static void test_roundtrip(void)
{
    uint64_t seed = 12345;
    size_t cap = 200000;
    uint8_t *data = malloc(cap);
    int cases = 0;
    for (int wbits = 8; wbits <= 15; wbits++) {
        for (int level = 1; level <= 9; level++) {
            int kind = (wbits + level) % 4;
            size_t n = (size_t)(test_rand(&seed) % cap);
            if ((level + wbits) % 5 == 0)
                n = (size_t)(test_rand(&seed) % 40); /* tiny inputs too */
            fill(data, n, kind, &seed);
            wsx_allocator a = plain_alloc();
            wsx_deflater *d = wsx_deflater_new(&a, level, wbits, 1 + (level + wbits) % 9);
            sink z = {0};
            wsx_flush mid = (level % 3) == 0 ? WSX_FLUSH_SYNC : WSX_FLUSH_NONE;
            CHECK_EQ(deflate_split(d, data, n, mid, WSX_FLUSH_FINISH, &seed, &z), 0);
            /* Decoding with a window of exactly 2^wbits rejects any
             * distance beyond it: this checks the deflater's bound. */
            int split = cases++ % NSPLIT;
            if (split == BYTES && z.n > 20000)
                split = RANDOM;
            sink out = {0};
            size_t used = 0;
            int r = inflate_split(z.p, z.n, wbits, split, seed, &out, &used);
            CHECK_EQ(r, 1);
            CHECK_EQ(used, z.n);
            CHECK_EQ(out.n, n);
            CHECK(out.n == n && (!n || !memcmp(out.p, data, n)));
            /* Random data is stored (5 bytes a block; blocks end early in
             * small windows so that the bytes are still there). */
            if (kind == 0 && mid == WSX_FLUSH_NONE)
                CHECK(z.n <= n + n / 50 + 64);
            else if ((kind == 1 || kind == 2) && n > 1000)
                CHECK(z.n < n / 2);
            CHECK_EQ(wsx_deflater_run(d, data, 1, WSX_FLUSH_NONE, sink_put, &z), WSX_ESTATE);
            wsx_deflater_free(d);
            free(z.p);
            free(out.p);
        }
    }
    free(data);
}

/* Message-style use: sync flushes, the permessage-deflate flush, context
 * takeover on and off, and the deflater's sticky errors. */
static void test_flushes(void)
{
    wsx_allocator a = plain_alloc();
    static const uint8_t tr[4] = {0, 0, 0xff, 0xff};
    const char *msgs[] = {"", "a", "hello hello hello hello", "", "hello hello hello hello"};
    for (int keep = 0; keep < 2; keep++) {
        wsx_deflater *d = wsx_deflater_new(&a, 6, 8, 8);
        wsx_inflater *in = wsx_inflater_new(&a, 8);
        size_t sizes[5];
        for (int m = 0; m < 5; m++) {
            sink z = {0}, out = {0};
            size_t len = strlen(msgs[m]);
            if (m)
                wsx_deflater_reset(d, keep);
            CHECK_EQ(wsx_deflater_run(d, (const uint8_t *)msgs[m], len, WSX_FLUSH_MESSAGE,
                                      sink_put, &z),
                     0);
            sizes[m] = z.n;
            if (!len)
                CHECK(z.n == 1 && z.p[0] == 0x00); /* RFC 7692 §7.2.3.6 */
            CHECK(z.n < 4 || memcmp(z.p + z.n - 4, tr, 4) != 0);
            if (!keep)
                wsx_inflater_reset(in, false);
            CHECK_EQ(inflate_run(in, z.p, z.n, NULL, sink_put, &out), 0);
            CHECK_EQ(inflate_run(in, tr, 4, NULL, sink_put, &out), 0);
            CHECK(wsx_inflater_at_boundary(in));
            CHECK(out.n == len && (!len || !memcmp(out.p, msgs[m], len)));
            free(z.p);
            free(out.p);
        }
        /* The repeated message is smaller with the window kept. */
        if (keep)
            CHECK(sizes[4] < sizes[2]);
        else
            CHECK_EQ(sizes[4], sizes[2]);
        wsx_deflater_free(d);
        wsx_inflater_free(in);
    }
    /* A sync flush ends in 00 00 ff ff and leaves the stream open. */
    wsx_deflater *d = wsx_deflater_new(&a, 1, 15, 8);
    sink z = {0};
    CHECK_EQ(wsx_deflater_run(d, (const uint8_t *)"abcabcabc", 9, WSX_FLUSH_SYNC, sink_put, &z),
             0);
    CHECK(z.n > 4 && !memcmp(z.p + z.n - 4, tr, 4));
    CHECK_EQ(wsx_deflater_run(d, NULL, 0, (wsx_flush)7, sink_put, &z), WSX_EINVAL);
    /* emit's error is returned and sticky until reset. */
    sink f = {0};
    f.fail_at = 1;
    CHECK_EQ(wsx_deflater_run(d, (const uint8_t *)"x", 1, WSX_FLUSH_SYNC, sink_put, &f), -42);
    CHECK_EQ(wsx_deflater_run(d, (const uint8_t *)"x", 1, WSX_FLUSH_SYNC, sink_put, &z), -42);
    wsx_deflater_reset(d, false);
    CHECK_EQ(wsx_deflater_run(d, (const uint8_t *)"x", 1, WSX_FLUSH_SYNC, sink_put, &z), 0);
    wsx_deflater_free(d);
    free(z.p);
    free(f.p);
}

/* RFC 1951 §3.2.5: each length and distance maps to the code whose base
 * and extra bits cover it (258 has code 285 to itself). */
static void test_code_tables(void)
{
    for (unsigned len = 3; len <= 258; len++) {
        unsigned lc = wsx__dfl_len_code(len);
        CHECK(lc < 29);
        CHECK(len >= wsx__dfl_len_base[lc]);
        CHECK(len - wsx__dfl_len_base[lc] < (1u << wsx__dfl_len_extra[lc]));
        CHECK_EQ(lc == 28, len == 258);
    }
    for (unsigned dist = 1; dist <= 32768; dist++) {
        unsigned dc = wsx__dfl_dist_code(dist);
        if (dc >= 30 || dist < wsx__dfl_dist_base[dc] ||
            dist - wsx__dfl_dist_base[dc] >= (1u << wsx__dfl_dist_extra[dc]))
            CHECK(!"distance code");
    }
}

int main(void)
{
    RUN(test_code_tables);
    RUN(test_known);
    RUN(test_corrupt);
    RUN(test_odd_valid);
    RUN(test_window);
    RUN(test_bomb);
    RUN(test_alloc_paths);
    RUN(test_huffman);
    RUN(test_roundtrip);
    RUN(test_flushes);
    return test_summary("inflate");
}
