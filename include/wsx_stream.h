/* wsx_stream.h - the byte stream between a socket and a wsx connection.
 *
 * wsx_loop moves a connection's bytes through a wsx_stream_ops table:
 * plain TCP (wsx_stream_tcp) unless the listen or connect options name
 * another one, such as a TLS layer. A stream implementation never sees
 * the loop or the core: it gets a connected non-blocking file descriptor
 * and is asked to read plaintext, take plaintext to write, push out what
 * it holds, and say what it needs from the socket. That is also all a
 * foreign loop (libuv, a firmware scheduler) needs to drive one: call
 * read when the fd is readable, flush when writable, watch the fd for
 * wants() | (your own output pending ? write : 0), and count queued()
 * as part of the connection's backlog.
 *
 * The contract, for implementers:
 * - Every call is non-blocking and made on the loop's thread.
 * - Return codes: a count (>= 0), WSX_EAGAIN (the socket must become
 *   ready first; wants() says which way), or another negative WSX_E*
 *   code, which ends the connection through wsx_conn_lost: on_close
 *   1006 with that code as its error (WSX_EPEERCLOSED for a reset peer,
 *   WSX_ETLSVERIFY for a certificate that does not verify, ...); details
 *   beyond the code stay in the stream's own API.
 * - The stream's own handshake (TLS) happens inside read/flush, driven by
 *   wants(): the core's opening-handshake timeout (wsx_config) runs from
 *   the moment the connection exists, so it bounds the stream's handshake
 *   too.
 * - writev may be called before the stream's handshake is done: take the
 *   bytes into the stream's queue (and count them in queued()) rather
 *   than return WSX_EAGAIN while the socket is writable, or the loop
 *   would wait for writability that is already there.
 * - read may hold input it already took from the socket (a decrypted
 *   record larger than len): wants() then includes WSX_STREAM_INPUT and
 *   the loop calls read again without waiting for the socket.
 */
#ifndef WSX_STREAM_H
#define WSX_STREAM_H

#include "wsx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What wants() reports; the first two equal WSX_WATCH_READ/WRITE. */
enum {
    WSX_STREAM_READ = 1u,  /* needs the socket readable */
    WSX_STREAM_WRITE = 2u, /* needs the socket writable (queued output,
                              or a handshake message to send) */
    WSX_STREAM_INPUT = 4u  /* holds input: call read without waiting */
};

typedef struct wsx_stream_ops {
    const char *name;
    /* A stream over fd (connected, or with a connect in flight for a
     * client). ctx: the context pointer given with the ops in the
     * options; server_name: the URL's host for a client (SNI and
     * certificate checks), NULL for a server. Stores the stream's state
     * in *st (may be NULL for a stateless stream). Returns 0 or a
     * negative WSX_E* code. The fd stays owned by the caller. */
    int (*open)(void *ctx, int fd, bool client, const char *server_name,
                void **st);
    /* Up to len bytes of input into buf: the count (> 0), 0 at end of
     * stream, WSX_EAGAIN, or an error. */
    long (*read)(void *st, int fd, uint8_t *buf, size_t len);
    /* Take bytes to send, in order: how many were taken (possibly fewer
     * than offered; bytes the stream queues count as taken), WSX_EAGAIN,
     * or an error. */
    long (*writev)(void *st, int fd, const wsx_iovec *iov, int n);
    /* Push out what the stream queued: 0 when nothing is left,
     * WSX_EAGAIN, or an error. */
    int (*flush)(void *st, int fd);
    /* End the sending side after the last write (TLS close_notify), best
     * effort, never blocking. */
    void (*shutdown)(void *st, int fd);
    /* Bytes taken by writev and not yet written to the socket: counted in
     * the loop's read pause and drain. */
    size_t (*queued)(const void *st);
    /* WSX_STREAM_* the stream needs now, beyond the connection's own
     * traffic (which the caller watches for anyway). */
    unsigned (*wants)(const void *st);
    /* Free the state; the fd is closed by the caller afterwards. */
    void (*close)(void *st);
} wsx_stream_ops;

/* Plain TCP: stateless, send()/recv()/sendmsg() straight on the fd. */
WSX_API extern const wsx_stream_ops wsx_stream_tcp;

#ifdef __cplusplus
}
#endif
#endif /* WSX_STREAM_H */
