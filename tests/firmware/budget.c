/* budget.c - the RAM side of the firmware budget, measured on the
 * Cortex-M4: sizeof(wsx_conn), the arena bytes a server connection holds
 * when idle, after receiving a 4 KiB message, and with permessage-deflate
 * at 8-bit windows, and the deepest stack the wsx calls reach. Prints
 * "budget <key> <value>" lines that budget.sh turns into a table. */
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "fw.h"
#include "wsx_deflate.h"

/* Counts what the measured connection holds in its arena: the bytes it
 * asked for, and the same as the arena stores them (an 8-byte header per
 * block, rounded up to 8, at least 16: see lib/core/arena.c). */
typedef struct meter {
    wsx_allocator arena;
    size_t asked, held, peak;
} meter;

static size_t block(size_t n)
{
    size_t b = (n + 8 + 7) & ~(size_t)7;
    return b < 16 ? 16 : b;
}

static void count(meter *m, size_t old, size_t n)
{
    m->asked += n - old;
    m->held += (n ? block(n) : 0) - (old ? block(old) : 0);
    if (m->held > m->peak)
        m->peak = m->held;
}

static void *m_malloc(size_t n, void *u)
{
    meter *m = u;
    void *p = m->arena.malloc(n, m->arena.user);
    if (p)
        count(m, 0, n);
    return p;
}

static void *m_realloc(void *p, size_t old, size_t n, void *u)
{
    meter *m = u;
    void *q = m->arena.realloc(p, old, n, m->arena.user);
    if (q)
        count(m, p ? old : 0, n);
    return q;
}

static void m_free(void *p, size_t n, void *u)
{
    meter *m = u;
    if (p) {
        m->arena.free(p, n, m->arena.user);
        count(m, n, 0);
    }
}

static uint64_t srv_mem[8192], cli_mem[8192]; /* 64 KiB each */
static uint8_t wire[2][8192]; /* [0] to the server */
static size_t wire_len[2];
static wsx_conn *srv, *cli;
static int received;

static long on_send(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    int to_cli = c == srv;
    (void)user;
    if (len > sizeof wire[0] - wire_len[to_cli])
        len = sizeof wire[0] - wire_len[to_cli];
    if (!len)
        return WSX_EAGAIN;
    memcpy(wire[to_cli] + wire_len[to_cli], p, len);
    wire_len[to_cli] += len;
    return (long)len;
}

static int on_random(wsx_conn *c, uint8_t *buf, size_t len, void *user)
{
    (void)c;
    (void)user;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 37 + 11);
    return 0;
}

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)m;
    (void)user;
    if (c == srv)
        received++;
}

static void pump(void)
{
    for (int i = 0; i < 10000 && (wire_len[0] || wire_len[1] ||
                                  wsx_conn_wants_write(srv) ||
                                  wsx_conn_wants_write(cli)); i++) {
        for (int d = 0; d < 2; d++) {
            /* A driver's receive buffer: 512 bytes at a time. */
            size_t n = wire_len[d] < 512 ? wire_len[d] : 512;
            if (n)
                wsx_conn_feed(d ? cli : srv, wire[d], n);
            memmove(wire[d], wire[d] + n, wire_len[d] - n);
            wire_len[d] -= n;
        }
        wsx_conn_flush(srv);
        wsx_conn_flush(cli);
    }
}

/* Two ticks with nothing in between: an idle connection hands its
 * buffers back (see wsx_conn_tick). */
static void go_idle(void)
{
    fw_wait_until(fw_ms() + 2);
    wsx_conn_tick(srv, fw_ms());
    fw_wait_until(fw_ms() + 2);
    wsx_conn_tick(srv, fw_ms());
}

static void report(const char *key, const meter *m)
{
    printf("budget %s %u %u\n", key, (unsigned)m->asked, (unsigned)m->held);
}

/* One session: handshake, idle, a 4 KiB message in, idle again, a
 * message out (compressed when deflate is on), close. */
static void session(const char *tag, const wsx_deflate_config *dc)
{
    static wsx_config scfg, ccfg;
    static wsx_callbacks cb;
    static meter m;
    static uint8_t msg[4096];
    char key[48];
    memset(&m, 0, sizeof m);
    wsx_arena_init(&m.arena, srv_mem, sizeof srv_mem);
    wsx_config_init(&scfg, WSX_SERVER);
    wsx_config_init(&ccfg, WSX_CLIENT);
    scfg.alloc.malloc = m_malloc;
    scfg.alloc.realloc = m_realloc;
    scfg.alloc.free = m_free;
    scfg.alloc.user = &m;
    wsx_arena_init(&ccfg.alloc, cli_mem, sizeof cli_mem);
    ccfg.client.host = "board";
    ccfg.client.path = "/";
    if (dc) {
        scfg.extension = ccfg.extension = wsx_permessage_deflate();
        scfg.extension_config = ccfg.extension_config = dc;
    }
    wsx_callbacks_init(&cb);
    cb.send = on_send;
    cb.random = on_random;
    cb.on_message = on_message;
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)("firmware budget "[i % 16] + (i % 61 == 0));

    uintptr_t mark = fw_stack_mark();
    srv = wsx_conn_new(&scfg, &cb, NULL);
    cli = wsx_conn_new(&ccfg, &cb, NULL);
    wsx_conn_tick(srv, fw_ms());
    wsx_conn_tick(cli, fw_ms());
    pump();
    go_idle();
    snprintf(key, sizeof key, "%s_idle", tag);
    report(key, &m);
    received = 0;
    wsx_send(cli, WSX_TEXT, msg, sizeof msg);
    pump();
    snprintf(key, sizeof key, "%s_4k_received", tag);
    report(key, &m);
    go_idle();
    wsx_send(srv, WSX_TEXT, msg, sizeof msg);
    pump();
    go_idle();
    snprintf(key, sizeof key, "%s_after_send_idle", tag);
    report(key, &m);
    wsx_close(cli, WSX_CLOSE_NORMAL, NULL);
    pump();
    size_t stack = fw_stack_since(mark);
    bool ok = received == 1 && wsx_conn_done(srv) && wsx_conn_done(cli);
    wsx_conn_free(srv);
    wsx_conn_free(cli);
    printf("budget %s_peak_arena %u\n", tag, (unsigned)m.peak);
    printf("budget %s_stack %u\n", tag, (unsigned)stack);
    printf("budget %s_ok %d\n", tag, ok && m.asked == 0);
}

int main(void)
{
    printf("budget sizeof_wsx_conn %u\n", (unsigned)sizeof(wsx_conn));
    session("core", NULL);
    wsx_deflate_config dc;
    wsx_deflate_config_init(&dc);
    dc.server_max_window_bits = dc.client_max_window_bits = 8;
    dc.mem_level = 1;
    dc.threshold = 0;
    session("pmd8", &dc);
    return 0;
}
