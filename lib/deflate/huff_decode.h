/* huff_decode.h - canonical Huffman decoding tables for the inflater
 * (RFC 1951 §3.2.2): a direct lookup on the first `root` bits, and a
 * canonical bit-by-bit walk for the rare longer codes. */
#ifndef WSX_HUFF_DECODE_H
#define WSX_HUFF_DECODE_H

#include <stdint.h>

/* A table entry holds all a symbol needs, laid out so that the hot loop
 * spends one or two operations per question:
 *   bits 0-7   bits to consume: the code and the extra bits after it
 *              (at most 15 + 13), so one shift steps over both
 *   bits 8-13  code length: the extra bits start there (alone in their
 *              six bits, so that a shift by e >> 8 needs no mask on CPUs
 *              whose shifts take the count modulo 64)
 *   bit 15     EXC: not a literal, length or distance (END, LONG, or a
 *              symbol no stream may use: literal/length 286/287, distance
 *              30/31, or a code missing from an allowed incomplete code)
 *   bits 16-30 value: the literal, the length/distance base, or the
 *              code-length symbol; for EXC entries bit 16 is END (end of
 *              block) and bit 17 LONG (a code longer than the table: take
 *              the walk)
 *   bit 31     LIT: a literal byte, so that one sign test finds it
 * A length or distance is value + extra bits, from the bits as they were
 * before consuming (wsx__hdec_extra). */
#define WSX_HD_EXC 0x8000u
#define WSX_HD_END 0x10000u
#define WSX_HD_LONG 0x20000u
#define WSX_HD_LIT 0x80000000u
#define WSX_HD_USE(e) ((unsigned)(e) & 0xffu)
#define WSX_HD_CODELEN(e) (((unsigned)(e) >> 8) & 63u)
#define WSX_HD_VAL(e) (((unsigned)(e) >> 16) & 0x7fffu)

/* The extra bits of e, from `saved` (the bit buffer before e was
 * consumed): the bits past the code, up to the bits consumed. */
static inline uint32_t wsx__hdec_extra(uint32_t e, uint64_t saved)
{
    return (uint32_t)((saved & ~(~(uint64_t)0 << WSX_HD_USE(e))) >> WSX_HD_CODELEN(e));
}

/* Which alphabet a table decodes (it fixes the entries and which
 * incomplete codes are allowed). */
enum { WSX_HD_ALPHA_LIT, WSX_HD_ALPHA_DIST, WSX_HD_ALPHA_CLEN };

typedef struct wsx_hdec {
    uint32_t *table;     /* 2^root entries */
    uint32_t *sorted;    /* entries in canonical code order */
    uint16_t count[16];  /* codes of each length */
    unsigned root;
    unsigned maxlen;     /* longest code; 0 when there is none */
    uint32_t first_long; /* first code of length root + 1 */
    uint32_t index_long; /* codes of root bits or fewer */
} wsx_hdec;

/* Build h (whose table and sorted arrays the caller provides, sized for
 * root and n) from code lengths lens[0..n). Returns 0, or WSX_EPROTO for
 * an over-subscribed or incomplete code. Incomplete codes are accepted,
 * as zlib does, only for a single code of one bit (a literal/length or
 * distance alphabet) or an empty distance alphabet: RFC 1951 §3.2.7 "One
 * distance code of zero bits means that there are no distance codes used
 * at all"; using such a missing code later fails at decode time (its
 * entry is EXC, with the bits that tell it apart as its code length: 1
 * beside the single code, 0 in an empty code). */
int wsx__hdec_build(wsx_hdec *h, const uint8_t *lens, unsigned n, int alphabet,
                   unsigned root);

/* The canonical walk for a code longer than root (the table's entry for
 * the first root bits is LONG): 1 with *e set, 0 when more than nbits
 * bits are needed, -1 when the bits match no code. */
int wsx__hdec_slow(const wsx_hdec *h, uint64_t bits, unsigned nbits,
                  uint32_t *e);

/* Decode the symbol at the bottom of bits (nbits valid, higher bits
 * zero or the stream's next bits): 1 with *e set once its code (not yet
 * its extra bits) is buffered, else as wsx__hdec_slow. */
static inline int wsx__hdec_decode(const wsx_hdec *h, uint64_t bits,
                                  unsigned nbits, uint32_t *e)
{
    uint32_t x = h->table[bits & ((1u << h->root) - 1u)];
    if ((x & WSX_HD_EXC) && (x & WSX_HD_LONG))
        return wsx__hdec_slow(h, bits, nbits, e);
    if (WSX_HD_CODELEN(x) > nbits)
        return 0;
    *e = x;
    return 1;
}

#endif
