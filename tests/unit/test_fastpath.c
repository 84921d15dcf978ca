/* test_fastpath.c - the 16 B echo's short cuts have the general path's
 * semantics: a whole frame in the buffer (the reader's one-pass path) and
 * the same bytes fed one at a time or in random pieces (the state
 * machine) give the same events, echoes, metrics and close codes; a
 * server's small frame is framed as wsx_frame_build frames it; a token
 * bucket refilled in steps holds what one refill gives. */
#include "conn_util.h"
#include "rate.h"
#include "wsx_metrics.h"

#ifndef RUN
#define RUN(fn) fn()
#endif

/* What one run of a server connection produced. */
typedef struct run {
    ep e;
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_metrics m;
} run;

static void echo_message(wsx_conn *c, const wsx_message *m, void *user)
{
    ep_message(c, m, user);
    wsx_send(c, m->opcode, m->data, m->len);
}

static void run_open(run *r, size_t max_message)
{
    memset(r, 0, sizeof *r);
    wsx_metrics_init(&r->m);
    wsx_config_init(&r->cfg, WSX_SERVER);
    r->cfg.metrics = &r->m;
    if (max_message)
        r->cfg.max_message_size = r->cfg.max_frame_size = max_message;
    ep_callbacks(&r->cb);
    r->cb.on_message = echo_message;
    r->e.rng = 7;
    r->e.c = wsx_conn_new(&r->cfg, &r->cb, &r->e);
    CHECK_EQ(wsx_conn_feed(r->e.c, (uint8_t *)rfc_request,
                           sizeof rfc_request - 1), 0);
    CHECK_EQ(r->e.opens, 1);
    ep_reset_out(&r->e);
}

/* Feed in[0..n) in `mode` (0 whole, 1 bytewise, 2 random) and compare
 * everything observable with the whole feed's run, `ref`. */
static void same_as(const run *ref, const uint8_t *in, size_t n, int mode,
                    size_t max_message)
{
    run r;
    uint64_t rng = 99;
    run_open(&r, max_message);
    feed_split(r.e.c, in, n, mode, &rng);
    CHECK(!strcmp(r.e.log, ref->e.log));
    CHECK_EQ(r.e.out_len, ref->e.out_len);
    CHECK(r.e.out_len == ref->e.out_len &&
          !memcmp(r.e.out, ref->e.out, r.e.out_len));
    CHECK_EQ(r.m.messages_received[0], ref->m.messages_received[0]);
    CHECK_EQ(r.m.messages_received[1], ref->m.messages_received[1]);
    CHECK_EQ(r.m.bytes_received, ref->m.bytes_received);
    CHECK_EQ(r.m.bytes_sent, ref->m.bytes_sent);
    CHECK_EQ(r.e.close_code, ref->e.close_code);
    ep_fini(&r.e);
}

/* Every kind of frame around the whole-frame path's edges (lengths 0,
 * 125, 126, 65,535, 65,536; text and binary; fragments and a ping in the
 * middle of a message) in one buffer: whole, each frame is taken by the
 * one-pass path or handed to the state machine; split, only the latter
 * runs. */
static void test_whole_frames_as_split(void)
{
    static const size_t sizes[] = {0, 1, 16, 125, 126, 300, 65535, 65536};
    size_t cap = 4 * 70000 + 8 * 65536;
    uint8_t *in = malloc(cap), *pl = malloc(70000);
    size_t n = 0;
    for (size_t i = 0; i < 70000; i++)
        pl[i] = (uint8_t)('a' + i % 26);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        n += client_frame(in + n, 0x82, pl, sizes[i]);
        n += client_frame(in + n, 0x81, pl, sizes[i]);
    }
    n += client_frame(in + n, 0x01, pl, 10);     /* text, not FIN */
    n += client_frame(in + n, 0x89, "hi", 2);    /* ping inside it */
    n += client_frame(in + n, 0x80, pl + 10, 6); /* its end */
    n += client_frame(in + n, 0x82, pl, 16);     /* whole again */
    n += client_frame(in + n, 0x88, "\x03\xe8", 2);
    CHECK(n <= cap);
    if (n > cap)
        return;

    run ref;
    run_open(&ref, 0);
    uint64_t rng = 1;
    /* feed_split feeds a copy: the reader unmasks in place. */
    CHECK_EQ(feed_split(ref.e.c, in, n, 0, &rng), 0);
    CHECK_EQ(ref.e.msgs, 2 * 8 + 2);
    CHECK_EQ(ref.m.messages_received[0] + ref.m.messages_received[1], 18u);
    CHECK_EQ(ref.e.close_code, 1000);
    for (int mode = 1; mode <= 2; mode++)
        same_as(&ref, in, n, mode, 0);
    ep_fini(&ref.e);
    free(in);
    free(pl);
}

/* A frame the one-pass path must not deliver fails as the state machine
 * fails it, whole or split. */
static void test_whole_frame_refusals(void)
{
    static const struct {
        const char *what;
        uint8_t frame[24];
        size_t len;
        uint16_t code;
    } cases[] = {
        /* unmasked frame to a server (RFC 6455 §5.1) */
        {"unmasked", {0x82, 0x02, 'h', 'i'}, 4, 1002},
        /* RSV2 set, nothing negotiated (§5.2) */
        {"rsv2", {0xa2, 0x80, 0, 0, 0, 0}, 6, 1002},
        /* 16-bit length for 5 bytes: not minimal (§5.2) */
        {"not minimal", {0x82, 0xfe, 0, 5, 0, 0, 0, 0, 1, 2, 3, 4, 5}, 13, 1002},
        /* invalid UTF-8 in a whole text frame (§8.1) */
        {"utf8", {0x81, 0x82, 0, 0, 0, 0, 0xc0, 0x80}, 8, 1007},
        /* above max_message_size (64 here) */
        {"too big", {0x82, 0x80 | 65}, 2, 1009},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t in[128];
        memset(in, 0, sizeof in);
        memcpy(in, cases[i].frame, cases[i].len);
        size_t n = cases[i].len;
        if (!strcmp(cases[i].what, "too big"))
            n = 2 + 4 + 65; /* key and payload follow */
        run ref;
        run_open(&ref, 64);
        uint64_t rng = 1;
        feed_split(ref.e.c, in, n, 0, &rng);
        CHECK_EQ(ref.e.close_code, cases[i].code);
        CHECK_EQ(ref.e.msgs, 0);
        CHECK_EQ(server_close_code(ref.e.out, ref.e.out_len), cases[i].code);
        same_as(&ref, in, n, 1, 64);
        ep_fini(&ref.e);
    }
    /* A whole text frame while a fragmented message is open (§5.4). */
    uint8_t in[64];
    size_t n = client_frame(in, 0x01, "ab", 2);
    n += client_frame(in + n, 0x81, "cd", 2);
    run ref;
    uint64_t rng = 1;
    run_open(&ref, 0);
    feed_split(ref.e.c, in, n, 0, &rng);
    CHECK_EQ(ref.e.close_code, 1002);
    CHECK_EQ(ref.e.msgs, 0);
    same_as(&ref, in, n, 1, 0);
    ep_fini(&ref.e);
}

/* The server's small frames: header written in place, byte for byte what
 * wsx_frame_build writes, payload after it; the pong of a ping too. */
static void test_small_frames_framed(void)
{
    static const size_t sizes[] = {0, 1, 125, 126, 1000, WSX_SENDV_MIN - 1};
    uint8_t *pl = malloc(WSX_SENDV_MIN);
    for (size_t i = 0; i < WSX_SENDV_MIN; i++)
        pl[i] = (uint8_t)(i * 7);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        run r;
        run_open(&r, 0);
        CHECK_EQ(wsx_send(r.e.c, WSX_BINARY, pl, sizes[i]), 0);
        wsx_frame_header h;
        memset(&h, 0, sizeof h);
        h.fin = true;
        h.opcode = WSX_BINARY;
        h.length = sizes[i];
        uint8_t hb[WSX_FRAME_HEADER_MAX];
        size_t hl = wsx_frame_build(hb, &h);
        CHECK_EQ(r.e.out_len, hl + sizes[i]);
        CHECK(r.e.out_len == hl + sizes[i] && !memcmp(r.e.out, hb, hl) &&
              !memcmp(r.e.out + hl, pl, sizes[i]));
        ep_fini(&r.e);
    }
    run r;
    run_open(&r, 0);
    uint8_t in[32];
    size_t n = client_frame(in, 0x89, "ping!", 5);
    CHECK_EQ(wsx_conn_feed(r.e.c, in, n), 0);
    CHECK_EQ(r.e.out_len, 7u);
    CHECK(r.e.out_len == 7 && !memcmp(r.e.out, "\x8a\x05ping!", 7));
    ep_fini(&r.e);
    free(pl);
}

/* Refilling composes: any split of the elapsed time gives the tokens of
 * one refill, at the boundary (exactly full) and for silences longer
 * than 2^32 ms. */
static void test_bucket_refill_steps(void)
{
    static const wsx_rate rates[] = {{1, 0}, {7, 3}, {1000, 50}, {20000, 40000},
                                     {4000000000u, 4000000000u}};
    static const uint64_t gaps[] = {0, 1, 2, 3, 13, 999, 1000, 70000,
                                    (uint64_t)1 << 33};
    uint64_t rng = 5;
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        const wsx_rate *r = &rates[i];
        int64_t cap = wsx__rate_cap(r);
        for (size_t j = 0; j < sizeof gaps / sizeof gaps[0]; j++) {
            for (int k = 0; k < 20; k++) {
                int64_t start = cap - (int64_t)(test_rand(&rng) % (uint64_t)(2 * cap + 1));
                wsx__bucket one = {start, 100}, steps = {start, 100};
                wsx__bucket_refill(&one, r, 100 + gaps[j]);
                uint64_t t = 100;
                while (t < 100 + gaps[j]) {
                    uint64_t left = 100 + gaps[j] - t;
                    t += 1 + test_rand(&rng) % left;
                    wsx__bucket_refill(&steps, r, t);
                }
                /* The exact expectation, in 128-bit-free arithmetic. */
                int64_t want = cap;
                uint64_t missing = (uint64_t)(cap - start);
                if (start >= cap)
                    want = start;
                else if (gaps[j] < missing / r->per_sec + 1)
                    want = start + (int64_t)(gaps[j] * r->per_sec);
                if (want > cap && start < cap)
                    want = cap;
                CHECK_EQ(one.tokens, want);
                CHECK_EQ(steps.tokens, want);
                CHECK_EQ(one.at, 100 + gaps[j]);
            }
        }
    }
}

int main(void)
{
    RUN(test_whole_frames_as_split);
    RUN(test_whole_frame_refusals);
    RUN(test_small_frames_framed);
    RUN(test_bucket_refill_steps);
    return test_summary("fastpath");
}
