/* http_parse.c - zero-copy parsers for HTTP/1.1 request and response heads
 * (RFC 9112 §2-§5), header lookup and list iteration (RFC 9110 §5.6.1),
 * and the server's check of a WebSocket upgrade request (RFC 6455 §4.2.1). */
#include <limits.h>
#include <string.h>

#include "http_chars.h"
#include "wsx.h"

/* Every step below returns 1 when it parsed its piece, 0 when the input
 * ends before it can tell, or a negative WSX_E*. Parsing strictly left to
 * right this way is what makes any prefix of a valid head return 0, and
 * any prefix that already shows an error return that same error. */
#define WSX_HTTP_STEP(expr)                                                   \
    do {                                                                      \
        int step_ = (expr);                                                   \
        if (step_ <= 0)                                                       \
            return step_;                                                     \
    } while (0)

/* RFC 9112 §2.2: a line ends in CRLF or a bare LF; "a recipient MUST NOT
 * treat a bare CR as a line terminator": we refuse it, as it is a classic
 * request smuggling vector. */
static int eat_eol(const uint8_t *p, size_t len, size_t *i)
{
    if (*i >= len)
        return 0;
    if (p[*i] == '\n') {
        *i += 1;
        return 1;
    }
    if (p[*i] != '\r')
        return WSX_EHTTP;
    if (*i + 1 >= len)
        return 0;
    if (p[*i + 1] != '\n')
        return WSX_EHTTP;
    *i += 2;
    return 1;
}

static int eat_lit(const uint8_t *p, size_t len, size_t *i, const char *lit)
{
    for (; *lit; lit++, ++*i) {
        if (*i >= len)
            return 0;
        if (p[*i] != (uint8_t)*lit)
            return WSX_EHTTP;
    }
    return 1;
}

/* A non-empty run of bytes of class `is`, then `stop`, which is consumed. */
static int eat_until(const uint8_t *p, size_t len, size_t *i,
                     bool (*is)(uint8_t), uint8_t stop)
{
    size_t start = *i;

    for (; *i < len; ++*i) {
        if (p[*i] == stop) {
            if (*i == start)
                return WSX_EHTTP;
            ++*i;
            return 1;
        }
        if (!is(p[*i]))
            return WSX_EHTTP;
    }
    return 0;
}

/* RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive;
 * only major version 1 speaks this syntax. */
static int eat_version(const uint8_t *p, size_t len, size_t *i, int *minor)
{
    WSX_HTTP_STEP(eat_lit(p, len, i, "HTTP/1."));
    if (*i >= len)
        return 0;
    if (p[*i] < '0' || p[*i] > '9')
        return WSX_EHTTP;
    *minor = p[*i] - '0';
    *i += 1;
    return 1;
}

/* wsx_http_is_tchar (bit 0) and wsx_http_is_field (bit 1) of every byte,
 * for the field scans: one lookup per byte where the tests cost six
 * compares (field parsing was a tenth of a handshake's instructions). */
enum { C_TCHAR = 1, C_FIELD = 2 };
static const uint8_t field_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 3, 2, 3, 3, 3, 3, 3, 2, 2, 3, 3, 2, 3, 3, 2,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2,
    2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 3, 2, 3, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* RFC 9112 §5: field-line = field-name ":" OWS field-value OWS, up to the
 * empty line that ends the head. Returns the head length, 0 or WSX_E*. */
static int parse_fields(const uint8_t *p, size_t len, size_t i, wsx_header *h,
                        size_t max, size_t *n)
{
    *n = 0;
    for (;;) {
        size_t name, value, end;

        if (i >= len)
            return 0;
        if (p[i] == '\r' || p[i] == '\n') {
            WSX_HTTP_STEP(eat_eol(p, len, &i));
            return (int)i;
        }
        if (*n == max)
            return WSX_EHDRSIZE;
        /* Neither whitespace before the colon (RFC 9112 §5.1: "MUST
         * reject") nor a line opening with whitespace (obs-fold, RFC 9112
         * §5.2, or whitespace after the start-line, RFC 9112 §2.2) is a
         * tchar, so the name scan refuses all three. */
        name = i;
        while (i < len && (field_class[p[i]] & C_TCHAR))
            i++;
        if (i >= len)
            return 0;
        if (p[i] != ':' || i == name)
            return WSX_EHTTP;
        h[*n].name = (const char *)p + name;
        h[*n].name_len = i - name;
        i++;
        while (i < len && wsx_http_is_ows(p[i]))
            i++;
        value = i;
        while (i < len && (field_class[p[i]] & C_FIELD))
            i++;
        end = i;
        WSX_HTTP_STEP(eat_eol(p, len, &i));
        while (end > value && wsx_http_is_ows(p[end - 1]))
            end--;
        h[*n].value = (const char *)p + value;
        h[*n].value_len = end - value;
        *n += 1;
    }
}

/* RFC 9112 §3: request-line = method SP request-target SP HTTP-version,
 * single spaces only. */
static int parse_request(wsx_http_request *req, wsx_header *headers,
                         size_t max, const uint8_t *p, size_t len)
{
    size_t i = 0, target;

    WSX_HTTP_STEP(eat_until(p, len, &i, wsx_http_is_tchar, ' '));
    req->method = (const char *)p;
    req->method_len = i - 1;
    target = i;
    WSX_HTTP_STEP(eat_until(p, len, &i, wsx_http_is_target, ' '));
    req->target = (const char *)p + target;
    req->target_len = i - 1 - target;
    WSX_HTTP_STEP(eat_version(p, len, &i, &req->version_minor));
    WSX_HTTP_STEP(eat_eol(p, len, &i));
    req->headers = headers;
    return parse_fields(p, len, i, headers, max, &req->num_headers);
}

/* RFC 9112 §4: status-line = HTTP-version SP status-code SP
 * [ reason-phrase ]. Servers that drop the SP before an empty reason are
 * common, so it is optional here. */
static int parse_response(wsx_http_response *res, wsx_header *headers,
                          size_t max, const uint8_t *p, size_t len)
{
    size_t i = 0, reason;
    int k;

    WSX_HTTP_STEP(eat_version(p, len, &i, &res->version_minor));
    WSX_HTTP_STEP(eat_lit(p, len, &i, " "));
    res->status = 0;
    for (k = 0; k < 3; k++, i++) {
        if (i >= len)
            return 0;
        if (p[i] < '0' || p[i] > '9')
            return WSX_EHTTP;
        res->status = res->status * 10 + (p[i] - '0');
    }
    if (res->status < 100)
        return WSX_EHTTP;
    if (i >= len)
        return 0;
    reason = i;
    if (p[i] == ' ') {
        reason = ++i;
        while (i < len && wsx_http_is_field(p[i]))
            i++;
    }
    res->reason = (const char *)p + reason;
    res->reason_len = i - reason;
    WSX_HTTP_STEP(eat_eol(p, len, &i));
    res->headers = headers;
    return parse_fields(p, len, i, headers, max, &res->num_headers);
}

/* The head length must fit the int we return: a head that is still
 * incomplete after INT_MAX bytes is too big, not incomplete. */
static size_t clamp_len(size_t len)
{
    return len > INT_MAX ? (size_t)INT_MAX : len;
}

static int clamp_result(int r, size_t len)
{
    return r == 0 && len > INT_MAX ? WSX_EHDRSIZE : r;
}

int wsx_http_parse_request(wsx_http_request *req, wsx_header *headers,
                           size_t max_headers, const uint8_t *p, size_t len)
{
    return clamp_result(
        parse_request(req, headers, max_headers, p, clamp_len(len)), len);
}

int wsx_http_parse_response(wsx_http_response *res, wsx_header *headers,
                            size_t max_headers, const uint8_t *p, size_t len)
{
    return clamp_result(
        parse_response(res, headers, max_headers, p, clamp_len(len)), len);
}

/* Field names and the tokens we look for are ASCII (RFC 9110 §5.1). */
static bool ascii_case_eq(const char *a, size_t alen, const char *b,
                          size_t blen)
{
    size_t i;

    if (alen != blen)
        return false;
    for (i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

const wsx_header *wsx_http_find(const wsx_header *h, size_t n,
                                const char *name)
{
    size_t i, name_len = strlen(name);

    for (i = 0; i < n; i++) {
        if (ascii_case_eq(h[i].name, h[i].name_len, name, name_len))
            return &h[i];
    }
    return NULL;
}

/* RFC 9110 §5.6.1: empty elements and OWS around commas are ignored.
 * Commas inside a quoted-string (RFC 9110 §5.6.4; extension parameters
 * may be quoted, RFC 6455 §9.1) do not split. */
bool wsx_http_list_next(const char *v, size_t len, size_t *pos,
                        const char **elem, size_t *elem_len)
{
    size_t i = *pos, start, end;
    bool quoted = false;

    while (i < len && (v[i] == ',' || wsx_http_is_ows((uint8_t)v[i])))
        i++;
    if (i >= len) {
        *pos = i;
        return false;
    }
    start = i;
    for (; i < len; i++) {
        if (quoted) {
            if (v[i] == '\\' && i + 1 < len)
                i++;
            else if (v[i] == '"')
                quoted = false;
        } else if (v[i] == '"') {
            quoted = true;
        } else if (v[i] == ',') {
            break;
        }
    }
    end = i;
    while (end > start && wsx_http_is_ows((uint8_t)v[end - 1]))
        end--;
    *elem = v + start;
    *elem_len = end - start;
    *pos = i;
    return true;
}

/* RFC 9110 §5.3: field lines of one name are one comma-joined list, so
 * searching each line in turn searches the combined value. */
bool wsx_http_has_token(const wsx_header *h, size_t n, const char *name,
                        const char *token)
{
    size_t i, name_len = strlen(name), token_len = strlen(token);

    for (i = 0; i < n; i++) {
        size_t pos = 0, elem_len;
        const char *elem;

        if (!ascii_case_eq(h[i].name, h[i].name_len, name, name_len))
            continue;
        while (wsx_http_list_next(h[i].value, h[i].value_len, &pos, &elem,
                                  &elem_len)) {
            if (ascii_case_eq(elem, elem_len, token, token_len))
                return true;
        }
    }
    return false;
}

/* Whether a field name is `lower` (lower case, its length already
 * compared): only the name's letters are folded. */
static bool name_is(const wsx_header *h, const char *lower)
{
    for (size_t i = 0; i < h->name_len; i++) {
        unsigned char x = (unsigned char)h->name[i];
        if ((unsigned)(x - 'A') < 26u)
            x |= 0x20;
        if (x != (unsigned char)lower[i])
            return false;
    }
    return true;
}

/* Whether one field line's list holds `token` (RFC 9110 §5.6.1). */
static bool line_has_token(const wsx_header *h, const char *token,
                           size_t token_len)
{
    size_t pos = 0, elem_len;
    const char *elem;
    while (wsx_http_list_next(h->value, h->value_len, &pos, &elem, &elem_len))
        if (ascii_case_eq(elem, elem_len, token, token_len))
            return true;
    return false;
}

/* What the upgrade check needs from the fields, gathered in one pass
 * (a scan per field was a fifth of a handshake's user-space
 * instructions). */
typedef struct upgrade_fields {
    bool upgrade_websocket, connection_upgrade;
    unsigned hosts, keys, versions;
    const wsx_header *key, *version;
} upgrade_fields;

static void gather_upgrade_fields(const wsx_header *h, size_t n,
                                  upgrade_fields *f)
{
    memset(f, 0, sizeof *f);
    for (; n; n--, h++) {
        switch (h->name_len) {
        case 4:
            f->hosts += name_is(h, "host");
            break;
        case 7:
            if (!f->upgrade_websocket && name_is(h, "upgrade"))
                f->upgrade_websocket = line_has_token(h, "websocket", 9);
            break;
        case 10:
            if (!f->connection_upgrade && name_is(h, "connection"))
                f->connection_upgrade = line_has_token(h, "upgrade", 7);
            break;
        case 17:
            if (name_is(h, "sec-websocket-key") && f->keys++ == 0)
                f->key = h;
            break;
        case 21:
            if (name_is(h, "sec-websocket-version") && f->versions++ == 0)
                f->version = h;
            break;
        default:
            break;
        }
    }
}

int wsx_http_check_upgrade(const wsx_http_request *req, const char **key,
                           size_t *key_len)
{
    upgrade_fields f;
    /* Room for 24 base64 characters, so a 17- or 18-byte key decodes and
     * is refused for its length rather than for want of space. */
    uint8_t raw[18];

    gather_upgrade_fields(req->headers, req->num_headers, &f);
    /* RFC 9110 §7.8: a server may ignore Upgrade, so a request that does
     * not ask for websocket is plain HTTP, whatever its method. */
    if (!f.upgrade_websocket)
        return WSX_EHANDSHAKE;
    /* RFC 6455 §4.2.1 item 1: "An HTTP/1.1 or higher GET request"
     * (methods are case-sensitive, RFC 9110 §9.1). */
    if (req->method_len != 3 || memcmp(req->method, "GET", 3) != 0 ||
        req->version_minor < 1)
        return WSX_EHTTP;
    /* RFC 9112 §3.2: 400 for a request without Host or with more than
     * one Host field line. */
    if (f.hosts != 1)
        return WSX_EHTTP;
    if (!f.connection_upgrade)
        return WSX_EHTTP;
    /* RFC 6455 §4.2.1 item 5: the key "when decoded, is 16 bytes in
     * length". */
    if (f.keys != 1 ||
        wsx_base64_decode(raw, sizeof raw, f.key->value, f.key->value_len) != 16)
        return WSX_EHTTP;
    if (f.versions != 1)
        return WSX_EHTTP;
    /* RFC 6455 §4.4: another version is answered with 426 and the
     * versions we speak. */
    if (f.version->value_len != 2 || memcmp(f.version->value, "13", 2) != 0)
        return WSX_EVERSION;
    if (key)
        *key = f.key->value;
    if (key_len)
        *key_len = f.key->value_len;
    return 0;
}
