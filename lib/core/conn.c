/* conn.c - the connection object: life cycle, the input dispatcher, timers
 * (RFC 6455 §5.5.2 keep-alive, §7.1.1 close timeout) and the single path
 * by which a connection fails (RFC 6455 §7.1.7). */
#include "conn.h"

#include <limits.h>
#include <string.h>

/* ---- allocation --------------------------------------------------- */

void wsx__copy_pieces(uint8_t *dst, const uint8_t *src, size_t n)
{
    for (; n > WSX_COPY_PIECE; n -= WSX_COPY_PIECE) {
        memcpy(dst, src, WSX_COPY_PIECE);
        dst += WSX_COPY_PIECE;
        src += WSX_COPY_PIECE;
    }
    memcpy(dst, src, n);
}

void *wsx__alloc(wsx_conn *c, size_t n)
{
    const wsx_allocator *a = &c->cfg->alloc;
    return a->malloc(n, a->user);
}

void wsx__free(wsx_conn *c, void *p, size_t n)
{
    const wsx_allocator *a = &c->cfg->alloc;
    if (p)
        a->free(p, n, a->user);
}

/* Make room for n more bytes after b->len, compacting consumed bytes
 * first so a long-lived queue does not creep forward. */
int wsx__buf_reserve(wsx_conn *c, wsx_buf *b, size_t n)
{
    if (b->off && (b->off == b->len || b->cap - b->len < n)) {
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    if (b->cap - b->len >= n)
        return 0;
    if (n > WSX_BUF_MAX - b->len)
        return WSX_ENOMEM;
    size_t cap = b->cap ? b->cap : 256; /* reaches WSX_BUF_MAX at most */
    while (cap < b->len + n)
        cap *= 2;
    const wsx_allocator *a = &c->cfg->alloc;
    uint8_t *p;
    if (a->realloc) {
        p = a->realloc(b->p, b->cap, cap, a->user);
    } else {
        p = a->malloc(cap, a->user);
        if (p && b->p) {
            memcpy(p, b->p, b->len);
            a->free(b->p, b->cap, a->user);
        }
    }
    if (!p)
        return WSX_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

void wsx__buf_release(wsx_conn *c, wsx_buf *b)
{
    wsx__free(c, b->p, b->cap);
    memset(b, 0, sizeof *b);
}

/* ---- life cycle ---------------------------------------------------- */

/* The bytes in front of the connection: the transport's area
 * (transport_size), or else the slot of the transport pointer, which is
 * kept out of wsx_conn so that a connection with an area does not pay
 * for it (8 bytes keep the connection's uint64_t fields aligned). */
static size_t transport_area(const wsx_config *cfg)
{
    return cfg->transport_size ? (cfg->transport_size + 7) & ~(size_t)7
                               : 8;
}

static void **transport_slot(const wsx_conn *c)
{
    return (void **)(uintptr_t)((const uint8_t *)c - 8);
}

static void conn_destroy(wsx_conn *c)
{
    /* Freed while open, without on_close: it is no longer open either. */
    if (c->state == WSX_STATE_OPEN || c->state == WSX_STATE_CLOSING)
        wsx__m_closed(c, 0, false);
    if (c->ext_state)
        c->cfg->extension->destroy(c->ext_state, &c->cfg->alloc);
    if (c->protocol)
        wsx__free(c, c->protocol, strlen(c->protocol) + 1);
    wsx__free(c, c->ctl, 125);
    if (c->guard)
        c->cfg->guards->detach(c);
    wsx__buf_release(c, &c->in);
    wsx__buf_release(c, &c->out);
    size_t pre = transport_area(c->cfg);
    wsx__free(c, (uint8_t *)c - pre, pre + sizeof *c);
}

wsx_conn *wsx_conn_new(const wsx_config *cfg, const wsx_callbacks *cb,
                       void *user)
{
    if (!cfg || !cb || cfg->size != sizeof *cfg || cb->size != sizeof *cb ||
        !cfg->alloc.malloc || !cfg->alloc.free ||
        (cfg->role != WSX_SERVER && cfg->role != WSX_CLIENT) ||
        cfg->max_header_size < 64)
        return NULL;
    if (cfg->role == WSX_CLIENT && !cb->random)
        return NULL;
    /* A guard asked for without the code that enforces it would leave the
     * server open while its author believes it guarded. */
    if (!cfg->guards && (cfg->message_rate.per_sec || cfg->byte_rate.per_sec ||
                         cfg->control_rate.per_sec || cfg->max_fragments ||
                         cfg->origins || cfg->origin_required))
        return NULL;
    size_t pre = transport_area(cfg);
    if (pre < cfg->transport_size || pre > SIZE_MAX - sizeof(wsx_conn))
        return NULL;
    uint8_t *block = cfg->alloc.malloc(pre + sizeof(wsx_conn), cfg->alloc.user);
    if (!block)
        return NULL;
    memset(block, 0, pre + sizeof(wsx_conn));
    wsx_conn *c = (wsx_conn *)(void *)(block + pre);
    c->cfg = cfg;
    c->cb = cb;
    c->user = user;
    c->state = WSX_STATE_HANDSHAKE;
    c->rstate = WSX_RD_HTTP;
    c->deadline = WSX_NO_DEADLINE;
    if (cfg->role == WSX_CLIENT) {
        /* The random callback runs here and may free the connection; the
         * request stays queued (no flush: the transport is not there). */
        c->busy = 1;
        int r = wsx__client_start(c);
        c->busy = 0;
        if (r < 0) {
            conn_destroy(c);
            return NULL;
        }
    }
    return c;
}

void wsx_conn_free(wsx_conn *c)
{
    if (!c)
        return;
    if (c->busy) {
        c->gone = true;
        return;
    }
    conn_destroy(c);
}

/* See conn.h: frames queued by callbacks also leave in one write, at the
 * outermost exit. */
void wsx__enter(wsx_conn *c)
{
    c->busy++;
}

int wsx__leave_last(wsx_conn *c, int ret)
{
    /* The flush runs while still counted as busy: a free from the send
     * callback or on_drain/on_close it triggers stays deferred. */
    if (c->busy == 1 && !c->gone)
        wsx__flush(c);
    if (c->gone) {
        /* The application let go of the connection: the call ends
         * without touching it, and says so only when it failed. */
        ret = ret < 0 && ret != WSX_EAGAIN ? WSX_ECLOSED : 0;
        if (--c->busy == 0)
            conn_destroy(c);
        return ret;
    }
    if (--c->busy)
        return ret; /* a call from a callback: the outermost one flushes */
    /* A transport failure during the flush fails this call too. */
    if (c->err && (ret == 0 || ret == WSX_EAGAIN))
        return c->err;
    return ret == WSX_EAGAIN && !wsx_conn_wants_write(c) ? 0 : ret;
}

int wsx__cb_random(wsx_conn *c, uint8_t *buf, size_t n)
{
    if (c->gone)
        return WSX__EGONE;
    uint8_t state = c->state;
    int r = c->cb->random(c, buf, n, c->user);
    if (c->gone)
        return WSX__EGONE;
    if (r < 0)
        return WSX_EIO;
    return c->state == state ? 0 : WSX_ECLOSED;
}

int wsx__cb_handshake(wsx_conn *c, const wsx_handshake *hs,
                      wsx_handshake_reply *reply)
{
    if (c->gone)
        return WSX__EGONE;
    if (!c->cb->on_handshake)
        return 0;
    int status = c->cb->on_handshake(c, hs, reply, c->user);
    if (c->gone)
        return WSX__EGONE;
    if (!status)
        return 0;
    if (status == WSX_HANDSHAKE_PENDING && c->cfg->role == WSX_SERVER)
        return status;
    return status >= 400 && status <= 599 ? status : 403;
}

/* ---- ending ------------------------------------------------------- */

/* The connection is over: report once, then drop all further input. */
int wsx__closed(wsx_conn *c, uint16_t code, const uint8_t *reason,
                size_t reason_len, bool clean, bool remote, int err)
{
    if (c->state == WSX_STATE_CLOSED)
        return 0;
    if (c->state == WSX_STATE_OPEN || c->state == WSX_STATE_CLOSING)
        wsx__m_closed(c, code, remote);
    c->state = WSX_STATE_CLOSED;
    c->rstate = WSX_RD_DISCARD;
    c->hstate = WSX_HTTP_NONE;
    c->sstate = WSX_SEND_IDLE;
    wsx_close_info ci;
    ci.code = code;
    ci.reason = (const char *)reason;
    ci.reason_len = reason_len;
    ci.clean = clean;
    ci.remote = remote;
    ci.error = err;
    ci.http_status = c->http_status;
    wsx__buf_release(c, &c->in);
    return wsx__cb_close(c, &ci);
}

static uint16_t close_code_for(int err)
{
    switch (err) {
    case WSX_EPROTO:
        return WSX_CLOSE_PROTOCOL_ERROR;
    case WSX_EUTF8:
    case WSX_EEXT:
        return WSX_CLOSE_INVALID_DATA;
    case WSX_ETOOBIG:
        return WSX_CLOSE_TOO_BIG;
    case WSX_EPOLICY:
    case WSX_EQUOTA:
        return WSX_CLOSE_POLICY;
    default:
        return WSX_CLOSE_INTERNAL;
    }
}

static int http_status_for(int err)
{
    switch (err) {
    case WSX_EVERSION:
    case WSX_EHANDSHAKE:
        return 426;
    case WSX_EHDRSIZE:
        return 431;
    case WSX_ETIMEOUT:
        return 408;
    case WSX_ENOMEM:
    case WSX_EEXT:
        return 500;
    default:
        return 400;
    }
}

/* _Fail the WebSocket Connection_ (RFC 6455 §7.1.7): say why when the
 * transport still works (a close frame, or an HTTP error during the
 * handshake), then report and discard everything after. Sticky. */
void wsx__fail(wsx_conn *c, int err)
{
    wsx__fail_why(c, err, NULL);
}

void wsx__fail_why(wsx_conn *c, int err, const char *why)
{
    size_t why_len = why ? strlen(why) : 0;
    if (c->err || c->state == WSX_STATE_CLOSED)
        return;
    bool transport_ok = err != WSX_EIO && err != WSX_EPEERCLOSED;
    /* A held request has sent nothing yet: it can still get a status. */
    if ((c->state == WSX_STATE_HANDSHAKE || c->hstate == WSX_HTTP_HELD) &&
        c->cfg->role == WSX_SERVER && transport_ok) {
        wsx__reject(c, http_status_for(err), NULL, err);
        return;
    }
    c->err = err;
    uint16_t code = WSX_CLOSE_ABNORMAL;
    if (transport_ok &&
        (c->state == WSX_STATE_OPEN || c->state == WSX_STATE_CLOSING)) {
        code = close_code_for(err);
        wsx__m_failed(c, code);
    }
    if (code != WSX_CLOSE_ABNORMAL && c->state == WSX_STATE_OPEN)
        wsx__queue_close(c, code, why, why_len);
    wsx__closed(c, code, (const uint8_t *)why, why_len, false, false, err);
}

/* ---- input -------------------------------------------------------- */

size_t wsx__consume(wsx_conn *c, uint8_t *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        long n;
        switch (c->rstate) {
        case WSX_RD_HTTP:
            n = wsx__read_http(c, buf + off, len - off);
            break;
        case WSX_RD_HEADER:
        case WSX_RD_PAYLOAD:
            n = wsx__read_frames(c, buf + off, len - off);
            break;
#ifndef WSX_NO_HTTP
        case WSX_RD_BODY:
            n = wsx__read_body(c, buf + off, len - off);
            break;
#endif
        case WSX_RD_PENDING:
            n = WSX_EPROTO; /* RFC 6455 §4.1: the client waits for 101 */
            break;
        case WSX_RD_PAUSED:
            return off;
        default: /* WSX_RD_DISCARD */
            n = (long)(len - off);
            break;
        }
        if (n < 0) {
            if (n != WSX__EGONE)
                wsx__fail(c, (int)n);
            return len;
        }
        off += (size_t)n;
    }
    return off;
}

int wsx_conn_feed(wsx_conn *c, uint8_t *buf, size_t len)
{
    if (c->err)
        return c->err;
    wsx__enter(c);
    wsx__m_feed(c);
    c->rx_seen = len > 0;
    size_t used = wsx__consume(c, buf, len);
    if (used < len && !c->gone) {
        int r = c->cfg->guards->hold(c, buf + used, len - used);
        if (r < 0)
            wsx__fail(c, r);
    }
    wsx__m_feed(c);
    return wsx__leave(c, c->err);
}

void wsx_conn_eof(wsx_conn *c)
{
    wsx_conn_lost(c, WSX_EPEERCLOSED);
}

void wsx_conn_lost(wsx_conn *c, int err)
{
    wsx__enter(c);
    if (c->state != WSX_STATE_CLOSED) {
        /* RFC 6455 §7.1.5: the close code is 1006 when no close frame was
         * received before the transport closed. */
        c->err = err < 0 ? err : WSX_EPEERCLOSED;
        wsx__closed(c, WSX_CLOSE_ABNORMAL, NULL, 0, false, true, c->err);
    }
    /* Nothing queued can reach a peer that is gone. */
    wsx__buf_release(c, &c->out);
    wsx__leave(c, 0);
}

/* ---- timers -------------------------------------------------------- */

static uint64_t earliest(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* now + ms on the caller's clock, which may start anywhere (0 included):
 * saturating, so that a clock near its end fires late timers at its last
 * value instead of wrapping into the past or onto WSX_NO_DEADLINE. */
static uint64_t after(uint64_t now, uint32_t ms)
{
    return now < WSX_NO_DEADLINE - 1 - ms ? now + ms : WSX_NO_DEADLINE - 1;
}

/* The open state's timers; returns the earliest one still ahead. */
static uint64_t tick_open(wsx_conn *c, uint64_t now, bool idle)
{
    const wsx_config *cfg = c->cfg;
    uint64_t next = WSX_NO_DEADLINE;
    /* Buffers (and the guard, see guard_idle) of a connection quiet for a
     * whole tick period go back to the allocator, so idle connections
     * cost only sizeof(wsx_conn); while they are held, ask for a tick to
     * check again. */
    if (c->in.p || c->out.p || c->guard) {
        if (idle && c->rstate == WSX_RD_HEADER && !c->msg_op) {
            wsx__buf_release(c, &c->in);
            wsx__buf_release(c, &c->out);
            if (c->guard && cfg->guards->idle(c, now))
                next = after(now, WSX_IDLE_RELEASE_MS);
        } else {
            next = after(now, WSX_IDLE_RELEASE_MS);
        }
    }
    if (cfg->idle_timeout_ms) {
        uint64_t t = after(c->rx_at, cfg->idle_timeout_ms);
        if (now >= t) {
            wsx_close(c, WSX_CLOSE_GOING_AWAY, "idle timeout");
            return next;
        }
        next = earliest(next, t);
    }
    if (cfg->ping_interval_ms && !c->ping_out) {
        uint64_t t = after(c->rx_at, cfg->ping_interval_ms);
        if (now >= t) {
            if (wsx__queue_frame(c, WSX_PING, 0, true, NULL, 0) == 0) {
                c->ping_out = true;
                wsx__m_control(c, WSX__M_PING_OUT);
            }
        } else {
            next = earliest(next, t);
        }
    }
    return next;
}

#ifndef WSX_NO_HTTP
/* A held or streaming HTTP exchange (wsx_http.h): the peer is silent by
 * design, so the heartbeat and the idle timeout count our own silence. */
static uint64_t tick_http(wsx_conn *c, uint64_t now)
{
    uint64_t next = WSX_NO_DEADLINE;
    if (c->tx_seen)
        c->http.tx_at = now;
    c->tx_seen = false;
    if (c->hstate == WSX_HTTP_STREAM && c->http.beat_ms) {
        uint64_t t = after(c->http.tx_at, c->http.beat_ms);
        if (now >= t && wsx__room(c) == 0 &&
            wsx__queue(c, c->http.beat, c->http.beat_len) == 0) {
            c->http.tx_at = now;
            t = after(now, c->http.beat_ms);
        }
        next = t > now ? t : after(now, c->http.beat_ms);
    }
    if (c->cfg->idle_timeout_ms) {
        uint64_t t = after(c->http.tx_at, c->cfg->idle_timeout_ms);
        if (now >= t) {
            wsx__fail(c, WSX_ETIMEOUT);
            return WSX_NO_DEADLINE;
        }
        next = earliest(next, t);
    }
    return next;
}
#endif

uint64_t wsx_conn_tick(wsx_conn *c, uint64_t now)
{
    const wsx_config *cfg = c->cfg;
    uint64_t next = WSX_NO_DEADLINE;
    wsx__enter(c);
    /* The first tick starts the silence clocks (idle, keep-alive). */
    if (c->rx_seen || !c->ticked)
        c->rx_at = now;
    bool idle = !c->rx_seen && c->out.off == c->out.len;
    c->rx_seen = false;
    c->ticked = true;
    if (c->state == WSX_STATE_HANDSHAKE && cfg->handshake_timeout_ms) {
        if (c->deadline == WSX_NO_DEADLINE)
            c->deadline = after(now, cfg->handshake_timeout_ms);
        if (now >= c->deadline)
            wsx__fail(c, WSX_ETIMEOUT);
        else
            next = c->deadline;
    }
    if (c->state == WSX_STATE_OPEN)
        next = tick_open(c, now, idle);
#ifndef WSX_NO_HTTP
    else if (c->state == WSX_STATE_HTTP)
        next = tick_http(c, now);
#endif
    if (c->guard)
        next = earliest(next, cfg->guards->tick(c, now));
    /* Also when the idle timeout closed just now. */
    if (c->state == WSX_STATE_CLOSING) {
        if (c->deadline == WSX_NO_DEADLINE)
            c->deadline = after(now, cfg->close_timeout_ms);
        if (now >= c->deadline) {
            c->err = WSX_ETIMEOUT;
            wsx__closed(c, WSX_CLOSE_ABNORMAL, NULL, 0, false, false,
                        WSX_ETIMEOUT);
        } else {
            next = earliest(next, c->deadline);
        }
    }
    wsx__leave(c, 0);
    /* Only the buffer release can land on now, on a clock at its last
     * value: it waits for the next call. */
    return next > now ? next : WSX_NO_DEADLINE;
}

/* ---- accessors ------------------------------------------------------ */

wsx_state wsx_conn_state(const wsx_conn *c)
{
    return (wsx_state)c->state;
}

bool wsx_conn_wants_write(const wsx_conn *c)
{
    return c->out.len > c->out.off;
}

bool wsx_conn_done(const wsx_conn *c)
{
    return c->state == WSX_STATE_CLOSED && c->out.len == c->out.off;
}

void *wsx_conn_user(const wsx_conn *c)
{
    return c->user;
}

void wsx_conn_set_user(wsx_conn *c, void *user)
{
    c->user = user;
}

void *wsx_conn_transport(const wsx_conn *c)
{
    size_t pre = c->cfg->transport_size;
    return pre ? (uint8_t *)(uintptr_t)c - transport_area(c->cfg)
               : *transport_slot(c);
}

void wsx_conn_set_transport(wsx_conn *c, void *transport)
{
    if (!c->cfg->transport_size)
        *transport_slot(c) = transport;
}

const char *wsx_conn_protocol(const wsx_conn *c)
{
    return c->protocol;
}

int wsx_conn_error(const wsx_conn *c)
{
    return c->err;
}

int wsx_conn_http_status(const wsx_conn *c)
{
    return c->http_status;
}

size_t wsx_buffered_amount(const wsx_conn *c)
{
    size_t held = c->cb->queued ? c->cb->queued(c, c->user) : 0;
    return c->out.len - c->out.off + held;
}

bool wsx_close_code_valid(uint16_t code)
{
    /* RFC 6455 §7.4.1-7.4.2 and the IANA registry: 1004-1006 and 1015
     * are reserved and never sent; 1016-2999 are unassigned. */
    if (code >= 3000 && code <= 4999)
        return true;
    if (code < 1000 || code > 1014)
        return false;
    return code != 1004 && code != 1005 && code != 1006;
}
