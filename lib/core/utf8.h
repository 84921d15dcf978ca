/* utf8.h - internal: the UTF-8 validation variants behind wsx_utf8_validate
 * (RFC 3629 §4), exposed so tests and the differential fuzz target can hold
 * each one against a reference decoder and benchmarks can time each one.
 * Every variant has wsx_utf8_validate's exact contract. */
#ifndef WSX_UTF8_H
#define WSX_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* AVX2 is used when the compiler targets it, or else on x86-64 gcc/clang
 * behind a runtime CPU check (as for masking, see mask.h). */
#if defined(__x86_64__) && defined(__AVX2__)
#define WSX_UTF8_AVX2 1
#elif defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define WSX_UTF8_AVX2 1
#define WSX_UTF8_AVX2_RUNTIME 1
#endif

typedef int (*wsx_utf8_fn)(uint32_t *state, const uint8_t *p, size_t len);

typedef struct wsx_utf8_variant {
    const char *name;
    wsx_utf8_fn fn;
} wsx_utf8_variant;

/* The portable state machine alone: what a build without SIMD runs. */
int wsx__utf8_portable(uint32_t *state, const uint8_t *p, size_t len);

/* Bytes the SIMD checks take in one step: n passed to them is a multiple. */
#define WSX_UTF8_SIMD_BLOCK 64

#ifdef WSX_UTF8_AVX2
/* The state machine with the AVX2 check in front of it. With
 * WSX_UTF8_AVX2_RUNTIME, call only when wsx__utf8_variants lists it. */
int wsx__utf8_avx2(uint32_t *state, const uint8_t *p, size_t len);
/* The check itself: p[0..n) starts between characters, n is a multiple of
 * WSX_UTF8_SIMD_BLOCK. Returns false when those bytes hold an error; the
 * last character may be cut short by the end, which it does not judge. */
bool wsx__utf8_check_avx2(const uint8_t *p, size_t n);
#endif

/* Point *v at the variants this build has and this CPU can run,
 * wsx_utf8_validate itself ("auto") among them; returns how many. */
size_t wsx__utf8_variants(const wsx_utf8_variant **v);

#endif
