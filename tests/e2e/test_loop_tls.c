/* test_loop_tls.c - the TLS stream (wsx_tls.h): driven by hand over
 * loopback TCP pairs with tiny socket buffers (partial writes, WANT_READ
 * both ways, a megabyte each way), SNI, client certificates, reload,
 * close_notify, a truncated record and a reset; then under the loop: an
 * echo over wss:// and a certificate that fails to verify reaching
 * on_close as WSX_ETLSVERIFY with its reason. Certificates are made at
 * run time with the openssl command. A build without TLS checks that
 * every TLS call fails cleanly instead. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "e2e.h"
#include "wsx_tls.h"

#ifndef RUN
#define RUN(fn) fn()
#endif

static char dir[64];
static char path_buf[16][128];
static int path_n;

/* dir/name, in one of a few static buffers. */
static const char *path(const char *name)
{
    char *p = path_buf[path_n++ % 16];
    snprintf(p, sizeof path_buf[0], "%s/%s", dir, name);
    return p;
}

/* A CA (ca, other) and certificates signed by them: srv (127.0.0.1,
 * localhost), sni (*.sni.test), cli (a client), rogue (127.0.0.1, by the
 * other CA). */
static int make_certs(void)
{
    char cmd[4096];
    snprintf(dir, sizeof dir, "/tmp/wsx-tls-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(cmd, sizeof cmd,
             "(cd %s && key='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes' && "
             "for ca in ca other; do openssl req -x509 $key -days 2 -subj /CN=$ca "
             "-keyout $ca.key -out $ca.pem || exit 1; done && "
             "mk() { openssl req $key -subj /CN=$1 -keyout $1.key -out $1.csr && "
             "printf 'subjectAltName=%%s\\n' \"$3\" > $1.ext && "
             "openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -CAcreateserial "
             "-days 2 -extfile $1.ext -out $1.pem; } && "
             "mk srv ca IP:127.0.0.1,DNS:localhost && mk sni ca 'DNS:*.sni.test' && "
             "mk cli ca DNS:client && mk rogue other IP:127.0.0.1,DNS:localhost; "
             ") >/dev/null 2>&1",
             dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void remove_certs(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static wsx_tls *server_ctx(const char *cert, const char *key,
                           wsx_tls_client_auth auth)
{
    wsx_tls_opts o;
    wsx_tls *t = NULL;
    char why[256];
    static const wsx_tls_sni_cert sni[1] = {{"*.sni.test", NULL, NULL}};
    wsx_tls_sni_cert table[1] = {sni[0]};
    table[0].cert_file = path("sni.pem");
    table[0].key_file = path("sni.key");
    wsx_tls_opts_init(&o, WSX_SERVER);
    o.cert_file = cert;
    o.key_file = key;
    o.sni = table;
    o.sni_count = 1;
    o.client_auth = auth;
    o.ca_file = auth ? path("ca.pem") : NULL;
    int r = wsx_tls_new(&o, &t, why, sizeof why);
    if (r < 0)
        fprintf(stderr, "server context: %s\n", why);
    CHECK_EQ(r, 0);
    return t;
}

static wsx_tls *client_ctx_tickets(const char *ca, bool with_cert, bool tickets)
{
    wsx_tls_opts o;
    wsx_tls *t = NULL;
    wsx_tls_opts_init(&o, WSX_CLIENT);
    o.ca_file = ca;
    o.session_tickets = tickets;
    if (with_cert) {
        o.cert_file = path("cli.pem");
        o.key_file = path("cli.key");
    }
    CHECK_EQ(wsx_tls_new(&o, &t, NULL, 0), 0);
    return t;
}

static wsx_tls *client_ctx(const char *ca, bool with_cert)
{
    return client_ctx_tickets(ca, with_cert, true);
}

/* ---- the stream by hand over a TCP pair ------------------------------ */

typedef struct side {
    void *st;
    int fd;
    int err;         /* the first read result <= 0 other than WSX_EAGAIN,
                        1 while none */
    uint8_t *got;    /* plaintext read */
    size_t got_len;
    const uint8_t *out; /* plaintext to send */
    size_t out_len, out_off;
    int partial;     /* writev calls that took less than offered */
} side;

/* Connected non-blocking loopback sockets with small buffers, so
 * ciphertext meets a full socket often. */
static void tcp_pair(int fds[2])
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(listen(l, 1), 0);
    getsockname(l, (struct sockaddr *)&a, &al);
    fds[0] = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(connect(fds[0], (struct sockaddr *)&a, sizeof a), 0);
    fds[1] = accept(l, NULL, NULL);
    close(l);
    for (int i = 0; i < 2; i++) {
        /* Smaller still and the kernel's zero-window probes (backing
         * off to seconds) would set the pace. */
        int small = 16384;
        setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
    }
}

static int pair_open(side *c, side *s, wsx_tls *cc, wsx_tls *sc, const char *name)
{
    int fds[2];
    memset(c, 0, sizeof *c);
    memset(s, 0, sizeof *s);
    tcp_pair(fds);
    c->fd = fds[0];
    s->fd = fds[1];
    c->err = s->err = 1;
    int r = wsx_stream_tls.open(cc, c->fd, true, name, &c->st);
    if (r == 0)
        r = wsx_stream_tls.open(sc, s->fd, false, NULL, &s->st);
    return r;
}

static void pair_close(side *c, side *s)
{
    side *x[2] = {c, s};
    for (int i = 0; i < 2; i++) {
        if (x[i]->st)
            wsx_stream_tls.close(x[i]->st);
        if (x[i]->fd >= 0)
            close(x[i]->fd);
        free(x[i]->got);
    }
}

/* One turn of a side: offer what is left to send, flush, read all. */
static bool turn(side *x)
{
    bool moved = false;
    uint8_t buf[3000]; /* smaller than a record: reads hand out pieces */
    if (x->out_off < x->out_len && x->err == 1) {
        size_t n = x->out_len - x->out_off;
        wsx_iovec v = {x->out + x->out_off, n > 100000 ? 100000 : n};
        long w = wsx_stream_tls.writev(x->st, x->fd, &v, 1);
        if (w >= 0) {
            x->partial += (size_t)w < v.len;
            x->out_off += (size_t)w;
            moved = w > 0;
        } else if (w != WSX_EAGAIN) {
            x->err = (int)w;
        }
    }
    if (x->err == 1 && wsx_stream_tls.queued(x->st)) {
        int f = wsx_stream_tls.flush(x->st, x->fd);
        if (f < 0 && f != WSX_EAGAIN)
            x->err = f;
    }
    while (x->err == 1) {
        long n = wsx_stream_tls.read(x->st, x->fd, buf, sizeof buf);
        if (n == WSX_EAGAIN)
            break;
        if (n <= 0) {
            x->err = (int)n;
            break;
        }
        x->got = realloc(x->got, x->got_len + (size_t)n);
        memcpy(x->got + x->got_len, buf, (size_t)n);
        x->got_len += (size_t)n;
        moved = true;
    }
    return moved;
}

/* Turn both sides until want bytes reached each reader, or nothing moved
 * for two seconds (20 ms once a side has ended). */
static void pump(side *c, side *s, size_t c_want, size_t s_want)
{
    int idle = 0;
    while (idle < (c->err != 1 || s->err != 1 ? 20 : 2000) && (c->got_len < c_want || s->got_len < s_want)) {
        bool moved = turn(c);
        moved = turn(s) || moved;
        idle = moved ? 0 : idle + 1;
        if (!moved)
            usleep(1000);
    }
}

/* A megabyte each way through 16 KiB socket buffers: writev takes less
 * than offered, reads see WANT_READ, and every byte arrives in order. */
static void test_stream_megabyte_both_ways(void)
{
    wsx_tls *sc = server_ctx(path("srv.pem"), path("srv.key"), WSX_TLS_CLIENT_AUTH_NONE);
    wsx_tls *cc = client_ctx(path("ca.pem"), false);
    side c, s;
    size_t n = 1 << 20;
    uint8_t *a = malloc(n), *b = malloc(n);
    for (size_t i = 0; i < n; i++) {
        a[i] = (uint8_t)(i * 31 + 7);
        b[i] = (uint8_t)(i * 17 + 3);
    }
    CHECK_EQ(pair_open(&c, &s, cc, sc, "localhost"), 0);
    c.out = a;
    c.out_len = n;
    /* A server answers once the client has spoken (bytes written before
     * its handshake ends are dropped: see wsx_stream_tls). */
    pump(&c, &s, 0, 1);
    s.out = b;
    s.out_len = n;
    pump(&c, &s, n, n);
    CHECK_EQ(s.got_len, n);
    CHECK_EQ(c.got_len, n);
    CHECK(s.got_len == n && memcmp(s.got, a, n) == 0);
    CHECK(c.got_len == n && memcmp(c.got, b, n) == 0);
    CHECK(c.partial > 0 && s.partial > 0);
    CHECK_EQ(c.err, 1);
    CHECK_EQ(s.err, 1);
    /* close_notify (RFC 8446 §6.1) is an end of stream, not an error. */
    wsx_stream_tls.shutdown(c.st, c.fd);
    pump(&c, &s, 0, n + 1);
    CHECK_EQ(s.err, 0);
    pair_close(&c, &s);
    free(a);
    free(b);
    wsx_tls_free(cc);
    wsx_tls_free(sc);
}

/* Handshake, then a few bytes one way; returns the client's and the
 * server's results through c and s (open for the caller to close). */
static void small_exchange(side *c, side *s, wsx_tls *cc, wsx_tls *sc,
                           const char *name)
{
    CHECK_EQ(pair_open(c, s, cc, sc, name), 0);
    c->out = (const uint8_t *)"hello";
    c->out_len = 5;
    pump(c, s, 0, 5);
}

static void test_stream_sni(void)
{
    wsx_tls *sc = server_ctx(path("srv.pem"), path("srv.key"), WSX_TLS_CLIENT_AUTH_NONE);
    wsx_tls *cc = client_ctx(path("ca.pem"), false);
    side c, s;
    /* Only the SNI certificate names a.sni.test: verifying means it was
     * chosen by the name the client asked for. */
    small_exchange(&c, &s, cc, sc, "a.sni.test");
    CHECK_EQ(s.got_len, 5);
    CHECK_EQ(c.err, 1);
    pair_close(&c, &s);
    /* Another name gets the default certificate, which does not name it. */
    small_exchange(&c, &s, cc, sc, "b.elsewhere.test");
    CHECK_EQ(s.got_len, 0);
    CHECK_EQ(c.err, WSX_ETLSVERIFY);
    CHECK(strstr(wsx_tls_last_error(cc), "mismatch") != NULL);
    pair_close(&c, &s);
    wsx_tls_free(cc);
    wsx_tls_free(sc);
}

static void test_stream_client_certificate(void)
{
    wsx_tls *sc = server_ctx(path("srv.pem"), path("srv.key"),
                             WSX_TLS_CLIENT_AUTH_REQUIRED);
    wsx_tls *anon = client_ctx(path("ca.pem"), false);
    wsx_tls *known = client_ctx(path("ca.pem"), true);
    side c, s;
    small_exchange(&c, &s, anon, sc, "localhost");
    CHECK_EQ(s.got_len, 0);
    CHECK_EQ(s.err, WSX_ETLSVERIFY);
    CHECK(c.err < 0);
    pair_close(&c, &s);
    small_exchange(&c, &s, known, sc, "localhost");
    CHECK_EQ(s.got_len, 5);
    CHECK_EQ(s.err, 1);
    pair_close(&c, &s);
    wsx_tls_free(known);
    wsx_tls_free(anon);
    wsx_tls_free(sc);
}

/* A record cut short by the end of TCP is an attack TLS detects
 * (RFC 8446 §6.1); a reset is the peer going away. */
static void test_stream_truncation_and_reset(void)
{
    wsx_tls *sc = server_ctx(path("srv.pem"), path("srv.key"), WSX_TLS_CLIENT_AUTH_NONE);
    wsx_tls *cc = client_ctx(path("ca.pem"), false);
    side c, s;
    small_exchange(&c, &s, cc, sc, "localhost");
    CHECK_EQ(s.got_len, 5);
    uint8_t plain[200] = {0}, rec[1024];
    wsx_iovec v = {plain, sizeof plain};
    CHECK_EQ(wsx_stream_tls.writev(c.st, c.fd, &v, 1), (long)sizeof plain);
    CHECK_EQ(wsx_stream_tls.flush(c.st, c.fd), 0);
    usleep(20000);
    /* Take the record off the server's socket and give back half. */
    ssize_t n = recv(s.fd, rec, sizeof rec, 0);
    CHECK(n > 100);
    CHECK_EQ(send(c.fd, rec, (size_t)n / 2, 0), n / 2);
    shutdown(c.fd, SHUT_WR);
    pump(&c, &s, 0, 6);
    CHECK_EQ(s.err, WSX_ETLS);
    CHECK(strstr(wsx_tls_last_error(sc), "truncated") != NULL);
    pair_close(&c, &s);

    small_exchange(&c, &s, cc, sc, "localhost");
    struct linger hard = {1, 0};
    setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    wsx_stream_tls.close(c.st);
    c.st = NULL;
    close(c.fd);
    c.fd = -1;
    usleep(20000);
    s.err = 1;
    turn(&s);
    CHECK_EQ(s.err, WSX_EPEERCLOSED);
    pair_close(&c, &s);
    wsx_tls_free(cc);
    wsx_tls_free(sc);
}

/* Reload reads the same file names again: replacing the files swaps the
 * certificate for new connections; a broken file changes nothing. */
static void test_reload(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cd %s && cp srv.pem live.pem && cp srv.key live.key", dir);
    CHECK_EQ(system(cmd), 0);
    wsx_tls *sc = server_ctx(path("live.pem"), path("live.key"), WSX_TLS_CLIENT_AUTH_NONE);
    /* Without tickets, so that every connection checks the certificate
     * (a resumed session would not: test_client_resumption). */
    wsx_tls *ours = client_ctx_tickets(path("ca.pem"), false, false);
    wsx_tls *theirs = client_ctx_tickets(path("other.pem"), false, false);
    side c, s;
    char why[256];
    small_exchange(&c, &s, ours, sc, "localhost");
    CHECK_EQ(s.got_len, 5);
    pair_close(&c, &s);
    snprintf(cmd, sizeof cmd, "cd %s && cp rogue.pem live.pem && cp rogue.key live.key", dir);
    CHECK_EQ(system(cmd), 0);
    CHECK_EQ(wsx_tls_reload(sc, why, sizeof why), 0);
    small_exchange(&c, &s, theirs, sc, "localhost");
    CHECK_EQ(s.got_len, 5);
    pair_close(&c, &s);
    small_exchange(&c, &s, ours, sc, "localhost");
    CHECK_EQ(c.err, WSX_ETLSVERIFY);
    pair_close(&c, &s);
    snprintf(cmd, sizeof cmd, "cd %s && echo broken > live.pem", dir);
    CHECK_EQ(system(cmd), 0);
    CHECK_EQ(wsx_tls_reload(sc, why, sizeof why), WSX_ETLS);
    CHECK(strstr(why, "live.pem") != NULL);
    small_exchange(&c, &s, theirs, sc, "localhost");
    CHECK_EQ(s.got_len, 5);
    pair_close(&c, &s);
    wsx_tls_free(theirs);
    wsx_tls_free(ours);
    wsx_tls_free(sc);
}

/* Handshake, then a few bytes each way, so that the client has read the
 * server's tickets (TLS 1.3 sends them after the handshake). */
static void both_ways(wsx_tls *cc, wsx_tls *sc, const char *name)
{
    side c, s;
    CHECK_EQ(pair_open(&c, &s, cc, sc, name), 0);
    c.out = (const uint8_t *)"hello";
    c.out_len = 5;
    pump(&c, &s, 0, 5);
    s.out = (const uint8_t *)"world"; /* a server speaks after the request */
    s.out_len = 5;
    pump(&c, &s, 5, 5);
    CHECK_EQ(c.got_len, 5);
    CHECK_EQ(s.got_len, 5);
    pair_close(&c, &s);
}

/* A client offers the newest ticket of a server name to its next
 * connection to that name: resumed on both sides, counted in the stats;
 * not for another name, not after its reload, never with tickets off. */
static void test_client_resumption(void)
{
    wsx_tls *sc = server_ctx(path("srv.pem"), path("srv.key"), WSX_TLS_CLIENT_AUTH_NONE);
    wsx_tls *cc = client_ctx(path("ca.pem"), false);
    wsx_tls *off = client_ctx_tickets(path("ca.pem"), false, false);
    wsx_tls_stats cs, ss;
    char why[256];
    both_ways(cc, sc, "localhost");
    both_ways(cc, sc, "localhost");
    both_ways(cc, sc, "localhost"); /* the second's ticket, used once */
    wsx_tls_stats_get(cc, &cs);
    wsx_tls_stats_get(sc, &ss);
    CHECK_EQ(cs.handshakes, 3);
    CHECK_EQ(cs.resumed, 2);
    CHECK_EQ(ss.resumed, 2);
    both_ways(cc, sc, "a.sni.test"); /* another name: a full handshake */
    wsx_tls_stats_get(cc, &cs);
    CHECK_EQ(cs.resumed, 2);
    CHECK_EQ(wsx_tls_reload(cc, why, sizeof why), 0);
    both_ways(cc, sc, "localhost"); /* the reload dropped the sessions */
    wsx_tls_stats_get(cc, &cs);
    CHECK_EQ(cs.handshakes, 5);
    CHECK_EQ(cs.resumed, 2);
    both_ways(off, sc, "localhost");
    both_ways(off, sc, "localhost");
    wsx_tls_stats_get(off, &cs);
    CHECK_EQ(cs.handshakes, 2);
    CHECK_EQ(cs.resumed, 0);
    wsx_tls_free(off);
    wsx_tls_free(cc);
    wsx_tls_free(sc);
}

static void test_bad_options(void)
{
    wsx_tls_opts o;
    wsx_tls *t = NULL;
    char why[256];
    wsx_tls_opts_init(&o, WSX_SERVER);
    CHECK_EQ(wsx_tls_new(&o, &t, why, sizeof why), WSX_EINVAL); /* no cert */
    o.cert_file = path("srv.pem");
    o.key_file = path("srv.key");
    o.client_auth = WSX_TLS_CLIENT_AUTH_OPTIONAL;
    CHECK_EQ(wsx_tls_new(&o, &t, why, sizeof why), WSX_EINVAL); /* no CA */
    o.client_auth = WSX_TLS_CLIENT_AUTH_NONE;
    o.key_file = path("missing.key");
    CHECK_EQ(wsx_tls_new(&o, &t, why, sizeof why), WSX_ETLS);
    CHECK(strstr(why, "missing.key") != NULL);
    CHECK(t == NULL);
}

/* ---- under the loop ---------------------------------------------------- */

typedef struct client {
    int opened, closed, error, echoed;
    wsx_loop *loop;
} client;

static void echo(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    wsx_send(c, m->opcode, m->data, m->len);
}

static void c_open(wsx_conn *c, void *user)
{
    client *k = user;
    k->opened++;
    wsx_send(c, WSX_TEXT, "over tls", 8);
}

static void c_message(wsx_conn *c, const wsx_message *m, void *user)
{
    client *k = user;
    k->echoed += m->len == 8 && !memcmp(m->data, "over tls", 8);
    wsx_close(c, 1000, NULL);
}

static void c_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    client *k = user;
    (void)c;
    k->closed++;
    k->error = ci->error;
    wsx_loop_shutdown(k->loop);
}

/* A wss:// client with stream context cc (NULL: the loop's default)
 * against a TLS echo server in the same loop. */
static void loop_case(client *k, wsx_tls *cc)
{
    wsx_tls *sc = server_ctx(path("srv.pem"), path("srv.key"), WSX_TLS_CLIENT_AUTH_NONE);
    wsx_loop *l = wsx_loop_new(NULL);
    wsx_callbacks scb, ccb;
    wsx_listen_opts lo;
    wsx_connect_opts co;
    char url[64];
    memset(k, 0, sizeof *k);
    k->loop = l;
    wsx_callbacks_init(&scb);
    scb.on_message = echo;
    wsx_listen_opts_init(&lo);
    lo.host = "127.0.0.1";
    lo.callbacks = &scb;
    lo.stream = &wsx_stream_tls;
    lo.stream_ctx = sc;
    int port = wsx_loop_listen(l, &lo);
    CHECK(port > 0);
    wsx_callbacks_init(&ccb);
    ccb.on_open = c_open;
    ccb.on_message = c_message;
    ccb.on_close = c_close;
    snprintf(url, sizeof url, "wss://localhost:%d/", port);
    wsx_connect_opts_init(&co);
    co.url = url;
    co.callbacks = &ccb;
    co.user = k;
    co.stream = cc ? &wsx_stream_tls : NULL;
    co.stream_ctx = cc;
    CHECK_EQ(wsx_loop_connect(l, &co, NULL), 0);
    CHECK_EQ(wsx_loop_run(l), 0);
    wsx_loop_free(l);
    wsx_tls_free(sc);
}

static void test_loop_echo(void)
{
    client k;
    wsx_tls *cc = client_ctx(path("ca.pem"), false);
    loop_case(&k, cc);
    CHECK_EQ(k.opened, 1);
    CHECK_EQ(k.echoed, 1);
    CHECK_EQ(k.closed, 1);
    CHECK_EQ(k.error, 0);
    wsx_tls_free(cc);
}

static void test_loop_verify_failure(void)
{
    client k;
    wsx_tls *cc = client_ctx(path("other.pem"), false);
    loop_case(&k, cc);
    CHECK_EQ(k.opened, 0);
    CHECK_EQ(k.closed, 1);
    CHECK_EQ(k.error, WSX_ETLSVERIFY);
    CHECK(strstr(wsx_tls_last_error(cc), "verify failed") != NULL);
    wsx_tls_free(cc);
    /* No stream given: wss:// still verifies, against the system store,
     * which does not know the test CA. */
    loop_case(&k, NULL);
    CHECK_EQ(k.opened, 0);
    CHECK_EQ(k.closed, 1);
    CHECK_EQ(k.error, WSX_ETLSVERIFY);
}

/* make TLS=0: every way into TLS fails, and says why. */
static void test_without_tls(void)
{
    wsx_tls_opts o;
    wsx_tls *t = NULL;
    char why[256] = "";
    wsx_tls_opts_init(&o, WSX_CLIENT);
    CHECK_EQ(wsx_tls_new(&o, &t, why, sizeof why), WSX_ETLS);
    CHECK(strstr(why, "TLS=0") != NULL);
    wsx_loop *l = wsx_loop_new(NULL);
    wsx_callbacks cb;
    wsx_connect_opts co;
    wsx_callbacks_init(&cb);
    wsx_connect_opts_init(&co);
    co.url = "wss://127.0.0.1:1/";
    co.callbacks = &cb;
    CHECK_EQ(wsx_loop_connect(l, &co, NULL), WSX_EINVAL);
    wsx_loop_free(l);
}

int main(void)
{
    wsx_tls_opts o;
    wsx_tls *probe = NULL;
    signal(SIGPIPE, SIG_IGN);
    e2e_watchdog(120);
    wsx_tls_opts_init(&o, WSX_CLIENT);
    if (wsx_tls_new(&o, &probe, NULL, 0) == WSX_ETLS) {
        RUN(test_without_tls);
        return test_summary("test_loop_tls");
    }
    wsx_tls_free(probe);
    if (make_certs() < 0) {
        fprintf(stderr, "FAIL: the openssl command could not make certificates\n");
        return 1;
    }
    RUN(test_bad_options);
    RUN(test_stream_megabyte_both_ways);
    RUN(test_stream_sni);
    RUN(test_stream_client_certificate);
    RUN(test_stream_truncation_and_reset);
    RUN(test_reload);
    RUN(test_client_resumption);
    RUN(test_loop_echo);
    RUN(test_loop_verify_failure);
    remove_certs();
    return test_summary("test_loop_tls");
}
