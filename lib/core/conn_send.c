/* conn_send.c - the output side: one queue of framed bytes per connection
 * (RFC 6455 §5.2 framing, §5.3 client masking), flushed through the send
 * callback or pulled by the caller, with exact backpressure accounting. */
#include "conn.h"

#include <string.h>

/* ---- the queue ------------------------------------------------------ */

int wsx__queue(wsx_conn *c, const void *p, size_t n)
{
    int r = wsx__buf_reserve(c, &c->out, n);
    if (r < 0)
        return r;
    if (n) /* out.p may still be NULL for nothing */
        wsx__copy(c->out.p + c->out.len, p, n);
    c->out.len += n;
    return 0;
}

/* The transport failed, or the byte stream cannot go on. */
static int broken(wsx_conn *c)
{
    wsx__buf_release(c, &c->out);
    wsx__fail(c, WSX_EIO);
    return wsx__gone(c) ? WSX__EGONE : WSX_EIO;
}

/* Bytes a[0..an) then b[0..bn) (a frame header and its payload, or a
 * framed shared message) handed to the transport in one gather write
 * behind what is queued, so that the payload is never copied into the
 * queue unless the transport leaves some of it. Returns 0, WSX_EIO (the
 * connection failed), WSX_ENOMEM when none of it left and it could not
 * be queued, or WSX__EGONE. */
static int send_gather(wsx_conn *c, const uint8_t *a, size_t an,
                       const uint8_t *b, size_t bn)
{
    size_t q = c->out.len - c->out.off;
    wsx_iovec v[3] = {{c->out.p, q}, {a, an}, {b, bn}};
    int skip = q ? 0 : 1;
    if (q) /* out.p is NULL while nothing was ever queued */
        v[0].base = c->out.p + c->out.off;
    long k = wsx__cb_sendv(c, v + skip, 3 - skip);
    if (k == WSX__EGONE)
        return WSX__EGONE;
    if (k == WSX_EAGAIN)
        k = 0;
    if (k < 0 || (size_t)k > q + an + bn)
        return broken(c);
    size_t t = (size_t)k;
    if (t <= q) {
        c->out.off += t;
        t = 0;
    } else {
        c->out.off = c->out.len;
        t -= q;
    }
    bool started = t > 0;
    size_t ta = t < an ? t : an;
    size_t tb = t - ta;
    if (ta == an && tb == bn)
        return 0; /* all of it left: the common case */
    int r = wsx__buf_reserve(c, &c->out, (an - ta) + (bn - tb));
    /* Part of the frame is on the wire and the rest cannot be kept: no
     * later frame may follow it. */
    if (r < 0)
        return started ? broken(c) : r;
    wsx__copy(c->out.p + c->out.len, a + ta, an - ta);
    c->out.len += an - ta;
    wsx__copy(c->out.p + c->out.len, b + tb, bn - tb);
    c->out.len += bn - tb;
    return 0;
}

/* Whether n bytes of payload go out through the gather write. */
static bool gather(const wsx_conn *c, size_t n)
{
#ifdef WSX_NO_SENDV /* firmware: no gather write (see wsx.h) */
    (void)c;
    (void)n;
    return false;
#else
    return n >= WSX_SENDV_MIN && c->cb->sendv && c->cb->send;
#endif
}

/* Bytes that may go to the transport at once because nothing is queued
 * ahead of them (a handshake answer): the queue, and its allocation, is
 * used only for what the transport does not take. */
int wsx__send_direct(wsx_conn *c, const void *p, size_t n)
{
    bool started = false;
    if (c->cb->send && c->out.len == c->out.off) {
        long k = wsx__cb_send(c, p, n);
        if (k == WSX__EGONE)
            return WSX__EGONE;
        if (k > 0 && (size_t)k <= n) {
            p = (const uint8_t *)p + k;
            n -= (size_t)k;
            started = true;
        } else if (k != WSX_EAGAIN && k != 0) {
            return WSX_EIO;
        }
    }
    int r = n ? wsx__queue(c, p, n) : 0;
    /* Half an answer is on the wire and the rest cannot be kept: the
     * stream is beyond repair, so no other answer may follow. */
    return r < 0 && started ? WSX_EIO : r;
}

static int frame_header(wsx_conn *c, wsx_frame_header *h, uint8_t op,
                        uint8_t rsv, bool fin, uint64_t len)
{
    h->fin = fin;
    h->rsv = rsv;
    h->opcode = op;
    h->length = len;
    /* RFC 6455 §5.3: a client masks every frame with a fresh key drawn
     * from a strong source of entropy; a server never masks. */
    h->masked = c->cfg->role == WSX_CLIENT;
    return h->masked ? wsx__cb_random(c, h->mask, 4) : 0;
}

/* A server's frame below the gather write's size (an echo, a chat line,
 * a pong): header and payload straight into the queue, with a header of
 * 2 or 4 bytes (RFC 6455 §5.2) written in place. b0: FIN, RSV, opcode. */
_Static_assert(WSX_SENDV_MIN <= 65536, "a 16-bit length at most");
static inline int queue_small(wsx_conn *c, uint8_t b0, const void *p,
                              size_t n)
{
    wsx_buf *b = &c->out;
    if (b->cap - b->len < n + 4) {
        int r = wsx__buf_reserve(c, b, n + 4);
        if (r < 0)
            return r;
    }
    uint8_t *dst = b->p + b->len;
    dst[0] = b0;
    size_t hl = 2;
    if (n < 126) {
        dst[1] = (uint8_t)n;
    } else {
        dst[1] = 126;
        dst[2] = (uint8_t)(n >> 8);
        dst[3] = (uint8_t)n;
        hl = 4;
    }
    wsx__copy(dst + hl, p, n);
    b->len += hl + n;
    return 0;
}

int wsx__queue_frame(wsx_conn *c, uint8_t op, uint8_t rsv, bool fin,
                     const void *p, size_t n)
{
    if (c->cfg->role == WSX_SERVER && n < WSX_SENDV_MIN)
        return queue_small(c, (uint8_t)((fin ? 0x80 : 0) | rsv | op), p, n);
    wsx_frame_header h;
    int r = frame_header(c, &h, op, rsv, fin, n);
    if (r < 0)
        return r;
    if (n > SIZE_MAX - WSX_FRAME_HEADER_MAX)
        return WSX_ENOMEM;
    /* A client's payload is masked into the queue: that copy stays. */
    if (!h.masked && gather(c, n)) {
        uint8_t hb[WSX_FRAME_HEADER_MAX];
        return send_gather(c, hb, wsx_frame_build(hb, &h), p, n);
    }
    r = wsx__buf_reserve(c, &c->out, WSX_FRAME_HEADER_MAX + n);
    if (r < 0)
        return r;
    uint8_t *dst = c->out.p + c->out.len;
    size_t hl = wsx_frame_build(dst, &h);
    wsx__copy(dst + hl, p, n);
    if (h.masked)
        wsx_mask(dst + hl, n, h.mask, 0);
    c->out.len += hl + n;
    return 0;
}

int wsx__queue_close(wsx_conn *c, uint16_t code, const void *reason,
                     size_t len)
{
    uint8_t pl[125];
    if (!code)
        return wsx__queue_frame(c, WSX_CLOSE, 0, true, NULL, 0);
    pl[0] = (uint8_t)(code >> 8);
    pl[1] = (uint8_t)code;
    if (len)
        memcpy(pl + 2, reason, len);
    return wsx__queue_frame(c, WSX_CLOSE, 0, true, pl, len + 2);
}

/* Extension output lands straight in the queue, after room left for the
 * largest header; the header is written once the payload size is known. */
static int emit_out(void *ctx, const uint8_t *p, size_t n)
{
    return wsx__queue((wsx_conn *)ctx, p, n);
}

/* Returns 1 when the extension encoded the piece, 0 when it declined
 * (send it as is), or a negative error (nothing queued). */
static int queue_encoded(wsx_conn *c, uint8_t op, bool first, bool fin,
                         const void *data, size_t len)
{
    wsx_frame_header h;
    int r = frame_header(c, &h, first ? op : WSX_CONTINUATION,
                         first ? WSX_RSV1 : 0, fin, 0);
    if (r < 0)
        return r;
    r = wsx__buf_reserve(c, &c->out, WSX_FRAME_HEADER_MAX);
    if (r < 0)
        return r;
    /* Positions are kept relative to out.off: a reserve may compact. */
    size_t rel = c->out.len - c->out.off;
    c->out.len += WSX_FRAME_HEADER_MAX;
    r = c->cfg->extension->encode(c->ext_state, data, len, first, fin,
                                  emit_out, c);
    if (r <= 0) {
        c->out.len = c->out.off + rel;
        return r;
    }
    uint8_t *start = c->out.p + c->out.off + rel;
    h.length = c->out.len - (c->out.off + rel) - WSX_FRAME_HEADER_MAX;
    uint8_t hb[WSX_FRAME_HEADER_MAX];
    size_t hl = wsx_frame_build(hb, &h);
    memmove(start + hl, start + WSX_FRAME_HEADER_MAX, (size_t)h.length);
    memcpy(start, hb, hl);
    c->out.len -= WSX_FRAME_HEADER_MAX - hl;
    if (h.masked)
        wsx_mask(start + hl, (size_t)h.length, h.mask, 0);
    return 1;
}

/* ---- draining -------------------------------------------------------- */

static void arm_drain(wsx_conn *c);

static void after_output(wsx_conn *c)
{
    if (c->out.off == c->out.len) {
        if (c->q_msgs && wsx__metrics(c))
            wsx__m_drained(c);
        c->out.off = c->out.len = 0;
        if (c->out.cap > WSX_BUF_KEEP)
            wsx__buf_release(c, &c->out);
    }
    if (c->drain_armed && wsx_buffered_amount(c) <= c->cfg->low_water) {
        c->drain_armed = false;
        if (c->state != WSX_STATE_CLOSED)
            wsx__cb_drain(c);
    }
}

void wsx__flush(wsx_conn *c)
{
    if (!c->cb->send)
        return;
    while (c->out.len > c->out.off) {
        size_t want = c->out.len - c->out.off;
        long n = wsx__cb_send(c, c->out.p + c->out.off, want);
        if (n == WSX__EGONE)
            return;
        if (n == WSX_EAGAIN || n == 0)
            break;
        if (n < 0 || (size_t)n > want) {
            broken(c);
            return;
        }
        c->out.off += (size_t)n;
    }
    arm_drain(c);
    after_output(c);
}

/* The transport pushed back: on_drain is due once the queue falls to
 * low_water (and only if it is above it now). */
static void arm_drain(wsx_conn *c)
{
    if (!c->drain_armed && wsx_buffered_amount(c) > c->cfg->low_water)
        c->drain_armed = true;
}

int wsx_conn_flush(wsx_conn *c)
{
    /* wsx__leave flushes; output queued by on_drain/on_close during that
     * flush stays queued and is reported as EAGAIN: the caller keeps
     * write interest. */
    wsx__enter(c);
    return wsx__leave(c, WSX_EAGAIN);
}

size_t wsx_conn_pending(wsx_conn *c, const uint8_t **p)
{
    *p = c->out.p ? c->out.p + c->out.off : NULL;
    return c->out.len - c->out.off;
}

void wsx_conn_advance(wsx_conn *c, size_t n)
{
    size_t have = c->out.len - c->out.off;
    wsx__enter(c);
    c->out.off += n < have ? n : have;
    arm_drain(c);
    after_output(c);
    wsx__leave(c, 0);
}

/* ---- sending API ---------------------------------------------------- */

static int send_check(wsx_conn *c)
{
    if (c->err)
        return c->err;
    if (c->state == WSX_STATE_HANDSHAKE)
        return WSX_ESTATE;
    /* RFC 6455 §5.5.1: after sending a Close frame, the endpoint MUST
     * NOT send any more data frames. */
    if (c->state != WSX_STATE_OPEN)
        return WSX_ECLOSED;
    return wsx__room(c);
}

int wsx__room(wsx_conn *c)
{
    if (c->cfg->high_water && wsx_buffered_amount(c) > c->cfg->high_water) {
        arm_drain(c);
        return WSX_EFULL;
    }
    return 0;
}

int wsx_send_fragment(wsx_conn *c, wsx_opcode op, const void *data,
                      size_t len, bool fin)
{
    int r = send_check(c);
    if (r < 0)
        return r;
    if (len && !data)
        return WSX_EINVAL;
    bool first = c->sstate == WSX_SEND_IDLE;
    if (first && op != WSX_TEXT && op != WSX_BINARY)
        return WSX_EINVAL;
    wsx__enter(c);
    int enc = 0;
    if (c->ext_state && c->sstate != WSX_SEND_PLAIN)
        enc = queue_encoded(c, (uint8_t)op, first, fin, data, len);
    r = enc;
    if (enc == 0)
        r = wsx__queue_frame(c, first ? (uint8_t)op : WSX_CONTINUATION, 0,
                             fin, data, len);
    if (r >= 0) {
        wsx__m_sent(c, (uint8_t)op, first, len);
        if (fin)
            c->sstate = WSX_SEND_IDLE;
        else if (first)
            c->sstate = enc == 1 ? WSX_SEND_ENCODED : WSX_SEND_PLAIN;
    }
    return wsx__leave(c, r < 0 ? r : 0);
}

int wsx_send(wsx_conn *c, wsx_opcode op, const void *data, size_t len)
{
#if !defined(__OPTIMIZE_SIZE__) /* the firmware takes the general path */
    /* The echo's case, from a callback: an open server connection with
     * no extension, no fragmented message going out and room below
     * high_water, a small message. What wsx_send_fragment would do then
     * is to queue the frame and count it; the outermost call flushes. */
    if (c->busy && !c->gone && c->state == WSX_STATE_OPEN && !c->err &&
        c->sstate == WSX_SEND_IDLE && !c->ext_state &&
        c->cfg->role == WSX_SERVER && len < WSX_SENDV_MIN &&
        (op == WSX_TEXT || op == WSX_BINARY) && (data || !len) &&
        wsx__room(c) == 0) {
        int r = queue_small(c, (uint8_t)(0x80 | op), data, len);
        if (r == 0)
            wsx__m_sent(c, (uint8_t)op, true, len);
        return r;
    }
#endif
    if (c->sstate != WSX_SEND_IDLE && !c->err && c->state == WSX_STATE_OPEN)
        return WSX_ESTATE;
    return wsx_send_fragment(c, op, data, len, true);
}

int wsx_ping(wsx_conn *c, const void *data, size_t len)
{
    int r;
    if (len > 125 || (len && !data))
        return WSX_EINVAL;
    if (c->err)
        return c->err;
    if (c->state != WSX_STATE_OPEN)
        return c->state == WSX_STATE_HANDSHAKE ? WSX_ESTATE : WSX_ECLOSED;
    wsx__enter(c);
    r = wsx__queue_frame(c, WSX_PING, 0, true, data, len);
    if (r == 0)
        wsx__m_control(c, WSX__M_PING_OUT);
    return wsx__leave(c, r);
}

int wsx_close(wsx_conn *c, uint16_t code, const char *reason)
{
    size_t rlen = reason ? strlen(reason) : 0;
    uint32_t st = WSX_UTF8_OK;
    if (c->err)
        return c->err;
    if (c->state == WSX_STATE_HANDSHAKE)
        return WSX_ESTATE;
    if (c->state != WSX_STATE_OPEN)
        return WSX_ECLOSED;
    /* RFC 6455 §5.5.1: a reason needs a code, and the body of a control
     * frame is at most 125 bytes; §5.5.1 also requires UTF-8. */
    if ((code && !wsx_close_code_valid(code)) || (!code && rlen) ||
        rlen > 123 || wsx_utf8_validate(&st, (const uint8_t *)reason, rlen) ||
        st != WSX_UTF8_OK)
        return WSX_EINVAL;
    wsx__enter(c);
    int r = wsx__queue_close(c, code, reason, rlen);
    if (r == 0) {
        c->state = WSX_STATE_CLOSING;
        c->sstate = WSX_SEND_IDLE;
        c->deadline = WSX_NO_DEADLINE;
    }
    return wsx__leave(c, r);
}

/* ---- encode once, send many ------------------------------------------ */

struct wsx_shared {
    wsx_allocator alloc;
    size_t len;  /* framed bytes */
    size_t hlen; /* header bytes */
    uint8_t op;
    uint8_t bytes[];
};

wsx_shared *wsx_shared_new(const wsx_allocator *a, wsx_opcode op,
                           const void *data, size_t len)
{
    wsx_config d;
    if (!a) {
        wsx_config_init(&d, WSX_SERVER);
        a = &d.alloc;
    }
    if ((op != WSX_TEXT && op != WSX_BINARY) || (len && !data) ||
        len > SIZE_MAX - sizeof(wsx_shared) - WSX_FRAME_HEADER_MAX || !a->malloc)
        return NULL;
    wsx_shared *s = a->malloc(sizeof *s + WSX_FRAME_HEADER_MAX + len, a->user);
    if (!s)
        return NULL;
    wsx_frame_header h;
    memset(&h, 0, sizeof h);
    h.fin = true;
    h.opcode = (uint8_t)op;
    h.length = len;
    s->alloc = *a;
    s->op = (uint8_t)op;
    s->hlen = wsx_frame_build(s->bytes, &h);
    if (len)
        memcpy(s->bytes + s->hlen, data, len);
    s->len = s->hlen + len;
    return s;
}

void wsx_shared_free(wsx_shared *s)
{
    if (s)
        s->alloc.free(s, sizeof *s + WSX_FRAME_HEADER_MAX + s->len - s->hlen,
                      s->alloc.user);
}

int wsx_send_shared(wsx_conn *c, const wsx_shared *s)
{
    if (c->cfg->role == WSX_CLIENT || c->ext_state)
        return wsx_send(c, (wsx_opcode)s->op, s->bytes + s->hlen,
                        s->len - s->hlen);
    int r = send_check(c);
    if (r < 0)
        return r;
    if (c->sstate != WSX_SEND_IDLE)
        return WSX_ESTATE;
    wsx__enter(c);
    r = gather(c, s->len - s->hlen) ? send_gather(c, s->bytes, s->hlen,
                                                  s->bytes + s->hlen,
                                                  s->len - s->hlen)
                                    : wsx__queue(c, s->bytes, s->len);
    if (r == 0)
        wsx__m_sent(c, s->op, true, s->len - s->hlen);
    return wsx__leave(c, r);
}

/* ---- plain HTTP answers ---------------------------------------------- */

int wsx_http_respond(wsx_conn *c, int status, const char *content_type,
                     const char *extra_headers, const void *body, size_t len)
{
    /* Only from on_http, or later for a request it held (wsx_http.h). */
    if ((c->hstate != WSX_HTTP_REQUEST && c->hstate != WSX_HTTP_HELD) ||
        (len && !body))
        return WSX_ESTATE;
    size_t cap = 192 + (content_type ? strlen(content_type) : 0) +
                 (extra_headers ? strlen(extra_headers) : 0);
    int r = wsx__buf_reserve(c, &c->out, cap + len);
    if (r < 0)
        return r;
    r = wsx_http_build_response((char *)c->out.p + c->out.len, cap, status,
                                content_type, extra_headers, len);
    if (r < 0)
        return r;
    c->out.len += (size_t)r;
    if (len)
        memcpy(c->out.p + c->out.len, body, len);
    c->out.len += len;
    /* A held request is answered from outside its callbacks: the
     * outermost leave flushes. The answer is queued: a free from
     * on_close does not make this call fail. */
    wsx__enter(c);
    wsx__closed(c, WSX_CLOSE_NORMAL, NULL, 0, true, false, 0);
    return wsx__leave(c, 0);
}
