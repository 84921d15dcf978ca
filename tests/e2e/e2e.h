/* e2e.h - helpers shared by the end-to-end tests: a server loop on its own
 * thread on an ephemeral loopback port, and a raw blocking client that
 * writes exactly the bytes a test wants (half requests, half frames). */
#ifndef WSX_E2E_H
#define WSX_E2E_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "wsx_loop.h"

/* ---- a server loop on a thread --------------------------------------- */

typedef struct e2e_server {
    wsx_loop *loop;
    pthread_t thread;
    int port;
    wsx_config cfg;
    wsx_callbacks cb;
} e2e_server;

static inline void *e2e_server_main(void *arg)
{
    e2e_server *s = arg;
    wsx_loop_run(s->loop);
    return NULL;
}

/* cfg and cb must be filled by the caller (s->cfg, s->cb); opts may be
 * NULL. Returns 0 with s->port set. */
static inline int e2e_server_start(e2e_server *s, const wsx_loop_opts *opts,
                            const char *host)
{
    wsx_listen_opts o;
    wsx_listen_opts_init(&o);
    o.host = host ? host : "127.0.0.1";
    o.config = &s->cfg;
    o.callbacks = &s->cb;
    s->loop = wsx_loop_new(opts);
    if (!s->loop)
        return -1;
    s->port = wsx_loop_listen(s->loop, &o);
    if (s->port <= 0)
        return -1;
    return pthread_create(&s->thread, NULL, e2e_server_main, s);
}

static inline void e2e_shutdown_fn(wsx_loop *l, void *arg)
{
    (void)arg;
    wsx_loop_shutdown(l);
}

/* Graceful shutdown from this thread through wsx_loop_post. */
static inline void e2e_server_stop(e2e_server *s)
{
    wsx_loop_post(s->loop, e2e_shutdown_fn, NULL);
    pthread_join(s->thread, NULL);
    wsx_loop_free(s->loop);
}

static inline void e2e_count_fn(wsx_loop *l, void *arg)
{
    int fd = *(int *)arg;
    size_t n = wsx_loop_conn_count(l);
    if (write(fd, &n, sizeof n) != (ssize_t)sizeof n)
        abort();
}

/* The server's connection count, asked on its own thread. */
static inline size_t e2e_server_conns(e2e_server *s)
{
    int fds[2];
    size_t n = (size_t)-1;
    if (pipe(fds) < 0)
        abort();
    wsx_loop_post(s->loop, e2e_count_fn, &fds[1]);
    if (read(fds[0], &n, sizeof n) != (ssize_t)sizeof n)
        n = (size_t)-1;
    close(fds[0]);
    close(fds[1]);
    return n;
}

/* Poll until the server holds `want` connections; false after limit_ms. */
static inline bool e2e_wait_conns(e2e_server *s, size_t want, int limit_ms)
{
    for (int waited = 0; waited <= limit_ms; waited += 10) {
        if (e2e_server_conns(s) == want)
            return true;
        usleep(10 * 1000);
    }
    return false;
}

static inline uint64_t e2e_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Kill a hung test instead of hanging CI; valgrind runs slower. */
static inline void e2e_watchdog(unsigned seconds)
{
    alarm(getenv("WSX_VALGRIND") ? seconds * 10 : seconds);
}

static inline void e2e_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* ---- a raw client ------------------------------------------------------ */

static inline int raw_connect(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {10, 0};
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static const char raw_request[] =
    "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

static inline int raw_write(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Send the request and read the response head; returns the status. */
static inline int raw_handshake(int fd)
{
    char head[1024];
    size_t got = 0;
    if (raw_write(fd, raw_request, sizeof raw_request - 1) < 0)
        return -1;
    while (got < sizeof head - 1) {
        ssize_t r = recv(fd, head + got, 1, 0);
        if (r <= 0)
            return -1;
        got++;
        head[got] = '\0';
        if (got >= 4 && !memcmp(head + got - 4, "\r\n\r\n", 4))
            return atoi(head + 9);
    }
    return -1;
}

/* A masked client frame (RFC 6455 §5.3). */
static inline int raw_send_frame(int fd, uint8_t op, const void *p, size_t n, bool fin)
{
    wsx_frame_header h;
    uint8_t hb[WSX_FRAME_HEADER_MAX];
    memset(&h, 0, sizeof h);
    h.fin = fin;
    h.opcode = op;
    h.masked = true;
    memcpy(h.mask, "\x12\x34\x56\x78", 4);
    h.length = n;
    size_t hl = wsx_frame_build(hb, &h);
    uint8_t *body = malloc(n ? n : 1);
    if (n)
        memcpy(body, p, n);
    wsx_mask(body, n, h.mask, 0);
    int r = raw_write(fd, hb, hl) < 0 || raw_write(fd, body, n) < 0 ? -1 : 0;
    free(body);
    return r;
}

static inline int raw_read_full(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n) {
        ssize_t r = recv(fd, b, n, 0);
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Read one server frame; the payload (at most cap bytes are kept) goes to
 * buf. Returns the payload length or -1. */
static inline long raw_read_frame(int fd, wsx_frame_header *h, uint8_t *buf, size_t cap)
{
    uint8_t hb[WSX_FRAME_HEADER_MAX];
    size_t have = 0;
    int r;
    while ((r = wsx_frame_parse(h, hb, have)) == 0) {
        if (have == sizeof hb || raw_read_full(fd, hb + have, 1) < 0)
            return -1;
        have++;
    }
    if (r < 0 || h->length > cap)
        return -1;
    if (raw_read_full(fd, buf, (size_t)h->length) < 0)
        return -1;
    return (long)h->length;
}

/* Milliseconds until the server closes the connection (data is
 * discarded), or -1 when it stays open past limit_ms. */
static inline long raw_wait_eof(int fd, int limit_ms)
{
    uint64_t t0 = e2e_ms();
    char buf[4096];
    for (;;) {
        long left = (long)limit_ms - (long)(e2e_ms() - t0);
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return -1;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            return (long)(e2e_ms() - t0);
    }
}

#endif
