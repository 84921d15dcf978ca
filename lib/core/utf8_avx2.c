/* utf8_avx2.c - UTF-8 validation 64 bytes per step with AVX2 (RFC 3629 §4),
 * by the lookup-table method Keiser and Lemire published ("Validating UTF-8
 * in less than one instruction per byte", Software: Practice and
 * Experience, 2021). utf8.c runs the state machine around it. */
#include "utf8.h"

#ifdef WSX_UTF8_AVX2
#include <immintrin.h>

#ifdef WSX_UTF8_AVX2_RUNTIME
#define WSX_AVX2_FN __attribute__((target("avx2")))
#else
#define WSX_AVX2_FN
#endif

/* Every ill-formed sequence shows in one pair (previous byte, this byte),
 * except a missing or surplus third or fourth byte, which needs the bytes
 * two and three back. Each class of pair error is one bit; three tables,
 * indexed by the previous byte's high nibble, its low nibble and this
 * byte's high nibble, each hold the classes that nibble allows, so a bit
 * that survives the AND of the three is an error (two classes share bit 6:
 * no nibble allows both). */
enum {
    TOO_SHORT = 1 << 0,      /* lead, then ASCII or a lead */
    TOO_LONG = 1 << 1,       /* ASCII, then a continuation */
    OVERLONG_3 = 1 << 2,     /* E0 80..9F */
    TOO_LARGE = 1 << 3,      /* F4 90..BF, F5..FF 90..BF */
    SURROGATE = 1 << 4,      /* ED A0..BF */
    OVERLONG_2 = 1 << 5,     /* C0..C1, then a continuation */
    OVERLONG_4 = 1 << 6,     /* F0 80..8F */
    TOO_LARGE_1000 = 1 << 6, /* F5..FF 80..8F */
    /* Continuation after continuation: right exactly when the byte two
     * back is a 3- or 4-byte lead or the byte three back a 4-byte lead. */
    TWO_CONTS = 1 << 7,
    /* The classes the previous byte's low nibble has no say in. */
    CARRY = TOO_SHORT | TOO_LONG | TWO_CONTS
};

static const uint8_t prev_high[16] = {
    TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
    TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,               /* 0x..7x ASCII */
    TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,           /* 8x..Bx */
    TOO_SHORT | OVERLONG_2,                               /* Cx */
    TOO_SHORT,                                            /* Dx */
    TOO_SHORT | OVERLONG_3 | SURROGATE,                   /* Ex */
    TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4,  /* Fx */
};

static const uint8_t prev_low[16] = {
    CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,         /* x0 */
    CARRY | OVERLONG_2,                                   /* x1 */
    CARRY, CARRY,                                         /* x2, x3 */
    CARRY | TOO_LARGE,                                    /* x4 */
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,                   /* x5..xC */
    CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,       /* xD */
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,                   /* xE, xF */
};

#define WSX_CONT_ANY (TOO_LONG | OVERLONG_2 | TWO_CONTS)
static const uint8_t this_high[16] = {
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,           /* 0x..7x */
    WSX_CONT_ANY | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4, /* 8x */
    WSX_CONT_ANY | OVERLONG_3 | TOO_LARGE,                /* 9x */
    WSX_CONT_ANY | SURROGATE | TOO_LARGE,
    WSX_CONT_ANY | SURROGATE | TOO_LARGE,                 /* Ax, Bx */
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,           /* Cx..Fx */
};
#undef WSX_CONT_ANY

/* The bytes k back from each byte of cur, the first k from prev: lanes are
 * 128 bits, so the two halves are stitched first. */
#define WSX_BACK(cur, prev, k)                                               \
    _mm256_alignr_epi8((cur), _mm256_permute2x128_si256((prev), (cur), 0x21), \
                       16 - (k))

/* A 16-byte table in both lanes, as vpshufb looks up within a lane. */
#define WSX_LUT(t)                                                           \
    _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(t)))

typedef struct utf8_luts {
    __m256i prev_high, prev_low, this_high, nibble;
} utf8_luts;

/* Nonzero bytes where cur, following prev, is ill-formed. */
WSX_AVX2_FN static __m256i block_errors(const utf8_luts *t, __m256i cur,
                                        __m256i prev)
{
    __m256i p1 = WSX_BACK(cur, prev, 1);
    __m256i a = _mm256_shuffle_epi8(
        t->prev_high, _mm256_and_si256(_mm256_srli_epi16(p1, 4), t->nibble));
    __m256i b = _mm256_shuffle_epi8(t->prev_low,
                                    _mm256_and_si256(p1, t->nibble));
    __m256i c = _mm256_shuffle_epi8(
        t->this_high, _mm256_and_si256(_mm256_srli_epi16(cur, 4), t->nibble));
    __m256i pairs = _mm256_and_si256(_mm256_and_si256(a, b), c);
    /* Saturating subtraction leaves bit 7 set exactly for a lead of 3+
     * bytes two back (E0..FF - 0x60 >= 0x80) or of 4 bytes three back. */
    __m256i third = _mm256_subs_epu8(WSX_BACK(cur, prev, 2),
                                     _mm256_set1_epi8(0xe0 - 0x80));
    __m256i fourth = _mm256_subs_epu8(WSX_BACK(cur, prev, 3),
                                      _mm256_set1_epi8(0xf0 - 0x80));
    __m256i must_cont = _mm256_and_si256(_mm256_or_si256(third, fourth),
                                         _mm256_set1_epi8((char)TWO_CONTS));
    return _mm256_xor_si256(must_cont, pairs);
}

WSX_AVX2_FN bool wsx__utf8_check_avx2(const uint8_t *p, size_t n)
{
    const utf8_luts t = {WSX_LUT(prev_high), WSX_LUT(prev_low),
                         WSX_LUT(this_high), _mm256_set1_epi8(0x0f)};
    /* A lead in the last three bytes still waiting for continuations:
     * only a byte above these limits is one. */
    const __m256i last_leads = _mm256_setr_epi8(
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, (char)(0xf0 - 1),
        (char)(0xe0 - 1), (char)(0xc0 - 1));
    const __m256i high = _mm256_set1_epi8((char)0x80);
    __m256i prev = _mm256_setzero_si256(), open = prev, err = prev;
    for (size_t i = 0; i < n; i += WSX_UTF8_SIMD_BLOCK) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(p + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(p + i + 32));
        if (_mm256_testz_si256(_mm256_or_si256(a, b), high)) {
            /* ASCII text skips the tables: it is wrong only where the
             * block before left a sequence open. */
            err = _mm256_or_si256(err, open);
            open = _mm256_setzero_si256();
        } else {
            err = _mm256_or_si256(err, block_errors(&t, a, prev));
            err = _mm256_or_si256(err, block_errors(&t, b, a));
            open = _mm256_subs_epu8(b, last_leads);
        }
        prev = b;
    }
    return _mm256_testz_si256(err, err);
}
#endif
