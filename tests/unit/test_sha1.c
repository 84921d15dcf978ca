/* test_sha1.c - SHA-1 against the FIPS 180 examples (also fed in every
 * split), every block variant this CPU runs (SHA-NI) against the same
 * vectors and the portable one, Base64 against RFC 4648 §10 with
 * strict-decoding rejections, and the Sec-WebSocket-Accept example of
 * RFC 6455 §1.3. */
#include "test.h"

#include "sha1.h"

static void hex(char *out, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void sha1_hex(char out[41], const void *p, size_t len)
{
    wsx_sha1 s;
    uint8_t d[20];
    wsx_sha1_init(&s);
    wsx_sha1_update(&s, p, len);
    wsx_sha1_final(&s, d);
    hex(out, d, 20);
}

static void test_sha1_vectors(void)
{
    static const struct { const char *in, *digest; } v[] = {
        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
         "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "a49b2446a02c645bf419f995b67091253a04a259"},
        {"The quick brown fox jumps over the lazy dog",
         "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"},
    };
    char got[41];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t len = strlen(v[i].in);
        sha1_hex(got, v[i].in, len);
        CHECK(strcmp(got, v[i].digest) == 0);
        /* Any split into two updates gives the same digest. */
        for (size_t k = 0; k <= len; k++) {
            wsx_sha1 s;
            uint8_t d[20];
            wsx_sha1_init(&s);
            wsx_sha1_update(&s, v[i].in, k);
            wsx_sha1_update(&s, v[i].in + k, len - k);
            wsx_sha1_final(&s, d);
            hex(got, d, 20);
            CHECK(strcmp(got, v[i].digest) == 0);
        }
    }
}

/* FIPS 180: one million 'a', fed in uneven pieces. */
static void test_sha1_million(void)
{
    static uint8_t a[1000];
    memset(a, 'a', sizeof a);
    wsx_sha1 s;
    uint8_t d[20];
    char got[41];
    wsx_sha1_init(&s);
    size_t left = 1000000, piece = 1;
    while (left) {
        size_t n = piece < left ? piece : left;
        wsx_sha1_update(&s, a, n);
        left -= n;
        piece = piece % 937 + 61; /* stays below sizeof a */
    }
    wsx_sha1_final(&s, d);
    hex(got, d, 20);
    CHECK(strcmp(got, "34aa973cd4c4daa4f61eeb2bdbad27316534016f") == 0);
}

/* Padding edges: lengths 55, 56, 63, 64 take one or two final blocks. */
static void test_sha1_padding(void)
{
    static const struct { size_t len; const char *digest; } v[] = {
        {55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
        {56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
        {63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"},
        {64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"},
    };
    char buf[64], got[41];
    memset(buf, 'a', sizeof buf);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        sha1_hex(got, buf, v[i].len);
        CHECK(strcmp(got, v[i].digest) == 0);
    }
}

/* One digest through a given block function, in pieces of `piece` bytes. */
static void sha1_with(uint8_t d[20], wsx_sha1_blocks_fn fn, const uint8_t *p,
                      size_t len, size_t piece)
{
    wsx_sha1 s;
    wsx_sha1_init(&s);
    for (size_t i = 0; i < len; i += piece)
        wsx__sha1_update_with(&s, p + i, len - i < piece ? len - i : piece, fn);
    wsx__sha1_final_with(&s, d, fn);
}

/* Each variant gives the FIPS 180 digests, and the portable one's digest
 * for random data of every length 0..300 and a few large ones, fed whole
 * and in 7-byte pieces. */
static void test_sha1_variants(void)
{
    static const struct { const char *in, *digest; } v[] = {
        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
         "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "a49b2446a02c645bf419f995b67091253a04a259"},
        /* RFC 6455 §1.3: key + GUID, whose digest is the example accept. */
        {"dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
         "b37a4f2cc0624f1690f64606cf385945b2bec4ea"},
    };
    const wsx_sha1_variant *var;
    size_t nv = wsx__sha1_variants(&var);
    CHECK(nv >= 2);
    CHECK(strcmp(var[0].name, "portable") == 0);
    static uint8_t data[4099];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof data; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        data[i] = (uint8_t)x;
    }
    static const size_t big[] = {1023, 1024, 4096, 4099};
    for (size_t k = 0; k < nv; k++) {
        char got[41];
        uint8_t d[20], want[20];
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
            sha1_with(d, var[k].fn, (const uint8_t *)v[i].in, strlen(v[i].in),
                      SIZE_MAX);
            hex(got, d, 20);
            CHECK(strcmp(got, v[i].digest) == 0);
        }
        for (size_t len = 0; len < 300 + sizeof big / sizeof big[0]; len++) {
            size_t n = len < 300 ? len : big[len - 300];
            sha1_with(want, wsx__sha1_blocks_portable, data, n, SIZE_MAX);
            sha1_with(d, var[k].fn, data, n, SIZE_MAX);
            CHECK(memcmp(d, want, 20) == 0);
            sha1_with(d, var[k].fn, data, n, 7);
            CHECK(memcmp(d, want, 20) == 0);
        }
    }
#ifdef WSX_SHA1_SHANI
    /* Where the CPU has SHA-NI, it is listed, last; valgrind's synthetic
     * CPU has not (the portable path runs under `make check-valgrind`). */
    printf("test_sha1: %zu variants, last \"%s\"\n", nv, var[nv - 1].name);
#endif
}

static void test_base64(void)
{
    /* RFC 4648 §10. */
    static const char *const enc[] = {"", "Zg==", "Zm8=", "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    const char *plain = "foobar";
    char out[16];
    uint8_t dec[16];
    for (size_t n = 0; n <= 6; n++) {
        CHECK_EQ(wsx_base64_encode(out, (const uint8_t *)plain, n), strlen(enc[n]));
        CHECK(strcmp(out, enc[n]) == 0);
        CHECK_EQ(wsx_base64_decode(dec, sizeof dec, enc[n], strlen(enc[n])), (int)n);
        CHECK(memcmp(dec, plain, n) == 0);
        /* Exactly n bytes of room suffice; one less does not. */
        CHECK_EQ(wsx_base64_decode(dec, n, enc[n], strlen(enc[n])), (int)n);
        if (n)
            CHECK_EQ(wsx_base64_decode(dec, n - 1, enc[n], strlen(enc[n])),
                     WSX_ENOSPC);
    }
    /* All 256 byte values survive a round trip at every length mod 3. */
    uint8_t all[256], back[256];
    char txt[345];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    for (size_t n = 253; n <= 256; n++) {
        size_t m = wsx_base64_encode(txt, all, n);
        CHECK_EQ(m, (n + 2) / 3 * 4);
        CHECK_EQ(wsx_base64_decode(back, sizeof back, txt, m), (int)n);
        CHECK(memcmp(back, all, n) == 0);
    }
    /* Strict decoding (RFC 4648 §3.3, §3.5). */
    static const char *const bad[] = {
        "Zg",       /* padding missing */
        "Zg=",      /* length not a multiple of 4 */
        "Zh==",     /* non-zero pad bits (one byte) */
        "ZI==",     /* the lowest of the four pad bits set */
        "Zm9=",     /* non-zero pad bits (two bytes) */
        "Zm+=",     /* the higher of the two pad bits set */
        "Z===",     /* too much padding */
        "====",     /* only padding */
        "Zg==Zg==", /* padding inside */
        "Zm=v",     /* padding inside a group */
        "Zm9v\n",   /* whitespace */
        "Zm 9v",    /* whitespace */
        "Zm9-",     /* base64url alphabet */
        "Zm9_",
        "Zm9\x80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(wsx_base64_decode(dec, sizeof dec, bad[i], strlen(bad[i])),
                 WSX_EINVAL);
}

/* A decoder written the plain way, one character class test at a time. */
static int ref_value(int ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

static int ref_decode(uint8_t *out, const char *in, size_t len)
{
    size_t pad = len && in[len - 1] == '=' ? (in[len - 2] == '=' ? 2 : 1) : 0;
    uint32_t bits = 0;
    int nbits = 0, o = 0;
    for (size_t i = 0; i < len - pad; i++) {
        int v = ref_value((unsigned char)in[i]);
        if (v < 0)
            return WSX_EINVAL;
        bits = bits << 6 | (uint32_t)v;
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out[o++] = (uint8_t)(bits >> nbits);
        }
    }
    return bits & ((1u << nbits) - 1) ? WSX_EINVAL : o;
}

/* The table decoder against the plain one: every byte value at every
 * position of a 16-byte key (what a handshake decodes) and of the
 * shorter RFC 4648 §10 strings, with and without room for the result. */
static void test_base64_every_byte(void)
{
    static const char *const base[] = {"dGhlIHNhbXBsZSBub25jZQ==", "Zm9vYmE=",
                                       "Zm9vYg==", "Zm9v"};
    for (size_t b = 0; b < sizeof base / sizeof base[0]; b++) {
        size_t len = strlen(base[b]);
        for (size_t pos = 0; pos < len; pos++) {
            for (int ch = 0; ch < 256; ch++) {
                char in[32];
                uint8_t got[18], want[18];
                memcpy(in, base[b], len);
                in[pos] = (char)ch;
                int w = ref_decode(want, in, len);
                int r = wsx_base64_decode(got, sizeof got, in, len);
                CHECK_EQ(r, w);
                if (r > 0)
                    CHECK(memcmp(got, want, (size_t)r) == 0);
                if (w > 0)
                    CHECK_EQ(wsx_base64_decode(got, (size_t)w - 1, in, len),
                             WSX_ENOSPC);
            }
        }
    }
}

static void test_accept_key(void)
{
    char out[WSX_ACCEPT_KEY_LEN + 1];
    memset(out, 'x', sizeof out);
    /* RFC 6455 §1.3 and §4.2.2. */
    wsx_accept_key(out, "dGhlIHNhbXBsZSBub25jZQ==", 24);
    CHECK(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
    /* RFC 6455 §4.1's example key, only the first key_len bytes count. */
    wsx_accept_key(out, "x3JJHMbDL1EzLkh9GBhXDw==trailing", 24);
    CHECK(strcmp(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=") == 0);
}

static void test_errors(void)
{
    CHECK(strcmp(wsx_version(), WSX_VERSION_STRING) == 0);
    CHECK(strcmp(wsx_errname(WSX_EPROTO), "WSX_EPROTO") == 0);
    CHECK(strcmp(wsx_errname(WSX_EPEERCLOSED), "WSX_EPEERCLOSED") == 0);
    CHECK(strcmp(wsx_errname(0), "WSX_EUNKNOWN") == 0);
    CHECK(strcmp(wsx_errname(WSX_ERR_MIN_), "WSX_EUNKNOWN") == 0);
    CHECK(strcmp(wsx_strerror(WSX_EUTF8),
                 "invalid UTF-8 in text or close reason (close 1007)") == 0);
    CHECK(strcmp(wsx_strerror(12345), "unknown error") == 0);
    for (int e = -1; e > WSX_ERR_MIN_; e--)
        CHECK(strcmp(wsx_strerror(e), "unknown error") != 0);
}

int main(void)
{
    RUN(test_sha1_vectors);
    RUN(test_sha1_million);
    RUN(test_sha1_padding);
    RUN(test_sha1_variants);
    RUN(test_base64);
    RUN(test_base64_every_byte);
    RUN(test_accept_key);
    RUN(test_errors);
    return test_summary("test_sha1");
}
