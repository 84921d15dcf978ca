/* conn.h - internals of the connection engine, shared by conn.c (life
 * cycle, timers, failure), conn_recv.c (frame reader), conn_send.c (output
 * queue and framing) and conn_handshake.c (the HTTP phase). */
#ifndef WSX_CONN_H
#define WSX_CONN_H

#include "wsx.h"
#include "wsx_metrics.h"

#include <string.h>

/* A growable byte buffer; bytes [off, len) are live. 32-bit offsets keep
 * an idle connection small; wsx__buf_reserve holds cap to WSX_BUF_MAX. */
typedef struct wsx_buf {
    uint8_t *p;
    uint32_t off, len, cap;
} wsx_buf;
/* The most a buffer holds: a larger message or send backlog fails with
 * WSX_ENOMEM (2 GiB; a power of two, so doubling from 256 reaches it). */
#define WSX_BUF_MAX ((size_t)1 << 31)

/* What the reader expects next (the input side of the state machine). */
typedef enum wsx_rstate {
    WSX_RD_HTTP = 0, /* accumulating the handshake head */
    WSX_RD_HEADER,   /* a frame header, possibly split */
    WSX_RD_PAYLOAD,  /* payload bytes of the current frame */
    WSX_RD_BODY,     /* the body of a plain HTTP request (conn_http.c) */
    WSX_RD_DISCARD,  /* closed or failed: input is dropped */
    WSX_RD_PENDING,  /* server: on_handshake left the decision pending */
    WSX_RD_PAUSED    /* throttled: a frame header waits for its quota,
                        later input is held (quota.c) */
} wsx_rstate;

/* Outgoing fragmented message (wsx_send_fragment) in progress. */
typedef enum wsx_sstate {
    WSX_SEND_IDLE = 0,
    WSX_SEND_PLAIN,     /* started, not transformed */
    WSX_SEND_ENCODED    /* started, transformed by the extension */
} wsx_sstate;

/* A plain HTTP request (wsx_http.h) answered past on_http. */
typedef enum wsx_hstate {
    WSX_HTTP_NONE = 0, /* no request, or answered */
    WSX_HTTP_REQUEST,  /* inside on_http, not answered yet */
    WSX_HTTP_HELD,     /* kept for a later answer */
    WSX_HTTP_STREAM    /* head sent, body written piece by piece */
} wsx_hstate;

/* Headers of a request or response head: enough for browsers (about
 * 15 headers); more is refused with 431. */
#define WSX_MAX_HEADERS 48

/* Buffers up to this size are kept between messages (no malloc per
 * message in steady state: 64 KiB messages included); larger ones are
 * released once empty, the rest by the idle tick. */
#define WSX_BUF_KEEP (128u << 10)
/* A connection whose buffers saw no use for this long releases them. */
#define WSX_IDLE_RELEASE_MS 1000
/* Every value of the caller's clock is a valid time, 0 included (a
 * firmware tick counter starts there): an unset deadline is this value,
 * which no computed deadline reaches (conn.c saturates at one less). */
#define WSX_NO_DEADLINE UINT64_MAX

struct wsx_conn {
    const wsx_config *cfg;
    const wsx_callbacks *cb;
    void *user;
    void *ext_state;          /* extension's per-connection state */
    char *protocol;           /* agreed subprotocol */
    wsx_buf in;               /* handshake head, then message assembly */
    wsx_buf out;              /* bytes queued for the transport */
    uint8_t *ctl;             /* split control frame payload (<= 125) */
    struct wsx__guard *guard; /* quotas, when configured (quota.c) */
    uint64_t rx_at;           /* last time input was seen (tick clock) */
    union {
        uint64_t deadline;    /* handshake or close deadline, or
                                 WSX_NO_DEADLINE */
        /* While open, when no deadline runs: when the oldest message of
         * the current send backlog was queued (registry clock, ns). One
         * field for both keeps idle connections at their size. */
        uint64_t q_since;
    };
    int err;                  /* sticky fatal error */
    uint8_t state;            /* wsx_state */
    uint8_t rstate;           /* wsx_rstate */
    uint8_t msg_op;           /* opcode of the message being received, 0 */
    uint8_t busy;             /* nesting depth of public calls */
    uint8_t utf8;             /* validator state of the text message (it
                                 takes 6 bits: see utf8.c) */
    bool rx_seen;             /* input since the last tick (set by every
                                 feed: a byte of its own) */
    uint16_t http_status;     /* see wsx_conn_http_status */
    uint16_t q_msgs;          /* messages in that backlog (metrics) */
    /* Small states and flags share two bytes (with the fields above, one
     * 16-byte row: sizeof(wsx_conn) 184 on 64-bit targets). */
    unsigned sstate : 2;      /* wsx_sstate */
    unsigned hstate : 2;      /* wsx_hstate */
    bool msg_encoded : 1;     /* message being received has RSV1 */
    bool gone : 1;            /* freed from a callback: see wsx__enter */
    bool ticked : 1;          /* wsx_conn_tick ran at least once */
    bool ping_out : 1;        /* keep-alive ping awaiting its pong */
    bool drain_armed : 1;     /* the transport pushed back: on_drain due */
    bool tx_seen : 1;         /* HTTP output queued since the last tick */
    union {
        struct {                  /* the frame reader, once open */
            wsx_frame_header fh;  /* the current frame */
            uint64_t remaining;   /* payload bytes left in it (those seen:
                                     fh.length - remaining) */
            uint8_t hdr[WSX_FRAME_HEADER_MAX]; /* a split header */
            uint8_t hdr_len;
            uint8_t ctl_len;      /* bytes of a split control frame */
            uint64_t msg_len;     /* decoded bytes of the message so far
                                     (after accept[], which a client's
                                     handshake leaves behind) */
        };
        /* Client role, during the handshake only: the accept expected. */
        char accept[WSX_ACCEPT_KEY_LEN + 1];
        /* Server role, a plain HTTP request (conn_http.c). Its head (and
         * body) stay in `in` from the end of the head to on_http. */
        struct {
            uint64_t body_left;   /* Content-Length bytes still to read */
            uint64_t tx_at;       /* last output queued: idle, heartbeat */
            const uint8_t *beat;  /* heartbeat bytes, or NULL */
            uint32_t beat_len, beat_ms;
            uint32_t head_len;
            size_t body_len;      /* inside on_http only */
        } http;
    };
};

/* conn.c */
/* Large copies between wsx's buffers and the caller's. glibc before 2.39
 * copies from about 2 KiB up with `rep movsb`, which on AMD Zen 3/4 runs
 * ~17x slower when (dst - src) mod 64 is 1..31 (glibc bug 30994): a
 * 64 KiB echo spent half its CPU there. In that band the copy goes in
 * pieces below the threshold, which glibc does with vector moves (other
 * libcs just make a few more calls); elsewhere it is one memcpy. */
#define WSX_COPY_PIECE 2048u
void wsx__copy_pieces(uint8_t *dst, const uint8_t *src, size_t n);
static inline void wsx__copy(uint8_t *dst, const uint8_t *src, size_t n)
{
    if (n > WSX_COPY_PIECE) {
        uintptr_t skew = ((uintptr_t)dst - (uintptr_t)src) & 63u;
        if (skew != 0 && skew < 32)
            wsx__copy_pieces(dst, src, n);
        else
            memcpy(dst, src, n);
    } else if (n) {
        memcpy(dst, src, n);
    }
}
void *wsx__alloc(wsx_conn *c, size_t n);
void wsx__free(wsx_conn *c, void *p, size_t n);
int wsx__buf_reserve(wsx_conn *c, wsx_buf *b, size_t n);
void wsx__buf_release(wsx_conn *c, wsx_buf *b);
void wsx__fail(wsx_conn *c, int err);
/* wsx__fail with a close reason (a short static string), e.g. the name
 * of the quota that tripped. */
void wsx__fail_why(wsx_conn *c, int err, const char *why);
int wsx__closed(wsx_conn *c, uint16_t code, const uint8_t *reason,
                size_t reason_len, bool clean, bool remote, int err);

/* ---- metrics (metrics.c) ----------------------------------------------
 * Each hook costs one test of cfg->metrics when no registry is set. Built
 * with -DWSX_NO_METRICS (firmware short of flash: 1 KiB of Cortex-M4
 * .text) they compile to nothing and wsx_config.metrics is ignored. */
static inline wsx_metrics *wsx__metrics(const wsx_conn *c)
{
#ifdef WSX_NO_METRICS
    (void)c;
    return NULL;
#else
    return c->cfg->metrics;
#endif
}

/* The out-of-line halves, called only when wsx__metrics(c) is set. */
void wsx__m_opened_(wsx_conn *c);
void wsx__m_closed_(wsx_conn *c, uint16_t code, bool remote);
void wsx__m_refused_(wsx_conn *c, int status);
void wsx__m_failed_(wsx_conn *c, uint16_t code);
/* A message entered the send queue; the queue became empty. */
void wsx__m_queued(wsx_conn *c);
void wsx__m_drained(wsx_conn *c);
/* Around a message callback: its start time (0 without a clock), then
 * the observation. */
uint64_t wsx__m_begin(wsx_metrics *m);
void wsx__m_end(wsx_metrics *m, uint64_t since);

/* A guard tripped: i indexes wsx_metrics.quota_trips. */
static inline void wsx__m_quota(wsx_conn *c, int i)
{
    wsx_metrics *m = wsx__metrics(c);
    if (m)
        m->quota_trips[i]++;
}

static inline void wsx__m_opened(wsx_conn *c)
{
    if (wsx__metrics(c))
        wsx__m_opened_(c);
}

/* c leaves the open or closing state: closed, or (code 0) freed while
 * open without a close. */
static inline void wsx__m_closed(wsx_conn *c, uint16_t code, bool remote)
{
    if (wsx__metrics(c))
        wsx__m_closed_(c, code, remote);
}

static inline void wsx__m_refused(wsx_conn *c, int status)
{
    if (wsx__metrics(c))
        wsx__m_refused_(c, status);
}

static inline void wsx__m_failed(wsx_conn *c, uint16_t code)
{
    if (wsx__metrics(c))
        wsx__m_failed_(c, code);
}

/* wsx_conn_feed starts or ends: callbacks are chained only inside one. */
static inline void wsx__m_feed(wsx_conn *c)
{
    if (wsx__metrics(c))
        c->cfg->metrics->chain_ns = 0;
}

static inline void wsx__m_received(wsx_conn *c, uint8_t op, uint64_t len)
{
    wsx_metrics *m = wsx__metrics(c);
    if (m) {
        m->messages_received[op == WSX_BINARY]++;
        m->bytes_received += len;
    }
}

static inline void wsx__m_sent(wsx_conn *c, uint8_t op, bool first,
                               uint64_t len)
{
    wsx_metrics *m = wsx__metrics(c);
    if (m) {
        m->bytes_sent += len;
        if (first) {
            m->messages_sent[op == WSX_BINARY]++;
            wsx__m_queued(c);
        }
    }
}

/* Control frames: i indexes pings_received, pongs_received, pings_sent,
 * pongs_sent (adjacent in wsx_metrics). */
enum { WSX__M_PING_IN, WSX__M_PONG_IN, WSX__M_PING_OUT, WSX__M_PONG_OUT };
static inline void wsx__m_control(wsx_conn *c, int i)
{
    wsx_metrics *m = wsx__metrics(c);
    if (m)
        (&m->pings_received)[i]++;
}

/* ---- entering the engine, and calling out of it ----------------------
 * Every public function that can run a callback brackets itself with
 * wsx__enter and wsx__leave. wsx_conn_free inside a callback only marks
 * the connection gone; the outermost wsx__leave destroys it. Callbacks
 * are invoked only through the wsx__cb_* functions below: none calls
 * the application once the connection is gone, and each reports
 * WSX__EGONE when the application freed it during the call. Whoever
 * gets WSX__EGONE returns it at once, up to the public function, whose
 * wsx__leave turns it into a public code. Nothing else checks `gone`. */
#define WSX__EGONE (WSX_ERR_MIN_ - 1) /* internal, never returned */

void wsx__enter(wsx_conn *c);
/* The outermost exit, or any exit once gone: the final flush, or the
 * deferred free. */
int wsx__leave_last(wsx_conn *c, int ret);
/* Returns ret, or the sticky error when the final flush failed; ret
 * WSX_EAGAIN asks for the queue's state after that flush (EAGAIN while
 * bytes remain, else 0: wsx_conn_flush). */
static inline int wsx__leave(wsx_conn *c, int ret)
{
    /* A call from a callback, the common case (an echo from on_message):
     * the outermost call flushes. */
    if (c->busy > 1 && !c->gone) {
        c->busy--;
        return ret;
    }
    return wsx__leave_last(c, ret);
}

static inline int wsx__gone(const wsx_conn *c)
{
    return c->gone ? WSX__EGONE : 0;
}

/* Bytes taken (0..n), WSX_EAGAIN, another negative code from the
 * application, or WSX__EGONE. Only when cb->send is set. */
static inline long wsx__cb_send(wsx_conn *c, const uint8_t *p, size_t n)
{
    if (c->gone)
        return WSX__EGONE;
    long k = c->cb->send(c, p, n, c->user);
    return c->gone ? WSX__EGONE : k;
}

/* As wsx__cb_send, through the gather write; only when cb->sendv is set. */
static inline long wsx__cb_sendv(wsx_conn *c, const wsx_iovec *v, int n)
{
    if (c->gone)
        return WSX__EGONE;
    long k = c->cb->sendv(c, v, n, c->user);
    return c->gone ? WSX__EGONE : k;
}

/* 0, WSX_EIO when the source failed, WSX__EGONE, or WSX_ECLOSED when the
 * application closed the connection from the callback (what was about to
 * be framed must not follow its close frame). */
int wsx__cb_random(wsx_conn *c, uint8_t *buf, size_t n);

/* 0 to go on, an HTTP status (server: 400..599) to refuse, WSX__EGONE. */
int wsx__cb_handshake(wsx_conn *c, const wsx_handshake *hs,
                      wsx_handshake_reply *reply);

static inline int wsx__cb_http(wsx_conn *c, const wsx_http_request *req)
{
    if (!c->gone && c->cb->on_http)
        c->cb->on_http(c, req, c->user);
    return wsx__gone(c);
}

static inline int wsx__cb_open(wsx_conn *c)
{
    if (!c->gone && c->cb->on_open)
        c->cb->on_open(c, c->user);
    return wsx__gone(c);
}

/* on_message or on_fragment, timed into the registry's histogram. */
static inline int wsx__cb_data(wsx_conn *c, const wsx_message *m,
                               void (*fn)(wsx_conn *, const wsx_message *,
                                          void *))
{
    if (!c->gone && fn) {
        wsx_metrics *reg = wsx__metrics(c);
        uint64_t t = reg ? wsx__m_begin(reg) : 0;
        fn(c, m, c->user);
        if (reg)
            wsx__m_end(reg, t);
    }
    return wsx__gone(c);
}

/* on_ping or on_pong. */
static inline int wsx__cb_control(wsx_conn *c, uint8_t op, const uint8_t *p,
                                  size_t n)
{
    void (*fn)(wsx_conn *, const uint8_t *, size_t, void *) =
        op == WSX_PING ? c->cb->on_ping : c->cb->on_pong;
    if (!c->gone && fn)
        fn(c, p, n, c->user);
    return wsx__gone(c);
}

static inline int wsx__cb_close(wsx_conn *c, const wsx_close_info *ci)
{
    if (!c->gone && c->cb->on_close)
        c->cb->on_close(c, ci, c->user);
    return wsx__gone(c);
}

static inline int wsx__cb_drain(wsx_conn *c)
{
    if (!c->gone && c->cb->on_drain)
        c->cb->on_drain(c, c->user);
    return wsx__gone(c);
}

/* conn_handshake.c */
long wsx__read_http(wsx_conn *c, const uint8_t *p, size_t n);
int wsx__client_start(wsx_conn *c);
int wsx__reject(wsx_conn *c, int status, const wsx_handshake_reply *reply,
                int err);

/* conn.c: run the reader over buf[0..len). Returns the bytes consumed:
 * all of them, unless the reader paused for a quota (or for a pending
 * handshake decision, whose input fails the handshake). */
size_t wsx__consume(wsx_conn *c, uint8_t *buf, size_t len);

/* conn_http.c */
int wsx__http_request(wsx_conn *c, const wsx_http_request *req,
                      const uint8_t *head, size_t head_len);
long wsx__read_body(wsx_conn *c, const uint8_t *p, size_t n);
/* Send a streamed response's head: fixed_headers (the caller's own
 * lines, e.g. SSE's), then the application's extra_headers. */
int wsx__http_begin(wsx_conn *c, int status, const char *content_type,
                    const char *fixed_headers, const char *extra_headers);
/* 0 when stream output may be queued now, else why not (WSX_EFULL above
 * high_water, with on_drain armed). */
int wsx__http_room(wsx_conn *c);

/* conn_recv.c */
long wsx__read_frames(wsx_conn *c, uint8_t *p, size_t n);
/* Start the frame whose header is in c->fh once its quota admitted it
 * (the reader's path, and the resumption of a throttled one). */
int wsx__frame_admitted(wsx_conn *c);

/* quota.c: token buckets, the fragment count of the current message and
 * the Origin allow-list. Reached only through cfg->guards (wsx_guards()),
 * so that a program that sets no guard links none of it; c->guard exists
 * only then, made on the way to a frame and given back when idle (see
 * quota.c). */
struct wsx_guard_ops {
    void (*detach)(wsx_conn *c);
    /* For the frame in c->fh (makes c->guard when there is none): 0 to
     * go on (charged), 1 to pause (throttle policy; the caller sets
     * WSX_RD_PAUSED), WSX_ENOMEM, or a negative code after failing the
     * connection with the quota's name. */
    int (*frame)(wsx_conn *c);
    /* The clock moved to now: a paused reader resumes once the waiting
     * frame's quota has refilled. Returns when to look again. */
    uint64_t (*tick)(wsx_conn *c, uint64_t now);
    /* Keep input that arrived while paused, after the rest: 0 or
     * WSX_ENOMEM. */
    int (*hold)(wsx_conn *c, const uint8_t *p, size_t n);
    bool (*origin_ok)(const wsx_conn *c, const wsx_http_request *req);
    /* The idle tick, between messages: free c->guard when a new one
     * would be the same (see quota.c). True when it was kept only until
     * its buckets refill: the tick asks to be called again. */
    bool (*idle)(wsx_conn *c, uint64_t now);
};

/* conn_send.c */
int wsx__queue(wsx_conn *c, const void *p, size_t n);
/* WSX_EFULL (and on_drain armed) above high_water, else 0. */
int wsx__room(wsx_conn *c);
int wsx__send_direct(wsx_conn *c, const void *p, size_t n);
int wsx__queue_frame(wsx_conn *c, uint8_t op, uint8_t rsv, bool fin,
                     const void *p, size_t n);
int wsx__queue_close(wsx_conn *c, uint16_t code, const void *reason,
                     size_t len);
void wsx__flush(wsx_conn *c);

#endif
