/* test_loop_metrics.c - the loop's metrics (wsx_loop.h): two loops on two
 * threads in one hub, echoing; a scrape of GET /metrics on one loop's port
 * and wsx_metrics_hub_sum from a third thread both report the sum of
 * both, the gauges included; a metrics listener of its own; POST and a
 * listener path without a hub refused. */
#include "e2e.h"


static void echo(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    wsx_send(c, m->opcode, m->data, m->len);
}

/* One echo server in hub h; its listener serves /metrics. */
static void start(e2e_server *s, wsx_metrics_hub *h)
{
    wsx_loop_opts lo;
    wsx_listen_opts o;
    wsx_loop_opts_init(&lo);
    lo.metrics = h;
    wsx_config_init(&s->cfg, WSX_SERVER);
    wsx_callbacks_init(&s->cb);
    s->cb.on_message = echo;
    s->loop = wsx_loop_new(&lo);
    wsx_listen_opts_init(&o);
    o.host = "127.0.0.1";
    o.config = &s->cfg;
    o.callbacks = &s->cb;
    o.metrics_path = "/metrics";
    s->port = wsx_loop_listen(s->loop, &o);
    CHECK(s->port > 0);
    CHECK_EQ(pthread_create(&s->thread, NULL, e2e_server_main, s), 0);
}

/* n echoes of a 5-byte text message on a fresh connection, left open. */
static int client(int port, int n)
{
    int fd = raw_connect(port);
    CHECK_EQ(raw_handshake(fd), 101);
    for (int i = 0; i < n; i++) {
        wsx_frame_header h;
        uint8_t buf[16];
        raw_send_frame(fd, WSX_TEXT, "hello", 5, true);
        CHECK_EQ(raw_read_frame(fd, &h, buf, sizeof buf), 5);
    }
    return fd;
}

/* The body of an HTTP request to port (Connection: close). */
static void http(int port, const char *req, char *out, size_t cap)
{
    int fd = raw_connect(port);
    size_t n = 0;
    long k;
    raw_write(fd, req, strlen(req));
    while (n + 1 < cap && (k = read(fd, out + n, cap - 1 - n)) > 0)
        n += (size_t)k;
    out[n] = 0;
    close(fd);
}

static const char get[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

static void test_two_loops(void)
{
    static char text[16384];
    wsx_metrics_hub *h = wsx_metrics_hub_new();
    e2e_server a, b;
    start(&a, h);
    start(&b, h);
    int fa = client(a.port, 3), fb = client(b.port, 4);
    http(a.port, get, text, sizeof text);
    CHECK(strstr(text, "HTTP/1.1 200 "));
    CHECK(strstr(text, "\r\n\r\n# HELP wsx_connections_open "));
    CHECK(strstr(text, "\nwsx_connections_open 2\n"));
    CHECK(strstr(text, "\nwsx_connections_total 2\n"));
    CHECK(strstr(text, "\nwsx_messages_received_total{opcode=\"text\"} 7\n"));
    CHECK(strstr(text, "\nwsx_bytes_sent_total 35\n"));
    CHECK(strstr(text, "\nwsx_message_handler_seconds_count 7\n"));
    /* From a thread that is no loop's, after one peer left. */
    close(fa);
    wsx_metrics m;
    for (int i = 0; i < 200; i++) {
        wsx_metrics_hub_sum(h, NULL, &m);
        if (m.connections_open == 1)
            break;
        usleep(10000);
    }
    CHECK_EQ(m.connections_open, 1);
    CHECK_EQ(m.connections_total, 2);
    CHECK_EQ(m.closes[0].key, WSX_CLOSE_ABNORMAL);
    CHECK_EQ(m.closes[0].remote, 1);
    CHECK_EQ(m.queue_wait.count, 7);
    CHECK_EQ(m.send_queue_bytes, 0);
    /* Not a GET: 405; other paths still reach the application. */
    http(b.port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
         text, sizeof text);
    CHECK(strstr(text, "HTTP/1.1 405 ") == text);
    http(b.port, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n", text, sizeof text);
    CHECK(strstr(text, "HTTP/1.1 426 ") == text);
    close(fb);
    e2e_server_stop(&a);
    e2e_server_stop(&b);
    wsx_metrics_hub_free(h);
}

static void test_own_port(void)
{
    static char text[16384];
    /* Without a hub there is nothing to serve. */
    wsx_loop *l = wsx_loop_new(NULL);
    wsx_listen_opts o;
    wsx_callbacks cb;
    wsx_callbacks_init(&cb);
    wsx_listen_opts_init(&o);
    o.callbacks = &cb;
    o.metrics_path = "/metrics";
    CHECK_EQ(wsx_loop_metrics_listen(l, "127.0.0.1", 0), WSX_EINVAL);
    CHECK_EQ(wsx_loop_listen(l, &o), WSX_EINVAL);
    wsx_loop_free(l);

    wsx_metrics_hub *h = wsx_metrics_hub_new();
    e2e_server a;
    start(&a, h);
    int fd = client(a.port, 2);
    e2e_server_stop(&a); /* the peer gets 1001 */
    close(fd);
    /* Listeners are added while the loop is not running. */
    wsx_loop_opts lo;
    wsx_loop_opts_init(&lo);
    lo.metrics = h;
    a.loop = wsx_loop_new(&lo);
    int mport = wsx_loop_metrics_listen(a.loop, "127.0.0.1", 0);
    CHECK(mport > 0);
    CHECK_EQ(pthread_create(&a.thread, NULL, e2e_server_main, &a), 0);
    /* The first loop left the hub with its counts. */
    http(mport, get, text, sizeof text);
    CHECK(strstr(text, "\nwsx_connections_total 0\n"));
    http(mport, get, text, sizeof text);
    CHECK(strstr(text, "\nwsx_connections_total 0\n")); /* scrapes not counted */
    http(mport, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", text, sizeof text);
    CHECK(strstr(text, "HTTP/1.1 404 ") == text);
    fd = raw_connect(mport);
    CHECK_EQ(raw_handshake(fd), 404);
    close(fd);
    e2e_server_stop(&a);
    wsx_metrics_hub_free(h);
}

int main(void)
{
    e2e_watchdog(60);
    RUN(test_two_loops);
    RUN(test_own_port);
    return test_summary("test_loop_metrics");
}
