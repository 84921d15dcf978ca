/* test.h - the tiny harness every C test shares: named tests (RUN) that
 * WSX_T selects, CHECK counts, a summary line "name: N passed, M failed",
 * a guard-page buffer that faults on any over-read, a seeded PRNG, and an
 * allocator that fails the n-th call. */
#ifndef WSX_TEST_H
#define WSX_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#endif
#include "wsx.h"

static int test_passed_, test_failed_, test_ran_;
static const char *test_name_ = "main"; /* the test running now */

/* A test is named "file/function" (test_frame/test_valid); with WSX_T in
 * the environment (`make test T=word`) only the tests whose name contains
 * it run, so that one failing test can be rerun alone. */
static inline int test_begin_(const char *file, const char *name)
{
    const char *base = strrchr(file, '/');
    const char *want = getenv("WSX_T");
    char full[128];
    base = base ? base + 1 : file;
    snprintf(full, sizeof full, "%.*s/%s",
             (int)(strlen(base) > 2 ? strlen(base) - 2 : strlen(base)), base,
             name);
    if (want && *want && !strstr(full, want))
        return 0;
    test_name_ = name;
    test_ran_++;
    return 1;
}

/* RUN(test_x) runs test_x() as the test named test_x; RUN_AS("name",
 * call) runs a call with arguments under a name of its own. */
#define RUN_AS(name, call)                                                    \
    do {                                                                      \
        if (test_begin_(__FILE__, name)) {                                    \
            call;                                                             \
            test_name_ = "main";                                              \
        }                                                                     \
    } while (0)
#define RUN(fn) RUN_AS(#fn, fn())

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (cond) {                                                           \
            test_passed_++;                                                   \
        } else {                                                              \
            test_failed_++;                                                   \
            fprintf(stderr, "FAIL %s:%d: %s: %s\n", __FILE__, __LINE__,       \
                    test_name_, #cond);                                       \
        }                                                                     \
    } while (0)

#define CHECK_EQ(a, b)                                                        \
    do {                                                                      \
        long long a_ = (long long)(a), b_ = (long long)(b);                   \
        if (a_ == b_) {                                                       \
            test_passed_++;                                                   \
        } else {                                                              \
            test_failed_++;                                                   \
            fprintf(stderr, "FAIL %s:%d: %s: %s == %s (%lld != %lld)\n",      \
                    __FILE__, __LINE__, test_name_, #a, #b, a_, b_);          \
        }                                                                     \
    } while (0)

/* Print the closing line and return the process exit status. */
static inline int test_summary(const char *name)
{
    printf("%s: %d passed, %d failed (%d tests)\n", name, test_passed_,
           test_failed_, test_ran_);
    return test_failed_ ? 1 : 0;
}

/* xorshift64*: reproducible randomness for split points and payloads. */
static inline uint64_t test_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Copy n bytes so that they end exactly at a PROT_NONE page: reading one
 * byte past the end faults. Free with test_guard_free. Falls back to
 * malloc where mmap is not available. */
typedef struct test_guard {
    uint8_t *data;
    void *base;
    size_t maplen;
} test_guard;

static inline test_guard test_guard_copy(const void *p, size_t n)
{
    test_guard g = {0, 0, 0};
#if defined(__unix__) || defined(__APPLE__)
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t body = (n + pg - 1) / pg * pg;
    g.maplen = body + pg;
    g.base = mmap(NULL, g.maplen, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g.base == MAP_FAILED)
        abort();
    mprotect((uint8_t *)g.base + body, pg, PROT_NONE);
    g.data = (uint8_t *)g.base + body - n;
#else
    g.base = malloc(n ? n : 1);
    g.data = g.base;
#endif
    if (n)
        memcpy(g.data, p, n);
    return g;
}

static inline void test_guard_free(test_guard *g)
{
#if defined(__unix__) || defined(__APPLE__)
    munmap(g->base, g->maplen);
#else
    free(g->base);
#endif
}

/* An allocator that counts, tracks live bytes and fails the fail_at-th
 * allocation (1-based; 0 never fails). */
typedef struct test_alloc {
    long calls, fail_at, live, allocs;
    size_t live_bytes, peak_bytes;
} test_alloc;

static void *test_alloc_malloc(size_t n, void *u)
{
    test_alloc *t = u;
    if (t->fail_at && ++t->calls == t->fail_at)
        return NULL;
    void *p = malloc(n ? n : 1);
    if (p) {
        t->live++;
        t->allocs++;
        t->live_bytes += n;
        if (t->live_bytes > t->peak_bytes)
            t->peak_bytes = t->live_bytes;
    }
    return p;
}

static void *test_alloc_realloc(void *p, size_t old, size_t n, void *u)
{
    test_alloc *t = u;
    if (t->fail_at && ++t->calls == t->fail_at)
        return NULL;
    void *q = realloc(p, n ? n : 1);
    if (q) {
        if (!p) {
            t->live++;
        }
        t->allocs++;
        t->live_bytes += n - old;
        if (t->live_bytes > t->peak_bytes)
            t->peak_bytes = t->live_bytes;
    }
    return q;
}

static void test_alloc_free(void *p, size_t n, void *u)
{
    test_alloc *t = u;
    if (!p)
        return;
    t->live--;
    t->live_bytes -= n;
    free(p);
}

static inline wsx_allocator test_allocator(test_alloc *t)
{
    wsx_allocator a = {test_alloc_malloc, test_alloc_realloc, test_alloc_free, t};
    return a;
}

#endif
