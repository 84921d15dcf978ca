/* sha1_shani.c - SHA-1 blocks (FIPS 180-4 §6.1.2) with the x86 SHA
 * extensions: SHA1RNDS4 runs four rounds, SHA1NEXTE derives the next E,
 * SHA1MSG1/2 extend the message schedule four words at a time. Chosen at
 * run time by sha1.c; measured, it takes wsx_accept_key from ~4.6 k
 * instructions to a few hundred. */
#include "sha1.h"

#ifdef WSX_SHA1_SHANI
#include <cpuid.h>
#include <immintrin.h>

/* CPUID leaf 7 EBX bit 29 is SHA; the code also needs SSSE3 (PSHUFB) and
 * SSE4.1 (PEXTRD), leaf 1 ECX bits 9 and 19. Read once, before main: a
 * CPUID under a hypervisor traps, and clang has no
 * __builtin_cpu_supports("sha"). */
static bool usable;

__attribute__((constructor)) static void detect(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & 1u << 9) || !(c & 1u << 19))
        return;
    if (__get_cpuid_max(0, NULL) < 7)
        return;
    __cpuid_count(7, 0, a, b, c, d);
    usable = (b >> 29) & 1;
}

bool wsx__sha1_shani_usable(void)
{
    return usable;
}

/* Four rounds g*4..g*4+3 (g a constant, 0..19), with their round function
 * f = g / 5 an immediate as SHA1RNDS4 wants. e holds E plus the group's
 * four schedule words; prev keeps A,B,C,D for the next E (SHA1NEXTE adds
 * ROTL30(A) to the next group's words). Groups 4..19 of the schedule are
 * made in the 4-slot ring w: W[g] from W[g-4], W[g-3], W[g-2], W[g-1]. */
#define SHANI_GROUP(g)                                                        \
    do {                                                                      \
        prev = abcd;                                                          \
        abcd = _mm_sha1rnds4_epu32(abcd, e, (g) / 5);                         \
        if ((g) < 19) {                                                       \
            if ((g) >= 3)                                                     \
                w[((g) + 1) & 3] = _mm_sha1msg2_epu32(                        \
                    _mm_xor_si128(_mm_sha1msg1_epu32(w[((g) + 1) & 3],        \
                                                     w[((g) + 2) & 3]),       \
                                  w[((g) + 3) & 3]),                          \
                    w[(g) & 3]);                                              \
            e = _mm_sha1nexte_epu32(prev, w[((g) + 1) & 3]);                  \
        }                                                                     \
    } while (0)
#define SHANI_FIVE(g)                                                         \
    SHANI_GROUP(g);                                                           \
    SHANI_GROUP((g) + 1);                                                     \
    SHANI_GROUP((g) + 2);                                                     \
    SHANI_GROUP((g) + 3);                                                     \
    SHANI_GROUP((g) + 4)

__attribute__((target("sha,ssse3,sse4.1"))) void
wsx__sha1_blocks_shani(uint32_t h[5], const uint8_t *p, size_t n)
{
    /* Big-endian words (§3.1) with W[0] in the top lane, where the SHA
     * instructions keep A and the first word. */
    const __m128i swap = _mm_set_epi64x(0x0001020304050607LL,
                                        0x08090a0b0c0d0e0fLL);
    __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)h), 0x1b);
    __m128i e0 = _mm_set_epi32((int)h[4], 0, 0, 0);
    for (; n; n--, p += 64) {
        __m128i abcd0 = abcd, prev, w[4];
        for (int i = 0; i < 4; i++)
            w[i] = _mm_shuffle_epi8(
                _mm_loadu_si128((const __m128i *)(p + 16 * i)), swap);
        __m128i e = _mm_add_epi32(e0, w[0]);
        SHANI_FIVE(0);
        SHANI_FIVE(5);
        SHANI_FIVE(10);
        SHANI_FIVE(15);
        e0 = _mm_sha1nexte_epu32(prev, e0);
        abcd = _mm_add_epi32(abcd, abcd0);
    }
    _mm_storeu_si128((__m128i *)h, _mm_shuffle_epi32(abcd, 0x1b));
    h[4] = (uint32_t)_mm_extract_epi32(e0, 3);
}
#endif
