/* wsx_http.h - plain HTTP requests that outlive on_http: request bodies,
 * answers given later (long polling), responses written piece by piece
 * (Server-Sent Events, any streaming endpoint), on the same connection
 * object, output queue and timers as a WebSocket (wsx.h), so the loop
 * (wsx_loop.h) drives them with no extra bookkeeping.
 *
 * Life of a request that is not an upgrade (server role, on_http set):
 *
 *   head read ──> body read (Content-Length, at most max_message_size)
 *            └──────────┴──> on_http(c, req)
 *                               │ wsx_http_respond ──────────> CLOSED
 *                               │ (nothing) ────── 426 ──────> CLOSED
 *                               │ wsx_http_hold ──> HTTP, held
 *                               │ wsx_http_stream_begin ──> HTTP, streaming
 *   held:      wsx_http_respond or wsx_http_stream_begin later (from any
 *              callback of the loop: a timer, another connection's event)
 *   streaming: wsx_http_stream_write*, then wsx_http_stream_end ──> CLOSED
 *
 * While held or streaming, wsx_conn_state() is WSX_STATE_HTTP. The peer
 * going away, the idle timeout, or a failure end the exchange with
 * on_close (code 1006 and the error, as for a WebSocket); an answered or
 * ended exchange reports code 1000, clean. wsx answers one request per
 * connection and closes it after the response ("Connection: close"), so
 * a streamed body needs no chunked framing: the close delimits it (RFC
 * 9112 §6.3 rule 8).
 *
 * The config's limits apply as for WebSocket connections:
 * - max_message_size bounds a request body: a larger Content-Length is
 *   answered 413 before a byte of the body is read; a body sent with
 *   Transfer-Encoding (no length known in advance) is answered 411.
 * - handshake_timeout_ms bounds head and body together (slow senders).
 * - high_water: wsx_http_stream_write refuses with WSX_EFULL above it,
 *   on_drain fires when the queue falls to low_water: the same
 *   backpressure as wsx_send.
 * - idle_timeout_ms counts our own silence while held or streaming (the
 *   peer says nothing after its request): no output queued for that long
 *   ends the exchange with WSX_ETIMEOUT (a held request is answered 408).
 *   A heartbeat counts as output.
 */
#ifndef WSX_HTTP_H
#define WSX_HTTP_H

#include "wsx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the request ---------------------------------------------------- */

/* The request body, valid only inside on_http (copy what must last):
 * its length in *len and a pointer to it, or NULL with *len 0 when the
 * request has none or outside on_http. */
WSX_API const uint8_t *wsx_http_body(const wsx_conn *c, size_t *len);

/* ---- answering later ------------------------------------------------ */

/* From on_http: keep the request open without answering yet; answer it
 * later with wsx_http_respond or wsx_http_stream_begin, on the loop's
 * thread. The request's strings and body die with on_http: copy what
 * the answer needs. Returns 0, or WSX_ESTATE outside on_http. */
WSX_API int wsx_http_hold(wsx_conn *c);

/* ---- streaming a response ------------------------------------------- */

/* Send the response head now (status, optional Content-Type and raw
 * "Name: value\r\n" extra_headers, Connection: close, no length) and keep
 * the connection open for the body. From on_http or on a held request.
 * Returns 0, WSX_ESTATE when there is no request to answer, WSX_EINVAL
 * for a status outside 100..999 or a control character in content_type,
 * WSX_ENOMEM. */
WSX_API int wsx_http_stream_begin(wsx_conn *c, int status,
                                  const char *content_type,
                                  const char *extra_headers);
/* Queue len bytes of body. Returns 0, WSX_ESTATE before
 * wsx_http_stream_begin, WSX_ECLOSED once ended or failed, WSX_EFULL
 * above high_water (nothing queued: wait for on_drain, skip, or end the
 * stream), WSX_ENOMEM. */
WSX_API int wsx_http_stream_write(wsx_conn *c, const void *data, size_t len);
/* Keep idle intermediaries (proxies that cut a silent response after a
 * minute or so) and our own idle_timeout_ms from ending a stream: after
 * interval_ms without output, queue the len bytes at beat (not copied:
 * they must outlive the stream, e.g. a string literal). interval_ms 0
 * turns the heartbeat off. Returns 0 or WSX_ESTATE when not streaming. */
WSX_API int wsx_http_stream_heartbeat(wsx_conn *c, uint32_t interval_ms,
                                      const void *beat, size_t len);
/* End the response: the connection closes once what is queued is
 * written (on_close: 1000, clean). A held request that was never
 * answered gets 503. Returns 0 or WSX_ESTATE when not held or streaming
 * (nothing to end). */
WSX_API int wsx_http_stream_end(wsx_conn *c);

/* ---- Server-Sent Events (HTML Living Standard §9.2) ----------------- */

/* Start an event stream: 200, "Content-Type: text/event-stream",
 * "Cache-Control: no-store", extra_headers (may be NULL), and a comment
 * line every heartbeat_ms of silence (0: none). As
 * wsx_http_stream_begin otherwise. */
WSX_API int wsx_sse_begin(wsx_conn *c, uint32_t heartbeat_ms,
                          const char *extra_headers);
/* Queue one event: "id:" when id is not NULL, "event:" when event is not
 * NULL, then data as "data:" lines: the spec's line ends (CRLF, LF, CR)
 * split it into several, which the client joins with LF again; empty
 * data is one empty "data:" line. The browser keeps id and sends it back
 * as Last-Event-ID when it reconnects.
 * Returns 0, WSX_EINVAL for an id or event holding CR, LF or NUL,
 * WSX_ESTATE / WSX_ECLOSED as wsx_http_stream_write, or WSX_EFULL: the
 * client fell more than high_water behind, and an event stream cannot
 * skip events, so the stream has been dropped (on_close 1006 with
 * WSX_EFULL, its queue freed at once): the client reconnects and resumes
 * from its Last-Event-ID. */
WSX_API int wsx_sse_send(wsx_conn *c, const char *id, const char *event,
                         const void *data, size_t len);
/* The Last-Event-ID a reconnecting client sent (*len set), or NULL. */
WSX_API const char *wsx_sse_last_event_id(const wsx_http_request *req,
                                          size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* WSX_HTTP_H */
