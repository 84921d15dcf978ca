/* bench_deflate.c - throughput of wsx's DEFLATE codec against zlib (the
 * only user of -lz besides the zlib test) and, when built with
 * -DWSX_BENCH_LIBDEFLATE -ldeflate (the bench Makefile does so where
 * libdeflate.h is installed), libdeflate, on generated JSON and English-
 * like text: compress at levels 1 and 6, decompress zlib-6 output. MB/s
 * count uncompressed bytes. A micro-benchmark: never part of make test.
 *   cc -O2 -Iinclude tests/bench/bench_deflate.c BUILD/libwsx.a -lz
 *   ./a.out [MiB of each corpus, default 8]
 *   ./a.out once wsx|wsx-baseline|zlib|libdeflate deflate1|deflate6|inflate json|text
 * The last form runs one operation on 1 MiB in the function `once`, for
 * callgrind's --toggle-collect (callgrind_deflate.sh), and prints the
 * compressed/original ratio; it exits 1 if the data does not round-trip,
 * 2 for a codec not built in. wsx-baseline inflates with the fast loop
 * built for the baseline x86-64 (no BMI2), what other CPUs run.
 *   ./a.out msg wsx|zlib|libdeflate deflate|inflate SIZE
 * compresses (or decompresses) 200 JSON messages of SIZE bytes each on
 * its own, as permessage-deflate without context takeover does, in
 * `once` (callgrind_deflate.sh msg prints instructions per message); the
 * inflate side decodes zlib level 6 output of each message. libdeflate works on whole buffers (no
 * streaming, no window), so its figures are a bound, not a peer's. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#ifdef WSX_BENCH_LIBDEFLATE
#include <libdeflate.h>
#endif

#include "inflate_int.h"
#include "wsx_deflate.h"

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

static size_t make_json(uint8_t *p, size_t cap)
{
    static const char *tags[] = {"alpha", "beta", "gamma", "delta", "prod", "dev"};
    size_t n = 0;
    for (int i = 0; n + 300 < cap; i++)
        n += (size_t)snprintf((char *)p + n, cap - n,
                              "{\"id\":%d,\"user\":\"user%u\",\"active\":%s,\"score\":%u.%02u,"
                              "\"tags\":[\"%s\",\"%s\"],\"ts\":\"2024-%02u-%02uT%02u:%02u:00Z\"},\n",
                              i, rnd() % 5000, rnd() % 2 ? "true" : "false", rnd() % 1000,
                              rnd() % 100, tags[rnd() % 6], tags[rnd() % 6], 1 + rnd() % 12,
                              1 + rnd() % 28, rnd() % 24, rnd() % 60);
    return n;
}

static size_t make_text(uint8_t *p, size_t cap)
{
    static const char *w[] = {"the", "of", "and", "to", "in", "is", "was", "that", "for",
                              "it", "with", "as", "his", "on", "be", "at", "by", "had",
                              "socket", "message", "frame", "window", "compression", "server"};
    size_t n = 0;
    while (n + 16 < cap) {
        const char *s = w[rnd() % (sizeof w / sizeof *w)];
        size_t l = strlen(s);
        memcpy(p + n, s, l);
        n += l;
        p[n++] = rnd() % 12 ? ' ' : '\n';
    }
    return n;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); /* other load on the host does not count */
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct sink {
    uint8_t *p;
    size_t n;
} sink;

static int put(void *ctx, const uint8_t *p, size_t n)
{
    sink *s = ctx;
    memcpy(s->p + s->n, p, n);
    s->n += n;
    return 0;
}

static void *xmalloc(size_t n, void *u)
{
    (void)u;
    return malloc(n);
}

static void xfree(void *p, size_t n, void *u)
{
    (void)n;
    (void)u;
    free(p);
}

static const wsx_allocator alloc = {xmalloc, NULL, xfree, NULL};

static size_t wsx_comp(const uint8_t *in, size_t n, uint8_t *out, int level)
{
    wsx_deflater *d = wsx_deflater_new(&alloc, level, 15, 8);
    sink s = {out, 0};
    wsx_deflater_run(d, in, n, WSX_FLUSH_FINISH, put, &s);
    wsx_deflater_free(d);
    return s.n;
}

static size_t zlib_comp(const uint8_t *in, size_t n, uint8_t *out, int level)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)(n + n / 2 + 1024);
    deflate(&z, Z_FINISH);
    size_t r = z.total_out;
    deflateEnd(&z);
    return r;
}

static size_t wsx_decomp(const uint8_t *in, size_t n, uint8_t *out, int level)
{
    (void)level;
    wsx_inflater *s = wsx_inflater_new(&alloc, 15);
    sink k = {out, 0};
    wsx_inflater_run(s, in, n, NULL, put, &k);
    wsx_inflater_free(s);
    return k.n;
}

static size_t wsx_base_decomp(const uint8_t *in, size_t n, uint8_t *out, int level)
{
    (void)level;
    wsx_inflater *s = wsx_inflater_new(&alloc, 15);
    s->baseline = true;
    sink k = {out, 0};
    wsx_inflater_run(s, in, n, NULL, put, &k);
    wsx_inflater_free(s);
    return k.n;
}

static size_t zlib_decomp(const uint8_t *in, size_t n, uint8_t *out, int cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    inflateInit2(&z, -15);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    inflate(&z, Z_FINISH);
    size_t r = z.total_out;
    inflateEnd(&z);
    return r;
}

#ifdef WSX_BENCH_LIBDEFLATE
/* A compressor or decompressor per call, as for the two others. */
static size_t ldf_comp(const uint8_t *in, size_t n, uint8_t *out, int level)
{
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
    size_t r = libdeflate_deflate_compress(c, in, n, out, n + n / 2 + 1024);
    libdeflate_free_compressor(c);
    return r;
}

static size_t ldf_decomp(const uint8_t *in, size_t n, uint8_t *out, int cap)
{
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    size_t r = 0;
    if (libdeflate_deflate_decompress(d, in, n, out, (size_t)cap, &r) != LIBDEFLATE_SUCCESS)
        r = 0;
    libdeflate_free_decompressor(d);
    return r;
}
#endif

typedef size_t (*codec_fn)(const uint8_t *, size_t, uint8_t *, int);

/* Best of several runs of at least 0.3 s of CPU time: MB/s of `mb`
 * uncompressed bytes. */
static double rate(codec_fn f, const uint8_t *in, size_t n, uint8_t *out, int arg, size_t mb,
                   size_t *size)
{
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now(), t;
        int iters = 0;
        do {
            *size = f(in, n, out, arg);
            iters++;
            t = now() - t0;
        } while (t < 0.3);
        double r = (double)mb * iters / t / 1e6;
        if (r > best)
            best = r;
    }
    return best;
}

/* One operation, alone in its function so that callgrind can count it. */
__attribute__((noinline)) size_t once(codec_fn f, const uint8_t *in, size_t n,
                                      uint8_t *out, int arg)
{
    return f(in, n, out, arg);
}

/* ---- whole messages without context takeover ---- */

enum { NMSG = 200 };

typedef struct msgs {
    const uint8_t *in[NMSG];
    size_t len[NMSG];
    uint8_t *out;
    size_t cap, total;
} msgs;

static int count_out(void *ctx, const uint8_t *p, size_t n)
{
    msgs *m = ctx;
    memcpy(m->out, p, n < m->cap ? n : m->cap);
    m->total += n;
    return 0;
}

/* RFC 7692 §7.2.1: each message reset without the window, flushed whole,
 * its 00 00 ff ff left off (wsx's pmd_encode). */
static size_t wsx_msg_comp(const uint8_t *in, size_t n, uint8_t *out, int level)
{
    msgs *m = (msgs *)(uintptr_t)in;
    (void)n;
    (void)out;
    wsx_deflater *d = wsx_deflater_new(&alloc, level, 15, 8);
    for (int i = 0; i < NMSG; i++) {
        wsx_deflater_reset(d, false);
        wsx_deflater_run(d, m->in[i], m->len[i], WSX_FLUSH_MESSAGE, count_out, m);
    }
    wsx_deflater_free(d);
    return m->total;
}

static size_t zlib_msg_comp(const uint8_t *in, size_t n, uint8_t *out, int level)
{
    msgs *m = (msgs *)(uintptr_t)in;
    (void)n;
    (void)out;
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    for (int i = 0; i < NMSG; i++) {
        deflateReset(&z);
        z.next_in = (Bytef *)(uintptr_t)m->in[i];
        z.avail_in = (uInt)m->len[i];
        z.next_out = m->out;
        z.avail_out = (uInt)m->cap;
        deflate(&z, Z_SYNC_FLUSH);
        m->total += m->cap - z.avail_out - 4;
    }
    deflateEnd(&z);
    return m->total;
}

/* RFC 7692 §7.2.2: each message inflated with 00 00 ff ff appended, after
 * a reset without the window (wsx's pmd_decode). */
static size_t wsx_msg_decomp(const uint8_t *in, size_t n, uint8_t *out, int cap)
{
    static const uint8_t tail[4] = {0, 0, 0xff, 0xff};
    msgs *m = (msgs *)(uintptr_t)in;
    (void)n;
    (void)out;
    (void)cap;
    wsx_inflater *s = wsx_inflater_new(&alloc, 15);
    for (int i = 0; i < NMSG; i++) {
        wsx_inflater_reset(s, false);
        wsx_inflater_run(s, m->in[i], m->len[i], NULL, count_out, m);
        wsx_inflater_run(s, tail, 4, NULL, count_out, m);
    }
    wsx_inflater_free(s);
    return m->total;
}

static size_t zlib_msg_decomp(const uint8_t *in, size_t n, uint8_t *out, int cap)
{
    msgs *m = (msgs *)(uintptr_t)in;
    (void)n;
    (void)out;
    (void)cap;
    z_stream z;
    memset(&z, 0, sizeof z);
    inflateInit2(&z, -15);
    for (int i = 0; i < NMSG; i++) {
        inflateReset(&z);
        z.next_in = (Bytef *)(uintptr_t)m->in[i];
        z.avail_in = (uInt)m->len[i];
        z.next_out = m->out;
        z.avail_out = (uInt)m->cap;
        inflate(&z, Z_SYNC_FLUSH);
        m->total += m->cap - z.avail_out;
    }
    inflateEnd(&z);
    return m->total;
}

#ifdef WSX_BENCH_LIBDEFLATE
/* libdeflate has no streaming: each message is one whole buffer. */
static size_t ldf_msg_comp(const uint8_t *in, size_t n, uint8_t *out, int level)
{
    msgs *m = (msgs *)(uintptr_t)in;
    (void)n;
    (void)out;
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
    for (int i = 0; i < NMSG; i++)
        m->total += libdeflate_deflate_compress(c, m->in[i], m->len[i], m->out, m->cap);
    libdeflate_free_compressor(c);
    return m->total;
}

static size_t ldf_msg_decomp(const uint8_t *in, size_t n, uint8_t *out, int cap)
{
    msgs *m = (msgs *)(uintptr_t)in;
    (void)n;
    (void)out;
    (void)cap;
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    for (int i = 0; i < NMSG; i++) {
        size_t r = 0;
        libdeflate_deflate_decompress(d, m->in[i], m->len[i], m->out, m->cap, &r);
        m->total += r;
    }
    libdeflate_free_decompressor(d);
    return m->total;
}
#endif

static int run_msg(char **argv)
{
    codec_fn comp = wsx_msg_comp, decomp = wsx_msg_decomp;
    if (!strcmp(argv[2], "zlib")) {
        comp = zlib_msg_comp;
        decomp = zlib_msg_decomp;
    } else if (!strcmp(argv[2], "libdeflate")) {
#ifdef WSX_BENCH_LIBDEFLATE
        comp = ldf_msg_comp;
        decomp = ldf_msg_decomp;
#else
        fprintf(stderr, "built without libdeflate\n");
        return 2;
#endif
    }
    size_t size = (size_t)atoi(argv[4]), cap = NMSG * size + 4096;
    bool inflate = !strcmp(argv[3], "inflate");
    uint8_t *json = malloc(cap), *z = malloc(2 * cap + NMSG * 64);
    make_json(json, cap);
    msgs m = {{0}, {0}, malloc(2 * size + 1024), 2 * size + 1024, 0};
    size_t zoff = 0, want = 0;
    for (int i = 0; i < NMSG; i++) {
        m.in[i] = json + (size_t)i * size;
        m.len[i] = size;
        if (inflate) {
            /* The peer: zlib level 6, each message a whole stream. */
            size_t zn = zlib_comp(m.in[i], size, z + zoff, 6);
            m.in[i] = z + zoff;
            m.len[i] = zn;
            zoff += zn;
            want += size;
        }
    }
    size_t r = once(inflate ? decomp : comp, (const uint8_t *)&m, 0, NULL, 6);
    printf("%s msg %s %zu: %zu messages, %s %zu bytes\n", argv[2], argv[3], size, (size_t)NMSG,
           inflate ? "decoded" : "compressed to", r);
    free(json);
    free(z);
    free(m.out);
    return inflate && r != want;
}

static int run_once(char **argv)
{
    size_t cap = 1u << 20, n, r, zn;
    codec_fn comp = wsx_comp, decomp = wsx_decomp;
    if (!strcmp(argv[2], "wsx-baseline")) {
        decomp = wsx_base_decomp;
    } else if (!strcmp(argv[2], "zlib")) {
        comp = zlib_comp;
        decomp = zlib_decomp;
    } else if (!strcmp(argv[2], "libdeflate")) {
#ifdef WSX_BENCH_LIBDEFLATE
        comp = ldf_comp;
        decomp = ldf_decomp;
#else
        fprintf(stderr, "built without libdeflate\n");
        return 2;
#endif
    }
    uint8_t *in = malloc(cap), *z = malloc(2 * cap), *out = malloc(2 * cap);
    n = !strcmp(argv[4], "text") ? make_text(in, cap) : make_json(in, cap);
    if (!strcmp(argv[3], "inflate")) {
        zn = zlib_comp(in, n, z, 6);
        r = once(decomp, z, zn, out, (int)(2 * cap));
    } else {
        zn = once(comp, in, n, z, argv[3][7] - '0');
        r = zlib_decomp(z, zn, out, (int)(2 * cap));
    }
    bool ok = r == n && !memcmp(out, in, n);
    printf("%s %s %s: ratio %.4f%s\n", argv[2], argv[3], argv[4], (double)zn / (double)n,
           ok ? "" : " MISMATCH");
    free(in);
    free(z);
    free(out);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "once"))
        return run_once(argv);
    if (argc == 5 && !strcmp(argv[1], "msg"))
        return run_msg(argv);
    size_t cap = (size_t)(argc > 1 ? atoi(argv[1]) : 8) << 20;
    uint8_t *in = malloc(cap), *z = malloc(cap + cap / 2 + 1024), *out = malloc(cap + 1024);
    for (int c = 0; c < 2; c++) {
        size_t n = c ? make_text(in, cap) : make_json(in, cap), sz;
        printf("%s, %.1f MiB (wbits 15, memlevel 8; MB/s of input):\n", c ? "text" : "JSON",
               (double)n / (1 << 20));
        for (int level = 1; level <= 6; level += 5) {
            double w = rate(wsx_comp, in, n, z, level, n, &sz);
            size_t wsz = sz;
            double zl = rate(zlib_comp, in, n, z, level, n, &sz);
            printf("  deflate level %d: wsx %7.1f MB/s ratio %.4f | zlib %7.1f MB/s ratio %.4f",
                   level, w, (double)wsz / (double)n, zl, (double)sz / (double)n);
#ifdef WSX_BENCH_LIBDEFLATE
            double ld = rate(ldf_comp, in, n, z, level, n, &sz);
            printf(" | libdeflate %7.1f MB/s ratio %.4f", ld, (double)sz / (double)n);
#endif
            printf("\n");
        }
        size_t zn = zlib_comp(in, n, z, 6);
        double w = rate(wsx_decomp, z, zn, out, 0, n, &sz);
        int ok = sz == n && !memcmp(out, in, n);
        double wb = rate(wsx_base_decomp, z, zn, out, 0, n, &sz);
        ok = ok && sz == n && !memcmp(out, in, n);
        double zl = rate(zlib_decomp, z, zn, out, (int)(cap + 1024), n, &sz);
        printf("  inflate (zlib-6 data): wsx %7.1f MB/s (baseline loop %7.1f)%s | zlib %7.1f MB/s",
               w, wb, ok ? "" : " MISMATCH", zl);
#ifdef WSX_BENCH_LIBDEFLATE
        double ld = rate(ldf_decomp, z, zn, out, (int)(cap + 1024), n, &sz);
        printf(" | libdeflate %7.1f MB/s%s", ld, sz == n ? "" : " MISMATCH");
#endif
        printf("\n");
    }
    free(in);
    free(z);
    free(out);
    return 0;
}
