/* test_read_into.c - wsx_conn_read_into / wsx_conn_feed_done: the rest of
 * a large frame written straight into the message buffer gives the
 * message wsx_conn_feed gives (binary, text, fragments, any split of the
 * direct part), UTF-8 still fails fast, and no region is offered where
 * it must not be (handshake, small rest, control frames, streaming,
 * failed or throttled connections, inside callbacks). */
#include "conn_util.h"

#ifndef RUN
#define RUN(fn) fn()
#endif

#define BIG (100u * 1024u)

typedef struct rig {
    ep e;
    wsx_config cfg;
    wsx_callbacks cb;
    int inside; /* read_into's answer from inside on_message */
} rig;

static void rig_message(wsx_conn *c, const wsx_message *m, void *user)
{
    rig *r = user;
    uint8_t *p;
    size_t len;
    r->inside = wsx_conn_read_into(c, &p, &len);
    ep_message(c, m, user);
}

static void rig_open(rig *r, bool streaming)
{
    memset(r, 0, sizeof *r);
    wsx_config_init(&r->cfg, WSX_SERVER);
    r->cfg.streaming = streaming;
    ep_callbacks(&r->cb);
    r->cb.on_message = rig_message;
    r->cb.on_fragment = ep_message;
    r->inside = -1;
    r->e.c = wsx_conn_new(&r->cfg, &r->cb, r);
    uint8_t *p;
    size_t len;
    CHECK_EQ(wsx_conn_read_into(r->e.c, &p, &len), 0); /* handshake */
    CHECK(p == NULL && len == 0);
    CHECK_EQ(wsx_conn_feed(r->e.c, (uint8_t *)rfc_request,
                           sizeof rfc_request - 1), 0);
    CHECK_EQ(r->e.opens, 1);
    ep_reset_out(&r->e);
}

/* Feed fed bytes of frame f[0..n) through wsx_conn_feed, the rest through
 * read_into/feed_done in pieces of `piece` bytes. Returns the last code. */
static int deliver(rig *r, const uint8_t *f, size_t n, size_t fed, size_t piece)
{
    uint8_t *copy = malloc(n);
    memcpy(copy, f, n);
    int ret = wsx_conn_feed(r->e.c, copy, fed);
    size_t off = fed;
    while (ret == 0 && off < n) {
        uint8_t *p;
        size_t len;
        if (wsx_conn_read_into(r->e.c, &p, &len) != 1) {
            ret = wsx_conn_feed(r->e.c, copy + off, n - off);
            off = n;
            break;
        }
        CHECK(len <= n - off);
        size_t k = piece < len ? piece : len;
        memcpy(p, f + off, k);
        ret = wsx_conn_feed_done(r->e.c, k);
        off += k;
    }
    free(copy);
    return ret;
}

static void test_binary_and_text_whole(void)
{
    uint8_t *pl = malloc(BIG), *f = malloc(BIG + 14);
    for (size_t i = 0; i < BIG; i++)
        pl[i] = (uint8_t)('A' + i % 50);
    static const size_t fed[] = {4, 8, 14, 1000, BIG - WSX_READ_INTO_MIN};
    static const size_t pieces[] = {1 << 30, 4096, 7777};
    for (int text = 0; text <= 1; text++) {
        size_t n = client_frame(f, text ? 0x81 : 0x82, pl, BIG);
        for (size_t i = 0; i < sizeof fed / sizeof fed[0]; i++) {
            for (size_t j = 0; j < sizeof pieces / sizeof pieces[0]; j++) {
                rig r;
                rig_open(&r, false);
                CHECK_EQ(deliver(&r, f, n, fed[i], pieces[j]), 0);
                CHECK_EQ(r.e.msgs, 1);
                CHECK_EQ(r.e.msg_len, BIG);
                CHECK(r.e.msg_len == BIG && !memcmp(r.e.msg, pl, BIG));
                CHECK_EQ(r.inside, 0); /* never from a callback */
                /* Nothing is left half-done: a small frame follows. */
                uint8_t g[32];
                size_t gn = client_frame(g, 0x82, "next", 4);
                CHECK_EQ(wsx_conn_feed(r.e.c, g, gn), 0);
                CHECK_EQ(r.e.msgs, 2);
                CHECK(r.e.msg_len == 4 && !memcmp(r.e.msg, "next", 4));
                ep_fini(&r.e);
            }
        }
    }
    free(pl);
    free(f);
}

/* A message of two large fragments, each partly read straight in. */
static void test_fragments(void)
{
    uint8_t *pl = malloc(2 * BIG), *f = malloc(2 * BIG + 28);
    for (size_t i = 0; i < 2 * BIG; i++)
        pl[i] = (uint8_t)(i * 13 + 1);
    size_t n1 = client_frame(f, 0x02, pl, BIG);
    size_t n2 = client_frame(f + n1, 0x80, pl + BIG, BIG);
    rig r;
    rig_open(&r, false);
    CHECK_EQ(deliver(&r, f, n1, 100, 5000), 0);
    CHECK_EQ(r.e.msgs, 0);
    CHECK_EQ(deliver(&r, f + n1, n2, 14, 1 << 20), 0);
    CHECK_EQ(r.e.msgs, 1);
    CHECK(r.e.msg_len == 2 * BIG && !memcmp(r.e.msg, pl, 2 * BIG));
    ep_fini(&r.e);
    free(pl);
    free(f);
}

/* Invalid UTF-8 in the part read straight in fails the connection with
 * 1007 in the feed_done that carries it, before the rest arrives. */
static void test_utf8_fails_fast(void)
{
    uint8_t *pl = malloc(BIG), *f = malloc(BIG + 14);
    memset(pl, 'a', BIG);
    pl[50000] = 0xff;
    size_t n = client_frame(f, 0x81, pl, BIG);
    rig r;
    rig_open(&r, false);
    uint8_t *copy = malloc(n);
    memcpy(copy, f, n);
    CHECK_EQ(wsx_conn_feed(r.e.c, copy, 14 + 1000), 0);
    uint8_t *p;
    size_t len;
    CHECK_EQ(wsx_conn_read_into(r.e.c, &p, &len), 1);
    memcpy(p, f + 14 + 1000, 40000);
    CHECK_EQ(wsx_conn_feed_done(r.e.c, 40000), 0); /* all valid so far */
    CHECK_EQ(wsx_conn_read_into(r.e.c, &p, &len), 1);
    memcpy(p, f + 14 + 41000, 20000);
    CHECK_EQ(wsx_conn_feed_done(r.e.c, 20000), WSX_EUTF8);
    CHECK_EQ(r.e.close_code, 1007);
    CHECK_EQ(server_close_code(r.e.out, r.e.out_len), 1007);
    CHECK_EQ(wsx_conn_read_into(r.e.c, &p, &len), 0);
    CHECK_EQ(wsx_conn_feed_done(r.e.c, 1), WSX_EUTF8); /* sticky */
    CHECK_EQ(r.e.msgs, 0);
    ep_fini(&r.e);
    free(copy);
    free(pl);
    free(f);
}

/* Where no region is offered, and what feed_done says then. */
static void test_no_region(void)
{
    uint8_t *pl = malloc(BIG), *f = malloc(BIG + 14), *p;
    size_t len;
    memset(pl, 'z', BIG);
    rig r;

    /* A small rest: the normal feed reads it with what follows. */
    size_t n = client_frame(f, 0x82, pl, WSX_READ_INTO_MIN + 10);
    rig_open(&r, false);
    CHECK_EQ(wsx_conn_feed(r.e.c, f, 20), 0);
    CHECK_EQ(wsx_conn_read_into(r.e.c, &p, &len), 0);
    CHECK_EQ(wsx_conn_feed_done(r.e.c, 1), WSX_EINVAL);
    CHECK_EQ(wsx_conn_feed(r.e.c, f + 20, n - 20), 0);
    CHECK_EQ(r.e.msgs, 1);
    /* Between frames: a header comes next. */
    CHECK_EQ(wsx_conn_read_into(r.e.c, &p, &len), 0);
    ep_fini(&r.e);

    /* Streaming delivery hands out pieces: no assembly to read into. */
    n = client_frame(f, 0x82, pl, BIG);
    rig_open(&r, true);
    CHECK_EQ(wsx_conn_feed(r.e.c, f, 14), 0);
    CHECK_EQ(wsx_conn_read_into(r.e.c, &p, &len), 0);
    ep_fini(&r.e);

    /* More than offered is refused and changes nothing. */
    rig_open(&r, false);
    CHECK_EQ(wsx_conn_feed(r.e.c, f, 14), 0);
    CHECK_EQ(wsx_conn_read_into(r.e.c, &p, &len), 1);
    CHECK_EQ(len, BIG);
    CHECK_EQ(wsx_conn_feed_done(r.e.c, BIG + 1), WSX_EINVAL);
    CHECK_EQ(wsx_conn_feed(r.e.c, f + 14, n - 14), 0);
    CHECK_EQ(r.e.msgs, 1);
    CHECK(r.e.msg_len == BIG && !memcmp(r.e.msg, pl, BIG));
    ep_fini(&r.e);

    /* Above max_message_size: refused at the header, nothing reserved. */
    rig_open(&r, false);
    r.cfg.max_message_size = BIG - 1;
    CHECK(wsx_conn_feed(r.e.c, f, 14) < 0);
    CHECK_EQ(r.e.close_code, 1009);
    CHECK_EQ(wsx_conn_read_into(r.e.c, &p, &len), 0);
    ep_fini(&r.e);
    free(pl);
    free(f);
}

int main(void)
{
    RUN(test_binary_and_text_whole);
    RUN(test_fragments);
    RUN(test_utf8_fails_fast);
    RUN(test_no_region);
    return test_summary("read_into");
}
