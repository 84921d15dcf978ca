/* http_build.c - writes opening-handshake heads: the client's upgrade
 * request (RFC 6455 §4.1), the server's 101 (RFC 6455 §4.2.2), and plain
 * HTTP/1.1 responses for refusals and non-upgrade requests (RFC 9112 §4). */
#include <limits.h>
#include <string.h>

#include "http_chars.h"
#include "wsx.h"

/* An append-only writer into buf[0..cap) that keeps room for the NUL. The
 * first failure sticks and turns later appends into no-ops, so builders
 * append unconditionally and look at the outcome once, in out_finish. */
typedef struct http_out {
    char *buf;
    size_t cap, len;
    int err;
} http_out;

static http_out out_init(char *buf, size_t cap)
{
    http_out o = {buf, cap, 0, 0};
    return o;
}

static void out_mem(http_out *o, const char *s, size_t n)
{
    if (o->err)
        return;
    /* len < cap holds whenever cap > 0, so cap - len cannot wrap. */
    if (o->cap == 0 || n >= o->cap - o->len) {
        o->err = WSX_ENOSPC;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void out_str(http_out *o, const char *s)
{
    out_mem(o, s, strlen(s));
}

/* v / 10 and its remainder by long division in 16-bit digits: only
 * 32-bit divisions, so a 32-bit target links no 64-bit division from
 * libgcc (700 B of Cortex-M4 flash for one Content-Length). */
static uint64_t div10(uint64_t v, unsigned *rem)
{
    uint32_t hi = (uint32_t)(v >> 32), lo = (uint32_t)v;
    uint32_t a = (hi % 10) << 16 | lo >> 16;
    uint32_t b = (a % 10) << 16 | (lo & 0xffff);
    *rem = b % 10;
    return (uint64_t)(hi / 10) << 32 | (uint64_t)(a / 10) << 16 | b / 10;
}

static void out_uint(http_out *o, uint64_t v)
{
    char d[20];
    size_t k = sizeof d;

    do {
        unsigned r;
        v = div10(v, &r);
        d[--k] = (char)('0' + r);
    } while (v);
    out_mem(o, d + k, sizeof d - k);
}

/* "Name: value\r\n", or nothing when value is NULL or empty. */
static void out_field(http_out *o, const char *name, const char *value)
{
    if (!value || !*value)
        return;
    out_str(o, name);
    out_str(o, ": ");
    out_str(o, value);
    out_str(o, "\r\n");
}

/* Refuse arguments that would break the head's syntax (or inject header
 * lines) rather than emit them. */
static void out_require(http_out *o, bool ok)
{
    if (!ok && !o->err)
        o->err = WSX_EINVAL;
}

/* A NUL-terminated string with no byte outside field-content; NULL is
 * allowed (the field is then omitted). */
static bool field_ok(const char *s)
{
    for (; s && *s; s++) {
        if (!wsx_http_is_field((uint8_t)*s))
            return false;
    }
    return true;
}

/* The empty string is turned into "/" by the caller. */
static bool target_ok(const char *s)
{
    for (; *s; s++) {
        if (!wsx_http_is_target((uint8_t)*s))
            return false;
    }
    return true;
}

/* RFC 9110 §15: status-code = 3DIGIT, and 1xx is the lowest class. */
static bool status_ok(int status)
{
    return status >= 100 && status <= 999;
}

static int out_finish(http_out *o)
{
    if (!o->err && o->len > INT_MAX)
        o->err = WSX_ENOSPC;
    /* On failure leave an empty string, never a truncated head. */
    if (o->cap > 0)
        o->buf[o->err ? 0 : o->len] = '\0';
    return o->err ? o->err : (int)o->len;
}

static void out_status_line(http_out *o, int status)
{
    out_str(o, "HTTP/1.1 ");
    out_uint(o, (uint64_t)status);
    out_str(o, " ");
    out_str(o, wsx_http_reason(status));
    out_str(o, "\r\n");
}

/* The part every non-101 response shares: the body is delimited by
 * Content-Length and the connection ends after it. */
static void out_response_head(http_out *o, int status, const char *connection,
                              const char *content_type, uint64_t body_len)
{
    out_status_line(o, status);
    out_field(o, "Connection", connection);
    out_field(o, "Content-Type", content_type);
    if (body_len == WSX_HTTP_UNTIL_CLOSE)
        return;
    out_str(o, "Content-Length: ");
    out_uint(o, body_len);
    out_str(o, "\r\n");
}

int wsx_http_build_request(char *out, size_t cap, const wsx_client_opts *opt,
                           const char *key)
{
    http_out o = out_init(out, cap);
    const char *path = opt->path && *opt->path ? opt->path : "/";

    /* RFC 6455 §4.1 item 4: Host carries the server's host, never empty. */
    out_require(&o, opt->host && *opt->host && field_ok(opt->host) &&
                        target_ok(path));
    out_require(&o, key && strlen(key) == 24 && field_ok(key));
    out_require(&o, field_ok(opt->origin) && field_ok(opt->protocols) &&
                        field_ok(opt->extensions));
    out_str(&o, "GET ");
    out_str(&o, path);
    out_str(&o, " HTTP/1.1\r\n");
    out_field(&o, "Host", opt->host);
    /* RFC 6455 §4.1 items 5-6 and 9 */
    out_str(&o, "Upgrade: websocket\r\nConnection: Upgrade\r\n");
    out_field(&o, "Sec-WebSocket-Key", key);
    out_str(&o, "Sec-WebSocket-Version: 13\r\n");
    out_field(&o, "Origin", opt->origin);
    out_field(&o, "Sec-WebSocket-Protocol", opt->protocols);
    out_field(&o, "Sec-WebSocket-Extensions", opt->extensions);
    if (opt->extra_headers)
        out_str(&o, opt->extra_headers);
    out_str(&o, "\r\n");
    return out_finish(&o);
}

int wsx_http_build_accept(char *out, size_t cap, const char *key,
                          size_t key_len, const char *protocol,
                          const char *extensions, const char *extra_headers)
{
    http_out o = out_init(out, cap);
    char accept[WSX_ACCEPT_KEY_LEN + 1];

    out_require(&o, key && field_ok(protocol) && field_ok(extensions));
    if (o.err)
        return out_finish(&o);
    wsx_accept_key(accept, key, key_len);
    out_status_line(&o, 101);
    /* RFC 6455 §4.2.2 step 5 */
    out_str(&o, "Upgrade: websocket\r\nConnection: Upgrade\r\n");
    out_field(&o, "Sec-WebSocket-Accept", accept);
    out_field(&o, "Sec-WebSocket-Protocol", protocol);
    out_field(&o, "Sec-WebSocket-Extensions", extensions);
    if (extra_headers)
        out_str(&o, extra_headers);
    out_str(&o, "\r\n");
    return out_finish(&o);
}

int wsx_http_build_error(char *out, size_t cap, int status,
                         const char *extra_headers)
{
    http_out o = out_init(out, cap);
    const char *reason = wsx_http_reason(status);

    out_require(&o, status_ok(status));
    /* RFC 9110 §7.8: "A sender of Upgrade MUST also send an "Upgrade"
     * connection option", and a 426 must send Upgrade (§15.5.22). The
     * body is "NNN Reason\n". */
    out_response_head(&o, status, status == 426 ? "Upgrade, close" : "close",
                      "text/plain", 3 + 1 + strlen(reason) + 1);
    if (status == 426) {
        /* RFC 6455 §4.4: tell the client which version we speak. */
        out_str(&o, "Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n");
    }
    if (extra_headers)
        out_str(&o, extra_headers);
    out_str(&o, "\r\n");
    out_uint(&o, (uint64_t)status);
    out_str(&o, " ");
    out_str(&o, reason);
    out_str(&o, "\n");
    return out_finish(&o);
}

int wsx_http_build_response(char *out, size_t cap, int status,
                            const char *content_type,
                            const char *extra_headers, size_t body_len)
{
    http_out o = out_init(out, cap);

    out_require(&o, status_ok(status) && field_ok(content_type));
    out_response_head(&o, status, "close", content_type, body_len);
    if (extra_headers)
        out_str(&o, extra_headers);
    out_str(&o, "\r\n");
    return out_finish(&o);
}

/* RFC 9110 §15 reason phrases of the codes a WebSocket server answers. */
const char *wsx_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}
