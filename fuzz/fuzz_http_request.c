/* fuzz_http_request.c - libFuzzer target for the request-head parser, the
 * upgrade check (RFC 6455 §4.2.1) and the client request builder: no
 * out-of-bounds access, and results consistent across prefixes. */
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
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

static bool inside(const void *q, size_t n, const uint8_t *p, size_t len)
{
    const uint8_t *b = q;
    return b >= p && b <= p + len && n <= (size_t)(p + len - b);
}

/* Every stored piece lies inside the input, and so does every list
 * element of every value. */
static void check_headers(const wsx_header *h, size_t n, const uint8_t *p,
                          size_t len)
{
    WSX_FUZZ_CHECK(n <= MAXH);
    for (size_t i = 0; i < n; i++) {
        size_t pos = 0, elen;
        const char *e;

        WSX_FUZZ_CHECK(h[i].name_len > 0);
        WSX_FUZZ_CHECK(inside(h[i].name, h[i].name_len, p, len));
        WSX_FUZZ_CHECK(inside(h[i].value, h[i].value_len, p, len));
        while (wsx_http_list_next(h[i].value, h[i].value_len, &pos, &e, &elen))
            WSX_FUZZ_CHECK(elen > 0 &&
                           inside(e, elen, (const uint8_t *)h[i].value,
                                  h[i].value_len));
    }
}

/* A valid upgrade is answered with a 101 that our own response parser
 * accepts and whose accept key is the one computed from the key. */
static void check_accept(const char *key, size_t key_len)
{
    char out[512], acc[WSX_ACCEPT_KEY_LEN + 1];
    wsx_header h[MAXH];
    wsx_http_response res;
    const wsx_header *a;
    int n = wsx_http_build_accept(out, sizeof out, key, key_len, NULL, NULL,
                                  NULL);

    WSX_FUZZ_CHECK(n > 0);
    WSX_FUZZ_CHECK(wsx_http_parse_response(&res, h, MAXH, (uint8_t *)out,
                                           (size_t)n) == n);
    WSX_FUZZ_CHECK(res.status == 101);
    wsx_accept_key(acc, key, key_len);
    a = wsx_http_find(h, res.num_headers, "Sec-WebSocket-Accept");
    WSX_FUZZ_CHECK(a && a->value_len == WSX_ACCEPT_KEY_LEN &&
                   memcmp(a->value, acc, WSX_ACCEPT_KEY_LEN) == 0);
}

/* Whatever host and path the builder accepts must come back as a valid
 * upgrade: the builder never emits a head our parser refuses. */
static void check_builder(const uint8_t *data, size_t size)
{
    char s[256], out[1024];
    const char *nul;
    wsx_client_opts o = {0};
    wsx_header h[MAXH];
    wsx_http_request req;
    int n;

    size = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, size);
    s[size] = '\0';
    nul = memchr(data, 0, size);
    o.host = s;
    o.path = nul ? s + (nul - (const char *)data) + 1 : NULL;
    n = wsx_http_build_request(out, sizeof out, &o, KEY);
    WSX_FUZZ_CHECK(n > 0 || n == WSX_EINVAL);
    if (n < 0)
        return;
    WSX_FUZZ_CHECK((size_t)n < sizeof out && out[n] == '\0');
    WSX_FUZZ_CHECK(wsx_http_parse_request(&req, h, MAXH, (uint8_t *)out,
                                          (size_t)n) == n);
    WSX_FUZZ_CHECK(wsx_http_check_upgrade(&req, NULL, NULL) == 0);
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
    wsx_http_request req;
    size_t cuts[3];
    int full = wsx_http_parse_request(&req, h, MAXH, data, size);

    WSX_FUZZ_CHECK(full == 0 || full == WSX_EHTTP || full == WSX_EHDRSIZE ||
                   (full > 0 && (size_t)full <= size));
    if (full > 0) {
        const char *key;
        size_t key_len, nh = req.num_headers;
        int rc;

        WSX_FUZZ_CHECK(req.headers == h);
        WSX_FUZZ_CHECK(inside(req.method, req.method_len, data, (size_t)full));
        WSX_FUZZ_CHECK(inside(req.target, req.target_len, data, (size_t)full));
        WSX_FUZZ_CHECK(req.version_minor >= 0 && req.version_minor <= 9);
        check_headers(h, nh, data, (size_t)full);
        rc = wsx_http_check_upgrade(&req, &key, &key_len);
        WSX_FUZZ_CHECK(rc == 0 || rc == WSX_EHTTP || rc == WSX_EVERSION ||
                       rc == WSX_EHANDSHAKE);
        if (rc == 0) {
            WSX_FUZZ_CHECK(inside(key, key_len, data, (size_t)full));
            check_accept(key, key_len);
        }
        /* The header limit is exact. */
        WSX_FUZZ_CHECK(wsx_http_parse_request(&req, h, nh, data, size) ==
                       full);
        if (nh > 0)
            WSX_FUZZ_CHECK(wsx_http_parse_request(&req, h, nh - 1, data,
                                                  size) == WSX_EHDRSIZE);
    }
    /* Prefixes, as a stream delivers them: a prefix never returns more
     * than the whole, a complete head is found at its exact length, and
     * an error never turns into success. */
    cuts[0] = size ? size - 1 : 0;
    cuts[1] = size / 2;
    cuts[2] = hash(data, size) % (size + 1);
    for (size_t i = 0; i < 3; i++) {
        int r = wsx_http_parse_request(&req, h, MAXH, data, cuts[i]);
        if (full > 0)
            WSX_FUZZ_CHECK(r == (cuts[i] >= (size_t)full ? full : 0));
        else
            WSX_FUZZ_CHECK(r == 0 || r == full);
    }
    check_builder(data, size);
    return 0;
}
