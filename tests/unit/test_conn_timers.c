/* test_conn_timers.c - one clock convention: every value of the caller's
 * clock is a valid time, 0 included. Each timer (handshake, keep-alive
 * ping, idle, close, idle-buffer release) runs from the origins 0, 1,
 * 2^63 and near UINT64_MAX, the caller ticking exactly at each deadline
 * wsx_conn_tick returns, as a timer wheel or firmware loop would; the
 * timer must fire at its deadline, not before, not later. */
#include "conn_util.h"


static const uint64_t origins[] = {0, 1, 1ull << 63, UINT64_MAX - 100000};
#define NORIGINS (sizeof origins / sizeof origins[0])

typedef struct clk {
    ep e;
    wsx_config cfg;
    wsx_callbacks cb;
    test_alloc alloc;
    uint64_t now, next;
} clk;

/* A server (or client) connection with the given timers, ticked once at
 * the origin (clk_go); a server reads the RFC 6455 §1.3 request when
 * `open`. */
static void clk_start(clk *k, wsx_role role, uint64_t origin)
{
    memset(k, 0, sizeof *k);
    k->e.rng = 42;
    wsx_config_init(&k->cfg, role);
    k->cfg.alloc = test_allocator(&k->alloc);
    if (role == WSX_CLIENT)
        k->cfg.client.host = "example.com";
    ep_callbacks(&k->cb);
    k->now = origin;
}

static void clk_go(clk *k, bool open)
{
    k->e.c = wsx_conn_new(&k->cfg, &k->cb, &k->e);
    CHECK(k->e.c != NULL);
    if (open) {
        uint8_t req[sizeof rfc_request];
        memcpy(req, rfc_request, sizeof rfc_request);
        CHECK_EQ(wsx_conn_feed(k->e.c, req, sizeof rfc_request - 1), 0);
        CHECK_EQ(wsx_conn_state(k->e.c), WSX_STATE_OPEN);
    }
    k->next = wsx_conn_tick(k->e.c, k->now);
    CHECK(k->next > k->now);
}

/* Tick at the returned deadline; returns the time ticked. */
static uint64_t clk_step(clk *k)
{
    CHECK(k->next != UINT64_MAX);
    k->now = k->next;
    k->next = wsx_conn_tick(k->e.c, k->now);
    CHECK(k->next > k->now);
    return k->now;
}

/* The code of the first close frame after the 101 head. */
static int close_sent(const clk *k)
{
    const uint8_t *end = mem_find(k->e.out, k->e.out_len, "\r\n\r\n", 4);
    if (!end)
        return -1;
    size_t head = (size_t)(end - k->e.out) + 4;
    return server_close_code(k->e.out + head, k->e.out_len - head);
}

static void clk_end(clk *k)
{
    ep_fini(&k->e);
    CHECK_EQ(k->alloc.live, 0);
}

/* A server that never gets its request answers 408 at the deadline. */
static void test_handshake_timeout(void)
{
    for (size_t i = 0; i < NORIGINS; i++) {
        uint64_t o = origins[i];
        for (int role = WSX_SERVER; role <= WSX_CLIENT; role++) {
            clk k;
            clk_start(&k, (wsx_role)role, o);
            k.cfg.handshake_timeout_ms = 3000;
            clk_go(&k, false);
            CHECK(k.next == o + 3000);
            /* One millisecond early changes nothing. */
            CHECK(wsx_conn_tick(k.e.c, o + 2999) == o + 3000);
            CHECK_EQ(wsx_conn_state(k.e.c), WSX_STATE_HANDSHAKE);
            CHECK(clk_step(&k) == o + 3000);
            CHECK_EQ(wsx_conn_state(k.e.c), WSX_STATE_CLOSED);
            CHECK_EQ(wsx_conn_error(k.e.c), WSX_ETIMEOUT);
            CHECK_EQ(k.e.closes, 1);
            CHECK(k.next == UINT64_MAX);
            if (role == WSX_SERVER)
                CHECK(mem_find(k.e.out, k.e.out_len, " 408 ", 5) != NULL);
            clk_end(&k);
        }
    }
}

/* The reproduction from issue 21: idle 5000 from clock 0 must close at
 * 5000 (it closed at ~11000: 0 meant "never ticked"). */
static void test_idle_timeout(void)
{
    for (size_t i = 0; i < NORIGINS; i++) {
        uint64_t o = origins[i];
        clk k;
        clk_start(&k, WSX_SERVER, o);
        k.cfg.idle_timeout_ms = 5000;
        clk_go(&k, true);
        CHECK(k.next == o + 5000);
        CHECK(wsx_conn_tick(k.e.c, o + 4999) == o + 5000);
        CHECK_EQ(wsx_conn_state(k.e.c), WSX_STATE_OPEN);
        CHECK(clk_step(&k) == o + 5000);
        CHECK_EQ(wsx_conn_state(k.e.c), WSX_STATE_CLOSING);
        CHECK_EQ(close_sent(&k), 1001);
        /* Then the close timeout (5 s by default) from there. */
        CHECK(k.next == o + 10000);
        CHECK(clk_step(&k) == o + 10000);
        CHECK_EQ(wsx_conn_state(k.e.c), WSX_STATE_CLOSED);
        CHECK_EQ(wsx_conn_error(k.e.c), WSX_ETIMEOUT);
        clk_end(&k);

        /* The exact steps: tick at the origin, then 6 s later. */
        clk_start(&k, WSX_SERVER, o);
        k.cfg.idle_timeout_ms = 5000;
        clk_go(&k, true);
        wsx_conn_tick(k.e.c, o + 6000);
        CHECK_EQ(wsx_conn_state(k.e.c), WSX_STATE_CLOSING);
        clk_end(&k);
    }
}

/* Input restarts the silence: input at a tick moves the idle deadline. */
static void test_idle_input_restarts(void)
{
    for (size_t i = 0; i < NORIGINS; i++) {
        uint64_t o = origins[i];
        clk k;
        uint8_t f[64];
        clk_start(&k, WSX_SERVER, o);
        k.cfg.idle_timeout_ms = 5000;
        clk_go(&k, true);
        size_t n = client_frame(f, 0x8a, "", 0); /* an unsolicited pong */
        CHECK_EQ(wsx_conn_feed(k.e.c, f, n), 0);
        CHECK(wsx_conn_tick(k.e.c, o + 3000) == o + 8000);
        CHECK(wsx_conn_tick(k.e.c, o + 7999) == o + 8000);
        CHECK_EQ(wsx_conn_state(k.e.c), WSX_STATE_OPEN);
        CHECK(wsx_conn_tick(k.e.c, o + 8000) > o + 8000);
        CHECK_EQ(wsx_conn_state(k.e.c), WSX_STATE_CLOSING);
        clk_end(&k);
    }
}

/* Keep-alive: a ping after ping_interval of silence, the next one only
 * after the pong and another interval. */
static void test_ping_interval(void)
{
    for (size_t i = 0; i < NORIGINS; i++) {
        uint64_t o = origins[i];
        clk k;
        uint8_t f[64];
        clk_start(&k, WSX_SERVER, o);
        k.cfg.ping_interval_ms = 2000;
        clk_go(&k, true);
        CHECK(k.next == o + 2000);
        size_t head = k.e.out_len;
        CHECK(wsx_conn_tick(k.e.c, o + 1999) == o + 2000);
        CHECK_EQ(k.e.out_len, head);
        CHECK(clk_step(&k) == o + 2000);
        /* The ping went out: 0x89 0x00. */
        CHECK_EQ(k.e.out_len, head + 2);
        CHECK(k.e.out_len == head + 2 && k.e.out[head] == 0x89);
        /* The pong arrives at +2500; the next ping is due 2 s later. */
        size_t n = client_frame(f, 0x8a, "", 0);
        CHECK_EQ(wsx_conn_feed(k.e.c, f, n), 0);
        uint64_t t = wsx_conn_tick(k.e.c, o + 2500);
        /* The buffer-release check may come first; then the ping. */
        while (t < o + 4500) {
            CHECK_EQ(k.e.out_len, head + 2);
            t = wsx_conn_tick(k.e.c, t);
        }
        CHECK(t == o + 4500);
        wsx_conn_tick(k.e.c, o + 4500);
        CHECK_EQ(k.e.out_len, head + 4);
        clk_end(&k);
    }
}

/* Our close, unanswered: the connection ends at the close timeout. */
static void test_close_timeout(void)
{
    for (size_t i = 0; i < NORIGINS; i++) {
        uint64_t o = origins[i];
        clk k;
        clk_start(&k, WSX_SERVER, o);
        k.cfg.close_timeout_ms = 700;
        clk_go(&k, true);
        CHECK_EQ(wsx_close(k.e.c, 1000, NULL), 0);
        k.next = wsx_conn_tick(k.e.c, o);
        CHECK(k.next == o + 700);
        CHECK(wsx_conn_tick(k.e.c, o + 699) == o + 700);
        CHECK_EQ(wsx_conn_state(k.e.c), WSX_STATE_CLOSING);
        CHECK(clk_step(&k) == o + 700);
        CHECK_EQ(wsx_conn_state(k.e.c), WSX_STATE_CLOSED);
        CHECK_EQ(k.e.close_code, 1006);
        CHECK_EQ(wsx_conn_error(k.e.c), WSX_ETIMEOUT);
        CHECK(k.next == UINT64_MAX);
        clk_end(&k);
    }
}

/* A connection whose buffers saw no use for a tick period gives them
 * back: only sizeof(wsx_conn) stays allocated. */
static void test_idle_buffer_release(void)
{
    for (size_t i = 0; i < NORIGINS; i++) {
        uint64_t o = origins[i];
        clk k;
        uint8_t f[300];
        clk_start(&k, WSX_SERVER, o);
        clk_go(&k, true);
        size_t idle_bytes = k.alloc.live_bytes;
        CHECK(k.next == UINT64_MAX); /* nothing held, nothing due */
        /* A message split in two reads is assembled in a buffer. */
        uint8_t msg[200];
        memset(msg, 'x', sizeof msg);
        size_t n = client_frame(f, 0x82, msg, sizeof msg);
        CHECK_EQ(wsx_conn_feed(k.e.c, f, 50), 0);
        CHECK_EQ(wsx_conn_feed(k.e.c, f + 50, n - 50), 0);
        CHECK_EQ(k.e.msgs, 1);
        CHECK(k.alloc.live_bytes > idle_bytes);
        k.next = wsx_conn_tick(k.e.c, o);
        CHECK(k.next == o + 1000);
        CHECK(clk_step(&k) == o + 1000);
        CHECK_EQ(k.alloc.live_bytes, idle_bytes);
        CHECK(k.next == UINT64_MAX);
        clk_end(&k);
    }
}

/* Deadlines past the end of the clock fire at its last value, and what
 * is returned is always ahead of now. */
static void test_clock_end(void)
{
    clk k;
    uint64_t o = UINT64_MAX - 10;
    clk_start(&k, WSX_SERVER, o);
    k.cfg.idle_timeout_ms = 5000;
    clk_go(&k, true);
    CHECK(k.next == UINT64_MAX - 1);
    CHECK(clk_step(&k) == UINT64_MAX - 1);
    /* Idle close, and the close timeout also saturated: both at once. */
    CHECK_EQ(wsx_conn_state(k.e.c), WSX_STATE_CLOSED);
    CHECK_EQ(close_sent(&k), 1001);
    clk_end(&k);

    clk_start(&k, WSX_SERVER, UINT64_MAX - 1);
    k.cfg.handshake_timeout_ms = 1;
    clk_go(&k, false);
    CHECK_EQ(wsx_conn_state(k.e.c), WSX_STATE_CLOSED);
    CHECK(wsx_conn_tick(k.e.c, UINT64_MAX) == UINT64_MAX);
    clk_end(&k);
}

int main(void)
{
    RUN(test_handshake_timeout);
    RUN(test_idle_timeout);
    RUN(test_idle_input_restarts);
    RUN(test_ping_interval);
    RUN(test_close_timeout);
    RUN(test_idle_buffer_release);
    RUN(test_clock_end);
    return test_summary("conn_timers");
}
