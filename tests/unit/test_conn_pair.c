/* test_conn_pair.c - a client and a server connection wired to each other
 * in memory: thousands of random messages (sizes to 1 MiB, random
 * fragmentation, interleaved pings) through send callbacks that take
 * random partial amounts and would-block at random, echoed back intact and
 * in order; then every allocation of a whole session failed in turn. */
#include "conn_util.h"
#include "wsx_deflate.h"

typedef struct pair {
    ep cli, srv;
    wsx_config ccfg, scfg;
    wsx_callbacks ccb, scb;
    uint64_t rng;
    /* Expected echoes: message i has seed i and size sizes[i]. */
    size_t *sizes;
    uint8_t *ops;
    int sent, checked, received, bad;
} pair;

static pair *g_pair;
static const wsx_extension *g_ext;      /* permessage-deflate or NULL */
static const wsx_deflate_config *g_ext_cfg;

static void fill(uint8_t *p, size_t n, int seed, uint8_t op)
{
    uint64_t s = (uint64_t)seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i++)
        p[i] = op == WSX_TEXT ? (uint8_t)('a' + (test_rand(&s) % 26))
                              : (uint8_t)test_rand(&s);
}

static void srv_echo(wsx_conn *c, const wsx_message *m, void *user)
{
    ep_message(c, m, user);
    int r = wsx_send(c, m->opcode, m->data, m->len);
    if (r)
        fprintf(stderr, "echo failed: %s\n", wsx_errname(r));
}

/* Echoes arrive in order; under failing allocations an echo may be lost
 * (the server's send reported it), never altered: match the next expected
 * message, skipping lost ones. */
static void cli_check(wsx_conn *c, const wsx_message *m, void *user)
{
    pair *p = g_pair;
    (void)c;
    (void)user;
    for (int i = p->checked; i < p->sent; i++) {
        uint8_t *want = malloc(p->sizes[i] + 1);
        fill(want, p->sizes[i], i, p->ops[i]);
        bool same = m->len == p->sizes[i] && m->opcode == p->ops[i] &&
                    !memcmp(m->data, want, m->len);
        free(want);
        if (same) {
            p->received++;
            p->checked = i + 1;
            return;
        }
    }
    p->bad++;
}

/* Move bytes each way until both sides are quiet. */
static void pump(pair *p)
{
    for (int rounds = 0; rounds < 100000; rounds++) {
        if (p->cli.c)
            wsx_conn_flush(p->cli.c);
        if (p->srv.c)
            wsx_conn_flush(p->srv.c);
        size_t a = p->cli.out_len;
        if (a && p->srv.c)
            feed_split(p->srv.c, p->cli.out, a, 2, &p->rng);
        p->cli.out_len = 0;
        size_t b = p->srv.out_len;
        if (b && p->cli.c)
            feed_split(p->cli.c, p->srv.out, b, 2, &p->rng);
        /* Bytes the client queued while being fed go on the next round. */
        if (b) {
            memmove(p->srv.out, p->srv.out + b, p->srv.out_len - b);
            p->srv.out_len -= b;
        }
        bool busy = (p->cli.c && wsx_conn_wants_write(p->cli.c)) ||
                    (p->srv.c && wsx_conn_wants_write(p->srv.c));
        if (!a && !b && !busy)
            return;
    }
}

static void pair_init(pair *p, wsx_allocator *ca, wsx_allocator *sa)
{
    memset(p, 0, sizeof *p);
    p->rng = 12345;
    p->cli.rng = 1;
    p->srv.rng = 2;
    p->cli.partial = p->srv.partial = 1;
    wsx_config_init(&p->ccfg, WSX_CLIENT);
    wsx_config_init(&p->scfg, WSX_SERVER);
    if (ca)
        p->ccfg.alloc = *ca;
    if (sa)
        p->scfg.alloc = *sa;
    p->ccfg.client.host = "localhost:9001";
    p->ccfg.client.path = "/echo?x=1";
    p->ccfg.client.protocols = "echo, chat";
    p->ccfg.extension = p->scfg.extension = g_ext;
    p->ccfg.extension_config = p->scfg.extension_config = g_ext_cfg;
    ep_callbacks(&p->ccb);
    ep_callbacks(&p->scb);
    p->ccb.on_message = cli_check;
    p->scb.on_message = srv_echo;
    /* Large echoes leave through the gather write, partly taken. */
    p->scb.sendv = p->ccb.sendv = ep_sendv;
    p->cli.c = wsx_conn_new(&p->ccfg, &p->ccb, &p->cli);
    p->srv.c = wsx_conn_new(&p->scfg, &p->scb, &p->srv);
}

static size_t random_size(uint64_t *rng)
{
    uint64_t r = test_rand(rng);
    switch (r % 20) {
    case 0:
        return (size_t)(r >> 8) % (1u << 20) + 1;
    case 1: case 2: case 3:
        return (size_t)(r >> 8) % 65536;
    default:
        return (size_t)(r >> 8) % 300;
    }
}

static void test_random_exchange(int count)
{
    pair p;
    g_pair = &p;
    pair_init(&p, NULL, NULL);
    CHECK(p.cli.c && p.srv.c);
    pump(&p);
    CHECK_EQ(p.cli.opens, 1);
    CHECK_EQ(p.srv.opens, 1);
    p.sizes = calloc((size_t)count, sizeof *p.sizes);
    p.ops = calloc((size_t)count, 1);
    for (int i = 0; i < count; i++) {
        size_t n = random_size(&p.rng);
        uint8_t op = (test_rand(&p.rng) & 1) ? WSX_TEXT : WSX_BINARY;
        uint8_t *buf = malloc(n + 1);
        fill(buf, n, i, op);
        p.sizes[i] = n;
        p.ops[i] = op;
        if (test_rand(&p.rng) % 3 == 0) {
            /* Random fragmentation, pings between the pieces. */
            size_t off = 0;
            bool done = false;
            while (!done) {
                size_t k = n - off ? 1 + (size_t)(test_rand(&p.rng) % (n - off)) : 0;
                done = off + k == n && (test_rand(&p.rng) & 1);
                CHECK_EQ(wsx_send_fragment(p.cli.c, (wsx_opcode)op, buf + off, k, done), 0);
                off += k;
                if (test_rand(&p.rng) % 4 == 0)
                    CHECK_EQ(wsx_ping(p.cli.c, "pi", 2), 0);
            }
        } else {
            CHECK_EQ(wsx_send(p.cli.c, (wsx_opcode)op, buf, n), 0);
        }
        p.sent++;
        free(buf);
        if (test_rand(&p.rng) % 8 == 0)
            pump(&p);
    }
    pump(&p);
    CHECK_EQ(p.received, count);
    CHECK_EQ(p.bad, 0);
    CHECK(p.cli.pongs > 0);
    CHECK_EQ(wsx_close(p.cli.c, 1000, "done"), 0);
    pump(&p);
    CHECK(wsx_conn_done(p.cli.c));
    CHECK(wsx_conn_done(p.srv.c));
    CHECK_EQ(p.srv.close_code, 1000);
    CHECK(p.srv.close_clean);
    CHECK_EQ(p.cli.close_code, 1000);
    CHECK(p.cli.close_clean);
    CHECK_EQ(p.cli.closes, 1);
    free(p.sizes);
    free(p.ops);
    ep_fini(&p.cli);
    ep_fini(&p.srv);
}

/* Fail the n-th allocation of a whole session, for every n: each failure
 * must end cleanly, and nothing may leak. */
static void test_failing_alloc(void)
{
    int failures_seen = 0;
    for (long n = 1; n < 200; n++) {
        for (int side = 0; side < 2; side++) {
            test_alloc ca = {0, side == 0 ? n : 0, 0, 0, 0, 0};
            test_alloc sa = {0, side == 1 ? n : 0, 0, 0, 0, 0};
            wsx_allocator cal = test_allocator(&ca), sal = test_allocator(&sa);
            pair p;
            g_pair = &p;
            pair_init(&p, &cal, &sal);
            p.sizes = calloc(4, sizeof *p.sizes);
            p.ops = calloc(4, 1);
            if (p.cli.c && p.srv.c) {
                pump(&p);
                static uint8_t big[70000];
                for (int i = 0; i < 3; i++) {
                    p.sizes[i] = i == 2 ? sizeof big : 10;
                    p.ops[i] = WSX_BINARY;
                    fill(big, p.sizes[i], i, WSX_BINARY);
                    p.sent++;
                    wsx_send(p.cli.c, WSX_BINARY, big, p.sizes[i]);
                }
                pump(&p);
                wsx_close(p.cli.c, 1000, NULL);
                pump(&p);
                CHECK(p.bad == 0);
            }
            if ((side == 0 ? ca.calls : sa.calls) >= n)
                failures_seen++;
            ep_fini(&p.cli);
            ep_fini(&p.srv);
            free(p.sizes);
            free(p.ops);
            CHECK_EQ(ca.live, 0);
            CHECK_EQ(sa.live, 0);
        }
    }
    CHECK(failures_seen > 10);
}

/* Firmware mode: both connections live in fixed arenas, no malloc. */
static void test_arena_session(void)
{
    static uint64_t cmem[8192], smem[8192]; /* 64 KiB each */
    wsx_allocator ca, sa;
    CHECK_EQ(wsx_arena_init(&ca, cmem, sizeof cmem), 0);
    CHECK_EQ(wsx_arena_init(&sa, smem, sizeof smem), 0);
    for (int round = 0; round < 3; round++) {
        pair p;
        g_pair = &p;
        pair_init(&p, &ca, &sa);
        CHECK(p.cli.c && p.srv.c);
        p.sizes = calloc(200, sizeof *p.sizes);
        p.ops = calloc(200, 1);
        pump(&p);
        uint8_t buf[2000];
        for (int i = 0; i < 200; i++) {
            p.sizes[i] = (size_t)(test_rand(&p.rng) % sizeof buf);
            p.ops[i] = WSX_BINARY;
            fill(buf, p.sizes[i], i, WSX_BINARY);
            p.sent++;
            CHECK_EQ(wsx_send(p.cli.c, WSX_BINARY, buf, p.sizes[i]), 0);
            pump(&p);
        }
        CHECK_EQ(p.received, 200);
        CHECK_EQ(p.bad, 0);
        wsx_close(p.cli.c, 1000, NULL);
        pump(&p);
        CHECK(wsx_conn_done(p.srv.c));
        free(p.sizes);
        free(p.ops);
        ep_fini(&p.cli);
        ep_fini(&p.srv);
    }
    /* Everything went back: one block as large as before is available. */
    void *big = ca.malloc(60000, ca.user);
    CHECK(big != NULL);
    ca.free(big, 60000, ca.user);
}

int main(void)
{
    int quick = getenv("WSX_QUICK") != NULL;
    RUN_AS("test_random_exchange", test_random_exchange(quick ? 300 : 3000));
    RUN(test_failing_alloc);
    RUN(test_arena_session);
    /* The same with permessage-deflate: default windows with context
     * takeover, then 8-bit windows with no context takeover. */
    wsx_deflate_config small;
    wsx_deflate_config_init(&small);
    small.server_max_window_bits = small.client_max_window_bits = 8;
    small.server_no_context_takeover = small.client_no_context_takeover = true;
    small.threshold = 0;
    g_ext = wsx_permessage_deflate();
    RUN_AS("test_random_exchange_deflate", test_random_exchange(quick ? 40 : 300));
    g_ext_cfg = &small;
    RUN_AS("test_random_exchange_deflate_8bit",
           test_random_exchange(quick ? 40 : 300));
    RUN_AS("test_failing_alloc_deflate", test_failing_alloc());
    return test_summary("conn_pair");
}
