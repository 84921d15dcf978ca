/* dfl_tables.c - constants of the DEFLATE format (RFC 1951 §3.2.5 length
 * and distance codes, §3.2.7 code-length order). */
#include "dfl_tables.h"

const uint16_t wsx__dfl_len_base[29] = {
    3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
    31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
const uint8_t wsx__dfl_len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1,
                                       1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
                                       4, 4, 4, 4, 5, 5, 5, 5, 0};
/* Runs of 2^k lengths share a code; 227..257 is one short of 32, as 258
 * has a code of its own. */
#define R2(c) c, c
#define R4(c) R2(c), R2(c)
#define R8(c) R4(c), R4(c)
#define R16(c) R8(c), R8(c)
#define R32(c) R16(c), R16(c)
const uint8_t wsx__dfl_len_codes[256] = {
    0, 1, 2, 3, 4, 5, 6, 7,                     /* 3..10 */
    R2(8), R2(9), R2(10), R2(11),               /* 11..18 */
    R4(12), R4(13), R4(14), R4(15),             /* 19..34 */
    R8(16), R8(17), R8(18), R8(19),             /* 35..66 */
    R16(20), R16(21), R16(22), R16(23),         /* 67..130 */
    R32(24), R32(25), R32(26),                  /* 131..226 */
    R16(27), R8(27), R4(27), R2(27), 27,        /* 227..257 */
    28};                                        /* 258 */
#undef R32
#undef R16
#undef R8
#undef R4
#undef R2
const uint16_t wsx__dfl_dist_base[30] = {
    1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,   97,    129,
    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
const uint8_t wsx__dfl_dist_extra[30] = {0, 0, 0, 0, 1, 1, 2,  2,  3,  3,
                                        4, 4, 5, 5, 6, 6, 7,  7,  8,  8,
                                        9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
const uint8_t wsx__dfl_clen_order[WSX_DFL_NCLEN] = {
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
