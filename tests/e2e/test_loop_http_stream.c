/* test_loop_http_stream.c - plain HTTP requests past on_http over a real
 * loop and sockets (wsx_http.h): an SSE stream with the client's
 * Last-Event-ID, multi-line data and heartbeats; a held request answered
 * from a loop timer; a POST body sent in two pieces. */
#include "e2e.h"
#include "wsx_http.h"

static e2e_server srv;
static wsx_timer *late;
static wsx_conn *held;

static bool path_is(const wsx_http_request *req, const char *p)
{
    return req->target_len == strlen(p) && !memcmp(req->target, p, req->target_len);
}

static void on_late(wsx_timer *t, void *user)
{
    (void)t;
    (void)user;
    CHECK_EQ(wsx_conn_state(held), WSX_STATE_HTTP);
    CHECK_EQ(wsx_http_respond(held, 200, "text/plain", NULL, "late", 4), 0);
}

static void on_http(wsx_conn *c, const wsx_http_request *req, void *user)
{
    (void)user;
    if (path_is(req, "/sse")) {
        size_t n;
        const char *id = wsx_sse_last_event_id(req, &n);
        char data[64], next[16];
        snprintf(data, sizeof data, "after %.*s\r\nsecond line", (int)n, id ? id : "");
        snprintf(next, sizeof next, "%d", id ? atoi(id) + 1 : 1);
        CHECK_EQ(wsx_sse_begin(c, 100, NULL), 0);
        CHECK_EQ(wsx_sse_send(c, next, "note", data, strlen(data)), 0);
    } else if (path_is(req, "/hold")) {
        CHECK_EQ(wsx_http_hold(c), 0);
        held = c;
        late = wsx_timer_new(srv.loop, on_late, NULL);
        wsx_timer_start(late, 50, 0);
    } else {
        size_t n;
        const uint8_t *body = wsx_http_body(c, &n);
        wsx_http_respond(c, 200, "text/plain", NULL, body, n);
    }
}

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    (void)ci;
    (void)user;
    if (c == held) {
        held = NULL;
        wsx_timer_free(late);
    }
}

/* Read until `want` appears or the peer closes; the bytes in buf. */
static size_t read_until(int fd, char *buf, size_t cap, const char *want)
{
    size_t got = 0;
    buf[0] = 0;
    while (got < cap - 1 && !strstr(buf, want)) {
        ssize_t r = recv(fd, buf + got, cap - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
        buf[got] = 0;
    }
    return got;
}

static void test_sse_resume_multiline_heartbeat(void)
{
    char buf[2048];
    int fd = raw_connect(srv.port);
    static const char req[] = "GET /sse HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 7\r\n\r\n";
    raw_write(fd, req, sizeof req - 1);
    read_until(fd, buf, sizeof buf, "\n\n:\n\n");
    CHECK(strstr(buf, "Content-Type: text/event-stream\r\n") != NULL);
    CHECK(strstr(buf, "\r\n\r\nid: 8\nevent: note\ndata:after 7\ndata:second line\n\n") != NULL);
    CHECK(strstr(buf, "\n\n:\n\n") != NULL); /* a heartbeat after 100 ms */
    close(fd);
}

static void test_held_answered_by_timer(void)
{
    char buf[1024];
    int fd = raw_connect(srv.port);
    uint64_t t0 = e2e_ms();
    raw_write(fd, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n", 31);
    read_until(fd, buf, sizeof buf, "\r\n\r\nlate");
    CHECK(e2e_ms() - t0 >= 45);
    CHECK(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17));
    CHECK(strstr(buf, "Content-Length: 4\r\n\r\nlate") != NULL);
    CHECK(raw_wait_eof(fd, 2000) >= 0); /* closed after the answer */
    close(fd);
}

static void test_post_body_in_pieces(void)
{
    char buf[1024];
    int fd = raw_connect(srv.port);
    static const char head[] = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234";
    raw_write(fd, head, sizeof head - 1);
    usleep(50 * 1000);
    raw_write(fd, "56789", 5);
    read_until(fd, buf, sizeof buf, "0123456789");
    CHECK(strstr(buf, "\r\n\r\n0123456789") != NULL);
    close(fd);
}

int main(void)
{
    e2e_watchdog(30);
    wsx_config_init(&srv.cfg, WSX_SERVER);
    wsx_callbacks_init(&srv.cb);
    srv.cb.on_http = on_http;
    srv.cb.on_close = on_close;
    if (e2e_server_start(&srv, NULL, NULL) != 0) {
        CHECK(!"server start");
        return test_summary("loop_http_stream");
    }
    RUN(test_sse_resume_multiline_heartbeat);
    RUN(test_held_answered_by_timer);
    RUN(test_post_body_in_pieces);
    e2e_server_stop(&srv);
    return test_summary("loop_http_stream");
}
