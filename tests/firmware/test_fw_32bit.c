/* test_fw_32bit.c - what a 32-bit core must get right (size_t is 32 bits,
 * the wire's lengths are 64): lengths above 4 GiB announced by a peer fail
 * with 1009 instead of wrapping, a message growing past SIZE_MAX too, a
 * frame that fits size_t but not memory with 1011, 64-bit lengths and
 * mask offsets round-trip, a send larger than memory is refused
 * untouched, a feed longer than LONG_MAX after the close is discarded;
 * and every word-at-a-time path (masking, UTF-8,
 * frame headers, SHA-1, inflate, a connection's zero-copy receive) on
 * data at every alignment. Built twice: as shipped, where a misaligned
 * LDRD/LDM would fault; and with -DFW_TRAP on a core built with
 * -mno-unaligned-access under SCB->CCR.UNALIGN_TRP, where any word or
 * halfword access through a misaligned pointer faults and fails. */
#include <limits.h>

#include "conn_util.h"
#include "fw.h"
#include "wsx_deflate.h"


_Static_assert(SIZE_MAX == UINT32_MAX, "this test is for 32-bit targets");

static uint64_t arena_mem[16u << 10]; /* 128 KiB */

/* A server (or client) connection past its handshake, fed by the test. */
static void open_conn(ep *e, wsx_config *cfg, wsx_callbacks *cb, wsx_role role,
                      bool streaming)
{
    memset(e, 0, sizeof *e);
    e->rng = 3;
    wsx_config_init(cfg, role);
    CHECK_EQ(wsx_arena_init(&cfg->alloc, arena_mem, sizeof arena_mem), 0);
    /* The largest limits a 32-bit caller can ask for. */
    cfg->max_frame_size = cfg->max_message_size = SIZE_MAX;
    cfg->streaming = streaming;
    cfg->client.host = "board";
    cfg->client.path = "/";
    ep_callbacks(cb);
    if (streaming)
        cb->on_fragment = ep_message;
    e->c = wsx_conn_new(cfg, cb, e);
    CHECK(e->c != NULL);
    wsx_conn_tick(e->c, fw_ms() + 1);
    /* wsx_conn_feed may write to its input: always a copy. */
    char head[512];
    int n;
    if (role == WSX_SERVER) {
        n = (int)strlen(rfc_request);
        memcpy(head, rfc_request, (size_t)n);
    } else {
        /* Answer the client's request with the accept it expects. */
        const char *k = mem_find(e->out, e->out_len, "Sec-WebSocket-Key: ", 19);
        CHECK(k != NULL);
        if (!k)
            return;
        n = wsx_http_build_accept(head, sizeof head, k + 19, 24, NULL, NULL, NULL);
        CHECK(n > 0);
    }
    CHECK_EQ(wsx_conn_feed(e->c, (uint8_t *)head, n > 0 ? (size_t)n : 0), 0);
    CHECK_EQ(wsx_conn_state(e->c), WSX_STATE_OPEN);
    ep_reset_out(e);
}

/* A frame header announcing `len`, masked when the receiver is a server. */
static size_t announce(uint8_t *out, uint8_t b0, uint64_t len, bool masked)
{
    wsx_frame_header h;
    memset(&h, 0, sizeof h);
    h.fin = b0 & 0x80;
    h.opcode = b0 & 0x0f;
    h.masked = masked;
    memcpy(h.mask, "\x01\x02\x03\x04", 4);
    h.length = len;
    return wsx_frame_build(out, &h);
}

/* The code of the first close frame in a connection's output, unmasking
 * it when a client sent it; -1 when there is none. */
static int close_code_sent(const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        wsx_frame_header h;
        int r = wsx_frame_parse(&h, p + off, n - off);
        if (r <= 0 || h.length > n - off - (size_t)r)
            return -1;
        off += (size_t)r;
        if (h.opcode == WSX_CLOSE) {
            if (h.length < 2)
                return 1005;
            uint8_t code[2] = {p[off], p[off + 1]};
            if (h.masked)
                wsx_mask(code, 2, h.mask, 0);
            return code[0] << 8 | code[1];
        }
        off += (size_t)h.length;
    }
    return -1;
}

/* RFC 6455 §7.4.1: 1009 "a message that is too big for it to process".
 * A length of 2^32 + 5 truncated to size_t would be a 5-byte frame. */
static void test_length_above_4gib(void)
{
    static const uint64_t lens[] = {0x100000000ull, 0x100000005ull,
                                    0xffffffffffull, 0x7fffffffffffffffull};
    for (int role = 0; role < 2; role++) {
        for (int streaming = 0; streaming < 2; streaming++) {
            for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
                ep e;
                wsx_config cfg;
                wsx_callbacks cb;
                open_conn(&e, &cfg, &cb, (wsx_role)role, streaming);
                uint8_t buf[64];
                size_t n = announce(buf, 0x82, lens[i], role == WSX_SERVER);
                CHECK_EQ(n, role == WSX_SERVER ? 14u : 10u);
                memcpy(buf + n, "abcde", 5);
                n += 5;
                n += announce(buf + n, 0x81, 2, role == WSX_SERVER);
                memcpy(buf + n, "ok", 2);
                n += 2;
                CHECK_EQ(wsx_conn_feed(e.c, buf, n), WSX_ETOOBIG);
                CHECK_EQ(e.msgs, 0);
                CHECK_EQ(e.closes, 1);
                CHECK_EQ(e.close_code, WSX_CLOSE_TOO_BIG);
                CHECK_EQ(e.close_error, WSX_ETOOBIG);
                CHECK_EQ(close_code_sent(e.out, e.out_len), 1009);
                ep_fini(&e);
            }
        }
    }
}

/* A whole message may not outgrow size_t either: 16 bytes, then a
 * continuation that fits size_t on its own but not with them. */
static void test_message_sum_above_size_max(void)
{
    ep e;
    wsx_config cfg;
    wsx_callbacks cb;
    open_conn(&e, &cfg, &cb, WSX_SERVER, false);
    uint8_t buf[64];
    size_t n = announce(buf, 0x02, 16, true);
    memset(buf + n, 'x', 16);
    wsx_mask(buf + n, 16, (const uint8_t *)"\x01\x02\x03\x04", 0);
    n += 16;
    n += announce(buf + n, 0x80, SIZE_MAX - 8, true);
    CHECK_EQ(wsx_conn_feed(e.c, buf, n), WSX_ETOOBIG);
    CHECK_EQ(e.close_code, WSX_CLOSE_TOO_BIG);
    CHECK_EQ(close_code_sent(e.out, e.out_len), 1009);
    ep_fini(&e);
}

/* A frame that fits size_t but not memory: refused at its first payload
 * byte as an allocation failure (1011), with nothing written anywhere. */
static void test_frame_fits_size_t_not_memory(void)
{
    ep e;
    wsx_config cfg;
    wsx_callbacks cb;
    open_conn(&e, &cfg, &cb, WSX_SERVER, false);
    uint8_t buf[32];
    size_t n = announce(buf, 0x82, 0xfffffff0u, true);
    memcpy(buf + n, "abcd", 4);
    CHECK_EQ(wsx_conn_feed(e.c, buf, n), 0);
    CHECK_EQ(wsx_conn_feed(e.c, buf + n, 4), WSX_ENOMEM);
    CHECK_EQ(e.msgs, 0);
    CHECK_EQ(e.close_code, WSX_CLOSE_INTERNAL);
    CHECK_EQ(close_code_sent(e.out, e.out_len), 1011);
    ep_fini(&e);
}

/* The 64-bit length field and mask offsets beyond 4 GiB, on 32 bits. */
static void test_u64_lengths_round_trip(void)
{
    static const uint64_t lens[] = {0xffffffffull, 0x100000000ull,
                                    0x100000001ull, 0x7fffffffffffffffull};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        uint8_t b[WSX_FRAME_HEADER_MAX];
        size_t n = announce(b, 0x82, lens[i], false);
        CHECK_EQ(n, 10);
        for (int k = 0; k < 8; k++)
            CHECK_EQ(b[2 + k], (uint8_t)(lens[i] >> (56 - 8 * k)));
        wsx_frame_header h;
        CHECK_EQ(wsx_frame_parse(&h, b, n), 10);
        CHECK(h.length == lens[i]);
    }
    /* §5.2: the most significant bit MUST be 0. */
    uint8_t top[10] = {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0};
    wsx_frame_header h;
    CHECK_EQ(wsx_frame_parse(&h, top, sizeof top), WSX_EPROTO);
    /* A payload unmasked in pieces that straddle offset 2^32. */
    const uint8_t key[4] = {0xa1, 0xb2, 0xc3, 0xd4};
    for (uint64_t base = 0xfffffffcull; base < 0x100000004ull; base++) {
        uint8_t p[11], q[11];
        for (int i = 0; i < 11; i++)
            p[i] = q[i] = (uint8_t)(i * 7);
        wsx_mask(p, 11, key, base);
        for (int i = 0; i < 11; i++)
            q[i] ^= key[(base + (uint64_t)i) % 4];
        CHECK(!memcmp(p, q, 11));
    }
}

/* A send larger than any 32-bit memory is refused before a byte is
 * touched (the data pointer is short on purpose), and the connection
 * goes on working. */
static void test_send_larger_than_memory(void)
{
    ep e;
    wsx_config cfg;
    wsx_callbacks cb;
    open_conn(&e, &cfg, &cb, WSX_SERVER, false);
    static const uint8_t small[4] = "abc";
    CHECK_EQ(wsx_send(e.c, WSX_BINARY, small, SIZE_MAX), WSX_ENOMEM);
    CHECK_EQ(wsx_send(e.c, WSX_BINARY, small, SIZE_MAX - 13), WSX_ENOMEM);
    CHECK_EQ(wsx_send(e.c, WSX_BINARY, small, SIZE_MAX / 2), WSX_ENOMEM);
    CHECK_EQ(wsx_buffered_amount(e.c), 0);
    CHECK_EQ(e.out_len, 0);
    CHECK_EQ(wsx_send(e.c, WSX_TEXT, small, 3), 0);
    CHECK_EQ(e.out_len, 5);
    CHECK(e.out_len == 5 && !memcmp(e.out + 2, "abc", 3));
    ep_fini(&e);
}

/* The frame readers count in long, which is 32 bits here: a feed longer
 * than LONG_MAX must not turn into a negative count. After a clean close
 * input is discarded unread (wsx.h), so a short buffer with a huge length
 * is safe to pass. */
static void test_feed_beyond_long_max_after_close(void)
{
    ep e;
    wsx_config cfg;
    wsx_callbacks cb;
    open_conn(&e, &cfg, &cb, WSX_SERVER, false);
    uint8_t buf[16];
    size_t n = client_frame(buf, 0x88, "\x03\xe8", 2);
    CHECK_EQ(wsx_conn_feed(e.c, buf, n), 0);
    CHECK(e.close_clean);
    CHECK_EQ(wsx_conn_feed(e.c, buf, (size_t)LONG_MAX + 2), 0);
    CHECK_EQ(wsx_conn_feed(e.c, buf, SIZE_MAX), 0);
    CHECK_EQ(wsx_conn_error(e.c), 0);
    CHECK_EQ(e.closes, 1);
    ep_fini(&e);
}

/* ---- alignment ------------------------------------------------------- */

static uint8_t area[4096 + 16];

static void test_mask_every_alignment(void)
{
    const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    static const size_t lens[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 64, 1000};
    for (size_t a = 0; a < 8; a++) {
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            for (uint64_t off = 0; off < 4; off++) {
                size_t n = lens[li];
                uint8_t *p = area + a;
                for (size_t i = 0; i < n; i++)
                    p[i] = (uint8_t)(i * 13 + a);
                wsx_mask(p, n, key, off);
                bool ok = true;
                for (size_t i = 0; i < n; i++)
                    ok &= p[i] == (uint8_t)((uint8_t)(i * 13 + a) ^ key[(off + i) % 4]);
                CHECK(ok);
            }
        }
    }
}

static void test_utf8_every_alignment(void)
{
    /* ASCII runs long enough for the fast path, then multibyte text,
     * then an error placed after a long ASCII run. */
    static const char good[] = "plain ascii text, long enough for words: "
                               "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
                               "and more ascii after the multibyte part....";
    static const char bad[] = "0123456789abcdef0123456789abcdef\xed\xa0\x80";
    for (size_t a = 0; a < 8; a++) {
        uint32_t st = WSX_UTF8_OK;
        memcpy(area + a, good, sizeof good - 1);
        CHECK_EQ(wsx_utf8_validate(&st, area + a, sizeof good - 1), 0);
        CHECK_EQ(st, WSX_UTF8_OK);
        st = WSX_UTF8_OK;
        memcpy(area + a, bad, sizeof bad - 1);
        CHECK_EQ(wsx_utf8_validate(&st, area + a, sizeof bad - 1), WSX_EUTF8);
    }
}

static void test_frame_and_sha1_every_alignment(void)
{
    uint8_t hdr[WSX_FRAME_HEADER_MAX];
    size_t hl = announce(hdr, 0x82, 0x123456789aull, true);
    static const char text[] = "The quick brown fox jumps over the lazy dog";
    uint8_t want[20];
    wsx_sha1 s;
    wsx_sha1_init(&s);
    wsx_sha1_update(&s, text, sizeof text - 1);
    wsx_sha1_final(&s, want);
    for (size_t a = 0; a < 8; a++) {
        wsx_frame_header h;
        memcpy(area + a, hdr, hl);
        CHECK_EQ(wsx_frame_parse(&h, area + a, hl), (int)hl);
        CHECK(h.length == 0x123456789aull && h.masked &&
              !memcmp(h.mask, "\x01\x02\x03\x04", 4));
        uint8_t got[20];
        memcpy(area + a, text, sizeof text - 1);
        wsx_sha1_init(&s);
        wsx_sha1_update(&s, area + a, 3);
        wsx_sha1_update(&s, area + a + 3, sizeof text - 4);
        wsx_sha1_final(&s, got);
        CHECK(!memcmp(got, want, 20));
        /* FIPS 180-4 test vector for the same text. */
        CHECK_EQ(got[0], 0x2f);
        CHECK_EQ(got[19], 0x12);
    }
}

static uint8_t inflated[64];
static size_t inflated_len;

static int collect(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    if (n > sizeof inflated - inflated_len)
        return WSX_ETOOBIG;
    memcpy(inflated + inflated_len, p, n);
    inflated_len += n;
    return 0;
}

static void test_inflate_every_alignment(void)
{
    /* RFC 7692 §7.2.3.2: "Hello" twice, the second a back-reference. */
    static const uint8_t z[] = {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00,
                                0x00, 0x00, 0xff, 0xff, 0xf2, 0x00, 0x11,
                                0x00, 0x00, 0x00, 0xff, 0xff};
    wsx_allocator al;
    CHECK_EQ(wsx_arena_init(&al, arena_mem, sizeof arena_mem), 0);
    for (size_t a = 0; a < 8; a++) {
        wsx_inflater *in = wsx_inflater_new(&al, 8);
        CHECK(in != NULL);
        if (!in)
            return;
        memcpy(area + a, z, sizeof z);
        inflated_len = 0;
        CHECK_EQ(wsx_inflater_run(in, area + a, sizeof z, NULL, collect, NULL), 0);
        CHECK(inflated_len == 10 && !memcmp(inflated, "HelloHello", 10));
        wsx_inflater_free(in);
    }
}

/* A server connection receiving frames that start at every alignment of
 * the caller's buffer: unmasked in place and validated zero-copy. */
static void test_conn_receive_every_alignment(void)
{
    static char text[300];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (char)('a' + i % 26);
    for (size_t a = 0; a < 8; a++) {
        ep e;
        wsx_config cfg;
        wsx_callbacks cb;
        open_conn(&e, &cfg, &cb, WSX_SERVER, false);
        size_t n = client_frame(area + a, 0x81, text, sizeof text);
        n += client_frame(area + a + n, 0x89, "ping", 4);
        CHECK_EQ(wsx_conn_feed(e.c, area + a, n), 0);
        CHECK_EQ(e.msgs, 1);
        CHECK(e.msg_len == sizeof text && !memcmp(e.msg, text, sizeof text));
        CHECK(mem_find(e.out, e.out_len, "\x8a\x04ping", 6) != NULL);
        ep_fini(&e);
    }
}

#ifdef FW_TRAP
/* The replacement for newlib's memcpy (which uses unaligned LDR/STR, legal
 * on the M4 and not what is being looked for): bytes, one at a time. */
void *__wrap_memcpy(void *dst, const void *src, size_t n);
void *__wrap_memcpy(void *dst, const void *src, size_t n)
{
    volatile uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

/* The trap itself works: a word read at an odd address faults. */
static void test_trap_catches_misaligned_word(void)
{
    static uint32_t words[2];
    uint32_t v;
    unsigned before = fw_traps_caught();
    fw_trap_expect();
    /* In assembly: the compiler would split a load it can see is
     * misaligned into bytes. */
    __asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"((uintptr_t)words + 1) : "memory");
    (void)v;
    CHECK_EQ(fw_traps_caught(), before + 1);
}
#define NAME "fw_32bit_trap"
#else
#define NAME "fw_32bit"
#endif

int main(void)
{
#ifdef FW_TRAP
    fw_unaligned_trap(true);
    RUN(test_trap_catches_misaligned_word);
#endif
    RUN(test_length_above_4gib);
    RUN(test_message_sum_above_size_max);
    RUN(test_frame_fits_size_t_not_memory);
    RUN(test_u64_lengths_round_trip);
    RUN(test_send_larger_than_memory);
    RUN(test_feed_beyond_long_max_after_close);
    RUN(test_mask_every_alignment);
    RUN(test_utf8_every_alignment);
    RUN(test_frame_and_sha1_every_alignment);
    RUN(test_inflate_every_alignment);
    RUN(test_conn_receive_every_alignment);
#ifdef FW_TRAP
    CHECK_EQ(fw_traps_caught(), 1);
    fw_unaligned_trap(false);
#endif
    return test_summary(NAME);
}
