/* test_frame.c - frame header parse/build (RFC 6455 §5.2): the §5.7
 * examples byte for byte, every length-encoding boundary, malformed
 * lengths, build->parse round trips, and every truncation point parsed
 * against a guard page. */
#include "test.h"

typedef struct frame_case {
    const char *name;
    uint8_t bytes[WSX_FRAME_HEADER_MAX];
    size_t size; /* header size; the expected parse result */
    wsx_frame_header h;
} frame_case;

#define KEY {0x37, 0xfa, 0x21, 0x3d}

/* RFC 6455 §5.7 headers plus the length boundaries of §5.2. */
static const frame_case valid[] = {
    {"5.7 unmasked Hello", {0x81, 0x05}, 2, {true, 0, WSX_TEXT, false, {0}, 5}},
    {"5.7 masked Hello", {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}, 6,
     {true, 0, WSX_TEXT, true, KEY, 5}},
    {"5.7 fragment Hel", {0x01, 0x03}, 2, {false, 0, WSX_TEXT, false, {0}, 3}},
    {"5.7 fragment lo", {0x80, 0x02}, 2,
     {true, 0, WSX_CONTINUATION, false, {0}, 2}},
    {"5.7 ping Hello", {0x89, 0x05}, 2, {true, 0, WSX_PING, false, {0}, 5}},
    {"5.7 masked pong", {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d}, 6,
     {true, 0, WSX_PONG, true, KEY, 5}},
    {"5.7 256 bytes", {0x82, 0x7e, 0x01, 0x00}, 4,
     {true, 0, WSX_BINARY, false, {0}, 256}},
    {"5.7 64 KiB", {0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}, 10,
     {true, 0, WSX_BINARY, false, {0}, 65536}},
    {"len 0", {0x82, 0x00}, 2, {true, 0, WSX_BINARY, false, {0}, 0}},
    {"len 125", {0x82, 0x7d}, 2, {true, 0, WSX_BINARY, false, {0}, 125}},
    {"len 126", {0x82, 0x7e, 0x00, 0x7e}, 4,
     {true, 0, WSX_BINARY, false, {0}, 126}},
    {"len 127", {0x82, 0x7e, 0x00, 0x7f}, 4,
     {true, 0, WSX_BINARY, false, {0}, 127}},
    {"len 65535", {0x82, 0x7e, 0xff, 0xff}, 4,
     {true, 0, WSX_BINARY, false, {0}, 65535}},
    {"len 2^32+1", {0x82, 0x7f, 0, 0, 0, 1, 0, 0, 0, 1}, 10,
     {true, 0, WSX_BINARY, false, {0}, 0x100000001ull}},
    {"len 2^63-1 masked",
     {0x02, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4},
     14, {false, 0, WSX_BINARY, true, {1, 2, 3, 4}, 0x7fffffffffffffffull}},
    {"rsv bits, odd opcode", {0x7b, 0x00}, 2,
     {false, WSX_RSV1 | WSX_RSV2 | WSX_RSV3, 0xb, false, {0}, 0}},
    {"rsv1 close", {0xc8, 0x80, 9, 8, 7, 6}, 6,
     {true, WSX_RSV1, WSX_CLOSE, true, {9, 8, 7, 6}, 0}},
};

/* Lengths that break RFC 6455 §5.2; `at` is the shortest prefix that must
 * already be rejected (the extended length complete, no key yet). */
static const struct {
    const char *name;
    uint8_t bytes[WSX_FRAME_HEADER_MAX];
    size_t len, at;
} invalid[] = {
    {"16-bit length 0", {0x82, 0x7e, 0, 0}, 4, 4},
    {"16-bit length 125", {0x82, 0xfe, 0x00, 0x7d, 1, 2, 3, 4}, 8, 4},
    {"64-bit length 126", {0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0x7e}, 10, 10},
    {"64-bit length 65535", {0x82, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4},
     14, 10},
    {"64-bit top bit", {0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}, 10, 10},
    {"64-bit all ones", {0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                         0xff, 1, 2, 3, 4}, 14, 10},
};

static bool header_eq(const wsx_frame_header *a, const wsx_frame_header *b)
{
    return a->fin == b->fin && a->rsv == b->rsv && a->opcode == b->opcode &&
           a->masked == b->masked && a->length == b->length &&
           (!a->masked || memcmp(a->mask, b->mask, 4) == 0);
}

/* Parse p[0..len) from the end of a page so any over-read faults. */
static int parse_guarded(wsx_frame_header *h, const uint8_t *p, size_t len)
{
    test_guard g = test_guard_copy(p, len);
    int r = wsx_frame_parse(h, g.data, len);
    test_guard_free(&g);
    return r;
}

static void test_valid(void)
{
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        const frame_case *c = &valid[i];
        wsx_frame_header h;
        memset(&h, 0xa5, sizeof h);
        CHECK_EQ(parse_guarded(&h, c->bytes, c->size), (int)c->size);
        if (!header_eq(&h, &c->h))
            fprintf(stderr, "case %s\n", c->name);
        CHECK(header_eq(&h, &c->h));
        /* Trailing payload bytes are not the parser's business. */
        uint8_t more[WSX_FRAME_HEADER_MAX + 4] = {0};
        memcpy(more, c->bytes, c->size);
        CHECK_EQ(wsx_frame_parse(&h, more, sizeof more), (int)c->size);
        for (size_t cut = 0; cut < c->size; cut++)
            CHECK_EQ(parse_guarded(&h, c->bytes, cut), 0);
        /* Building gives the same bytes: §5.7 uses minimal encodings. */
        uint8_t out[WSX_FRAME_HEADER_MAX];
        memset(out, 0xee, sizeof out);
        CHECK_EQ(wsx_frame_build(out, &c->h), c->size);
        CHECK(memcmp(out, c->bytes, c->size) == 0);
    }
}

static void test_invalid(void)
{
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        wsx_frame_header h;
        for (size_t cut = 0; cut <= invalid[i].len; cut++) {
            int r = parse_guarded(&h, invalid[i].bytes, cut);
            CHECK_EQ(r, cut < invalid[i].at ? 0 : WSX_EPROTO);
        }
    }
}

/* The whole masked "Hello" frame of §5.7, header then unmasked payload. */
static void test_masked_hello(void)
{
    uint8_t f[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                   0x7f, 0x9f, 0x4d, 0x51, 0x58};
    wsx_frame_header h;
    int n = wsx_frame_parse(&h, f, sizeof f);
    CHECK_EQ(n, 6);
    CHECK_EQ(h.length, 5);
    wsx_mask(f + n, (size_t)h.length, h.mask, 0);
    CHECK(memcmp(f + n, "Hello", 5) == 0);
}

static void test_round_trip(void)
{
    static const uint64_t lengths[] = {
        0, 1, 125, 126, 127, 255, 256, 65535, 65536, 65537,
        0xffffffffull, 0x100000000ull, 0x100000001ull, 0x7fffffffffffffffull};
    static const uint8_t opcodes[] = {0, 1, 2, 8, 9, 10, 3, 0xf};
    uint64_t seed = 42;
    for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++)
        for (size_t oi = 0; oi < sizeof opcodes; oi++)
            for (int bits = 0; bits < 32; bits++) {
                wsx_frame_header h = {0}, back;
                h.fin = bits & 1;
                h.masked = (bits >> 1) & 1;
                h.rsv = (uint8_t)((bits >> 2) << 4);
                h.opcode = opcodes[oi];
                h.length = lengths[li];
                if (h.masked) {
                    uint64_t r = test_rand(&seed);
                    memcpy(h.mask, &r, 4);
                }
                size_t want = 2 + (h.length < 126 ? 0 : h.length < 65536 ? 2 : 8) +
                              (h.masked ? 4 : 0);
                uint8_t out[WSX_FRAME_HEADER_MAX];
                size_t n = wsx_frame_build(out, &h);
                CHECK_EQ(n, want);
                CHECK_EQ(parse_guarded(&back, out, n), (int)n);
                CHECK(header_eq(&back, &h));
                CHECK_EQ(parse_guarded(&back, out, n - 1), 0);
            }
}

int main(void)
{
    RUN(test_valid);
    RUN(test_invalid);
    RUN(test_masked_hello);
    RUN(test_round_trip);
    return test_summary("test_frame");
}
