/* fuzz_http_response.c - libFuzzer target for the response-head parser
 * the client reads the server's 101 with (RFC 9112 §4, RFC 6455 §4.2.2):
 * no out-of-bounds access, and results consistent across prefixes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsx.h"

#define WSX_FUZZ_CHECK(c)                                                     \
    do {                                                                      \
        if (!(c))                                                             \
            abort();                                                          \
    } while (0)

#define MAXH 32

static bool inside(const void *q, size_t n, const uint8_t *p, size_t len)
{
    const uint8_t *b = q;
    return b >= p && b <= p + len && n <= (size_t)(p + len - b);
}

static size_t hash(const uint8_t *p, size_t n)
{
    uint64_t x = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        x = (x ^ p[i]) * 1099511628211ull;
    return (size_t)(x >> 11);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wsx_header h[MAXH];
    wsx_http_response res;
    size_t cuts[3];
    int full = wsx_http_parse_response(&res, h, MAXH, data, size);

    WSX_FUZZ_CHECK(full == 0 || full == WSX_EHTTP || full == WSX_EHDRSIZE ||
                   (full > 0 && (size_t)full <= size));
    if (full > 0) {
        size_t nh = res.num_headers;

        WSX_FUZZ_CHECK(res.headers == h && nh <= MAXH);
        WSX_FUZZ_CHECK(res.status >= 100 && res.status <= 999);
        WSX_FUZZ_CHECK(res.version_minor >= 0 && res.version_minor <= 9);
        WSX_FUZZ_CHECK(inside(res.reason, res.reason_len, data, (size_t)full));
        for (size_t i = 0; i < nh; i++) {
            WSX_FUZZ_CHECK(h[i].name_len > 0);
            WSX_FUZZ_CHECK(inside(h[i].name, h[i].name_len, data, (size_t)full));
            WSX_FUZZ_CHECK(
                inside(h[i].value, h[i].value_len, data, (size_t)full));
        }
        /* What the client checks in a 101 must not crash either. */
        (void)wsx_http_has_token(h, nh, "Upgrade", "websocket");
        (void)wsx_http_has_token(h, nh, "Connection", "upgrade");
        (void)wsx_http_find(h, nh, "Sec-WebSocket-Accept");
        WSX_FUZZ_CHECK(wsx_http_parse_response(&res, h, nh, data, size) ==
                       full);
        if (nh > 0)
            WSX_FUZZ_CHECK(wsx_http_parse_response(&res, h, nh - 1, data,
                                                   size) == WSX_EHDRSIZE);
    }
    /* A prefix never returns more than the whole, a complete head is
     * found at its exact length, and an error never turns into success. */
    cuts[0] = size ? size - 1 : 0;
    cuts[1] = size / 2;
    cuts[2] = hash(data, size) % (size + 1);
    for (size_t i = 0; i < 3; i++) {
        int r = wsx_http_parse_response(&res, h, MAXH, data, cuts[i]);
        if (full > 0)
            WSX_FUZZ_CHECK(r == (cuts[i] >= (size_t)full ? full : 0));
        else
            WSX_FUZZ_CHECK(r == 0 || r == full);
    }
    return 0;
}
