/* libuv_echo - the wsx core embedded in a foreign event loop: an echo server where libuv owns the sockets, timers and write queue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "wsx.h"

typedef struct client {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    wsx_conn *conn;
    int handles; /* libuv handles still open; the client is freed at 0 */
    bool ending;
} client;

typedef struct pending {
    uv_write_t req;
    char data[];
} pending;

static uv_loop_t *loop;
static wsx_config cfg;
static wsx_callbacks cb;
static char rbuf[64 * 1024]; /* one read buffer for every connection */

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

/* The core's send callback: write now what the socket takes, and hand the
 * rest to libuv's own ordered write queue (so it is never would-block). */
static long send_cb(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    client *k = user;
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)len);
    int n = uv_try_write((uv_stream_t *)&k->tcp, &b, 1);
    (void)c;
    if (n == UV_EAGAIN)
        n = 0;
    if (n < 0)
        return WSX_EIO;
    if ((size_t)n < len) {
        pending *w = malloc(sizeof *w + len - (size_t)n);
        if (!w)
            return WSX_EIO;
        memcpy(w->data, p + n, len - (size_t)n);
        b = uv_buf_init(w->data, (unsigned)(len - (size_t)n));
        uv_write(&w->req, (uv_stream_t *)&k->tcp, &b, 1, on_written);
    }
    return (long)len;
}

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    wsx_send(c, m->opcode, m->data, m->len);
}

static void on_closed(uv_handle_t *h)
{
    client *k = h->data;
    if (--k->handles == 0) {
        wsx_conn_free(k->conn);
        free(k);
    }
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    client *k = req->data;
    (void)status;
    uv_close((uv_handle_t *)&k->tcp, on_closed);
    uv_close((uv_handle_t *)&k->timer, on_closed);
}

static void on_timer(uv_timer_t *t);

/* After every event: run the core's timers, then end or re-arm. */
static void settle(client *k)
{
    uint64_t now = uv_now(loop), next = wsx_conn_tick(k->conn, now);
    if (k->ending)
        return;
    if (wsx_conn_done(k->conn)) {
        k->ending = true;
        uv_read_stop((uv_stream_t *)&k->tcp);
        uv_timer_stop(&k->timer);
        k->shutdown.data = k; /* after queued writes (our close frame) */
        if (uv_shutdown(&k->shutdown, (uv_stream_t *)&k->tcp, on_shutdown) < 0)
            on_shutdown(&k->shutdown, 0);
    } else if (next != UINT64_MAX) {
        uv_timer_start(&k->timer, on_timer, next > now ? next - now : 0, 0);
    }
}

static void on_timer(uv_timer_t *t)
{
    settle(t->data);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)h;
    (void)hint;
    *b = uv_buf_init(rbuf, sizeof rbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    client *k = s->data;
    if (n > 0)
        wsx_conn_feed(k->conn, (uint8_t *)b->base, (size_t)n);
    else if (n < 0)
        wsx_conn_eof(k->conn);
    settle(k);
}

static void on_connection(uv_stream_t *server, int status)
{
    client *k = calloc(1, sizeof *k);
    if (status < 0 || !k) {
        free(k);
        return;
    }
    uv_tcp_init(loop, &k->tcp);
    uv_timer_init(loop, &k->timer);
    k->tcp.data = k->timer.data = k;
    k->handles = 2;
    k->conn = wsx_conn_new(&cfg, &cb, k);
    if (uv_accept(server, (uv_stream_t *)&k->tcp) < 0 || !k->conn) {
        k->ending = true;
        on_shutdown(&(uv_shutdown_t){.data = k}, 0);
        return;
    }
    uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read);
    settle(k);
}

int main(int argc, char **argv)
{
    struct sockaddr_in addr;
    uv_tcp_t server;
    int port = argc > 2 && !strcmp(argv[1], "--port") ? atoi(argv[2]) : 9003;
    loop = uv_default_loop();
    wsx_config_init(&cfg, WSX_SERVER);
    wsx_callbacks_init(&cb);
    cb.send = send_cb;
    cb.on_message = on_message;
    uv_tcp_init(loop, &server);
    uv_ip4_addr("127.0.0.1", port, &addr);
    if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) < 0 ||
        uv_listen((uv_stream_t *)&server, 511, on_connection) < 0) {
        fprintf(stderr, "libuv_echo: cannot listen on port %d\n", port);
        return 1;
    }
    int len = sizeof addr;
    uv_tcp_getsockname(&server, (struct sockaddr *)&addr, &len);
    fprintf(stderr, "libuv_echo: listening on 127.0.0.1 port %d\n", ntohs(addr.sin_port));
    return uv_run(loop, UV_RUN_DEFAULT);
}
