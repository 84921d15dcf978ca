/* echo.c - the smallest useful firmware: one server connection in a
 * static arena, echoing every message, its timers driven by SysTick. The
 * "transport" is a pair of RAM buffers standing in for a UART or TCP
 * driver: a client's handshake, a text message, a ping and a close arrive
 * in 64-byte pieces, and what the server sends is checked afterwards.
 * Built twice: core only (the flash budget's minimal image) and with
 * permessage-deflate at 8-bit windows (-DFW_ECHO_DEFLATE). */
#include <string.h>

#include "fw.h"
#include "wsx.h"
#ifdef FW_ECHO_DEFLATE
#include "wsx_deflate.h"
#define NAME "echo_pmd"
#define ARENA_SIZE (20u << 10)
#define OFFER "Sec-WebSocket-Extensions: permessage-deflate; " \
              "client_max_window_bits=8; server_max_window_bits=8\r\n"
/* "Hello" compressed (RFC 7692 §7.2.3.1). */
static const uint8_t hello[] = {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
#define HELLO_LEN sizeof hello
#define HELLO_B0 0xc1 /* FIN, RSV1, text */
#else
#define NAME "echo_min"
#define ARENA_SIZE (2u << 10)
#define OFFER ""
static const uint8_t hello[] = "Hello";
#define HELLO_LEN (sizeof hello - 1)
#define HELLO_B0 0x81
#endif

static uint64_t arena[ARENA_SIZE / 8];
static uint8_t rx[512], tx[512];
static size_t rx_len, tx_len;
static int closed;

static long on_send(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    (void)c;
    (void)user;
    if (len > sizeof tx - tx_len)
        return WSX_EAGAIN;
    memcpy(tx + tx_len, p, len);
    tx_len += len;
    return (long)len;
}

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    wsx_send(c, m->opcode, m->data, m->len);
}

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    (void)c;
    (void)user;
    closed = ci->clean && ci->code == WSX_CLOSE_NORMAL;
}

/* A frame as a client sends it: masked (RFC 6455 §5.3). */
static void peer_frame(uint8_t b0, const void *p, size_t n)
{
    wsx_frame_header h = {0};
    h.fin = b0 & 0x80;
    h.rsv = b0 & 0x70;
    h.opcode = b0 & 0x0f;
    h.masked = true;
    memcpy(h.mask, "\x9c\x21\x5e\x07", 4);
    h.length = n;
    rx_len += wsx_frame_build(rx + rx_len, &h);
    memcpy(rx + rx_len, p, n);
    wsx_mask(rx + rx_len, n, h.mask, 0);
    rx_len += n;
}

/* The server's output: a 101 head, then the echo, the pong, the close. */
static int check_output(void)
{
    static const char head[] = "HTTP/1.1 101 ";
    static const uint8_t want_op[3] = {HELLO_B0, 0x8a, 0x88};
    size_t off = 0;
    while (off + 4 <= tx_len && memcmp(tx + off, "\r\n\r\n", 4))
        off++;
    if (memcmp(tx, head, sizeof head - 1) || off + 4 > tx_len)
        return 0;
    off += 4;
    for (int i = 0; i < 3; i++) {
        wsx_frame_header h;
        int r = wsx_frame_parse(&h, tx + off, tx_len - off);
        if (r <= 0 || h.masked || h.length > tx_len - off - (size_t)r ||
            (tx[off] & 0xf0) != (want_op[i] & 0xf0) || h.opcode != (want_op[i] & 0x0f))
            return 0;
        off += (size_t)r + (size_t)h.length;
    }
    return off == tx_len;
}

int main(void)
{
    static wsx_config cfg;
    static wsx_callbacks cb;
    wsx_config_init(&cfg, WSX_SERVER);
    if (wsx_arena_init(&cfg.alloc, arena, sizeof arena))
        return 1;
#ifdef FW_ECHO_DEFLATE
    static wsx_deflate_config dc;
    wsx_deflate_config_init(&dc);
    dc.server_max_window_bits = dc.client_max_window_bits = 8;
    dc.mem_level = 1;
    dc.threshold = 0;
    cfg.extension = wsx_permessage_deflate();
    cfg.extension_config = &dc;
#endif
    wsx_callbacks_init(&cb);
    cb.send = on_send;
    cb.on_message = on_message;
    cb.on_close = on_close;

    static const char request[] =
        "GET /echo HTTP/1.1\r\nHost: board\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n" OFFER "\r\n";
    memcpy(rx, request, sizeof request - 1);
    rx_len = sizeof request - 1;
    peer_frame(HELLO_B0, hello, HELLO_LEN);
    peer_frame(0x89, "ok?", 3);
    peer_frame(0x88, "\x03\xe8", 2);

    wsx_conn *c = wsx_conn_new(&cfg, &cb, NULL);
    if (!c)
        return 1;
    wsx_conn_tick(c, fw_ms());
    for (size_t off = 0; off < rx_len; off += 64) {
        size_t n = rx_len - off < 64 ? rx_len - off : 64;
        if (wsx_conn_feed(c, rx + off, n))
            break;
        wsx_conn_tick(c, fw_ms());
    }
    int ok = closed && wsx_conn_done(c) && check_output();
    wsx_conn_free(c);
    fw_puts("budget " NAME " stack ");
    fw_putu(fw_stack_peak());
    fw_puts(ok ? "\n" NAME ": 1 passed, 0 failed\n" : "\n" NAME ": 0 passed, 1 failed\n");
    return ok ? 0 : 1;
}
