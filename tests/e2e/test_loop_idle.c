/* test_loop_idle - what an idle connection of wsx_loop holds: one block
 * (its socket in front of the connection, wsx_config.transport_size), no
 * buffer and no quota state once it has been quiet for the idle tick, on
 * every backend; and the quotas still hold when it speaks again. */
#include <stdatomic.h>

#include "e2e.h"

#ifndef RUN
#define RUN(fn) fn()
#endif

#define CONNS 8

/* The server's allocations through its config, counted across threads. */
static atomic_long live_blocks;

static void *count_malloc(size_t n, void *u)
{
    (void)u;
    void *p = malloc(n);
    if (p)
        atomic_fetch_add(&live_blocks, 1);
    return p;
}

static void *count_realloc(void *p, size_t old, size_t n, void *u)
{
    (void)u;
    (void)old;
    void *q = realloc(p, n);
    if (q && !p)
        atomic_fetch_add(&live_blocks, 1);
    return q;
}

static void count_free(void *p, size_t n, void *u)
{
    (void)u;
    (void)n;
    if (p)
        atomic_fetch_sub(&live_blocks, 1);
    free(p);
}

static void echo(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    wsx_send(c, m->opcode, m->data, m->len);
}

/* A client frame (masked with a zero key) of opcode binary. */
static int send_binary(int fd, const char *s)
{
    uint8_t f[64];
    size_t n = strlen(s);
    f[0] = 0x82;
    f[1] = (uint8_t)(0x80 | n);
    memset(f + 2, 0, 4);
    memcpy(f + 6, s, n);
    return raw_write(fd, f, n + 6);
}

/* Read one unmasked server frame of up to 125 bytes; its payload length,
 * or -1. */
static int read_frame(int fd)
{
    uint8_t h[2], p[125];
    if (recv(fd, h, 2, MSG_WAITALL) != 2 || (h[1] & 0x7f) > 125)
        return -1;
    int n = h[1] & 0x7f;
    return n == 0 || recv(fd, p, (size_t)n, MSG_WAITALL) == n ? n : -1;
}

static void run(wsx_loop_backend b)
{
    e2e_server s;
    memset(&s, 0, sizeof s);
    atomic_store(&live_blocks, 0);
    wsx_config_init(&s.cfg, WSX_SERVER);
    s.cfg.alloc.malloc = count_malloc;
    s.cfg.alloc.realloc = count_realloc;
    s.cfg.alloc.free = count_free;
    s.cfg.guards = wsx_guards();
    s.cfg.message_rate = (wsx_rate){1, 3};
    wsx_callbacks_init(&s.cb);
    s.cb.on_message = echo;
    wsx_loop_opts lo;
    wsx_loop_opts_init(&lo);
    lo.backend = b;
    CHECK_EQ(e2e_server_start(&s, &lo, NULL), 0);
    int fd[CONNS];
    for (int i = 0; i < CONNS; i++) {
        fd[i] = raw_connect(s.port);
        CHECK(fd[i] >= 0);
        CHECK_EQ(raw_write(fd[i], raw_request, sizeof raw_request - 1), 0);
        char head[256];
        ssize_t got = 0;
        while (got < 4 || memcmp(head + got - 4, "\r\n\r\n", 4)) {
            if (recv(fd[i], head + got, 1, 0) != 1)
                break;
            got++;
        }
        CHECK(got > 12 && !memcmp(head, "HTTP/1.1 101", 12));
        /* Two messages: a guard is made, buffers may be. */
        CHECK_EQ(send_binary(fd[i], "one"), 0);
        CHECK_EQ(send_binary(fd[i], "two"), 0);
        CHECK_EQ(read_frame(fd[i]), 3);
        CHECK_EQ(read_frame(fd[i]), 3);
    }
    /* Quiet for longer than the idle tick (1 s after the last input):
     * each connection is one block. */
    long blocks = -1;
    for (int waited = 0; waited < 5000; waited += 50) {
        usleep(50 * 1000);
        blocks = atomic_load(&live_blocks);
        if (blocks == CONNS)
            break;
    }
    CHECK_EQ(blocks, CONNS);
    /* The quota holds across the release: a new guard's burst is 3, and
     * the fourth message in a row closes with 1008. */
    for (int i = 0; i < CONNS; i++) {
        for (int k = 0; k < 4; k++)
            CHECK_EQ(send_binary(fd[i], "msg"), 0);
        for (int k = 0; k < 3; k++)
            CHECK_EQ(read_frame(fd[i]), 3);
        uint8_t h[4];
        CHECK(recv(fd[i], h, 4, MSG_WAITALL) == 4 && h[0] == 0x88 &&
              ((h[2] << 8) | h[3]) == WSX_CLOSE_POLICY);
        close(fd[i]);
    }
    CHECK(e2e_wait_conns(&s, 0, 5000));
    e2e_server_stop(&s);
    CHECK_EQ(atomic_load(&live_blocks), 0);
}

static void test_idle_poll(void)
{
    run(WSX_LOOP_POLL);
}

static void test_idle_default(void)
{
    run(WSX_LOOP_DEFAULT);
}

int main(void)
{
    e2e_watchdog(60);
    RUN(test_idle_poll);
    RUN(test_idle_default);
    return test_summary("loop_idle");
}
