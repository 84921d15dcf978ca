/* bench_conn.c - micro-benchmark of a whole server connection, no sockets:
 * masked client frames (RFC 6455 §5.3) fed as the loop would feed them and
 * echoed (frames/s, next to memcpy of the same bytes), the opening
 * handshake (§4.2: parse + accept key, and a whole connection), a counting
 * allocator that shows the allocations per echoed message after warm-up,
 * sizeof(wsx_conn) and the heap an idle connection keeps. Not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "wsx.h"

static volatile uint64_t sink;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- a counting allocator ------------------------------------------- */

typedef struct counting {
    uint64_t calls; /* malloc + realloc */
    size_t live;    /* bytes held */
} counting;

static void *c_malloc(size_t n, void *u)
{
    counting *k = u;
    k->calls++;
    k->live += n;
    return malloc(n);
}

static void *c_realloc(void *p, size_t old, size_t n, void *u)
{
    counting *k = u;
    k->calls++;
    k->live += n - old;
    return realloc(p, n);
}

static void c_free(void *p, size_t n, void *u)
{
    counting *k = u;
    k->live -= n;
    free(p);
}

/* ---- a server connection whose output goes nowhere ------------------ */

static uint64_t msgs_seen, bytes_out;
static bool echo;

static long discard(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    (void)c;
    (void)user;
    sink += p[0];
    bytes_out += len;
    return (long)len;
}

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    msgs_seen++;
    if (echo)
        wsx_send(c, m->opcode, m->data, m->len);
}

static counting cnt;
static wsx_config cfg;
static wsx_callbacks cb;

static const char request[] =
    "GET /chat HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

static wsx_conn *open_conn(void)
{
    uint8_t req[sizeof request];
    memcpy(req, request, sizeof request);
    wsx_conn *c = wsx_conn_new(&cfg, &cb, NULL);
    if (!c)
        return NULL;
    wsx_conn_tick(c, 1);
    wsx_conn_feed(c, req, sizeof request - 1);
    if (wsx_conn_state(c) != WSX_STATE_OPEN) {
        fprintf(stderr, "bench_conn: handshake failed\n");
        exit(1);
    }
    return c;
}

/* n masked client frames of `size` bytes each, back to back. */
static size_t make_frames(uint8_t *out, size_t n, size_t size, wsx_opcode op)
{
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        wsx_frame_header h = {true, 0, (uint8_t)op, true,
                              {(uint8_t)i, 0x5a, 0xc3, (uint8_t)(i >> 8)}, size};
        off += wsx_frame_build(out + off, &h);
        for (size_t j = 0; j < size; j++)
            out[off + j] = (uint8_t)('a' + (i + j) % 26);
        wsx_mask(out + off, size, h.mask, 0);
        off += size;
    }
    return off;
}

/* Feed `len` bytes in pieces of `chunk` (as reads of that size would
 * deliver them), restoring the masked bytes first since feed unmasks in
 * place. Returns seconds per pass (best of 5) and the allocator calls
 * per message over the passes after the first. */
static double feed_passes(wsx_conn *c, const uint8_t *frames, uint8_t *work,
                          size_t len, size_t chunk, int passes, double *allocs_per_msg)
{
    double best = 1e30;
    uint64_t calls0 = 0, msgs0 = 0;
    for (int run = 0; run < 6; run++) {
        if (run == 1) {
            calls0 = cnt.calls;
            msgs0 = msgs_seen;
        }
        double t = now();
        for (int p = 0; p < passes; p++) {
            memcpy(work, frames, len);
            for (size_t off = 0; off < len; off += chunk)
                wsx_conn_feed(c, work + off, len - off < chunk ? len - off : chunk);
        }
        t = (now() - t) / passes;
        if (run && t < best)
            best = t;
    }
    *allocs_per_msg = (double)(cnt.calls - calls0) / (double)(msgs_seen - msgs0);
    return best;
}

static double memcpy_pass(const uint8_t *src, uint8_t *dst, size_t len, int passes)
{
    double best = 1e30;
    for (int run = 0; run < 5; run++) {
        double t = now();
        for (int p = 0; p < passes; p++) {
            memcpy(dst, src, len);
            sink += dst[len / 2];
        }
        t = (now() - t) / passes;
        if (t < best)
            best = t;
    }
    return best;
}

/* `bench_conn WORD` runs only the benchmarks whose label holds WORD (to
 * profile one path, e.g. under valgrind --tool=callgrind). */
static const char *only;

static bool selected(const char *label)
{
    return !only || strstr(label, only);
}

static void bench_feed(const char *what, size_t nframes, size_t size, wsx_opcode op,
                       size_t chunk, bool with_echo, int passes)
{
    if (!selected(what))
        return;
    uint8_t *frames = malloc(nframes * (size + WSX_FRAME_HEADER_MAX));
    uint8_t *work = malloc(nframes * (size + WSX_FRAME_HEADER_MAX));
    size_t len = make_frames(frames, nframes, size, op);
    wsx_conn *c = open_conn();
    double apm;
    echo = with_echo;
    double t = feed_passes(c, frames, work, len, chunk, passes, &apm);
    double tm = memcpy_pass(frames, work, len, passes);
    printf("%-44s %7.2f Mframes/s %6.1f ns/frame  allocs/msg %.4f  (memcpy of the input: %.1f ns/frame)\n",
           what, nframes / t / 1e6, t / nframes * 1e9, apm, tm / nframes * 1e9);
    wsx_conn_free(c);
    free(frames);
    free(work);
}

/* ---- the opening handshake ------------------------------------------ */

static void bench_handshake(void)
{
    enum { N = 20000 };
    if (!selected("handshake"))
        return;
    wsx_header hdrs[32];
    wsx_http_request req;
    char acc[WSX_ACCEPT_KEY_LEN + 1], head[512];
    double best = 1e30;
    for (int run = 0; run < 5; run++) {
        double t = now();
        for (int i = 0; i < N; i++) {
            const char *key;
            size_t klen;
            int n = wsx_http_parse_request(&req, hdrs, 32, (const uint8_t *)request,
                                           sizeof request - 1);
            if (n <= 0 || wsx_http_check_upgrade(&req, &key, &klen) < 0)
                exit(1);
            wsx_accept_key(acc, key, klen);
            sink += (uint64_t)acc[3];
        }
        t = (now() - t) / N;
        if (t < best)
            best = t;
    }
    printf("handshake parse + check + accept key:        %7.0f ns\n", best * 1e9);
    best = 1e30;
    for (int run = 0; run < 5; run++) {
        double t = now();
        for (int i = 0; i < N; i++) {
            int n = wsx_http_build_accept(head, sizeof head, "dGhlIHNhbXBsZSBub25jZQ==", 24,
                                          NULL, NULL, NULL);
            sink += (uint64_t)n;
        }
        t = (now() - t) / N;
        if (t < best)
            best = t;
    }
    printf("101 response build (accept key included):    %7.0f ns\n", best * 1e9);
    best = 1e30;
    for (int run = 0; run < 5; run++) {
        double t = now();
        for (int i = 0; i < N; i++)
            wsx_conn_free(open_conn());
        t = (now() - t) / N;
        if (t < best)
            best = t;
    }
    printf("whole server handshake (new, feed, 101, free): %5.0f ns\n", best * 1e9);
}

/* ---- memory of idle connections ------------------------------------- */

static void bench_idle(void)
{
    enum { N = 1000 };
    static wsx_conn *cs[N];
    uint8_t frame[64];
    if (!selected("idle"))
        return;
    size_t base = cnt.live;
    echo = true;
    for (int i = 0; i < N; i++)
        cs[i] = open_conn();
    size_t after_hs = cnt.live - base;
    for (int i = 0; i < N; i++) {
        size_t n = make_frames(frame, 1, 16, WSX_BINARY);
        wsx_conn_feed(cs[i], frame, n);
    }
    size_t after_msg = cnt.live - base;
    /* Two ticks a release period apart: the first sees the message, the
     * second a whole quiet period. */
    for (int i = 0; i < N; i++) {
        wsx_conn_tick(cs[i], 2 + WSX_IDLE_RELEASE_MS);
        wsx_conn_tick(cs[i], 3 + 2 * WSX_IDLE_RELEASE_MS);
    }
    size_t idle = cnt.live - base;
    printf("sizeof(wsx_conn): %zu B; heap per connection (counting allocator, %d conns):\n"
           "  after the handshake %zu B, after one echo %zu B, idle after %u ms %zu B\n",
           sizeof(wsx_conn), N, after_hs / N, after_msg / N, 2 * WSX_IDLE_RELEASE_MS, idle / N);
    for (int i = 0; i < N; i++)
        wsx_conn_free(cs[i]);
}

int main(int argc, char **argv)
{
    only = argc > 1 ? argv[1] : NULL;
    wsx_config_init(&cfg, WSX_SERVER);
    cfg.alloc.malloc = c_malloc;
    cfg.alloc.realloc = c_realloc;
    cfg.alloc.free = c_free;
    cfg.alloc.user = &cnt;
    wsx_callbacks_init(&cb);
    cb.send = discard;
    cb.on_message = on_message;

    bench_feed("16 B binary, 64 KiB reads, feed only", 4096, 16, WSX_BINARY, 65536, false, 40);
    bench_feed("16 B binary, 64 KiB reads, echoed", 4096, 16, WSX_BINARY, 65536, true, 40);
    bench_feed("16 B text, 64 KiB reads, echoed", 4096, 16, WSX_TEXT, 65536, true, 40);
    bench_feed("16 B binary, 1 frame per read, echoed", 4096, 16, WSX_BINARY, 22, true, 40);
    bench_feed("16 B binary, 16 frames per read, echoed", 4096, 16, WSX_BINARY, 16 * 22, true, 40);
    bench_feed("16 B binary, reads split frames (100 B), echoed", 4096, 16, WSX_BINARY, 100, true, 40);
    bench_feed("64 KiB binary, 64 KiB reads, echoed", 64, 65536, WSX_BINARY, 65536, true, 10);
    bench_handshake();
    bench_idle();
    return 0;
}
