/* test_conn_reentry.c - the rule of wsx.h for calls from inside callbacks,
 * tried at every callback: a client and a server connection talk through
 * memory (handshake, messages both ways, pings, a drain, the close) while
 * one of them frees itself, or separately closes itself, from the n-th
 * call of one callback kind (send and random included), in both roles,
 * with and without permessage-deflate, whole and streaming delivery.
 * After a free no callback of that connection fires and nothing more is
 * written; after a close its close frame is the last frame it wrote; all
 * memory comes back. Run it under ASan (make check-asan). */
#include "test.h"
#include "wsx_deflate.h"


enum kind {
    K_SEND, K_RANDOM, K_HANDSHAKE, K_HTTP, K_OPEN, K_MESSAGE, K_FRAGMENT,
    K_PING, K_PONG, K_CLOSE, K_DRAIN, K_COUNT
};
static const char *const kind_name[K_COUNT] = {
    "send", "random", "on_handshake", "on_http", "on_open", "on_message",
    "on_fragment", "on_ping", "on_pong", "on_close", "on_drain"};

enum action { A_FREE, A_CLOSE };

typedef struct peer {
    wsx_conn *c;
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_deflate_config dcfg;
    test_alloc alloc;
    uint64_t rng;
    uint8_t *out;       /* every byte the send callback took */
    size_t out_len, out_cap, fed; /* fed: how much the peer got */
    bool blocked;       /* the transport pushes back */
    bool freed;
    int calls[K_COUNT];
    int closes, after_free;
    uint16_t close_code;
    /* the trap: action at the nth call of kind */
    int trap_kind, trap_nth, trap_action;
    bool trapped;
    int trap_ret, trap_state;
    size_t out_at_free;
} peer;

static void hook(peer *p, wsx_conn *c, enum kind k)
{
    if (p->freed)
        p->after_free++; /* a callback after wsx_conn_free */
    if (p->c && c != p->c)
        p->after_free++;
    p->calls[k]++;
    if (p->trapped || (int)k != p->trap_kind || p->calls[k] != p->trap_nth)
        return;
    p->trapped = true;
    p->trap_state = (int)wsx_conn_state(c);
    if (p->trap_action == A_FREE) {
        wsx_conn_free(c);
        p->freed = true;
        p->out_at_free = p->out_len;
    } else {
        p->trap_ret = wsx_close(c, 4001, "trap");
    }
}

static long cb_send(wsx_conn *c, const uint8_t *b, size_t n, void *user)
{
    peer *p = user;
    if (!p->blocked) {
        if (p->out_len + n > p->out_cap) {
            p->out_cap = (p->out_len + n) * 2;
            p->out = realloc(p->out, p->out_cap);
        }
        memcpy(p->out + p->out_len, b, n);
        p->out_len += n;
    }
    /* After taking the bytes: a free here ends the connection with them
     * on the wire. */
    hook(p, c, K_SEND);
    return p->blocked ? WSX_EAGAIN : (long)n;
}

static int cb_random(wsx_conn *c, uint8_t *b, size_t n, void *user)
{
    peer *p = user;
    hook(p, c, K_RANDOM);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)test_rand(&p->rng);
    return 0;
}

static int cb_handshake(wsx_conn *c, const wsx_handshake *hs,
                        wsx_handshake_reply *r, void *user)
{
    (void)hs;
    (void)r;
    hook(user, c, K_HANDSHAKE);
    return 0;
}

static void cb_http(wsx_conn *c, const wsx_http_request *req, void *user)
{
    (void)req;
    hook(user, c, K_HTTP);
}

static void cb_open(wsx_conn *c, void *user)
{
    hook(user, c, K_OPEN);
}

static void cb_message(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)m;
    hook(user, c, K_MESSAGE);
}

static void cb_fragment(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)m;
    hook(user, c, K_FRAGMENT);
}

static void cb_ping(wsx_conn *c, const uint8_t *b, size_t n, void *user)
{
    (void)b;
    (void)n;
    hook(user, c, K_PING);
}

static void cb_pong(wsx_conn *c, const uint8_t *b, size_t n, void *user)
{
    (void)b;
    (void)n;
    hook(user, c, K_PONG);
}

static void cb_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    peer *p = user;
    p->closes++;
    p->close_code = ci->code;
    hook(p, c, K_CLOSE);
}

static void cb_drain(wsx_conn *c, void *user)
{
    hook(user, c, K_DRAIN);
}

static void peer_init(peer *p, wsx_role role, bool deflate, bool streaming)
{
    memset(p, 0, sizeof *p);
    p->trap_kind = -1;
    p->rng = role == WSX_CLIENT ? 7 : 11;
    wsx_config_init(&p->cfg, role);
    p->cfg.alloc = test_allocator(&p->alloc);
    p->cfg.streaming = streaming;
    if (role == WSX_CLIENT)
        p->cfg.client.host = "example.com";
    if (deflate) {
        wsx_deflate_config_init(&p->dcfg);
        p->dcfg.threshold = 0; /* compress every message */
        p->dcfg.level = 1;
        p->cfg.extension = wsx_permessage_deflate();
        p->cfg.extension_config = &p->dcfg;
    }
    wsx_callbacks_init(&p->cb);
    p->cb.send = cb_send;
    p->cb.random = cb_random;
    p->cb.on_handshake = cb_handshake;
    p->cb.on_http = cb_http;
    p->cb.on_open = cb_open;
    p->cb.on_message = cb_message;
    p->cb.on_fragment = cb_fragment;
    p->cb.on_ping = cb_ping;
    p->cb.on_pong = cb_pong;
    p->cb.on_close = cb_close;
    p->cb.on_drain = cb_drain;
}

static bool alive(const peer *p)
{
    return p->c && !p->freed;
}

/* What `from` wrote and `to` has not read yet goes to `to`. */
static bool deliver(peer *from, peer *to)
{
    size_t n = from->out_len - from->fed;
    if (!n)
        return false;
    uint8_t *copy = malloc(n);
    memcpy(copy, from->out + from->fed, n);
    from->fed = from->out_len;
    if (alive(to))
        wsx_conn_feed(to->c, copy, n);
    free(copy);
    return true;
}

static void pump(peer *a, peer *b)
{
    for (int i = 0; i < 64; i++) {
        bool moved = deliver(a, b);
        if (!deliver(b, a) && !moved)
            break;
    }
}

static void send_some(peer *p, wsx_opcode op, size_t len)
{
    uint8_t *d = malloc(len);
    for (size_t i = 0; i < len; i++)
        d[i] = (uint8_t)(op == WSX_TEXT ? 'a' + i % 26 : test_rand(&p->rng));
    if (alive(p))
        wsx_send(p->c, op, d, len);
    /* A message in three fragments. */
    for (int i = 0; i < 3 && alive(p); i++)
        wsx_send_fragment(p->c, op, d + i * len / 3, len / 3, i == 2);
    free(d);
}

/* The first close frame in what p wrote after its head: its code, and
 * whether any frame follows it. */
static int close_frame(const peer *p, bool *more)
{
    const uint8_t *b = p->out;
    size_t n = p->out_len, off = 0;
    const uint8_t *end = NULL;
    for (size_t i = 0; i + 4 <= n; i++)
        if (!memcmp(b + i, "\r\n\r\n", 4)) {
            end = b + i + 4;
            break;
        }
    if (!end)
        return -1;
    off = (size_t)(end - b);
    while (off < n) {
        wsx_frame_header h;
        int r = wsx_frame_parse(&h, b + off, n - off);
        if (r <= 0 || h.length > n - off - (size_t)r)
            return -2;
        uint8_t pl[2] = {0, 0};
        if (h.length >= 2) {
            memcpy(pl, b + off + r, 2);
            if (h.masked)
                wsx_mask(pl, 2, h.mask, 0);
        }
        off += (size_t)r + (size_t)h.length;
        if (h.opcode == WSX_CLOSE) {
            *more = off < n;
            return h.length >= 2 ? pl[0] << 8 | pl[1] : 1005;
        }
    }
    return 0;
}

static int scenarios, trapped_runs;

/* One conversation; returns whether the trap fired. */
static bool run(wsx_role target, int kind, int nth, int action, bool deflate,
                bool streaming)
{
    peer cl, sv;
    peer_init(&cl, WSX_CLIENT, deflate, streaming);
    peer_init(&sv, WSX_SERVER, deflate, streaming);
    peer *t = target == WSX_CLIENT ? &cl : &sv, *o = t == &cl ? &sv : &cl;
    t->trap_kind = kind;
    t->trap_nth = nth;
    t->trap_action = action;
    scenarios++;

    cl.c = wsx_conn_new(&cl.cfg, &cl.cb, &cl);
    sv.c = wsx_conn_new(&sv.cfg, &sv.cb, &sv);
    CHECK(sv.c != NULL);
    /* A free from the random callback of wsx_conn_new: no connection. */
    CHECK((cl.c == NULL) == (cl.freed && cl.calls[K_RANDOM] == 1));
    if (alive(&cl))
        wsx_conn_tick(cl.c, 0);
    if (alive(&sv))
        wsx_conn_tick(sv.c, 0);
    if (kind == K_HTTP) {
        /* A plain HTTP request instead of the upgrade. */
        static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        uint8_t req[sizeof get];
        memcpy(req, get, sizeof get);
        wsx_conn_feed(sv.c, req, sizeof get - 1);
    } else if (alive(&cl)) {
        wsx_conn_flush(cl.c);
    }
    pump(&cl, &sv);
    send_some(&cl, WSX_TEXT, 3000);
    pump(&cl, &sv);
    send_some(&sv, WSX_BINARY, 3000);
    pump(&cl, &sv);
    for (peer *p = &cl; p; p = p == &cl ? &sv : NULL)
        if (alive(p))
            wsx_ping(p->c, "hi", 2);
    pump(&cl, &sv);
    for (peer *p = &cl; p; p = p == &cl ? &sv : NULL) {
        /* The transport pushes back, then takes it all: on_drain. */
        p->blocked = true;
        if (alive(p))
            wsx_send(p->c, WSX_TEXT, "drain me", 8);
        p->blocked = false;
        if (alive(p))
            wsx_conn_flush(p->c);
    }
    pump(&cl, &sv);
    if (alive(&cl))
        wsx_close(cl.c, 1000, "bye");
    pump(&cl, &sv);
    for (peer *p = &cl; p; p = p == &cl ? &sv : NULL)
        if (alive(p) && wsx_conn_state(p->c) != WSX_STATE_CLOSED)
            wsx_conn_eof(p->c); /* its peer was freed, or never spoke */

    for (peer *p = &cl; p; p = p == &cl ? &sv : NULL) {
        CHECK_EQ(p->after_free, 0);
        /* on_close exactly once, unless freed before it. */
        CHECK(p->closes == 1 || (p->freed && p->closes == 0));
        if (alive(p))
            CHECK(wsx_conn_state(p->c) == WSX_STATE_CLOSED);
    }
    if (t->trapped && action == A_FREE)
        CHECK_EQ(t->out_len, t->out_at_free); /* nothing written after */
    if (t->trapped && action == A_CLOSE) {
        int want = t->trap_state == WSX_STATE_OPEN       ? 0
                   : t->trap_state == WSX_STATE_HANDSHAKE ? WSX_ESTATE
                                                          : WSX_ECLOSED;
        CHECK_EQ(t->trap_ret, want);
        if (t->trap_ret == 0) {
            bool more = true;
            CHECK_EQ(close_frame(t, &more), 4001);
            CHECK(!more);
            CHECK_EQ(o->close_code, 4001);
            CHECK_EQ(t->close_code, 4001);
        }
    }
    bool fired = t->trapped;
    int reached = t->calls[kind];
    if (fired)
        trapped_runs++;
    for (peer *p = &cl; p; p = p == &cl ? &sv : NULL) {
        if (alive(p))
            wsx_conn_free(p->c);
        CHECK_EQ(p->alloc.live, 0);
        CHECK_EQ(p->alloc.live_bytes, 0);
        free(p->out);
    }
    if (!fired)
        CHECK(reached < nth);
    return fired;
}

/* Every kind, every call of it in the conversation, both actions. */
static void each_callback(wsx_role target, bool deflate, bool streaming)
{
    for (int kind = 0; kind < K_COUNT; kind++) {
        int fired = 0;
        for (int action = A_FREE; action <= A_CLOSE; action++)
            for (int nth = 1; nth < 64; nth++) {
                if (!run(target, kind, nth, action, deflate, streaming))
                    break;
                fired++;
            }
        /* Each kind this role and mode can raise was reached. */
        bool expected =
            !(kind == K_RANDOM && target == WSX_SERVER) &&
            !(kind == K_HTTP && target == WSX_CLIENT) &&
            !(kind == K_MESSAGE && streaming) &&
            !(kind == K_FRAGMENT && !streaming);
        if ((fired > 0) != expected)
            fprintf(stderr, "%s %s%s: %s fired %d times\n",
                    target == WSX_CLIENT ? "client" : "server",
                    deflate ? "deflate " : "", streaming ? "streaming" : "whole",
                    kind_name[kind], fired);
        CHECK((fired > 0) == expected);
    }
}

static void test_server_plain(void)
{
    each_callback(WSX_SERVER, false, false);
    each_callback(WSX_SERVER, false, true);
}

static void test_server_deflate(void)
{
    each_callback(WSX_SERVER, true, false);
    each_callback(WSX_SERVER, true, true);
}

static void test_client_plain(void)
{
    each_callback(WSX_CLIENT, false, false);
    each_callback(WSX_CLIENT, false, true);
}

static void test_client_deflate(void)
{
    each_callback(WSX_CLIENT, true, false);
    each_callback(WSX_CLIENT, true, true);
}

int main(void)
{
    RUN(test_server_plain);
    RUN(test_server_deflate);
    RUN(test_client_plain);
    RUN(test_client_deflate);
    printf("reentry: %d conversations, %d with the trap sprung\n", scenarios,
           trapped_runs);
    return test_summary("conn_reentry");
}
