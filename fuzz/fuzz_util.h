/* fuzz_util.h - what the wsx fuzz targets share: an abort-on-violation
 * check, a PRNG seeded from the input, a counting allocator that verifies
 * sizes and can fail the n-th call, and a deliberately simple reference
 * UTF-8 decoder (RFC 3629 §3) to judge the library's validator against. */
#ifndef WSX_FUZZ_UTIL_H
#define WSX_FUZZ_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsx.h"

/* abort() rather than assert(): NDEBUG must never silence an invariant,
 * and libFuzzer reports an abort as a crash with its input. */
#define WSX_FUZZ_CHECK(c)                                                     \
    do {                                                                      \
        if (!(c))                                                             \
            abort();                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- randomness derived from the input ------------------------------ */

/* splitmix64: every choice a target makes comes from its input, so a
 * saved input replays the same run. */
typedef struct fz_rng {
    uint64_t s;
} fz_rng;

static inline uint64_t fz_next(fz_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform-enough value in [0, n); n > 0. */
static inline size_t fz_below(fz_rng *r, size_t n)
{
    return (size_t)(fz_next(r) % n);
}

/* True with probability 1/n. */
static inline int fz_one_in(fz_rng *r, unsigned n)
{
    return fz_next(r) % n == 0;
}

static inline uint64_t fz_load64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* FNV-1a: compares payloads without keeping copies. Reading every byte
 * also lets AddressSanitizer check the whole span a callback was given. */
static inline uint64_t fz_hash(const uint8_t *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}
#define FZ_HASH0 1469598103934665603ull

/* A piece of the input in a heap block of exactly n bytes, so any read
 * or write past it is an AddressSanitizer or valgrind error (the library
 * may unmask in place, so it gets a writable copy). */
static inline uint8_t *fz_dup(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    WSX_FUZZ_CHECK(d);
    if (n)
        memcpy(d, p, n);
    return d;
}

/* ---- counting allocator ------------------------------------------- */

/* Every block carries its size in front, so a free or realloc that names
 * the wrong size, a double free or a foreign pointer is caught at once.
 * fail_at > 0 makes the fail_at-th allocation (and every later one when
 * fail_all) return NULL, to walk the out-of-memory paths. */
typedef struct fz_alloc {
    size_t live_bytes, live_blocks, calls, peak;
    size_t fail_at;
    int fail_all;
} fz_alloc;

#define FZ_MAGIC 0x77737866757a7aull /* "wsxfuzz" */
#define FZ_HDR 16

static inline int fz_alloc_fails(fz_alloc *a)
{
    a->calls++;
    return a->fail_at &&
           (a->calls == a->fail_at || (a->fail_all && a->calls > a->fail_at));
}

static inline void *fz_alloc_wrap(fz_alloc *a, uint8_t *b, size_t n)
{
    uint64_t m = FZ_MAGIC;
    memcpy(b, &n, sizeof n);
    memcpy(b + 8, &m, sizeof m);
    a->live_bytes += n;
    a->live_blocks++;
    if (a->live_bytes > a->peak)
        a->peak = a->live_bytes;
    return b + FZ_HDR;
}

/* Checks the block header of p against the size the library names. */
static inline uint8_t *fz_alloc_unwrap(fz_alloc *a, void *p, size_t n)
{
    uint8_t *b = (uint8_t *)p - FZ_HDR;
    size_t have;
    uint64_t m;
    memcpy(&have, b, sizeof have);
    memcpy(&m, b + 8, sizeof m);
    WSX_FUZZ_CHECK(m == FZ_MAGIC);
    WSX_FUZZ_CHECK(have == n);
    WSX_FUZZ_CHECK(a->live_blocks > 0 && a->live_bytes >= n);
    memset(b + 8, 0, 8); /* a second free of p now fails the magic check */
    a->live_bytes -= n;
    a->live_blocks--;
    return b;
}

static inline void *fz_malloc(size_t n, void *user)
{
    fz_alloc *a = user;
    uint8_t *b;
    WSX_FUZZ_CHECK(n > 0 && n < ((size_t)1 << 40));
    if (fz_alloc_fails(a) || !(b = malloc(FZ_HDR + n)))
        return NULL;
    return fz_alloc_wrap(a, b, n);
}

static inline void fz_free(void *p, size_t n, void *user)
{
    if (p)
        free(fz_alloc_unwrap(user, p, n));
}

static inline void *fz_realloc(void *p, size_t old, size_t n, void *user)
{
    fz_alloc *a = user;
    uint8_t *b;
    if (!p)
        return fz_malloc(n, user);
    WSX_FUZZ_CHECK(n > 0 && n < ((size_t)1 << 40));
    if (fz_alloc_fails(a))
        return NULL;
    /* Always move, so a caller that keeps the old pointer is caught. */
    if (!(b = malloc(FZ_HDR + n)))
        return NULL;
    memcpy(b + FZ_HDR, p, old < n ? old : n);
    fz_free(p, old, user);
    return fz_alloc_wrap(a, b, n);
}

static inline wsx_allocator fz_allocator(fz_alloc *a, int with_realloc)
{
    wsx_allocator w;
    w.malloc = fz_malloc;
    w.realloc = with_realloc ? fz_realloc : NULL;
    w.free = fz_free;
    w.user = a;
    return w;
}

/* ---- reference UTF-8 decoder --------------------------------------- */

/* Decodes one code point at a time (RFC 3629 §3): a lead byte gives the
 * length, continuation bytes add six bits each. A partial sequence is
 * judged by the range of code points it could still become: it fails at
 * the first byte after which every completion is overlong, a surrogate or
 * above U+10FFFF (RFC 3629 §3, §4). No tables, no tricks. */
typedef struct fz_utf8 {
    uint32_t cp;  /* bits gathered so far */
    int need;     /* continuation bytes still expected */
    int len;      /* length of the sequence being decoded */
    int failed;
} fz_utf8;

static inline int fz_utf8_possible(const fz_utf8 *u)
{
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    uint32_t lo = u->cp << (6 * u->need);
    uint32_t hi = lo | ((1u << (6 * u->need)) - 1);
    if (lo < min_cp[u->len])
        lo = min_cp[u->len];
    if (hi > 0x10FFFF)
        hi = 0x10FFFF;
    if (lo > hi)
        return 0;
    return !(lo >= 0xD800 && hi <= 0xDFFF);
}

/* Returns 0 while the input is valid so far, -1 from the first byte that
 * can never be valid on (and for every byte after it). */
static inline int fz_utf8_byte(fz_utf8 *u, uint8_t b)
{
    if (u->failed)
        return -1;
    if (u->need == 0) {
        if (b < 0x80)
            return 0;
        if ((b & 0xE0) == 0xC0) {
            u->len = 2;
            u->cp = b & 0x1F;
        } else if ((b & 0xF0) == 0xE0) {
            u->len = 3;
            u->cp = b & 0x0F;
        } else if ((b & 0xF8) == 0xF0) {
            u->len = 4;
            u->cp = b & 0x07;
        } else {
            u->failed = 1;
            return -1;
        }
        u->need = u->len - 1;
    } else {
        if ((b & 0xC0) != 0x80) {
            u->failed = 1;
            return -1;
        }
        u->cp = u->cp << 6 | (b & 0x3F);
        u->need--;
    }
    if (!fz_utf8_possible(u)) {
        u->failed = 1;
        return -1;
    }
    return 0;
}

/* The index of the first byte of p[0..n) that can never be valid, or -1;
 * *u carries the state on (start it zeroed). */
static inline long fz_utf8_check(fz_utf8 *u, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fz_utf8_byte(u, p[i]) < 0)
            return (long)i;
    return -1;
}

/* Whole, complete and valid. */
static inline int fz_utf8_valid(const uint8_t *p, size_t n)
{
    fz_utf8 u = {0, 0, 0, 0};
    return fz_utf8_check(&u, p, n) < 0 && u.need == 0;
}

#endif
