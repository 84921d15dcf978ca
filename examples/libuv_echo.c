/* libuv_echo - the wsx core embedded in a foreign event loop: an echo server
 * where libuv owns the sockets, timers and writes. The template for any
 * loop: feed what the socket reads, run the core's timers, and write in
 * pull mode (wsx_conn_pending, then wsx_conn_advance when the write has
 * completed), so the bytes in flight still count against high_water and a
 * peer that does not read stops this server reading from it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/cli.h"
#include "wsx.h"

/* Reading pauses once this much waits to be sent to a client; one more
 * read buffer of echoes fits under high_water, so no echo is refused. */
#define READ_BUFFER (64 * 1024)
#define PAUSE_AT (1024 * 1024)
#define WRITE_MAX (64 * 1024) /* bytes copied into one uv_write */

typedef struct client {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    wsx_conn *conn;
    struct client *prev, *next; /* every client, for the shutdown */
    size_t writing;             /* bytes of the uv_write in flight, or 0 */
    int handles; /* libuv handles still open; the client is freed at 0 */
    bool reading, ending;
} client;

typedef struct write_req {
    uv_write_t req;
    client *k;
    char data[];
} write_req;

static uv_loop_t *loop;
static uv_tcp_t server;
static uv_signal_t sigint, sigterm;
static wsx_config cfg;
static wsx_callbacks cb;
static client *clients;
static char rbuf[READ_BUFFER]; /* one read buffer for every connection */

static void settle(client *k);

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

static void set_reading(client *k, bool on)
{
    if (on == k->reading || k->ending)
        return;
    k->reading = on;
    if (on)
        uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read);
    else
        uv_read_stop((uv_stream_t *)&k->tcp);
}

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    if (wsx_send(c, m->opcode, m->data, m->len) == WSX_EFULL)
        wsx_close(c, WSX_CLOSE_INTERNAL, "overloaded"); /* see PAUSE_AT */
    if (wsx_buffered_amount(c) > PAUSE_AT)
        set_reading(user, false);
}

/* The queue fell to low_water: the peer reads again, so do we. */
static void on_drain(wsx_conn *c, void *user)
{
    (void)c;
    set_reading(user, true);
}

/* Bytes leave the core's queue only when the socket has taken them. */
static void on_written(uv_write_t *req, int status)
{
    write_req *w = (write_req *)req;
    client *k = w->k;
    free(w);
    if (k->ending) /* the handle is closing: cancelled writes land here */
        return;
    if (status < 0) {
        wsx_conn_eof(k->conn); /* the peer is gone */
        k->writing = 0;
    } else {
        wsx_conn_advance(k->conn, k->writing);
        k->writing = 0;
    }
    settle(k);
}

/* One write in flight at a time, copied out of the core's queue: the
 * queue may move when more is sent while libuv still writes. */
static void start_write(client *k)
{
    const uint8_t *p;
    size_t n = wsx_conn_pending(k->conn, &p);
    if (k->writing || !n)
        return;
    n = n < WRITE_MAX ? n : WRITE_MAX;
    write_req *w = malloc(sizeof *w + n);
    if (!w) {
        wsx_conn_eof(k->conn);
        return;
    }
    w->k = k;
    memcpy(w->data, p, n);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
    k->writing = n;
    if (uv_write(&w->req, (uv_stream_t *)&k->tcp, &b, 1, on_written) < 0) {
        free(w);
        k->writing = 0;
        wsx_conn_eof(k->conn);
    }
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

static void end(client *k)
{
    k->ending = true;
    uv_read_stop((uv_stream_t *)&k->tcp);
    uv_timer_stop(&k->timer);
    if (k->prev)
        k->prev->next = k->next;
    else
        clients = k->next;
    if (k->next)
        k->next->prev = k->prev;
    k->shutdown.data = k;
    if (uv_shutdown(&k->shutdown, (uv_stream_t *)&k->tcp, on_shutdown) < 0)
        on_shutdown(&k->shutdown, 0);
}

static void on_timer(uv_timer_t *t)
{
    settle(t->data);
}

/* After every event: run the core's timers, write, then end or re-arm.
 * A connection whose writes failed is over even with output queued. */
static void settle(client *k)
{
    uint64_t now = uv_now(loop), next = wsx_conn_tick(k->conn, now);
    if (k->ending)
        return;
    start_write(k);
    if (wsx_conn_done(k->conn) ||
        (wsx_conn_state(k->conn) == WSX_STATE_CLOSED && wsx_conn_error(k->conn) &&
         !k->writing))
        end(k);
    else if (next != UINT64_MAX)
        uv_timer_start(&k->timer, on_timer, next > now ? next - now : 0, 0);
}

static void on_connection(uv_stream_t *srv, int status)
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
    k->next = clients;
    if (clients)
        clients->prev = k;
    clients = k;
    k->conn = wsx_conn_new(&cfg, &cb, k);
    if (uv_accept(srv, (uv_stream_t *)&k->tcp) < 0 || !k->conn) {
        end(k);
        return;
    }
    set_reading(k, true);
    settle(k);
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

static const char usage[] =
    "usage: libuv_echo [--host ADDR] [--port N]\n"
    "Echoes every message, with libuv owning the sockets (IPv4).\n"
    "  --host ADDR  IPv4 address to listen on (default 127.0.0.1;\n"
    "               0.0.0.0 for every interface)\n"
    "  --port N     port (default 9003; 0: any free port)\n";

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    cli_addr addr = CLI_ADDR_INIT(9003);
    cli c;
    cli_init(&c, argc, argv, "libuv_echo", usage);
    while (cli_next(&c))
        if (!cli_addr_option(&c, &addr))
            cli_unknown(&c);
    if (uv_ip4_addr(addr.host, addr.port, &sa) < 0)
        cli_fail(&c, "--host must be an IPv4 address");
    loop = uv_default_loop();
    wsx_config_init(&cfg, WSX_SERVER);
    cfg.high_water = PAUSE_AT + READ_BUFFER;
    cfg.low_water = READ_BUFFER;
    wsx_callbacks_init(&cb);
    cb.send = NULL; /* pull mode */
    cb.on_message = on_message;
    cb.on_drain = on_drain;
    uv_tcp_init(loop, &server);
    int r = uv_tcp_bind(&server, (const struct sockaddr *)&sa, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&server, 511, on_connection);
    if (r < 0) {
        fprintf(stderr, "libuv_echo: cannot listen on %s port %d: %s\n",
                addr.host, addr.port, uv_strerror(r));
        return CLI_EXIT_FAIL;
    }
    int len = sizeof sa;
    uv_tcp_getsockname(&server, (struct sockaddr *)&sa, &len);
    uv_signal_init(loop, &sigint);
    uv_signal_init(loop, &sigterm);
    uv_signal_start(&sigint, on_signal, SIGINT);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    cli_print_url("libuv_echo", "ws", addr.host, ntohs(sa.sin_port), "libuv");
    r = uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    return r != 0;
}
