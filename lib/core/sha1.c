/* sha1.c - SHA-1 (FIPS 180-4 §6.1), only for the opening handshake's
 * Sec-WebSocket-Accept value (RFC 6455 §4.2.2 step 5.4, §1.3); not used
 * for anything that needs collision resistance. */
#include <string.h>

#include "sha1.h"

static uint32_t rol32(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* FIPS 180-4 §6.1.2, with the message schedule kept as a 16-word ring.
 * Five rounds per step with the variables renamed instead of moved, and
 * one loop per round function: no branch per round (measured: sha1_block
 * was 40% of a server's user-space instructions per handshake). */
#define SHA1_CH(b, c, d) (((c ^ d) & b) ^ d)
#define SHA1_PARITY(b, c, d) (b ^ c ^ d)
#define SHA1_MAJ(b, c, d) ((b & c) | ((b | c) & d))
#define SHA1_ROUND(F, k, a, b, c, d, e, i)                                    \
    do {                                                                      \
        e += rol32(a, 5) + F(b, c, d) + (k) + schedule(w, i);                \
        b = rol32(b, 30);                                                     \
    } while (0)
#if defined(__OPTIMIZE_SIZE__)
/* -Os (firmware, where flash counts more than handshakes per second):
 * one round per iteration with the variables moved, 0.7 KiB less. */
#define SHA1_STEP(F, k, t)                                                    \
    for (int i = (t); i < (t) + 20; i++) {                                    \
        SHA1_ROUND(F, k, a, b, c, d, e, i);                                   \
        uint32_t e_ = e;                                                      \
        e = d;                                                                \
        d = c;                                                                \
        c = b;                                                                \
        b = a;                                                                \
        a = e_;                                                               \
    }
#else
#define SHA1_STEP(F, k, t)                                                    \
    for (int i = (t); i < (t) + 20; i += 5) {                                 \
        SHA1_ROUND(F, k, a, b, c, d, e, i);                                   \
        SHA1_ROUND(F, k, e, a, b, c, d, i + 1);                               \
        SHA1_ROUND(F, k, d, e, a, b, c, i + 2);                               \
        SHA1_ROUND(F, k, c, d, e, a, b, i + 3);                               \
        SHA1_ROUND(F, k, b, c, d, e, a, i + 4);                               \
    }
#endif

/* W[t] (§6.1.2 step 1), computed in the ring from t = 16 on. */
static inline uint32_t schedule(uint32_t w[16], int t)
{
    if (t >= 16)
        w[t & 15] = rol32(w[(t + 13) & 15] ^ w[(t + 8) & 15] ^
                              w[(t + 2) & 15] ^ w[t & 15],
                          1);
    return w[t & 15];
}

void wsx__sha1_blocks_portable(uint32_t h[5], const uint8_t *p, size_t n)
{
    for (; n; n--, p += 64) {
        uint32_t w[16];
        for (int t = 0; t < 16; t++)
            w[t] = load_be32(p + 4 * t);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        SHA1_STEP(SHA1_CH, 0x5a827999u, 0)
        SHA1_STEP(SHA1_PARITY, 0x6ed9eba1u, 20)
        SHA1_STEP(SHA1_MAJ, 0x8f1bbcdcu, 40)
        SHA1_STEP(SHA1_PARITY, 0xca62c1d6u, 60)
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
}

/* What wsx_sha1_update runs: SHA-NI where the CPU has it. */
static void blocks_auto(uint32_t h[5], const uint8_t *p, size_t n)
{
#ifdef WSX_SHA1_SHANI
    if (wsx__sha1_shani_usable()) {
        wsx__sha1_blocks_shani(h, p, n);
        return;
    }
#endif
    wsx__sha1_blocks_portable(h, p, n);
}

/* SHA-NI goes last so that a CPU without it can be given one entry less. */
static const wsx_sha1_variant sha1_table[] = {
    {"portable", wsx__sha1_blocks_portable},
    {"auto", blocks_auto},
#ifdef WSX_SHA1_SHANI
    {"shani", wsx__sha1_blocks_shani},
#endif
};

size_t wsx__sha1_variants(const wsx_sha1_variant **v)
{
    size_t n = sizeof sha1_table / sizeof sha1_table[0];
    *v = sha1_table;
#ifdef WSX_SHA1_SHANI
    if (!wsx__sha1_shani_usable())
        n--;
#endif
    return n;
}

static const uint32_t sha1_iv[5] = {0x67452301, 0xefcdab89, 0x98badcfe,
                                    0x10325476, 0xc3d2e1f0};

void wsx_sha1_init(wsx_sha1 *s)
{
    memcpy(s->h, sha1_iv, sizeof sha1_iv);
    s->total = 0;
    s->used = 0;
}

void wsx__sha1_update_with(wsx_sha1 *s, const void *data, size_t len,
                           wsx_sha1_blocks_fn blocks)
{
    const uint8_t *p = data;
    s->total += len;
    if (s->used) {
        size_t n = 64 - s->used < len ? 64 - s->used : len;
        memcpy(s->block + s->used, p, n);
        s->used += n;
        p += n;
        len -= n;
        if (s->used < 64)
            return;
        blocks(s->h, s->block, 1);
        s->used = 0;
    }
    blocks(s->h, p, len / 64);
    p += len / 64 * 64;
    len %= 64;
    memcpy(s->block, p, len);
    s->used = len;
}

void wsx_sha1_update(wsx_sha1 *s, const void *data, size_t len)
{
    wsx__sha1_update_with(s, data, len, blocks_auto);
}

/* FIPS 180-4 §5.1.1: a 1 bit, zeros to 56 mod 64, the bit length. Writes
 * the padding for a message of total bytes whose last used bytes are at
 * the start of a block; returns the bytes it wrote there (9 to 72). */
static size_t sha1_pad(uint8_t *p, size_t used, uint64_t total)
{
    uint64_t bits = total * 8;
    size_t padlen = (used < 56 ? 56 : 120) - used;
    p[0] = 0x80;
    memset(p + 1, 0, padlen - 1);
    for (int i = 0; i < 8; i++)
        p[padlen + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
    return padlen + 8;
}

static void sha1_out(const uint32_t h[5], uint8_t digest[20])
{
    for (int i = 0; i < 5; i++)
        store_be32(digest + 4 * i, h[i]);
}

void wsx__sha1_final_with(wsx_sha1 *s, uint8_t digest[20],
                          wsx_sha1_blocks_fn blocks)
{
    uint8_t pad[128];
    memcpy(pad, s->block, s->used);
    size_t n = s->used + sha1_pad(pad + s->used, s->used, s->total);
    blocks(s->h, pad, n / 64);
    sha1_out(s->h, digest);
}

void wsx_sha1_final(wsx_sha1 *s, uint8_t digest[20])
{
    wsx__sha1_final_with(s, digest, blocks_auto);
}

void wsx_accept_key(char out[WSX_ACCEPT_KEY_LEN + 1], const char *key,
                    size_t key_len)
{
    /* RFC 6455 §1.3: the GUID every server appends to the client's key. */
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    uint8_t digest[20];
    wsx_sha1 s;
    wsx_sha1_init(&s);
    if (key_len <= 64 - (sizeof guid - 1)) {
        /* A real key (24 characters): key, GUID and padding are the two
         * blocks, hashed in one call without the buffering of update. */
        uint8_t msg[128];
        memcpy(msg, key, key_len);
        memcpy(msg + key_len, guid, sizeof guid - 1);
        size_t n = key_len + sizeof guid - 1;
        n += sha1_pad(msg + n, n, n);
        blocks_auto(s.h, msg, n / 64);
        sha1_out(s.h, digest);
    } else {
        wsx_sha1_update(&s, key, key_len);
        wsx_sha1_update(&s, guid, sizeof guid - 1);
        wsx_sha1_final(&s, digest);
    }
    wsx_base64_encode(out, digest, sizeof digest);
}
