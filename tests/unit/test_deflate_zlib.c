/* test_deflate_zlib.c - wsx's DEFLATE codec against zlib as the oracle
 * (zlib is linked into this test only): zlib's raw streams at every level,
 * strategy, window and flush decoded byte-exact by wsx in any split, wsx's
 * streams at every level and window (8 included) decoded by zlib, random
 * round trips, a zlib-made bomb under a limit, and the compression ratio
 * against zlib level 6 on JSON. */
#include <zlib.h>

#include "test.h"
#include "wsx_deflate.h"

typedef struct sink {
    uint8_t *p;
    size_t n, cap;
} sink;

static int sink_put(void *ctx, const uint8_t *p, size_t n)
{
    sink *s = ctx;
    if (s->n + n > s->cap) {
        s->cap = (s->n + n) * 2 + 64;
        s->p = realloc(s->p, s->cap);
    }
    memcpy(s->p + s->n, p, n);
    s->n += n;
    return 0;
}

/* wsx_inflater_run, with 1 for a finished stream as the checks read it. */
static int inflate_run(wsx_inflater *s, const uint8_t *in, size_t n, size_t *used,
                       wsx_emit_fn emit, void *ctx)
{
    int r = wsx_inflater_run(s, in, n, used, emit, ctx);
    return r ? r : wsx_inflater_finished(s);
}

static wsx_allocator alloc(void)
{
    static test_alloc t;
    return test_allocator(&t);
}

/* ---- corpora --------------------------------------------------------- */

enum { TEXT, JSON, RANDOM, REPEAT, NCORPUS };
static const char *corpus_name[NCORPUS] = {"text", "json", "random", "repeat"};

static size_t make_corpus(uint8_t *p, size_t cap, int kind, uint64_t seed)
{
    static const char *words[] = {
        "the", "of", "and", "to", "in", "is", "was", "that", "for", "it", "with",
        "as", "his", "on", "be", "at", "by", "had", "are", "but", "from", "or",
        "have", "an", "they", "which", "one", "you", "were", "all", "we", "her",
        "she", "there", "would", "their", "will", "when", "who", "him", "been",
        "has", "more", "if", "no", "out", "so", "what", "up", "can", "about",
        "into", "them", "than", "only", "other", "new", "some", "could", "time",
        "these", "two", "may", "first", "then", "do", "any", "like", "my", "now",
        "over", "such", "our", "man", "me", "even", "most", "made", "after",
        "also", "did", "many", "before", "must", "through", "back", "years",
        "where", "much", "your", "way", "well", "down", "should", "because",
        "each", "just", "those", "people", "websocket", "deflate", "window"};
    static const char *tags[] = {"alpha", "beta", "gamma", "delta", "prod", "dev",
                                 "eu", "us", "edge", "core"};
    size_t n = 0;
    char rec[512];
    switch (kind) {
    case TEXT:
        while (n + 32 < cap) {
            const char *w = words[test_rand(&seed) % (sizeof words / sizeof *words)];
            size_t l = strlen(w);
            memcpy(p + n, w, l);
            n += l;
            uint64_t r = test_rand(&seed) % 20;
            p[n++] = r == 0 ? '.' : r == 1 ? ',' : r == 2 ? '\n' : ' ';
            if (r < 2)
                p[n++] = ' ';
        }
        break;
    case JSON:
        p[n++] = '[';
        for (int i = 0; n + sizeof rec < cap; i++) {
            int l = snprintf(
                rec, sizeof rec,
                "{\"id\":%d,\"name\":\"user%u\",\"email\":\"u%u@example.com\","
                "\"active\":%s,\"score\":%u.%03u,\"tags\":[\"%s\",\"%s\"],"
                "\"created\":\"2024-%02u-%02uT%02u:%02u:00Z\"},\n",
                i, (unsigned)(test_rand(&seed) % 5000), (unsigned)(test_rand(&seed) % 99999),
                test_rand(&seed) % 2 ? "true" : "false", (unsigned)(test_rand(&seed) % 1000),
                (unsigned)(test_rand(&seed) % 1000), tags[test_rand(&seed) % 10],
                tags[test_rand(&seed) % 10], (unsigned)(1 + test_rand(&seed) % 12),
                (unsigned)(1 + test_rand(&seed) % 28), (unsigned)(test_rand(&seed) % 24),
                (unsigned)(test_rand(&seed) % 60));
            memcpy(p + n, rec, (size_t)l);
            n += (size_t)l;
        }
        p[n++] = ']';
        break;
    case RANDOM:
        for (; n < cap; n++)
            p[n] = (uint8_t)test_rand(&seed);
        break;
    default:
        /* Long runs, short periods and far repeats. */
        while (n < cap) {
            uint64_t r = test_rand(&seed) % 3;
            size_t len = 1 + (size_t)(test_rand(&seed) % 3000);
            if (len > cap - n)
                len = cap - n;
            for (size_t i = 0; i < len; i++)
                p[n + i] = r == 0   ? 0
                           : r == 1 ? (uint8_t)("abc"[i % 3])
                           : n > 20000 ? p[n + i - 20000]
                                       : (uint8_t)'x';
            n += len;
        }
        break;
    }
    return n;
}

/* ---- zlib helpers ---------------------------------------------------- */

/* Raw deflate with zlib. flush_every > 0 inserts `mode` flushes. */
static size_t zlib_deflate(const uint8_t *in, size_t n, uint8_t *out, size_t cap, int level,
                           int wbits, int memlevel, int strategy, size_t flush_every,
                           int mode)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, -wbits, memlevel, strategy) != Z_OK)
        return 0;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    size_t off = 0;
    while (off < n) {
        size_t k = flush_every && flush_every < n - off ? flush_every : n - off;
        z.next_in = (Bytef *)(uintptr_t)(in + off);
        z.avail_in = (uInt)k;
        off += k;
        deflate(&z, off < n && flush_every ? mode : off < n ? Z_NO_FLUSH : Z_FINISH);
    }
    if (!n) {
        z.avail_in = 0;
        deflate(&z, Z_FINISH);
    }
    size_t got = z.total_out;
    deflateEnd(&z);
    return got;
}

/* Inflate raw deflate with zlib; returns the output size or -1. */
static long zlib_inflate(const uint8_t *in, size_t n, uint8_t *out, size_t cap, int wbits,
                         int flush)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -wbits) != Z_OK)
        return -1;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int r = inflate(&z, flush);
    long got = (r == Z_STREAM_END || (flush == Z_SYNC_FLUSH && r == Z_OK)) ? (long)z.total_out : -1;
    inflateEnd(&z);
    return got;
}

/* wsx inflate of in[0..n): whole (split 0), one byte at a time (1) or in
 * random pieces (2). 1 when the stream ended and output matches want. */
static int wsx_check(const uint8_t *in, size_t n, int wbits, int split, uint64_t seed,
                     const uint8_t *want, size_t want_n, bool final)
{
    wsx_allocator a = alloc();
    wsx_inflater *s = wsx_inflater_new(&a, wbits);
    sink out = {0};
    size_t off = 0, used = 0;
    int r = 0;
    while (off < n && r == 0) {
        size_t k = n - off;
        if (split == 1)
            k = 1;
        else if (split == 2 && k > 1)
            k = 1 + (size_t)(test_rand(&seed) % (k < 5000 ? k : 5000));
        r = inflate_run(s, in + off, k, &used, sink_put, &out);
        off += r == 1 ? used : k;
    }
    bool ok = r == (final ? 1 : 0) && off == n && out.n == want_n &&
              (!want_n || !memcmp(out.p, want, want_n));
    if (!ok)
        fprintf(stderr, "  wsx inflate: r=%d off=%zu/%zu out=%zu/%zu\n", r, off, n, out.n,
                want_n);
    free(out.p);
    wsx_inflater_free(s);
    return ok;
}

static size_t wsx_deflate(const uint8_t *in, size_t n, int level, int wbits, int ml,
                          size_t piece, wsx_flush mid, wsx_flush last, sink *out)
{
    wsx_allocator a = alloc();
    wsx_deflater *d = wsx_deflater_new(&a, level, wbits, ml);
    out->n = 0;
    size_t off = 0;
    while (off < n) {
        size_t k = piece && piece < n - off ? piece : n - off;
        CHECK_EQ(wsx_deflater_run(d, in + off, k, off + k < n ? mid : WSX_FLUSH_NONE, sink_put,
                                  out),
                 0);
        off += k;
    }
    CHECK_EQ(wsx_deflater_run(d, NULL, 0, last, sink_put, out), 0);
    wsx_deflater_free(d);
    return out->n;
}

/* ---- tests ----------------------------------------------------------- */

static uint8_t *corp[NCORPUS];
static size_t corp_n[NCORPUS];
static uint8_t *zbuf, *obuf;
#define ZCAP (1u << 20)

static void test_zlib_to_wsx(void)
{
    static const int strategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE,
                                     Z_FIXED};
    uint64_t seed = 1;
    for (int c = 0; c < NCORPUS; c++) {
        for (int level = 0; level <= 9; level++) {
            for (size_t st = 0; st < sizeof strategies / sizeof *strategies; st++) {
                if (st && level != 1 && level != 6)
                    continue;
                size_t zn = zlib_deflate(corp[c], corp_n[c], zbuf, ZCAP, level, 15, 8,
                                         strategies[st], 0, 0);
                CHECK(zn > 0);
                for (int split = 0; split < 3; split++) {
                    if (split == 1 && level % 3)
                        continue; /* byte by byte on a third of the levels */
                    int ok = wsx_check(zbuf, zn, 15, split, seed++, corp[c], corp_n[c], true);
                    if (!ok)
                        fprintf(stderr, "  %s level %d strategy %zu split %d\n", corpus_name[c],
                                level, st, split);
                    CHECK(ok);
                }
            }
        }
        /* Every window zlib can make, two memory levels; zlib's 9-bit
         * streams never reach back more than 250 bytes (its window minus
         * its lookahead) so an 8-bit wsx window takes them too. */
        for (int wbits = 9; wbits <= 15; wbits++) {
            for (int ml = 1; ml <= 9; ml += 8) {
                size_t zn = zlib_deflate(corp[c], corp_n[c], zbuf, ZCAP, 6 + (wbits & 1) * 3,
                                         wbits, ml, Z_DEFAULT_STRATEGY, 0, 0);
                CHECK(wsx_check(zbuf, zn, wbits, 2, seed++, corp[c], corp_n[c], true));
                if (wbits == 9)
                    CHECK(wsx_check(zbuf, zn, 8, 2, seed++, corp[c], corp_n[c], true));
            }
        }
        /* Flushes in the middle: empty stored blocks, full flushes,
         * partial flushes (empty fixed blocks), block boundaries. */
        static const int modes[] = {Z_SYNC_FLUSH, Z_FULL_FLUSH, Z_PARTIAL_FLUSH, Z_BLOCK};
        for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
            size_t every = 1 + (size_t)(test_rand(&seed) % 3000);
            size_t zn = zlib_deflate(corp[c], corp_n[c], zbuf, ZCAP, 6, 15, 8,
                                     Z_DEFAULT_STRATEGY, every, modes[m]);
            CHECK(wsx_check(zbuf, zn, 15, 2, seed++, corp[c], corp_n[c], true));
        }
    }
    /* Tiny inputs, every level, byte by byte. */
    for (size_t n = 0; n < 6; n++) {
        for (int level = 0; level <= 9; level++) {
            size_t zn = zlib_deflate(corp[TEXT], n, zbuf, ZCAP, level, 15, 8,
                                     Z_DEFAULT_STRATEGY, 0, 0);
            CHECK(wsx_check(zbuf, zn, 15, 1, 0, corp[TEXT], n, true));
        }
    }
}

/* Matches of every short distance and of lengths around each step of
 * the inflater's copy (4- and 8-byte steps, the last step ending at the
 * match, a whole memcpy past 64 bytes), after a window's worth of other
 * bytes so that some sources wrap around the window's end: a periodic
 * tail that zlib codes as matches of that period. */
static void test_match_copies(void)
{
    static const size_t lens[] = {3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 63, 64, 65, 66,
                                  200, 257, 258, 259, 700};
    uint8_t *buf = malloc(40000);
    uint64_t seed = 5;
    long bad = 0;
    for (size_t i = 0; i < 40000; i++)
        buf[i] = (uint8_t)test_rand(&seed);
    for (size_t period = 1; period <= 300; period += period < 40 ? 1 : 23) {
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            for (size_t head = 0; head <= 32768; head += 32768 - 100) {
                size_t n = head + period + lens[li];
                for (size_t i = head + period; i < n; i++)
                    buf[i] = buf[i - period];
                size_t zn = zlib_deflate(buf, n, zbuf, ZCAP, 9, 15, 8, Z_DEFAULT_STRATEGY,
                                         0, 0);
                bad += !wsx_check(zbuf, zn, 15, 0, seed++, buf, n, true);
                for (size_t i = head + period; i < n; i++)
                    buf[i] = (uint8_t)test_rand(&seed);
            }
        }
    }
    CHECK_EQ(bad, 0);
    free(buf);
}

static void test_wsx_to_zlib(void)
{
    /* zlib 1.2.9+ inflates a raw 8-bit window, which its deflate cannot
     * make. */
    z_stream z;
    memset(&z, 0, sizeof z);
    CHECK_EQ(inflateInit2(&z, -8), Z_OK);
    inflateEnd(&z);
    sink out = {0};
    for (int c = 0; c < NCORPUS; c++) {
        for (int wbits = 8; wbits <= 15; wbits++) {
            for (int level = 1; level <= 9; level++) {
                if (wbits != 15 && level != 1 && level != 6 && level != 9)
                    continue;
                int ml = level == 9 ? 9 : level == 1 ? 1 : 8;
                size_t zn = wsx_deflate(corp[c], corp_n[c], level, wbits, ml, 0,
                                        WSX_FLUSH_NONE, WSX_FLUSH_FINISH, &out);
                long got = zlib_inflate(out.p, zn, obuf, ZCAP, wbits, Z_FINISH);
                bool ok = got == (long)corp_n[c] && !memcmp(obuf, corp[c], corp_n[c]);
                if (!ok)
                    fprintf(stderr, "  zlib rejects wsx: %s wbits %d level %d: %ld\n",
                            corpus_name[c], wbits, level, got);
                CHECK(ok);
                /* wsx's own strict inflater agrees, at the same window. */
                CHECK(wsx_check(out.p, zn, wbits, 0, 0, corp[c], corp_n[c], true));
            }
        }
        /* Input in pieces with sync flushes, then a message-style end:
         * zlib sees the flush points (and the trailer put back). */
        size_t zn = wsx_deflate(corp[c], corp_n[c], 6, 12, 8, 777, WSX_FLUSH_SYNC,
                                WSX_FLUSH_MESSAGE, &out);
        static const uint8_t tr[4] = {0, 0, 0xff, 0xff};
        sink_put(&out, tr, 4);
        long got = zlib_inflate(out.p, zn + 4, obuf, ZCAP, 12, Z_SYNC_FLUSH);
        CHECK(got == (long)corp_n[c] && !memcmp(obuf, corp[c], corp_n[c]));
    }
    free(out.p);
}

static void test_random_roundtrips(void)
{
    uint64_t seed = 77;
    sink out = {0};
    uint8_t *data = malloc(70000);
    for (int i = 0; i < 150; i++) {
        int kind = (int)(test_rand(&seed) % NCORPUS);
        size_t n = (size_t)(test_rand(&seed) % 65536);
        if (i % 4 == 0)
            n %= 300;
        size_t off = corp_n[kind] > n ? (size_t)(test_rand(&seed) % (corp_n[kind] - n)) : 0;
        if (n > corp_n[kind])
            n = corp_n[kind];
        memcpy(data, corp[kind] + off, n);
        int level = 1 + (int)(test_rand(&seed) % 9), wbits = 8 + (int)(test_rand(&seed) % 8);
        int ml = 1 + (int)(test_rand(&seed) % 9);
        size_t piece = (size_t)(test_rand(&seed) % 5000);
        size_t zn = wsx_deflate(data, n, level, wbits, ml, piece, WSX_FLUSH_NONE,
                                WSX_FLUSH_FINISH, &out);
        long got = zlib_inflate(out.p, zn, obuf, ZCAP, wbits, Z_FINISH);
        CHECK(got == (long)n && (!n || !memcmp(obuf, data, n)));
        int zw = wbits < 9 ? 9 : wbits;
        zn = zlib_deflate(data, n, zbuf, ZCAP, level, zw, ml, Z_DEFAULT_STRATEGY, 0, 0);
        CHECK(wsx_check(zbuf, zn, wbits, 2, seed, data, n, true));
    }
    free(data);
    free(out.p);
}

static void test_zlib_bomb(void)
{
    /* 8 MiB of zeros: zlib makes about 8 KiB of it. */
    size_t n = 8u << 20;
    uint8_t *zeros = calloc(1, n);
    size_t zn = zlib_deflate(zeros, n, zbuf, ZCAP, 9, 15, 9, Z_DEFAULT_STRATEGY, 0, 0);
    CHECK(zn < 16384);
    wsx_allocator a = alloc();
    wsx_inflater *s = wsx_inflater_new(&a, 15);
    sink out = {0};
    wsx_inflater_set_limit(s, 1 << 20);
    size_t used = 0, off = 0;
    int r = 0;
    for (; off < zn && r == 0; off += 256)
        r = inflate_run(s, zbuf + off, zn - off < 256 ? zn - off : 256, &used, sink_put, &out);
    CHECK_EQ(r, WSX_ETOOBIG);
    CHECK(out.n <= 1 << 20);
    CHECK(off < zn / 4); /* stopped early in the input */
    wsx_inflater_reset(s, false);
    wsx_inflater_set_limit(s, n);
    out.n = 0;
    CHECK_EQ(inflate_run(s, zbuf, zn, &used, sink_put, &out), 1);
    CHECK(out.n == n && !memcmp(out.p, zeros, n));
    wsx_inflater_free(s);
    free(out.p);
    free(zeros);
}

static void test_ratio(void)
{
    sink out = {0};
    printf("size of %zu bytes of JSON / text (wbits 15, memlevel 8):\n", corp_n[JSON]);
    for (int level = 1; level <= 9; level++) {
        size_t zj = zlib_deflate(corp[JSON], corp_n[JSON], zbuf, ZCAP, level, 15, 8,
                                 Z_DEFAULT_STRATEGY, 0, 0);
        size_t wj = wsx_deflate(corp[JSON], corp_n[JSON], level, 15, 8, 0, WSX_FLUSH_NONE,
                                WSX_FLUSH_FINISH, &out);
        size_t zt = zlib_deflate(corp[TEXT], corp_n[TEXT], zbuf, ZCAP, level, 15, 8,
                                 Z_DEFAULT_STRATEGY, 0, 0);
        size_t wt = wsx_deflate(corp[TEXT], corp_n[TEXT], level, 15, 8, 0, WSX_FLUSH_NONE,
                                WSX_FLUSH_FINISH, &out);
        printf("  level %d: json zlib %zu wsx %zu (%.3f), text zlib %zu wsx %zu (%.3f)\n",
               level, zj, wj, (double)wj / (double)zj, zt, wt, (double)wt / (double)zt);
        /* The goal: within 10% of zlib at the same level. */
        CHECK(wj * 10 <= zj * 11);
        CHECK(wt * 10 <= zt * 11);
    }
    free(out.p);
}

int main(void)
{
    static const size_t sizes[NCORPUS] = {200000, 200000, 50000, 150000};
    for (int c = 0; c < NCORPUS; c++) {
        corp[c] = malloc(sizes[c]);
        corp_n[c] = make_corpus(corp[c], sizes[c], c, 1000 + (uint64_t)c);
    }
    zbuf = malloc(ZCAP);
    obuf = malloc(ZCAP);
    RUN(test_zlib_to_wsx);
    RUN(test_match_copies);
    RUN(test_wsx_to_zlib);
    RUN(test_random_roundtrips);
    RUN(test_zlib_bomb);
    RUN(test_ratio);
    for (int c = 0; c < NCORPUS; c++)
        free(corp[c]);
    free(zbuf);
    free(obuf);
    return test_summary("deflate_zlib");
}
