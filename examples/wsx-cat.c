/* wsx-cat - a websocat-like client in one thread: each stdin line becomes a
 * message, each message received becomes a stdout line. At the end of input
 * it keeps printing replies until the server closes or goes quiet for the
 * linger time, then closes with 1000 and waits for the server's Close
 * (RFC 6455 §5.5.1: data may arrive until the peer's Close). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/tls.h"
#include "wsx.h"
#include "wsx_deflate.h"
#include "wsx_loop.h"

/* Exit statuses, as --help and the README document them. */
enum {
    EXIT_NORMAL = 0,   /* normal close: 1000 or 1001 */
    EXIT_ABNORMAL = 1, /* any other close code, or an abnormal end */
    EXIT_USAGE = 2,
    EXIT_CONNECT = 3, /* connection refused, host not found, timeout */
    EXIT_HTTP = 4,    /* the server answered the upgrade with an HTTP status */
    EXIT_TLS = 5      /* TLS handshake or certificate verification */
};

#define READ_CHUNK (64 * 1024)
/* Lines wait in stdin while this much is queued for the server. */
#define SEND_HIGH_WATER (1024 * 1024)

/* Where the session is. Input is read only while OPEN_READING; LINGER
 * waits for replies after the end of input; CLOSING waits for the
 * server's Close after ours. */
typedef enum phase {
    PH_CONNECTING,
    PH_OPEN_READING,
    PH_LINGER,
    PH_CLOSING,
    PH_DONE
} phase;

static struct {
    wsx_loop *loop;
    wsx_conn *conn;
    phase phase;
    wsx_opcode mode;
    long long count;  /* stop after this many messages; 0: no limit */
    long long got;    /* messages printed */
    long long linger_ms; /* -1: until the server closes */
    const char *url;
    cli_tls tls;
    int status;       /* the exit status */
    bool failed;      /* stdin or memory failed: never exit 0 */
    /* stdin: a watcher, or for a regular file (epoll refuses those) a
     * timer that reads a chunk per turn of the loop. */
    wsx_watch *watch;
    wsx_timer *file_pump;
    wsx_timer *linger;
    char *buf;        /* unsent input: whole lines, then a partial one */
    size_t len, cap;
    bool eof;
    bool paused;      /* the send queue is above its high-water mark */
} g;

static void watch_input(bool on);

static void close_now(void)
{
    if (g.phase >= PH_CLOSING)
        return;
    g.phase = PH_CLOSING;
    watch_input(false);
    wsx_close(g.conn, WSX_CLOSE_NORMAL, NULL);
}

/* Input is over and sent: wait for replies as --linger says. */
static void start_linger(void)
{
    g.phase = PH_LINGER;
    if (g.linger_ms == 0)
        close_now();
    else if (g.linger_ms > 0)
        wsx_timer_start(g.linger, (uint64_t)g.linger_ms, 0);
}

static void on_linger(wsx_timer *t, void *user)
{
    (void)t;
    (void)user;
    close_now();
}

static void watch_input(bool on)
{
    if (g.watch)
        wsx_watch_set(g.watch, on ? WSX_WATCH_READ : 0);
    else if (g.file_pump && on)
        wsx_timer_start(g.file_pump, 0, 0);
    else if (g.file_pump)
        wsx_timer_stop(g.file_pump);
}

/* Send every complete line buffered (and at end of input the last,
 * unterminated one). Stops reading when the queue is full: on_drain
 * resumes. */
static void send_lines(void)
{
    size_t start = 0;
    while (g.phase == PH_OPEN_READING && start < g.len) {
        char *nl = memchr(g.buf + start, '\n', g.len - start);
        if (!nl && !g.eof)
            break;
        size_t n = nl ? (size_t)(nl - (g.buf + start)) : g.len - start;
        int r = wsx_send(g.conn, g.mode, g.buf + start, n);
        if (r == WSX_EFULL) {
            g.paused = true;
            break;
        }
        start += n + (nl != NULL);
    }
    memmove(g.buf, g.buf + start, g.len - start);
    g.len -= start;
    watch_input(!g.paused && !g.eof && g.phase == PH_OPEN_READING);
    if (g.eof && !g.len && g.phase == PH_OPEN_READING)
        start_linger();
}

static void read_input(void)
{
    if (g.cap - g.len < READ_CHUNK) {
        size_t cap = g.cap ? g.cap * 2 : 2 * READ_CHUNK;
        char *b = realloc(g.buf, cap);
        if (!b) {
            fprintf(stderr, "wsx-cat: out of memory for a line of input\n");
            g.failed = true;
            close_now();
            return;
        }
        g.buf = b;
        g.cap = cap;
    }
    ssize_t n = read(STDIN_FILENO, g.buf + g.len, g.cap - g.len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0) {
        fprintf(stderr, "wsx-cat: reading stdin: %s\n", strerror(errno));
        g.failed = true;
    }
    if (n <= 0)
        g.eof = true;
    else
        g.len += (size_t)n;
    send_lines();
}

static void on_stdin(wsx_watch *w, int fd, unsigned events, void *user)
{
    (void)w;
    (void)fd;
    (void)events;
    (void)user;
    read_input();
}

/* One chunk per turn of the loop, so the connection is served between
 * chunks; send_lines restarts the timer while more is wanted. */
static void on_file_pump(wsx_timer *t, void *user)
{
    (void)t;
    (void)user;
    read_input();
}

static void on_open(wsx_conn *c, void *user)
{
    (void)user;
    g.conn = c; /* a new connection after each reconnect */
    g.phase = PH_OPEN_READING;
    if (g.watch || g.file_pump) { /* reconnected: input resumes */
        send_lines();
        return;
    }
    g.watch = wsx_watch_new(g.loop, STDIN_FILENO, WSX_WATCH_READ, on_stdin, NULL);
    if (!g.watch) /* a regular file: always readable, never watched */
        g.file_pump = wsx_timer_new(g.loop, on_file_pump, NULL);
    if (!g.watch && !g.file_pump) {
        fprintf(stderr, "wsx-cat: cannot read stdin: %s\n", strerror(errno));
        g.failed = true;
        close_now();
        return;
    }
    watch_input(true);
}

static void on_drain(wsx_conn *c, void *user)
{
    (void)c;
    (void)user;
    g.paused = false;
    send_lines();
}

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)c;
    (void)user;
    if (g.count && g.got == g.count) /* the rest is after --count */
        return;
    fwrite(m->data, 1, m->len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    g.got++;
    if (g.count && g.got == g.count) {
        close_now();
    } else if (g.phase == PH_LINGER && g.linger_ms > 0) {
        wsx_timer_start(g.linger, (uint64_t)g.linger_ms, 0);
    }
}

/* The exit status for a connection that failed with err, and its cause
 * on stderr; -1 when err is not one of those causes. */
static int failure(int err, const wsx_close_info *ci)
{
    switch (err) {
    case WSX_ECONNREFUSED:
    case WSX_ENOHOST:
    case WSX_ECONNTIMEOUT:
        fprintf(stderr, "wsx-cat: %s: %s\n", g.url, wsx_strerror(err));
        return EXIT_CONNECT;
    case WSX_EREFUSED: {
        int status = ci ? ci->http_status : 0;
        fprintf(stderr, "wsx-cat: %s: the server refused the upgrade: HTTP/1.1 %d %s\n",
                g.url, status, wsx_http_reason(status));
        return EXIT_HTTP;
    }
    case WSX_ETLS:
    case WSX_ETLSVERIFY:
        fprintf(stderr, "wsx-cat: %s: %s: %s\n", g.url, wsx_strerror(err),
                wsx_tls_last_error(g.tls.ctx));
        return EXIT_TLS;
    default:
        return -1;
    }
}

/* --reconnect: the loop waits and connects again; lines not yet sent
 * wait in stdin meanwhile. */
static int on_attempt(wsx_loop *l, unsigned attempt, uint32_t delay_ms,
                      void *user)
{
    (void)l;
    (void)user;
    fprintf(stderr, "wsx-cat: reconnecting: attempt %u after %u ms\n",
            attempt, (unsigned)delay_ms);
    return 0;
}

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    bool ours = g.phase == PH_CLOSING;
    (void)user;
    if (wsx_loop_will_retry(c)) {
        fprintf(stderr, "wsx-cat: connection lost (%u%s%s), will retry\n",
                ci->code, ci->error ? ": " : "",
                ci->error ? wsx_strerror(ci->error) : "");
        g.phase = PH_CONNECTING;
        g.paused = false;
        watch_input(false);
        return;
    }
    int st = ci->error ? failure(ci->error, ci) : -1;
    if (st >= 0) {
        g.status = st;
    } else if (!ci->error &&
               (ci->code == WSX_CLOSE_NORMAL || ci->code == WSX_CLOSE_GOING_AWAY ||
                (ours && ci->code == WSX_CLOSE_NO_STATUS))) {
        /* 1005 answering our 1000: the server echoed no code. */
        if (!ours && ci->code != WSX_CLOSE_NORMAL)
            fprintf(stderr, "wsx-cat: the server closed: %u \"%.*s\"\n", ci->code,
                    (int)ci->reason_len, ci->reason);
        g.status = g.failed ? EXIT_ABNORMAL : EXIT_NORMAL;
    } else {
        fprintf(stderr, "wsx-cat: closed %u \"%.*s\"%s%s\n", ci->code,
                (int)ci->reason_len, ci->reason, ci->error ? ": " : "",
                ci->error ? wsx_strerror(ci->error) : "");
        g.status = EXIT_ABNORMAL;
    }
    g.phase = PH_DONE;
    /* Nothing else may keep the loop running once the connection is over. */
    wsx_watch_free(g.watch);
    wsx_timer_free(g.file_pump);
    wsx_timer_free(g.linger);
    g.watch = NULL;
    g.file_pump = g.linger = NULL;
}

static const char usage[] =
    "usage: wsx-cat [options] ws[s]://host[:port][/path]\n"
    "Sends each line of stdin as a message and prints each message received\n"
    "as a line. At the end of input it goes on printing replies until the\n"
    "server closes or none came for the linger time, then closes with 1000\n"
    "and waits for the server's Close.\n"
    "  --binary            send binary messages instead of text\n"
    "  --deflate           offer permessage-deflate (RFC 7692)\n"
    "  --header 'N: v'     add a request header (repeatable)\n"
    "  --protocol P        offer subprotocol(s) P (comma list)\n"
    "  --linger SECONDS    after the end of input, wait this long for a reply\n"
    "                      (default 1; 0: close at once; -1: until the server\n"
    "                      closes)\n"
    "  --count N           exit after N messages received (closing with 1000)\n"
    "  --reconnect         when the connection ends or cannot be made, connect\n"
    "                      again after a random wait of up to 250 ms * 2^tries\n"
    "                      (at most 30 s), without giving up; input waits\n"
    "                      meanwhile\n"
    CLI_TLS_CLIENT_USAGE
    "exit status: 0 normal close (1000/1001), 1 any other close or an abnormal\n"
    "end, 2 usage error, 3 could not connect (refused, host not found, timeout),\n"
    "4 the server refused the upgrade (its HTTP status line is printed),\n"
    "5 TLS failure\n";

static char headers[8192];

static void add_header(cli *c, const char *h)
{
    size_t used = strlen(headers), n = strlen(h);
    if (strchr(h, '\r') || strchr(h, '\n') || !strchr(h, ':'))
        cli_fail(c, "--header takes one 'Name: value' line");
    if (used + n + 3 > sizeof headers)
        cli_fail(c, "too many --header bytes");
    memcpy(headers + used, h, n);
    memcpy(headers + used + n, "\r\n", 3);
}

int main(int argc, char **argv)
{
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_connect_opts o;
    wsx_reconnect policy;
    cli c;
    wsx_reconnect_init(&policy);
    policy.on_attempt = on_attempt;
    wsx_config_init(&cfg, WSX_CLIENT);
    wsx_connect_opts_init(&o);
    g.mode = WSX_TEXT;
    g.linger_ms = 1000;
    g.status = EXIT_ABNORMAL;
    cli_init(&c, argc, argv, "wsx-cat", usage);
    for (const char *a; (a = cli_next(&c));) {
        if (cli_is_operand(&c) && !o.url)
            o.url = a;
        else if (cli_tls_option(&c, &g.tls, WSX_CLIENT))
            continue;
        else if (!strcmp(a, "--binary"))
            g.mode = WSX_BINARY;
        else if (!strcmp(a, "--deflate"))
            cfg.extension = wsx_permessage_deflate();
        else if (!strcmp(a, "--header"))
            add_header(&c, cli_value(&c));
        else if (!strcmp(a, "--protocol"))
            cfg.client.protocols = cli_value(&c);
        else if (!strcmp(a, "--linger")) {
            double s = cli_number(&c, -1, 1e6);
            if (s < 0 && s != -1)
                cli_fail(&c, "--linger is -1 or a number of seconds >= 0");
            g.linger_ms = s < 0 ? -1 : (long long)(s * 1000 + 0.5);
        } else if (!strcmp(a, "--count"))
            g.count = cli_int(&c, 1, (long long)1 << 62);
        else if (!strcmp(a, "--reconnect"))
            o.reconnect = &policy;
        else
            cli_unknown(&c);
    }
    if (!o.url)
        cli_fail(&c, "a ws:// or wss:// URL is required");
    g.url = o.url;
    cli_tls_connect("wsx-cat", &g.tls, &o);
    cfg.client.extra_headers = headers[0] ? headers : NULL;
    cfg.high_water = SEND_HIGH_WATER;
    cfg.low_water = SEND_HIGH_WATER / 4;
    wsx_callbacks_init(&cb);
    cb.on_open = on_open;
    cb.on_message = on_message;
    cb.on_drain = on_drain;
    cb.on_close = on_close;
    o.config = &cfg;
    o.callbacks = &cb;
    g.loop = cli_loop_new("wsx-cat", WSX_LOOP_DEFAULT);
    g.linger = wsx_timer_new(g.loop, on_linger, NULL);
    int r = g.linger ? wsx_loop_connect(g.loop, &o, &g.conn) : WSX_ENOMEM;
    if (r < 0) {
        int st = failure(r, NULL);
        if (st < 0) {
            fprintf(stderr, "wsx-cat: %s: %s\n", o.url,
                    r == WSX_EINVAL ? "not a ws[s]://host[:port][/path] URL"
                    : r == WSX_EIO  ? strerror(errno)
                                    : wsx_strerror(r));
            st = r == WSX_EINVAL ? EXIT_USAGE : EXIT_ABNORMAL;
        }
        wsx_timer_free(g.linger);
        wsx_loop_free(g.loop);
        wsx_tls_free(g.tls.ctx);
        return st;
    }
    r = wsx_loop_run(g.loop);
    if (r < 0) {
        perror("wsx-cat: event loop");
        g.status = EXIT_ABNORMAL;
    }
    wsx_loop_free(g.loop);
    wsx_tls_free(g.tls.ctx);
    free(g.buf);
    return g.status;
}
