/* test_loop_guard - the loop's admission limits with real sockets from two
 * source addresses (127.0.0.1 and 127.0.0.2): connections per address,
 * in total, and handshakes per second per address, refused with 503 or
 * closed, and counted; the peer address given to on_handshake; and a
 * quota through the loop: throttled input resumes in order, a flood under
 * the close policy gets 1008. */
#include <arpa/inet.h>

#include "e2e.h"

static char last_peer[64];

static int on_handshake(wsx_conn *c, const wsx_handshake *hs,
                        wsx_handshake_reply *reply, void *user)
{
    (void)hs;
    (void)reply;
    (void)user;
    if (wsx_loop_conn_peer(c, last_peer, sizeof last_peer) < 0)
        strcpy(last_peer, "?");
    return strcmp(last_peer, "127.0.0.3") ? 0 : 403;
}

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    wsx_send(c, m->opcode, m->data, m->len);
}

static int connect_from(int port, const char *src)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {10, 0};
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    inet_pton(AF_INET, src, &a.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Connect from src and handshake: the status, or -1 when the server
 * closed without an answer. *fd stays open (or -1). */
static int open_from(int port, const char *src, int *fd)
{
    *fd = connect_from(port, src);
    if (*fd < 0)
        return -2;
    int st = raw_handshake(*fd);
    return st;
}

static void stats_fn(wsx_loop *l, void *arg)
{
    int fd = *(int *)arg;
    wsx_loop_limit_stats st;
    wsx_loop_limit_stats_get(l, &st);
    if (write(fd, &st, sizeof st) != (ssize_t)sizeof st)
        abort();
}

static wsx_loop_limit_stats stats(e2e_server *s)
{
    int fds[2];
    wsx_loop_limit_stats st;
    memset(&st, 0xff, sizeof st);
    if (pipe(fds) < 0)
        abort();
    wsx_loop_post(s->loop, stats_fn, &fds[1]);
    if (read(fds[0], &st, sizeof st) != (ssize_t)sizeof st)
        abort();
    close(fds[0]);
    close(fds[1]);
    return st;
}

static void server_start(e2e_server *s, const wsx_loop_opts *o)
{
    memset(s, 0, sizeof *s);
    wsx_config_init(&s->cfg, WSX_SERVER);
    wsx_callbacks_init(&s->cb);
    s->cb.on_handshake = on_handshake;
    s->cb.on_message = on_message;
    CHECK_EQ(e2e_server_start(s, o, "127.0.0.1"), 0);
}

static void close_all(int *fd, int n)
{
    for (int i = 0; i < n; i++)
        if (fd[i] >= 0)
            close(fd[i]);
}

static void test_per_address(void)
{
    wsx_loop_opts o;
    e2e_server s;
    int a[4], b[4];
    wsx_loop_opts_init(&o);
    o.max_conns_per_addr = 3;
    server_start(&s, &o);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(open_from(s.port, "127.0.0.1", &a[i]), 101);
    CHECK(strcmp(last_peer, "127.0.0.1") == 0);
    CHECK_EQ(open_from(s.port, "127.0.0.1", &a[3]), 503);
    /* Another address has its own count. */
    for (int i = 0; i < 3; i++)
        CHECK_EQ(open_from(s.port, "127.0.0.2", &b[i]), 101);
    CHECK(strcmp(last_peer, "127.0.0.2") == 0);
    CHECK_EQ(open_from(s.port, "127.0.0.2", &b[3]), 503);
    /* The refused ones are closed by the server. */
    CHECK(raw_wait_eof(a[3], 3000) >= 0);
    CHECK(e2e_wait_conns(&s, 6, 3000));
    /* One leaves: room for one more from its address. */
    close(a[0]);
    CHECK(e2e_wait_conns(&s, 5, 3000));
    CHECK_EQ(open_from(s.port, "127.0.0.1", &a[0]), 101);
    wsx_loop_limit_stats st = stats(&s);
    CHECK_EQ(st.over_per_addr, 2);
    CHECK_EQ(st.over_total + st.over_rate, 0);
    /* on_handshake may refuse by address. */
    int c;
    CHECK_EQ(open_from(s.port, "127.0.0.3", &c), 403);
    close(c);
    close_all(a, 4);
    close_all(b, 4);
    e2e_server_stop(&s);
}

static void test_total(void)
{
    wsx_loop_opts o;
    e2e_server s;
    int fd[5];
    wsx_loop_opts_init(&o);
    o.max_conns = 4;
    server_start(&s, &o);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(open_from(s.port, i % 2 ? "127.0.0.2" : "127.0.0.1", &fd[i]),
                 101);
    /* Over the total: closed before anything is read, no answer. */
    CHECK_EQ(open_from(s.port, "127.0.0.2", &fd[4]), -1);
    CHECK_EQ(stats(&s).over_total, 1);
    close(fd[4]);
    close(fd[0]);
    CHECK(e2e_wait_conns(&s, 3, 3000));
    CHECK_EQ(open_from(s.port, "127.0.0.1", &fd[0]), 101);
    close_all(fd, 4);
    e2e_server_stop(&s);
}

static void test_handshake_rate(void)
{
    wsx_loop_opts o;
    e2e_server s;
    int fd;
    wsx_loop_opts_init(&o);
    o.handshake_rate.per_sec = 1;
    o.handshake_rate.burst = 3;
    server_start(&s, &o);
    /* The burst, even with each connection closed at once. */
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(open_from(s.port, "127.0.0.1", &fd), 101);
        close(fd);
    }
    char head[512];
    fd = connect_from(s.port, "127.0.0.1");
    CHECK(raw_write(fd, raw_request, sizeof raw_request - 1) == 0);
    ssize_t n = recv(fd, head, sizeof head - 1, 0);
    head[n > 0 ? n : 0] = 0;
    CHECK(strncmp(head, "HTTP/1.1 503 ", 13) == 0);
    CHECK(strstr(head, "\r\nRetry-After: 1\r\n") != NULL);
    close(fd);
    CHECK_EQ(open_from(s.port, "127.0.0.2", &fd), 101);
    close(fd);
    CHECK_EQ(stats(&s).over_rate, 1);
    /* A second later the bucket has a token again. */
    usleep(1100 * 1000);
    CHECK_EQ(open_from(s.port, "127.0.0.1", &fd), 101);
    close(fd);
    e2e_server_stop(&s);
}

/* 40 messages at once against 50/s with a burst of 10: all echoed, in
 * order, over at least half a second, and the connection stays open. */
static void test_throttle_through_loop(void)
{
    e2e_server s;
    memset(&s, 0, sizeof s);
    wsx_config_init(&s.cfg, WSX_SERVER);
    s.cfg.guards = wsx_guards();
    s.cfg.message_rate.per_sec = 50;
    s.cfg.message_rate.burst = 10;
    s.cfg.quota_policy = WSX_QUOTA_THROTTLE;
    wsx_callbacks_init(&s.cb);
    s.cb.on_message = on_message;
    CHECK_EQ(e2e_server_start(&s, NULL, NULL), 0);
    int fd = raw_connect(s.port);
    CHECK_EQ(raw_handshake(fd), 101);
    uint64_t t0 = e2e_ms();
    for (int i = 0; i < 40; i++) {
        char m[16];
        int n = snprintf(m, sizeof m, "m%d", i);
        raw_send_frame(fd, WSX_TEXT, m, (size_t)n, true);
    }
    int in_order = 0;
    for (int i = 0; i < 40; i++) {
        wsx_frame_header h;
        uint8_t buf[64];
        char m[16];
        long n = raw_read_frame(fd, &h, buf, sizeof buf);
        int k = snprintf(m, sizeof m, "m%d", i);
        in_order += h.opcode == WSX_TEXT && n == k && !memcmp(buf, m, (size_t)k);
    }
    uint64_t took = e2e_ms() - t0;
    CHECK_EQ(in_order, 40);
    /* 30 beyond the burst at 50/s: 600 ms, less a tick of rounding. */
    CHECK(took >= 500);
    printf("throttle: 40 messages at 50/s, burst 10: %llu ms\n",
           (unsigned long long)took);
    close(fd);
    e2e_server_stop(&s);
}

static void test_close_policy_through_loop(void)
{
    e2e_server s;
    memset(&s, 0, sizeof s);
    wsx_config_init(&s.cfg, WSX_SERVER);
    s.cfg.guards = wsx_guards();
    s.cfg.message_rate.per_sec = 5;
    s.cfg.message_rate.burst = 5;
    wsx_callbacks_init(&s.cb);
    s.cb.on_message = on_message;
    CHECK_EQ(e2e_server_start(&s, NULL, NULL), 0);
    int fd = raw_connect(s.port);
    CHECK_EQ(raw_handshake(fd), 101);
    for (int i = 0; i < 20; i++)
        raw_send_frame(fd, WSX_TEXT, "x", 1, true);
    int echoes = 0, code = 0;
    char reason[64] = "";
    for (;;) {
        wsx_frame_header h;
        uint8_t buf[128];
        long n = raw_read_frame(fd, &h, buf, sizeof buf);
        if (n < 0)
            break;
        if (h.opcode == WSX_TEXT)
            echoes++;
        if (h.opcode == WSX_CLOSE && n >= 2) {
            code = buf[0] << 8 | buf[1];
            memcpy(reason, buf + 2, (size_t)n - 2);
            reason[n - 2] = 0;
            break;
        }
    }
    CHECK_EQ(echoes, 5);
    CHECK_EQ(code, 1008);
    CHECK(strcmp(reason, "message rate") == 0);
    close(fd);
    e2e_server_stop(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    e2e_watchdog(60);
    RUN(test_per_address);
    RUN(test_total);
    RUN(test_handshake_rate);
    RUN(test_throttle_through_loop);
    RUN(test_close_policy_through_loop);
    return test_summary("loop_guard");
}
