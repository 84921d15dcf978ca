/* test_mask.c - masking (RFC 6455 §5.3): every variant gives the bytes of
 * a plain reference for every length 0..300, offset 0..7 and start
 * misalignment 0..15, touches nothing outside [p, p+len), never reads past
 * the end (guard page), undoes itself, and may be applied in pieces. */
#include "test.h"
#include "mask.h"

#define MAXLEN 300
#define SLACK 48

static void reference(uint8_t *p, size_t len, const uint8_t key[4],
                      uint64_t offset)
{
    for (size_t i = 0; i < len; i++)
        p[i] ^= key[(offset + i) % 4];
}

static void fill(uint8_t *p, size_t n, uint64_t *seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)test_rand(seed);
}

static void test_rfc_example(const wsx_mask_variant *v, size_t nv)
{
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    static const uint8_t masked[5] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
    for (size_t i = 0; i < nv; i++) {
        uint8_t b[5];
        memcpy(b, "Hello", 5);
        v[i].fn(b, 5, key, 0);
        CHECK(memcmp(b, masked, 5) == 0);
    }
}

/* Each variant against the reference, with canaries on both sides. */
static void test_all_shapes(const wsx_mask_variant *v, size_t nv)
{
    static uint8_t orig[MAXLEN + 2 * SLACK], want[sizeof orig], got[sizeof orig];
    uint64_t seed = 7;
    uint8_t key[4];
    for (size_t vi = 0; vi < nv; vi++) {
        long bad = 0;
        for (size_t len = 0; len <= MAXLEN; len++)
            for (uint64_t off = 0; off < 8; off++)
                for (size_t mis = 0; mis < 16; mis++) {
                    fill(orig, sizeof orig, &seed);
                    fill(key, 4, &seed);
                    memcpy(want, orig, sizeof orig);
                    memcpy(got, orig, sizeof orig);
                    reference(want + SLACK + mis, len, key, off);
                    v[vi].fn(got + SLACK + mis, len, key, off);
                    bad += memcmp(want, got, sizeof got) != 0;
                }
        if (bad)
            fprintf(stderr, "variant %s: %ld mismatches\n", v[vi].name, bad);
        CHECK_EQ(bad, 0);
    }
}

/* Payload ending at a PROT_NONE page: a wide load past len would fault. */
static void test_guard_page(const wsx_mask_variant *v, size_t nv)
{
    static const uint8_t key[4] = {1, 2, 3, 4};
    uint8_t src[MAXLEN], want[MAXLEN];
    uint64_t seed = 11;
    fill(src, sizeof src, &seed);
    for (size_t vi = 0; vi < nv; vi++) {
        long bad = 0;
        for (size_t len = 0; len <= MAXLEN; len++) {
            test_guard g = test_guard_copy(src, len);
            memcpy(want, src, len);
            reference(want, len, key, len);
            v[vi].fn(g.data, len, key, len);
            bad += len && memcmp(g.data, want, len) != 0;
            test_guard_free(&g);
        }
        CHECK_EQ(bad, 0);
    }
}

/* Large buffers, masking twice restores, and piecewise equals whole. */
static void test_big(const wsx_mask_variant *v, size_t nv)
{
    static const uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};
    size_t n = (1u << 20) + 13;
    uint8_t *orig = malloc(n), *want = malloc(n), *got = malloc(n);
    uint64_t seed = 99;
    fill(orig, n, &seed);
    memcpy(want, orig, n);
    /* A huge offset: only offset % 4 may matter. */
    uint64_t off = (1ull << 40) + 3;
    reference(want + 1, n - 1, key, off);
    for (size_t vi = 0; vi < nv; vi++) {
        memcpy(got, orig, n);
        v[vi].fn(got + 1, n - 1, key, off);
        CHECK(memcmp(got, want, n) == 0);
        v[vi].fn(got + 1, n - 1, key, off);
        CHECK(memcmp(got, orig, n) == 0);
        memcpy(got, orig, n);
        size_t pos = 1;
        while (pos < n) {
            size_t piece = (size_t)(test_rand(&seed) % 5000);
            if (piece > n - pos)
                piece = n - pos;
            v[vi].fn(got + pos, piece, key, off + pos - 1);
            pos += piece;
        }
        CHECK(memcmp(got, want, n) == 0);
    }
    free(orig);
    free(want);
    free(got);
}

int main(void)
{
    const wsx_mask_variant *v;
    size_t nv = wsx__mask_variants(&v);
    CHECK(nv >= 3); /* bytewise, word, auto at least */
    for (size_t i = 0; i < nv; i++)
        printf("variant %s\n", v[i].name);
    RUN_AS("test_rfc_example", test_rfc_example(v, nv));
    RUN_AS("test_all_shapes", test_all_shapes(v, nv));
    RUN_AS("test_guard_page", test_guard_page(v, nv));
    RUN_AS("test_big", test_big(v, nv));
    return test_summary("test_mask");
}
