/* http_request.c - what a server needs to decide on a request without
 * parsing by hand: the path and query of its target (RFC 3986 §3.3-3.4,
 * percent-decoding per §2.1), its cookies (RFC 6265 §5.4) and whether
 * its Origin (RFC 6454 §7) is on an allow-list. Nothing allocates. */
#include "wsx.h"

#include <limits.h>
#include <string.h>

#include "http_chars.h"

void wsx_http_target_split(const char *target, size_t len, size_t *path_len,
                           const char **query, size_t *query_len)
{
    const char *q = memchr(target, '?', len);
    *path_len = q ? (size_t)(q - target) : len;
    *query = q ? q + 1 : NULL;
    *query_len = q ? len - *path_len - 1 : 0;
}

static int hex(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* One decoded character of in[*i..len), advancing *i; -1 when malformed. */
static int decode_one(const char *in, size_t len, size_t *i, bool plus_space)
{
    char ch = in[(*i)++];
    if (ch == '+' && plus_space)
        return ' ';
    if (ch != '%')
        return (unsigned char)ch;
    if (len - *i < 2 || hex(in[*i]) < 0 || hex(in[*i + 1]) < 0)
        return -1;
    int v = hex(in[*i]) << 4 | hex(in[*i + 1]);
    *i += 2;
    return v ? v : -1;
}

int wsx_http_unescape(char *out, size_t cap, const char *in, size_t len,
                      bool plus_space)
{
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        int ch = decode_one(in, len, &i, plus_space);
        if (ch < 0)
            return WSX_EINVAL;
        if (n + 1 >= cap)
            return WSX_ENOSPC;
        out[n++] = (char)ch;
    }
    if (!cap)
        return WSX_ENOSPC;
    out[n] = 0;
    return n > (size_t)INT_MAX ? WSX_ENOSPC : (int)n;
}

/* Whether in[0..len), decoded, equals name. */
static bool decoded_equals(const char *in, size_t len, const char *name)
{
    size_t i = 0, k = 0;
    while (i < len) {
        int ch = decode_one(in, len, &i, true);
        if (ch < 0 || name[k] == 0 || (char)ch != name[k])
            return false;
        k++;
    }
    return name[k] == 0;
}

int wsx_http_query_param(const char *target, size_t len, const char *name,
                         char *out, size_t cap)
{
    size_t path_len, qlen;
    const char *q;
    wsx_http_target_split(target, len, &path_len, &q, &qlen);
    /* A fragment never reaches a server, but a target may carry one. */
    const char *hash = q ? memchr(q, '#', qlen) : NULL;
    if (hash)
        qlen = (size_t)(hash - q);
    while (q && qlen) {
        const char *amp = memchr(q, '&', qlen);
        size_t pair = amp ? (size_t)(amp - q) : qlen;
        const char *eq = memchr(q, '=', pair);
        size_t key_len = eq ? (size_t)(eq - q) : pair;
        if (decoded_equals(q, key_len, name))
            return eq ? wsx_http_unescape(out, cap, eq + 1, pair - key_len - 1,
                                          true)
                      : wsx_http_unescape(out, cap, "", 0, true);
        q = amp ? amp + 1 : NULL;
        qlen = amp ? qlen - pair - 1 : 0;
    }
    return WSX_ENOENT;
}

/* RFC 6265 §5.4 leaves the parsing of cookie-pairs to §5.2's rules:
 * split at ';', the name before the first '=', both trimmed. */
static bool cookie_in(const char *v, size_t len, const char *name,
                      const char **value, size_t *value_len)
{
    size_t name_len = strlen(name);
    while (len) {
        const char *semi = memchr(v, ';', len);
        size_t pair = semi ? (size_t)(semi - v) : len;
        const char *eq = memchr(v, '=', pair);
        if (eq) {
            const char *k = v, *ke = eq, *val = eq + 1, *ve = v + pair;
            while (k < ke && wsx_http_is_ows((uint8_t)*k))
                k++;
            while (ke > k && wsx_http_is_ows((uint8_t)ke[-1]))
                ke--;
            while (val < ve && wsx_http_is_ows((uint8_t)*val))
                val++;
            while (ve > val && wsx_http_is_ows((uint8_t)ve[-1]))
                ve--;
            if ((size_t)(ke - k) == name_len && !memcmp(k, name, name_len)) {
                /* §4.1.1: cookie-value may be wrapped in DQUOTEs. */
                if (ve - val >= 2 && *val == '"' && ve[-1] == '"') {
                    val++;
                    ve--;
                }
                *value = val;
                *value_len = (size_t)(ve - val);
                return true;
            }
        }
        v = semi ? semi + 1 : v + len;
        len = semi ? len - pair - 1 : 0;
    }
    return false;
}

int wsx_http_cookie(const wsx_header *h, size_t n, const char *name,
                    const char **value, size_t *value_len)
{
    for (size_t i = 0; i < n; i++)
        if (wsx_http_find(&h[i], 1, "Cookie") &&
            cookie_in(h[i].value, h[i].value_len, name, value, value_len))
            return 0;
    return WSX_ENOENT;
}

static char lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
}

static bool same_ci(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* The offset of "*." in pat, or -1: a wildcard entry. (No strstr: the
 * core's firmware builds link nothing they can avoid.) */
static long wildcard_at(const char *pat)
{
    for (long i = 0; pat[i]; i++)
        if (pat[i] == '*' && pat[i + 1] == '.')
            return i;
    return -1;
}

/* "*.example.com", possibly after "scheme:" "//", against an origin: the
 * host (between "://" and an optional ":port") must end in the suffix,
 * with at least one label before it. */
static bool wildcard_match(const char *pat, size_t star, const char *o,
                           size_t len)
{
    size_t sep = 0;
    while (sep + 3 <= len && memcmp(o + sep, "://", 3))
        sep++;
    if (sep + 3 > len || (star && (star != sep + 3 || !same_ci(pat, o, star))))
        return false;
    const char *host = o + sep + 3, *end = o + len;
    const char *colon = memchr(host, ':', (size_t)(end - host));
    if (colon)
        end = colon;
    const char *suffix = pat + star + 1; /* ".example.com" */
    size_t sl = strlen(suffix);
    return (size_t)(end - host) > sl && same_ci(end - sl, suffix, sl);
}

bool wsx_origin_allowed(const char *const *allow, const char *origin,
                        size_t len)
{
    for (; allow && *allow; allow++) {
        const char *a = *allow;
        long star = wildcard_at(a);
        if (star >= 0 ? wildcard_match(a, (size_t)star, origin, len)
                      : strlen(a) == len && same_ci(a, origin, len))
            return true;
    }
    return false;
}
