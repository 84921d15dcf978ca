/* dashboard - a live fleet telemetry dashboard with chat, in one process:
 * the page at /, simulated devices (fleet.c) sending binary samples to
 * /device, and browsers on /live getting every 50 ms one binary batch of
 * what changed, framed once for all of them (wsx_shared_new). JSON only
 * for small control messages on /live: a hello, and the chat of
 * examples/chat (same protocol and room module, room state in
 * ../chat/room.c). Formats in telemetry.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../chat/protocol.h"
#include "../common/cli.h"
#include "fleet.h"
#include "telemetry.h"
#include "wsx.h"
#include "wsx_loop.h"

#define TICK_MS 50

/* The page, index.html as bytes (the Makefile writes page.inc with od). */
static const unsigned char page[] = {
#include "page.inc"
};

typedef struct viewer {
    wsx_conn *conn;
    chat_member *member;
    struct viewer *prev, *next;
} viewer;

typedef struct device_slot {
    telemetry_sample s;
    bool changed;
} device_slot;

/* Connection kinds until on_open gives a viewer its own struct. */
static char device_tag, device_open_tag, viewer_tag;

static struct {
    wsx_loop *loop;
    const char *backend;
    chat *rooms;
    viewer *viewers;
    size_t nviewers;
    device_slot dev[TELEMETRY_MAX_DEVICES];
    uint32_t online, received, seq;
    uint8_t batch[TELEMETRY_BATCH_HEAD +
                  TELEMETRY_MAX_DEVICES * TELEMETRY_SAMPLE_SIZE];
} S;

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Every TICK_MS: one batch of the samples that changed since the last
 * tick, framed once and queued on every viewer. A viewer whose queue is
 * past high water (it does not keep up) misses the batch: the next one
 * brings the devices' newer state anyway, and the sequence shows the gap. */
static void tick(wsx_timer *t, void *user)
{
    telemetry_batch_head h = {0};
    uint8_t *p = S.batch + TELEMETRY_BATCH_HEAD;
    (void)t;
    (void)user;
    for (int i = 0; i < TELEMETRY_MAX_DEVICES; i++) {
        if (!S.dev[i].changed)
            continue;
        S.dev[i].changed = false;
        telemetry_encode(&S.dev[i].s, p);
        p += TELEMETRY_SAMPLE_SIZE;
        h.count++;
    }
    if (!S.viewers)
        return;
    h.seq = ++S.seq;
    h.online = S.online;
    h.received = S.received;
    h.server_us = wall_us();
    telemetry_batch_encode(&h, S.batch);
    wsx_shared *s = wsx_shared_new(NULL, WSX_BINARY, S.batch,
                                   (size_t)(p - S.batch));
    /* The viewers' connections first: a send that finds a peer gone runs
     * its on_close, which frees that viewer (see wsx.h). */
    wsx_conn **to = malloc(S.nviewers * sizeof *to);
    size_t n = 0;
    if (s && to) {
        for (viewer *v = S.viewers; v; v = v->next)
            to[n++] = v->conn;
        for (size_t i = 0; i < n; i++)
            wsx_send_shared(to[i], s); /* WSX_EFULL: skipped, see above */
    }
    free(to);
    wsx_shared_free(s);
}

static void device_message(wsx_conn *c, const wsx_message *m)
{
    telemetry_sample s;
    if (m->opcode != WSX_BINARY) {
        wsx_close(c, WSX_CLOSE_UNSUPPORTED, "binary telemetry only");
        return;
    }
    int r = telemetry_decode(m->data, m->len, &s);
    if (r < 0) {
        wsx_close(c, WSX_CLOSE_INVALID_DATA, telemetry_strerror(r));
        return;
    }
    S.dev[s.id].s = s;
    S.dev[s.id].changed = true;
    S.received++;
}

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    if (user == &device_open_tag)
        device_message(c, m);
    else if (user) /* NULL: a viewer being closed for lack of memory */
        chat_read(((viewer *)user)->member, m);
}

/* True when the request's path (the target without its query) is path. */
static bool path_is(const wsx_http_request *r, const char *path)
{
    const char *q = memchr(r->target, '?', r->target_len);
    size_t n = q ? (size_t)(q - r->target) : r->target_len;
    return n == strlen(path) && !memcmp(r->target, path, n);
}

/* /device is a device, /live a browser; any other path is refused. */
static int on_handshake(wsx_conn *c, const wsx_handshake *hs,
                        wsx_handshake_reply *reply, void *user)
{
    (void)reply;
    (void)user;
    if (path_is(hs->request, "/device"))
        wsx_conn_set_user(c, &device_tag);
    else if (path_is(hs->request, "/live"))
        wsx_conn_set_user(c, &viewer_tag);
    else
        return 404;
    return 0;
}

static void on_open(wsx_conn *c, void *user)
{
    char hello[160];
    if (user == &device_tag) {
        S.online++;
        wsx_conn_set_user(c, &device_open_tag);
        return;
    }
    viewer *v = calloc(1, sizeof *v);
    if (v && !(v->member = chat_member_new(S.rooms, c))) {
        free(v);
        v = NULL;
    }
    if (!v) {
        wsx_conn_set_user(c, NULL);
        wsx_close(c, WSX_CLOSE_INTERNAL, "out of memory");
        return;
    }
    v->conn = c;
    v->next = S.viewers;
    if (S.viewers)
        S.viewers->prev = v;
    S.viewers = v;
    S.nviewers++;
    wsx_conn_set_user(c, v);
    int n = snprintf(hello, sizeof hello,
                     "{\"type\":\"hello\",\"tick_ms\":%d,\"online\":%u,"
                     "\"loop\":\"%s\",\"format\":%d}",
                     TICK_MS, (unsigned)S.online, S.backend, TELEMETRY_VERSION);
    wsx_send(c, WSX_TEXT, hello, (size_t)n);
}

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    (void)c;
    (void)ci;
    if (user == &device_open_tag) {
        S.online--;
    } else if (user && user != &device_tag && user != &viewer_tag) {
        viewer *v = user;
        if (v->prev)
            v->prev->next = v->next;
        else
            S.viewers = v->next;
        if (v->next)
            v->next->prev = v->prev;
        S.nviewers--;
        chat_member_free(v->member);
        free(v);
    }
}

/* The page at / (and /index.html, any query: ?nick=NAME names the chat
 * user), 404 for anything else. */
static void on_http(wsx_conn *c, const wsx_http_request *req, void *user)
{
    (void)user;
    if (path_is(req, "/") || path_is(req, "/index.html"))
        wsx_http_respond(c, 200, "text/html; charset=utf-8",
                         "Cache-Control: no-cache\r\n", page, sizeof page);
    else
        wsx_http_respond(c, 404, "text/plain", NULL, "not found\n", 10);
}

static const char usage[] =
    "usage: dashboard [--host ADDR] [--port N] [--devices N] [--rate HZ]\n"
    "Live fleet telemetry dashboard with chat: serves the page at /,\n"
    "browsers on /live, devices on /device, and runs simulated devices.\n"
    "  --host ADDR    address to listen on (default 127.0.0.1)\n"
    "  --port N       port (default 8080; 0: any free port)\n"
    "  --devices N    simulated devices, 0..4096 (default 200)\n"
    "  --rate HZ      samples per second per device, 1..20 (default 5)\n";

int main(int argc, char **argv)
{
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_listen_opts o;
    cli_addr addr = CLI_ADDR_INIT(8080);
    long long devices = 200, rate = 5;
    char url[300], note[64];
    cli c;
    cli_init(&c, argc, argv, "dashboard", usage);
    while (cli_next(&c)) {
        if (cli_addr_option(&c, &addr))
            continue;
        if (!strcmp(c.arg, "--devices"))
            devices = cli_int(&c, 0, TELEMETRY_MAX_DEVICES);
        else if (!strcmp(c.arg, "--rate"))
            rate = cli_int(&c, 1, 20);
        else
            cli_unknown(&c);
    }
    wsx_config_init(&cfg, WSX_SERVER);
    /* Devices send 32 bytes, browsers small JSON: refuse anything big
     * (1009); a browser that stops reading skips batches past 2 MiB. */
    cfg.max_message_size = cfg.max_frame_size = 16 * 1024;
    cfg.high_water = 2 * 1024 * 1024;
    wsx_callbacks_init(&cb);
    cb.on_handshake = on_handshake;
    cb.on_open = on_open;
    cb.on_message = on_message;
    cb.on_close = on_close;
    cb.on_http = on_http;
    wsx_listen_opts_init(&o);
    o.config = &cfg;
    o.callbacks = &cb;
    S.rooms = chat_new();
    S.loop = cli_loop_new("dashboard", WSX_LOOP_DEFAULT);
    if (!S.rooms)
        return CLI_EXIT_FAIL;
    S.backend = wsx_loop_backend_name(S.loop);
    snprintf(note, sizeof note, "%lld devices, Ctrl-C stops", devices);
    int port = cli_listen("dashboard", S.loop, &o, &addr, "http", note);
    /* The devices dial the listener: loopback when it listens everywhere. */
    const char *h = addr.host;
    if (!strcmp(h, "0.0.0.0"))
        h = "127.0.0.1";
    else if (!strcmp(h, "::"))
        h = "::1";
    snprintf(url, sizeof url, strchr(h, ':') ? "ws://[%s]:%d/device"
                                             : "ws://%s:%d/device", h, port);
    wsx_timer *t = wsx_timer_new(S.loop, tick, NULL);
    fleet *f = devices ? fleet_start(url, (unsigned)devices, (unsigned)rate)
                       : NULL;
    if (!t || wsx_timer_start(t, TICK_MS, TICK_MS) < 0 || (devices && !f)) {
        fprintf(stderr, "dashboard: out of memory or threads\n");
        return CLI_EXIT_FAIL;
    }
    int r = wsx_loop_run(S.loop);
    fleet_stop(f);
    wsx_timer_free(t);
    wsx_loop_free(S.loop);
    chat_free(S.rooms);
    return r < 0;
}
