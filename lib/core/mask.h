/* mask.h - internal: the masking variants behind wsx_mask (RFC 6455 §5.3),
 * exposed so tests can prove they agree byte for byte and benchmarks can
 * time each one. Every variant has wsx_mask's exact contract. */
#ifndef WSX_MASK_H
#define WSX_MASK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Which SIMD variants this build has. SSE2 is baseline on x86-64; AVX2 is
 * used when the compiler targets it, or else on x86 gcc/clang behind a
 * runtime CPU check; NEON when the compiler targets it. */
#if defined(__SSE2__)
#define WSX_MASK_SSE2 1
#endif
#if defined(__AVX2__)
#define WSX_MASK_AVX2 1
#elif defined(__SSE2__) && (defined(__x86_64__) || defined(__i386__)) &&     \
    (defined(__GNUC__) || defined(__clang__))
#define WSX_MASK_AVX2 1
#define WSX_MASK_AVX2_RUNTIME 1
#endif
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
#define WSX_MASK_NEON 1
#endif

typedef void (*wsx_mask_fn)(uint8_t *p, size_t len, const uint8_t key[4],
                            uint64_t offset);

typedef struct wsx_mask_variant {
    const char *name;
    wsx_mask_fn fn;
} wsx_mask_variant;

/* The portable reference: one byte per step. */
void wsx__mask_bytewise(uint8_t *p, size_t len, const uint8_t key[4],
                       uint64_t offset);
/* Eight bytes per step through uint64_t, memcpy-based (alignment-safe,
 * endian-neutral because the key pattern is built in memory order). */
void wsx__mask_word(uint8_t *p, size_t len, const uint8_t key[4],
                   uint64_t offset);
#ifdef WSX_MASK_SSE2
void wsx__mask_sse2(uint8_t *p, size_t len, const uint8_t key[4],
                   uint64_t offset);
#endif
#ifdef WSX_MASK_AVX2
/* With WSX_MASK_AVX2_RUNTIME, call only when wsx__mask_variants lists it. */
void wsx__mask_avx2(uint8_t *p, size_t len, const uint8_t key[4],
                   uint64_t offset);
#endif
#ifdef WSX_MASK_NEON
void wsx_mask_neon(uint8_t *p, size_t len, const uint8_t key[4],
                   uint64_t offset);
#endif

/* Short payloads (chat lines, telemetry, pings) are most frames: a plain
 * unaligned word loop, with no alignment head and no dispatch, measured
 * at a tenth of the instructions of the general path for 16 bytes.
 * Inline, so that the reader's whole-frame path (conn_recv.c) unmasks a
 * small frame without a call. wsx_mask's contract, for any len (it pays
 * below 64 bytes). */
static inline void wsx__mask_short(uint8_t *p, size_t len, const uint8_t key[4],
                                   uint64_t offset)
{
    uint8_t pat[8];
    uint64_t k, x;
    /* The pattern repeats every 4 bytes: build half and copy it. */
    for (size_t i = 0; i < 4; i++)
        pat[i] = key[(offset + i) & 3];
    memcpy(pat + 4, pat, 4);
    memcpy(&k, pat, sizeof k);
    for (; len >= 8; p += 8, len -= 8) {
        memcpy(&x, p, sizeof x);
        x ^= k;
        memcpy(p, &x, sizeof x);
    }
    for (size_t i = 0; i < len; i++)
        p[i] ^= pat[i];
}

/* Point *v at the variants this build has and this CPU can run, wsx_mask
 * itself ("auto") among them; returns how many. */
size_t wsx__mask_variants(const wsx_mask_variant **v);

#endif
