/* libuv_tls_echo - a wss:// echo server in someone else's event loop:
 * libuv polls the sockets and runs the timers, the TLS layer
 * (wsx_stream_tls) turns ciphertext into what the core reads and back,
 * driven the way wsx_stream.h tells any foreign loop to: read when the
 * socket is readable, flush when it is writable, poll for what wants()
 * asks, and count queued() as output still to go. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "common/cli.h"
#include "common/tls.h"
#include "wsx.h"

#define READS_PER_EVENT 4 /* one client cannot hold the loop */
#define LINGER_MS 5000    /* a closed connection's last bytes get this long */

typedef struct client {
    uv_poll_t poll;
    uv_timer_t timer;
    int fd;
    void *st; /* the TLS stream's state */
    wsx_conn *conn;
    struct client *prev, *next; /* every client, for the shutdown */
    int handles; /* libuv handles still open; freed at 0 */
    bool ending, lingering;
} client;

static uv_loop_t *loop;
static uv_poll_t server;
static int server_fd;
static uv_signal_t sigint, sigterm;
static wsx_config cfg;
static wsx_callbacks cb;
static wsx_tls *tls;
static client *clients;
static uint8_t rbuf[64 * 1024]; /* one read buffer for every connection */

static void settle(client *k);

/* The core's output goes into the stream, which says how much it took. */
static long on_send(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    client *k = wsx_conn_transport(c);
    (void)user;
    wsx_iovec v = {p, len};
    long n = wsx_stream_tls.writev(k->st, k->fd, &v, 1);
    return n >= 0 || n == WSX_EAGAIN ? n : WSX_EIO;
}

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    wsx_send(c, m->opcode, m->data, m->len);
}

static void on_closed(uv_handle_t *h)
{
    client *k = h->data;
    if (--k->handles)
        return;
    wsx_stream_tls.close(k->st);
    close(k->fd);
    wsx_conn_free(k->conn);
    free(k);
}

static void end(client *k)
{
    k->ending = true;
    if (k->prev)
        k->prev->next = k->next;
    else
        clients = k->next;
    if (k->next)
        k->next->prev = k->prev;
    wsx_stream_tls.shutdown(k->st, k->fd); /* close_notify, best effort */
    uv_close((uv_handle_t *)&k->poll, on_closed);
    uv_close((uv_handle_t *)&k->timer, on_closed);
}

/* A failure of the stream (WSX_ETLS, a reset...) ends the connection
 * with that reason: on_close 1006. */
static void read_some(client *k)
{
    for (int i = 0; i < READS_PER_EVENT; i++) {
        long n = wsx_stream_tls.read(k->st, k->fd, rbuf, sizeof rbuf);
        if (n == WSX_EAGAIN)
            return;
        if (n <= 0) {
            wsx_conn_lost(k->conn, n ? (int)n : WSX_EPEERCLOSED);
            return;
        }
        if (wsx_conn_feed(k->conn, rbuf, (size_t)n) < 0)
            return;
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    client *k = p->data;
    if (status < 0)
        wsx_conn_lost(k->conn, WSX_EPEERCLOSED);
    else if (events & UV_READABLE)
        read_some(k);
    settle(k);
}

static void on_timer(uv_timer_t *t)
{
    client *k = t->data;
    if (k->lingering) {
        end(k);
        return;
    }
    if (wsx_stream_tls.wants(k->st) & WSX_STREAM_INPUT)
        read_some(k);
    settle(k);
}

/* After every event: run the core's timers, move its output through the
 * stream, then end or poll for what is needed next. */
static void settle(client *k)
{
    uint64_t now = uv_now(loop), next = wsx_conn_tick(k->conn, now);
    if (k->ending)
        return;
    wsx_conn_flush(k->conn);
    if (wsx_stream_tls.queued(k->st)) {
        int f = wsx_stream_tls.flush(k->st, k->fd);
        if (f < 0 && f != WSX_EAGAIN)
            wsx_conn_lost(k->conn, f);
    }
    bool out = wsx_stream_tls.queued(k->st) || wsx_conn_wants_write(k->conn);
    if (wsx_conn_done(k->conn)) {
        if (!out) {
            end(k);
        } else if (!k->lingering) {
            k->lingering = true;
            uv_poll_start(&k->poll, UV_WRITABLE, on_poll);
            uv_timer_start(&k->timer, on_timer, LINGER_MS, 0);
        }
        return;
    }
    unsigned w = wsx_stream_tls.wants(k->st);
    uv_poll_start(&k->poll, UV_READABLE | (out || (w & WSX_STREAM_WRITE) ? UV_WRITABLE : 0),
                  on_poll);
    if (w & WSX_STREAM_INPUT) /* decrypted input waits: come back at once */
        next = now;
    if (next != UINT64_MAX)
        uv_timer_start(&k->timer, on_timer, next > now ? next - now : 0, 0);
}

static void accept_one(int fd)
{
    client *k = calloc(1, sizeof *k);
    if (!k || wsx_stream_tls.open(tls, fd, false, NULL, &k->st) < 0 ||
        !(k->conn = wsx_conn_new(&cfg, &cb, NULL))) {
        if (k && k->st)
            wsx_stream_tls.close(k->st);
        free(k);
        close(fd);
        return;
    }
    k->fd = fd;
    wsx_conn_set_transport(k->conn, k);
    uv_poll_init_socket(loop, &k->poll, fd);
    uv_timer_init(loop, &k->timer);
    k->poll.data = k->timer.data = k;
    k->handles = 2;
    k->next = clients;
    if (clients)
        clients->prev = k;
    clients = k;
    settle(k);
}

static void on_listen(uv_poll_t *p, int status, int events)
{
    (void)p;
    (void)events;
    for (int i = 0; status == 0 && i < 64; i++) {
        int fd = accept(server_fd, NULL, NULL);
        if (fd < 0)
            return;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        accept_one(fd);
    }
}

/* SIGINT/SIGTERM: stop accepting, close every client with 1001; uv_run
 * returns once the last handle is closed. */
static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    uv_close((uv_handle_t *)&server, NULL);
    uv_close((uv_handle_t *)&sigint, NULL);
    uv_close((uv_handle_t *)&sigterm, NULL);
    for (client *k = clients, *next; k; k = next) {
        next = k->next;
        if (wsx_conn_state(k->conn) == WSX_STATE_HANDSHAKE) {
            end(k);
            continue;
        }
        wsx_close(k->conn, WSX_CLOSE_GOING_AWAY, "server shutting down");
        settle(k);
    }
}

static int listen_on(const cli_addr *a, struct sockaddr_in *sa)
{
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t len = sizeof *sa;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)a->port);
    if (fd < 0 || inet_pton(AF_INET, a->host, &sa->sin_addr) != 1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)sa, sizeof *sa) < 0 || listen(fd, 511) < 0 ||
        getsockname(fd, (struct sockaddr *)sa, &len) < 0) {
        fprintf(stderr, "libuv_tls_echo: cannot listen on %s port %d: %s\n",
                a->host, a->port, strerror(errno));
        exit(CLI_EXIT_FAIL);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static const char usage[] =
    "usage: libuv_tls_echo --tls-cert FILE --tls-key FILE [--host ADDR] [--port N]\n"
    "Echoes every message over wss://, with libuv as the event loop (IPv4).\n"
    "  --host ADDR          IPv4 address to listen on (default 127.0.0.1)\n"
    "  --port N             port (default 9004; 0: any free port)\n"
    CLI_TLS_SERVER_USAGE;

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    cli_addr addr = CLI_ADDR_INIT(9004);
    cli_tls t = {0};
    cli c;
    cli_init(&c, argc, argv, "libuv_tls_echo", usage);
    while (cli_next(&c))
        if (!cli_addr_option(&c, &addr) && !cli_tls_option(&c, &t, WSX_SERVER))
            cli_unknown(&c);
    if (!cli_tls_listen(&c, &t, NULL))
        cli_fail(&c, "--tls-cert and --tls-key are required");
    tls = t.ctx;
    loop = uv_default_loop();
    wsx_config_init(&cfg, WSX_SERVER);
    wsx_callbacks_init(&cb);
    cb.send = on_send;
    cb.on_message = on_message;
    server_fd = listen_on(&addr, &sa);
    uv_poll_init_socket(loop, &server, server_fd);
    uv_poll_start(&server, UV_READABLE, on_listen);
    uv_signal_init(loop, &sigint);
    uv_signal_init(loop, &sigterm);
    uv_signal_start(&sigint, on_signal, SIGINT);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    cli_print_url("libuv_tls_echo", "wss", addr.host, ntohs(sa.sin_port), "libuv");
    int r = uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    close(server_fd);
    wsx_tls_free(tls);
    return r != 0;
}
