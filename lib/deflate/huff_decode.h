/* huff_decode.h - canonical Huffman decoding tables for the inflater
 * (RFC 1951 §3.2.2): a direct lookup on the first `root` bits, and a
 * canonical bit-by-bit walk for the rare longer codes. */
#ifndef WSX_HUFF_DECODE_H
#define WSX_HUFF_DECODE_H

#include <stdint.h>

/* A table entry packs what decoding a symbol needs:
 *   bits 0-3   code length (0: not resolved by the table, take the walk)
 *   bits 4-7   kind (below)
 *   bits 8-15  extra bits that follow the code
 *   bits 16-31 value: the literal, the length/distance base, or the
 *              code-length symbol */
#define WSX_HD_LEN(e) ((unsigned)(e) & 15u)
#define WSX_HD_KIND(e) (((unsigned)(e) >> 4) & 15u)
#define WSX_HD_EXTRA(e) (((unsigned)(e) >> 8) & 255u)
#define WSX_HD_VAL(e) ((unsigned)((e) >> 16))

enum {
    WSX_HD_LIT = 0,  /* a literal byte, or a code-length symbol */
    WSX_HD_BASE = 1, /* a length or distance base with extra bits */
    WSX_HD_END = 2,  /* end of block */
    WSX_HD_BAD = 3   /* literal/length 286/287, distance 30/31 */
};

/* Which alphabet a table decodes (it fixes the entries and which
 * incomplete codes are allowed). */
enum { WSX_HD_ALPHA_LIT, WSX_HD_ALPHA_DIST, WSX_HD_ALPHA_CLEN };

typedef struct wsx_hdec {
    uint32_t *table;     /* 2^root entries */
    uint32_t *sorted;    /* entries in canonical code order */
    uint16_t count[16];  /* codes of each length */
    unsigned root;
    unsigned maxlen;     /* longest code; 0 when there is none */
} wsx_hdec;

/* Build h (whose table and sorted arrays the caller provides, sized for
 * root and n) from code lengths lens[0..n). Returns 0, or WSX_EPROTO for
 * an over-subscribed or incomplete code. Incomplete codes are accepted,
 * as zlib does, only for a single code of one bit (a literal/length or
 * distance alphabet) or an empty distance alphabet: RFC 1951 §3.2.7 "One
 * distance code of zero bits means that there are no distance codes used
 * at all"; using such a missing code later fails at decode time. */
int wsx__hdec_build(wsx_hdec *h, const uint8_t *lens, unsigned n, int alphabet,
                   unsigned root);

/* The canonical walk for codes longer than root (or missing from an
 * incomplete code): 1 with *e set, 0 when more than nbits bits are
 * needed, -1 as soon as the bits can match no code. */
int wsx__hdec_slow(const wsx_hdec *h, uint64_t bits, unsigned nbits,
                  uint32_t *e);

/* Decode the symbol at the bottom of bits (nbits valid, higher bits
 * zero or the stream's next bits). Returns as wsx__hdec_slow. */
static inline int wsx__hdec_decode(const wsx_hdec *h, uint64_t bits,
                                  unsigned nbits, uint32_t *e)
{
    uint32_t x = h->table[bits & ((1u << h->root) - 1u)];
    if (WSX_HD_LEN(x)) {
        if (WSX_HD_LEN(x) > nbits)
            return 0;
        *e = x;
        return 1;
    }
    return wsx__hdec_slow(h, bits, nbits, e);
}

#endif
