/* echo_wslay - the wslay (Debian libwslay-dev) peer of the benchmark table:
 * a single-threaded, level-triggered epoll echo server in the shape of
 * wslay's own example. wslay has no HTTP layer, so the RFC 6455 §4.2
 * opening handshake is parsed here (accept key with nettle, as wslay's
 * example does). Usage: echo_wslay [--port N] [--host ADDR] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#define HEAD_MAX 8192

/* The handshake's buffers live only during the handshake, so an idle
 * connection costs this struct plus wslay's own context. */
typedef struct handshake {
    char head[HEAD_MAX];
    size_t head_len, resp_off, resp_len;
    char resp[256];
} handshake;

typedef struct peer {
    int fd;
    uint32_t events;            /* epoll interest now registered */
    handshake *hs;              /* during the handshake */
    wslay_event_context_ptr ws; /* after it */
} peer;

static int ep;

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
                       int flags, void *user)
{
    peer *p = user;
    (void)flags;
    ssize_t n;
    while ((n = recv(p->fd, buf, len, 0)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        wslay_event_set_error(ctx, errno == EAGAIN || errno == EWOULDBLOCK
                                       ? WSLAY_ERR_WOULDBLOCK
                                       : WSLAY_ERR_CALLBACK_FAILURE);
    else if (n == 0)
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return n > 0 ? n : -1;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data,
                       size_t len, int flags, void *user)
{
    peer *p = user;
    (void)flags;
    ssize_t n;
    while ((n = send(p->fd, data, len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        wslay_event_set_error(ctx, errno == EAGAIN || errno == EWOULDBLOCK
                                       ? WSLAY_ERR_WOULDBLOCK
                                       : WSLAY_ERR_CALLBACK_FAILURE);
    return n;
}

static void on_msg(wslay_event_context_ptr ctx,
                   const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
    (void)user;
    if (wslay_is_ctrl_frame(arg->opcode))
        return; /* wslay answers ping and close itself */
    struct wslay_event_msg m = {arg->opcode, arg->msg, arg->msg_length};
    wslay_event_queue_msg(ctx, &m);
}

static const struct wslay_event_callbacks callbacks = {
    recv_cb, send_cb, NULL, NULL, NULL, NULL, on_msg};

static void drop(peer *p)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, p->fd, NULL);
    close(p->fd);
    if (p->ws)
        wslay_event_context_free(p->ws);
    free(p->hs);
    free(p);
}

static void interest(peer *p, uint32_t ev)
{
    if (ev == p->events)
        return;
    struct epoll_event e = {.events = ev, .data.ptr = p};
    epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &e);
    p->events = ev;
}

/* RFC 6455 §4.2.2: Sec-WebSocket-Accept = base64(SHA-1(key + GUID)). */
static int build_accept(handshake *h)
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    const char *k = NULL;
    for (char *line = strstr(h->head, "\r\n"); line; line = strstr(line + 2, "\r\n"))
        if (!strncasecmp(line + 2, "Sec-WebSocket-Key:", 18)) {
            k = line + 20;
            break;
        }
    if (!k)
        return -1;
    while (*k == ' ')
        k++;
    size_t klen = strcspn(k, " \r\n");
    struct sha1_ctx s;
    uint8_t digest[SHA1_DIGEST_SIZE];
    char acc[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1];
    sha1_init(&s);
    sha1_update(&s, klen, (const uint8_t *)k);
    sha1_update(&s, sizeof guid - 1, (const uint8_t *)guid);
    sha1_digest(&s, sizeof digest, digest);
    base64_encode_raw(acc, sizeof digest, digest);
    acc[sizeof acc - 1] = '\0';
    h->resp_len = (size_t)snprintf(h->resp, sizeof h->resp,
                                   "HTTP/1.1 101 Switching Protocols\r\n"
                                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                   "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
    return 0;
}

/* The handshake: gather the head, answer 101, then hand over to wslay
 * (a client sends no frame before it has read the 101). */
static int do_handshake(peer *p, uint32_t events)
{
    handshake *h = p->hs;
    if (!h->resp_len && (events & EPOLLIN)) {
        ssize_t n = recv(p->fd, h->head + h->head_len, HEAD_MAX - 1 - h->head_len, 0);
        if (n <= 0)
            return n < 0 && errno == EAGAIN ? 0 : -1;
        h->head_len += (size_t)n;
        h->head[h->head_len] = '\0';
        if (!strstr(h->head, "\r\n\r\n"))
            return h->head_len < HEAD_MAX - 1 ? 0 : -1;
        if (build_accept(h) < 0)
            return -1;
    }
    while (h->resp_off < h->resp_len) {
        ssize_t n = send(p->fd, h->resp + h->resp_off, h->resp_len - h->resp_off,
                         MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN)
                return -1;
            interest(p, EPOLLOUT);
            return 0;
        }
        h->resp_off += (size_t)n;
    }
    if (!h->resp_len)
        return 0;
    if (wslay_event_context_server_init(&p->ws, &callbacks, p) != 0)
        return -1;
    free(p->hs);
    p->hs = NULL;
    interest(p, EPOLLIN);
    return 0;
}

static void on_event(peer *p, uint32_t events)
{
    if (!p->ws) {
        if (do_handshake(p, events) < 0)
            drop(p);
        return;
    }
    if (((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && wslay_event_recv(p->ws) != 0) ||
        ((events & EPOLLOUT) && wslay_event_send(p->ws) != 0)) {
        drop(p);
        return;
    }
    /* Echoes queued while reading leave at once, in one pass. */
    if (wslay_event_want_write(p->ws) && wslay_event_send(p->ws) != 0) {
        drop(p);
        return;
    }
    if (!wslay_event_want_read(p->ws) && !wslay_event_want_write(p->ws)) {
        drop(p);
        return;
    }
    interest(p, (wslay_event_want_read(p->ws) ? EPOLLIN : 0u) |
                    (wslay_event_want_write(p->ws) ? EPOLLOUT : 0u));
}

static void accept_all(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        peer *p = calloc(1, sizeof *p);
        if (p && !(p->hs = calloc(1, sizeof *p->hs))) {
            free(p);
            p = NULL;
        }
        if (!p) {
            close(fd);
            continue;
        }
        p->fd = fd;
        p->events = EPOLLIN;
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = p};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
    }
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    int port = 9002;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port"))
            port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--host"))
            host = argv[i + 1];
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
        bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 511) < 0) {
        perror("echo_wslay: listen");
        return 1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event le = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &le);
    fprintf(stderr, "echo_wslay: listening on %s port %d\n", host, port);
    struct epoll_event ev[128];
    for (;;) {
        int n = epoll_wait(ep, ev, 128, -1);
        for (int i = 0; i < n; i++) {
            if (!ev[i].data.ptr)
                accept_all(lfd);
            else
                on_event(ev[i].data.ptr, ev[i].events);
        }
    }
}
