/* mask.c - payload masking (RFC 6455 §5.3): p[i] ^= key[(offset + i) % 4],
 * in place. A portable byte loop, a 64-bit word loop and SIMD loops (SSE2,
 * AVX2, NEON); wsx_mask picks the fastest one this build and CPU can run. */
#include <string.h>

#include "wsx.h"
#include "mask.h"

#if defined(WSX_MASK_SSE2) || defined(WSX_MASK_AVX2)
#include <immintrin.h>
#endif
#ifdef WSX_MASK_NEON
#include <arm_neon.h>
#endif

/* Fill pat[0..n) with the key as it lines up with a payload position
 * `offset`: loading it with memcpy gives a word that XORs correctly on
 * either endianness. */
static void key_pattern(uint8_t *pat, size_t n, const uint8_t key[4],
                        uint64_t offset)
{
    for (size_t i = 0; i < n; i++)
        pat[i] = key[(offset + i) & 3];
}

/* Bytes to step so p becomes a multiple of align (a power of two), at most
 * len: aligned wide stores never straddle a cache line. */
static size_t head_len(const uint8_t *p, size_t len, size_t align)
{
    size_t head = (size_t)(-(uintptr_t)p & (align - 1));
    return head < len ? head : len;
}

void wsx__mask_bytewise(uint8_t *p, size_t len, const uint8_t key[4],
                       uint64_t offset)
{
    size_t k = (size_t)(offset & 3);
    for (size_t i = 0; i < len; i++)
        p[i] ^= key[(k + i) & 3];
}

void wsx__mask_word(uint8_t *p, size_t len, const uint8_t key[4],
                   uint64_t offset)
{
    size_t head = head_len(p, len, 8);
    wsx__mask_bytewise(p, head, key, offset);
    p += head;
    len -= head;
    offset += head;
    uint8_t pat[8];
    uint64_t k, x;
    key_pattern(pat, sizeof pat, key, offset);
    memcpy(&k, pat, sizeof k);
    for (; len >= 8; p += 8, len -= 8) {
        memcpy(&x, p, sizeof x);
        x ^= k;
        memcpy(p, &x, sizeof x);
    }
    /* Whole words keep offset % 4 unchanged. */
    wsx__mask_bytewise(p, len, key, offset);
}

#ifdef WSX_MASK_SSE2
void wsx__mask_sse2(uint8_t *p, size_t len, const uint8_t key[4],
                   uint64_t offset)
{
    size_t head = head_len(p, len, 16);
    wsx__mask_bytewise(p, head, key, offset);
    p += head;
    len -= head;
    offset += head;
    uint8_t pat[16];
    key_pattern(pat, sizeof pat, key, offset);
    const __m128i k = _mm_loadu_si128((const __m128i *)pat);
    for (; len >= 64; p += 64, len -= 64) {
        __m128i *v = (__m128i *)p;
        __m128i a = _mm_load_si128(v), b = _mm_load_si128(v + 1);
        __m128i c = _mm_load_si128(v + 2), d = _mm_load_si128(v + 3);
        _mm_store_si128(v, _mm_xor_si128(a, k));
        _mm_store_si128(v + 1, _mm_xor_si128(b, k));
        _mm_store_si128(v + 2, _mm_xor_si128(c, k));
        _mm_store_si128(v + 3, _mm_xor_si128(d, k));
    }
    for (; len >= 16; p += 16, len -= 16) {
        __m128i *v = (__m128i *)p;
        _mm_store_si128(v, _mm_xor_si128(_mm_load_si128(v), k));
    }
    wsx__mask_word(p, len, key, offset);
}
#endif

#ifdef WSX_MASK_AVX2
#ifdef WSX_MASK_AVX2_RUNTIME
__attribute__((target("avx2")))
#endif
void wsx__mask_avx2(uint8_t *p, size_t len, const uint8_t key[4],
                   uint64_t offset)
{
    size_t head = head_len(p, len, 32);
    wsx__mask_bytewise(p, head, key, offset);
    p += head;
    len -= head;
    offset += head;
    uint8_t pat[32];
    key_pattern(pat, sizeof pat, key, offset);
    const __m256i k = _mm256_loadu_si256((const __m256i *)pat);
    for (; len >= 128; p += 128, len -= 128) {
        __m256i *v = (__m256i *)p;
        __m256i a = _mm256_load_si256(v), b = _mm256_load_si256(v + 1);
        __m256i c = _mm256_load_si256(v + 2), d = _mm256_load_si256(v + 3);
        _mm256_store_si256(v, _mm256_xor_si256(a, k));
        _mm256_store_si256(v + 1, _mm256_xor_si256(b, k));
        _mm256_store_si256(v + 2, _mm256_xor_si256(c, k));
        _mm256_store_si256(v + 3, _mm256_xor_si256(d, k));
    }
    for (; len >= 32; p += 32, len -= 32) {
        __m256i *v = (__m256i *)p;
        _mm256_store_si256(v, _mm256_xor_si256(_mm256_load_si256(v), k));
    }
    wsx__mask_word(p, len, key, offset);
}
#endif

#ifdef WSX_MASK_NEON
void wsx_mask_neon(uint8_t *p, size_t len, const uint8_t key[4],
                   uint64_t offset)
{
    size_t head = head_len(p, len, 16);
    wsx__mask_bytewise(p, head, key, offset);
    p += head;
    len -= head;
    offset += head;
    uint8_t pat[16];
    key_pattern(pat, sizeof pat, key, offset);
    const uint8x16_t k = vld1q_u8(pat);
    for (; len >= 64; p += 64, len -= 64) {
        uint8x16_t a = vld1q_u8(p), b = vld1q_u8(p + 16);
        uint8x16_t c = vld1q_u8(p + 32), d = vld1q_u8(p + 48);
        vst1q_u8(p, veorq_u8(a, k));
        vst1q_u8(p + 16, veorq_u8(b, k));
        vst1q_u8(p + 32, veorq_u8(c, k));
        vst1q_u8(p + 48, veorq_u8(d, k));
    }
    for (; len >= 16; p += 16, len -= 16)
        vst1q_u8(p, veorq_u8(vld1q_u8(p), k));
    wsx__mask_word(p, len, key, offset);
}
#endif

/* The best variant the compiler lets us call unconditionally. */
#if defined(__AVX2__)
#define WSX_MASK_BASE wsx__mask_avx2
#elif defined(WSX_MASK_SSE2)
#define WSX_MASK_BASE wsx__mask_sse2
#elif defined(WSX_MASK_NEON)
#define WSX_MASK_BASE wsx_mask_neon
#else
#define WSX_MASK_BASE wsx__mask_word
#endif

void wsx_mask(uint8_t *p, size_t len, const uint8_t key[4], uint64_t offset)
{
    if (len < 64) {
        wsx__mask_short(p, len, key, offset);
        return;
    }
#ifdef WSX_MASK_AVX2_RUNTIME
    /* AVX2 is not baseline on x86-64. __builtin_cpu_supports reads what
     * libgcc recorded once at startup, so no state of ours is mutable.
     * Below a few vectors the check and alignment head do not pay. */
    if (len >= 256 && __builtin_cpu_supports("avx2")) {
        wsx__mask_avx2(p, len, key, offset);
        return;
    }
#endif
    WSX_MASK_BASE(p, len, key, offset);
}

/* AVX2 goes last so that a CPU without it can be given one entry less. */
static const wsx_mask_variant wsx_mask_table[] = {
    {"bytewise", wsx__mask_bytewise},
    {"word", wsx__mask_word},
#ifdef WSX_MASK_SSE2
    {"sse2", wsx__mask_sse2},
#endif
#ifdef WSX_MASK_NEON
    {"neon", wsx_mask_neon},
#endif
    {"auto", wsx_mask},
#ifdef WSX_MASK_AVX2
    {"avx2", wsx__mask_avx2},
#endif
};

size_t wsx__mask_variants(const wsx_mask_variant **v)
{
    size_t n = sizeof wsx_mask_table / sizeof wsx_mask_table[0];
    *v = wsx_mask_table;
#ifdef WSX_MASK_AVX2_RUNTIME
    if (!__builtin_cpu_supports("avx2"))
        n--;
#endif
    return n;
}
