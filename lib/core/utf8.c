/* utf8.c - streaming, fail-fast UTF-8 validation (RFC 3629 §3-4, as
 * RFC 6455 §8.1 requires for text): a 9-state machine run as two
 * interleaved streams, behind an ASCII fast path of 16 bytes per step, and
 * behind a SIMD check of whole 64-byte blocks where the CPU has one. */
#include <stdbool.h>
#include <string.h>

#include "wsx.h"
#include "utf8.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The state is a bit offset into a 64-bit transition row: the next state
 * is (row >> state) & 63, and the row is looked up from the byte alone.
 * Each state names what the rest of the current sequence still needs:
 * ACCEPT: between characters; CONT1..3: that many continuation bytes of
 * any value; the others constrain the second byte (RFC 3629 §4):
 * AFTER_E0 A0..BF (no overlong), AFTER_ED 80..9F (no surrogate),
 * AFTER_F0 90..BF (no overlong), AFTER_F4 80..8F (nothing past U+10FFFF).
 * REJECT absorbs everything, so an error stays an error. */
enum {
    ACCEPT = 0, /* must be WSX_UTF8_OK */
    REJECT = 6,
    CONT1 = 12,
    CONT2 = 18,
    CONT3 = 24,
    AFTER_E0 = 30,
    AFTER_ED = 36,
    AFTER_F0 = 42,
    AFTER_F4 = 48
};

#define WSX_T(state, next) ((uint64_t)(next) << (state))
#define WSX_ROW(acc, c1, c2, c3, e0, ed, f0, f4)                              \
    (WSX_T(ACCEPT, acc) | WSX_T(REJECT, REJECT) | WSX_T(CONT1, c1) |          \
     WSX_T(CONT2, c2) | WSX_T(CONT3, c3) | WSX_T(AFTER_E0, e0) |              \
     WSX_T(AFTER_ED, ed) | WSX_T(AFTER_F0, f0) | WSX_T(AFTER_F4, f4))
#define WSX_R REJECT

/* One row per kind of byte: the next state from ACCEPT, CONT1, CONT2,
 * CONT3, AFTER_E0, AFTER_ED, AFTER_F0 and AFTER_F4, in that order. */
#define WSX_ASCII \
    WSX_ROW(ACCEPT, WSX_R, WSX_R, WSX_R, WSX_R, WSX_R, WSX_R, WSX_R)
#define WSX_80_8F \
    WSX_ROW(WSX_R, ACCEPT, CONT1, CONT2, WSX_R, CONT1, WSX_R, CONT2)
#define WSX_90_9F \
    WSX_ROW(WSX_R, ACCEPT, CONT1, CONT2, WSX_R, CONT1, CONT2, WSX_R)
#define WSX_A0_BF \
    WSX_ROW(WSX_R, ACCEPT, CONT1, CONT2, CONT1, WSX_R, CONT2, WSX_R)
#define WSX_LEAD(next) \
    WSX_ROW(next, WSX_R, WSX_R, WSX_R, WSX_R, WSX_R, WSX_R, WSX_R)
#define WSX_BAD WSX_LEAD(REJECT)        /* C0 C1 F5..FF */
#define WSX_LEAD2 WSX_LEAD(CONT1)       /* C2..DF */
#define WSX_E0 WSX_LEAD(AFTER_E0)
#define WSX_LEAD3 WSX_LEAD(CONT2)       /* E1..EC EE EF */
#define WSX_ED WSX_LEAD(AFTER_ED)
#define WSX_F0 WSX_LEAD(AFTER_F0)
#define WSX_LEAD4 WSX_LEAD(CONT3)       /* F1..F3 */
#define WSX_F4 WSX_LEAD(AFTER_F4)
#define WSX_X4(c) c, c, c, c
#define WSX_X16(c) WSX_X4(c), WSX_X4(c), WSX_X4(c), WSX_X4(c)

/* Indexed by the byte itself, so a step costs one table load (2 KiB;
 * measured twice as fast on multibyte text as a byte-class table plus
 * twelve rows, which needs two dependent loads). */
static const uint64_t rows[256] = {
    WSX_X16(WSX_ASCII), WSX_X16(WSX_ASCII), WSX_X16(WSX_ASCII),
    WSX_X16(WSX_ASCII), WSX_X16(WSX_ASCII), WSX_X16(WSX_ASCII),
    WSX_X16(WSX_ASCII), WSX_X16(WSX_ASCII),                     /* 00..7F */
    WSX_X16(WSX_80_8F), WSX_X16(WSX_90_9F),
    WSX_X16(WSX_A0_BF), WSX_X16(WSX_A0_BF),                     /* 80..BF */
    WSX_BAD, WSX_BAD, WSX_LEAD2, WSX_LEAD2, WSX_X4(WSX_LEAD2),
    WSX_X4(WSX_LEAD2), WSX_X4(WSX_LEAD2), WSX_X16(WSX_LEAD2),   /* C0..DF */
    WSX_E0, WSX_LEAD3, WSX_LEAD3, WSX_LEAD3, WSX_X4(WSX_LEAD3),
    WSX_X4(WSX_LEAD3), WSX_LEAD3, WSX_ED, WSX_LEAD3, WSX_LEAD3, /* E0..EF */
    WSX_F0, WSX_LEAD4, WSX_LEAD4, WSX_LEAD4, WSX_F4, WSX_BAD, WSX_BAD,
    WSX_BAD, WSX_X4(WSX_BAD), WSX_X4(WSX_BAD),                  /* F0..FF */
};

#undef WSX_X16
#undef WSX_X4
#undef WSX_F4
#undef WSX_LEAD4
#undef WSX_F0
#undef WSX_ED
#undef WSX_LEAD3
#undef WSX_E0
#undef WSX_LEAD2
#undef WSX_BAD
#undef WSX_LEAD
#undef WSX_A0_BF
#undef WSX_90_9F
#undef WSX_80_8F
#undef WSX_ASCII
#undef WSX_R
#undef WSX_ROW
#undef WSX_T

/* The state is kept unmasked between steps: x86 shifts mask the count
 * themselves, so the serial dependency per byte is a single shift. */
static uint64_t step(uint64_t s, uint8_t b)
{
    return rows[b] >> (s & 63);
}

static bool is_cont(uint8_t b)
{
    return (b & 0xc0) == 0x80;
}

/* How many leading bytes of p[0..len) are ASCII, counted in whole 16-byte
 * blocks only: the state machine takes the rest. */
static size_t ascii_blocks(const uint8_t *p, size_t len)
{
    size_t i = 0;
#if defined(__SSE2__)
    for (; len - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        if (_mm_movemask_epi8(v))
            break;
    }
#else
    for (; len - i >= 16; i += 16) {
        uint64_t a, b;
        memcpy(&a, p + i, 8);
        memcpy(&b, p + i + 8, 8);
        if ((a | b) & 0x8080808080808080u)
            break;
    }
#endif
    return i;
}

/* Run the WSX_UTF8_BLOCK bytes at p from state s as two halves at once,
 * doubling throughput on the one-shift-per-byte dependency chain. The
 * second half starts at the first byte m past the middle that is not a
 * continuation byte: if the input is valid the state there is ACCEPT, and
 * if the first half does not end in ACCEPT then p[m] is itself an error.
 * Four continuation bytes in a row are never valid, so m stops three
 * bytes past the middle at most: if p[m] is still a continuation byte
 * there, the second stream rejects it at once. Returns the new state. */
#define WSX_UTF8_BLOCK 64
static uint64_t run_block(uint64_t s, const uint8_t *p)
{
    size_t m = WSX_UTF8_BLOCK / 2;
    for (int k = 0; k < 3 && is_cont(p[m]); k++)
        m++;
    const uint8_t *q = p + m;
    size_t nq = WSX_UTF8_BLOCK - m;
    uint64_t a = s, b = ACCEPT;
    for (size_t i = 0; i < nq; i++) {
        a = step(a, p[i]);
        b = step(b, q[i]);
    }
    for (size_t i = nq; i < m; i++)
        a = step(a, p[i]);
    return (a & 63) == ACCEPT ? b & 63 : REJECT;
}

static uint64_t run(uint64_t s, const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (s == ACCEPT) {
            i += ascii_blocks(p + i, len - i);
            if (i == len)
                break;
        }
        if (len - i >= WSX_UTF8_BLOCK) {
            s = run_block(s, p + i);
            i += WSX_UTF8_BLOCK;
        } else {
            for (; i < len; i++)
                s = step(s, p[i]);
            s &= 63;
        }
        /* REJECT is absorbing, so checking once per block still fails the
         * call that holds the first bad byte, and no earlier call. */
        if (s == REJECT)
            break;
    }
    return s;
}

/* A SIMD check passed p[0..n) but does not judge whether its last
 * character is complete: returns where that character starts if it is
 * cut short by the end (its lead is among the last three bytes), else n,
 * so the state machine takes the open sequence from its lead. Three
 * continuation bytes at the end close a 4-byte lead the check has seen. */
static size_t whole_chars(const uint8_t *p, size_t n)
{
    for (size_t k = 1; k <= 3; k++) {
        uint8_t b = p[n - k];
        if (!is_cont(b)) {
            size_t need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
            return need > k ? n - k : n;
        }
    }
    return n;
}

typedef bool (*simd_check)(const uint8_t *p, size_t n);

/* The state machine, with `check` (if any) taking the whole blocks that
 * follow the end of an open sequence. The check looks at no byte past the
 * call's input, so an error still fails the call that holds it, and no
 * earlier one; the state machine then sees what follows the last whole
 * character: the cut-off sequence and the last partial block. */
static int validate(uint32_t *state, const uint8_t *p, size_t len,
                    simd_check check)
{
    uint64_t s = *state & 63;
    size_t i = 0;
    if (check && len >= WSX_UTF8_SIMD_BLOCK) {
        for (; i < 3 && s != ACCEPT && s != REJECT; i++)
            s = step(s, p[i]) & 63;
        size_t n = (len - i) - (len - i) % WSX_UTF8_SIMD_BLOCK;
        if (s == ACCEPT && n > 0) {
            if (check(p + i, n))
                i += whole_chars(p + i, n);
            else
                s = REJECT;
        }
    }
    /* p may be NULL for an empty input: no pointer arithmetic then. */
    if (i < len)
        s = run(s, p + i, len - i);
    *state = (uint32_t)s;
    return s == REJECT ? WSX_EUTF8 : 0;
}

int wsx__utf8_portable(uint32_t *state, const uint8_t *p, size_t len)
{
    return validate(state, p, len, NULL);
}

#ifdef WSX_UTF8_AVX2
int wsx__utf8_avx2(uint32_t *state, const uint8_t *p, size_t len)
{
    return validate(state, p, len, wsx__utf8_check_avx2);
}
#endif

int wsx_utf8_validate(uint32_t *state, const uint8_t *p, size_t len)
{
#if defined(WSX_UTF8_AVX2_RUNTIME)
    /* AVX2 is not baseline on x86-64; __builtin_cpu_supports reads what
     * libgcc recorded once at startup, so no state of ours is mutable. */
    if (len >= WSX_UTF8_SIMD_BLOCK && __builtin_cpu_supports("avx2"))
        return wsx__utf8_avx2(state, p, len);
#elif defined(WSX_UTF8_AVX2)
    return wsx__utf8_avx2(state, p, len);
#endif
    return wsx__utf8_portable(state, p, len);
}

/* AVX2 goes last so that a CPU without it can be given one entry less. */
static const wsx_utf8_variant wsx_utf8_table[] = {
    {"portable", wsx__utf8_portable},
    {"auto", wsx_utf8_validate},
#ifdef WSX_UTF8_AVX2
    {"avx2", wsx__utf8_avx2},
#endif
};

size_t wsx__utf8_variants(const wsx_utf8_variant **v)
{
    size_t n = sizeof wsx_utf8_table / sizeof wsx_utf8_table[0];
    *v = wsx_utf8_table;
#ifdef WSX_UTF8_AVX2_RUNTIME
    if (!__builtin_cpu_supports("avx2"))
        n--;
#endif
    return n;
}
