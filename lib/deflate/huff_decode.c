/* huff_decode.c - builds the inflater's canonical Huffman tables
 * (RFC 1951 §3.2.2) and walks codes longer than the lookup table. */
#include <string.h>

#include "dfl_tables.h"
#include "huff_decode.h"
#include "wsx.h"

/* A symbol with `extra` bits after its code of `len` bits. */
static uint32_t base_entry(unsigned value, unsigned len, unsigned extra)
{
    return (uint32_t)value << 16 | len << 8 | (len + extra);
}

static uint32_t entry_of(int alphabet, unsigned sym, unsigned len)
{
    uint32_t bad = WSX_HD_EXC | len << 8 | len;
    switch (alphabet) {
    case WSX_HD_ALPHA_LIT:
        if (sym < 256)
            return WSX_HD_LIT | base_entry(sym, len, 0);
        if (sym == WSX_DFL_END)
            return WSX_HD_END | bad;
        if (sym < WSX_DFL_NLIT)
            return base_entry(wsx__dfl_len_base[sym - 257], len,
                              wsx__dfl_len_extra[sym - 257]);
        return bad;
    case WSX_HD_ALPHA_DIST:
        if (sym < WSX_DFL_NDIST)
            return base_entry(wsx__dfl_dist_base[sym], len, wsx__dfl_dist_extra[sym]);
        return bad;
    default:
        /* RFC 1951 §3.2.7: 16 repeats 3-6 times (2 extra bits), 17 puts
         * 3-10 zeros (3 bits), 18 puts 11-138 zeros (7 bits). */
        return base_entry(sym, len, sym < 16 ? 0 : sym == 16 ? 2 : sym == 17 ? 3 : 7);
    }
}

/* The successor of a len-bit code, both bit-reversed: the carry runs
 * from the top bit down. */
static uint32_t rev_next(uint32_t rev, unsigned len)
{
    uint32_t b = 1u << (len - 1);
    while (rev & b) {
        rev ^= b;
        b >>= 1;
    }
    return rev | b;
}

int wsx__hdec_build(wsx_hdec *h, const uint8_t *lens, unsigned n, int alphabet,
                   unsigned root)
{
    uint16_t offs[16];
    unsigned codes = 0;
    memset(h->count, 0, sizeof h->count);
    for (unsigned i = 0; i < n; i++)
        h->count[lens[i]]++;
    h->count[0] = 0;
    /* Kraft sum: `left` is how many codes of the current length remain. */
    int left = 1;
    h->maxlen = 0;
    for (unsigned len = 1; len <= WSX_DFL_MAX_BITS; len++) {
        left = 2 * left - h->count[len];
        if (left < 0)
            return WSX_EPROTO; /* over-subscribed */
        codes += h->count[len];
        if (h->count[len])
            h->maxlen = len;
    }
    /* Slots no code of root bits or fewer fills: prefixes of longer codes
     * in a complete code, missing codes in an allowed incomplete one. */
    uint32_t unfilled = WSX_HD_EXC | WSX_HD_LONG;
    if (left > 0) {
        bool single = codes == 1 && h->count[1] == 1;
        bool empty = codes == 0;
        if (alphabet == WSX_HD_ALPHA_CLEN ||
            !(single || (empty && alphabet == WSX_HD_ALPHA_DIST)))
            return WSX_EPROTO; /* incomplete */
        unfilled = single ? WSX_HD_EXC | 1u << 8 | 1u : WSX_HD_EXC;
    }
    offs[1] = 0;
    for (unsigned len = 1; len < WSX_DFL_MAX_BITS; len++)
        offs[len + 1] = (uint16_t)(offs[len] + h->count[len]);
    for (unsigned sym = 0; sym < n; sym++)
        if (lens[sym])
            h->sorted[offs[lens[sym]]++] = entry_of(alphabet, sym, lens[sym]);

    /* Fill the table one length at a time: the entries of the codes up to
     * len - 1 bits, doubled, stand for every len-bit index they prefix;
     * then the codes of len bits take their own slots. Each slot is thus
     * written once per length instead of once per code it matches; what
     * no code of root bits fills is set last. */
    h->root = root;
    uint32_t code = 0, rev = 0; /* rev: code's bits reversed (RFC 1951 §3.1.1) */
    unsigned idx = 0;
    for (unsigned len = 1; len <= root; len++, code <<= 1) {
        if (len > 1)
            memcpy(h->table + (1u << (len - 1)), h->table, sizeof *h->table << (len - 1));
        for (unsigned k = 0; k < h->count[len]; k++, idx++, code++) {
            h->table[rev] = h->sorted[idx];
            rev = rev_next(rev, len);
        }
    }
    /* The root-bit values from the next code on are unfilled (appending
     * a zero bit to a code leaves its reversed value as it is). */
    for (uint32_t c = code >> 1; c < 1u << root; c++) {
        h->table[rev] = unfilled;
        rev = rev_next(rev, root);
    }
    /* Where the walk of a longer code starts: the first code of length
     * root + 1 and how many codes are shorter. */
    h->first_long = code;
    h->index_long = idx;
    return 0;
}

int wsx__hdec_slow(const wsx_hdec *h, uint64_t bits, unsigned nbits,
                  uint32_t *e)
{
    /* The table ruled out every code of root bits or fewer, so the walk
     * starts one bit further. Canonical codes of one length are
     * consecutive integers, and the first code of length len+1 is (last
     * code of len + 1) * 2. */
    unsigned len = h->root + 1;
    if (len > nbits)
        return 0;
    int32_t code = (int32_t)wsx__dfl_bitrev((uint32_t)bits & ((1u << h->root) - 1u), h->root);
    int32_t first = (int32_t)h->first_long, index = (int32_t)h->index_long;
    for (; len <= h->maxlen; len++) {
        if (len > nbits)
            return 0;
        code = code << 1 | (int32_t)((bits >> (len - 1)) & 1u);
        int32_t count = h->count[len];
        if (code - first < count) {
            *e = h->sorted[index + code - first];
            return 1;
        }
        index += count;
        first = (first + count) << 1;
    }
    return -1;
}
