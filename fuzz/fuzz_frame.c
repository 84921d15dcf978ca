/* fuzz_frame.c - libFuzzer target for the frame header parser of
 * RFC 6455 §5.2 and the masking of §5.3: the parser agrees with a plain
 * reference, with every prefix of its input and with the builder; masking
 * in pieces at any offset equals a byte-wise XOR. */
#include "fuzz_util.h"

#define WSX_FUZZ_MAX_LEN 1024

/* RFC 6455 §5.2 read literally: 7-bit length, 126 + 16 bits or 127 + 64
 * bits (top bit 0), each in its minimal form, then an optional key. */
static int ref_parse(wsx_frame_header *h, const uint8_t *p, size_t n)
{
    if (n < 2)
        return 0;
    unsigned len7 = p[1] & 0x7f;
    size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    if (n < 2 + ext)
        return 0;
    uint64_t len = len7;
    if (len7 == 126) {
        len = (uint64_t)p[2] << 8 | p[3];
        if (len < 126)
            return WSX_EPROTO;
    } else if (len7 == 127) {
        len = fz_load64(p + 2);
        if (len > INT64_MAX || len <= 0xffff)
            return WSX_EPROTO;
    }
    size_t size = 2 + ext + ((p[1] & 0x80) ? 4 : 0);
    if (n < size)
        return 0;
    memset(h, 0, sizeof *h);
    h->fin = p[0] >> 7;
    h->rsv = p[0] & 0x70;
    h->opcode = p[0] & 0x0f;
    h->masked = p[1] >> 7;
    h->length = len;
    if (h->masked)
        memcpy(h->mask, p + 2 + ext, 4);
    return (int)size;
}

static int parse_copy(wsx_frame_header *h, const uint8_t *p, size_t n)
{
    uint8_t *d = fz_dup(p, n);
    int r = wsx_frame_parse(h, d, n);
    free(d);
    return r;
}

static void check_header(const uint8_t *data, size_t size)
{
    wsx_frame_header h, ref;
    int r = parse_copy(&h, data, size);
    int rr = ref_parse(&ref, data, size);

    WSX_FUZZ_CHECK(r == rr);
    WSX_FUZZ_CHECK(r == 0 || r == WSX_EPROTO ||
                   (r >= 2 && r <= WSX_FRAME_HEADER_MAX && (size_t)r <= size));
    if (r > 0) {
        WSX_FUZZ_CHECK(h.fin == ref.fin && h.rsv == ref.rsv &&
                       h.opcode == ref.opcode && h.masked == ref.masked &&
                       h.length == ref.length);
        WSX_FUZZ_CHECK(!h.masked || memcmp(h.mask, ref.mask, 4) == 0);
        /* Minimal encodings only, so the builder gives back the bytes. */
        uint8_t out[WSX_FRAME_HEADER_MAX];
        WSX_FUZZ_CHECK(wsx_frame_build(out, &h) == (size_t)r);
        WSX_FUZZ_CHECK(memcmp(out, data, (size_t)r) == 0);
    }
    /* A stream delivers prefixes first: they need more bytes, except
     * that a bad length is refused as soon as it is complete and stays
     * refused. */
    int seen_err = 0;
    size_t top = size < WSX_FRAME_HEADER_MAX ? size : WSX_FRAME_HEADER_MAX;
    for (size_t k = 0; k <= top; k++) {
        int rk = parse_copy(&h, data, k);
        if (r > 0)
            WSX_FUZZ_CHECK(rk == (k >= (size_t)r ? r : 0));
        else if (r == 0)
            WSX_FUZZ_CHECK(rk == 0);
        else {
            WSX_FUZZ_CHECK(rk == 0 || rk == WSX_EPROTO);
            WSX_FUZZ_CHECK(!seen_err || rk == WSX_EPROTO);
            seen_err |= rk == WSX_EPROTO;
        }
    }
}

/* Unmask p[0..n) in pieces at offset `base` into the payload, at an odd
 * alignment, and compare with byte-wise XOR (RFC 6455 §5.3: octet i is
 * XORed with key[i mod 4]). Twice is the identity. */
static void check_mask(const uint8_t *p, size_t n, const uint8_t key[4],
                       uint64_t base, fz_rng *rng)
{
    size_t align = fz_below(rng, 16);
    uint8_t *buf = malloc(align + n + 1);
    uint8_t *want = fz_dup(p, n);

    WSX_FUZZ_CHECK(buf);
    for (size_t i = 0; i < n; i++)
        want[i] ^= key[(base + i) % 4];
    memcpy(buf + align, p, n);
    for (size_t off = 0; off < n;) {
        size_t k = 1 + fz_below(rng, n - off);
        if (fz_one_in(rng, 2) && k > 8)
            k = 1 + k % 8;
        wsx_mask(buf + align + off, k, key, base + off);
        off += k;
    }
    WSX_FUZZ_CHECK(n == 0 || memcmp(buf + align, want, n) == 0);
    wsx_mask(buf + align, n, key, base);
    WSX_FUZZ_CHECK(n == 0 || memcmp(buf + align, p, n) == 0);
    free(want);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wsx_frame_header h;
    uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    fz_rng rng = {fz_hash(data, size, FZ_HASH0)};
    int r;

    check_header(data, size);
    /* The payload that follows a header is the masking input; without a
     * valid masked header, key and offset come from the input itself. */
    r = wsx_frame_parse(&h, data, size);
    if (r > 0 && h.masked) {
        memcpy(key, h.mask, 4);
        check_mask(data + r, size - (size_t)r, key, 0, &rng);
    } else {
        size_t skip = size < 5 ? size : 5;
        if (skip == 5)
            memcpy(key, data + 1, 4);
        check_mask(data + skip, size - skip, key,
                   skip ? (uint64_t)data[0] * 0x01000193u : 0, &rng);
    }
    return 0;
}
