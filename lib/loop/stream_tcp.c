/* stream_tcp.c - the plain TCP stream (wsx_stream.h): no state and no
 * queue of its own; reads with recv, gathers writes into one sendmsg. */
#include "loop_internal.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SO_NOSIGPIPE is set instead (net.c) */
#endif

#define WSX_TCP_IOV_MAX 16

static int tcp_open(void *ctx, int fd, bool client, const char *server_name,
                    void **st)
{
    (void)ctx;
    (void)fd;
    (void)client;
    (void)server_name;
    *st = NULL;
    return 0;
}

/* A failed system call as the stream contract words it: 0 to retry
 * (EINTR), WSX_EAGAIN, WSX_EPEERCLOSED for a peer that reset the
 * connection, WSX_EIO for the rest. */
static long tcp_failure(void)
{
    if (errno == EINTR)
        return 0;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return WSX_EAGAIN;
    return errno == ECONNRESET || errno == EPIPE ? WSX_EPEERCLOSED : WSX_EIO;
}

static long tcp_read(void *st, int fd, uint8_t *buf, size_t len)
{
    (void)st;
    for (;;) {
        ssize_t n = recv(fd, buf, len, 0);
        long e = n >= 0 ? (long)n : tcp_failure();
        if (n >= 0 || e)
            return e;
    }
}

static long tcp_writev(void *st, int fd, const wsx_iovec *iov, int n)
{
    (void)st;
    if (n == 1) { /* the queue alone (most writes): no vector to build */
        for (;;) {
            ssize_t r = send(fd, iov->base, iov->len, MSG_NOSIGNAL);
            long e = r >= 0 ? (long)r : tcp_failure();
            if (r >= 0 || e)
                return e;
        }
    }
    struct iovec v[WSX_TCP_IOV_MAX];
    if (n > WSX_TCP_IOV_MAX)
        n = WSX_TCP_IOV_MAX;
    for (int i = 0; i < n; i++) {
        v[i].iov_base = (void *)(uintptr_t)iov[i].base;
        v[i].iov_len = iov[i].len;
    }
    struct msghdr m = {0};
    m.msg_iov = v;
    m.msg_iovlen = (size_t)n;
    for (;;) {
        ssize_t r = sendmsg(fd, &m, MSG_NOSIGNAL);
        long e = r >= 0 ? (long)r : tcp_failure();
        if (r >= 0 || e)
            return e;
    }
}

static int tcp_flush(void *st, int fd)
{
    (void)st;
    (void)fd;
    return 0;
}

static void tcp_shutdown(void *st, int fd)
{
    (void)st;
    (void)fd; /* close() sends the FIN */
}

static size_t tcp_queued(const void *st)
{
    (void)st;
    return 0;
}

static unsigned tcp_wants(const void *st)
{
    (void)st;
    return 0;
}

static void tcp_close(void *st)
{
    (void)st;
}

const wsx_stream_ops wsx_stream_tcp = {
    "tcp",      tcp_open,   tcp_read,  tcp_writev, tcp_flush,
    tcp_shutdown, tcp_queued, tcp_wants, tcp_close,
};
