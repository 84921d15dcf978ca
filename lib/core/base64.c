/* base64.c - Base64 with padding (RFC 4648 §4), as carried by
 * Sec-WebSocket-Key and Sec-WebSocket-Accept (RFC 6455 §4.1, §4.2.2).
 * Decoding is strict (RFC 4648 §3.3, §3.5): no whitespace, no missing
 * padding, no non-zero pad bits, so one key has one spelling. */
#include <limits.h>
#include <string.h>

#include "wsx.h"

static const char alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t wsx_base64_encode(char *out, const uint8_t *in, size_t len)
{
    size_t o = 0;
    for (; len >= 3; in += 3, len -= 3) {
        uint32_t v = (uint32_t)in[0] << 16 | (uint32_t)in[1] << 8 | in[2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len) {
        uint32_t v = (uint32_t)in[0] << 16;
        if (len == 2)
            v |= (uint32_t)in[1] << 8;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = len == 2 ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

/* The 6-bit value of each byte, or X (a bit no value has) for a byte
 * outside the alphabet: one lookup per character decodes and checks it. */
enum { X_BIT = 0x40 };
#define X X_BIT
static const uint8_t b64_values[256] = {
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, 62, X, X, X, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
    X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, X,
    X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
};
#undef X

int wsx_base64_decode(uint8_t *out, size_t cap, const char *in, size_t len)
{
    const uint8_t *s = (const uint8_t *)in;
    if (len % 4 || len / 4 * 3 > INT_MAX)
        return WSX_EINVAL;
    size_t pad = 0;
    if (len && s[len - 1] == '=')
        pad = s[len - 2] == '=' ? 2 : 1;
    size_t need = len / 4 * 3 - pad, body = len - pad;
    /* Nothing is written unless it all fits; malformed input is
     * WSX_EINVAL whatever the room, so the pass runs either way. */
    bool fits = need <= cap;
    unsigned bad = 0;
    uint32_t v = 0;
    size_t i = 0, o = 0;
    for (; i + 4 <= body; i += 4, o += 3) {
        unsigned a = b64_values[s[i]], b = b64_values[s[i + 1]],
                 c = b64_values[s[i + 2]], d = b64_values[s[i + 3]];
        bad |= a | b | c | d;
        v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
        if (fits) {
            out[o] = (uint8_t)(v >> 16);
            out[o + 1] = (uint8_t)(v >> 8);
            out[o + 2] = (uint8_t)v;
        }
    }
    /* The last group's 2 or 3 characters before its padding. */
    for (v = 0; i < body; i++) {
        unsigned a = b64_values[s[i]];
        bad |= a;
        v = v << 6 | a;
    }
    if (bad & X_BIT)
        return WSX_EINVAL;
    /* RFC 4648 §3.5: the bits a pad leaves over must be zero. */
    if (v & (pad == 1 ? 0x03u : 0x0fu))
        return WSX_EINVAL;
    if (!fits)
        return WSX_ENOSPC;
    if (pad == 1) {
        out[o] = (uint8_t)(v >> 10);
        out[o + 1] = (uint8_t)(v >> 2);
    } else if (pad == 2) {
        out[o] = (uint8_t)(v >> 4);
    }
    return (int)need;
}
