/* test_loop_abuse - peers that misbehave: half a request (slowloris, the
 * handshake timeout answers 408), silence (idle timeout, 1001), no close
 * reply (close timeout), abrupt disconnects mid-handshake and mid-frame
 * (no crash, nothing leaked), plain HTTP, refused and hung connects. */
#include "e2e.h"


#define T 300 /* every timeout under test, ms */

static test_alloc counted;
static int opened, closed, abnormal;

static void on_open(wsx_conn *c, void *user)
{
    (void)c;
    (void)user;
    opened++;
}

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    if (m->len == 3 && !memcmp(m->data, "bye", 3))
        wsx_close(c, 1000, "bye");
    else
        wsx_send(c, m->opcode, m->data, m->len);
}

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    (void)c;
    (void)user;
    closed++;
    abnormal += ci->code == 1006;
}

static void on_http(wsx_conn *c, const wsx_http_request *req, void *user)
{
    (void)user;
    if (req->target_len == 6 && !memcmp(req->target, "/hello", 6))
        wsx_http_respond(c, 200, "text/plain", NULL, "hi", 2);
}

static int read_status(int fd)
{
    char head[256];
    ssize_t n = recv(fd, head, sizeof head - 1, 0);
    if (n < 12)
        return -1;
    head[n] = '\0';
    return atoi(head + 9);
}

/* The server the first tests share (started in main). */
static e2e_server srv;

static void test_slowloris(void)
{
    e2e_server *s = &srv;
    int fd = raw_connect(s->port);
    CHECK(raw_write(fd, raw_request, 40) == 0);
    uint64_t t0 = e2e_ms();
    CHECK_EQ(read_status(fd), 408);
    long dt = (long)(e2e_ms() - t0);
    CHECK(dt >= T - 50 && dt < T + 1000);
    CHECK(raw_wait_eof(fd, 2000) >= 0);
    close(fd);
}

static void test_idle_then_close_timeout(void)
{
    e2e_server *s = &srv;
    uint8_t buf[128];
    wsx_frame_header h;
    int fd = raw_connect(s->port);
    CHECK_EQ(raw_handshake(fd), 101);
    uint64_t t0 = e2e_ms();
    /* Silence: the server says 1001 "idle timeout"... */
    long n = raw_read_frame(fd, &h, buf, sizeof buf);
    long dt = (long)(e2e_ms() - t0);
    CHECK_EQ(h.opcode, WSX_CLOSE);
    CHECK(n >= 2 && buf[0] == 1001 >> 8 && buf[1] == (1001 & 0xff));
    CHECK(dt >= T - 50 && dt < T + 1000);
    /* ...and, with no reply, drops TCP after the close timeout. */
    dt = raw_wait_eof(fd, 3000);
    CHECK(dt >= T - 50 && dt < T + 1000);
    close(fd);
}

static void test_close_timeout(void)
{
    e2e_server *s = &srv;
    uint8_t buf[128];
    wsx_frame_header h;
    int fd = raw_connect(s->port);
    CHECK_EQ(raw_handshake(fd), 101);
    CHECK_EQ(raw_send_frame(fd, WSX_TEXT, "bye", 3, true), 0);
    CHECK_EQ(raw_read_frame(fd, &h, buf, sizeof buf), 5);
    CHECK_EQ(h.opcode, WSX_CLOSE);
    long dt = raw_wait_eof(fd, 3000);
    CHECK(dt >= T - 50 && dt < T + 1000);
    close(fd);
}

/* Every way of vanishing; the server must be left with no connection. */
static void test_abrupt(void)
{
    e2e_server *s = &srv;
    static uint8_t big[200000];
    for (int kind = 0; kind < 6; kind++) {
        int fd = raw_connect(s->port);
        if (kind == 0)
            raw_write(fd, raw_request, 30); /* mid-handshake */
        if (kind >= 1)
            CHECK_EQ(raw_handshake(fd), 101);
        if (kind == 2) /* mid-header */
            raw_write(fd, "\x82\xfe", 2);
        if (kind == 3 || kind == 4) { /* mid-frame, mid-message */
            uint8_t torn[] = "\x82\xff\0\0\0\0\0\x01\0\0" "abcd" "xyz";
            raw_send_frame(fd, WSX_BINARY, big, 1000, kind == 3);
            if (kind == 4)
                torn[0] = 0x80; /* the continuation of an open message */
            raw_write(fd, torn, sizeof torn - 1);
        }
        if (kind == 5) { /* reset while the echo of a big frame is queued */
            struct linger lg = {1, 0};
            raw_send_frame(fd, WSX_BINARY, big, sizeof big, true);
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(fd);
        CHECK(e2e_wait_conns(s, 0, 2000));
    }
}

static void test_plain_http(void)
{
    e2e_server *s = &srv;
    int fd = raw_connect(s->port);
    const char get[] = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_write(fd, get, sizeof get - 1);
    CHECK_EQ(read_status(fd), 200);
    CHECK(raw_wait_eof(fd, 2000) >= 0);
    close(fd);
    fd = raw_connect(s->port);
    const char other[] = "GET /other HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_write(fd, other, sizeof other - 1);
    CHECK_EQ(read_status(fd), 426); /* on_http did not answer */
    close(fd);
}

static int client_closes, client_error;
static uint16_t client_code;

static void client_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    (void)c;
    (void)user;
    client_closes++;
    client_code = ci->code;
    client_error = ci->error;
}

/* A connect that fails (refused) or hangs (a full backlog that is never
 * accepted) ends in on_close 1006 within the connect timeout, with the
 * reason as its error; a name that does not resolve is refused at once. */
static void test_bad_connects(void)
{
    wsx_callbacks cb;
    wsx_connect_opts co;
    char url[64];
    wsx_callbacks_init(&cb);
    cb.on_close = client_close;
    wsx_connect_opts_init(&co);
    co.callbacks = &cb;
    co.connect_timeout_ms = T;
    wsx_loop *l = wsx_loop_new(NULL);
    co.url = "http://127.0.0.1/";
    CHECK_EQ(wsx_loop_connect(l, &co, NULL), WSX_EINVAL);

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(lfd, (struct sockaddr *)&a, sizeof a);
    getsockname(lfd, (struct sockaddr *)&a, &alen);
    int port = ntohs(a.sin_port);
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
    co.url = url;
    CHECK_EQ(wsx_loop_connect(l, &co, NULL), 0); /* bound, not listening */
    CHECK_EQ(wsx_loop_run(l), 0);
    CHECK_EQ(client_closes, 1);
    CHECK_EQ(client_code, 1006);
    CHECK_EQ(client_error, WSX_ECONNREFUSED);

    listen(lfd, 0);
    int filler[4];
    for (int i = 0; i < 4; i++) { /* fill the accept queue */
        filler[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(filler[i], (struct sockaddr *)&a, sizeof a);
    }
    usleep(50 * 1000);
    uint64_t t0 = e2e_ms();
    CHECK_EQ(wsx_loop_connect(l, &co, NULL), 0);
    CHECK_EQ(wsx_loop_run(l), 0);
    long dt = (long)(e2e_ms() - t0);
    CHECK_EQ(client_closes, 2);
    CHECK_EQ(client_code, 1006);
    CHECK_EQ(client_error, WSX_ECONNTIMEOUT);
    CHECK(dt >= T - 50 && dt < T + 1000);
    /* A name that does not resolve fails at once, with no connection. */
    co.url = "ws://no-such-host.invalid/";
    CHECK_EQ(wsx_loop_connect(l, &co, NULL), WSX_ENOHOST);
    CHECK_EQ(wsx_loop_conn_count(l), 0);
    for (int i = 0; i < 4; i++)
        close(filler[i]);
    close(lfd);
    wsx_loop_free(l);
}

/* SO_REUSEPORT lets a second listener (another process, usually) share
 * the port; without it the bind fails with EADDRINUSE. Also IPv6 only. */
static void test_reuse_port(void)
{
    wsx_callbacks cb;
    wsx_listen_opts o;
    wsx_callbacks_init(&cb);
    wsx_listen_opts_init(&o);
    o.host = "::1";
    o.callbacks = &cb;
    o.reuse_port = true;
    wsx_loop *a = wsx_loop_new(NULL), *b = wsx_loop_new(NULL), *c = wsx_loop_new(NULL);
    int port = wsx_loop_listen(a, &o);
    CHECK(port > 0);
    o.port = (uint16_t)port;
    CHECK_EQ(wsx_loop_listen(b, &o), port);
    o.reuse_port = false;
    CHECK_EQ(wsx_loop_listen(c, &o), WSX_EIO);
    CHECK_EQ(errno, EADDRINUSE);
    o.callbacks = NULL;
    CHECK_EQ(wsx_loop_listen(c, &o), WSX_EINVAL);
    wsx_loop_free(a);
    wsx_loop_free(b);
    wsx_loop_free(c);
}

static void test_server_tallies(void)
{
    CHECK_EQ(opened, 7);
    CHECK(closed >= opened); /* failed handshakes report too */
    CHECK(abnormal >= 5);
}

int main(void)
{
    e2e_watchdog(60);
    memset(&srv, 0, sizeof srv);
    wsx_config_init(&srv.cfg, WSX_SERVER);
    srv.cfg.alloc = test_allocator(&counted);
    srv.cfg.handshake_timeout_ms = T;
    srv.cfg.idle_timeout_ms = T;
    srv.cfg.close_timeout_ms = T;
    wsx_callbacks_init(&srv.cb);
    srv.cb.on_open = on_open;
    srv.cb.on_message = on_message;
    srv.cb.on_close = on_close;
    srv.cb.on_http = on_http;
    CHECK_EQ(e2e_server_start(&srv, NULL, NULL), 0);
    int ran = test_ran_;
    RUN(test_slowloris);
    RUN(test_idle_then_close_timeout);
    RUN(test_close_timeout);
    RUN(test_abrupt);
    RUN(test_plain_http);
    CHECK(e2e_wait_conns(&srv, 0, 2000));
    e2e_server_stop(&srv);
    CHECK_EQ(counted.live, 0);
    /* The server's tallies add up only when all five abuses ran. */
    if (test_ran_ - ran == 5)
        RUN(test_server_tallies);
    RUN(test_bad_connects);
    RUN(test_reuse_port);
    return test_summary("loop_abuse");
}
