/* fuzz_roundtrip.c - libFuzzer target for round-trip properties: build ->
 * parse of any frame header gives the same header (RFC 6455 §5.2); and
 * messages sent through a client connection and fed to a server
 * connection arrive intact whatever the splits and the transport's
 * pushback, come back intact through the server's echo, and the close
 * handshake then ends clean on both sides (§7.1).
 *
 * Input: [flags][8-byte PRNG seed][message script...] */
#include "fuzz_util.h"

#define WSX_FUZZ_MAX_LEN 4096

#define RT_SRV_STREAM 0x01u /* server delivers and echoes fragments */
#define RT_CLI_STREAM 0x02u /* client delivers fragments */
#define RT_FLAKY 0x04u      /* transports take parts and would-block */
#define RT_NOREALLOC 0x08u
#define RT_BATCH 0x10u      /* several messages in flight before a pump */

/* ---- frame headers ----------------------------------------------------- */

static void header_roundtrip(const uint8_t *b)
{
    wsx_frame_header h, g;
    uint8_t out[WSX_FRAME_HEADER_MAX];
    memset(&h, 0, sizeof h);
    h.fin = b[0] >> 7;
    h.rsv = b[0] & 0x70;
    h.opcode = b[0] & 0x0f;
    h.masked = b[1] >> 7;
    /* Shifting spreads lengths over every encoding size. */
    h.length = (fz_load64(b + 2) & INT64_MAX) >> (b[1] & 63);
    if (h.masked)
        memcpy(h.mask, b + 8, 4);
    size_t size = wsx_frame_build(out, &h);
    size_t ext = h.length < 126 ? 0 : h.length <= 0xffff ? 2 : 8;
    WSX_FUZZ_CHECK(size == 2 + ext + (h.masked ? 4u : 0u));
    for (size_t k = 0; k <= size; k++) {
        uint8_t *d = fz_dup(out, k);
        int r = wsx_frame_parse(&g, d, k);
        free(d);
        WSX_FUZZ_CHECK(r == (k == size ? (int)size : 0));
    }
    WSX_FUZZ_CHECK(g.fin == h.fin && g.rsv == h.rsv && g.opcode == h.opcode &&
                   g.masked == h.masked && g.length == h.length &&
                   memcmp(g.mask, h.mask, 4) == 0);
}

/* ---- two connections, wired together ------------------------------------ */

typedef struct rt_msgs { /* messages as (op, bytes), concatenated */
    uint8_t *bytes;
    size_t len, cap;
    struct {
        uint8_t op;
        size_t len;
    } *m;
    size_t n, capm;
} rt_msgs;

typedef struct rt_end {
    wsx_conn *c;
    wsx_config cfg;
    wsx_callbacks cb;
    fz_alloc alloc;
    fz_rng *rng;
    bool flaky;
    rt_msgs wire;     /* bytes the transport took (wire.bytes only) */
    size_t wire_off;  /* delivered to the peer so far */
    rt_msgs rx;       /* messages received */
    bool in_msg;      /* streaming: inside a message */
    size_t cur_start; /* streaming: where it starts in rx.bytes */
    uint8_t cur_op;
    int opens, closes;
    wsx_close_info ci;
    char reason[124];
} rt_end;

static void rt_append(rt_msgs *m, const uint8_t *p, size_t n)
{
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2;
        m->bytes = realloc(m->bytes, m->cap);
        WSX_FUZZ_CHECK(m->bytes);
    }
    if (n)
        memcpy(m->bytes + m->len, p, n);
    m->len += n;
}

static void rt_push(rt_msgs *m, uint8_t op, size_t len)
{
    if (m->n == m->capm) {
        m->capm = m->capm * 2 + 16;
        m->m = realloc(m->m, m->capm * sizeof *m->m);
        WSX_FUZZ_CHECK(m->m);
    }
    m->m[m->n].op = op;
    m->m[m->n++].len = len;
}

static void rt_free_msgs(rt_msgs *m)
{
    free(m->bytes);
    free(m->m);
}

static long rt_send(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    rt_end *e = user;
    WSX_FUZZ_CHECK(c == e->c && len > 0);
    if (e->flaky) {
        uint64_t r = fz_next(e->rng);
        if (r % 5 == 0)
            return WSX_EAGAIN;
        if (r % 5 < 3)
            len = 1 + (size_t)(r >> 8) % len;
    }
    rt_append(&e->wire, p, len);
    return (long)len;
}

static int rt_random(wsx_conn *c, uint8_t *buf, size_t len, void *user)
{
    rt_end *e = user;
    (void)c;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)fz_next(e->rng);
    return 0;
}

static void rt_open(wsx_conn *c, void *user)
{
    rt_end *e = user;
    WSX_FUZZ_CHECK(c == e->c && e->opens++ == 0);
}

/* The server echoes what it gets; in streaming mode piece by piece, so
 * fragmentation crosses both directions. */
static void rt_echo(rt_end *e, const wsx_message *m, bool streaming)
{
    int r;
    if (e->cfg.role != WSX_SERVER)
        return;
    if (streaming)
        r = wsx_send_fragment(e->c, m->opcode, m->data, m->len, m->fin);
    else
        r = wsx_send(e->c, m->opcode, m->data, m->len);
    WSX_FUZZ_CHECK(r == 0);
}

static void rt_message(wsx_conn *c, const wsx_message *m, void *user)
{
    rt_end *e = user;
    WSX_FUZZ_CHECK(c == e->c && m->first && m->fin && !e->cfg.streaming);
    rt_append(&e->rx, m->data, m->len);
    rt_push(&e->rx, (uint8_t)m->opcode, m->len);
    rt_echo(e, m, false);
}

static void rt_fragment(wsx_conn *c, const wsx_message *m, void *user)
{
    rt_end *e = user;
    WSX_FUZZ_CHECK(c == e->c && e->cfg.streaming && m->first == !e->in_msg);
    if (m->first) {
        e->cur_start = e->rx.len;
        e->cur_op = (uint8_t)m->opcode;
    }
    WSX_FUZZ_CHECK(m->opcode == e->cur_op);
    rt_append(&e->rx, m->data, m->len);
    e->in_msg = !m->fin;
    if (m->fin)
        rt_push(&e->rx, e->cur_op, e->rx.len - e->cur_start);
    rt_echo(e, m, true);
}

static void rt_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    rt_end *e = user;
    WSX_FUZZ_CHECK(c == e->c && e->closes++ == 0);
    WSX_FUZZ_CHECK(ci->reason_len < sizeof e->reason);
    e->ci = *ci;
    if (ci->reason_len)
        memcpy(e->reason, ci->reason, ci->reason_len);
    e->ci.reason = e->reason;
}

static void rt_init(rt_end *e, wsx_role role, unsigned flags, fz_rng *rng)
{
    memset(e, 0, sizeof *e);
    e->rng = rng;
    e->flaky = (flags & RT_FLAKY) != 0;
    wsx_config_init(&e->cfg, role);
    e->cfg.alloc = fz_allocator(&e->alloc, !(flags & RT_NOREALLOC));
    e->cfg.streaming = (flags & (role == WSX_SERVER ? RT_SRV_STREAM
                                                    : RT_CLI_STREAM)) != 0;
    e->cfg.client.host = "server.example.com";
    e->cfg.client.path = "/chat";
    wsx_callbacks_init(&e->cb);
    e->cb.send = rt_send;
    e->cb.random = rt_random;
    e->cb.on_open = rt_open;
    e->cb.on_message = rt_message;
    e->cb.on_fragment = rt_fragment;
    e->cb.on_close = rt_close;
    e->c = wsx_conn_new(&e->cfg, &e->cb, e);
    WSX_FUZZ_CHECK(e->c);
}

/* Flush a, then deliver what its transport took to b at random splits.
 * Returns whether anything moved. */
static bool rt_pump(rt_end *a, rt_end *b, fz_rng *rng)
{
    bool moved = false, flaky = a->flaky;
    for (int i = 0; wsx_conn_wants_write(a->c); i++) {
        /* A transport that pushes back still gets everything through. */
        a->flaky = flaky && i < 32;
        int r = wsx_conn_flush(a->c);
        WSX_FUZZ_CHECK(r == 0 || r == WSX_EAGAIN);
    }
    a->flaky = flaky;
    while (a->wire_off < a->wire.len) {
        size_t rem = a->wire.len - a->wire_off;
        size_t k = fz_one_in(rng, 3) ? rem : 1 + fz_below(rng, rem < 32 ? rem : 32);
        uint8_t *d = fz_dup(a->wire.bytes + a->wire_off, k);
        int r = wsx_conn_feed(b->c, d, k);
        free(d);
        WSX_FUZZ_CHECK(r == 0);
        a->wire_off += k;
        moved = true;
    }
    return moved;
}

static void rt_settle(rt_end *cl, rt_end *sv, fz_rng *rng)
{
    for (int i = 0; i < 64; i++) {
        bool m = rt_pump(cl, sv, rng);
        if (!(rt_pump(sv, cl, rng) | m))
            return;
    }
    abort(); /* the two ends never go quiet */
}

static void rt_same(const rt_msgs *got, const rt_msgs *want)
{
    WSX_FUZZ_CHECK(got->n == want->n && got->len == want->len);
    for (size_t i = 0; i < got->n; i++)
        WSX_FUZZ_CHECK(got->m[i].op == want->m[i].op &&
                       got->m[i].len == want->m[i].len);
    WSX_FUZZ_CHECK(!got->len || memcmp(got->bytes, want->bytes, got->len) == 0);
}

/* Send one message from the script: op, fragment count and length from a
 * control byte and two length bytes, payload from the script (then from
 * the PRNG). Text that is not valid UTF-8 goes as binary: the receiver
 * would rightly fail it (RFC 6455 §8.1). */
static size_t rt_send_one(rt_end *cl, rt_msgs *sent, const uint8_t *p,
                          size_t n, fz_rng *rng)
{
    if (n < 3)
        return n;
    uint8_t ctl = p[0];
    size_t len = (size_t)(p[1] << 8 | p[2]) % 2048;
    size_t used = 3;
    if (ctl & 0x10)
        len = len * 37 % 70000; /* past the 16-bit length too */
    uint8_t *d = malloc(len ? len : 1);
    WSX_FUZZ_CHECK(d);
    for (size_t i = 0; i < len; i++)
        d[i] = used < n ? p[used++] : (uint8_t)fz_next(rng);
    wsx_opcode op = (ctl & 1) && fz_utf8_valid(d, len) ? WSX_TEXT : WSX_BINARY;
    size_t pieces = 1 + ((ctl >> 1) & 3), off = 0;
    for (size_t i = 0; i < pieces; i++) {
        bool fin = i + 1 == pieces;
        size_t k = fin ? len - off : fz_below(rng, len - off + 1);
        int r = pieces == 1 ? wsx_send(cl->c, op, d, len)
                            : wsx_send_fragment(cl->c, op, d + off, k, fin);
        WSX_FUZZ_CHECK(r == 0);
        off += k;
    }
    if (ctl & 0x08)
        WSX_FUZZ_CHECK(wsx_ping(cl->c, d, len < 125 ? len : 125) == 0);
    rt_append(sent, d, len);
    rt_push(sent, (uint8_t)op, len);
    free(d);
    return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rt_end cl, sv;
    rt_msgs sent;
    fz_rng rng;

    if (size < 9)
        return 0;
    for (size_t i = 0; i + 12 <= size; i += 12)
        header_roundtrip(data + i);
    unsigned flags = data[0];
    rng.s = fz_load64(data + 1);
    data += 9;
    size -= 9;
    memset(&sent, 0, sizeof sent);
    rt_init(&cl, WSX_CLIENT, flags, &rng);
    rt_init(&sv, WSX_SERVER, flags, &rng);
    rt_settle(&cl, &sv, &rng);
    WSX_FUZZ_CHECK(cl.opens == 1 && sv.opens == 1);

    for (size_t off = 0; off < size;) {
        off += rt_send_one(&cl, &sent, data + off, size - off, &rng);
        if (!(flags & RT_BATCH) || fz_one_in(&rng, 4))
            rt_settle(&cl, &sv, &rng);
    }
    rt_settle(&cl, &sv, &rng);
    rt_same(&sv.rx, &sent);
    rt_same(&cl.rx, &sent);

    /* RFC 6455 §7.1.2: the client starts the close, the server echoes
     * it, both see a clean close with the client's code and reason. */
    WSX_FUZZ_CHECK(wsx_close(cl.c, 1000, "bye") == 0);
    rt_settle(&cl, &sv, &rng);
    WSX_FUZZ_CHECK(cl.closes == 1 && sv.closes == 1);
    WSX_FUZZ_CHECK(cl.ci.clean && !cl.ci.remote && cl.ci.code == 1000 &&
                   !cl.ci.error);
    WSX_FUZZ_CHECK(sv.ci.clean && sv.ci.remote && sv.ci.code == 1000 &&
                   !sv.ci.error && sv.ci.reason_len == 3 &&
                   memcmp(sv.reason, "bye", 3) == 0);
    WSX_FUZZ_CHECK(wsx_conn_done(cl.c) && wsx_conn_done(sv.c));
    wsx_conn_free(cl.c);
    wsx_conn_free(sv.c);
    WSX_FUZZ_CHECK(cl.alloc.live_blocks == 0 && cl.alloc.live_bytes == 0);
    WSX_FUZZ_CHECK(sv.alloc.live_blocks == 0 && sv.alloc.live_bytes == 0);
    rt_free_msgs(&cl.wire);
    rt_free_msgs(&sv.wire);
    rt_free_msgs(&cl.rx);
    rt_free_msgs(&sv.rx);
    rt_free_msgs(&sent);
    return 0;
}
