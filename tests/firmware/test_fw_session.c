/* test_fw_session.c - a WebSocket session on the Cortex-M4: a client and a
 * server connection wired to each other through RAM "links" that take
 * only what fits (backpressure), each connection in its own static arena
 * (-DWSX_NO_MALLOC), timers driven by the SysTick millisecond counter.
 * Handshake, messages of every length encoding, fragmentation, ping/pong,
 * keep-alive and close timeouts, permessage-deflate at 8-bit windows and
 * the close handshake; every arena is whole again at the end. */
#include "test.h"
#include "fw.h"
#include "wsx_deflate.h"


#define ARENA_WORDS (64u << 10) /* 512 KiB each: 70000-byte echoes */
#define LINK_CAP 6000
#define BIG 70000                /* needs the 64-bit length encoding */

/* One direction of the wire: bytes sent, not yet fed to the peer, and a
 * watcher that follows the frames on it to count the compressed ones. */
typedef struct link {
    uint8_t buf[LINK_CAP];
    size_t len;
    size_t total;      /* bytes that ever crossed */
    bool framed;       /* past the HTTP head */
    uint8_t crlf;      /* how much of CRLFCRLF the head has matched */
    uint8_t hdr[WSX_FRAME_HEADER_MAX];
    size_t hdr_len;
    uint64_t skip;     /* payload bytes left in the current frame */
    int frames, rsv1;  /* frames seen, and those with RSV1 set */
} link;

typedef struct side {
    wsx_conn *c;
    link *out;
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_allocator arena;
    uint8_t *msg;   /* last message received */
    size_t msg_len;
    int msg_op, msgs, pings, pongs, opens, closes;
    wsx_close_info close;
    uint8_t pong[8];
    size_t pong_len;
} side;

static uint64_t cmem[ARENA_WORDS], smem[ARENA_WORDS];
static uint8_t payload[BIG], received[BIG];
static link c2s, s2c;
static side cli, srv;
static uint64_t rng = 7;

static void watch(link *l, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (!l->framed) {
            uint8_t b = p[i++];
            l->crlf = b == (uint8_t)"\r\n\r\n"[l->crlf] ? l->crlf + 1 : b == '\r';
            l->framed = l->crlf == 4;
        } else if (l->skip) {
            size_t k = n - i < l->skip ? n - i : (size_t)l->skip;
            l->skip -= k;
            i += k;
        } else {
            wsx_frame_header h;
            l->hdr[l->hdr_len++] = p[i++];
            if (wsx_frame_parse(&h, l->hdr, l->hdr_len) > 0) {
                l->frames++;
                l->rsv1 += (h.rsv & WSX_RSV1) != 0;
                l->skip = h.length;
                l->hdr_len = 0;
            }
        }
    }
}

static long on_send(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    side *s = user;
    (void)c;
    size_t room = LINK_CAP - s->out->len;
    if (!room)
        return WSX_EAGAIN;
    if (len > room)
        len = room;
    memcpy(s->out->buf + s->out->len, p, len);
    watch(s->out, p, len);
    s->out->len += len;
    s->out->total += len;
    return (long)len;
}

static int on_random(wsx_conn *c, uint8_t *buf, size_t len, void *user)
{
    (void)c;
    (void)user;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)test_rand(&rng);
    return 0;
}

static int on_handshake(wsx_conn *c, const wsx_handshake *hs,
                        wsx_handshake_reply *reply, void *user)
{
    (void)c;
    (void)user;
    if (hs->request)
        reply->protocol = "echo";
    return 0;
}

static void on_open(wsx_conn *c, void *user)
{
    (void)c;
    ((side *)user)->opens++;
}

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    side *s = user;
    s->msgs++;
    s->msg_op = m->opcode;
    s->msg_len = m->len;
    if (m->len <= sizeof received)
        memcpy(received, m->data, m->len);
    if (s == &srv)
        CHECK_EQ(wsx_send(c, m->opcode, m->data, m->len), 0);
}

static void on_ping(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    (void)c;
    (void)p;
    (void)len;
    ((side *)user)->pings++;
}

static void on_pong(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    side *s = user;
    (void)c;
    s->pongs++;
    s->pong_len = len < sizeof s->pong ? len : sizeof s->pong;
    memcpy(s->pong, p, s->pong_len);
}

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    side *s = user;
    (void)c;
    s->closes++;
    s->close = *ci;
    s->close.reason = NULL;
}

/* Feed one side what the other sent, in pieces of 1..97 bytes as a
 * driver's receive interrupt would hand them over. */
static bool move(link *l, side *to)
{
    if (!l->len)
        return false;
    size_t n = 1 + (size_t)(test_rand(&rng) % 97);
    if (n > l->len)
        n = l->len;
    if (to->c)
        wsx_conn_feed(to->c, l->buf, n);
    memmove(l->buf, l->buf + n, l->len - n);
    l->len -= n;
    return true;
}

/* Move bytes both ways, flush and tick at the SysTick clock, until both
 * sides are quiet. */
static void pump(void)
{
    for (int round = 0; round < 200000; round++) {
        /* Both directions every round, not just the first that moves. */
        bool moved = move(&c2s, &srv);
        moved = move(&s2c, &cli) || moved;
        bool busy = false;
        side *sides[2] = {&cli, &srv};
        for (int i = 0; i < 2; i++) {
            wsx_conn *c = sides[i]->c;
            if (!c)
                continue;
            wsx_conn_flush(c);
            wsx_conn_tick(c, fw_ms());
            busy |= wsx_conn_wants_write(c);
        }
        if (!moved && !busy && !c2s.len && !s2c.len)
            return;
    }
    CHECK(!"pump did not settle");
}

static void side_init(side *s, wsx_role role, uint64_t *mem, link *out,
                      const wsx_deflate_config *dc)
{
    memset(s, 0, sizeof *s);
    s->out = out;
    wsx_config_init(&s->cfg, role);
    CHECK_EQ(wsx_arena_init(&s->arena, mem, ARENA_WORDS * 8), 0);
    s->cfg.alloc = s->arena;
    s->cfg.client.host = "board.local";
    s->cfg.client.path = "/ws";
    s->cfg.client.protocols = "echo";
    if (dc) {
        s->cfg.extension = wsx_permessage_deflate();
        s->cfg.extension_config = dc;
    }
    wsx_callbacks_init(&s->cb);
    s->cb.send = on_send;
    s->cb.random = on_random;
    s->cb.on_handshake = on_handshake;
    s->cb.on_open = on_open;
    s->cb.on_message = on_message;
    s->cb.on_ping = on_ping;
    s->cb.on_pong = on_pong;
    s->cb.on_close = on_close;
}

static void session_open(const wsx_deflate_config *dc, uint32_t ping_ms,
                         uint32_t close_ms)
{
    memset(&c2s, 0, sizeof c2s);
    memset(&s2c, 0, sizeof s2c);
    side_init(&cli, WSX_CLIENT, cmem, &c2s, dc);
    side_init(&srv, WSX_SERVER, smem, &s2c, dc);
    srv.cfg.ping_interval_ms = ping_ms;
    srv.cfg.close_timeout_ms = close_ms ? close_ms : 5000;
    cli.c = wsx_conn_new(&cli.cfg, &cli.cb, &cli);
    srv.c = wsx_conn_new(&srv.cfg, &srv.cb, &srv);
    CHECK(cli.c && srv.c);
    pump();
    CHECK_EQ(cli.opens, 1);
    CHECK_EQ(srv.opens, 1);
    CHECK(cli.c && wsx_conn_protocol(cli.c) &&
          !strcmp(wsx_conn_protocol(cli.c), "echo"));
}

/* Free both and check that each arena has everything back: one block of
 * nearly its whole size can be allocated again. */
static void session_end(void)
{
    side *sides[2] = {&cli, &srv};
    for (int i = 0; i < 2; i++) {
        wsx_allocator *a = &sides[i]->arena;
        if (sides[i]->c)
            wsx_conn_free(sides[i]->c);
        sides[i]->c = NULL;
        void *all = a->malloc(ARENA_WORDS * 8 - 64, a->user);
        CHECK(all != NULL);
        a->free(all, ARENA_WORDS * 8 - 64, a->user);
    }
}

static void close_clean(void)
{
    CHECK_EQ(wsx_close(cli.c, WSX_CLOSE_NORMAL, "bye"), 0);
    pump();
    CHECK_EQ(srv.closes, 1);
    CHECK_EQ(cli.closes, 1);
    CHECK_EQ(srv.close.code, WSX_CLOSE_NORMAL);
    CHECK(srv.close.clean && srv.close.remote);
    CHECK(cli.close.clean && !cli.close.remote);
    CHECK(wsx_conn_done(cli.c) && wsx_conn_done(srv.c));
}

static void fill(size_t n, int op, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        /* Text repeats a phrase with a random letter every 32 bytes
         * (compressible); binary is random (not). */
        uint64_t r = test_rand(&seed);
        if (op == WSX_BINARY)
            payload[i] = (uint8_t)r;
        else
            payload[i] = i % 32 ? (uint8_t)"wsx on a cortex-m4 "[i % 19]
                                : (uint8_t)('a' + r % 26);
    }
}

/* Send one message from the client, let the server echo it, compare. */
static void echo_one(size_t n, int op)
{
    fill(n, op, n * 31 + (size_t)op);
    int before = cli.msgs;
    CHECK_EQ(wsx_send(cli.c, (wsx_opcode)op, payload, n), 0);
    pump();
    CHECK_EQ(cli.msgs, before + 1);
    CHECK_EQ(cli.msg_op, op);
    CHECK_EQ(cli.msg_len, n);
    CHECK(cli.msg_len == n && !memcmp(received, payload, n));
}

static void test_sizes(void)
{
    /* Every length encoding of RFC 6455 §5.2 and their edges. */
    static const size_t sizes[] = {0, 1, 125, 126, 127, 1000, 4096,
                                   65535, 65536, BIG};
    session_open(NULL, 0, 0);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        echo_one(sizes[i], WSX_BINARY);
        echo_one(sizes[i], WSX_TEXT);
    }
    CHECK_EQ(c2s.rsv1 + s2c.rsv1, 0);
    CHECK_EQ(s2c.frames, 20);
    close_clean();
    session_end();
}

static void test_fragments_and_pings(void)
{
    session_open(NULL, 0, 0);
    fill(3000, WSX_TEXT, 99);
    size_t off = 0;
    int pings = 0;
    while (off < 3000) {
        size_t k = 1 + (size_t)(test_rand(&rng) % 700);
        if (k > 3000 - off)
            k = 3000 - off;
        CHECK_EQ(wsx_send_fragment(cli.c, WSX_TEXT, payload + off, k,
                                   off + k == 3000), 0);
        off += k;
        /* Control frames may sit between fragments (RFC 6455 §5.4). */
        CHECK_EQ(wsx_ping(cli.c, "m4", 2), 0);
        pings++;
        if (test_rand(&rng) & 1)
            pump();
    }
    pump();
    CHECK_EQ(srv.msgs, 1);
    CHECK_EQ(cli.msgs, 1);
    CHECK(cli.msg_len == 3000 && !memcmp(received, payload, 3000));
    CHECK_EQ(srv.pings, pings);
    CHECK_EQ(cli.pongs, pings);
    CHECK(cli.pong_len == 2 && !memcmp(cli.pong, "m4", 2));
    close_clean();
    session_end();
}

/* The server's keep-alive ping fires from wsx_conn_tick once the SysTick
 * clock has moved past ping_interval_ms of silence; the client's pong
 * comes back by itself. */
static void test_keepalive_on_systick(void)
{
    session_open(NULL, 20, 0);
    uint64_t t0 = fw_ms();
    CHECK_EQ(cli.pings, 0);
    fw_wait_until(t0 + 30);
    CHECK(fw_ms() >= t0 + 30);
    pump();
    CHECK_EQ(cli.pings, 1);
    CHECK_EQ(srv.pongs, 1);
    close_clean();
    session_end();
}

/* A peer that never answers our close: the close timeout, counted in
 * SysTick milliseconds, ends the connection as abnormal (1006). */
static void test_close_timeout_on_systick(void)
{
    session_open(NULL, 0, 25);
    CHECK_EQ(wsx_close(srv.c, WSX_CLOSE_GOING_AWAY, NULL), 0);
    wsx_conn *peer = cli.c;
    cli.c = NULL; /* the client goes silent: its input is not fed */
    uint64_t t0 = fw_ms();
    pump();
    CHECK_EQ(srv.closes, 0);
    fw_wait_until(t0 + 40);
    pump();
    CHECK_EQ(srv.closes, 1);
    CHECK_EQ(srv.close.code, WSX_CLOSE_ABNORMAL);
    CHECK_EQ(srv.close.error, WSX_ETIMEOUT);
    CHECK(!srv.close.clean);
    cli.c = peer;
    session_end();
}

/* permessage-deflate with the smallest windows RFC 7692 allows, with and
 * without context takeover: messages are compressed on the wire (RSV1,
 * fewer bytes than the payload for text) and arrive intact. */
static void test_deflate_small_windows(void)
{
    for (int takeover = 0; takeover < 2; takeover++) {
        wsx_deflate_config dc;
        wsx_deflate_config_init(&dc);
        dc.server_max_window_bits = dc.client_max_window_bits = 8;
        dc.server_no_context_takeover = dc.client_no_context_takeover = !takeover;
        dc.mem_level = 1;
        dc.threshold = 0;
        session_open(&dc, 0, 0);
        static const size_t sizes[] = {0, 1, 200, 4096, 20000};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            size_t before = c2s.total;
            echo_one(sizes[i], WSX_TEXT);
            if (sizes[i] >= 4096)
                CHECK(c2s.total - before < sizes[i] / 2);
            echo_one(sizes[i], WSX_BINARY);
        }
        /* Every data frame each way was compressed (threshold 0); the
         * close frames were not. */
        CHECK_EQ(c2s.rsv1, 10);
        CHECK_EQ(s2c.rsv1, 10);
        CHECK_EQ(c2s.frames, 10);
        close_clean();
        CHECK_EQ(c2s.frames, 11);
        CHECK_EQ(s2c.frames, 11);
        CHECK_EQ(s2c.rsv1, 10);
        session_end();
    }
}

int main(void)
{
    RUN(test_sizes);
    RUN(test_fragments_and_pings);
    RUN(test_keepalive_on_systick);
    RUN(test_close_timeout_on_systick);
    RUN(test_deflate_small_windows);
    printf("stack used: %u of %u bytes\n", (unsigned)fw_stack_peak(),
           (unsigned)fw_stack_size());
    return test_summary("fw_session");
}
