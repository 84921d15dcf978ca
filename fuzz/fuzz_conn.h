/* fuzz_conn.h - the whole-connection harness behind fuzz_conn_server.c and
 * fuzz_conn_client.c: one wsx_conn fed the input at random splits through
 * a transport that takes partial amounts, would-block or fails, with
 * random wsx_send/ping/close calls in and out of callbacks and an
 * advancing clock. Invariants are checked after every step, on every
 * event and on every byte the connection wrote (RFC 6455 §4, §5, §7).
 *
 * Input: [flags A][flags B][flags C][8-byte PRNG seed][peer's bytes...] */
#ifndef WSX_FUZZ_CONN_H
#define WSX_FUZZ_CONN_H

#include "fuzz_util.h"
#include "wsx_deflate.h"
#include "wsx_http.h"

/* Flags A */
#define FA_STREAMING 0x01u /* deliver with on_fragment */
#define FA_LIMITS 0x02u    /* small frame, message and header limits */
#define FA_WATER 0x04u     /* small high/low water marks */
#define FA_PULL 0x08u      /* no send callback: wsx_conn_pending/advance */
#define FA_TIMERS 0x10u    /* short timeouts and keep-alive pings */
#define FA_FREE_CLOSE 0x20u /* wsx_conn_free as on_close's last action */
#define FA_PREFIX 0x40u    /* a valid handshake goes before the input */
#define FA_FLAKY 0x80u     /* the transport takes parts, would-block */
/* Flags B */
#define FB_IOERR 0x01u     /* the send callback fails now and then */
#define FB_NOMEM 0x02u     /* the n-th allocation fails... */
#define FB_NOMEM_ALL 0x04u /* ...and every one after it */
#define FB_NOREALLOC 0x08u /* the allocator has no realloc */
#define FB_FREE_ANY 0x10u  /* wsx_conn_free from any callback */
#define FB_CALLS 0x20u     /* send, ping and close from callbacks */
#define FB_RANDFAIL 0x40u  /* the random callback fails now and then */
#define FB_EOF 0x80u       /* the transport may reach end of file */
/* Flags C */
#define FC_DEFLATE 0x01u   /* permessage-deflate configured (RFC 7692), and
                              negotiated in the FA_PREFIX handshake */
#define FC_NO_TAKEOVER 0x02u /* ..._no_context_takeover on both sides */
#define FC_SMALL 0x04u     /* 2^9 windows, compress every message */
#define FC_CLOSE_ANY 0x08u /* wsx_close from the n-th callback */
#define FC_RANDOM_EV 0x10u /* the random callback counts as a callback for
                              FB_FREE_ANY and FC_CLOSE_ANY */
#define FC_CLOCK 0x20u     /* any clock: origin anywhere in 0..UINT64_MAX,
                              any steps, often exactly at the deadline */
#define FC_SENDV 0x40u     /* a gather-write callback too (large frames
                              leave through it, partly taken as by send) */
#define FZ_HEAD 11         /* flags A, B, C and the seed */

/* A data frame one of our calls queued, as the peer must see it. */
typedef struct fz_sent {
    uint8_t op;
    bool fin;
    size_t len;
    uint64_t hash;
} fz_sent;

typedef struct fz_conn {
    wsx_conn *c;
    wsx_role role;
    wsx_config cfg;
    wsx_callbacks cb;
    fz_alloc alloc;
    fz_rng rng;
    unsigned fa, fb, fc;
    wsx_deflate_config dcfg;
    /* the transport: everything it accepted */
    uint8_t *out;
    size_t out_len, out_cap;
    bool cut;        /* queued output was thrown away: only a prefix left */
    bool drain;      /* final flush: take everything, fail nothing */
    bool done;       /* wsx_conn_done was seen true */
    bool freed;      /* wsx_conn_free was called */
    /* events */
    int events, free_at, close_at, opens, closes, handshakes, depth;
    int state, err;
    uint64_t now, next, ticks, fed, delivered;
    bool quiet;      /* nothing but ticks since the last tick */
    bool in_msg;     /* streaming: a message is being delivered */
    uint8_t msg_op;
    fz_utf8 u8;
    /* what our calls queued */
    fz_sent *sent;
    size_t nsent, cap_sent, sent_bytes, http_bytes;
    bool sending;    /* a fragmented send is open */
    int http;        /* FC_HTTP_*: what on_http left open */
    bool closing;    /* our wsx_close succeeded: the close frame is ours */
    uint16_t close_code;
    size_t close_reason_len;
} fz_conn;

/* The RFC 6455 §1.3 opening request, and the 101 for a client whose
 * random callback gave 16 zero bytes: key "AAAAAAAAAAAAAAAAAAAAAA==". */
static const char fz_request[] =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";
static const char fz_response[] =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: ICX+Yqv66kxgM0FcWaLWlFLwTAI=\r\n"
    "Sec-WebSocket-Protocol: chat\r\n\r\n";
/* The same, agreeing on permessage-deflate (RFC 7692 §5); the client's
 * 101 answers what its configuration offers (§7.1.1.1, §7.1.2.1). */
static const char fz_request_pmd[] =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

static void fz_response_pmd(char *out, unsigned fc)
{
    strcpy(out, "HTTP/1.1 101 Switching Protocols\r\n"
                "Upgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                "Sec-WebSocket-Accept: ICX+Yqv66kxgM0FcWaLWlFLwTAI=\r\n"
                "Sec-WebSocket-Extensions: permessage-deflate");
    if (fc & FC_NO_TAKEOVER)
        strcat(out, "; server_no_context_takeover; client_no_context_takeover");
    if (fc & FC_SMALL)
        strcat(out, "; server_max_window_bits=9; client_max_window_bits=9");
    strcat(out, "\r\n\r\n");
}

/* Bytes on the wire for a payload of len from this role (RFC 6455 §5.2). */
static size_t fc_framed(const fz_conn *f, size_t len)
{
    size_t h = 2 + (len < 126 ? 0 : len <= 0xffff ? 2 : 8);
    return h + (f->role == WSX_CLIENT ? 4 : 0) + len;
}

static void fc_take(fz_conn *f, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    if (f->out_len + n > f->out_cap) {
        f->out_cap = (f->out_len + n) * 2;
        f->out = realloc(f->out, f->out_cap);
        WSX_FUZZ_CHECK(f->out);
    }
    memcpy(f->out + f->out_len, p, n);
    f->out_len += n;
}

static uint8_t *fc_bytes(fz_conn *f, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    WSX_FUZZ_CHECK(d);
    for (size_t i = 0; i < n; i++)
        d[i] = i % 8 ? (uint8_t)(d[i - 1] * 31u + 7u) : (uint8_t)fz_next(&f->rng);
    return d;
}

/* Payload sizes around every length-encoding boundary of §5.2. */
static size_t fc_len(fz_conn *f)
{
    static const size_t edge[] = {0, 1, 125, 126, 127, 65535, 65536};
    switch (fz_below(&f->rng, 8)) {
    case 0:
        return edge[fz_below(&f->rng, 7)];
    case 1:
        return fz_below(&f->rng, 2000);
    default:
        return fz_below(&f->rng, 130);
    }
}

static void fc_record(fz_conn *f, uint8_t op, bool fin, const uint8_t *p,
                      size_t len)
{
    if (f->nsent == f->cap_sent) {
        f->cap_sent = f->cap_sent * 2 + 16;
        f->sent = realloc(f->sent, f->cap_sent * sizeof *f->sent);
        WSX_FUZZ_CHECK(f->sent);
    }
    f->sent[f->nsent].op = op;
    f->sent[f->nsent].fin = fin;
    f->sent[f->nsent].len = len;
    f->sent[f->nsent++].hash = fz_hash(p, len, FZ_HASH0);
    /* DEFLATE may grow incompressible data a little (RFC 1951 §3.2.4). */
    f->sent_bytes += fc_framed(f, len) + (f->cfg.extension ? 32 + len / 16 : 0);
}

/* ---- callbacks ------------------------------------------------------ */

/* Every callback starts here: it belongs to our connection, and none
 * fires once the application freed the connection from a callback
 * (wsx.h: "no callback of that connection fires after it"). */
static void fc_event(fz_conn *f, wsx_conn *c)
{
    WSX_FUZZ_CHECK(c == f->c && !f->freed);
    f->events++;
}

static void fc_free(fz_conn *f)
{
    wsx_conn_free(f->c);
    f->freed = true;
    f->cut = true;
}

static void fc_close(fz_conn *f);

/* FB_FREE_ANY: the n-th callback ends with wsx_conn_free; FC_CLOSE_ANY:
 * the n-th (another n) with wsx_close, whatever the callback. */
static void fc_maybe_free(fz_conn *f)
{
    if (!f->freed && f->close_at && f->events >= f->close_at) {
        f->close_at = 0;
        f->depth++;
        fc_close(f);
        f->depth--;
    }
    if (!f->freed && f->free_at && f->events >= f->free_at)
        fc_free(f);
}

static void fc_call(fz_conn *f);

static long fc_send_cb(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    fz_conn *f = user;
    size_t take = len;
    fc_event(f, c);
    /* After wsx_conn_done nothing more may appear on the wire. */
    WSX_FUZZ_CHECK(!f->done);
    WSX_FUZZ_CHECK(len > 0 && p);
    if (!f->drain) {
        if ((f->fb & FB_IOERR) && fz_one_in(&f->rng, 24)) {
            f->cut = true;
            return fz_one_in(&f->rng, 2) ? WSX_EIO : -12345;
        }
        if (f->fa & FA_FLAKY) {
            uint64_t r = fz_next(&f->rng);
            if (r % 6 == 0)
                return WSX_EAGAIN;
            if (r % 6 == 1)
                return 0;
            if (r % 6 < 4)
                take = 1 + (size_t)(r >> 8) % len;
        }
    }
    fc_take(f, p, take);
    fc_maybe_free(f);
    return (long)take;
}

/* The gather write: the pieces in order, through the same transport. */
static long fc_sendv_cb(wsx_conn *c, const wsx_iovec *v, int n, void *user)
{
    size_t total = 0, off = 0;
    for (int i = 0; i < n; i++)
        total += v[i].len;
    uint8_t *all = malloc(total ? total : 1);
    if (!all)
        return WSX_EAGAIN;
    for (int i = 0; i < n; i++) {
        memcpy(all + off, v[i].base, v[i].len);
        off += v[i].len;
    }
    long k = fc_send_cb(c, all, total, user);
    free(all);
    return k;
}

static int fc_random_cb(wsx_conn *c, uint8_t *buf, size_t len, void *user)
{
    fz_conn *f = user;
    WSX_FUZZ_CHECK(!f->freed && (!f->c || c == f->c));
    if ((f->fb & FB_RANDFAIL) && fz_one_in(&f->rng, 6))
        return -1;
    /* The first call makes the Sec-WebSocket-Key: zeros, so that the
     * accept key in fz_response and in seed inputs matches. */
    if (!f->c) {
        memset(buf, 0, len);
        return 0;
    }
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)fz_next(&f->rng);
    if (f->fc & FC_RANDOM_EV) {
        fc_event(f, c);
        fc_maybe_free(f);
    }
    return 0;
}

static int fc_handshake_cb(wsx_conn *c, const wsx_handshake *hs,
                           wsx_handshake_reply *reply, void *user)
{
    fz_conn *f = user;
    int ret = 0;
    fc_event(f, c);
    WSX_FUZZ_CHECK(f->handshakes++ == 0 && f->opens == 0);
    WSX_FUZZ_CHECK(wsx_conn_state(c) == WSX_STATE_HANDSHAKE);
    if (f->role == WSX_SERVER) {
        const wsx_http_request *q = hs->request;
        WSX_FUZZ_CHECK(q && !hs->response);
        fz_hash((const uint8_t *)q->target, q->target_len, FZ_HASH0);
        for (size_t i = 0; i < q->num_headers; i++)
            fz_hash((const uint8_t *)q->headers[i].value,
                    q->headers[i].value_len, FZ_HASH0);
        switch (fz_below(&f->rng, 12)) {
        case 0:
            reply->protocol = "chat";
            break;
        case 1:
            reply->protocol = "unoffered";
            break;
        case 2:
            reply->extra_headers = "X-Fuzz: 1\r\n";
            break;
        case 3:
            ret = fz_one_in(&f->rng, 2) ? 401 : 200; /* 200: refused as 403 */
            break;
        default:
            break;
        }
    } else {
        WSX_FUZZ_CHECK(hs->response && !hs->request);
        WSX_FUZZ_CHECK(hs->response->status == 101);
        ret = fz_one_in(&f->rng, 16);
    }
    fc_maybe_free(f);
    return ret;
}

/* What on_http left open for later calls (fc_http_act). */
enum { FC_HTTP_NONE, FC_HTTP_HELD, FC_HTTP_STREAM };

static bool fc_http_ok(int r) /* what any later HTTP call may return */
{
    return r == 0 || r == WSX_ESTATE || r == WSX_ECLOSED || r == WSX_ENOMEM;
}

/* Answer now, hold, stream (plain or SSE), or leave it to the default. */
static void fc_http_answer(fz_conn *f, wsx_conn *c, bool later)
{
    size_t len = fc_len(f);
    uint8_t *body;
    int r;
    switch (fz_below(&f->rng, later ? 4 : 5)) {
    case 0:
        body = fc_bytes(f, len);
        r = wsx_http_respond(c, 404, "text/plain", "X-Fuzz: 1\r\n", body, len);
        WSX_FUZZ_CHECK(later ? fc_http_ok(r) : r == 0 || r == WSX_ENOMEM);
        if (r == 0)
            f->http_bytes += 256 + len;
        free(body);
        break;
    case 1:
        r = wsx_http_stream_begin(c, 200, "text/plain", "X-Fuzz: 1\r\n");
        WSX_FUZZ_CHECK(later ? fc_http_ok(r) : r == 0 || r == WSX_ENOMEM);
        goto streaming;
    case 2:
        r = wsx_sse_begin(c, (uint32_t)fz_below(&f->rng, 3) * 500, NULL);
        WSX_FUZZ_CHECK(later ? fc_http_ok(r) : r == 0 || r == WSX_ENOMEM);
    streaming:
        if (r == 0) {
            f->http = FC_HTTP_STREAM;
            f->http_bytes += 256;
        }
        break;
    case 3:
        r = wsx_http_stream_end(c); /* a held request: 503 */
        WSX_FUZZ_CHECK(r == 0 || r == WSX_ESTATE);
        f->http_bytes += 256;
        if (r == 0)
            f->http = FC_HTTP_NONE;
        break;
    default:
        r = wsx_http_hold(c);
        WSX_FUZZ_CHECK(r == 0);
        f->http = FC_HTTP_HELD;
        break;
    }
}

static void fc_http_cb(wsx_conn *c, const wsx_http_request *req, void *user)
{
    fz_conn *f = user;
    fc_event(f, c);
    WSX_FUZZ_CHECK(f->role == WSX_SERVER && req);
    WSX_FUZZ_CHECK(wsx_conn_state(c) == WSX_STATE_HANDSHAKE);
    size_t n;
    const uint8_t *body = wsx_http_body(c, &n);
    WSX_FUZZ_CHECK(body || n == 0);
    if (body)
        fz_hash(body, n, FZ_HASH0);
    if (fz_one_in(&f->rng, 4) == 0)
        fc_http_answer(f, c, false);
    fc_maybe_free(f);
}

/* Later, from the application: answer a held request, write to a stream
 * (SSE events with ids that may hold what an id must not), heartbeats,
 * the end; after the connection ended, each must refuse cleanly. */
static void fc_http_act(fz_conn *f)
{
    static const char *const ids[] = {NULL, "", "42", "a\nb", "x\ry"};
    size_t len = fc_len(f) % 512;
    uint8_t *data;
    int r;
    if (f->http == FC_HTTP_HELD) {
        fc_http_answer(f, f->c, true);
        return;
    }
    switch (fz_below(&f->rng, 4)) {
    case 0:
        data = fc_bytes(f, len);
        r = wsx_http_stream_write(f->c, data, len);
        WSX_FUZZ_CHECK(fc_http_ok(r) || r == WSX_EFULL);
        if (r == 0)
            f->http_bytes += len;
        free(data);
        break;
    case 1:
        data = fc_bytes(f, len); /* CR, LF: several data lines */
        r = wsx_sse_send(f->c, ids[fz_below(&f->rng, 5)],
                         fz_one_in(&f->rng, 2) ? "tick" : NULL, data, len);
        WSX_FUZZ_CHECK(fc_http_ok(r) || r == WSX_EFULL || r == WSX_EINVAL);
        if (r == 0)
            f->http_bytes += 64 + 6 * (len + 1);
        free(data);
        break;
    case 2:
        r = wsx_http_stream_heartbeat(f->c, (uint32_t)fz_below(&f->rng, 3) * 250,
                                      ":\n", 2);
        WSX_FUZZ_CHECK(r == 0 || r == WSX_ESTATE);
        break;
    default:
        r = wsx_http_stream_end(f->c);
        WSX_FUZZ_CHECK(r == 0 || r == WSX_ESTATE);
        break;
    }
}

static void fc_open_cb(wsx_conn *c, void *user)
{
    fz_conn *f = user;
    fc_event(f, c);
    WSX_FUZZ_CHECK(f->opens++ == 0 && f->closes == 0);
    WSX_FUZZ_CHECK(wsx_conn_state(c) == WSX_STATE_OPEN);
    fc_call(f);
    fc_maybe_free(f);
}

/* Data may arrive between open and close only. */
static void fc_data(fz_conn *f, const wsx_message *m)
{
    WSX_FUZZ_CHECK(f->opens == 1 && f->closes == 0);
    WSX_FUZZ_CHECK(m->opcode == WSX_TEXT || m->opcode == WSX_BINARY);
    WSX_FUZZ_CHECK(m->len == 0 || m->data);
    fz_hash(m->data, m->len, FZ_HASH0);
    f->delivered += m->len;
    /* Only an extension may deliver more than it was fed (it inflates). */
    WSX_FUZZ_CHECK(f->cfg.extension || f->delivered <= f->fed);
}

static void fc_message_cb(wsx_conn *c, const wsx_message *m, void *user)
{
    fz_conn *f = user;
    fc_event(f, c);
    fc_data(f, m);
    WSX_FUZZ_CHECK(!f->cfg.streaming && m->first && m->fin);
    WSX_FUZZ_CHECK(m->len <= f->cfg.max_message_size);
    /* RFC 6455 §8.1: a text message is valid UTF-8 as a whole. */
    WSX_FUZZ_CHECK(m->opcode != WSX_TEXT || fz_utf8_valid(m->data, m->len));
    if ((f->fb & FB_CALLS) && fz_one_in(&f->rng, 2)) {
        /* Echo straight from the delivered buffer, as echo servers do. */
        int r = wsx_send(c, m->opcode, m->data, m->len);
        WSX_FUZZ_CHECK(r <= 0);
        if (r == 0) {
            WSX_FUZZ_CHECK(!f->sending);
            fc_record(f, (uint8_t)m->opcode, true, m->data, m->len);
        }
    } else {
        fc_call(f);
    }
    fc_maybe_free(f);
}

static void fc_fragment_cb(wsx_conn *c, const wsx_message *m, void *user)
{
    fz_conn *f = user;
    fc_event(f, c);
    fc_data(f, m);
    WSX_FUZZ_CHECK(f->cfg.streaming);
    WSX_FUZZ_CHECK(m->first == !f->in_msg);
    /* A piece is part of one frame, unless an extension inflated it. */
    WSX_FUZZ_CHECK(f->cfg.extension || m->len <= f->cfg.max_frame_size);
    WSX_FUZZ_CHECK(m->len > 0 || m->fin);
    if (m->first) {
        f->msg_op = (uint8_t)m->opcode;
        memset(&f->u8, 0, sizeof f->u8);
    }
    WSX_FUZZ_CHECK(m->opcode == f->msg_op);
    /* Streaming keeps fail-fast validation: no piece holds a byte that
     * can never be valid, and the last piece ends a character. */
    if (m->opcode == WSX_TEXT) {
        WSX_FUZZ_CHECK(fz_utf8_check(&f->u8, m->data, m->len) < 0);
        WSX_FUZZ_CHECK(!m->fin || f->u8.need == 0);
    }
    f->in_msg = !m->fin;
    fc_call(f);
    fc_maybe_free(f);
}

static void fc_ping_cb(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    fz_conn *f = user;
    fc_event(f, c);
    WSX_FUZZ_CHECK(f->opens == 1 && f->closes == 0 && len <= 125);
    WSX_FUZZ_CHECK(len == 0 || p);
    fz_hash(p, len, FZ_HASH0);
    fc_call(f);
    fc_maybe_free(f);
}

static void fc_pong_cb(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    fc_ping_cb(c, p, len, user);
}

static void fc_close_cb(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    fz_conn *f = user;
    fc_event(f, c);
    WSX_FUZZ_CHECK(f->closes++ == 0);
    WSX_FUZZ_CHECK(wsx_conn_state(c) == WSX_STATE_CLOSED);
    WSX_FUZZ_CHECK(ci->error == wsx_conn_error(c));
    WSX_FUZZ_CHECK(ci->error <= 0 && !(ci->clean && ci->error));
    WSX_FUZZ_CHECK(ci->reason_len <= 123 && (!ci->reason_len || ci->reason));
    WSX_FUZZ_CHECK(fz_utf8_valid((const uint8_t *)ci->reason, ci->reason_len));
    WSX_FUZZ_CHECK(ci->code == WSX_CLOSE_NO_STATUS ||
                   ci->code == WSX_CLOSE_ABNORMAL ||
                   wsx_close_code_valid(ci->code));
    /* Nothing can be sent once closed. */
    if (fz_one_in(&f->rng, 4)) {
        int r = wsx_send(c, WSX_TEXT, "x", 1);
        WSX_FUZZ_CHECK(r == WSX_ECLOSED || (r < 0 && r == ci->error));
    }
    if ((f->fa & FA_FREE_CLOSE) && !f->freed)
        fc_free(f);
    fc_maybe_free(f);
}

static void fc_drain_cb(wsx_conn *c, void *user)
{
    fz_conn *f = user;
    fc_event(f, c);
    WSX_FUZZ_CHECK(wsx_conn_state(c) != WSX_STATE_CLOSED);
    WSX_FUZZ_CHECK(wsx_buffered_amount(c) <= f->cfg.low_water);
    fc_call(f);
    fc_maybe_free(f);
}

/* ---- the application's calls ---------------------------------------- */

/* Accounting of one call: unless a callback ran during it, what is still
 * queued plus what the transport took equals what was queued before plus
 * what the call framed. No byte lost, none invented. */
typedef struct fc_mark {
    size_t buffered, taken;
    int events, err, state;
} fc_mark;

static fc_mark fc_mark_now(const fz_conn *f)
{
    fc_mark m = {wsx_buffered_amount(f->c), f->out_len, f->events,
                 wsx_conn_error(f->c),
                 (int)wsx_conn_state(f->c)};
    return m;
}

#define FC_UNKNOWN SIZE_MAX /* compressed: the size is the extension's */

static void fc_account(const fz_conn *f, const fc_mark *m, size_t framed)
{
    if (f->freed || f->events != m->events || framed == FC_UNKNOWN)
        return;
    WSX_FUZZ_CHECK(wsx_buffered_amount(f->c) + (f->out_len - m->taken) ==
                   m->buffered + framed);
}

/* wsx_send or wsx_send_fragment, with the result the header promises. */
static void fc_send(fz_conn *f, bool fragment)
{
    size_t len = fc_len(f);
    uint8_t *d = fc_bytes(f, len);
    wsx_opcode op = fz_one_in(&f->rng, 2) ? WSX_TEXT : WSX_BINARY;
    bool fin = !fragment || fz_one_in(&f->rng, 3), first = !f->sending;
    size_t hw = f->cfg.high_water;
    fc_mark m = fc_mark_now(f);
    int r;

    if (fz_one_in(&f->rng, 16))
        op = (wsx_opcode)fz_below(&f->rng, 16);
    r = fragment ? wsx_send_fragment(f->c, op, d, len, fin)
                 : wsx_send(f->c, op, d, len);
    if (m.err)
        WSX_FUZZ_CHECK(r == m.err);
    if (r == 0) {
        /* Recorded even when a callback freed the connection meanwhile:
         * part of the frame may have reached the transport. */
        WSX_FUZZ_CHECK(m.state == WSX_STATE_OPEN && !(!fragment && f->sending));
        WSX_FUZZ_CHECK(!first || op == WSX_TEXT || op == WSX_BINARY);
        WSX_FUZZ_CHECK(!hw || m.buffered <= hw);
        fc_record(f, first ? (uint8_t)op : WSX_CONTINUATION, fin, d, len);
        f->sending = !fin;
        fc_account(f, &m, f->cfg.extension ? FC_UNKNOWN : fc_framed(f, len));
    } else {
        WSX_FUZZ_CHECK(r < 0);
        if (r == WSX_EFULL)
            WSX_FUZZ_CHECK(hw && m.buffered > hw);
        if (r == WSX_ESTATE)
            WSX_FUZZ_CHECK(m.state == WSX_STATE_HANDSHAKE ||
                           (!fragment && f->sending));
        /* Or the application closed (or freed) it from the random
         * callback while the frame was being masked. */
        if (r == WSX_ECLOSED)
            WSX_FUZZ_CHECK(m.state >= WSX_STATE_CLOSING ||
                           f->events != m.events);
        if (r == WSX_EINVAL)
            WSX_FUZZ_CHECK(first && op != WSX_TEXT && op != WSX_BINARY);
        fc_account(f, &m, 0);
    }
    free(d);
}

static void fc_ping(fz_conn *f)
{
    size_t len = fz_below(&f->rng, 130);
    uint8_t *d = fc_bytes(f, len);
    fc_mark m = fc_mark_now(f);
    int r = wsx_ping(f->c, d, len);
    free(d);
    if (len > 125)
        WSX_FUZZ_CHECK(r == WSX_EINVAL);
    else if (m.err)
        WSX_FUZZ_CHECK(r == m.err);
    else if (m.state != WSX_STATE_OPEN)
        WSX_FUZZ_CHECK(r == (m.state == WSX_STATE_HANDSHAKE ? WSX_ESTATE
                                                            : WSX_ECLOSED));
    WSX_FUZZ_CHECK(r <= 0);
    if (r == 0)
        f->sent_bytes += fc_framed(f, len);
    fc_account(f, &m, r == 0 ? fc_framed(f, len) : 0);
}

static void fc_close(fz_conn *f)
{
    static const uint16_t codes[] = {0,    1000, 1001, 1003, 1004, 1005, 1006,
                                     1011, 1015, 2999, 3000, 4999, 5000};
    static const char *reasons[] = {NULL, "", "bye", "\xce\xba\xe1\xbd\xb9",
                                    "\xff", "\xe2\x82",
                                    "0123456789abcdef0123456789abcdef"
                                    "0123456789abcdef0123456789abcdef"
                                    "0123456789abcdef0123456789abcdef"
                                    "0123456789abcdef0123456789a",
                                    "0123456789abcdef0123456789abcdef"
                                    "0123456789abcdef0123456789abcdef"
                                    "0123456789abcdef0123456789abcdef"
                                    "0123456789abcdef0123456789ab"};
    uint16_t code = codes[fz_below(&f->rng, 13)];
    const char *reason = reasons[fz_below(&f->rng, 8)];
    size_t rlen = reason ? strlen(reason) : 0;
    bool valid = (code ? wsx_close_code_valid(code) : rlen == 0) &&
                 rlen <= 123 && fz_utf8_valid((const uint8_t *)reason, rlen);
    fc_mark m = fc_mark_now(f);
    int r = wsx_close(f->c, code, reason);
    if (m.err)
        WSX_FUZZ_CHECK(r == m.err);
    else if (m.state == WSX_STATE_HANDSHAKE)
        WSX_FUZZ_CHECK(r == WSX_ESTATE);
    else if (m.state != WSX_STATE_OPEN)
        WSX_FUZZ_CHECK(r == WSX_ECLOSED);
    else if (!valid)
        WSX_FUZZ_CHECK(r == WSX_EINVAL);
    else
        WSX_FUZZ_CHECK(r == 0 || r == WSX_ENOMEM || r == WSX_EIO ||
                       (r == WSX_ECLOSED && f->events != m.events));
    if (r == 0) {
        f->closing = true;
        f->sending = false;
        f->close_code = code;
        f->close_reason_len = rlen;
        f->sent_bytes += fc_framed(f, code ? 2 + rlen : 0);
        WSX_FUZZ_CHECK(f->freed ||
                       wsx_conn_state(f->c) >= WSX_STATE_CLOSING);
    }
    fc_account(f, &m, r == 0 ? fc_framed(f, code ? 2 + rlen : 0) : 0);
}

/* Encode once, send many: the same bytes as wsx_send on the wire. */
static void fc_send_shared(fz_conn *f)
{
    size_t len = fc_len(f);
    uint8_t *d = fc_bytes(f, len);
    wsx_allocator a = f->cfg.alloc;
    wsx_opcode op = fz_one_in(&f->rng, 2) ? WSX_TEXT : WSX_BINARY;
    wsx_shared *s = wsx_shared_new(&a, op, d, len);
    if (s) {
        fc_mark m = fc_mark_now(f);
        bool mid = f->sending;
        int r = wsx_send_shared(f->c, s);
        wsx_shared_free(s);
        if (m.err)
            WSX_FUZZ_CHECK(r == m.err);
        if (r == 0) {
            WSX_FUZZ_CHECK(m.state == WSX_STATE_OPEN && !mid);
            fc_record(f, (uint8_t)op, true, d, len);
        }
        fc_account(f, &m, r != 0              ? 0
                          : f->cfg.extension ? FC_UNKNOWN
                                             : fc_framed(f, len));
    }
    free(d);
}

/* One random application call. */
static void fc_act(fz_conn *f)
{
    if (f->freed)
        return;
    f->quiet = false;
    f->depth++;
    if (f->http && fz_one_in(&f->rng, 2)) {
        fc_http_act(f);
        f->depth--;
        return;
    }
    switch (fz_below(&f->rng, 8)) {
    case 0:
    case 1:
        fc_send(f, false);
        break;
    case 2:
    case 3:
        fc_send(f, true);
        break;
    case 4:
        fc_ping(f);
        break;
    case 5:
        fc_send_shared(f);
        break;
    default:
        if (fz_one_in(&f->rng, 4))
            fc_close(f);
        break;
    }
    f->depth--;
}

/* From callbacks (FB_CALLS), as the header allows; but not from the
 * on_drain that the final flush of one of our calls may raise, so that
 * what a call queued is recorded before anything queued after it. */
static void fc_call(fz_conn *f)
{
    if ((f->fb & FB_CALLS) && f->depth == 0 && fz_one_in(&f->rng, 3))
        fc_act(f);
}

/* ---- the transport's calls ----------------------------------------- */

static void fc_feed(fz_conn *f, const uint8_t *p, size_t n)
{
    f->quiet = false;
    uint8_t *copy = fz_dup(p, n);
    int before = f->err;
    f->fed += n;
    int r = wsx_conn_feed(f->c, copy, n);
    free(copy);
    if (f->freed)
        return;
    /* A failure is sticky and reported by every later feed. */
    WSX_FUZZ_CHECK(r <= 0);
    if (before)
        WSX_FUZZ_CHECK(r == before);
    WSX_FUZZ_CHECK(r == wsx_conn_error(f->c));
}

/* FC_CLOCK: the next time, never before now: at the deadline the last
 * tick returned, just before it, or any distance ahead (saturating). */
static uint64_t fc_any_time(fz_conn *f)
{
    uint64_t d;
    switch (fz_below(&f->rng, 4)) {
    case 0:
    case 1:
        if (f->next != UINT64_MAX)
            return f->next;
        break;
    case 2:
        if (f->next != UINT64_MAX && f->next - 1 > f->now)
            return f->next - 1;
        break;
    default:
        break;
    }
    d = fz_next(&f->rng) >> fz_below(&f->rng, 64);
    return d > UINT64_MAX - f->now ? UINT64_MAX : f->now + d;
}

static void fc_tick(fz_conn *f)
{
    static const uint64_t steps[] = {0, 1, 10, 100, 1000, 5000, 10001, 60000};
    uint64_t next;
    if (f->fc & FC_CLOCK)
        f->now = fc_any_time(f);
    else
        f->now += steps[fz_below(&f->rng, 8)] + fz_below(&f->rng, 3);
    f->ticks++;
    /* Before the deadline the last tick gave, with nothing else done
     * since, no timer fires: no callback ran, no state changed. */
    bool early = f->quiet && f->now < f->next;
    int ev = f->events, st = (int)wsx_conn_state(f->c);
    next = wsx_conn_tick(f->c, f->now);
    if (!f->freed) {
        WSX_FUZZ_CHECK(next == UINT64_MAX || next > f->now);
        if (early && f->events == ev)
            WSX_FUZZ_CHECK((int)wsx_conn_state(f->c) == st);
    }
    f->next = next;
    f->quiet = true;
}

static void fc_flush(fz_conn *f)
{
    if (f->cb.send) {
        int before = f->err;
        int r = wsx_conn_flush(f->c);
        if (f->freed)
            return;
        if (before)
            WSX_FUZZ_CHECK(r == before);
        else if (r == 0)
            WSX_FUZZ_CHECK(!wsx_conn_wants_write(f->c));
        else if (r == WSX_EAGAIN)
            WSX_FUZZ_CHECK(wsx_conn_wants_write(f->c));
        else
            WSX_FUZZ_CHECK(r == wsx_conn_error(f->c));
        return;
    }
    /* Pull mode: take a random amount, sometimes more than offered. */
    const uint8_t *p;
    size_t n = wsx_conn_pending(f->c, &p);
    size_t k = f->drain ? n : fz_below(&f->rng, n + 3);
    size_t take = k < n ? k : n;
    fc_mark m = fc_mark_now(f);
    WSX_FUZZ_CHECK(n <= m.buffered && (n > 0) == (m.buffered > 0));
    WSX_FUZZ_CHECK(!f->done || n == 0);
    fc_take(f, p, take);
    wsx_conn_advance(f->c, k);
    if (!f->freed && f->events == m.events)
        WSX_FUZZ_CHECK(wsx_buffered_amount(f->c) == m.buffered - take);
}

static void fc_eof(fz_conn *f)
{
    f->quiet = false;
    f->cut = true;
    wsx_conn_eof(f->c);
    if (f->freed)
        return;
    WSX_FUZZ_CHECK(wsx_conn_state(f->c) == WSX_STATE_CLOSED);
    WSX_FUZZ_CHECK(f->closes == 1 && wsx_buffered_amount(f->c) == 0);
}

/* After every step: states only move forward, an error is sticky and
 * closed, the queue is consistent and bounded by what could have been
 * queued (an underflow would show as a huge amount), done stays done. */
static void fc_check(fz_conn *f)
{
    if (f->freed)
        return;
    int st = (int)wsx_conn_state(f->c), e = wsx_conn_error(f->c);
    size_t q = wsx_buffered_amount(f->c);
    /* HTTP (a held or streamed answer) comes after the handshake state
     * and leads only to CLOSED. */
    if (st == WSX_STATE_HTTP)
        WSX_FUZZ_CHECK(f->state == WSX_STATE_HANDSHAKE || f->state == WSX_STATE_HTTP);
    else if (f->state == WSX_STATE_HTTP)
        WSX_FUZZ_CHECK(st == WSX_STATE_CLOSED);
    else
        WSX_FUZZ_CHECK(st >= f->state && st <= WSX_STATE_CLOSED);
    f->state = st;
    if (f->err)
        WSX_FUZZ_CHECK(e == f->err);
    f->err = e;
    WSX_FUZZ_CHECK(e <= 0 && e > WSX_ERR_MIN_);
    WSX_FUZZ_CHECK(!e || st == WSX_STATE_CLOSED);
    WSX_FUZZ_CHECK(f->closes == (st == WSX_STATE_CLOSED));
    WSX_FUZZ_CHECK(wsx_conn_wants_write(f->c) == (q > 0));
    WSX_FUZZ_CHECK(f->out_len + q <= 2048 + f->http_bytes + f->sent_bytes +
                                         (f->fed / 2 + f->ticks + 4) * 139);
    if (wsx_conn_done(f->c))
        f->done = true;
    else
        WSX_FUZZ_CHECK(!f->done);
    WSX_FUZZ_CHECK(!f->done || (q == 0 && st == WSX_STATE_CLOSED));
}

/* ---- what the connection wrote ------------------------------------- */

/* The head, then well-formed frames of this role (§5.1-§5.5): data
 * frames exactly as our calls queued them, in order (compressed ones by
 * opcode and FIN); control frames short and whole; a close frame last,
 * carrying our code if we closed. Only a cut stream may end early. */
static void fc_check_output(fz_conn *f)
{
    const uint8_t *p = f->out;
    size_t n = f->out_len, off, next = 0;
    bool close_seen = false, deflated = false;
    wsx_header h[64];
    int r;

    if (n == 0)
        return;
    if (f->role == WSX_SERVER) {
        wsx_http_response res;
        r = wsx_http_parse_response(&res, h, 64, p, n);
        /* A head whose rest could not be queued (allocation failure after
         * a partial write) ends the connection with WSX_EIO mid-head. */
        WSX_FUZZ_CHECK(r > 0 || (r == 0 && (f->cut || f->err == WSX_EIO)));
        if (r <= 0)
            return;
        if (res.status != 101) {
            WSX_FUZZ_CHECK(f->opens == 0);
            return;
        }
    } else {
        wsx_http_request req;
        r = wsx_http_parse_request(&req, h, 64, p, n);
        WSX_FUZZ_CHECK(r > 0 || (r == 0 && f->cut));
        if (r <= 0)
            return;
        WSX_FUZZ_CHECK(wsx_http_check_upgrade(&req, NULL, NULL) == 0);
    }
    for (off = (size_t)r; off < n;) {
        wsx_frame_header fh;
        r = wsx_frame_parse(&fh, p + off, n - off);
        WSX_FUZZ_CHECK(r >= 0);
        if (r == 0 || fh.length > n - off - (size_t)r) {
            WSX_FUZZ_CHECK(f->cut);
            return;
        }
        WSX_FUZZ_CHECK(fh.masked == (f->role == WSX_CLIENT));
        WSX_FUZZ_CHECK(!close_seen);
        /* RFC 7692 §6: RSV1 marks a compressed message, on its first
         * frame only; nothing else sets an RSV bit. */
        WSX_FUZZ_CHECK(fh.rsv == 0 ||
                       (fh.rsv == WSX_RSV1 && f->cfg.extension &&
                        (fh.opcode == WSX_TEXT || fh.opcode == WSX_BINARY)));
        if (fh.opcode == WSX_TEXT || fh.opcode == WSX_BINARY)
            deflated = fh.rsv != 0;
        size_t len = (size_t)fh.length;
        uint8_t *pl = fz_dup(p + off + (size_t)r, len);
        if (fh.masked)
            wsx_mask(pl, len, fh.mask, 0);
        switch (fh.opcode) {
        case WSX_CONTINUATION:
        case WSX_TEXT:
        case WSX_BINARY:
            WSX_FUZZ_CHECK(next < f->nsent);
            WSX_FUZZ_CHECK(f->sent[next].op == fh.opcode &&
                           f->sent[next].fin == fh.fin);
            WSX_FUZZ_CHECK(deflated ||
                           (f->sent[next].len == len &&
                            f->sent[next].hash == fz_hash(pl, len, FZ_HASH0)));
            next++;
            break;
        case WSX_CLOSE:
            WSX_FUZZ_CHECK(fh.fin && len != 1 && len <= 125);
            if (len >= 2)
                WSX_FUZZ_CHECK(wsx_close_code_valid((uint16_t)(pl[0] << 8 | pl[1])) &&
                               fz_utf8_valid(pl + 2, len - 2));
            if (f->closing)
                WSX_FUZZ_CHECK(f->close_code
                                   ? len == 2 + f->close_reason_len &&
                                         (pl[0] << 8 | pl[1]) == f->close_code
                                   : len == 0);
            close_seen = true;
            break;
        case WSX_PING:
        case WSX_PONG:
            WSX_FUZZ_CHECK(fh.fin && len <= 125);
            break;
        default:
            abort();
        }
        free(pl);
        off += (size_t)r + len;
    }
    if (!f->cut)
        WSX_FUZZ_CHECK(next == f->nsent && (!f->closing || close_seen));
}

/* ---- the run ---------------------------------------------------------- */

static void fc_config(fz_conn *f, wsx_role role)
{
    wsx_config *cfg = &f->cfg;
    wsx_config_init(cfg, role);
    cfg->alloc = fz_allocator(&f->alloc, !(f->fb & FB_NOREALLOC));
    cfg->streaming = (f->fa & FA_STREAMING) != 0;
    if (f->fa & FA_LIMITS) {
        cfg->max_frame_size = 1 + fz_below(&f->rng, 300);
        cfg->max_message_size = fz_below(&f->rng, 1000);
        cfg->max_header_size = 64 + fz_below(&f->rng, 1024);
    }
    if (f->fa & FA_WATER) {
        cfg->high_water = fz_below(&f->rng, 400);
        cfg->low_water = fz_below(&f->rng, 100);
    }
    if (f->fa & FA_TIMERS) {
        cfg->handshake_timeout_ms = (uint32_t)fz_below(&f->rng, 5000);
        cfg->ping_interval_ms = (uint32_t)fz_below(&f->rng, 3000);
        cfg->idle_timeout_ms = (uint32_t)fz_below(&f->rng, 8000);
        cfg->close_timeout_ms = 1 + (uint32_t)fz_below(&f->rng, 3000);
    }
    if (role == WSX_CLIENT) {
        cfg->client.host = "server.example.com";
        cfg->client.path = "/chat";
        cfg->client.origin = "http://example.com";
        cfg->client.protocols = "chat, superchat";
    }
    if (f->fc & FC_DEFLATE) {
        wsx_deflate_config *d = &f->dcfg;
        wsx_deflate_config_init(d);
        /* Small and fast: a fuzzer wants executions, not ratios; most
         * whole messages go out plain (building Huffman tables for each
         * short message would halve the executions per second). */
        d->level = 1;
        d->mem_level = 1;
        d->threshold = 256;
        d->server_no_context_takeover = (f->fc & FC_NO_TAKEOVER) != 0;
        d->client_no_context_takeover = (f->fc & FC_NO_TAKEOVER) != 0;
        if (f->fc & FC_SMALL) {
            d->server_max_window_bits = 9;
            d->client_max_window_bits = 9;
            d->threshold = 0;
        }
        cfg->extension = wsx_permessage_deflate();
        cfg->extension_config = d;
    }
    if (f->fb & FB_NOMEM) {
        f->alloc.fail_at = 1 + fz_below(&f->rng, 24);
        f->alloc.fail_all = (f->fb & FB_NOMEM_ALL) != 0;
    }
    if (f->fb & FB_FREE_ANY)
        f->free_at = 1 + (int)fz_below(&f->rng, 40);
    if (f->fc & FC_CLOSE_ANY)
        f->close_at = 1 + (int)fz_below(&f->rng, 40);

    wsx_callbacks *cb = &f->cb;
    wsx_callbacks_init(cb);
    cb->send = (f->fa & FA_PULL) ? NULL : fc_send_cb;
    if (f->fc & FC_SENDV)
        cb->sendv = fc_sendv_cb;
    cb->random = fc_random_cb;
    cb->on_handshake = fc_handshake_cb;
    cb->on_http = fc_http_cb;
    cb->on_open = fc_open_cb;
    cb->on_message = fc_message_cb;
    cb->on_fragment = fc_fragment_cb;
    cb->on_ping = fc_ping_cb;
    cb->on_pong = fc_pong_cb;
    cb->on_close = fc_close_cb;
    cb->on_drain = fc_drain_cb;
}

/* One step of the peer, the transport, the clock or the application. */
static void fc_step(fz_conn *f, const uint8_t *wire, size_t n, size_t *off)
{
    size_t rem = n - *off, k;
    switch (fz_below(&f->rng, 14)) {
    case 0:
        k = 1;
        break;
    case 1:
    case 2:
        k = 1 + fz_below(&f->rng, rem < 16 ? rem : 16);
        break;
    case 3:
    case 4:
        k = 1 + fz_below(&f->rng, rem);
        break;
    case 5:
    case 6:
        k = rem;
        break;
    case 7:
    case 8:
        fc_flush(f);
        return;
    case 9:
        fc_tick(f);
        return;
    case 10:
        if ((f->fb & FB_EOF) && fz_one_in(&f->rng, 8))
            fc_eof(f);
        return;
    default:
        fc_act(f);
        return;
    }
    fc_feed(f, wire + *off, k);
    *off += k;
}

/* One run. trap_at > 0 (the replay sweep): wsx_conn_free (trap_close:
 * wsx_close) at exactly that callback, random included. Returns how many
 * callbacks the run raised. */
static int fz_conn_run1(wsx_role role, const uint8_t *data, size_t size,
                        int trap_at, bool trap_close)
{
    fz_conn *f;
    uint8_t *wire;
    size_t n, off = 0;
    int events;

    f = calloc(1, sizeof *f);
    WSX_FUZZ_CHECK(f);
    f->role = role;
    f->fa = data[0];
    f->fb = data[1];
    f->fc = data[2];
    f->rng.s = fz_load64(data + 3);
    data += FZ_HEAD;
    size -= FZ_HEAD;
    fc_config(f, role);
    if (trap_at) {
        f->fc |= FC_RANDOM_EV;
        f->free_at = trap_close ? 0 : trap_at;
        f->close_at = trap_close ? trap_at : 0;
    }
    /* FA_PREFIX: the handshake the peer would send, so the fuzzer spends
     * its time on frames. */
    char pmd[512];
    const char *pre = role == WSX_SERVER ? fz_request : fz_response;
    if (f->fc & FC_DEFLATE) {
        fz_response_pmd(pmd, f->fc);
        pre = role == WSX_SERVER ? fz_request_pmd : pmd;
    }
    size_t plen = (f->fa & FA_PREFIX) ? strlen(pre) : 0;
    n = plen + size;
    wire = malloc(n ? n : 1);
    WSX_FUZZ_CHECK(wire);
    memcpy(wire, pre, plen);
    if (size)
        memcpy(wire + plen, data, size);

    f->c = wsx_conn_new(&f->cfg, &f->cb, f);
    if (!f->c) {
        WSX_FUZZ_CHECK(f->fb & (FB_NOMEM | FB_RANDFAIL));
        goto out;
    }
    if (f->fc & FC_CLOCK) {
        static const uint64_t origins[] = {0, 1, 1ull << 63, UINT64_MAX - 70000,
                                           UINT64_MAX - 1, UINT64_MAX};
        f->now = fz_one_in(&f->rng, 2) ? origins[fz_below(&f->rng, 6)]
                                       : fz_next(&f->rng);
    } else {
        f->now = fz_one_in(&f->rng, 4) ? 0 : fz_next(&f->rng) >> 24;
    }
    f->next = wsx_conn_tick(f->c, f->now);
    f->quiet = true;
    fc_check(f);
    while (off < n && !f->freed) {
        fc_step(f, wire, n, &off);
        fc_check(f);
    }
    if (!f->freed) {
        /* The end: maybe let the timers run out, then flush everything
         * the connection still holds. */
        if (fz_one_in(&f->rng, 2))
            fc_tick(f);
        f->drain = true;
        for (int i = 0; i < 4 && !f->freed && wsx_conn_wants_write(f->c); i++)
            fc_flush(f);
        fc_check(f);
        if (!f->freed) {
            WSX_FUZZ_CHECK(!wsx_conn_wants_write(f->c));
            WSX_FUZZ_CHECK(wsx_conn_done(f->c) == (f->state == WSX_STATE_CLOSED));
        }
    }
    fc_check_output(f);
    if (!f->freed)
        wsx_conn_free(f->c);
out:
    /* Everything allocated through cfg.alloc is back (RFC-independent,
     * but what a server with 100k connections needs). */
    WSX_FUZZ_CHECK(f->alloc.live_blocks == 0 && f->alloc.live_bytes == 0);
    events = f->events;
    free(wire);
    free(f->out);
    free(f->sent);
    free(f);
    return events;
}

/* The replay build (fuzz/Makefile defines WSX_FUZZ_REPLAY) also sweeps
 * every input: again with wsx_conn_free at its 1st, 2nd, ... callback,
 * then with wsx_close there, up to 64, so that each corpus input frees
 * and closes from inside every callback it reaches. */
static int fz_conn_run(wsx_role role, const uint8_t *data, size_t size)
{
    if (size < FZ_HEAD)
        return 0;
    int events = fz_conn_run1(role, data, size, 0, false);
#ifdef WSX_FUZZ_REPLAY
    for (int close = 0; close < 2; close++)
        for (int at = 1; at <= events && at <= 64; at++)
            fz_conn_run1(role, data, size, at, close);
#else
    (void)events;
#endif
    return 0;
}

#endif
