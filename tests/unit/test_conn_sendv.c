/* test_conn_sendv.c - the gather write (wsx_callbacks.sendv): a large
 * frame leaves as queue + header + the caller's payload without a copy;
 * the transport taking any amount (every split point), nothing
 * (WSX_EAGAIN) or failing; what it leaves is queued and flushed in order,
 * after the frames queued before it and before those queued after; small
 * frames, pull mode and the client role (masking) keep the queue. */
#include "conn.h"
#include "conn_util.h"

#include <limits.h>

/* A transport scripted by the test: sendv takes `take` bytes (then
 * everything), send takes all unless `blocked`. */
typedef struct tp {
    ep e;
    long take;         /* next sendv: bytes taken, or a WSX_E* code */
    bool blocked;      /* send returns WSX_EAGAIN */
    bool free_in_sendv;
    int sendv_calls, pieces;
    const void *payload_seen; /* base of the last piece sendv got */
} tp;

static wsx_config scfg, ccfg;
static wsx_callbacks scb, ccb;

static long tp_send(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    tp *t = user;
    if (t->blocked)
        return WSX_EAGAIN;
    return ep_send(c, p, len, &t->e);
}

static long tp_sendv(wsx_conn *c, const wsx_iovec *v, int n, void *user)
{
    tp *t = user;
    t->sendv_calls++;
    t->pieces = n;
    t->payload_seen = v[n - 1].base;
    if (t->free_in_sendv) {
        wsx_conn_free(c);
        t->e.c = NULL;
        return WSX_EAGAIN;
    }
    long want = t->take, took = 0;
    t->take = LONG_MAX;
    if (want < 0)
        return want;
    for (int i = 0; i < n && took < want; i++) {
        size_t k = v[i].len;
        if (k > (size_t)(want - took))
            k = (size_t)(want - took);
        ep_send(c, v[i].base, k, &t->e);
        took += (long)k;
    }
    return took;
}

/* Callbacks get the tp (its ep first), so ep's recorders work as is. */
static void setup(void)
{
    wsx_config_init(&scfg, WSX_SERVER);
    ep_callbacks(&scb);
    scb.send = tp_send;
    scb.sendv = tp_sendv;
    wsx_config_init(&ccfg, WSX_CLIENT);
    ccfg.client.host = "localhost";
    ccfg.client.path = "/";
    ep_callbacks(&ccb);
    ccb.send = tp_send;
    ccb.sendv = tp_sendv;
}

static void server_open(tp *t)
{
    memset(t, 0, sizeof *t);
    t->e.rng = 5;
    t->take = LONG_MAX;
    t->e.c = wsx_conn_new(&scfg, &scb, t);
    wsx_conn_tick(t->e.c, 1);
    uint8_t buf[sizeof rfc_request];
    memcpy(buf, rfc_request, sizeof rfc_request - 1);
    wsx_conn_feed(t->e.c, buf, sizeof rfc_request - 1);
    ep_reset_out(&t->e);
}

static void pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + seed + (i >> 8));
}

/* Parse server output: frames of the given payload sizes, in order, each
 * carrying pattern(seed = its index). */
static bool frames_are(const uint8_t *p, size_t n, const size_t *sizes,
                       int count)
{
    size_t off = 0;
    for (int i = 0; i < count; i++) {
        wsx_frame_header h;
        int r = wsx_frame_parse(&h, p + off, n - off);
        if (r <= 0 || h.masked || h.opcode != WSX_BINARY || !h.fin ||
            h.length != sizes[i] || n - off - (size_t)r < sizes[i])
            return false;
        off += (size_t)r;
        uint8_t *want = malloc(sizes[i] + 1);
        pattern(want, sizes[i], (unsigned)i);
        bool same = !memcmp(p + off, want, sizes[i]);
        free(want);
        if (!same)
            return false;
        off += sizes[i];
    }
    return off == n;
}

/* Small frame queued (the transport blocked), then a large one whose
 * gather write the transport takes k bytes of, for every k from 0 to the
 * whole; then a small one after it; then everything flushed. The wire
 * must read small, large, small; the large payload must have come
 * straight from the caller's buffer; the queue must hold exactly what
 * was not taken. */
static void test_sendv_every_split(void)
{
    enum { SMALL = 5, BIG = WSX_SENDV_MIN };
    static uint8_t small0[SMALL], big[BIG], small2[SMALL];
    size_t sizes[3] = {SMALL, BIG, SMALL};
    pattern(small0, SMALL, 0);
    pattern(big, BIG, 1);
    pattern(small2, SMALL, 2);
    size_t total = (2 + SMALL) + (4 + BIG);
    int bad = 0, checked = 0;
    for (size_t k = 0; k <= total; k++) {
        tp t;
        server_open(&t);
        t.blocked = true;
        int r0 = wsx_send(t.e.c, WSX_BINARY, small0, SMALL);
        t.take = (long)k;
        int r1 = wsx_send(t.e.c, WSX_BINARY, big, BIG);
        size_t left = total - k;
        bool ok = r0 == 0 && r1 == 0 && t.sendv_calls == 1 && t.pieces == 3 &&
                  t.payload_seen == big && t.e.out_len == k &&
                  wsx_buffered_amount(t.e.c) == left;
        int r2 = wsx_send(t.e.c, WSX_BINARY, small2, SMALL);
        t.blocked = false;
        int rf = wsx_conn_flush(t.e.c);
        ok = ok && r2 == 0 && rf == 0 && wsx_buffered_amount(t.e.c) == 0 &&
             frames_are(t.e.out, t.e.out_len, sizes, 3);
        if (!ok && bad++ < 3)
            fprintf(stderr, "split at %zu of %zu fails\n", k, total);
        checked++;
        ep_fini(&t.e);
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(checked, (int)total + 1);
}

/* With nothing queued the gather write gets header and payload only. */
static void test_sendv_empty_queue(void)
{
    static uint8_t big[3 * WSX_SENDV_MIN];
    size_t sizes[1] = {sizeof big};
    pattern(big, sizeof big, 0);
    tp t;
    server_open(&t);
    CHECK_EQ(wsx_send(t.e.c, WSX_BINARY, big, sizeof big), 0);
    CHECK_EQ(t.sendv_calls, 1);
    CHECK_EQ(t.pieces, 2);
    CHECK(t.payload_seen == big);
    CHECK_EQ(wsx_buffered_amount(t.e.c), 0);
    /* Everything left at once: no queue was allocated for it. */
    CHECK(t.e.c->out.p == NULL);
    CHECK(frames_are(t.e.out, t.e.out_len, sizes, 1));
    ep_fini(&t.e);
}

/* EAGAIN: all of it queued; the next flush sends it, and on_drain fires
 * once the backlog falls to low_water. */
static void test_sendv_eagain_then_drain(void)
{
    static uint8_t big[WSX_SENDV_MIN + 1000];
    size_t sizes[1] = {sizeof big};
    pattern(big, sizeof big, 0);
    wsx_config cfg = scfg;
    cfg.high_water = 1000;
    tp t;
    memset(&t, 0, sizeof t);
    t.take = WSX_EAGAIN;
    t.e.c = wsx_conn_new(&cfg, &scb, &t);
    uint8_t buf[sizeof rfc_request];
    memcpy(buf, rfc_request, sizeof rfc_request - 1);
    wsx_conn_feed(t.e.c, buf, sizeof rfc_request - 1);
    ep_reset_out(&t.e);
    t.take = WSX_EAGAIN;
    t.blocked = true;
    CHECK_EQ(wsx_send(t.e.c, WSX_BINARY, big, sizeof big), 0);
    CHECK_EQ(t.e.out_len, 0);
    CHECK_EQ(wsx_buffered_amount(t.e.c), 4 + sizeof big);
    CHECK(wsx_conn_wants_write(t.e.c));
    /* Above high water now: refused, nothing queued. */
    CHECK_EQ(wsx_send(t.e.c, WSX_BINARY, big, 10), WSX_EFULL);
    CHECK_EQ(t.e.drains, 0);
    t.blocked = false;
    CHECK_EQ(wsx_conn_flush(t.e.c), 0);
    CHECK_EQ(t.e.drains, 1);
    CHECK(frames_are(t.e.out, t.e.out_len, sizes, 1));
    ep_fini(&t.e);
}

/* A transport error in the gather write fails the connection (1006,
 * WSX_EIO) and the send that met it; nothing more is sent. */
static void test_sendv_error(void)
{
    static uint8_t big[WSX_SENDV_MIN];
    tp t;
    server_open(&t);
    t.take = -100;
    CHECK_EQ(wsx_send(t.e.c, WSX_BINARY, big, sizeof big), WSX_EIO);
    CHECK_EQ(t.e.closes, 1);
    CHECK_EQ(t.e.close_code, 1006);
    CHECK_EQ(t.e.close_error, WSX_EIO);
    CHECK_EQ(wsx_conn_error(t.e.c), WSX_EIO);
    CHECK(wsx_conn_done(t.e.c));
    CHECK_EQ(wsx_send(t.e.c, WSX_BINARY, big, 1), WSX_EIO);
    CHECK_EQ(t.e.out_len, 0);
    ep_fini(&t.e);
}

/* The application frees the connection inside the gather write. */
static void test_sendv_free_inside(void)
{
    static uint8_t big[WSX_SENDV_MIN];
    tp t;
    server_open(&t);
    t.free_in_sendv = true;
    /* The send did not complete: WSX_ECLOSED, as wsx.h words it. */
    CHECK_EQ(wsx_send(t.e.c, WSX_BINARY, big, sizeof big), WSX_ECLOSED);
    CHECK(t.e.c == NULL);
    ep_fini(&t.e);
}

/* Below WSX_SENDV_MIN, in pull mode, and for a client (which masks into
 * the queue) the gather write is not used, and the output is the same. */
static void test_sendv_not_used(void)
{
    static uint8_t big[WSX_SENDV_MIN];
    pattern(big, sizeof big, 0);
    size_t sizes[1] = {WSX_SENDV_MIN - 1};
    tp t;
    server_open(&t);
    CHECK_EQ(wsx_send(t.e.c, WSX_BINARY, big, WSX_SENDV_MIN - 1), 0);
    CHECK_EQ(t.sendv_calls, 0);
    CHECK(frames_are(t.e.out, t.e.out_len, sizes, 1));
    ep_fini(&t.e);

    /* Pull mode: send is NULL, so sendv is ignored. */
    wsx_callbacks pcb = scb;
    pcb.send = NULL;
    memset(&t, 0, sizeof t);
    t.e.c = wsx_conn_new(&scfg, &pcb, &t);
    uint8_t buf[sizeof rfc_request];
    memcpy(buf, rfc_request, sizeof rfc_request - 1);
    wsx_conn_feed(t.e.c, buf, sizeof rfc_request - 1);
    const uint8_t *p;
    wsx_conn_advance(t.e.c, wsx_conn_pending(t.e.c, &p));
    CHECK_EQ(wsx_send(t.e.c, WSX_BINARY, big, sizeof big), 0);
    CHECK_EQ(t.sendv_calls, 0);
    CHECK_EQ(wsx_conn_pending(t.e.c, &p), 4 + sizeof big);
    CHECK(!memcmp(p + 4, big, sizeof big));
    ep_fini(&t.e);

    /* Client: open it by hand (accept key of the request it sent). */
    memset(&t, 0, sizeof t);
    t.e.rng = 9;
    t.e.c = wsx_conn_new(&ccfg, &ccb, &t);
    CHECK(t.e.c != NULL);
    CHECK_EQ(wsx_conn_flush(t.e.c), 0);
    const char *k = mem_find(t.e.out, t.e.out_len, "Sec-WebSocket-Key: ", 19);
    CHECK(k != NULL);
    if (k) {
        char acc[WSX_ACCEPT_KEY_LEN + 1], resp[256];
        wsx_accept_key(acc, k + 19, 24);
        int n = snprintf(resp, sizeof resp,
                         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                         acc);
        CHECK_EQ(wsx_conn_feed(t.e.c, (uint8_t *)resp, (size_t)n), 0);
        CHECK_EQ(wsx_conn_state(t.e.c), WSX_STATE_OPEN);
        ep_reset_out(&t.e);
        CHECK_EQ(wsx_send(t.e.c, WSX_BINARY, big, sizeof big), 0);
        CHECK_EQ(t.sendv_calls, 0);
        wsx_frame_header h;
        int hl = wsx_frame_parse(&h, t.e.out, t.e.out_len);
        CHECK(hl == 8 && h.masked && h.length == sizeof big);
        if (hl == 8 && t.e.out_len == 8 + sizeof big) {
            wsx_mask(t.e.out + 8, sizeof big, h.mask, 0);
            CHECK(!memcmp(t.e.out + 8, big, sizeof big));
        } else {
            CHECK(0);
        }
    }
    ep_fini(&t.e);
}

/* wsx_send_shared hands the shared frame's own bytes to the gather
 * write, behind what is queued, and queues what the transport leaves. */
static void test_sendv_shared(void)
{
    static uint8_t small0[5], big[WSX_SENDV_MIN];
    size_t sizes[2] = {sizeof small0, sizeof big};
    pattern(small0, sizeof small0, 0);
    pattern(big, sizeof big, 1);
    wsx_shared *s = wsx_shared_new(NULL, WSX_BINARY, big, sizeof big);
    CHECK(s != NULL);
    tp t;
    server_open(&t);
    t.blocked = true;
    CHECK_EQ(wsx_send(t.e.c, WSX_BINARY, small0, sizeof small0), 0);
    t.take = 1000;
    CHECK_EQ(wsx_send_shared(t.e.c, s), 0);
    CHECK_EQ(t.sendv_calls, 1);
    CHECK_EQ(t.pieces, 3);
    CHECK_EQ(t.e.out_len, 1000);
    wsx_shared_free(s); /* what was left is the connection's own copy */
    t.blocked = false;
    CHECK_EQ(wsx_conn_flush(t.e.c), 0);
    CHECK(frames_are(t.e.out, t.e.out_len, sizes, 2));
    ep_fini(&t.e);
}

int main(void)
{
    setup();
    RUN(test_sendv_every_split);
    RUN(test_sendv_empty_queue);
    RUN(test_sendv_eagain_then_drain);
    RUN(test_sendv_error);
    RUN(test_sendv_free_inside);
    RUN(test_sendv_not_used);
    RUN(test_sendv_shared);
    return test_summary("conn_sendv");
}
