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

/* The 6-bit value of one alphabet character, or -1. */
static int b64_value(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

int wsx_base64_decode(uint8_t *out, size_t cap, const char *in, size_t len)
{
    if (len % 4 || len / 4 * 3 > INT_MAX)
        return WSX_EINVAL;
    size_t pad = 0;
    if (len && in[len - 1] == '=')
        pad = in[len - 2] == '=' ? 2 : 1;
    size_t need = len / 4 * 3 - pad;
    for (size_t i = 0; i < len - pad; i++)
        if (b64_value(in[i]) < 0)
            return WSX_EINVAL;
    /* RFC 4648 §3.5: the bits a pad leaves over must be zero. */
    if (pad && (b64_value(in[len - pad - 1]) & (pad == 1 ? 0x03 : 0x0f)))
        return WSX_EINVAL;
    if (need > cap)
        return WSX_ENOSPC;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t v = 0;
        for (size_t j = 0; j < 4; j++) {
            int d = in[i + j] == '=' ? 0 : b64_value(in[i + j]);
            v = v << 6 | (uint32_t)d;
        }
        for (size_t j = 0; j < 3 && o < need; j++)
            out[o++] = (uint8_t)(v >> (16 - 8 * j));
    }
    return (int)need;
}
