/* deflate_bits.h - a bit writer for the DEFLATE streams (RFC 1951) the
 * inflate tests make by hand: put() packs from the least significant bit,
 * put_code() sends a Huffman code from its top bit, fixed_sym() one
 * literal/length symbol of the fixed code (§3.2.6). It grows as it
 * goes: start from {0}, free(w.b) after. */
#ifndef WSX_TEST_DEFLATE_BITS_H
#define WSX_TEST_DEFLATE_BITS_H

#include <stdint.h>
#include <stdlib.h>

#include "test.h"

typedef struct bits_out {
    uint8_t *b;
    size_t n, cap;
    unsigned bit;
} bits_out;

static void put(bits_out *w, uint32_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++, v >>= 1) {
        if (!w->bit) {
            if (w->n == w->cap) {
                uint8_t *b = realloc(w->b, w->cap * 2 + 4096);
                CHECK(b != NULL);
                if (!b)
                    abort();
                w->b = b;
                w->cap = w->cap * 2 + 4096;
            }
            w->b[w->n++] = 0;
        }
        w->b[w->n - 1] |= (uint8_t)((v & 1u) << w->bit);
        w->bit = (w->bit + 1) & 7;
    }
}

static void put_code(bits_out *w, uint32_t c, unsigned len)
{
    while (len--)
        put(w, (c >> len) & 1u, 1);
}

static void fixed_sym(bits_out *w, unsigned sym)
{
    if (sym < 144)
        put_code(w, 0x30 + sym, 8);
    else if (sym < 256)
        put_code(w, 0x190 + sym - 144, 9);
    else if (sym < 280)
        put_code(w, sym - 256, 7);
    else
        put_code(w, 0xc0 + sym - 280, 8);
}

#endif
