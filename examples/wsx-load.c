/* wsx-load - WebSocket load generator on the wsx event loop: N echo
 * connections with P messages in flight each (msgs/s, MB/s, latency
 * percentiles), a handshake-rate mode (RFC 6455 §4 open + §7 close as fast
 * as the server takes them) and an idle mode (server RSS per connection).
 * Every echo is checked (length, sequence tag, pattern): a server that
 * corrupts, drops or reorders messages scores errors, not throughput.
 * One thread: the 10 ms clock is a repeating wsx_timer of the loop.
 *   wsx-load --conns 100 --inflight 16 --size 16 --duration 5 ws://127.0.0.1:9001/ */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/tls.h"
#include "wsx.h"
#include "wsx_loop.h"

/* ---- latency histogram --------------------------------------------- */

/* HDR-style log-linear buckets over nanoseconds: exact below 256, then 128
 * sub-buckets per power of two (under 0.8% error), fixed memory, no
 * per-sample storage. */
#define SUB_BITS 7
#define HIST_BUCKETS ((65 - SUB_BITS) << SUB_BITS)

typedef struct hist {
    uint64_t n[HIST_BUCKETS];
    uint64_t count, max;
} hist;

static unsigned hist_index(uint64_t v)
{
    if (v < (2u << SUB_BITS))
        return (unsigned)v;
    unsigned shift = 63u - (unsigned)__builtin_clzll(v) - SUB_BITS;
    return (shift << SUB_BITS) + (unsigned)(v >> shift);
}

/* The highest value that falls in bucket i. */
static uint64_t hist_value(unsigned i)
{
    if (i < (2u << SUB_BITS))
        return i;
    unsigned shift = (i >> SUB_BITS) - 1;
    uint64_t lo = (uint64_t)((i & ((1u << SUB_BITS) - 1)) | (1u << SUB_BITS)) << shift;
    return lo + (1ull << shift) - 1;
}

static void hist_add(hist *h, uint64_t v)
{
    h->n[hist_index(v)]++;
    h->count++;
    if (v > h->max)
        h->max = v;
}

static uint64_t hist_pct(const hist *h, double pct)
{
    if (!h->count)
        return 0;
    uint64_t want = (uint64_t)((double)h->count * pct / 100.0 + 0.5), seen = 0;
    if (want == 0)
        want = 1;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->n[i];
        if (seen >= want)
            return hist_value(i) < h->max ? hist_value(i) : h->max;
    }
    return h->max;
}

/* ---- state ----------------------------------------------------------- */

typedef enum mode { MODE_ECHO, MODE_HANDSHAKES, MODE_IDLE } mode;
typedef enum phase { PH_CONNECT, PH_WARMUP, PH_MEASURE, PH_DRAIN } phase;

typedef struct lconn {
    wsx_conn *c;       /* NULL while the slot is free */
    uint64_t *sent_at; /* send time of each message in flight (ring) */
    uint64_t started;  /* connect time: handshake latency */
    uint32_t id, sent, rcvd;
    bool open, closing;
} lconn;

typedef struct opts {
    const char *url;
    mode mode;
    size_t conns, inflight, size;
    double ramp, duration, warmup;
    uint64_t count;
    wsx_opcode op;
    long server_pid;
    bool json, allow_remote, progress;
    cli_tls tls; /* wss://: --cafile, --insecure and the context */
} opts;

static struct {
    opts o;
    wsx_loop *loop;
    wsx_config cfg;
    wsx_callbacks cb;
    lconn *lc;
    uint64_t *ring;      /* conns * inflight send times */
    uint8_t *pattern;    /* the expected body of every message */
    uint8_t *msg;        /* pattern with the sequence tag in front */
    phase ph;
    size_t connecting, opened, failed, live;
    double ramp_credit;
    uint64_t t_begin, t_last, t_measure, t_end, t_next_print, t_stop;
    uint64_t msgs, bytes, handshakes, errors, bad_echoes, closed_early;
    uint64_t print_msgs, print_hs;
    long rss_before, rss_after; /* KiB, -1: unknown */
    hist lat;
    bool refill_posted;
} g;

/* At most this many connections wait for their handshake at once: a
 * listen backlog overflow would show up as seconds of SYN retries. */
#define MAX_CONNECTING 128
#define TICK_NS 10000000ull
#define DRAIN_NS 2000000000ull

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- message contents ------------------------------------------------ */

/* A printable 48-bit tag (connection id, sequence number) leads each
 * message, so it is valid UTF-8 for text mode; the rest is a pattern
 * without short periods, so shifted or spliced bytes do not match. */
#define TAG_LEN 8

static void tag_encode(uint8_t t[TAG_LEN], uint32_t id, uint32_t seq)
{
    uint64_t v = (uint64_t)(id & 0xffff) << 32 | seq;
    for (int i = 0; i < TAG_LEN; i++)
        t[i] = (uint8_t)('0' + ((v >> (6 * i)) & 63));
}

static void pattern_fill(uint8_t *p, size_t n)
{
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)(0x21 + x % 94);
    }
}

static bool echo_valid(const lconn *k, const wsx_message *m)
{
    uint8_t t[TAG_LEN];
    size_t n = g.o.size, tl = n < TAG_LEN ? n : TAG_LEN;
    if (m->len != n || m->opcode != g.o.op)
        return false;
    tag_encode(t, k->id, k->rcvd);
    return memcmp(m->data, t, tl) == 0 &&
           memcmp(m->data + tl, g.pattern + tl, n - tl) == 0;
}

static void send_next(lconn *k, uint64_t now)
{
    uint8_t t[TAG_LEN];
    size_t tl = g.o.size < TAG_LEN ? g.o.size : TAG_LEN;
    tag_encode(t, k->id, k->sent);
    memcpy(g.msg, t, tl);
    if (wsx_send(k->c, g.o.op, g.msg, g.o.size) < 0) {
        g.errors++;
        return;
    }
    k->sent_at[k->sent % g.o.inflight] = now;
    k->sent++;
}

/* ---- connections ----------------------------------------------------- */

static bool window_open(void)
{
    return g.ph == PH_MEASURE;
}

static void finish(uint64_t now);

static void on_open(wsx_conn *c, void *user)
{
    lconn *k = user;
    uint64_t now = now_ns();
    k->open = true;
    g.connecting--;
    g.opened++;
    if (g.o.mode == MODE_HANDSHAKES) {
        if (window_open()) {
            g.handshakes++;
            hist_add(&g.lat, now - k->started);
            if (g.o.count && g.handshakes >= g.o.count)
                finish(now);
        }
        k->closing = true;
        wsx_close(c, WSX_CLOSE_NORMAL, NULL);
        return;
    }
    if (g.o.mode == MODE_ECHO && g.ph != PH_DRAIN)
        for (size_t i = 0; i < g.o.inflight; i++)
            send_next(k, now);
}

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    lconn *k = user;
    uint64_t now = now_ns();
    (void)c;
    if (g.o.mode != MODE_ECHO || k->rcvd == k->sent || !echo_valid(k, m)) {
        g.bad_echoes++;
        g.errors++;
        k->closing = true;
        wsx_close(k->c, WSX_CLOSE_POLICY, "bad echo");
        return;
    }
    uint64_t sent = k->sent_at[k->rcvd % g.o.inflight];
    k->rcvd++;
    if (window_open()) {
        g.msgs++;
        g.bytes += m->len;
        hist_add(&g.lat, now - sent);
        if (g.o.count && g.msgs >= g.o.count) {
            finish(now);
            return;
        }
    }
    if (g.ph != PH_DRAIN && !k->closing)
        send_next(k, now);
}

static void post_refill(void);

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    lconn *k = user;
    (void)c;
    if (!k->open) {
        g.connecting--;
        g.failed++;
        g.errors++;
    } else if (!k->closing && g.ph != PH_DRAIN) {
        g.closed_early++;
        g.errors++;
    } else if (g.o.mode == MODE_HANDSHAKES && !ci->clean && g.ph != PH_DRAIN) {
        g.errors++;
    }
    k->c = NULL;
    k->open = k->closing = false;
    g.live--;
    if (g.o.mode == MODE_HANDSHAKES && g.ph != PH_DRAIN)
        post_refill();
}

static int open_one(lconn *k, uint64_t now)
{
    wsx_connect_opts co;
    wsx_connect_opts_init(&co);
    co.url = g.o.url;
    co.config = &g.cfg;
    co.callbacks = &g.cb;
    co.user = k;
    co.stream = g.o.tls.ctx ? &wsx_stream_tls : NULL;
    co.stream_ctx = g.o.tls.ctx;
    k->sent = k->rcvd = 0;
    k->started = now;
    if (wsx_loop_connect(g.loop, &co, &k->c) < 0) {
        k->c = NULL;
        g.errors++;
        g.failed++;
        return -1;
    }
    g.connecting++;
    g.live++;
    return 0;
}

/* Open free slots, within the ramp rate and the handshake window. In the
 * handshake mode a slot is reused as soon as its connection ended. */
static void refill(uint64_t now)
{
    size_t budget = MAX_CONNECTING - (g.connecting < MAX_CONNECTING ? g.connecting : MAX_CONNECTING);
    if (g.o.mode == MODE_HANDSHAKES) {
        budget = g.o.conns;
    } else if (g.o.ramp > 0) {
        if ((double)budget > g.ramp_credit)
            budget = (size_t)g.ramp_credit;
    }
    for (size_t i = 0; i < g.o.conns && budget; i++) {
        lconn *k = &g.lc[i];
        if (k->c || (g.o.mode != MODE_HANDSHAKES && (k->sent || k->started)))
            continue;
        budget--;
        g.ramp_credit -= 1.0;
        if (open_one(k, now) < 0)
            break; /* out of ports or descriptors: retry on the next tick */
    }
}

static void refill_closure(wsx_loop *l, void *arg)
{
    (void)l;
    (void)arg;
    g.refill_posted = false;
    if (g.ph != PH_DRAIN)
        refill(now_ns());
}

static void post_refill(void)
{
    if (!g.refill_posted && wsx_loop_post(g.loop, refill_closure, NULL) == 0)
        g.refill_posted = true;
}

/* ---- reporting ------------------------------------------------------- */

static long rss_kib(long pid)
{
    char path[64], line[256];
    long kib = -1;
    if (pid > 0)
        snprintf(path, sizeof path, "/proc/%ld/status", pid);
    else
        snprintf(path, sizeof path, "/proc/self/status");
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static void progress(uint64_t now)
{
    double dt = (double)(now - g.t_last) / 1e9;
    if (dt <= 0)
        return;
    uint64_t dm = g.msgs - g.print_msgs, dh = g.handshakes - g.print_hs;
    fprintf(stdout, "\r[%5.1fs] %-8s %10.0f msgs/s %9.0f hs/s  live %6zu  p99 %8.1f us  errors %" PRIu64 "   ",
            (double)(now - g.t_begin) / 1e9,
            g.ph == PH_MEASURE ? "measure" : g.ph == PH_WARMUP ? "warmup" : "connect",
            (double)dm / dt, (double)dh / dt, g.live,
            (double)hist_pct(&g.lat, 99) / 1e3, g.errors);
    fflush(stdout);
    g.print_msgs = g.msgs;
    g.print_hs = g.handshakes;
    g.t_last = now;
}

static void report(void)
{
    double secs = (double)(g.t_end - g.t_measure) / 1e9;
    const char *mname = g.o.mode == MODE_ECHO ? "echo" : g.o.mode == MODE_HANDSHAKES ? "handshakes" : "idle";
    if (secs <= 0)
        secs = 1e-9;
    double us[5] = {hist_pct(&g.lat, 50) / 1e3, hist_pct(&g.lat, 95) / 1e3,
                    hist_pct(&g.lat, 99) / 1e3, hist_pct(&g.lat, 99.9) / 1e3,
                    g.lat.max / 1e3};
    long rss_after = g.rss_after;
    double per_conn = -1;
    if (g.o.mode == MODE_IDLE && g.rss_before > 0 && rss_after > 0 && g.opened)
        per_conn = (double)(rss_after - g.rss_before) * 1024.0 / (double)g.opened;
    if (g.o.progress)
        fputc('\n', stdout);
    printf("wsx-load: mode=%s conns=%zu inflight=%zu size=%zu type=%s seconds=%.3f "
           "msgs=%" PRIu64 " msgs_per_s=%.0f mb_per_s=%.2f handshakes=%" PRIu64
           " handshakes_per_s=%.0f p50_us=%.1f p95_us=%.1f p99_us=%.1f p999_us=%.1f "
           "max_us=%.1f opened=%zu errors=%" PRIu64 " bad_echoes=%" PRIu64
           " closed_early=%" PRIu64 " connect_failed=%zu server_rss_before_kib=%ld"
           " server_rss_after_kib=%ld rss_per_conn_b=%.0f\n",
           mname, g.o.conns, g.o.inflight, g.o.size, g.o.op == WSX_TEXT ? "text" : "binary",
           secs, g.msgs, (double)g.msgs / secs, (double)g.bytes / secs / 1e6,
           g.handshakes, (double)g.handshakes / secs, us[0], us[1], us[2], us[3], us[4],
           g.opened, g.errors, g.bad_echoes, g.closed_early, g.failed, g.rss_before,
           rss_after, per_conn);
    if (g.o.json)
        printf("{\"mode\":\"%s\",\"conns\":%zu,\"inflight\":%zu,\"size\":%zu,\"type\":\"%s\","
               "\"seconds\":%.3f,\"msgs\":%" PRIu64 ",\"msgs_per_s\":%.0f,\"mb_per_s\":%.2f,"
               "\"handshakes\":%" PRIu64 ",\"handshakes_per_s\":%.0f,\"latency_us\":{\"p50\":%.1f,"
               "\"p95\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f},\"opened\":%zu,"
               "\"errors\":%" PRIu64 ",\"bad_echoes\":%" PRIu64 ",\"closed_early\":%" PRIu64
               ",\"connect_failed\":%zu,\"rss_per_conn_b\":%.0f}\n",
               mname, g.o.conns, g.o.inflight, g.o.size, g.o.op == WSX_TEXT ? "text" : "binary",
               secs, g.msgs, (double)g.msgs / secs, (double)g.bytes / secs / 1e6, g.handshakes,
               (double)g.handshakes / secs, us[0], us[1], us[2], us[3], us[4], g.opened,
               g.errors, g.bad_echoes, g.closed_early, g.failed, per_conn);
}

/* ---- the clock: a repeating loop timer, every 10 ms ----------------- */

/* End of the measured window: stop sending and close every connection;
 * the drain waits for the close handshakes, at most DRAIN_NS. */
static void finish(uint64_t now)
{
    if (g.ph == PH_DRAIN)
        return;
    if (g.ph != PH_MEASURE)
        g.t_measure = now;
    g.t_end = now;
    g.ph = PH_DRAIN;
    g.t_stop = now + DRAIN_NS;
    /* Idle mode: the server's memory is read while every connection is
     * still held, and quiet for longer than its buffer release delay. */
    if (g.o.mode == MODE_IDLE && g.o.server_pid > 0)
        g.rss_after = rss_kib(g.o.server_pid);
    for (size_t i = 0; i < g.o.conns; i++) {
        lconn *k = &g.lc[i];
        if (k->c && k->open && !k->closing) {
            k->closing = true;
            wsx_close(k->c, WSX_CLOSE_NORMAL, NULL);
        }
    }
}

static void start_window(uint64_t now)
{
    g.ph = PH_MEASURE;
    g.t_measure = now;
    g.msgs = g.bytes = g.handshakes = 0;
    g.print_msgs = g.print_hs = 0;
    memset(&g.lat, 0, sizeof g.lat);
}

static void tick(wsx_timer *t, void *arg)
{
    uint64_t now = now_ns(), dur = (uint64_t)(g.o.duration * 1e9);
    (void)t;
    (void)arg;
    /* Every connection gone before the end (echo and idle modes; the
     * handshake mode passes through zero between two connections). */
    if (!g.live && g.o.mode != MODE_HANDSHAKES &&
        (g.ph == PH_WARMUP || g.ph == PH_MEASURE))
        finish(now);
    if (g.o.ramp > 0)
        g.ramp_credit += g.o.ramp * (double)TICK_NS / 1e9;
    switch (g.ph) {
    case PH_CONNECT:
        refill(now);
        if (g.opened + g.failed >= g.o.conns) {
            g.ph = PH_WARMUP;
            g.t_measure = now + (uint64_t)(g.o.warmup * 1e9);
        } else if (now - g.t_begin > dur + 10000000000ull) {
            finish(now); /* connections never completed: errors tell */
        }
        break;
    case PH_WARMUP:
        if (g.o.mode == MODE_HANDSHAKES)
            refill(now);
        if (now >= g.t_measure)
            start_window(now);
        break;
    case PH_MEASURE:
        if (g.o.mode == MODE_HANDSHAKES)
            refill(now);
        if (now - g.t_measure >= dur ||
            (g.o.count && g.handshakes >= g.o.count))
            finish(now);
        break;
    case PH_DRAIN:
        if (!g.live || now >= g.t_stop)
            wsx_loop_stop(g.loop);
        break;
    }
    if (g.o.progress && now >= g.t_next_print) {
        progress(now);
        g.t_next_print = now + 1000000000ull;
    }
}

/* ---- command line ---------------------------------------------------- */

/* --help prints to stdout and exits 0; a usage error to stderr, exit 2. */
static _Noreturn void usage_to(FILE *f, int status)
{
    fprintf(f,
            "usage: wsx-load [options] [URL]\n"
            "  --url URL        ws[s]://host:port/path (default ws://127.0.0.1:9001/)\n"
            "  --conns N        connections (default 1)\n"
            "  --ramp R         open at most R connections per second (default: as fast\n"
            "                   as handshakes finish, %d at a time)\n"
            "  --inflight P     messages in flight per connection (default 1)\n"
            "  --size BYTES     message size (default 16)\n"
            "  --text|--binary  message type (default binary)\n"
            "  --duration S     measured seconds (default 10; always a bound)\n"
            "  --count N        stop after N echoes (or handshakes)\n"
            "  --warmup S       seconds run before measuring (default 0)\n"
            "  --handshakes     open and close connections as fast as the server takes them\n"
            "                   (--conns of them at a time)\n"
            "  --idle           open --conns idle connections, hold them --duration seconds\n"
            "  --server-pid PID report the server's RSS growth per idle connection\n"
            "  --json           also print the result as JSON\n"
            "  --allow-remote   allow a host other than loopback\n"
            "  --cafile FILE    wss://: trust the CAs in this PEM file\n"
            "  --insecure       wss://: do not check the server's certificate\n",
            MAX_CONNECTING);
    exit(status);
}

static _Noreturn void usage(void)
{
    usage_to(stderr, 2);
}

static bool is_loopback(const char *url)
{
    static const char *const ok[] = {"127.", "localhost:", "localhost/", "[::1]"};
    url += !strncmp(url, "wss://", 6) ? 6 : !strncmp(url, "ws://", 5) ? 5 : 0;
    if (!strcmp(url, "localhost"))
        return true;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strncmp(url, ok[i], strlen(ok[i])))
            return true;
    return false;
}

static double num(const char *v)
{
    char *end;
    double d = v ? strtod(v, &end) : -1;
    if (!v || end == v || *end || d < 0)
        usage();
    return d;
}

static void parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->url = "ws://127.0.0.1:9001/";
    o->conns = o->inflight = 1;
    o->size = 16;
    o->duration = 10;
    o->op = WSX_BINARY;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (!strcmp(a, "--help"))
            usage_to(stdout, 0);
        else if (!strcmp(a, "--url") && v)
            o->url = v;
        else if (!strcmp(a, "--conns"))
            o->conns = (size_t)num(v);
        else if (!strcmp(a, "--ramp"))
            o->ramp = num(v);
        else if (!strcmp(a, "--inflight"))
            o->inflight = (size_t)num(v);
        else if (!strcmp(a, "--size"))
            o->size = (size_t)num(v);
        else if (!strcmp(a, "--duration"))
            o->duration = num(v);
        else if (!strcmp(a, "--count"))
            o->count = (uint64_t)num(v);
        else if (!strcmp(a, "--warmup"))
            o->warmup = num(v);
        else if (!strcmp(a, "--server-pid"))
            o->server_pid = (long)num(v);
        else if (!strcmp(a, "--cafile") && v)
            o->tls.cafile = v;
        else {
            takes = false;
            if (!strcmp(a, "--text"))
                o->op = WSX_TEXT;
            else if (!strcmp(a, "--binary"))
                o->op = WSX_BINARY;
            else if (!strcmp(a, "--handshakes"))
                o->mode = MODE_HANDSHAKES;
            else if (!strcmp(a, "--idle"))
                o->mode = MODE_IDLE;
            else if (!strcmp(a, "--json"))
                o->json = true;
            else if (!strcmp(a, "--allow-remote"))
                o->allow_remote = true;
            else if (!strcmp(a, "--insecure"))
                o->tls.insecure = true;
            else if (!strncmp(a, "ws://", 5) || !strncmp(a, "wss://", 6))
                o->url = a;
            else
                usage();
        }
        i += takes;
    }
    if (!o->conns || !o->inflight || o->duration <= 0 || o->conns > 1000000)
        usage();
    if (!o->allow_remote && !is_loopback(o->url)) {
        fprintf(stderr, "wsx-load: %s is not a loopback address; pass --allow-remote "
                        "to load a server you run elsewhere\n", o->url);
        exit(2);
    }
    o->progress = isatty(STDOUT_FILENO);
    wsx_connect_opts co;
    wsx_connect_opts_init(&co);
    co.url = o->url;
    cli_tls_connect("wsx-load", &o->tls, &co);
}

/* Each connection is a descriptor: take the hard limit (the server needs
 * the same for 10,000 connections). */
static void raise_nofile(size_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want + 16)
        fprintf(stderr, "wsx-load: warning: %zu connections but only %lu descriptors\n",
                want, (unsigned long)rl.rlim_cur);
}

int main(int argc, char **argv)
{
    parse(argc, argv, &g.o);
    raise_nofile(g.o.conns);
    g.lc = calloc(g.o.conns, sizeof *g.lc);
    g.ring = calloc(g.o.conns * g.o.inflight, sizeof *g.ring);
    g.pattern = malloc(g.o.size + 1);
    g.msg = malloc(g.o.size + 1);
    if (!g.lc || !g.ring || !g.pattern || !g.msg)
        return fprintf(stderr, "wsx-load: out of memory\n"), 1;
    pattern_fill(g.pattern, g.o.size);
    memcpy(g.msg, g.pattern, g.o.size);
    for (size_t i = 0; i < g.o.conns; i++) {
        g.lc[i].id = (uint32_t)i;
        g.lc[i].sent_at = g.ring + i * g.o.inflight;
    }
    wsx_config_init(&g.cfg, WSX_CLIENT);
    if (g.o.size > g.cfg.max_message_size)
        g.cfg.max_message_size = g.cfg.max_frame_size = g.o.size;
    wsx_callbacks_init(&g.cb);
    g.cb.on_open = on_open;
    g.cb.on_message = on_message;
    g.cb.on_close = on_close;
    g.loop = wsx_loop_new(NULL);
    if (!g.loop)
        return fprintf(stderr, "wsx-load: cannot create the loop\n"), 1;
    g.rss_before = g.o.server_pid > 0 ? rss_kib(g.o.server_pid) : -1;
    g.rss_after = -1;
    g.t_begin = g.t_last = now_ns();
    g.t_next_print = g.t_begin + 1000000000ull;
    g.ramp_credit = g.o.ramp > 0 ? 1.0 : 0.0;
    if (g.o.mode == MODE_HANDSHAKES) {
        g.ph = PH_WARMUP;
        g.t_measure = g.t_begin + (uint64_t)(g.o.warmup * 1e9);
    }
    refill(g.t_begin);
    /* The timer keeps the loop running between connections too; the
     * tick stops it at the end of the drain. */
    wsx_timer *clock = wsx_timer_new(g.loop, tick, NULL);
    if (!clock || wsx_timer_start(clock, TICK_NS / 1000000u,
                                  TICK_NS / 1000000u) < 0)
        return fprintf(stderr, "wsx-load: cannot start the clock\n"), 1;
    if (wsx_loop_run(g.loop) < 0) {
        perror("wsx-load: loop");
        g.errors++;
    }
    wsx_timer_free(clock);
    report();
    wsx_loop_free(g.loop);
    wsx_tls_free(g.o.tls.ctx);
    free(g.lc);
    free(g.ring);
    free(g.pattern);
    free(g.msg);
    bool ok = g.errors == 0 &&
              (g.o.mode == MODE_IDLE ? g.opened == g.o.conns : g.msgs + g.handshakes > 0);
    return ok ? 0 : 1;
}
