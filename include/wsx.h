/* wsx.h - the whole public API of the wsx core: an RFC 6455 WebSocket
 * protocol engine that touches no socket, clock or thread ("sans-I/O").
 *
 * Layers, bottom to top:
 *   1. errors and version
 *   2. codec: frame headers, masking, UTF-8, SHA-1/base64, accept key
 *   3. HTTP/1.1 handshake: request/response parsers and builders
 *   4. allocation: caller allocator and a fixed arena for firmware
 *   5. extensions: the hook permessage-deflate plugs into
 *   6. connection: bytes in (feed), events out (callbacks), bytes out
 *      (send callback or pending/advance), timers from tick(now)
 *
 * Thread safety: wsx keeps no global mutable state. A connection must be
 * used by one thread at a time; different connections are independent.
 *
 * Build options for firmware short of flash (defined when compiling the
 * core, lib/core; the API stays the same, what they remove never runs):
 *   -DWSX_NO_MALLOC   no default allocator: wsx_config.alloc must be set
 *   -DWSX_NO_METRICS  no metrics hooks: wsx_config.metrics is ignored
 *   -DWSX_NO_HTTP     no plain HTTP past on_http (wsx_http.h): on_http is
 *                     never called, a request that is not an upgrade gets
 *                     426; request bodies, held requests, streamed
 *                     responses and SSE are not built
 *   -DWSX_NO_SENDV    no gather write: wsx_callbacks.sendv is never
 *                     called, every byte goes through the queue and send
 * The rate, fragment and origin guards need no option: they are linked
 * only when wsx_config.guards is set (wsx_guards()).
 */
#ifndef WSX_H
#define WSX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(WSX_BUILDING)
#define WSX_API __attribute__((visibility("default")))
#else
#define WSX_API
#endif

/* ------------------------------------------------------------------ */
/* 1. Errors and version                                              */
/* ------------------------------------------------------------------ */

#define WSX_VERSION_MAJOR 0
#define WSX_VERSION_MINOR 1
#define WSX_VERSION_PATCH 0
#define WSX_VERSION_STRING "0.1.0"
#define WSX_VERSION_NUM                                                       \
    ((WSX_VERSION_MAJOR << 16) | (WSX_VERSION_MINOR << 8) | WSX_VERSION_PATCH)

/* The library's version as a string; compare with WSX_VERSION_STRING to
 * detect a header/library mismatch. */
WSX_API const char *wsx_version(void);

/* Every failure is one of these negative codes. A function returns 0 or a
 * positive count on success. */
#define WSX_ERRNO_MAP(X)                                                      \
    X(AGAIN, -1, "would block, or more input needed")                        \
    X(INVAL, -2, "invalid argument")                                          \
    X(NOMEM, -3, "out of memory")                                             \
    X(STATE, -4, "not allowed in the connection's current state")            \
    X(CLOSED, -5, "connection is closing or closed")                          \
    X(PROTO, -6, "WebSocket protocol violation (close 1002)")                \
    X(UTF8, -7, "invalid UTF-8 in text or close reason (close 1007)")         \
    X(TOOBIG, -8, "frame or message exceeds the configured limit (close 1009)") \
    X(POLICY, -9, "policy violation (close 1008)")                            \
    X(HTTP, -10, "malformed HTTP message")                                   \
    X(HANDSHAKE, -11, "WebSocket handshake refused or invalid")               \
    X(VERSION, -12, "unsupported Sec-WebSocket-Version (HTTP 426)")           \
    X(NOSPC, -13, "output buffer too small")                                  \
    X(FULL, -14, "send queue is above its high-water mark")                   \
    X(TIMEOUT, -15, "timed out")                                              \
    X(IO, -16, "transport error reported by the send callback")               \
    X(EXT, -17, "extension negotiation or processing failed")                 \
    X(HDRSIZE, -18, "HTTP header section exceeds max_header_size")            \
    X(PEERCLOSED, -19, "transport closed by the peer without a close frame") \
    X(CONNREFUSED, -20, "connection refused")                                \
    X(NOHOST, -21, "host not found")                                          \
    X(CONNTIMEOUT, -22, "connect timed out")                                  \
    X(REFUSED, -23, "the server refused the upgrade with an HTTP status")    \
    X(TLS, -24, "TLS handshake or record error")                              \
    X(TLSVERIFY, -25, "TLS peer certificate verification failed")       \
    X(QUOTA, -26, "a rate or fragment quota was exceeded (close 1008)")      \
    X(NOENT, -27, "no such parameter, cookie or header")

typedef enum wsx_err {
#define WSX_ERR_ENUM_(name, val, msg) WSX_E##name = (val),
    WSX_ERRNO_MAP(WSX_ERR_ENUM_)
#undef WSX_ERR_ENUM_
    WSX_ERR_MIN_ = -28
} wsx_err;

/* A short English sentence for a WSX_E* code ("unknown error" otherwise). */
WSX_API const char *wsx_strerror(int err);
/* The code's name, e.g. "WSX_EPROTO" ("WSX_EUNKNOWN" otherwise). */
WSX_API const char *wsx_errname(int err);

/* ------------------------------------------------------------------ */
/* 2. Codec: the stateless frame layer (RFC 6455 §5)                  */
/* ------------------------------------------------------------------ */

typedef enum wsx_opcode {
    WSX_CONTINUATION = 0x0,
    WSX_TEXT = 0x1,
    WSX_BINARY = 0x2,
    WSX_CLOSE = 0x8,
    WSX_PING = 0x9,
    WSX_PONG = 0xA
} wsx_opcode;

/* RSV bits as they sit in the first header byte. */
#define WSX_RSV1 0x40u
#define WSX_RSV2 0x20u
#define WSX_RSV3 0x10u

/* A frame header never exceeds 14 bytes: 2 + 8 (length) + 4 (mask key). */
#define WSX_FRAME_HEADER_MAX 14

typedef struct wsx_frame_header {
    bool fin;           /* final fragment of a message */
    uint8_t rsv;        /* WSX_RSV1|WSX_RSV2|WSX_RSV3 bits, as on the wire */
    uint8_t opcode;     /* 4-bit opcode, not validated here */
    bool masked;        /* a masking key follows the length */
    uint8_t mask[4];    /* valid when masked */
    uint64_t length;    /* payload length */
} wsx_frame_header;

/* Parse one frame header from p[0..len).
 * Returns the header size (2..14) when complete, 0 when more bytes are
 * needed, or WSX_EPROTO when the 64-bit length has its top bit set
 * (RFC 6455 §5.2) or a length is not in its minimal encoding. Never reads
 * past len. Opcode, RSV and masking rules depend on the connection and are
 * checked by it, not here. */
WSX_API int wsx_frame_parse(wsx_frame_header *h, const uint8_t *p, size_t len);

/* Encode h into out (at least WSX_FRAME_HEADER_MAX bytes) using the minimal
 * length encoding. Returns the header size (2..14). */
WSX_API size_t wsx_frame_build(uint8_t *out, const wsx_frame_header *h);

/* XOR p[0..len) with key, where p starts `offset` bytes into the payload
 * (so a payload may be unmasked in pieces). Masking and unmasking are the
 * same operation. Uses SIMD where the compiler offers it. */
WSX_API void wsx_mask(uint8_t *p, size_t len, const uint8_t key[4],
                      uint64_t offset);

/* Streaming UTF-8 validation (RFC 3629): no overlong forms, no surrogates,
 * nothing above U+10FFFF. *state starts at WSX_UTF8_OK and is carried
 * across calls, so a text message may be checked fragment by fragment.
 * Returns 0 while the input is valid so far (a sequence may be open at the
 * end: *state != WSX_UTF8_OK then), or WSX_EUTF8 at the first byte that
 * can never become valid; *state is then unspecified. On x86-64 CPUs with
 * AVX2 (detected at run time) whole 64-byte blocks are checked with SIMD;
 * the results, including which call fails, are the same everywhere. */
#define WSX_UTF8_OK 0u
WSX_API int wsx_utf8_validate(uint32_t *state, const uint8_t *p, size_t len);

/* SHA-1 (FIPS 180-4), used only for the accept key; not for security. */
typedef struct wsx_sha1 {
    uint32_t h[5];
    uint64_t total;
    uint8_t block[64];
    size_t used;
} wsx_sha1;
WSX_API void wsx_sha1_init(wsx_sha1 *s);
WSX_API void wsx_sha1_update(wsx_sha1 *s, const void *data, size_t len);
WSX_API void wsx_sha1_final(wsx_sha1 *s, uint8_t digest[20]);

/* Base64 (RFC 4648 §4, with padding). encode writes 4*ceil(len/3) chars
 * and a NUL; out must hold that plus one. Returns the chars written. */
WSX_API size_t wsx_base64_encode(char *out, const uint8_t *in, size_t len);
/* Decode strictly (padding required, no whitespace, no stray bits).
 * Returns the bytes written, WSX_EINVAL on malformed input, WSX_ENOSPC when
 * out (cap bytes) is too small. */
WSX_API int wsx_base64_decode(uint8_t *out, size_t cap, const char *in,
                              size_t len);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2 step 5.4):
 * base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
 * Writes 28 characters and a NUL into out. */
#define WSX_ACCEPT_KEY_LEN 28
WSX_API void wsx_accept_key(char out[WSX_ACCEPT_KEY_LEN + 1], const char *key,
                            size_t key_len);

/* ------------------------------------------------------------------ */
/* 3. HTTP/1.1 handshake (RFC 6455 §4, RFC 9110/9112)                 */
/* ------------------------------------------------------------------ */

/* Parsed pieces point into the caller's buffer; nothing is copied. */
typedef struct wsx_header {
    const char *name;
    size_t name_len;
    const char *value; /* leading and trailing whitespace removed */
    size_t value_len;
} wsx_header;

typedef struct wsx_http_request {
    const char *method;
    size_t method_len;
    const char *target; /* request-target: path and query */
    size_t target_len;
    int version_minor;  /* HTTP/1.x */
    wsx_header *headers;
    size_t num_headers;
} wsx_http_request;

typedef struct wsx_http_response {
    int version_minor;
    int status;
    const char *reason;
    size_t reason_len;
    wsx_header *headers;
    size_t num_headers;
} wsx_http_response;

/* Parse an HTTP/1.1 request head from p[0..len) into req, storing up to
 * max_headers headers in the caller's array `headers`.
 * Returns the size of the head including the final CRLFCRLF when it is
 * complete, 0 when more bytes are needed, WSX_EHTTP when malformed (bad
 * request line, bare CR, control characters, obs-fold, not HTTP/1.x) or
 * WSX_EHDRSIZE when there are more than max_headers headers. Re-parsing a
 * longer prefix of the same stream is how a split input is handled. A bare
 * LF ends lines too (RFC 9112 §2.2 allows it). */
WSX_API int wsx_http_parse_request(wsx_http_request *req, wsx_header *headers,
                                   size_t max_headers, const uint8_t *p,
                                   size_t len);
/* The same for a response head (status line "HTTP/1.x NNN reason"). */
WSX_API int wsx_http_parse_response(wsx_http_response *res,
                                    wsx_header *headers, size_t max_headers,
                                    const uint8_t *p, size_t len);

/* First header named `name` (case-insensitive), or NULL. */
WSX_API const wsx_header *wsx_http_find(const wsx_header *h, size_t n,
                                        const char *name);
/* True when any header named `name` holds `token` in its comma-separated
 * list (both compared case-insensitively; RFC 9110 §5.6.1 lists). */
WSX_API bool wsx_http_has_token(const wsx_header *h, size_t n,
                                const char *name, const char *token);
/* Iterate the elements of a comma-separated list: *pos starts at 0; each
 * call stores the next non-empty trimmed element and returns true, or
 * returns false at the end. */
WSX_API bool wsx_http_list_next(const char *v, size_t len, size_t *pos,
                                const char **elem, size_t *elem_len);

/* Check that a parsed request is a valid WebSocket upgrade (RFC 6455
 * §4.2.1). "Upgrade: websocket" is checked first: without it the request
 * is plain HTTP (WSX_EHANDSHAKE, whatever its method or version). Then:
 * GET, HTTP/1.1 or later, Host exactly once, Upgrade: websocket,
 * Connection: Upgrade, a Sec-WebSocket-Key that decodes to 16 bytes, and
 * Sec-WebSocket-Version: 13. On success stores the key and returns 0.
 * Returns WSX_EHTTP (answer 400), WSX_EVERSION (answer 426 with
 * Sec-WebSocket-Version: 13) or WSX_EHANDSHAKE when the request is not an
 * upgrade at all (no Upgrade: websocket; answer 426 or serve it as HTTP). */
WSX_API int wsx_http_check_upgrade(const wsx_http_request *req,
                                   const char **key, size_t *key_len);

/* Helpers for a server deciding on a request (on_handshake, on_http):
 * nothing is allocated; results point into the request or are decoded
 * into the caller's buffer. */

/* Split a request-target at its first '?': the path is target[0..
 * *path_len), the query follows the '?' (*query NULL when there is none). */
WSX_API void wsx_http_target_split(const char *target, size_t len,
                                   size_t *path_len, const char **query,
                                   size_t *query_len);
/* Percent-decode in[0..len) (RFC 3986 §2.1) into out, NUL-terminated;
 * plus_space also turns '+' into a space (HTML form encoding, which query
 * strings use). Returns the decoded length, WSX_EINVAL for a '%' without
 * two hex digits or a decoded NUL (it would cut a C string short), or
 * WSX_ENOSPC when out (cap bytes) cannot hold it and the NUL. */
WSX_API int wsx_http_unescape(char *out, size_t cap, const char *in,
                              size_t len, bool plus_space);
/* The first query parameter `name` of a request-target, compared after
 * decoding, its value decoded into out as wsx_http_unescape does ("a" and
 * "a=" give an empty value). Returns the value's length, WSX_ENOENT when
 * there is no such parameter, WSX_EINVAL or WSX_ENOSPC. */
WSX_API int wsx_http_query_param(const char *target, size_t len,
                                 const char *name, char *out, size_t cap);
/* The cookie `name` (case-sensitive, RFC 6265 §5.4) in the request's
 * Cookie headers ("a=1; b=2", several headers allowed): the first match's
 * value, with one pair of surrounding double quotes removed (§4.1.1),
 * not decoded. Pairs without '=' are skipped. Returns 0 with *value and
 * *value_len set, or WSX_ENOENT. */
WSX_API int wsx_http_cookie(const wsx_header *h, size_t n, const char *name,
                            const char **value, size_t *value_len);
/* Whether an Origin header value matches an allow-list (NULL-terminated
 * array of strings). An entry matches the whole origin case-insensitively
 * ("https://chat.example.com", "http://localhost:8080", "null"), or is a
 * wildcard: "*.example.com" matches any origin whose host ends in
 * ".example.com" (any scheme and port; not example.com itself); with a
 * scheme and "://" before the "*." it also requires that scheme. */
WSX_API bool wsx_origin_allowed(const char *const *allow, const char *origin,
                                size_t len);

/* What a client puts in its opening handshake. */
typedef struct wsx_client_opts {
    const char *host;          /* Host header value, e.g. "example.com:8080" */
    const char *path;          /* request-target, e.g. "/chat?room=1" */
    const char *origin;        /* NULL to omit */
    const char *protocols;     /* comma list for Sec-WebSocket-Protocol, or NULL */
    const char *extensions;    /* Sec-WebSocket-Extensions offer, or NULL */
    const char *extra_headers; /* raw "Name: value\r\n" lines, or NULL */
} wsx_client_opts;

/* Each builder writes a complete head (ending in CRLFCRLF) and a NUL into
 * out[0..cap). Returns the length without the NUL, WSX_ENOSPC, or
 * WSX_EINVAL when an argument would break the head (CR, LF or another
 * control character in a value, a space in the path, a missing host, a
 * key that is not 24 characters, a status outside 100..999): no header
 * injection. On failure out holds an empty string (when cap > 0).
 * key: the 24-character base64 Sec-WebSocket-Key. */
WSX_API int wsx_http_build_request(char *out, size_t cap,
                                   const wsx_client_opts *o, const char *key);
/* 101 Switching Protocols with Sec-WebSocket-Accept computed from key;
 * protocol/extensions/extra_headers may be NULL. */
WSX_API int wsx_http_build_accept(char *out, size_t cap, const char *key,
                                  size_t key_len, const char *protocol,
                                  const char *extensions,
                                  const char *extra_headers);
/* An error response with "Connection: close", a short text body and, for
 * 426, "Sec-WebSocket-Version: 13". extra_headers may be NULL. */
WSX_API int wsx_http_build_error(char *out, size_t cap, int status,
                                 const char *extra_headers);
/* A complete response with a body (Content-Length, Connection: close).
 * content_type may be NULL. body_len WSX_HTTP_UNTIL_CLOSE: no
 * Content-Length, the body ends when the connection closes (RFC 9112
 * §6.3 rule 8), for a response streamed by wsx_http_stream_begin. */
#define WSX_HTTP_UNTIL_CLOSE SIZE_MAX
WSX_API int wsx_http_build_response(char *out, size_t cap, int status,
                                    const char *content_type,
                                    const char *extra_headers, size_t body_len);
/* Reason phrase for a status code ("Unknown" otherwise). */
WSX_API const char *wsx_http_reason(int status);

/* ------------------------------------------------------------------ */
/* 4. Allocation                                                      */
/* ------------------------------------------------------------------ */

/* Every allocation the library makes goes through one of these. realloc
 * may be NULL: wsx then allocates, copies and frees. */
typedef struct wsx_allocator {
    void *(*malloc)(size_t size, void *user);
    void *(*realloc)(void *ptr, size_t old_size, size_t new_size, void *user);
    void (*free)(void *ptr, size_t size, void *user);
    void *user;
} wsx_allocator;

/* Fill *a with an allocator that serves blocks from mem[0..size) and never
 * calls malloc: for firmware. The arena's bookkeeping lives inside mem
 * (which must be 8-byte aligned). Returns 0, or WSX_EINVAL when size is too
 * small to manage. Freed blocks are coalesced and reused. */
WSX_API int wsx_arena_init(wsx_allocator *a, void *mem, size_t size);

/* ------------------------------------------------------------------ */
/* 5. Extensions (RFC 6455 §9): the per-message transform hook        */
/* ------------------------------------------------------------------ */

/* An extension transforms whole messages and owns RSV1. wsx ships one,
 * permessage-deflate (wsx_deflate.h); the core calls it only through this
 * table, so the core does not depend on it. `emit` hands transformed bytes
 * back to the core, which applies its limits as they arrive; emit returns
 * 0 or a negative WSX_E*, and a negative return must abort the transform
 * and be returned. */
typedef int (*wsx_emit_fn)(void *ctx, const uint8_t *p, size_t len);

typedef struct wsx_extension {
    const char *name; /* e.g. "permessage-deflate" */
    /* Server: read the client's Sec-WebSocket-Extensions value; on
     * acceptance create per-connection state in *state, write the
     * response element into resp (a NUL-terminated string) and return 1;
     * return 0 to decline, a negative WSX_E* to refuse the handshake. */
    int (*server_accept)(const void *cfg, const char *offer, size_t len,
                         char *resp, size_t cap, void **state,
                         const wsx_allocator *a);
    /* Client: write the offer into out; return its length or WSX_ENOSPC. */
    int (*client_offer)(const void *cfg, char *out, size_t cap);
    /* Client: check the server's response; create *state and return 0,
     * or return a negative WSX_E* to fail the connection. */
    int (*client_accept)(const void *cfg, const char *resp, size_t len,
                         void **state, const wsx_allocator *a);
    /* Decode one piece of a received message whose first frame had RSV1
     * set (fin: last piece). */
    int (*decode)(void *state, const uint8_t *in, size_t len, bool fin,
                  wsx_emit_fn emit, void *ctx);
    /* Encode one piece of an outgoing message; return 1 when it was
     * encoded (RSV1 will be set), 0 to send it untransformed (only on the
     * first piece, e.g. below a size threshold), or a negative WSX_E*. */
    int (*encode)(void *state, const uint8_t *in, size_t len, bool first,
                  bool fin, wsx_emit_fn emit, void *ctx);
    void (*destroy)(void *state, const wsx_allocator *a);
} wsx_extension;

/* ------------------------------------------------------------------ */
/* 6. Connection                                                      */
/* ------------------------------------------------------------------ */

typedef struct wsx_conn wsx_conn;
typedef struct wsx_metrics wsx_metrics; /* wsx_metrics.h */

typedef enum wsx_role { WSX_SERVER = 0, WSX_CLIENT = 1 } wsx_role;

typedef enum wsx_state {
    WSX_STATE_HANDSHAKE = 0, /* opening handshake in progress */
    WSX_STATE_OPEN,          /* messages flow both ways */
    WSX_STATE_CLOSING,       /* our close frame sent, awaiting the peer's */
    WSX_STATE_CLOSED,        /* done: flush what is pending, then close */
    WSX_STATE_HTTP           /* server: a plain HTTP request held open or
                                streaming its response (wsx_http.h) */
} wsx_state;

/* Close codes (RFC 6455 §7.4.1). */
enum {
    WSX_CLOSE_NORMAL = 1000,
    WSX_CLOSE_GOING_AWAY = 1001,
    WSX_CLOSE_PROTOCOL_ERROR = 1002,
    WSX_CLOSE_UNSUPPORTED = 1003,
    WSX_CLOSE_NO_STATUS = 1005,   /* never sent: no code was received */
    WSX_CLOSE_ABNORMAL = 1006,    /* never sent: no close frame at all */
    WSX_CLOSE_INVALID_DATA = 1007,
    WSX_CLOSE_POLICY = 1008,
    WSX_CLOSE_TOO_BIG = 1009,
    WSX_CLOSE_EXTENSION = 1010,
    WSX_CLOSE_INTERNAL = 1011
};

/* A token bucket: up to `burst` units at once, refilled at `per_sec`
 * units a second. per_sec 0: unlimited. burst 0: per_sec (one second's
 * worth). A frame that costs more than the burst passes only with a full
 * bucket and leaves it in debt, so large messages pass at the average
 * rate instead of never. */
typedef struct wsx_rate {
    uint32_t per_sec;
    uint32_t burst;
} wsx_rate;

typedef enum wsx_quota_policy {
    /* Fail the connection: close 1008 with the quota's name as reason
     * ("message rate", "byte rate", "control rate"), on_close error
     * WSX_EQUOTA. For peers that have no business sending that fast. */
    WSX_QUOTA_CLOSE = 0,
    /* Stop reading until the bucket has refilled: the frame header that
     * found the bucket short is kept, the rest of the input is held (see
     * wsx_conn_paused), and wsx_conn_tick resumes it at the deadline it
     * returns. Nothing accepted is ever dropped; a transport that stops
     * reading makes TCP slow the sender down. */
    WSX_QUOTA_THROTTLE = 1
} wsx_quota_policy;

typedef struct wsx_config {
    size_t size;               /* set by wsx_config_init: ABI growth */
    wsx_role role;
    size_t max_frame_size;     /* payload bytes per frame (1009 above) */
    size_t max_message_size;   /* whole (decoded) message (1009 above);
                                  wsx assembles at most 2 GiB (a larger
                                  one fails with WSX_ENOMEM: stream it) */
    size_t max_header_size;    /* opening handshake head (431/fail above) */
    size_t high_water;         /* wsx_send refuses with WSX_EFULL while
                                  buffered > high_water; 0: never refuse */
    size_t low_water;          /* on_drain fires when a backlog falls to
                                  this */
    uint32_t handshake_timeout_ms; /* 0: none */
    uint32_t ping_interval_ms;     /* send a ping after this much silence
                                      from the peer; 0: never */
    uint32_t idle_timeout_ms;      /* fail with 1001 after this much silence
                                      from the peer; 0: never */
    uint32_t close_timeout_ms;     /* wait for the peer's close frame */
    bool streaming;            /* deliver data via on_fragment, unbuffered */
    wsx_allocator alloc;       /* defaults to malloc/realloc/free */
    wsx_client_opts client;    /* client role: the request to send */
    const wsx_extension *extension; /* NULL: no extension */
    const void *extension_config;   /* passed to the extension */
    wsx_metrics *metrics;      /* counts this config's connections
                                  (wsx_metrics.h); NULL: none */
    /* Guards against a well-formed flood (quota.c). Rates count what the
     * peer sends, on the caller's clock (see wsx_conn_clock); each is a
     * token bucket: `burst` may arrive at once, then `per_sec` on
     * average. The defaults (all 0) limit nothing. */
    wsx_rate message_rate;     /* data messages, counted at their first
                                  frame */
    wsx_rate byte_rate;        /* data payload bytes as framed on the wire
                                  (compressed, when compressed), counted
                                  at each frame's header */
    wsx_rate control_rate;     /* pings and pongs (a ping flood makes us
                                  write a pong for each) */
    uint32_t max_fragments;    /* frames per message; 0: any. Above it
                                  the connection fails with 1008 whatever
                                  the policy: it is no rate */
    wsx_quota_policy quota_policy; /* what a rate that runs out does */
    /* Server: the Origin values accepted (see wsx_origin_allowed); any
     * other is answered 403 before on_handshake runs. NULL: any origin.
     * A request without Origin (not from a browser) passes unless
     * origin_required. */
    const char *const *origins;
    bool origin_required;
    /* The code that enforces the rates, fragments and origins above:
     * set it to wsx_guards(). NULL (the default) leaves that code out of
     * the program, for firmware that counts every byte of flash;
     * wsx_conn_new refuses a config that sets a guard without it. */
    const struct wsx_guard_ops *guards;
    /* Bytes wsx_conn_new reserves for the transport layer in front of
     * the connection, in the same allocation: zeroed, aligned for any
     * pointer or uint64_t, freed with the connection, and what
     * wsx_conn_transport() returns for the connection's whole life
     * (wsx_conn_set_transport() then does nothing). The connection
     * itself starts this many bytes after the area, rounded up to a
     * multiple of 8. An event loop keeps its per-socket record there:
     * one allocation per connection instead of two, and no pointer
     * between them (wsx_loop does). 0 (the default): none. */
    size_t transport_size;
} wsx_config;

/* The guards' implementation, for wsx_config.guards. */
typedef struct wsx_guard_ops wsx_guard_ops;
WSX_API const wsx_guard_ops *wsx_guards(void);

/* Fill cfg with defaults for a role: 16 MiB frame and message limits,
 * 8 KiB header limit, high water 0 (unbounded) and low water 0, 10 s
 * handshake timeout, 5 s close timeout, no ping, no idle timeout, malloc.
 * Use the macro: it records the caller's sizeof so later versions can grow
 * the struct. */
WSX_API void wsx_config_init_(wsx_config *cfg, size_t size, wsx_role role);
#define wsx_config_init(cfg, role) wsx_config_init_((cfg), sizeof *(cfg), (role))

/* A received message (on_message) or a piece of one (on_fragment). */
typedef struct wsx_message {
    wsx_opcode opcode; /* WSX_TEXT or WSX_BINARY, on every piece */
    const uint8_t *data;
    size_t len;
    bool first;        /* first piece of the message (on_fragment) */
    bool fin;          /* last piece of the message */
} wsx_message;

typedef struct wsx_close_info {
    uint16_t code;      /* the peer's code, or 1005/1006, or ours on error */
    const char *reason; /* UTF-8, not NUL-terminated */
    size_t reason_len;
    bool clean;         /* both close frames were exchanged */
    bool remote;        /* the peer started the close */
    int error;          /* 0, or the WSX_E* that failed the connection */
    /* The opening handshake's HTTP status, 0 when none was exchanged.
     * Client: the server's answer; with error WSX_EREFUSED it is the
     * refusal (401, 403, 426, 503...), 101 when the 101 itself was
     * invalid (error WSX_EHANDSHAKE). Server: the status wsx answered a
     * refused or malformed upgrade with (400, 426, 408...), 101 after an
     * accepted one. Appended last: the struct grows only at its end. */
    uint16_t http_status;
} wsx_close_info;

/* The opening handshake as the handshake callback sees it. */
typedef struct wsx_handshake {
    const wsx_http_request *request;   /* server role */
    const wsx_http_response *response; /* client role */
} wsx_handshake;

/* What the server's handshake callback may add to its answer. */
typedef struct wsx_handshake_reply {
    const char *protocol;      /* chosen subprotocol (must be offered) */
    const char *extra_headers; /* raw "Name: value\r\n" lines, on the 101
                                  or on a refusal (WWW-Authenticate,
                                  Retry-After) */
    const void *body;          /* a refusal's body (text/plain); NULL:
                                  wsx's short default text */
    size_t body_len;           /* a refusal's head and body fit in 512
                                  bytes, or go out without the extras */
} wsx_handshake_reply;

/* on_handshake's return value for a decision made later: see
 * wsx_conn_accept. */
#define WSX_HANDSHAKE_PENDING 1

/* One piece of a gather write (wsx_callbacks.sendv, wsx_stream.h). */
typedef struct wsx_iovec {
    const void *base;
    size_t len;
} wsx_iovec;

/* Callbacks. Every one gets the connection first and `user` last; any may
 * be NULL (random only in the server role).
 *
 * The one rule for calls from inside a callback: in ANY callback of a
 * connection (send and random included) the application may call
 * wsx_conn_free or wsx_close on it, and the accessors. wsx_conn_free is
 * deferred until the outermost wsx call on the connection returns; from
 * the moment it is called no callback of that connection fires, nothing
 * more is sent, and the wsx calls still running on it return at once
 * (their result is then 0, or WSX_ECLOSED for one that did not complete).
 * wsx_close queues the close frame after everything queued before it and
 * before anything else: a frame whose masking key was being drawn when
 * random closed the connection is dropped (its call returns WSX_ECLOSED).
 * wsx_send*, wsx_ping are allowed in every callback but random; sends
 * from send go out in the same flush. wsx_conn_feed, wsx_conn_eof,
 * wsx_conn_flush, wsx_conn_tick and wsx_conn_advance must not be called
 * from a callback of the same connection.
 *
 * A call on one connection runs that connection's callbacks, whoever
 * makes it: wsx_send on B from a callback of A may find B's transport
 * gone and run B's on_close before it returns. Code that walks a list of
 * connections and sends to each must not hold on to what such an
 * on_close frees: take the connections first, then send. */
typedef struct wsx_callbacks {
    size_t size; /* set by wsx_callbacks_init */
    /* Write bytes to the transport. Return how many were taken (0..len),
     * WSX_EAGAIN when it would block (the rest stays queued: call
     * wsx_conn_flush when writable), or another negative code to fail the
     * connection with WSX_EIO. NULL: pull mode, see wsx_conn_pending. */
    long (*send)(wsx_conn *c, const uint8_t *p, size_t len, void *user);
    /* Fill buf with random bytes (masking keys, Sec-WebSocket-Key).
     * Required in the client role; return 0, or negative on failure. */
    int (*random)(wsx_conn *c, uint8_t *buf, size_t len, void *user);
    /* Server: a valid upgrade request arrived (with an allowed Origin).
     * Return 0 to accept (fill *reply to pick a subprotocol or add
     * headers), an HTTP status (400..599, e.g. 401, 403 or 429) to
     * refuse with it (*reply's extra_headers and body go with it), or
     * WSX_HANDSHAKE_PENDING to decide later with wsx_conn_accept or
     * wsx_conn_refuse (hs points into buffers that end with the call).
     * Client: the server's 101 arrived and was verified; return 0 to go
     * on, nonzero to fail the connection. */
    int (*on_handshake)(wsx_conn *c, const wsx_handshake *hs,
                        wsx_handshake_reply *reply, void *user);
    /* Server: a request that is not a WebSocket upgrade. Answer it with
     * wsx_http_respond(), or return without answering for the default
     * (426 Upgrade Required). Never called in a core built with
     * -DWSX_NO_HTTP. */
    void (*on_http)(wsx_conn *c, const wsx_http_request *req, void *user);
    void (*on_open)(wsx_conn *c, void *user);
    /* A whole message (not in streaming mode). data is valid only during
     * the call. */
    void (*on_message)(wsx_conn *c, const wsx_message *m, void *user);
    /* Streaming mode: pieces of a message as they arrive. */
    void (*on_fragment)(wsx_conn *c, const wsx_message *m, void *user);
    /* A ping arrived; the pong is already queued. */
    void (*on_ping)(wsx_conn *c, const uint8_t *p, size_t len, void *user);
    void (*on_pong)(wsx_conn *c, const uint8_t *p, size_t len, void *user);
    /* Exactly once per connection, when it is over: the close handshake
     * ended, the connection failed (handshake included: code 1006 and
     * error set), a close timed out, the transport went away, or an HTTP
     * request was answered. Pending output (our close frame) may remain:
     * flush it while wsx_conn_wants_write, then close the transport. */
    void (*on_close)(wsx_conn *c, const wsx_close_info *ci, void *user);
    /* The send queue fell to low_water after the transport pushed back. */
    void (*on_drain)(wsx_conn *c, void *user);
    /* Transport: bytes send() accepted that the transport still holds (a
     * TLS stream's ciphertext, a userspace buffer). wsx_buffered_amount,
     * the high-water mark and on_drain count them with the core's queue;
     * call wsx_conn_flush once they have gone so that on_drain can fire.
     * A pure query: it must not call into wsx. NULL: the transport holds
     * nothing (wsx_loop sets send, random and queued itself). */
    size_t (*queued)(const wsx_conn *c, void *user);
    /* Gather write, optional, used only when send is set: take the bytes
     * of iov[0..n) (n <= 3) in order, as one stream, and return as send
     * does: how many were taken from the start (0..the sum of the
     * lengths), WSX_EAGAIN, or another negative code to fail the
     * connection with WSX_EIO. wsx calls it for a data frame of at least
     * WSX_SENDV_MIN payload bytes that goes out unmasked (the server
     * role, without an extension's transform) and for wsx_send_shared:
     * what is queued, the frame header and the payload straight from the
     * caller's buffer, so that the payload is not copied into the queue;
     * only what the transport does not take is queued (and sent later
     * through send). Like send, it may run inside wsx_send and friends.
     * NULL: every byte goes through the queue (also in a core built
     * with -DWSX_NO_SENDV). wsx_loop sets it. Appended last: the struct grows only at its end. */
    long (*sendv)(wsx_conn *c, const wsx_iovec *iov, int n, void *user);
} wsx_callbacks;

/* Payload size from which a frame goes out through sendv: below it, a
 * copy into the queue costs less than a system call of its own (frames
 * queued by one event leave in one write). */
#define WSX_SENDV_MIN (16u << 10)

WSX_API void wsx_callbacks_init_(wsx_callbacks *cb, size_t size);
#define wsx_callbacks_init(cb) wsx_callbacks_init_((cb), sizeof *(cb))

/* Create a connection. cfg and cb are referenced, not copied: keep them
 * alive and unchanged until every connection using them is freed (one
 * config and one callbacks struct typically serve a whole server, which
 * keeps each connection small); that includes the strings in
 * cfg->client. Call wsx_conn_tick once right away to
 * start the handshake timer. The client role queues its
 * opening request at once (flush it when the transport is connected).
 * Returns NULL on allocation failure, invalid config, or (client) when
 * the random callback fails. */
WSX_API wsx_conn *wsx_conn_new(const wsx_config *cfg, const wsx_callbacks *cb,
                               void *user);
/* Free the connection and everything it allocated. Fires no callback.
 * Allowed inside any callback of this connection (see wsx_callbacks). */
WSX_API void wsx_conn_free(wsx_conn *c);

/* Bytes received from the transport, any split. wsx may unmask payload in
 * place, so buf is modified. Returns 0 when all was consumed, or the
 * sticky negative error that failed the connection (on_close has fired;
 * flush the close frame or HTTP error while wsx_conn_wants_write, then
 * close the transport). After a clean close, input is discarded and 0
 * returned. */
WSX_API int wsx_conn_feed(wsx_conn *c, uint8_t *buf, size_t len);

/* Reading a large frame straight into its message. While the payload of
 * a data frame is arriving (no extension's transform, on_message
 * delivery rather than streaming) and at least WSX_READ_INTO_MIN bytes of
 * it are still to come, wsx_conn_read_into sets *p to where those bytes
 * go in the connection's message buffer and *len to how many of them
 * there are (the rest of this frame, never more), and returns 1: read at
 * most *len bytes from the transport into *p, then report the count with
 * wsx_conn_feed_done, which unmasks and validates them in place and
 * delivers the message when it is complete; no copy out of a read buffer.
 * The buffer is reserved for the frame's length, which the frame's
 * header already proved within max_frame_size and max_message_size, so
 * memory stays bounded as with wsx_conn_feed. Otherwise (another kind of
 * frame, a header next, the handshake, a throttled or failed connection,
 * no memory, a call from a callback) it returns 0 with *p NULL and *len
 * 0: read into your own buffer and use wsx_conn_feed. Never fails. */
WSX_API int wsx_conn_read_into(wsx_conn *c, uint8_t **p, size_t *len);
/* n (1..*len) bytes were written at the *p of the wsx_conn_read_into
 * just before, with no other call on c in between. Returns as
 * wsx_conn_feed does; WSX_EINVAL (nothing done) when there was no such
 * region or n is larger. */
WSX_API int wsx_conn_feed_done(wsx_conn *c, size_t n);
/* The frame payload still to come from which wsx_conn_read_into offers a
 * region: below it, a system call of its own costs more than the copy it
 * saves (the rest of a frame is read together with what follows it). */
#define WSX_READ_INTO_MIN (16u << 10)
/* The transport reached end of file (the peer closed TCP): the same as
 * wsx_conn_lost(c, WSX_EPEERCLOSED). */
WSX_API void wsx_conn_eof(wsx_conn *c);
/* The transport is gone, for the reason err (a negative WSX_E* code:
 * WSX_ECONNREFUSED or WSX_ECONNTIMEOUT for a connect that failed,
 * WSX_ETLS or WSX_ETLSVERIFY from a TLS layer, WSX_EIO...; anything else
 * counts as WSX_EPEERCLOSED). Unless the connection was already closed,
 * on_close fires once with code 1006 and that error, which
 * wsx_conn_error() returns from then on; queued output is dropped, and
 * wsx_conn_done() is true. */
WSX_API void wsx_conn_lost(wsx_conn *c, int err);
/* The transport is writable: hand queued bytes to the send callback.
 * Returns 0 when the queue is empty, WSX_EAGAIN when bytes remain, or the
 * sticky error. */
WSX_API int wsx_conn_flush(wsx_conn *c);
/* Run timers at the caller's clock now_ms. Any origin is valid, 0
 * included (a firmware tick counter starting at boot), as long as the
 * clock never goes back; timers that would run past UINT64_MAX - 1 fire
 * there. Returns the next deadline in the same clock (always > now_ms),
 * or UINT64_MAX when none: call again at that time, and after input. */
WSX_API uint64_t wsx_conn_tick(wsx_conn *c, uint64_t now_ms);

/* Pull mode: the first run of queued output bytes (*p), its length as the
 * return value, 0 when nothing is queued. Consume with wsx_conn_advance. */
WSX_API size_t wsx_conn_pending(wsx_conn *c, const uint8_t **p);
WSX_API void wsx_conn_advance(wsx_conn *c, size_t n);

WSX_API wsx_state wsx_conn_state(const wsx_conn *c);
/* True while output is queued: arm writability only then. */
WSX_API bool wsx_conn_wants_write(const wsx_conn *c);
/* True when the connection is over and its output flushed: close the
 * transport and free the connection. */
WSX_API bool wsx_conn_done(const wsx_conn *c);
WSX_API void *wsx_conn_user(const wsx_conn *c);
WSX_API void wsx_conn_set_user(wsx_conn *c, void *user);
/* A second pointer, for the transport layer (an event-loop adapter keeps
 * its socket state here), so that the send and random callbacks find it
 * without a lookup while `user` stays the application's. NULL until set;
 * with wsx_config.transport_size, always the reserved area (setting it
 * does nothing). */
WSX_API void *wsx_conn_transport(const wsx_conn *c);
WSX_API void wsx_conn_set_transport(wsx_conn *c, void *transport);
/* The subprotocol agreed in the handshake, or NULL. */
WSX_API const char *wsx_conn_protocol(const wsx_conn *c);
/* The sticky error that failed the connection, or 0. */
WSX_API int wsx_conn_error(const wsx_conn *c);
/* The opening handshake's HTTP status, as wsx_close_info.http_status
 * reports it: 0 while none was exchanged, 101 once accepted. Client: the
 * server's answer; a refusal (401, 403, 426, 503...) fails the connection
 * with WSX_EREFUSED. Server: the error status it answered (400, 403 from
 * on_handshake, 426, 431...). */
WSX_API int wsx_conn_http_status(const wsx_conn *c);

/* Server, after on_handshake returned WSX_HANDSHAKE_PENDING: accept
 * the upgrade (reply may be NULL; its strings are used during the call
 * only), which answers 101 and fires on_open. The handshake timeout
 * still runs while a decision is pending (it answers 408), and input
 * that arrives meanwhile fails the handshake with 400 (RFC 6455 §4.1: a
 * client waits for the 101). Not from a callback of this connection.
 * Returns 0; the sticky error of a connection that already ended
 * (WSX_ETIMEOUT when the timeout answered first, WSX_EHANDSHAKE after a
 * refusal, or the error the answer itself met); WSX_ESTATE when no
 * decision is pending. */
WSX_API int wsx_conn_accept(wsx_conn *c, const wsx_handshake_reply *reply);
/* Server, at any time before the upgrade is answered (a pending
 * decision, or before the request has arrived: a transport refusing a
 * peer over its limits): answer status (400..599) with reply's extra
 * headers and body (reply may be NULL) and end the connection
 * (on_close: 1006, error WSX_EHANDSHAKE, http_status = status).
 * Returns 0 once the refusal is queued, WSX_EINVAL for a status outside
 * 400..599, WSX_ESTATE after the handshake, or the sticky error of a
 * connection that already ended. Not from a callback of this
 * connection. */
WSX_API int wsx_conn_refuse(wsx_conn *c, int status,
                            const wsx_handshake_reply *reply);

/* The caller's clock for the quotas, without running timers: call it
 * before wsx_conn_feed with the same clock as wsx_conn_tick (the loop
 * does, at every read). Rates refill from the latest of the two. */
WSX_API void wsx_conn_clock(wsx_conn *c, uint64_t now_ms);
/* True while a throttled connection holds input (WSX_QUOTA_THROTTLE):
 * stop reading the transport; wsx_conn_tick resumes the input at the
 * deadline it returns. Bytes fed meanwhile are held too, in order. */
WSX_API bool wsx_conn_paused(const wsx_conn *c);

/* How often each guard tripped on a connection: a trip is a frame that
 * found its bucket short (one close, or one pause), or a message over
 * max_fragments. For metrics; never reset. */
typedef struct wsx_quota_trips {
    uint32_t message_rate, byte_rate, control_rate, fragments;
} wsx_quota_trips;
/* Fill *t (all zero when no guard is configured). */
WSX_API void wsx_conn_quota_trips(const wsx_conn *c, wsx_quota_trips *t);

/* Queue a whole message (WSX_TEXT or WSX_BINARY). Text is not validated
 * on send: the caller vouches for it. Returns 0, WSX_ESTATE before open,
 * WSX_ECLOSED after a close was sent or received, WSX_EFULL above the
 * high-water mark (nothing queued), WSX_ENOMEM, WSX_EINVAL. */
WSX_API int wsx_send(wsx_conn *c, wsx_opcode op, const void *data, size_t len);
/* Streaming send: the first call names the opcode (TEXT/BINARY); later
 * calls may pass any opcode (ignored); fin ends the message. Returns as
 * wsx_send; WSX_ESTATE if a whole-message send is attempted mid-stream. */
WSX_API int wsx_send_fragment(wsx_conn *c, wsx_opcode op, const void *data,
                              size_t len, bool fin);
/* Queue a ping (payload at most 125 bytes, else WSX_EINVAL). */
WSX_API int wsx_ping(wsx_conn *c, const void *data, size_t len);
/* Start the close handshake: code 1000..4999 except reserved (or 0 for
 * no code), reason at most 123 bytes of UTF-8. Returns 0, WSX_EINVAL,
 * WSX_ECLOSED when already closing. */
WSX_API int wsx_close(wsx_conn *c, uint16_t code, const char *reason);
/* Bytes queued and not yet on the wire as far as wsx knows: the core's
 * queue plus what the transport's queued callback reports. */
WSX_API size_t wsx_buffered_amount(const wsx_conn *c);

/* Server: answer a non-upgrade request from on_http (or later, when
 * on_http held it: wsx_http.h) with a complete HTTP response; the
 * connection then closes once it is flushed. */
WSX_API int wsx_http_respond(wsx_conn *c, int status, const char *content_type,
                             const char *extra_headers, const void *body,
                             size_t len);

/* Encode once, send many: a message framed once (unmasked, as a server
 * sends it) and then queued on any number of connections with one memcpy
 * each: no framing, no masking, no compression per receiver. A connection
 * that must transform the message (client role masks, a negotiated
 * extension compresses) sends its payload through wsx_send instead.
 * a may be NULL for malloc. Returns NULL on allocation failure. */
typedef struct wsx_shared wsx_shared;
WSX_API wsx_shared *wsx_shared_new(const wsx_allocator *a, wsx_opcode op,
                                   const void *data, size_t len);
/* Queue s on c; returns as wsx_send. s may be freed right after. */
WSX_API int wsx_send_shared(wsx_conn *c, const wsx_shared *s);
WSX_API void wsx_shared_free(wsx_shared *s);

/* Close codes a peer may send (RFC 6455 §7.4): 1000-1003, 1007-1014,
 * 3000-4999. */
WSX_API bool wsx_close_code_valid(uint16_t code);

#ifdef __cplusplus
}
#endif
#endif /* WSX_H */
