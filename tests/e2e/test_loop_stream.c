/* test_loop_stream.c - a byte stream other than TCP under the loop: a
 * test stream that scrambles every byte (so a plain peer cannot talk to
 * it), queues all output itself and hands input out in small pieces, so
 * the loop must flush the stream's queue, honour wants() and read input
 * the stream already holds. Server and wss:// client run in one loop on
 * every backend; echoes must come back intact. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "e2e.h"
#include "wsx_stream.h"


#define KEY 0x5a
#define PIECE 700 /* most bytes read hands out at once */

typedef struct xs {
    uint8_t *out;
    size_t out_len, out_cap, out_peak;
    uint8_t in[8192];
    size_t in_off, in_len;
} xs;

static size_t the_peak; /* largest stream queue seen */

typedef struct xs_ctx {
    int opens, closes, client_opens;
    char server_name[64];
} xs_ctx;

static int xs_open(void *ctx, int fd, bool client, const char *server_name,
                   void **st)
{
    xs_ctx *c = ctx;
    (void)fd;
    xs *s = calloc(1, sizeof *s);
    if (!s)
        return WSX_ENOMEM;
    c->opens++;
    if (client) {
        c->client_opens++;
        snprintf(c->server_name, sizeof c->server_name, "%s",
                 server_name ? server_name : "(null)");
    }
    *st = s;
    return 0;
}

static long xs_read(void *st, int fd, uint8_t *buf, size_t len)
{
    xs *s = st;
    if (s->in_len == 0) {
        ssize_t n = recv(fd, s->in, sizeof s->in, 0);
        if (n == 0)
            return 0;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? WSX_EAGAIN
                                                           : WSX_EIO;
        for (ssize_t i = 0; i < n; i++)
            s->in[i] ^= KEY;
        s->in_off = 0;
        s->in_len = (size_t)n;
    }
    size_t k = s->in_len < len ? s->in_len : len;
    if (k > PIECE)
        k = PIECE;
    memcpy(buf, s->in + s->in_off, k);
    s->in_off += k;
    s->in_len -= k;
    return (long)k;
}

static long xs_writev(void *st, int fd, const wsx_iovec *iov, int n)
{
    xs *s = st;
    (void)fd;
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].len;
    if (s->out_len + total > s->out_cap) {
        size_t cap = (s->out_len + total) * 2;
        uint8_t *p = realloc(s->out, cap);
        if (!p)
            return WSX_ENOMEM;
        s->out = p;
        s->out_cap = cap;
    }
    for (int i = 0; i < n; i++) {
        const uint8_t *b = iov[i].base;
        for (size_t j = 0; j < iov[i].len; j++)
            s->out[s->out_len++] = b[j] ^ KEY;
    }
    if (s->out_len > s->out_peak)
        s->out_peak = s->out_len;
    if (s->out_peak > the_peak)
        the_peak = s->out_peak;
    return (long)total;
}

/* At most 4 KiB per call, so the queue really builds up. */
static int xs_flush(void *st, int fd)
{
    xs *s = st;
    size_t k = s->out_len < 4096 ? s->out_len : 4096;
    ssize_t n = send(fd, s->out, k, MSG_NOSIGNAL);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? WSX_EAGAIN : WSX_EIO;
    memmove(s->out, s->out + n, s->out_len - (size_t)n);
    s->out_len -= (size_t)n;
    return s->out_len ? WSX_EAGAIN : 0;
}

static void xs_shutdown(void *st, int fd)
{
    if (((xs *)st)->out_len)
        xs_flush(st, fd); /* best effort */
}

static size_t xs_queued(const void *st)
{
    return ((const xs *)st)->out_len;
}

static unsigned xs_wants(const void *st)
{
    const xs *s = st;
    return (s->out_len ? WSX_STREAM_WRITE : 0u) |
           (s->in_len ? WSX_STREAM_INPUT : 0u);
}

static xs_ctx *the_ctx;

static void xs_close(void *st)
{
    xs *s = st;
    the_ctx->closes++;
    free(s->out);
    free(s);
}

static const wsx_stream_ops xor_stream = {
    "xor", xs_open, xs_read, xs_writev, xs_flush,
    xs_shutdown, xs_queued, xs_wants, xs_close,
};

/* ---- echo server and client --------------------------------------- */

static void echo(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    wsx_send(c, m->opcode, m->data, m->len);
}

static const size_t sizes[] = {0, 1, 125, 126, 5000, 65536, 300000};
#define NSIZES (sizeof sizes / sizeof sizes[0])

typedef struct client {
    size_t step;
    int opened, ok, closed, error;
    uint16_t code;
    uint8_t *want;
    wsx_loop *loop;
} client;

static void send_next(wsx_conn *c, client *k)
{
    if (k->step == NSIZES) {
        wsx_close(c, 1000, "done");
        return;
    }
    size_t n = sizes[k->step];
    free(k->want);
    k->want = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        k->want[i] = (uint8_t)(i * 7 + k->step);
    CHECK_EQ(wsx_send(c, WSX_BINARY, k->want, n), 0);
}

static void c_open(wsx_conn *c, void *user)
{
    client *k = user;
    k->opened++;
    send_next(c, k);
}

static void c_message(wsx_conn *c, const wsx_message *m, void *user)
{
    client *k = user;
    size_t n = sizes[k->step];
    k->ok += m->len == n && (n == 0 || memcmp(m->data, k->want, n) == 0);
    k->step++;
    send_next(c, k);
}

static void c_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    client *k = user;
    (void)c;
    k->closed++;
    k->code = ci->code;
    k->error = ci->error;
    wsx_loop_shutdown(k->loop); /* the listener goes too: run returns */
}

static wsx_loop_backend backend;

static wsx_loop *new_loop(void)
{
    wsx_loop_opts o;
    wsx_loop_opts_init(&o);
    o.backend = backend;
    return wsx_loop_new(&o);
}

static int listen_on(wsx_loop *l, wsx_callbacks *scb, xs_ctx *ctx)
{
    wsx_listen_opts lo;
    wsx_listen_opts_init(&lo);
    lo.host = "127.0.0.1";
    lo.callbacks = scb;
    lo.stream = &xor_stream;
    lo.stream_ctx = ctx;
    return wsx_loop_listen(l, &lo);
}

/* An echo server behind the scrambling stream and a client k dialling it
 * as scheme://, set up in co (stream left for the caller to choose).
 * Returns the loop. */
static wsx_loop *echo_pair(xs_ctx *ctx, client *k, wsx_callbacks *scb,
                           wsx_callbacks *ccb, wsx_connect_opts *co,
                           char *url, size_t url_cap, const char *scheme)
{
    memset(ctx, 0, sizeof *ctx);
    memset(k, 0, sizeof *k);
    the_ctx = ctx;
    wsx_loop *l = new_loop();
    CHECK(l != NULL);
    wsx_callbacks_init(scb);
    scb->on_message = echo;
    int port = listen_on(l, scb, ctx);
    CHECK(port > 0);
    wsx_callbacks_init(ccb);
    ccb->on_open = c_open;
    ccb->on_message = c_message;
    ccb->on_close = c_close;
    k->loop = l;
    snprintf(url, url_cap, "%s://127.0.0.1:%d/x", scheme, port);
    wsx_connect_opts_init(co);
    co->url = url;
    co->callbacks = ccb;
    co->user = k;
    return l;
}

static void test_stream_echo(void)
{
    xs_ctx ctx;
    client k;
    wsx_callbacks scb, ccb;
    wsx_connect_opts co;
    char url[64];
    wsx_loop *l = echo_pair(&ctx, &k, &scb, &ccb, &co, url, sizeof url, "wss");
    co.stream = &xor_stream;
    co.stream_ctx = &ctx;
    CHECK_EQ(wsx_loop_connect(l, &co, NULL), 0);
    CHECK_EQ(wsx_loop_run(l), 0);
    CHECK_EQ(k.opened, 1);
    CHECK_EQ(k.ok, (int)NSIZES);
    CHECK_EQ(k.closed, 1);
    CHECK_EQ(k.code, 1000);
    CHECK_EQ(ctx.client_opens, 1);
    CHECK(strcmp(ctx.server_name, "127.0.0.1") == 0);
    CHECK_EQ(ctx.opens, 2);
    CHECK_EQ(ctx.closes, 2);
    free(k.want);
    wsx_loop_free(l);
}

/* A plain ws:// client cannot talk to the scrambling server: the stream
 * is really in the path. */
static void test_stream_plain_peer_fails(void)
{
    xs_ctx ctx;
    client k;
    wsx_callbacks scb, ccb;
    wsx_connect_opts co;
    char url[64];
    wsx_loop *l = echo_pair(&ctx, &k, &scb, &ccb, &co, url, sizeof url, "ws");
    CHECK_EQ(wsx_loop_connect(l, &co, NULL), 0);
    CHECK_EQ(wsx_loop_run(l), 0);
    CHECK_EQ(k.opened, 0);
    CHECK_EQ(k.closed, 1);
    CHECK_EQ(ctx.opens, 1);
    CHECK_EQ(ctx.closes, 1);
    free(k.want);
    wsx_loop_free(l);
}

/* A stream that fails as soon as the peer answers, the way TLS fails a
 * certificate it cannot verify. */
static long verify_fail_read(void *st, int fd, uint8_t *buf, size_t len)
{
    long n = xs_read(st, fd, buf, len);
    return n > 0 ? WSX_ETLSVERIFY : n;
}

static const wsx_stream_ops verify_fail_stream = {
    "verify-fail", xs_open, verify_fail_read, xs_writev, xs_flush,
    xs_shutdown, xs_queued, xs_wants, xs_close,
};

/* The stream's own reason reaches on_close (1006), not a generic one. */
static void test_stream_error_reaches_on_close(void)
{
    xs_ctx ctx;
    client k;
    wsx_callbacks scb, ccb;
    wsx_connect_opts co;
    char url[64];
    wsx_loop *l = echo_pair(&ctx, &k, &scb, &ccb, &co, url, sizeof url, "wss");
    co.stream = &verify_fail_stream;
    co.stream_ctx = &ctx;
    CHECK_EQ(wsx_loop_connect(l, &co, NULL), 0);
    CHECK_EQ(wsx_loop_run(l), 0);
    CHECK_EQ(k.opened, 0);
    CHECK_EQ(k.closed, 1);
    CHECK_EQ(k.code, WSX_CLOSE_ABNORMAL);
    CHECK_EQ(k.error, WSX_ETLSVERIFY);
    free(k.want);
    wsx_loop_free(l);
}

/* ---- a stream stuck in its own handshake ------------------------- */

/* Swallows every byte and never yields any: a TLS layer whose peer sends
 * a ClientHello a byte at a time looks like this to the loop. */
static long stuck_read(void *st, int fd, uint8_t *buf, size_t len)
{
    (void)st;
    ssize_t n = recv(fd, buf, len, 0);
    if (n == 0)
        return 0;
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? WSX_EAGAIN : WSX_EIO;
    return WSX_EAGAIN;
}

static const wsx_stream_ops stuck_stream = {
    "stuck", xs_open, stuck_read, xs_writev, xs_flush,
    xs_shutdown, xs_queued, xs_wants, xs_close,
};

/* The core's handshake timeout bounds the stream's handshake too. */
static void test_stream_handshake_timeout(void)
{
    xs_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    the_ctx = &ctx;
    e2e_server srv;
    memset(&srv, 0, sizeof srv);
    wsx_config_init(&srv.cfg, WSX_SERVER);
    srv.cfg.handshake_timeout_ms = 300;
    wsx_callbacks_init(&srv.cb);
    wsx_loop_opts lo;
    wsx_loop_opts_init(&lo);
    lo.backend = backend;
    wsx_listen_opts o;
    wsx_listen_opts_init(&o);
    o.host = "127.0.0.1";
    o.config = &srv.cfg;
    o.callbacks = &srv.cb;
    o.stream = &stuck_stream;
    o.stream_ctx = &ctx;
    srv.loop = wsx_loop_new(&lo);
    srv.port = wsx_loop_listen(srv.loop, &o);
    CHECK(srv.port > 0);
    CHECK(pthread_create(&srv.thread, NULL, e2e_server_main, &srv) == 0);
    int fd = raw_connect(srv.port);
    CHECK(fd >= 0);
    uint64_t t0 = e2e_ms();
    char b[64];
    ssize_t n = 0;
    /* A byte every 50 ms: activity that never completes the handshake. */
    for (int i = 0; i < 100; i++) {
        if (send(fd, "x", 1, MSG_NOSIGNAL) != 1)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) == 1)
            break;
    }
    long dt = (long)(e2e_ms() - t0);
    /* Whatever the core answered (through the stream), then the close. */
    while ((n = recv(fd, b, sizeof b, 0)) > 0)
        continue;
    CHECK_EQ(n, 0);
    CHECK(dt >= 250 && dt < 3000);
    close(fd);
    e2e_server_stop(&srv);
    CHECK_EQ(ctx.opens, 1);
    CHECK_EQ(ctx.closes, 1);
}

/* ---- the read pause counts the stream's queue --------------------- */

static void send_xor(int fd, const uint8_t *p, size_t n, uint8_t *tmp)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = p[i] ^ KEY;
    CHECK(raw_write(fd, tmp, n) == 0);
}

/* A peer that sends and never reads: the server's output piles up in the
 * stream's own queue (the core's stays empty), and the server must stop
 * reading once that queue passes read_pause. */
static void test_stream_read_pause(void)
{
    enum { PAUSE = 256 * 1024, FRAME = 16 * 1024, TOTAL = 48 << 20 };
    xs_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    the_ctx = &ctx;
    the_peak = 0;
    e2e_server srv;
    memset(&srv, 0, sizeof srv);
    wsx_config_init(&srv.cfg, WSX_SERVER);
    wsx_callbacks_init(&srv.cb);
    srv.cb.on_message = echo;
    wsx_loop_opts lo;
    wsx_loop_opts_init(&lo);
    lo.backend = backend;
    lo.read_pause = PAUSE;
    wsx_listen_opts o;
    wsx_listen_opts_init(&o);
    o.host = "127.0.0.1";
    o.config = &srv.cfg;
    o.callbacks = &srv.cb;
    o.stream = &xor_stream;
    o.stream_ctx = &ctx;
    srv.loop = wsx_loop_new(&lo);
    srv.port = wsx_loop_listen(srv.loop, &o);
    CHECK(srv.port > 0);
    CHECK(pthread_create(&srv.thread, NULL, e2e_server_main, &srv) == 0);
    int fd = raw_connect(srv.port);
    CHECK(fd >= 0);
    static uint8_t frame[FRAME + 8], tmp[FRAME + 8];
    send_xor(fd, (const uint8_t *)raw_request, sizeof raw_request - 1, tmp);
    /* Masked binary frames with a zero key: the payload goes as is. */
    frame[0] = 0x82;
    frame[1] = 0x80 | 126;
    frame[2] = (uint8_t)(FRAME >> 8);
    frame[3] = (uint8_t)FRAME;
    memset(frame + 4, 0, 4);
    memset(frame + 8, 'p', FRAME);
    struct timeval tv = {1, 0}; /* a send blocked for 1 s: server paused */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    size_t sent = 0;
    for (size_t i = 0; i < FRAME + 8; i++)
        tmp[i] = frame[i] ^ KEY;
    while (sent < TOTAL && send(fd, tmp, FRAME + 8, MSG_NOSIGNAL) > 0)
        sent += FRAME + 8;
    CHECK(sent < TOTAL); /* the server stopped reading */
    /* One turn may read a few buffers past the limit, no more. */
    CHECK(the_peak > PAUSE / 2);
    CHECK(the_peak < PAUSE + 4 * 65536 + 2 * FRAME);
    close(fd);
    e2e_server_stop(&srv);
    CHECK_EQ(ctx.closes, 1);
}

static void run_all(wsx_loop_backend b)
{
    backend = b;
    RUN(test_stream_echo);
    RUN(test_stream_plain_peer_fails);
    RUN(test_stream_error_reaches_on_close);
    RUN(test_stream_handshake_timeout);
    RUN(test_stream_read_pause);
}

int main(void)
{
    e2e_watchdog(60);
    run_all(WSX_LOOP_POLL);
    run_all(WSX_LOOP_DEFAULT);
    return test_summary("loop_stream");
}
