/* test_loop_echo - echo correctness through the loop, client and server
 * both wsx: payloads of 0 bytes to 16 MiB, text and binary, on the epoll
 * and poll backends, whole-message and streaming servers, IPv4 and IPv6. */
#include "e2e.h"


static const size_t sizes[] = {0,     1,     125,   126,     127,         128,
                               65535, 65536, 65537, 1 << 20, (16 << 20) - 1,
                               16 << 20};
#define NSIZES (sizeof sizes / sizeof sizes[0])

typedef struct client {
    size_t step; /* sizes × {text, binary} */
    uint8_t *want;
    size_t want_len;
    int ok, opened, closed;
    uint16_t close_code;
    uint64_t seed;
} client;

static void server_echo(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    wsx_send(c, m->opcode, m->data, m->len);
}

static void server_stream(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    wsx_send_fragment(c, m->opcode, m->data, m->len, m->fin);
}

static void send_step(wsx_conn *c, client *k)
{
    if (k->step == 2 * NSIZES) {
        wsx_close(c, 1000, "done");
        return;
    }
    bool text = k->step % 2 == 0;
    size_t n = sizes[k->step / 2];
    free(k->want);
    k->want = malloc(n ? n : 1);
    k->want_len = n;
    for (size_t i = 0; i < n; i++)
        k->want[i] = text ? (uint8_t)('a' + test_rand(&k->seed) % 26)
                          : (uint8_t)test_rand(&k->seed);
    CHECK_EQ(wsx_send(c, text ? WSX_TEXT : WSX_BINARY, k->want, n), 0);
}

static void client_open(wsx_conn *c, void *user)
{
    client *k = user;
    k->opened++;
    send_step(c, k);
}

static void client_message(wsx_conn *c, const wsx_message *m, void *user)
{
    client *k = user;
    bool text = k->step % 2 == 0;
    if (m->opcode == (text ? WSX_TEXT : WSX_BINARY) && m->len == k->want_len &&
        (m->len == 0 || memcmp(m->data, k->want, m->len) == 0))
        k->ok++;
    else
        fprintf(stderr, "FAIL echo of %zu bytes (%s): got %zu\n", k->want_len,
                text ? "text" : "binary", m->len);
    k->step++;
    send_step(c, k);
}

static void client_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    client *k = user;
    (void)c;
    k->closed++;
    k->close_code = ci->code;
}

/* One client connection runs the whole size table against url. */
static void run_client(wsx_loop_backend b, const char *url)
{
    wsx_loop_opts lo;
    wsx_callbacks cb;
    wsx_connect_opts co;
    client k;
    memset(&k, 0, sizeof k);
    k.seed = 42;
    wsx_loop_opts_init(&lo);
    lo.backend = b;
    wsx_callbacks_init(&cb);
    cb.on_open = client_open;
    cb.on_message = client_message;
    cb.on_close = client_close;
    wsx_connect_opts_init(&co);
    co.url = url;
    co.callbacks = &cb;
    co.user = &k;
    wsx_loop *l = wsx_loop_new(&lo);
    CHECK(l != NULL);
    CHECK_EQ(wsx_loop_connect(l, &co, NULL), 0);
    CHECK_EQ(wsx_loop_conn_count(l), 1);
    CHECK_EQ(wsx_loop_run(l), 0);
    CHECK_EQ(k.opened, 1);
    CHECK_EQ(k.ok, 2 * NSIZES);
    CHECK_EQ(k.closed, 1);
    CHECK_EQ(k.close_code, 1000);
    CHECK_EQ(wsx_loop_conn_count(l), 0);
    wsx_loop_free(l);
    free(k.want);
}

static void run_backend(wsx_loop_backend b, const char *name, bool streaming)
{
    e2e_server s;
    wsx_loop_opts lo;
    char url[64];
    memset(&s, 0, sizeof s);
    wsx_loop_opts_init(&lo);
    lo.backend = b;
    wsx_config_init(&s.cfg, WSX_SERVER);
    wsx_callbacks_init(&s.cb);
    s.cfg.streaming = streaming;
    s.cb.on_message = server_echo;
    s.cb.on_fragment = server_stream;
    CHECK_EQ(e2e_server_start(&s, &lo, "127.0.0.1"), 0);
    CHECK(strcmp(wsx_loop_backend_name(s.loop), name) == 0);
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/echo?x=1", s.port);
    run_client(b, url);
    e2e_server_stop(&s);
}

/* A listener with no host takes IPv6 and IPv4 alike. */
static void test_dual_stack(void)
{
    e2e_server s;
    char url[64];
    memset(&s, 0, sizeof s);
    wsx_config_init(&s.cfg, WSX_SERVER);
    wsx_callbacks_init(&s.cb);
    s.cb.on_message = server_echo;
    wsx_listen_opts o;
    wsx_listen_opts_init(&o);
    o.config = &s.cfg;
    o.callbacks = &s.cb;
    s.loop = wsx_loop_new(NULL);
    s.port = wsx_loop_listen(s.loop, &o);
    CHECK(s.port > 0);
    CHECK_EQ(pthread_create(&s.thread, NULL, e2e_server_main, &s), 0);
    snprintf(url, sizeof url, "ws://[::1]:%d/", s.port);
    run_client(WSX_LOOP_DEFAULT, url);
    snprintf(url, sizeof url, "ws://localhost:%d", s.port);
    run_client(WSX_LOOP_DEFAULT, url);
    e2e_server_stop(&s);
}

static void test_backends(void)
{
    wsx_loop_opts lo;
    wsx_loop_opts_init(&lo);
    lo.backend = WSX_LOOP_KQUEUE;
    wsx_loop *l = wsx_loop_new(&lo);
#if defined(__linux__)
    CHECK(l == NULL); /* not built on Linux */
#endif
    wsx_loop_free(l);
    l = wsx_loop_new(NULL);
#if defined(__linux__)
    CHECK(strcmp(wsx_loop_backend_name(l), "epoll") == 0);
#endif
    wsx_loop_free(l);
}

static void test_echo_poll(void)
{
    run_backend(WSX_LOOP_POLL, "poll", false);
}

static void test_echo_poll_deflate(void)
{
    run_backend(WSX_LOOP_POLL, "poll", true);
}

#if defined(__linux__)
static void test_echo_epoll(void)
{
    run_backend(WSX_LOOP_EPOLL, "epoll", false);
}

static void test_echo_epoll_deflate(void)
{
    run_backend(WSX_LOOP_EPOLL, "epoll", true);
}
#endif

int main(void)
{
    e2e_watchdog(120);
    RUN(test_backends);
    RUN(test_echo_poll);
    RUN(test_echo_poll_deflate);
#if defined(__linux__)
    RUN(test_echo_epoll);
    RUN(test_echo_epoll_deflate);
#endif
    RUN(test_dual_stack);
    return test_summary("loop_echo");
}
