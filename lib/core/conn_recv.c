/* conn_recv.c - the input side after the handshake: frame headers (split
 * or whole), validation per RFC 6455 §5.2-§5.5, payload delivery (zero
 * copy when a frame is whole in the caller's buffer), fragmentation
 * (§5.4), control frames (§5.5) and the closing handshake (§7). */
#include "conn.h"
#include "mask.h"

#include <string.h>

/* ---- validation ------------------------------------------------------ */

static bool is_control(uint8_t op)
{
    return op & 0x8;
}

/* RFC 6455 §5.2, §5.4, §5.5: which frames may arrive now. */
static int check_frame(wsx_conn *c, const wsx_frame_header *h)
{
    const wsx_config *cfg = c->cfg;
    /* RSV1 belongs to a negotiated extension, and only on the first
     * frame of a data message (RFC 7692 §6); other RSV bits are never
     * negotiated by wsx. */
    if (h->rsv & ~WSX_RSV1)
        return WSX_EPROTO;
    if ((h->rsv & WSX_RSV1) &&
        (!c->ext_state || h->opcode == WSX_CONTINUATION || is_control(h->opcode)))
        return WSX_EPROTO;
    /* §5.1: a server MUST close on an unmasked frame; a client MUST
     * close on a masked one. */
    if (h->masked != (cfg->role == WSX_SERVER))
        return WSX_EPROTO;
    switch (h->opcode) {
    case WSX_CLOSE:
    case WSX_PING:
    case WSX_PONG:
        /* §5.5: control frames are never fragmented and carry at most
         * 125 bytes. */
        if (!h->fin || h->length > 125)
            return WSX_EPROTO;
        return 0;
    case WSX_CONTINUATION:
        if (!c->msg_op)
            return WSX_EPROTO;
        break;
    case WSX_TEXT:
    case WSX_BINARY:
        /* §5.4: fragments of one message are not interleaved with
         * another message. */
        if (c->msg_op)
            return WSX_EPROTO;
        break;
    default:
        return WSX_EPROTO; /* §5.2: reserved opcodes */
    }
    if (h->length > cfg->max_frame_size)
        return WSX_ETOOBIG;
    if (!cfg->streaming && !c->msg_encoded && h->opcode == WSX_CONTINUATION &&
        h->length > cfg->max_message_size - c->msg_len)
        return WSX_ETOOBIG;
    if (!cfg->streaming && h->opcode != WSX_CONTINUATION &&
        !(h->rsv & WSX_RSV1) && h->length > cfg->max_message_size)
        return WSX_ETOOBIG;
    return 0;
}

/* ---- data ------------------------------------------------------------ */

/* Plain (decoded) message bytes: validate text as it arrives, so that an
 * invalid sequence fails at once (RFC 6455 §8.1), then deliver. */
static int data_plain(wsx_conn *c, const uint8_t *p, size_t n, bool last)
{
    const wsx_config *cfg = c->cfg;
    if (c->msg_op == WSX_TEXT) {
        uint32_t st = c->utf8;
        if (wsx_utf8_validate(&st, p, n) < 0)
            return WSX_EUTF8;
        c->utf8 = (uint8_t)st;
        if (last && st != WSX_UTF8_OK)
            return WSX_EUTF8;
    }
    wsx_message m;
    m.opcode = (wsx_opcode)c->msg_op;
    m.first = c->msg_len == 0;
    m.fin = last;
    if (cfg->streaming) {
        /* Empty pieces say nothing, except the end of the message. */
        if (!n && !last)
            return 0;
        c->msg_len += n;
        if (last)
            wsx__m_received(c, c->msg_op, c->msg_len);
        m.data = p ? p : (const uint8_t *)"";
        m.len = n;
        return wsx__cb_data(c, &m, c->cb->on_fragment);
    }
    if (n > cfg->max_message_size - c->msg_len)
        return WSX_ETOOBIG;
    c->msg_len += n;
    if (last)
        wsx__m_received(c, c->msg_op, c->msg_len);
    if (last && c->in.len == 0) {
        /* Zero copy: the whole message is in the caller's buffer. An
         * empty one still gets a valid pointer. */
        m.data = p ? p : (const uint8_t *)"";
        m.len = n;
    } else {
        /* Room for the rest of this frame at once, not by doubling. */
        int r = wsx__buf_reserve(c, &c->in,
                                 n + (c->msg_encoded ? 0 : (size_t)c->remaining));
        if (r < 0)
            return r;
        /* in.p may still be NULL for an empty piece; bytes read straight
         * into place (wsx_conn_feed_done) stay where they are. */
        if (n && p != c->in.p + c->in.len)
            wsx__copy(c->in.p + c->in.len, p, n);
        c->in.len += n;
        if (!last)
            return 0;
        m.data = c->in.p;
        m.len = c->in.len;
    }
    m.first = true;
    return wsx__cb_data(c, &m, c->cb->on_message);
}

/* A WSX__EGONE from on_fragment stops the inflater (wsx_emit_fn). */
static int emit_decoded(void *ctx, const uint8_t *p, size_t n)
{
    return data_plain((wsx_conn *)ctx, p, n, false);
}

static void message_done(wsx_conn *c)
{
    c->msg_op = 0;
    c->msg_encoded = false;
    c->msg_len = 0;
    c->in.off = c->in.len = 0;
    if (c->in.cap > WSX_BUF_KEEP)
        wsx__buf_release(c, &c->in);
}

static int data_piece(wsx_conn *c, const uint8_t *p, size_t n, bool last)
{
    int r;
    if (c->msg_encoded) {
        r = c->cfg->extension->decode(c->ext_state, p, n, last, emit_decoded, c);
        if (r == 0 && last)
            r = data_plain(c, NULL, 0, true);
        /* Anything else the extension reports means the stream does not
         * decode: RFC 7692 §8 says to fail the connection. */
        if (r < 0 && r != WSX_EUTF8 && r != WSX_ETOOBIG && r != WSX_ENOMEM &&
            r != WSX__EGONE)
            r = WSX_EEXT;
    } else {
        r = data_plain(c, p, n, last);
    }
    if (r == 0 && last)
        message_done(c);
    return r;
}

/* ---- control --------------------------------------------------------- */

static int on_close_frame(wsx_conn *c, const uint8_t *p, size_t n)
{
    uint16_t code = WSX_CLOSE_NO_STATUS;
    uint32_t st = WSX_UTF8_OK;
    /* RFC 6455 §5.5.1: a body, if any, starts with a 2-byte code,
     * followed by UTF-8 text (§7.4 lists the valid codes). */
    if (n == 1)
        return WSX_EPROTO;
    if (n >= 2) {
        code = (uint16_t)(p[0] << 8 | p[1]);
        if (!wsx_close_code_valid(code))
            return WSX_EPROTO;
        if (wsx_utf8_validate(&st, p + 2, n - 2) < 0 || st != WSX_UTF8_OK)
            return WSX_EUTF8;
    }
    bool remote = c->state == WSX_STATE_OPEN;
    if (remote) {
        /* §5.5.1: "the endpoint MUST send a Close frame in response,
         * typically echoing the status code it received." */
        int r = wsx__queue_close(c, code == WSX_CLOSE_NO_STATUS ? 0 : code,
                                 NULL, 0);
        /* WSX_ECLOSED: the application closed from the random callback,
         * and its close frame is the answer. */
        if (r < 0 && r != WSX_ECLOSED)
            return r;
    }
    return wsx__closed(c, code, n > 2 ? p + 2 : NULL, n > 2 ? n - 2 : 0,
                       true, remote, 0);
}

static int control(wsx_conn *c, const uint8_t *p, size_t n)
{
    switch (c->fh.opcode) {
    case WSX_PING:
        wsx__m_control(c, WSX__M_PING_IN);
        /* §5.5.2: answer with a Pong carrying the same data, unless we
         * already sent our Close. */
        if (c->state == WSX_STATE_OPEN) {
            int r = wsx__queue_frame(c, WSX_PONG, 0, true, p, n);
            /* Closed from the random callback: no pong after the close. */
            if (r < 0 && r != WSX_ECLOSED)
                return r;
            if (r == 0)
                wsx__m_control(c, WSX__M_PONG_OUT);
        }
        return wsx__cb_control(c, WSX_PING, p, n);
    case WSX_PONG:
        wsx__m_control(c, WSX__M_PONG_IN);
        c->ping_out = false;
        return wsx__cb_control(c, WSX_PONG, p, n);
    default:
        return on_close_frame(c, p, n);
    }
}

/* ---- the reader ------------------------------------------------------ */

static int payload(wsx_conn *c, uint8_t *p, size_t n);

/* A complete header: checked, then admitted by the quotas, which may
 * pause the reader before the frame starts. */
static int frame_begin(wsx_conn *c)
{
    int r = check_frame(c, &c->fh);
    if (r == 0 && c->cfg->guards)
        r = c->cfg->guards->frame(c);
    if (r == 1) {
        c->rstate = WSX_RD_PAUSED;
        return 0;
    }
    return r < 0 ? r : wsx__frame_admitted(c);
}

int wsx__frame_admitted(wsx_conn *c)
{
    c->remaining = c->fh.length;
    c->ctl_len = 0;
    c->rstate = WSX_RD_PAYLOAD;
    if (!is_control(c->fh.opcode) && c->fh.opcode != WSX_CONTINUATION) {
        c->msg_op = c->fh.opcode;
        c->msg_encoded = (c->fh.rsv & WSX_RSV1) != 0;
        c->utf8 = WSX_UTF8_OK;
        c->msg_len = 0;
        c->in.off = c->in.len = 0;
    }
    /* An empty frame is complete as soon as its header is. */
    static uint8_t none;
    return c->fh.length ? 0 : payload(c, &none, 0);
}

/* Payload bytes p[0..n) of the current frame (n <= remaining). */
static int payload(wsx_conn *c, uint8_t *p, size_t n)
{
    if (c->fh.masked)
        wsx_mask(p, n, c->fh.mask, c->fh.length - c->remaining);
    c->remaining -= n;
    bool end = c->remaining == 0;
    if (end)
        c->rstate = WSX_RD_HEADER;
    if (!is_control(c->fh.opcode))
        return data_piece(c, p, n, end && c->fh.fin);
    if (end && c->ctl_len == 0)
        return control(c, p, n); /* whole in the caller's buffer */
    if (!c->ctl && !(c->ctl = wsx__alloc(c, 125)))
        return WSX_ENOMEM;
    memcpy(c->ctl + c->ctl_len, p, n);
    c->ctl_len = (uint8_t)(c->ctl_len + n);
    if (!end)
        return 0;
    int r = control(c, c->ctl, c->ctl_len);
    if (c->ctl) {
        wsx__free(c, c->ctl, 125);
        c->ctl = NULL;
    }
    return r;
}

/* Header bytes: parsed in place when whole, else gathered in c->hdr. */
static long header(wsx_conn *c, const uint8_t *p, size_t n)
{
    int r;
    size_t used;
    if (c->hdr_len == 0) {
        r = wsx_frame_parse(&c->fh, p, n);
        if (r == 0) {
            memcpy(c->hdr, p, n); /* n < WSX_FRAME_HEADER_MAX here */
            c->hdr_len = (uint8_t)n;
            return (long)n;
        }
        used = (size_t)r;
    } else {
        size_t take = WSX_FRAME_HEADER_MAX - c->hdr_len;
        if (take > n)
            take = n;
        memcpy(c->hdr + c->hdr_len, p, take);
        r = wsx_frame_parse(&c->fh, c->hdr, c->hdr_len + take);
        if (r == 0) {
            c->hdr_len = (uint8_t)(c->hdr_len + take);
            return (long)take;
        }
        used = (size_t)r - c->hdr_len;
    }
    if (r < 0)
        return r;
    c->hdr_len = 0;
    r = frame_begin(c);
    return r < 0 ? r : (long)used;
}

/* ---- whole frames ------------------------------------------------------
 * Most frames of chat, telemetry and echo traffic are a whole message in
 * one frame that sits whole in the caller's buffer. Such a frame is
 * checked, admitted, unmasked and delivered here in one pass, without the
 * reader's per-frame state (hdr, remaining, frame_off, payload pieces):
 * measured -40% user-space instructions per echoed 16 B message with the
 * guards of examples/echo_server. The rules are check_frame's and
 * data_plain's; any frame they could refuse, and any other kind of frame
 * (control, fragment, RSV1, streaming, oversized), goes to the general
 * reader, which says what is wrong with it. Built for size (-Os, the
 * firmware) there is no short cut: the reader alone is the same rules in
 * ~600 bytes less flash on a Cortex-M4. */
#if !defined(__OPTIMIZE_SIZE__)
#define WSX_WHOLE_FRAMES 1

/* The frame at p[0..n) when it is such a frame: its header size, with
 * c->fh filled in; else 0. */
static size_t whole_header(wsx_conn *c, const uint8_t *p, size_t n)
{
    const wsx_config *cfg = c->cfg;
    if (n < 2)
        return 0;
    uint8_t b0 = p[0], b1 = p[1];
    /* FIN, no RSV bit (no extension's frame), text or binary, outside a
     * fragmented message (RFC 6455 §5.4); masked as the role requires
     * (§5.1). */
    if ((b0 != (0x80 | WSX_TEXT) && b0 != (0x80 | WSX_BINARY)) || c->msg_op ||
        cfg->streaming || ((b1 & 0x80) != 0) != (cfg->role == WSX_SERVER))
        return 0;
    uint64_t len = b1 & 0x7f;
    size_t hl = 2;
    if (len == 126) {
        if (n < 4)
            return 0;
        len = (uint64_t)p[2] << 8 | p[3];
        hl = 4;
        if (len < 126) /* §5.2: not minimal, the general reader fails it */
            return 0;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 2; i < 10; i++)
            len = len << 8 | p[i];
        hl = 10;
        if (len >> 63 || len < 65536)
            return 0;
    }
    if (b1 & 0x80)
        hl += 4;
    if (n < hl || n - hl < len || len > cfg->max_frame_size ||
        len > cfg->max_message_size)
        return 0;
    c->fh.fin = true;
    c->fh.rsv = 0;
    c->fh.opcode = b0 & 0x0f;
    c->fh.masked = (b1 & 0x80) != 0;
    c->fh.length = len;
    if (b1 & 0x80)
        memcpy(c->fh.mask, p + hl - 4, 4);
    return hl;
}

/* Returns the bytes taken (0: not a whole frame of that kind), or a
 * negative error. */
static long frame_whole(wsx_conn *c, uint8_t *p, size_t n)
{
    size_t hl = whole_header(c, p, n);
    if (!hl)
        return 0;
    if (c->cfg->guards) { /* the guard is made on the way to a first frame */
        int r = c->cfg->guards->frame(c);
        if (r == 1) { /* throttled: the payload waits with later input */
            c->rstate = WSX_RD_PAUSED;
            return (long)hl;
        }
        if (r < 0)
            return r;
    }
    uint8_t *d = p + hl;
    size_t len = (size_t)c->fh.length;
    uint8_t op = c->fh.opcode;
    if (c->fh.masked) {
        if (len < 64)
            wsx__mask_short(d, len, c->fh.mask, 0);
        else
            wsx_mask(d, len, c->fh.mask, 0);
    }
    if (op == WSX_TEXT) {
        /* RFC 6455 §8.1: invalid UTF-8 fails the connection. */
        uint32_t st = WSX_UTF8_OK;
        if (wsx_utf8_validate(&st, d, len) < 0 || st != WSX_UTF8_OK)
            return WSX_EUTF8;
    }
    c->msg_op = op;
    wsx__m_received(c, op, len);
    wsx_message m;
    m.opcode = (wsx_opcode)op;
    m.data = d;
    m.len = len;
    m.first = true;
    m.fin = true;
    int r = wsx__cb_data(c, &m, c->cb->on_message);
    if (r < 0)
        return r;
    message_done(c);
    return (long)(hl + len);
}
#endif

long wsx__read_frames(wsx_conn *c, uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n &&
           (c->rstate == WSX_RD_HEADER || c->rstate == WSX_RD_PAYLOAD)) {
        if (c->rstate == WSX_RD_HEADER) {
            long r = 0;
#ifdef WSX_WHOLE_FRAMES
            if (!c->hdr_len)
                r = frame_whole(c, p + off, n - off);
#endif
            if (r == 0)
                r = header(c, p + off, n - off);
            if (r < 0)
                return r;
            off += (size_t)r;
        } else {
            size_t take = n - off;
            if (take > c->remaining)
                take = (size_t)c->remaining;
            int r = payload(c, p + off, take);
            if (r < 0)
                return r;
            off += take;
        }
    }
    return (long)off;
}

/* ---- reading into the message ----------------------------------------
 * The rest of a large frame goes from the transport straight to its
 * place in the message buffer (wsx.h): a 1 MiB frame no longer passes
 * through the loop's read buffer and a copy. */

/* The payload of a data frame is arriving and will be kept whole. */
static bool into_ok(const wsx_conn *c)
{
    return c->rstate == WSX_RD_PAYLOAD && !is_control(c->fh.opcode) &&
           !c->msg_encoded && !c->cfg->streaming && !c->err && !c->busy;
}

int wsx_conn_read_into(wsx_conn *c, uint8_t **p, size_t *len)
{
    *p = NULL;
    *len = 0;
    if (!into_ok(c) || c->remaining < WSX_READ_INTO_MIN ||
        c->remaining > SIZE_MAX)
        return 0;
    /* Reserved already when a piece of this frame came through the feed
     * (data_plain reserves for the whole frame); the header's check
     * bounded the size before either. */
    if (wsx__buf_reserve(c, &c->in, (size_t)c->remaining) < 0)
        return 0;
    *p = c->in.p + c->in.len;
    *len = (size_t)c->remaining;
    return 1;
}

int wsx_conn_feed_done(wsx_conn *c, size_t n)
{
    if (c->err)
        return c->err;
    /* What wsx_conn_read_into offered is still offered: nothing moved. */
    if (!into_ok(c) || !n || n > c->remaining ||
        c->remaining < WSX_READ_INTO_MIN || c->in.cap - c->in.len < c->remaining)
        return WSX_EINVAL;
    wsx__enter(c);
    wsx__m_feed(c);
    c->rx_seen = true;
    int r = payload(c, c->in.p + c->in.len, n);
    if (r < 0 && r != WSX__EGONE)
        wsx__fail(c, r);
    wsx__m_feed(c);
    return wsx__leave(c, c->err);
}
