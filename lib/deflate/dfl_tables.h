/* dfl_tables.h - constants of the DEFLATE format (RFC 1951 §3.2.5-§3.2.7)
 * shared by the inflater and the deflater, and small bit helpers. */
#ifndef WSX_DFL_TABLES_H
#define WSX_DFL_TABLES_H

#include <stdint.h>

#define WSX_DFL_MIN_MATCH 3
#define WSX_DFL_MAX_MATCH 258
#define WSX_DFL_MAX_BITS 15    /* longest literal/length or distance code */
#define WSX_DFL_CLEN_BITS 7    /* longest code-length code */
#define WSX_DFL_NLIT 286       /* literal/length symbols a stream may use */
#define WSX_DFL_NDIST 30       /* distance symbols a stream may use */
#define WSX_DFL_NCLEN 19       /* code-length symbols */
#define WSX_DFL_END 256        /* end-of-block symbol */

/* RFC 1951 §3.2.5: base and extra bits of length codes 257..285 and of
 * distance codes 0..29. */
extern const uint16_t wsx__dfl_len_base[29];
extern const uint8_t wsx__dfl_len_extra[29];
extern const uint16_t wsx__dfl_dist_base[30];
extern const uint8_t wsx__dfl_dist_extra[30];
/* RFC 1951 §3.2.7: the order in which code-length code lengths are sent. */
extern const uint8_t wsx__dfl_clen_order[WSX_DFL_NCLEN];

/* The low n bits of code (n <= 16), reversed: DEFLATE sends Huffman codes starting
 * from their most significant bit but packs bits from the least
 * significant end of each byte (RFC 1951 §3.1.1). */
static inline uint32_t wsx__dfl_bitrev(uint32_t code, unsigned n)
{
    /* Swap halves of ever larger groups: 16 bits in four steps. */
    code = ((code >> 1) & 0x5555u) | ((code & 0x5555u) << 1);
    code = ((code >> 2) & 0x3333u) | ((code & 0x3333u) << 2);
    code = ((code >> 4) & 0x0f0fu) | ((code & 0x0f0fu) << 4);
    code = ((code >> 8) & 0x00ffu) | ((code & 0x00ffu) << 8);
    return code >> (16 - n);
}

/* Index of the highest set bit of v (v > 0). */
static inline unsigned wsx_dfl_log2(uint32_t v)
{
#if defined(__GNUC__)
    return 31u - (unsigned)__builtin_clz(v);
#else
    unsigned n = 0;
    while (v >>= 1)
        n++;
    return n;
#endif
}

/* Length 3..258 to its code index 0..28 (symbol 257 + index): a table,
 * as every match costs this twice (its frequency, then its code). */
extern const uint8_t wsx__dfl_len_codes[256];
static inline unsigned wsx__dfl_len_code(unsigned len)
{
    return wsx__dfl_len_codes[len - WSX_DFL_MIN_MATCH];
}

/* Distance 1..32768 to its code 0..29. */
static inline unsigned wsx__dfl_dist_code(unsigned dist)
{
    unsigned v = dist - 1;
    if (v < 4)
        return v;
    unsigned b = wsx_dfl_log2(v);
    return 2 * b + ((v >> (b - 1)) & 1u);
}

#endif
