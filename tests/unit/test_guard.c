/* test_guard.c - the quotas of a server connection at their boundaries, on
 * a fake clock: exactly the burst passes and one more trips, the buckets
 * refill with time, both policies (close 1008 naming the quota, throttle
 * that holds input and resumes it from wsx_conn_tick without losing or
 * reordering a message), fragments per message and control frames; every
 * input fed whole and byte by byte. */
#include "conn_util.h"
#include "wsx_metrics.h"

/* The fake clock starts far from 0: quotas must not assume an origin. */
#define T0 5000000u

typedef struct guard_case {
    ep e; /* first: the ep callbacks see the case as their ep */
    wsx_config cfg;
    wsx_callbacks cb;
    char reason[64];
} guard_case;

static void gc_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    guard_case *g = (guard_case *)user;
    size_t n = ci->reason_len < sizeof g->reason - 1 ? ci->reason_len
                                                     : sizeof g->reason - 1;
    memcpy(g->reason, ci->reason ? ci->reason : "", n);
    g->reason[n] = 0;
    ep_close(c, ci, user);
}

/* A server connection past its handshake, at clock T0. */
static void gc_open(guard_case *g)
{
    ep_callbacks(&g->cb);
    g->cb.on_close = gc_close;
    g->cb.on_ping = NULL;
    g->e.c = wsx_conn_new(&g->cfg, &g->cb, g);
    wsx_conn_tick(g->e.c, T0);
    CHECK_EQ(wsx_conn_feed(g->e.c, (uint8_t *)rfc_request,
                           sizeof rfc_request - 1), 0);
    CHECK_EQ(g->e.opens, 1);
    ep_reset_out(&g->e);
}

static void gc_init(guard_case *g)
{
    memset(g, 0, sizeof *g);
    wsx_config_init(&g->cfg, WSX_SERVER);
    g->cfg.guards = wsx_guards();
}

/* n client frames of opcode b0 with `len`-byte payloads, one buffer. */
static size_t frames(uint8_t *out, int n, uint8_t b0, size_t len)
{
    uint8_t payload[256];
    size_t off = 0;
    memset(payload, 'x', sizeof payload);
    for (int i = 0; i < n; i++) {
        payload[0] = (uint8_t)('a' + i % 26);
        off += client_frame(out + off, b0, payload, len);
    }
    return off;
}

static void test_message_burst_then_close(void)
{
    for (int mode = 0; mode < 2; mode++) {
        guard_case g;
        uint8_t buf[4096];
        wsx_metrics m;
        gc_init(&g);
        wsx_metrics_init(&m);
        g.cfg.metrics = &m;
        g.cfg.message_rate.per_sec = 10;
        g.cfg.message_rate.burst = 5;
        gc_open(&g);
        size_t n = frames(buf, 5, 0x81, 3);
        CHECK_EQ(feed_split(g.e.c, buf, n, mode, &g.e.rng), 0);
        CHECK_EQ(g.e.msgs, 5);
        CHECK_EQ(g.e.closes, 0);
        n = frames(buf, 1, 0x81, 3);
        CHECK_EQ(feed_split(g.e.c, buf, n, mode, &g.e.rng), WSX_EQUOTA);
        CHECK_EQ(g.e.msgs, 5);
        CHECK_EQ(g.e.close_code, WSX_CLOSE_POLICY);
        CHECK_EQ(g.e.close_error, WSX_EQUOTA);
        CHECK(strcmp(g.reason, "message rate") == 0);
        CHECK_EQ(server_close_code(g.e.out, g.e.out_len), 1008);
        CHECK(mem_find(g.e.out, g.e.out_len, "message rate", 12) != NULL);
        wsx_quota_trips t;
        wsx_conn_quota_trips(g.e.c, &t);
        CHECK_EQ(t.message_rate, 1);
        CHECK_EQ(t.byte_rate + t.control_rate + t.fragments, 0);
        /* The registry counts the trip too (wsx_quota_trips_total). */
        CHECK_EQ(m.quota_trips[0], 1);
        CHECK_EQ(m.quota_trips[1] + m.quota_trips[2] + m.quota_trips[3], 0);
        ep_fini(&g.e);
    }
}

static void test_message_refill(void)
{
    /* At 10/s a token comes every 100 ms: after the burst, a message 99
     * ms later trips, one 100 ms later passes. */
    for (uint64_t wait = 99; wait <= 100; wait++) {
        guard_case g;
        uint8_t buf[4096];
        gc_init(&g);
        g.cfg.message_rate.per_sec = 10;
        g.cfg.message_rate.burst = 5;
        gc_open(&g);
        size_t n = frames(buf, 5, 0x82, 1);
        CHECK_EQ(wsx_conn_feed(g.e.c, buf, n), 0);
        wsx_conn_clock(g.e.c, T0 + wait);
        n = frames(buf, 1, 0x82, 1);
        CHECK_EQ(wsx_conn_feed(g.e.c, buf, n), wait == 100 ? 0 : WSX_EQUOTA);
        CHECK_EQ(g.e.msgs, wait == 100 ? 6 : 5);
        if (wait == 100) {
            /* A second later the burst is back, and no more than it. */
            wsx_conn_tick(g.e.c, T0 + 1100);
            n = frames(buf, 5, 0x82, 1);
            CHECK_EQ(wsx_conn_feed(g.e.c, buf, n), 0);
            CHECK_EQ(g.e.msgs, 11);
            n = frames(buf, 1, 0x82, 1);
            CHECK_EQ(wsx_conn_feed(g.e.c, buf, n), WSX_EQUOTA);
            CHECK_EQ(g.e.msgs, 11);
        }
        ep_fini(&g.e);
    }
}

static void test_byte_rate(void)
{
    for (int mode = 0; mode < 2; mode++) {
        guard_case g;
        uint8_t buf[4096];
        gc_init(&g);
        g.cfg.byte_rate.per_sec = 1000; /* one byte a millisecond */
        g.cfg.byte_rate.burst = 100;
        gc_open(&g);
        size_t n = client_frame(buf, 0x82, "0123456789012345678901234567890123456789"
                                           "01234567890123456789", 60);
        n += client_frame(buf + n, 0x82, "0123456789012345678901234567890123456789",
                          40);
        CHECK_EQ(feed_split(g.e.c, buf, n, mode, &g.e.rng), 0);
        CHECK_EQ(g.e.msgs, 2);
        /* An empty message costs no byte. */
        n = client_frame(buf, 0x82, "", 0);
        CHECK_EQ(feed_split(g.e.c, buf, n, mode, &g.e.rng), 0);
        CHECK_EQ(g.e.msgs, 3);
        /* Full again after 100 ms: a frame above the burst passes with a
         * full bucket and leaves it 100 bytes in debt. */
        wsx_conn_clock(g.e.c, T0 + 100);
        uint8_t big[200];
        memset(big, 'b', sizeof big);
        n = client_frame(buf, 0x82, big, sizeof big);
        CHECK_EQ(feed_split(g.e.c, buf, n, mode, &g.e.rng), 0);
        CHECK_EQ(g.e.msgs, 4);
        /* 199 ms later it holds 99 bytes: one byte short of the 100 a
         * full bucket needs. */
        wsx_conn_clock(g.e.c, T0 + 299);
        n = client_frame(buf, 0x82, big, sizeof big);
        CHECK_EQ(feed_split(g.e.c, buf, n, mode, &g.e.rng), WSX_EQUOTA);
        CHECK(strcmp(g.reason, "byte rate") == 0);
        wsx_quota_trips t;
        wsx_conn_quota_trips(g.e.c, &t);
        CHECK_EQ(t.byte_rate, 1);
        ep_fini(&g.e);
    }
}

static void test_control_rate(void)
{
    for (int mode = 0; mode < 2; mode++) {
        guard_case g;
        uint8_t buf[4096];
        gc_init(&g);
        g.cfg.control_rate.per_sec = 2;
        g.cfg.control_rate.burst = 3;
        gc_open(&g);
        size_t n = frames(buf, 2, 0x89, 4);
        n += frames(buf + n, 1, 0x8A, 4); /* an unsolicited pong counts */
        CHECK_EQ(feed_split(g.e.c, buf, n, mode, &g.e.rng), 0);
        CHECK_EQ(g.e.pongs, 1);
        CHECK_EQ(g.e.closes, 0);
        n = frames(buf, 1, 0x89, 4);
        CHECK_EQ(feed_split(g.e.c, buf, n, mode, &g.e.rng), WSX_EQUOTA);
        CHECK_EQ(g.e.close_code, WSX_CLOSE_POLICY);
        CHECK(strcmp(g.reason, "control rate") == 0);
        /* Two pongs answered the two pings before the close frame. */
        CHECK_EQ(server_close_code(g.e.out, g.e.out_len), 1008);
        ep_fini(&g.e);
    }
}

static void test_fragments(void)
{
    for (int policy = 0; policy < 2; policy++) {
        for (int mode = 0; mode < 2; mode++) {
            guard_case g;
            uint8_t buf[4096];
            wsx_metrics m;
            gc_init(&g);
            wsx_metrics_init(&m);
            g.cfg.metrics = &m;
            g.cfg.max_fragments = 4;
            g.cfg.quota_policy = (wsx_quota_policy)policy;
            gc_open(&g);
            /* 4 frames with a ping between: control frames are not
             * fragments. */
            size_t n = client_frame(buf, 0x01, "a", 1);
            n += client_frame(buf + n, 0x00, "b", 1);
            n += client_frame(buf + n, 0x89, "p", 1);
            n += client_frame(buf + n, 0x00, "c", 1);
            n += client_frame(buf + n, 0x80, "d", 1);
            CHECK_EQ(feed_split(g.e.c, buf, n, mode, &g.e.rng), 0);
            CHECK_EQ(g.e.msgs, 1);
            CHECK(g.e.msg_len == 4 && !memcmp(g.e.msg, "abcd", 4));
            n = client_frame(buf, 0x01, "a", 1);
            for (int i = 0; i < 4; i++)
                n += client_frame(buf + n, 0x00, "b", 1);
            CHECK_EQ(feed_split(g.e.c, buf, n, mode, &g.e.rng), WSX_EQUOTA);
            CHECK_EQ(g.e.msgs, 1);
            CHECK_EQ(g.e.close_code, WSX_CLOSE_POLICY);
            CHECK(strcmp(g.reason, "too many fragments") == 0);
            wsx_quota_trips t;
            wsx_conn_quota_trips(g.e.c, &t);
            CHECK_EQ(t.fragments, 1);
            CHECK_EQ(m.quota_trips[3], 1);
            ep_fini(&g.e);
        }
    }
}

/* Throttle: 12 messages at 10/s with a burst of 4 arrive at once. 4 pass,
 * the reader pauses, and each tick at the returned deadline lets exactly
 * one more through, in order, until all 12 are in. */
static void test_throttle(void)
{
    for (int mode = 0; mode < 2; mode++) {
        guard_case g;
        uint8_t buf[4096];
        gc_init(&g);
        g.cfg.message_rate.per_sec = 10;
        g.cfg.message_rate.burst = 4;
        g.cfg.quota_policy = WSX_QUOTA_THROTTLE;
        gc_open(&g);
        size_t n = frames(buf, 12, 0x81, 2);
        CHECK_EQ(feed_split(g.e.c, buf, n, mode, &g.e.rng), 0);
        CHECK_EQ(g.e.msgs, 4);
        CHECK(wsx_conn_paused(g.e.c));
        wsx_quota_trips t;
        wsx_conn_quota_trips(g.e.c, &t);
        CHECK_EQ(t.message_rate, 1);
        uint64_t now = T0, next = wsx_conn_tick(g.e.c, now);
        CHECK_EQ(next, T0 + 100);
        /* One millisecond early: nothing moves. */
        CHECK_EQ(wsx_conn_tick(g.e.c, next - 1), next);
        CHECK_EQ(g.e.msgs, 4);
        int ticks = 0;
        while (wsx_conn_paused(g.e.c) && ticks < 20) {
            now = next;
            next = wsx_conn_tick(g.e.c, now);
            ticks++;
            CHECK_EQ(g.e.msgs, 4 + ticks);
            CHECK_EQ(g.e.msg[0], 'a' + (3 + ticks) % 26);
        }
        CHECK_EQ(ticks, 8);
        CHECK_EQ(g.e.msgs, 12);
        CHECK_EQ(g.e.closes, 0);
        CHECK(!wsx_conn_paused(g.e.c));
        /* The pauses counted once each. */
        wsx_conn_quota_trips(g.e.c, &t);
        CHECK_EQ(t.message_rate, 1 + 7);
        /* The connection works on, and closes cleanly. */
        n = client_frame(buf, 0x88, "\x03\xe8", 2);
        CHECK_EQ(wsx_conn_feed(g.e.c, buf, n), 0);
        CHECK_EQ(g.e.close_code, 1000);
        CHECK(g.e.close_clean);
        ep_fini(&g.e);
    }
}

/* Throttled on bytes while a close frame waits behind: the close is read
 * only after the data before it, and a free while paused leaks nothing
 * (the held input goes with the connection). */
static void test_throttle_bytes_and_free(void)
{
    guard_case g;
    uint8_t buf[4096], big[100];
    gc_init(&g);
    g.cfg.byte_rate.per_sec = 1000;
    g.cfg.byte_rate.burst = 100;
    g.cfg.quota_policy = WSX_QUOTA_THROTTLE;
    gc_open(&g);
    memset(big, 'z', sizeof big);
    size_t n = client_frame(buf, 0x82, big, 100);
    n += client_frame(buf + n, 0x82, big, 50);
    n += client_frame(buf + n, 0x88, "\x03\xe8", 2);
    CHECK_EQ(wsx_conn_feed(g.e.c, buf, n), 0);
    CHECK_EQ(g.e.msgs, 1);
    CHECK(wsx_conn_paused(g.e.c));
    CHECK_EQ(wsx_conn_tick(g.e.c, T0), T0 + 50);
    wsx_conn_tick(g.e.c, T0 + 50);
    CHECK(!wsx_conn_paused(g.e.c));
    CHECK_EQ(g.e.msgs, 2);
    CHECK_EQ(g.e.close_code, 1000);
    ep_fini(&g.e);

    gc_init(&g);
    g.cfg.byte_rate.per_sec = 1000;
    g.cfg.byte_rate.burst = 100;
    g.cfg.quota_policy = WSX_QUOTA_THROTTLE;
    gc_open(&g);
    n = client_frame(buf, 0x82, big, 100);
    n += client_frame(buf + n, 0x82, big, 100);
    CHECK_EQ(wsx_conn_feed(g.e.c, buf, n), 0);
    /* More input while paused is held behind the rest. */
    n = client_frame(buf, 0x82, big, 10);
    CHECK_EQ(wsx_conn_feed(g.e.c, buf, n), 0);
    CHECK(wsx_conn_paused(g.e.c));
    CHECK_EQ(g.e.msgs, 1);
    ep_fini(&g.e); /* frees while paused: ASan and valgrind check */
}

/* An idle connection given wsx_conn_clock returns its guard with its
 * buffers once every bucket is full again, and gets a full one back at
 * the next clock: the quotas hold across the release, a bucket still in
 * debt keeps the guard (and asks for another tick), a trip keeps it for
 * good (its counts are never reset). */
static void test_idle_release(void)
{
    for (int variant = 0; variant < 3; variant++) {
        test_alloc ta;
        memset(&ta, 0, sizeof ta);
        guard_case g;
        uint8_t buf[4096];
        gc_init(&g);
        g.cfg.alloc = test_allocator(&ta);
        g.cfg.message_rate.per_sec = 10;
        g.cfg.message_rate.burst = 5;
        gc_open(&g);
        wsx_conn *c = g.e.c;
        wsx_conn_clock(c, T0);
        size_t n = frames(buf, variant == 2 ? 6 : 5, 0x82, 1);
        CHECK_EQ(wsx_conn_feed(c, buf, n), variant == 2 ? WSX_EQUOTA : 0);
        if (variant == 2) {
            /* Tripped (and closed): the guard stays with its count. */
            wsx_conn_tick(c, T0 + 1);
            wsx_conn_tick(c, T0 + 2000);
            wsx_quota_trips t;
            wsx_conn_quota_trips(c, &t);
            CHECK_EQ(t.message_rate, 1);
            ep_fini(&g.e);
            CHECK_EQ(ta.live, 0);
            continue;
        }
        uint64_t t1 = variant == 0 ? T0 + 1 : T0 + 100;
        wsx_conn_tick(c, t1); /* sees the input: not idle yet */
        long held = ta.live;
        /* Variant 1: an idle tick 200 ms after the burst finds the
         * bucket 3 tokens short: kept, and looked at again in 1 s. */
        uint64_t t2 = variant == 0 ? T0 + 1001 : T0 + 200;
        uint64_t next = wsx_conn_tick(c, t2);
        if (variant == 0) {
            CHECK_EQ(ta.live, 1); /* the connection alone */
            CHECK(ta.live < held);
            CHECK_EQ(next, UINT64_MAX);
        } else {
            CHECK_EQ(ta.live, held);
            CHECK_EQ(next, T0 + 1200);
        }
        /* Five pass again after a full refill, a sixth trips. */
        wsx_conn_clock(c, T0 + 2000);
        if (variant == 0)
            CHECK_EQ(ta.live, 2); /* the guard is back */
        n = frames(buf, 5, 0x82, 1);
        CHECK_EQ(wsx_conn_feed(c, buf, n), 0);
        CHECK_EQ(g.e.msgs, 10);
        n = frames(buf, 1, 0x82, 1);
        CHECK_EQ(wsx_conn_feed(c, buf, n), WSX_EQUOTA);
        CHECK_EQ(g.e.msgs, 10);
        ep_fini(&g.e);
        CHECK_EQ(ta.live, 0);
    }
}

/* Without wsx_guards() nothing is allocated for guards, and a config
 * that asks for one without it is refused rather than left unguarded. */
static void test_guards_cost_and_absence(void)
{
    test_alloc ta;
    memset(&ta, 0, sizeof ta);
    guard_case g;
    gc_init(&g);
    g.cfg.guards = NULL;
    g.cfg.alloc = test_allocator(&ta);
    ep_callbacks(&g.cb);
    wsx_conn *c = wsx_conn_new(&g.cfg, &g.cb, &g);
    CHECK(c != NULL);
    long plain = ta.allocs;
    wsx_conn_free(c);
    g.cfg.message_rate.per_sec = 1;
    CHECK(wsx_conn_new(&g.cfg, &g.cb, &g) == NULL);
    g.cfg.message_rate.per_sec = 0;
    g.cfg.origins = (const char *const[]){"http://a", NULL};
    CHECK(wsx_conn_new(&g.cfg, &g.cb, &g) == NULL);
    g.cfg.guards = wsx_guards();
    long before = ta.allocs;
    c = wsx_conn_new(&g.cfg, &g.cb, &g);
    /* The guard waits for the first frame: an idle connection has none. */
    CHECK_EQ(ta.allocs - before, plain);
    wsx_conn_free(c);
    CHECK_EQ(ta.live, 0);
    /* Allocation failure of the guard at the first frame fails the
     * connection cleanly. */
    g.cfg.origins = NULL;
    g.cfg.message_rate.per_sec = 10;
    gc_open(&g);
    uint8_t buf[64];
    size_t n = frames(buf, 1, 0x82, 1);
    ta.calls = 0;
    ta.fail_at = 1;
    CHECK_EQ(wsx_conn_feed(g.e.c, buf, n), WSX_ENOMEM);
    CHECK_EQ(g.e.msgs, 0);
    CHECK_EQ(g.e.close_error, WSX_ENOMEM);
    ep_fini(&g.e);
    CHECK_EQ(ta.live, 0);
}

int main(void)
{
    RUN(test_message_burst_then_close);
    RUN(test_message_refill);
    RUN(test_byte_rate);
    RUN(test_control_rate);
    RUN(test_fragments);
    RUN(test_throttle);
    RUN(test_throttle_bytes_and_free);
    RUN(test_guards_cost_and_absence);
    RUN(test_idle_release);
    return test_summary("guard");
}
