/* conn_http.c - plain HTTP requests past on_http (wsx_http.h): reading
 * the request body (RFC 9112 §6.2, Content-Length), answering later, and
 * responses streamed until the connection closes (RFC 9112 §6.3 rule 8). */
#include "conn.h"
#include "wsx_http.h"

#ifndef WSX_NO_HTTP /* firmware without on_http (see wsx.h) */

#include <string.h>

/* The body's length from Content-Length (RFC 9110 §8.6: 1*DIGIT), or the
 * status that refuses the request. */
static int body_length(const wsx_conn *c, const wsx_http_request *req,
                       uint64_t *len)
{
    const wsx_header *h = req->headers;
    size_t n = req->num_headers;
    *len = 0;
    /* A chunked body has no length to check against the limit before it
     * is read: RFC 9110 §15.5.12 lets a server insist on one. */
    if (wsx_http_find(h, n, "Transfer-Encoding"))
        return 411;
    const wsx_header *cl = wsx_http_find(h, n, "Content-Length");
    if (!cl)
        return 0;
    /* RFC 9112 §6.3 rule 5: differing lengths are the stuff of request
     * smuggling; a second header is refused outright. */
    if (cl->value_len == 0 ||
        wsx_http_find(cl + 1, n - (size_t)(cl - h) - 1, "Content-Length"))
        return 400;
    uint64_t v = 0;
    for (size_t i = 0; i < cl->value_len; i++) {
        unsigned d = (unsigned)(cl->value[i] - '0');
        if (d > 9)
            return 400;
        if (v > (UINT64_MAX - 9) / 10)
            return 413;
        v = v * 10 + d;
    }
    if (v > c->cfg->max_message_size)
        return 413;
    *len = v;
    return 0;
}

/* on_http with the whole request; then the default answer (426) unless
 * it answered, held or started a stream. */
static int call_on_http(wsx_conn *c, const wsx_http_request *req)
{
    c->rstate = WSX_RD_DISCARD;
    c->hstate = WSX_HTTP_REQUEST;
    int g = wsx__cb_http(c, req);
    if (g < 0)
        return g;
    c->http.body_len = 0; /* the body dies with on_http */
    switch (c->hstate) {
    case WSX_HTTP_REQUEST:
        c->hstate = WSX_HTTP_NONE;
        return WSX_EHANDSHAKE;
    case WSX_HTTP_HELD:
    case WSX_HTTP_STREAM:
        wsx__buf_release(c, &c->in);
        return 0;
    default: /* answered */
        return 0;
    }
}

int wsx__http_request(wsx_conn *c, const wsx_http_request *req,
                      const uint8_t *head, size_t head_len)
{
    uint64_t len;
    int status = body_length(c, req, &len);
    /* RFC 9110 §15.5.14: a 413 may close the connection, so the body is
     * refused before a byte of it is read. */
    if (status)
        return wsx__reject(c, status, NULL, status == 413 ? WSX_ETOOBIG : WSX_EHTTP);
    c->http.head_len = (uint32_t)head_len;
    c->http.body_len = 0;
    if (!len)
        return call_on_http(c, req);
    /* The head stays where the body lands after it: on_http sees both
     * with one parse, and nothing else keeps the request. */
    if (head != c->in.p) {
        int r = wsx__buf_reserve(c, &c->in, head_len);
        if (r < 0)
            return r;
        memcpy(c->in.p, head, head_len);
    }
    c->in.len = head_len;
    c->http.body_left = len;
    c->rstate = WSX_RD_BODY;
    return 0;
}

long wsx__read_body(wsx_conn *c, const uint8_t *p, size_t n)
{
    size_t take = n < c->http.body_left ? n : (size_t)c->http.body_left;
    int r = wsx__buf_reserve(c, &c->in, take);
    if (r < 0)
        return r;
    memcpy(c->in.p + c->in.len, p, take);
    c->in.len += take;
    c->http.body_left -= take;
    if (c->http.body_left)
        return (long)take;
    /* Parsing the head again where it now lies is simpler than fixing up
     * pointers into a buffer that moved while the body grew it. */
    wsx_header hdrs[WSX_MAX_HEADERS];
    wsx_http_request req;
    wsx_http_parse_request(&req, hdrs, WSX_MAX_HEADERS, c->in.p,
                           c->http.head_len);
    c->http.body_len = c->in.len - c->http.head_len;
    r = call_on_http(c, &req);
    return r < 0 ? r : (long)take;
}

const uint8_t *wsx_http_body(const wsx_conn *c, size_t *len)
{
    bool has = c->hstate == WSX_HTTP_REQUEST && c->http.body_len;
    *len = has ? c->http.body_len : 0;
    return has ? c->in.p + c->http.head_len : NULL;
}

/* Held or streaming: the handshake timer stops, our own silence counts. */
static void enter_http(wsx_conn *c, wsx_hstate hs)
{
    if (c->hstate == WSX_HTTP_REQUEST) {
        c->state = WSX_STATE_HTTP;
        c->deadline = WSX_NO_DEADLINE;
        c->http.beat = NULL;
        c->http.beat_ms = 0;
    }
    c->hstate = (uint8_t)hs;
    c->tx_seen = true;
}

int wsx_http_hold(wsx_conn *c)
{
    if (c->hstate != WSX_HTTP_REQUEST)
        return WSX_ESTATE;
    enter_http(c, WSX_HTTP_HELD);
    return 0;
}

int wsx__http_begin(wsx_conn *c, int status, const char *content_type,
                    const char *fixed_headers, const char *extra_headers)
{
    if (c->hstate != WSX_HTTP_REQUEST && c->hstate != WSX_HTTP_HELD)
        return WSX_ESTATE;
    size_t fl = fixed_headers ? strlen(fixed_headers) : 0;
    size_t el = extra_headers ? strlen(extra_headers) : 0;
    size_t cap = 160 + (content_type ? strlen(content_type) : 0) + fl + el;
    wsx__enter(c);
    int r = wsx__buf_reserve(c, &c->out, cap);
    if (r < 0)
        return wsx__leave(c, r);
    char *head = (char *)c->out.p + c->out.len;
    r = wsx_http_build_response(head, cap, status, content_type, NULL,
                                WSX_HTTP_UNTIL_CLOSE);
    if (r < 0)
        return wsx__leave(c, r);
    /* The builder's head ends with the empty line: the header lines go
     * before it. */
    size_t n = (size_t)r - 2;
    memcpy(head + n, fixed_headers ? fixed_headers : "", fl);
    memcpy(head + n + fl, extra_headers ? extra_headers : "", el);
    memcpy(head + n + fl + el, "\r\n", 2);
    c->out.len += n + fl + el + 2;
    enter_http(c, WSX_HTTP_STREAM);
    return wsx__leave(c, 0);
}

int wsx_http_stream_begin(wsx_conn *c, int status, const char *content_type,
                          const char *extra_headers)
{
    return wsx__http_begin(c, status, content_type, NULL, extra_headers);
}

int wsx__http_room(wsx_conn *c)
{
    if (c->err)
        return c->err;
    if (c->state == WSX_STATE_CLOSED)
        return WSX_ECLOSED;
    if (c->hstate != WSX_HTTP_STREAM)
        return WSX_ESTATE;
    return wsx__room(c);
}

int wsx_http_stream_write(wsx_conn *c, const void *data, size_t len)
{
    int r = wsx__http_room(c);
    if (r < 0)
        return r;
    if (len && !data)
        return WSX_EINVAL;
    wsx__enter(c);
    r = wsx__queue(c, data, len);
    c->tx_seen = true;
    return wsx__leave(c, r);
}

int wsx_http_stream_heartbeat(wsx_conn *c, uint32_t interval_ms,
                              const void *beat, size_t len)
{
    if (c->hstate != WSX_HTTP_STREAM || c->state != WSX_STATE_HTTP ||
        len > UINT32_MAX || (len && !beat))
        return WSX_ESTATE;
    c->http.beat = beat;
    c->http.beat_len = (uint32_t)len;
    c->http.beat_ms = len ? interval_ms : 0;
    return 0;
}

int wsx_http_stream_end(wsx_conn *c)
{
    if (c->state != WSX_STATE_HTTP)
        return WSX_ESTATE;
    if (c->hstate == WSX_HTTP_HELD) {
        static const char body[] = "503 Service Unavailable\n";
        return wsx_http_respond(c, 503, "text/plain", NULL, body,
                                sizeof body - 1);
    }
    wsx__enter(c);
    wsx__closed(c, WSX_CLOSE_NORMAL, NULL, 0, true, false, 0);
    return wsx__leave(c, 0);
}
#endif
