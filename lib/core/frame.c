/* frame.c - the stateless frame header codec of RFC 6455 §5.2: parse and
 * build the 2..14 byte header (FIN, RSV, opcode, MASK, 7/16/64-bit payload
 * length, masking key). Connection-level rules live in the connection. */
#include <string.h>

#include "wsx.h"

int wsx_frame_parse(wsx_frame_header *h, const uint8_t *p, size_t len)
{
    if (len < 2)
        return 0;
    uint8_t len7 = p[1] & 0x7f;
    size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    /* Judge the extended length as soon as it is all here, before the
     * masking key arrives, so a bad header fails without waiting. */
    if (len < 2 + ext)
        return 0;
    uint64_t length = len7;
    if (ext) {
        length = 0;
        for (size_t i = 0; i < ext; i++)
            length = length << 8 | p[2 + i];
        /* RFC 6455 §5.2: "the most significant bit MUST be 0" and "the
         * minimal number of bytes MUST be used to encode the length". */
        if (length >> 63)
            return WSX_EPROTO;
        if (length < (ext == 2 ? 126u : 65536u))
            return WSX_EPROTO;
    }
    bool masked = (p[1] & 0x80) != 0;
    size_t size = 2 + ext + (masked ? 4 : 0);
    if (len < size)
        return 0;
    h->fin = (p[0] & 0x80) != 0;
    h->rsv = p[0] & (WSX_RSV1 | WSX_RSV2 | WSX_RSV3);
    h->opcode = p[0] & 0x0f;
    h->masked = masked;
    h->length = length;
    if (masked)
        memcpy(h->mask, p + 2 + ext, 4);
    else
        memset(h->mask, 0, 4);
    return (int)size;
}

size_t wsx_frame_build(uint8_t *out, const wsx_frame_header *h)
{
    size_t n = 2, ext;
    out[0] = (uint8_t)((h->fin ? 0x80 : 0) |
                       (h->rsv & (WSX_RSV1 | WSX_RSV2 | WSX_RSV3)) |
                       (h->opcode & 0x0f));
    if (h->length < 126) {
        out[1] = (uint8_t)h->length;
        ext = 0;
    } else if (h->length <= 0xffff) {
        out[1] = 126;
        ext = 2;
    } else {
        out[1] = 127;
        ext = 8;
    }
    for (size_t i = 0; i < ext; i++)
        out[n++] = (uint8_t)(h->length >> (8 * (ext - 1 - i)));
    if (h->masked) {
        out[1] |= 0x80;
        memcpy(out + n, h->mask, 4);
        n += 4;
    }
    return n;
}
