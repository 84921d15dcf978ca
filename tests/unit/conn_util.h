/* conn_util.h - helpers for connection tests: an endpoint that records
 * what the connection wrote and which events it raised, and a masked
 * frame builder to play the client against a server connection. */
#ifndef WSX_CONN_UTIL_H
#define WSX_CONN_UTIL_H

#include "test.h"

/* memmem is not in C11 or POSIX. */
static inline const void *mem_find(const void *hay, size_t n, const void *needle,
                            size_t k)
{
    const uint8_t *h = hay;
    for (size_t i = 0; k <= n && i + k <= n; i++)
        if (!memcmp(h + i, needle, k))
            return h + i;
    return NULL;
}

typedef struct ep {
    wsx_conn *c;
    uint8_t *out; /* everything the send callback accepted */
    size_t out_len, out_cap;
    uint64_t rng;
    int partial;  /* 1: accept random partial amounts and would-block */
    char log[4096]; /* events, one per line */
    uint8_t *msg; /* last whole message */
    size_t msg_len;
    int msgs, opens, closes, drains, pongs;
    uint16_t close_code, close_http;
    int close_error;
    bool close_clean, free_on_close;
} ep;

static inline void ep_log(ep *e, const char *s)
{
    size_t n = strlen(e->log);
    if (n + strlen(s) + 2 < sizeof e->log) {
        strcat(e->log, s);
        strcat(e->log, "\n");
    }
}

static inline long ep_send(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    ep *e = user;
    (void)c;
    if (e->partial) {
        uint64_t r = test_rand(&e->rng);
        if (r % 4 == 0)
            return WSX_EAGAIN;
        len = 1 + (size_t)(r >> 8) % len;
    }
    if (e->out_len + len > e->out_cap) {
        e->out_cap = (e->out_len + len) * 2;
        e->out = realloc(e->out, e->out_cap);
    }
    memcpy(e->out + e->out_len, p, len);
    e->out_len += len;
    return (long)len;
}

/* The gather write over the same transport: the pieces in order, and a
 * partial amount may end inside any of them. */
static inline long ep_sendv(wsx_conn *c, const wsx_iovec *v, int n, void *user)
{
    size_t total = 0, off = 0;
    for (int i = 0; i < n; i++)
        total += v[i].len;
    uint8_t *all = malloc(total ? total : 1);
    for (int i = 0; i < n; i++) {
        memcpy(all + off, v[i].base, v[i].len);
        off += v[i].len;
    }
    long k = ep_send(c, all, total, user);
    free(all);
    return k;
}

static inline int ep_random(wsx_conn *c, uint8_t *buf, size_t len, void *user)
{
    ep *e = user;
    (void)c;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)test_rand(&e->rng);
    return 0;
}

static inline void ep_open(wsx_conn *c, void *user)
{
    (void)c;
    ((ep *)user)->opens++;
    ep_log(user, "open");
}

static inline void ep_message(wsx_conn *c, const wsx_message *m, void *user)
{
    ep *e = user;
    char line[64];
    (void)c;
    e->msgs++;
    free(e->msg);
    e->msg = malloc(m->len + 1);
    memcpy(e->msg, m->data, m->len);
    e->msg_len = m->len;
    snprintf(line, sizeof line, "msg %d %zu", m->opcode, m->len);
    ep_log(e, line);
}

static inline void ep_pong(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    (void)c;
    (void)p;
    (void)len;
    ((ep *)user)->pongs++;
    ep_log(user, "pong");
}

static inline void ep_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    ep *e = user;
    char line[64];
    e->closes++;
    e->close_code = ci->code;
    e->close_error = ci->error;
    e->close_http = ci->http_status;
    e->close_clean = ci->clean;
    snprintf(line, sizeof line, "close %u", ci->code);
    ep_log(e, line);
    if (e->free_on_close) {
        wsx_conn_free(c);
        e->c = NULL;
    }
}

static inline void ep_drain(wsx_conn *c, void *user)
{
    (void)c;
    ((ep *)user)->drains++;
}

static inline void ep_callbacks(wsx_callbacks *cb)
{
    wsx_callbacks_init(cb);
    cb->send = ep_send;
    cb->random = ep_random;
    cb->on_open = ep_open;
    cb->on_message = ep_message;
    cb->on_pong = ep_pong;
    cb->on_close = ep_close;
    cb->on_drain = ep_drain;
}

static inline void ep_reset_out(ep *e)
{
    e->out_len = 0;
}

static inline void ep_fini(ep *e)
{
    if (e->c)
        wsx_conn_free(e->c);
    free(e->out);
    free(e->msg);
    memset(e, 0, sizeof *e);
}

/* The RFC 6455 §1.3 request. */
static const char rfc_request[] =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

/* A client frame: masked with a fixed key. Returns its size. */
static inline size_t client_frame(uint8_t *out, uint8_t b0, const void *p, size_t n)
{
    wsx_frame_header h;
    memset(&h, 0, sizeof h);
    h.fin = b0 & 0x80;
    h.rsv = b0 & 0x70;
    h.opcode = b0 & 0x0f;
    h.masked = true;
    memcpy(h.mask, "\x37\xfa\x21\x3d", 4);
    h.length = n;
    size_t hl = wsx_frame_build(out, &h);
    memcpy(out + hl, p, n);
    wsx_mask(out + hl, n, h.mask, 0);
    return hl + n;
}

/* Feed a copy of p in pieces: mode 0 whole, 1 byte by byte, 2 random. */
static inline int feed_split(wsx_conn *c, const uint8_t *p, size_t n, int mode,
                      uint64_t *rng)
{
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, p, n);
    size_t off = 0;
    int r = 0;
    while (off < n && r == 0) {
        size_t k = n - off;
        if (mode == 1)
            k = 1;
        else if (mode == 2)
            k = 1 + (size_t)(test_rand(rng) % k);
        r = wsx_conn_feed(c, copy + off, k);
        off += k;
    }
    free(copy);
    return r;
}

/* The close code in the first close frame found in server output. */
static inline int server_close_code(const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        wsx_frame_header h;
        int r = wsx_frame_parse(&h, p + off, n - off);
        if (r <= 0 || h.masked)
            return -1;
        off += (size_t)r;
        if (h.opcode == WSX_CLOSE)
            return h.length >= 2 ? (p[off] << 8 | p[off + 1]) : 1005;
        off += (size_t)h.length;
    }
    return -1;
}

#endif
