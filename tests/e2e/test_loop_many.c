/* test_loop_many - 1,000 client connections at once against one server
 * loop, each exchanging messages, on epoll and poll; every one must open,
 * get every echo back and close cleanly. */
#include "e2e.h"


#define CLIENTS 1000
#define ROUNDS 5

typedef struct peer {
    int id, round, got, closed;
    uint16_t code;
} peer;

static void server_echo(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    wsx_send(c, m->opcode, m->data, m->len);
}

static void say(wsx_conn *c, peer *p)
{
    char msg[64];
    int n = snprintf(msg, sizeof msg, "client %d round %d", p->id, p->round);
    wsx_send(c, WSX_TEXT, msg, (size_t)n);
}

static void client_open(wsx_conn *c, void *user)
{
    say(c, user);
}

static void client_message(wsx_conn *c, const wsx_message *m, void *user)
{
    peer *p = user;
    char want[64];
    int n = snprintf(want, sizeof want, "client %d round %d", p->id, p->round);
    if (m->len == (size_t)n && memcmp(m->data, want, m->len) == 0)
        p->got++;
    if (++p->round == ROUNDS)
        wsx_close(c, 1000, NULL);
    else
        say(c, p);
}

static void client_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    peer *p = user;
    (void)c;
    p->closed++;
    p->code = ci->code;
}

static void run(wsx_loop_backend b)
{
    static peer peers[CLIENTS];
    e2e_server s;
    wsx_loop_opts lo;
    wsx_callbacks cb;
    wsx_connect_opts co;
    char url[64];
    memset(&s, 0, sizeof s);
    memset(peers, 0, sizeof peers);
    wsx_loop_opts_init(&lo);
    lo.backend = b;
    wsx_config_init(&s.cfg, WSX_SERVER);
    wsx_callbacks_init(&s.cb);
    s.cb.on_message = server_echo;
    CHECK_EQ(e2e_server_start(&s, &lo, NULL), 0);
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", s.port);

    wsx_callbacks_init(&cb);
    cb.on_open = client_open;
    cb.on_message = client_message;
    cb.on_close = client_close;
    wsx_connect_opts_init(&co);
    co.url = url;
    co.callbacks = &cb;
    wsx_loop *l = wsx_loop_new(&lo);
    int started = 0;
    for (int i = 0; i < CLIENTS; i++) {
        peers[i].id = i;
        co.user = &peers[i];
        started += wsx_loop_connect(l, &co, NULL) == 0;
    }
    CHECK_EQ(started, CLIENTS);
    uint64_t t0 = e2e_ms();
    CHECK_EQ(wsx_loop_run(l), 0);
    uint64_t dt = e2e_ms() - t0;
    int echoed = 0, clean = 0;
    for (int i = 0; i < CLIENTS; i++) {
        echoed += peers[i].got;
        clean += peers[i].closed == 1 && peers[i].code == 1000;
    }
    CHECK_EQ(echoed, CLIENTS * ROUNDS);
    CHECK_EQ(clean, CLIENTS);
    fprintf(stderr, "loop_many: %s: %d clients x %d echoes in %llu ms\n",
            wsx_loop_backend_name(l), CLIENTS, ROUNDS, (unsigned long long)dt);
    wsx_loop_free(l);
    e2e_server_stop(&s);
}

static void test_many_poll(void)
{
    run(WSX_LOOP_POLL);
}

#if defined(__linux__)
static void test_many_epoll(void)
{
    run(WSX_LOOP_EPOLL);
}
#endif

int main(void)
{
    e2e_watchdog(120);
    e2e_raise_nofile(); /* 2,000 sockets plus the loops' own */
    RUN(test_many_poll);
#if defined(__linux__)
    RUN(test_many_epoll);
#endif
    return test_summary("loop_many");
}
