/* conn.h - internals of the connection engine, shared by conn.c (life
 * cycle, timers, failure), conn_recv.c (frame reader), conn_send.c (output
 * queue and framing) and conn_handshake.c (the HTTP phase). */
#ifndef WSX_CONN_H
#define WSX_CONN_H

#include "wsx.h"

/* A growable byte buffer; bytes [off, len) are live. */
typedef struct wsx_buf {
    uint8_t *p;
    size_t off, len, cap;
} wsx_buf;

/* What the reader expects next (the input side of the state machine). */
typedef enum wsx_rstate {
    WSX_RD_HTTP = 0, /* accumulating the handshake head */
    WSX_RD_HEADER,   /* a frame header, possibly split */
    WSX_RD_PAYLOAD,  /* payload bytes of the current frame */
    WSX_RD_DISCARD   /* closed or failed: input is dropped */
} wsx_rstate;

/* Outgoing fragmented message (wsx_send_fragment) in progress. */
typedef enum wsx_sstate {
    WSX_SEND_IDLE = 0,
    WSX_SEND_PLAIN,     /* started, not transformed */
    WSX_SEND_ENCODED    /* started, transformed by the extension */
} wsx_sstate;

/* Buffers up to this size are kept between messages (no malloc per
 * message in steady state: 64 KiB messages included); larger ones are
 * released once empty, the rest by the idle tick. */
#define WSX_BUF_KEEP (128u << 10)
/* A connection whose buffers saw no use for this long releases them. */
#define WSX_IDLE_RELEASE_MS 1000

struct wsx_conn {
    const wsx_config *cfg;
    const wsx_callbacks *cb;
    void *user;
    void *transport;          /* the adapter's, see wsx_conn_transport */
    void *ext_state;          /* extension's per-connection state */
    char *protocol;           /* agreed subprotocol */
    wsx_buf in;               /* handshake head, then message assembly */
    wsx_buf out;              /* bytes queued for the transport */
    uint8_t *ctl;             /* split control frame payload (<= 125) */
    uint64_t now;             /* clock of the last tick */
    uint64_t rx_at;           /* last time input was seen (tick clock) */
    uint64_t deadline;        /* handshake or close deadline; 0: unset */
    uint64_t msg_len;         /* decoded bytes of the message so far */
    int err;                  /* sticky fatal error */
    uint32_t utf8;            /* validator state of the text message */
    uint8_t state;            /* wsx_state */
    uint8_t rstate;           /* wsx_rstate */
    uint8_t sstate;           /* wsx_sstate */
    uint8_t msg_op;           /* opcode of the message being received, 0 */
    uint8_t ctl_len;
    union {
        struct {                  /* the frame reader, once open */
            wsx_frame_header fh;  /* the current frame */
            uint64_t remaining;   /* payload bytes left in it */
            uint64_t frame_off;   /* payload bytes of it seen so far */
            uint8_t hdr[WSX_FRAME_HEADER_MAX]; /* a split header */
            uint8_t hdr_len;
        };
        /* Client role, during the handshake only: the accept expected. */
        char accept[WSX_ACCEPT_KEY_LEN + 1];
    };
    uint8_t busy;             /* nesting depth of public calls */
    bool free_pending;        /* wsx_conn_free called from a callback */
    bool rx_seen;             /* input since the last tick */
    bool ping_out;            /* keep-alive ping awaiting its pong */
    bool msg_encoded;         /* message being received has RSV1 */
    bool drain_armed;         /* the transport pushed back: on_drain due */
    uint16_t http_status;     /* the handshake's HTTP status: the server's
                                 answer (client), ours when refusing
                                 (server); 0 until there is one */
};

/* conn.c */
void *wsx__alloc(wsx_conn *c, size_t n);
void wsx__free(wsx_conn *c, void *p, size_t n);
int wsx__buf_reserve(wsx_conn *c, wsx_buf *b, size_t n);
void wsx__buf_release(wsx_conn *c, wsx_buf *b);
void wsx__fail(wsx_conn *c, int err);
void wsx__closed(wsx_conn *c, uint16_t code, const uint8_t *reason,
                 size_t reason_len, bool clean, bool remote, int err);
void wsx__enter(wsx_conn *c);
int wsx__leave(wsx_conn *c, int ret);

/* conn_handshake.c */
long wsx__read_http(wsx_conn *c, const uint8_t *p, size_t n);
int wsx__client_start(wsx_conn *c);
void wsx__reject(wsx_conn *c, int status, int err);

/* conn_recv.c */
long wsx__read_frames(wsx_conn *c, uint8_t *p, size_t n);

/* conn_send.c */
int wsx__queue(wsx_conn *c, const void *p, size_t n);
int wsx__send_direct(wsx_conn *c, const void *p, size_t n);
int wsx__queue_frame(wsx_conn *c, uint8_t op, uint8_t rsv, bool fin,
                     const void *p, size_t n);
int wsx__queue_close(wsx_conn *c, uint16_t code, const void *reason,
                     size_t len);
void wsx__flush(wsx_conn *c);

#endif
