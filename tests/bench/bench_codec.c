/* bench_codec.c - micro-benchmark of the stateless codec: frame header
 * parse/build in ns per frame, masking per variant and UTF-8 validation in
 * GB/s on 1 MiB (each UTF-8 variant), each next to memcpy of the same
 * buffer. Not a test:
 *   cc -O2 -Iinclude -Ilib/core tests/bench/bench_codec.c build/libwsx.a
 *   ./a.out utf8 VARIANT   validates the 1 MiB of mixed text 4 times in
 *                          `once`, for callgrind --toggle-collect=once */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wsx.h"
#include "mask.h"
#include "utf8.h"

#define MIB (1u << 20)

static volatile uint64_t sink;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Seconds per call of fn(arg): best of 5 runs of `reps` calls. */
static double best_of(void (*fn)(void *), void *arg, long reps)
{
    double best = 1e30;
    for (int run = 0; run < 5; run++) {
        double t = now();
        for (long i = 0; i < reps; i++)
            fn(arg);
        t = (now() - t) / (double)reps;
        if (t < best)
            best = t;
    }
    return best;
}

static uint8_t *src, *dst;
static const wsx_mask_variant *cur_mask;

static void run_memcpy(void *arg)
{
    (void)arg;
    memcpy(dst, src, MIB);
    sink += dst[MIB / 2];
}

static void run_mask(void *arg)
{
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    (void)arg;
    cur_mask->fn(dst, MIB, key, 1);
    sink += dst[MIB / 2];
}

static wsx_utf8_fn cur_utf8;

static void run_utf8(void *arg)
{
    uint32_t st = WSX_UTF8_OK;
    sink += (uint64_t)cur_utf8(&st, arg, MIB) + st;
}

typedef struct frame_bench {
    uint8_t bytes[64][WSX_FRAME_HEADER_MAX];
    wsx_frame_header h[64];
} frame_bench;

static void run_parse(void *arg)
{
    frame_bench *fb = arg;
    wsx_frame_header h;
    for (int i = 0; i < 64; i++) {
        sink += (uint64_t)wsx_frame_parse(&h, fb->bytes[i], WSX_FRAME_HEADER_MAX);
        sink += h.length;
    }
}

static void run_build(void *arg)
{
    frame_bench *fb = arg;
    uint8_t out[WSX_FRAME_HEADER_MAX];
    for (int i = 0; i < 64; i++)
        sink += wsx_frame_build(out, &fb->h[i]) + out[1];
}

/* Cyrillic, CJK, emoji and ASCII words: every sequence length. */
static void fill_mixed(uint8_t *p, size_t n)
{
    static const char words[] = "Привет мир, 你好世界 😀 hello ünïcödé ";
    size_t w = sizeof words - 1, i = 0;
    while (i + w <= n) {
        memcpy(p + i, words, w);
        i += w;
    }
    memset(p + i, ' ', n - i);
}

/* Four validations of p, alone in a function that callgrind can count. */
__attribute__((noinline)) int once(wsx_utf8_fn fn, const uint8_t *p)
{
    int r = 0;
    for (int i = 0; i < 4; i++) {
        uint32_t st = WSX_UTF8_OK;
        r |= fn(&st, p, MIB) | (int)st;
    }
    return r;
}

static int utf8_once(const char *name)
{
    const wsx_utf8_variant *u;
    size_t nu = wsx__utf8_variants(&u);
    uint8_t *mixed = malloc(MIB);
    fill_mixed(mixed, MIB);
    for (size_t i = 0; i < nu; i++)
        if (!strcmp(u[i].name, name)) {
            int r = once(u[i].fn, mixed);
            free(mixed);
            return r ? 1 : 0;
        }
    fprintf(stderr, "no UTF-8 variant %s here\n", name);
    free(mixed);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "utf8"))
        return utf8_once(argv[2]);
    src = malloc(MIB);
    dst = malloc(MIB);
    uint8_t *mixed = malloc(MIB);
    for (size_t i = 0; i < MIB; i++)
        src[i] = (uint8_t)(' ' + i % 90);
    memcpy(dst, src, MIB);
    fill_mixed(mixed, MIB);

    frame_bench fb;
    static const uint64_t lens[] = {5, 125, 126, 1000, 65535, 65536, 1u << 24};
    for (int i = 0; i < 64; i++) {
        wsx_frame_header h = {true, 0, WSX_BINARY, i % 2 == 1, {1, 2, 3, 4},
                              lens[i % 7]};
        fb.h[i] = h;
        memset(fb.bytes[i], 0, WSX_FRAME_HEADER_MAX);
        wsx_frame_build(fb.bytes[i], &h);
    }
    printf("frame parse: %6.2f ns/frame\n",
           best_of(run_parse, &fb, 200000) / 64 * 1e9);
    printf("frame build: %6.2f ns/frame\n",
           best_of(run_build, &fb, 200000) / 64 * 1e9);

    double t_memcpy = best_of(run_memcpy, NULL, 400);
    printf("memcpy 1 MiB:        %6.2f GB/s\n", MIB / t_memcpy / 1e9);
    const wsx_mask_variant *v;
    size_t nv = wsx__mask_variants(&v);
    for (size_t i = 0; i < nv; i++) {
        cur_mask = &v[i];
        double t = best_of(run_mask, NULL, 400);
        printf("mask %-9s 1 MiB: %6.2f GB/s (%.2fx memcpy time)\n", v[i].name,
               MIB / t / 1e9, t / t_memcpy);
    }
    const wsx_utf8_variant *u;
    size_t nu = wsx__utf8_variants(&u);
    for (size_t i = 0; i < nu; i++) {
        cur_utf8 = u[i].fn;
        double t = best_of(run_utf8, src, 400);
        printf("utf8 %-8s ASCII 1 MiB: %6.2f GB/s (%.2fx memcpy time)\n",
               u[i].name, MIB / t / 1e9, t / t_memcpy);
        t = best_of(run_utf8, mixed, 100);
        printf("utf8 %-8s mixed 1 MiB: %6.2f GB/s (%.2fx memcpy time)\n",
               u[i].name, MIB / t / 1e9, t / t_memcpy);
    }
    free(src);
    free(dst);
    free(mixed);
    return 0;
}
