/* test_utf8.c - streaming UTF-8 validation (RFC 3629, RFC 6455 §8.1): a
 * table of Markus Kuhn / Autobahn case 6 style sequences, each fed whole,
 * split at every byte and one byte at a time, checking the exact byte of
 * failure; then exhaustive and random comparisons with a plain decoder
 * written from RFC 3629 §4, covering the ASCII fast path at every
 * alignment. */
#include "test.h"
#include "utf8.h"

/* The variant under test: every case runs against each one this build
 * has and this CPU can run (portable, auto, SIMD), as test_x/variant. */
static wsx_utf8_fn utf8_validate = wsx_utf8_validate;

#define RUN_VARIANT(fn, variant)                                              \
    do {                                                                      \
        char name_[64];                                                       \
        snprintf(name_, sizeof name_, "%s/%s", #fn, variant);                 \
        RUN_AS(name_, fn());                                                  \
    } while (0)

typedef struct utf8_case {
    const char *s;
    size_t len;
    long fail;     /* index of the first byte that can never be valid, -1 */
    bool complete; /* when valid: no sequence open at the end */
} utf8_case;

#define OK(s) {s, sizeof(s) - 1, -1, true}
#define OPEN(s) {s, sizeof(s) - 1, -1, false}
#define BAD(s, at) {s, sizeof(s) - 1, at, false}
#define KOSME "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

static const utf8_case cases[] = {
    OK(""),
    OK("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"),
    OK(KOSME),
    /* Kuhn 2.1, 2.2: first and last sequence of each length. */
    OK("\x00"), OK("\xc2\x80"), OK("\xe0\xa0\x80"), OK("\xf0\x90\x80\x80"),
    OK("\x7f"), OK("\xdf\xbf"), OK("\xef\xbf\xbf"), OK("\xf4\x8f\xbf\xbf"),
    /* Kuhn 2.3: around the surrogates and at the end of the BMP. */
    OK("\xed\x9f\xbf"), OK("\xee\x80\x80"), OK("\xef\xbf\xbd"),
    /* Noncharacters are valid UTF-8 (Kuhn 5.3, Autobahn 6.9.x). */
    OK("\xef\xbf\xbe"), OK("\xf0\x9f\xbf\xbf"), OK("\xf4\x8f\xbf\xbe"),
    OK("\xf0\x9f\x98\x80 \xe2\x82\xac \xd0\x9f"),
    /* Valid so far, a sequence still open at the end. */
    OPEN("\xc2"), OPEN("\xe0"), OPEN("\xe0\xa0"), OPEN("\xed\x9f"),
    OPEN("\xf0\x90\x80"), OPEN("\xf4\x8f\xbf"), OPEN("\xce\xba\xe1\xbd"),
    OPEN("\xf1"), OPEN("\xf3\xbf\xbf"),
    /* Kuhn 3.1: unexpected continuation bytes. */
    BAD("\x80", 0), BAD("\xbf", 0), BAD("\x80\xbf", 0), BAD("a\x80", 1),
    BAD("\xe0\xa0\x80\x80", 3), BAD("\xc2\x80\xbf", 2),
    /* Kuhn 3.2: lonely start bytes followed by a space. */
    BAD("\xc2\x20", 1), BAD("\xdf\x20", 1), BAD("\xe0\x20", 1),
    BAD("\xe1\x80\x20", 2), BAD("\xef\x20", 1), BAD("\xf0\x90\x20", 2),
    BAD("\xf1\x80\x80\x20", 3), BAD("\xf4\x20", 1),
    /* Kuhn 3.3, 3.4: sequences cut short by the next character. */
    BAD("\xc2\xc2\x80", 1), BAD("\xe2\x82" "a", 2), BAD("\xf0\x9f\x98" "a", 3),
    BAD("\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80", 0),
    BAD("\xf4\x8f\xbf\xc0", 3),
    /* Kuhn 3.5: bytes that never appear. */
    BAD("\xfe", 0), BAD("\xff", 0), BAD("\xfe\xfe\xff\xff", 0),
    BAD("\xc0", 0), BAD("\xc1", 0), BAD("\xf5", 0), BAD("\xf7\xbf\xbf\xbf", 0),
    BAD("\xf8\x88\x80\x80\x80", 0), BAD("\xfc\x84\x80\x80\x80\x80", 0),
    /* Kuhn 4: overlong forms fail at the first byte that proves it. */
    BAD("\xc0\xaf", 0), BAD("\xc0\x80", 0), BAD("\xc1\xbf", 0),
    BAD("\xe0\x80\xaf", 1), BAD("\xe0\x9f\xbf", 1), BAD("\xe0\x80\x80", 1),
    BAD("\xf0\x80\x80\xaf", 1), BAD("\xf0\x8f\xbf\xbf", 1),
    BAD("\xf8\x80\x80\x80\xaf", 0), BAD("\xfc\x80\x80\x80\x80\xaf", 0),
    /* Kuhn 5.1, 5.2: surrogates, single and paired (CESU-8). */
    BAD("\xed\xa0\x80", 1), BAD("\xed\xad\xbf", 1), BAD("\xed\xae\x80", 1),
    BAD("\xed\xaf\xbf", 1), BAD("\xed\xb0\x80", 1), BAD("\xed\xbe\x80", 1),
    BAD("\xed\xbf\xbf", 1), BAD("\xed\xa0\x80\xed\xb0\x80", 1),
    BAD("\xed\xaf\xbf\xed\xbf\xbf", 1),
    /* Above U+10FFFF. */
    BAD("\xf4\x90\x80\x80", 1), BAD("\xf4\xbf\xbf\xbf", 1),
    BAD("\xf5\x80\x80\x80", 0),
    /* Autobahn 6.3.1 and 6.4.1-4: fail fast inside a longer message. */
    BAD(KOSME "\xed\xa0\x80" "edited", 12),
    BAD(KOSME "\xf4\x90\x80\x80" "edited", 12),
    BAD(KOSME "\xf4\x90", 12),
    BAD("0123456789abcdefghij" KOSME "\xc2" "edited", 32),
};

/* Feed p[0..len) as the chunks between consecutive cuts (cuts[0] = 0,
 * cuts[n-1] = len), each copied against a guard page. The call holding the
 * failing byte, and no earlier one, must fail. Returns the final state. */
static uint32_t feed_cuts(const uint8_t *p, const size_t *cuts, size_t n,
                          long fail, bool *ok)
{
    uint32_t st = WSX_UTF8_OK;
    *ok = true;
    for (size_t i = 0; i + 1 < n; i++) {
        size_t a = cuts[i], b = cuts[i + 1];
        test_guard g = test_guard_copy(p + a, b - a);
        int r = utf8_validate(&st, g.data, b - a);
        test_guard_free(&g);
        bool fails_here = fail >= 0 && (size_t)fail < b;
        if (r != (fails_here ? WSX_EUTF8 : 0))
            *ok = false;
        if (fails_here)
            break;
    }
    return st;
}

static void test_table(void)
{
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const utf8_case *c = &cases[ci];
        const uint8_t *p = (const uint8_t *)c->s;
        size_t cuts[64];
        bool ok;
        uint32_t st;
        /* Whole. */
        cuts[0] = 0;
        cuts[1] = c->len;
        st = feed_cuts(p, cuts, 2, c->fail, &ok);
        if (!ok)
            fprintf(stderr, "case %zu failed whole\n", ci);
        CHECK(ok);
        if (c->fail < 0)
            CHECK_EQ(st == WSX_UTF8_OK, c->complete);
        /* Split in two at every position. */
        for (size_t k = 0; k <= c->len; k++) {
            size_t two[3] = {0, k, c->len};
            st = feed_cuts(p, two, 3, c->fail, &ok);
            CHECK(ok);
            if (c->fail < 0)
                CHECK_EQ(st == WSX_UTF8_OK, c->complete);
        }
        /* One byte per call: pins the exact failing byte. */
        for (size_t k = 0; k <= c->len; k++)
            cuts[k] = k;
        st = feed_cuts(p, cuts, c->len + 1, c->fail, &ok);
        if (!ok)
            fprintf(stderr, "case %zu failed bytewise\n", ci);
        CHECK(ok);
        if (c->fail < 0)
            CHECK_EQ(st == WSX_UTF8_OK, c->complete);
    }
}

/* The oracle: Unicode's table of well-formed sequences (RFC 3629 §4),
 * walked one sequence at a time. Returns the first byte that cannot be
 * valid, or -1 (then *complete says whether the end is a boundary). */
static long oracle(const uint8_t *p, size_t len, bool *complete)
{
    size_t i = 0;
    *complete = false;
    while (i < len) {
        uint8_t b = p[i], lo = 0x80, hi = 0xbf;
        size_t n;
        if (b < 0x80) {
            i++;
            continue;
        } else if (b >= 0xc2 && b <= 0xdf) {
            n = 1;
        } else if (b >= 0xe0 && b <= 0xef) {
            n = 2;
            lo = b == 0xe0 ? 0xa0 : 0x80;
            hi = b == 0xed ? 0x9f : 0xbf;
        } else if (b >= 0xf0 && b <= 0xf4) {
            n = 3;
            lo = b == 0xf0 ? 0x90 : 0x80;
            hi = b == 0xf4 ? 0x8f : 0xbf;
        } else {
            return (long)i;
        }
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len)
                return -1;
            uint8_t c = p[i + k];
            if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xbf))
                return (long)(i + k);
        }
        i += n + 1;
    }
    *complete = true;
    return -1;
}

static size_t encode(uint8_t *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xc0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 63));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xe0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 63));
        o[2] = (uint8_t)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (uint8_t)(0xf0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 63));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 63));
    o[3] = (uint8_t)(0x80 | (cp & 63));
    return 4;
}

/* One call over p[0..len) agrees with the oracle; returns mismatches. */
static long agree(const uint8_t *p, size_t len)
{
    bool complete;
    long fail = oracle(p, len, &complete);
    uint32_t st = WSX_UTF8_OK;
    int r = utf8_validate(&st, p, len);
    if (fail >= 0)
        return r != WSX_EUTF8;
    return r != 0 || (st == WSX_UTF8_OK) != complete;
}

/* Every code point, in one buffer: valid except the surrogates. */
static void test_all_code_points(void)
{
    uint8_t *buf = malloc(5 << 20);
    size_t n = 0;
    long bad = 0;
    for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff) {
            uint8_t s[4];
            encode(s, cp);
            uint32_t st = WSX_UTF8_OK;
            bad += utf8_validate(&st, s, 1) != 0;
            bad += utf8_validate(&st, s + 1, 1) != WSX_EUTF8;
            continue;
        }
        n += encode(buf + n, cp);
    }
    uint32_t st = WSX_UTF8_OK;
    CHECK_EQ(utf8_validate(&st, buf, n), 0);
    CHECK_EQ(st, WSX_UTF8_OK);
    CHECK_EQ(bad, 0);
    free(buf);
}

/* Every 1- and 2-byte string, and every 3-byte string whose last byte is
 * one of the class edges. */
static void test_exhaustive_short(void)
{
    static const uint8_t edges[] = {0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f,
                                    0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xff};
    long bad = 0;
    uint8_t s[3];
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (uint8_t)a;
        bad += agree(s, 1);
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (uint8_t)b;
            bad += agree(s, 2);
            for (size_t e = 0; e < sizeof edges; e++) {
                s[2] = edges[e];
                bad += agree(s, 3);
            }
        }
    }
    CHECK_EQ(bad, 0);
}

/* ASCII around one interesting sequence at every position of a buffer
 * longer than several fast-path blocks: the fast path must hand over at
 * the right byte whatever the alignment. */
static void test_fast_path(void)
{
    static const struct { const char *s; size_t len; } seqs[] = {
        {"\x80", 1}, {"\xff", 1}, {"\xc0", 1}, {"\xc2\xa9", 2},
        {"\xe2\x82\xac", 3}, {"\xf0\x9f\x98\x80", 4}, {"\xed\xa0\x80", 3},
        {"\xf4\x90\x80\x80", 4}, {"\xe2\x82", 2}, {"\xf0\x9f\x98", 3},
    };
    uint8_t buf[200];
    long bad = 0;
    for (size_t si = 0; si < sizeof seqs / sizeof seqs[0]; si++)
        for (size_t pos = 0; pos + seqs[si].len <= sizeof buf; pos++) {
            memset(buf, 'x', sizeof buf);
            memcpy(buf + pos, seqs[si].s, seqs[si].len);
            for (size_t end = pos; end <= sizeof buf; end += end < pos + 40 ? 1 : 37)
                bad += agree(buf, end);
            bool complete;
            long fail = oracle(buf, sizeof buf, &complete);
            if (fail >= 0) {
                /* The prefix before the bad byte passes, one more fails. */
                uint32_t st = WSX_UTF8_OK;
                bad += utf8_validate(&st, buf, (size_t)fail) != 0;
                st = WSX_UTF8_OK;
                bad += utf8_validate(&st, buf, (size_t)fail + 1) != WSX_EUTF8;
            }
        }
    CHECK_EQ(bad, 0);
}

/* Random text built from ASCII runs, characters of every length and the
 * odd random byte, fed in random pieces, against the oracle. */
static void test_random(void)
{
    uint64_t seed = 2024;
    uint8_t buf[600];
    long bad = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 0, target = (size_t)(test_rand(&seed) % 500);
        while (n < target) {
            uint64_t r = test_rand(&seed);
            switch (r % 8) {
            case 0:
            case 1:
            case 2: {
                size_t run = (size_t)(r >> 8) % 40;
                memset(buf + n, 'a' + (int)(r >> 16) % 26, run);
                n += run;
                break;
            }
            case 7:
                if ((r >> 8) % 16 == 0) {
                    buf[n++] = (uint8_t)(r >> 16);
                    break;
                }
                /* fall through */
            default: {
                uint32_t cp = (uint32_t)((r >> 8) % 0x110000);
                if (cp >= 0xd800 && cp <= 0xdfff)
                    cp = 0xfffd;
                n += encode(buf + n, cp);
            }
            }
        }
        bool complete;
        long fail = oracle(buf, n, &complete);
        bad += agree(buf, n);
        /* Random pieces; the piece holding the bad byte must fail. */
        uint32_t st = WSX_UTF8_OK;
        size_t pos = 0;
        while (pos < n) {
            size_t piece = 1 + (size_t)(test_rand(&seed) % 70);
            if (piece > n - pos)
                piece = n - pos;
            int r = utf8_validate(&st, buf + pos, piece);
            bool here = fail >= 0 && (size_t)fail < pos + piece;
            bad += r != (here ? WSX_EUTF8 : 0);
            if (here)
                break;
            pos += piece;
        }
        if (fail < 0)
            bad += (st == WSX_UTF8_OK) != complete;
    }
    CHECK_EQ(bad, 0);
}

/* Around the middle of a 64-byte block the validator splits the work in
 * two at a character boundary: random bytes from a small alphabet of
 * leads, continuations and ASCII there, against the oracle. The buffer
 * opens with a non-ASCII character so the block starts at byte 0. */
static void test_block_split(void)
{
    static const uint8_t alpha[] = {'a', 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
                                    0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xf0,
                                    0xf1, 0xf4, 0xc0, 0xff};
    uint64_t seed = 77;
    uint8_t buf[140];
    long bad = 0;
    memset(buf, 'x', sizeof buf);
    memcpy(buf, "\xc2\xa9", 2);
    for (int iter = 0; iter < 100000; iter++) {
        uint64_t r = test_rand(&seed);
        size_t base = 24 + (size_t)(r % 8) + (r & 8 ? 64 : 0);
        for (size_t k = 0; k < 14; k++) {
            r = k % 4 ? r >> 8 : test_rand(&seed);
            buf[base + k] = alpha[(r & 0xff) % sizeof alpha];
        }
        bad += agree(buf, sizeof buf);
        bad += agree(buf, base + 14);
        memset(buf + base, 'x', 14);
    }
    CHECK_EQ(bad, 0);
}

/* After a failure the state stays failed, even for empty input. */
static void test_sticky(void)
{
    uint32_t st = WSX_UTF8_OK;
    CHECK_EQ(utf8_validate(&st, (const uint8_t *)"\xff", 1), WSX_EUTF8);
    CHECK_EQ(utf8_validate(&st, (const uint8_t *)"a", 1), WSX_EUTF8);
    CHECK_EQ(utf8_validate(&st, NULL, 0), WSX_EUTF8);
}

/* Text with no ASCII at all keeps the SIMD check off its ASCII shortcut:
 * one byte replaced, at every position of four 64-byte blocks, by every
 * kind of byte, so each error class lands on every lane and block edge. */
static void test_dense_text(void)
{
    static const uint8_t alpha[] = {'a', 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
                                    0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xf0,
                                    0xf1, 0xf4, 0xf5, 0xff};
    static const uint32_t cps[] = {0x3b1, 0x20ac, 0x1f600, 0x4e16, 0x10ffff,
                                   0xe9, 0xd7ff, 0x800, 0x10000};
    uint8_t text[256 + 4], buf[256];
    size_t n = 0;
    long bad = 0;
    for (size_t k = 0; n < sizeof buf; k++)
        n += encode(text + n, cps[k % (sizeof cps / sizeof cps[0])]);
    for (size_t pos = 0; pos < sizeof buf; pos++)
        for (size_t a = 0; a < sizeof alpha; a++) {
            memcpy(buf, text, sizeof buf);
            buf[pos] = alpha[a];
            bad += agree(buf, sizeof buf);
            bad += agree(buf, 64 + pos % 192);
        }
    CHECK_EQ(bad, 0);
}

int main(void)
{
    const wsx_utf8_variant *v;
    size_t nv = wsx__utf8_variants(&v);
    CHECK(nv >= 2);
    for (size_t i = 0; i < nv; i++) {
        utf8_validate = v[i].fn;
        RUN_VARIANT(test_table, v[i].name);
        RUN_VARIANT(test_all_code_points, v[i].name);
        RUN_VARIANT(test_exhaustive_short, v[i].name);
        RUN_VARIANT(test_fast_path, v[i].name);
        RUN_VARIANT(test_random, v[i].name);
        RUN_VARIANT(test_block_split, v[i].name);
        RUN_VARIANT(test_dense_text, v[i].name);
        RUN_VARIANT(test_sticky, v[i].name);
    }
    return test_summary("test_utf8");
}
