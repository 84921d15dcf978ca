/* conn_handshake.c - the opening handshake of a connection (RFC 6455 §4):
 * the server reads the upgrade request and answers 101 or an HTTP error;
 * the client sends its request and verifies the 101 (§4.1, §4.2.2). */
#include "conn.h"

#include <string.h>

static char *dup_str(wsx_conn *c, const char *s, size_t n)
{
    char *d = wsx__alloc(c, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static int open_conn(wsx_conn *c)
{
    c->state = WSX_STATE_OPEN;
    c->rstate = WSX_RD_HEADER;
    c->deadline = WSX_NO_DEADLINE;
    c->http_status = 101;
    wsx__m_opened(c);
    return wsx__cb_open(c);
}

/* Refuse the upgrade with an HTTP status (the reply's headers and body,
 * when given) and end the connection. */
int wsx__reject(wsx_conn *c, int status, const wsx_handshake_reply *reply,
                int err)
{
    /* Refusals are short: on the stack, and extras that do not fit leave
     * the bare status (see wsx_handshake_reply). */
    char head[512];
    const char *extra = reply ? reply->extra_headers : NULL;
    const void *body = reply ? reply->body : NULL;
    size_t body_len = body ? reply->body_len : 0;
    c->http_status = (uint16_t)status;
    wsx__m_refused(c, status);
    int n = body_len >= sizeof head ? WSX_ENOSPC
            : body ? wsx_http_build_response(head, sizeof head - body_len, status,
                                             "text/plain", extra, body_len)
                   : wsx_http_build_error(head, sizeof head, status, extra);
    if (n >= 0 && body) {
        memcpy(head + n, body, body_len);
        n += (int)body_len;
    } else if (n < 0) {
        n = wsx_http_build_error(head, sizeof head, status, NULL);
    }
    if (n > 0) {
        int r = wsx__send_direct(c, head, (size_t)n);
        if (r == WSX__EGONE)
            return r;
        /* A head cut short by an allocation failure is a transport
         * error. */
        if (r == WSX_EIO)
            err = WSX_EIO;
    }
    c->err = err;
    return wsx__closed(c, WSX_CLOSE_ABNORMAL, NULL, 0, false, false, err);
}

/* ---- server ---------------------------------------------------------- */

static int negotiate_extension(wsx_conn *c, const wsx_http_request *req,
                               char *resp, size_t cap)
{
    const wsx_extension *ext = c->cfg->extension;
    resp[0] = 0;
    if (!ext)
        return 0;
    /* Offers may span several header lines; the first acceptable one
     * wins (RFC 6455 §9.1). */
    for (size_t i = 0; i < req->num_headers; i++) {
        const wsx_header *h = &req->headers[i];
        if (h->name_len != 24 ||
            !wsx_http_find(h, 1, "Sec-WebSocket-Extensions"))
            continue;
        int r = ext->server_accept(c->cfg->extension_config, h->value,
                                   h->value_len, resp, cap, &c->ext_state,
                                   &c->cfg->alloc);
        if (r != 0)
            return r < 0 ? r : 0;
    }
    resp[0] = 0;
    return 0;
}

/* The answer to an upgrade request once it is decided: status 0 is the
 * 101 (extension and subprotocol agreed here), else a refusal. key is
 * the request's checked Sec-WebSocket-Key. */
static int server_answer(wsx_conn *c, const wsx_http_request *req,
                         const char *key, size_t key_len, int status,
                         const wsx_handshake_reply *reply)
{
    if (status)
        return wsx__reject(c, status, reply, WSX_EHANDSHAKE);
    char ext[160];
    int r = negotiate_extension(c, req, ext, sizeof ext);
    if (r < 0)
        return r;
    /* RFC 6455 §4.2.2: the chosen subprotocol must be one the client
     * offered. */
    if (reply->protocol) {
        if (!wsx_http_has_token(req->headers, req->num_headers,
                                "Sec-WebSocket-Protocol", reply->protocol))
            return wsx__reject(c, 500, NULL, WSX_EHANDSHAKE);
        c->protocol = dup_str(c, reply->protocol, strlen(reply->protocol));
        if (!c->protocol)
            return WSX_ENOMEM;
    }
    size_t cap = 256 + sizeof ext +
                 (reply->protocol ? strlen(reply->protocol) : 0) +
                 (reply->extra_headers ? strlen(reply->extra_headers) : 0);
    char stack[768], *head = stack;
    if (cap > sizeof stack && !(head = wsx__alloc(c, cap)))
        return WSX_ENOMEM;
    r = wsx_http_build_accept(head, cap, key, key_len, reply->protocol,
                              ext[0] ? ext : NULL, reply->extra_headers);
    if (r >= 0)
        r = wsx__send_direct(c, head, (size_t)r);
    if (head != stack)
        wsx__free(c, head, cap);
    if (r < 0)
        return r;
    return open_conn(c);
}

static int server_handshake(wsx_conn *c, const wsx_http_request *req,
                            const uint8_t *raw, size_t raw_len)
{
    const char *key;
    size_t key_len;
    int r = wsx_http_check_upgrade(req, &key, &key_len);
#ifndef WSX_NO_HTTP
    if (r == WSX_EHANDSHAKE && c->cb->on_http)
        return wsx__http_request(c, req, raw, raw_len);
#endif
    if (r < 0)
        return r;
    if (c->cfg->guards && !c->cfg->guards->origin_ok(c, req))
        return wsx__reject(c, 403, NULL, WSX_EHANDSHAKE);
    wsx_handshake hs = {req, NULL};
    wsx_handshake_reply reply = {NULL, NULL, NULL, 0};
    int status = wsx__cb_handshake(c, &hs, &reply);
    if (status < 0)
        return status;
    if (status != WSX_HANDSHAKE_PENDING)
        return server_answer(c, req, key, key_len, status, &reply);
    /* The request stays, alone, in c->in until the decision: it is
     * parsed again then. */
    if (raw != c->in.p) {
        r = wsx__buf_reserve(c, &c->in, raw_len);
        if (r < 0)
            return r;
        memcpy(c->in.p, raw, raw_len);
    }
    c->in.len = raw_len;
    c->rstate = WSX_RD_PENDING;
    return 0;
}

/* A pending decision, made: the kept request is parsed again (it parsed
 * before, so it does again) and answered. */
static int decide(wsx_conn *c, int status, const wsx_handshake_reply *reply)
{
    wsx_header hdrs[WSX_MAX_HEADERS];
    wsx_http_request req;
    wsx_handshake_reply none = {NULL, NULL, NULL, 0};
    const char *key;
    size_t key_len;
    if (c->err)
        return c->err;
    if (c->cfg->role != WSX_SERVER || c->state != WSX_STATE_HANDSHAKE ||
        (status == 0 && c->rstate != WSX_RD_PENDING))
        return WSX_ESTATE;
    wsx__enter(c);
    int r = 0;
    if (status) {
        r = wsx__reject(c, status, reply, WSX_EHANDSHAKE);
    } else if (wsx_http_parse_request(&req, hdrs, WSX_MAX_HEADERS, c->in.p,
                                      c->in.len) > 0 &&
               (r = wsx_http_check_upgrade(&req, &key, &key_len)) == 0) {
        r = server_answer(c, &req, key, key_len, 0, reply ? reply : &none);
    }
    if (r < 0 && r != WSX__EGONE)
        wsx__fail(c, r);
    if (!c->gone && c->state != WSX_STATE_HANDSHAKE)
        wsx__buf_release(c, &c->in);
    r = wsx__leave(c, c->err);
    /* A refusal that went out is the call's success. */
    return status && r == WSX_EHANDSHAKE ? 0 : r;
}

int wsx_conn_accept(wsx_conn *c, const wsx_handshake_reply *reply)
{
    return decide(c, 0, reply);
}

int wsx_conn_refuse(wsx_conn *c, int status, const wsx_handshake_reply *reply)
{
    if (status < 400 || status > 599)
        return WSX_EINVAL;
    return decide(c, status, reply);
}

/* ---- client ---------------------------------------------------------- */

int wsx__client_start(wsx_conn *c)
{
    const wsx_config *cfg = c->cfg;
    uint8_t raw[16];
    char key[25], offer[160];
    if (!cfg->client.host)
        return WSX_EINVAL;
    /* RFC 6455 §4.1: a nonce of 16 random bytes, base64-encoded. */
    int r = wsx__cb_random(c, raw, sizeof raw);
    if (r < 0)
        return r;
    wsx_base64_encode(key, raw, sizeof raw);
    wsx_accept_key(c->accept, key, 24);
    wsx_client_opts o = cfg->client;
    if (!o.path)
        o.path = "/";
    if (cfg->extension) {
        int n = cfg->extension->client_offer(cfg->extension_config, offer,
                                             sizeof offer);
        if (n < 0)
            return n;
        o.extensions = offer;
    }
    size_t cap = 256 + strlen(o.host) + strlen(o.path) +
                 (o.origin ? strlen(o.origin) : 0) +
                 (o.protocols ? strlen(o.protocols) : 0) +
                 (o.extensions ? strlen(o.extensions) : 0) +
                 (o.extra_headers ? strlen(o.extra_headers) : 0);
    r = wsx__buf_reserve(c, &c->out, cap);
    if (r < 0)
        return r;
    r = wsx_http_build_request((char *)c->out.p + c->out.len, cap, &o, key);
    if (r < 0)
        return r;
    c->out.len += (size_t)r;
    return 0;
}

static bool offered_protocol(const char *list, const char *p, size_t n)
{
    size_t pos = 0, len;
    const char *e;
    if (!list)
        return false;
    while (wsx_http_list_next(list, strlen(list), &pos, &e, &len))
        if (len == n && !memcmp(e, p, n))
            return true;
    return false;
}

/* RFC 6455 §11.3.3, §11.3.4: Sec-WebSocket-Accept and -Protocol appear
 * at most once in a response; a repeat is treated as a bad value. */
static const wsx_header *find_once(const wsx_header *h, size_t n,
                                   const char *name, bool *dup)
{
    const wsx_header *first = wsx_http_find(h, n, name);
    if (first && wsx_http_find(first + 1, n - (size_t)(first - h) - 1, name))
        *dup = true;
    return first;
}

static int client_handshake(wsx_conn *c, const wsx_http_response *res)
{
    const wsx_config *cfg = c->cfg;
    const wsx_header *h = res->headers;
    size_t n = res->num_headers;
    /* RFC 6455 §4.1: "If the status code received from the server is not
     * 101, the client handles the response per HTTP procedures"; for a
     * WebSocket client that means failing, with the status kept for
     * on_close (a 401 asks for credentials, a 503 to come back later). */
    c->http_status = (uint16_t)res->status;
    if (res->status != 101) {
        wsx__m_refused(c, res->status);
        return WSX_EREFUSED;
    }
    if (!wsx_http_has_token(h, n, "Upgrade", "websocket") ||
        !wsx_http_has_token(h, n, "Connection", "upgrade"))
        return WSX_EHANDSHAKE;
    bool dup = false;
    const wsx_header *acc = find_once(h, n, "Sec-WebSocket-Accept", &dup);
    const wsx_header *proto = find_once(h, n, "Sec-WebSocket-Protocol", &dup);
    if (dup || !acc || acc->value_len != WSX_ACCEPT_KEY_LEN ||
        memcmp(acc->value, c->accept, WSX_ACCEPT_KEY_LEN))
        return WSX_EHANDSHAKE;
    if (proto) {
        if (!offered_protocol(cfg->client.protocols, proto->value,
                              proto->value_len))
            return WSX_EHANDSHAKE;
        if (!(c->protocol = dup_str(c, proto->value, proto->value_len)))
            return WSX_ENOMEM;
    }
    /* §4.1: an extension the client did not ask for fails the
     * connection; wsx offers at most one. */
    for (size_t i = 0; i < n; i++) {
        if (!wsx_http_find(&h[i], 1, "Sec-WebSocket-Extensions"))
            continue;
        if (!cfg->extension || c->ext_state)
            return WSX_EHANDSHAKE;
        int r = cfg->extension->client_accept(cfg->extension_config, h[i].value,
                                              h[i].value_len, &c->ext_state,
                                              &cfg->alloc);
        if (r < 0)
            return WSX_EHANDSHAKE;
    }
    wsx_handshake hs = {NULL, res};
    wsx_handshake_reply reply = {NULL, NULL, NULL, 0};
    int status = wsx__cb_handshake(c, &hs, &reply);
    if (status)
        return status < 0 ? status : WSX_EHANDSHAKE;
    memset(c->accept, 0, sizeof c->accept);
    return open_conn(c);
}

/* ---- the reader's HTTP state ---------------------------------------- */

/* Parse a head from p[0..n): > 0 its size, 0 incomplete, < 0 error. */
static int parse_head(wsx_conn *c, const uint8_t *p, size_t n,
                      wsx_header *hdrs, wsx_http_request *req,
                      wsx_http_response *res)
{
    if (c->cfg->role == WSX_SERVER)
        return wsx_http_parse_request(req, hdrs, WSX_MAX_HEADERS, p, n);
    return wsx_http_parse_response(res, hdrs, WSX_MAX_HEADERS, p, n);
}

long wsx__read_http(wsx_conn *c, const uint8_t *p, size_t n)
{
    size_t limit = c->cfg->max_header_size;
    wsx_header hdrs[WSX_MAX_HEADERS];
    wsx_http_request req;
    wsx_http_response res;
    const uint8_t *head = p;
    size_t used;
    int r;
    if (c->in.len == 0 && (r = parse_head(c, p, n, hdrs, &req, &res)) != 0) {
        /* The whole head is in the caller's buffer: no copy, no
         * allocation (the common case: one read brings the request). */
        if (r > 0 && (size_t)r > limit)
            return WSX_EHDRSIZE;
        if (r < 0)
            return r;
        used = (size_t)r;
    } else {
        size_t take = n < limit - c->in.len ? n : limit - c->in.len;
        r = wsx__buf_reserve(c, &c->in, take);
        if (r < 0)
            return r;
        memcpy(c->in.p + c->in.len, p, take);
        c->in.len += take;
        /* A head ends with an empty line: nothing to parse until a LF. */
        if (take == n && !memchr(p, '\n', take))
            return (long)n;
        r = parse_head(c, c->in.p, c->in.len, hdrs, &req, &res);
        if (r == 0)
            return c->in.len >= limit ? WSX_EHDRSIZE : (long)take;
        if (r < 0)
            return r;
        /* Bytes after the head are frames (or a body): leave them to the
         * next reader. */
        used = take - (c->in.len - (size_t)r);
        head = c->in.p;
    }
    if (c->cfg->role == WSX_SERVER)
        r = server_handshake(c, &req, head, (size_t)r);
    else
        r = client_handshake(c, &res);
    if (c->state != WSX_STATE_HANDSHAKE)
        wsx__buf_release(c, &c->in);
    return r < 0 ? r : (long)used;
}
