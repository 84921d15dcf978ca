/* deflate_block.c - writes the deflater's LZ77 symbols as one DEFLATE
 * block (RFC 1951 §3.2.3): stored (§3.2.4), fixed (§3.2.6) or dynamic
 * Huffman (§3.2.7), whichever is smallest, through a 64-bit bit writer
 * that hands full output buffers to emit. */
#include <string.h>

#include "deflate_int.h"
#include "huff_encode.h"

#define NSEQ (WSX_DFL_NLIT + WSX_DFL_NDIST)

static int flush_out(wsx_deflater *s)
{
    if (!s->out_len)
        return 0;
    uint32_t n = s->out_len;
    s->out_len = 0;
    return s->emit(s->ctx, s->out, n);
}

/* Make room for n more output bytes. */
static int reserve(wsx_deflater *s, uint32_t n)
{
    return s->out_cap - s->out_len < n ? flush_out(s) : 0;
}

/* Append the n low bits of v (n <= 32); 4 bytes of room needed. */
static void put(wsx_deflater *s, uint32_t v, unsigned n)
{
    s->bits |= (uint64_t)v << s->nbits;
    s->nbits += n;
    if (s->nbits >= 32) {
        uint8_t *o = s->out + s->out_len;
        o[0] = (uint8_t)s->bits;
        o[1] = (uint8_t)(s->bits >> 8);
        o[2] = (uint8_t)(s->bits >> 16);
        o[3] = (uint8_t)(s->bits >> 24);
        s->out_len += 4;
        s->bits >>= 32;
        s->nbits -= 32;
    }
}

/* Pad to a byte boundary and move every buffered bit to the output. */
static void align(wsx_deflater *s)
{
    put(s, 0, (8 - (s->nbits & 7)) & 7);
    for (; s->nbits; s->nbits -= 8, s->bits >>= 8)
        s->out[s->out_len++] = (uint8_t)s->bits;
}

/* RFC 1951 §3.2.7: run-length code the code lengths with 16 (repeat the
 * previous 3-6 times), 17 (3-10 zeros) and 18 (11-138 zeros). Symbols go
 * to sym[], their extra-bit values to ext[]; returns how many. */
static unsigned rle_lengths(const uint8_t *seq, unsigned n, uint8_t *sym,
                            uint8_t *ext, uint32_t *freq)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n;) {
        uint8_t v = seq[i];
        unsigned run = 1, r;
        while (i + run < n && seq[i + run] == v)
            run++;
        i += run;
        if (v == 0) {
            for (; run >= 11; run -= r) {
                r = run < 138 ? run : 138;
                sym[k] = 18;
                ext[k++] = (uint8_t)(r - 11);
            }
            if (run >= 3) {
                sym[k] = 17;
                ext[k++] = (uint8_t)(run - 3);
                run = 0;
            }
        } else {
            sym[k] = v;
            ext[k++] = 0;
            for (run--; run >= 3; run -= r) {
                r = run < 6 ? run : 6;
                sym[k] = 16;
                ext[k++] = (uint8_t)(r - 3);
            }
        }
        for (; run; run--) {
            sym[k] = v;
            ext[k++] = 0;
        }
    }
    for (unsigned i = 0; i < k; i++)
        freq[sym[i]]++;
    return k;
}

static unsigned clen_extra(unsigned sym)
{
    return sym < 16 ? 0 : sym == 16 ? 2 : sym == 17 ? 3 : 7;
}

static unsigned fixed_len(unsigned sym)
{
    return sym < 144 ? 8 : sym < 256 ? 9 : sym < 280 ? 7 : 8;
}

/* The dynamic block's trees and their header, built before sizing. */
typedef struct trees {
    uint8_t llen[288], dlen[WSX_DFL_NDIST], clen[WSX_DFL_NCLEN];
    uint16_t lcode[288], dcode[WSX_DFL_NDIST], ccode[WSX_DFL_NCLEN];
    uint8_t rle[NSEQ], rext[NSEQ];
    unsigned hlit, hdist, hclen, nrle;
} trees;

/* Build the dynamic trees; return the block's size in bits. */
static uint64_t build_dynamic(const wsx_deflater *s, trees *t)
{
    uint8_t seq[NSEQ];
    uint32_t cfreq[WSX_DFL_NCLEN] = {0};
    wsx__huff_lengths(s->lfreq, WSX_DFL_NLIT, WSX_DFL_MAX_BITS, t->llen);
    wsx__huff_lengths(s->dfreq, WSX_DFL_NDIST, WSX_DFL_MAX_BITS, t->dlen);
    for (t->hlit = WSX_DFL_NLIT; t->hlit > 257 && !t->llen[t->hlit - 1]; t->hlit--)
        ;
    for (t->hdist = WSX_DFL_NDIST; t->hdist > 1 && !t->dlen[t->hdist - 1]; t->hdist--)
        ;
    memcpy(seq, t->llen, t->hlit);
    memcpy(seq + t->hlit, t->dlen, t->hdist);
    t->nrle = rle_lengths(seq, t->hlit + t->hdist, t->rle, t->rext, cfreq);
    wsx__huff_lengths(cfreq, WSX_DFL_NCLEN, WSX_DFL_CLEN_BITS, t->clen);
    for (t->hclen = WSX_DFL_NCLEN; t->hclen > 4 && !t->clen[wsx__dfl_clen_order[t->hclen - 1]];
         t->hclen--)
        ;
    uint64_t bits = 3 + 14 + 3 * (uint64_t)t->hclen;
    for (unsigned i = 0; i < t->nrle; i++)
        bits += t->clen[t->rle[i]] + clen_extra(t->rle[i]);
    for (unsigned i = 0; i < WSX_DFL_NLIT; i++)
        bits += (uint64_t)s->lfreq[i] * t->llen[i];
    for (unsigned i = 0; i < WSX_DFL_NDIST; i++)
        bits += (uint64_t)s->dfreq[i] * t->dlen[i];
    return bits;
}

static int write_stored(wsx_deflater *s, bool last)
{
    uint32_t left = s->block_bytes;
    const uint8_t *p = s->buf + s->block_start;
    do {
        uint32_t n = left < 65535 ? left : 65535;
        left -= n;
        int r = reserve(s, 16);
        if (r)
            return r;
        put(s, last && !left, 1);
        put(s, 0, 2);
        align(s);
        put(s, n, 16);
        put(s, n ^ 0xffffu, 16);
        if ((r = flush_out(s)) != 0 || (n && (r = s->emit(s->ctx, p, n)) != 0))
            return r;
        p += n;
    } while (left);
    return 0;
}

/* Store the 8 bytes of v at o, least significant first. */
static void store_le64(uint8_t *o, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(o, &v, 8);
#else
    for (unsigned i = 0; i < 8; i++)
        o[i] = (uint8_t)(v >> 8 * i);
#endif
}

/* The block's symbols, with the bit writer in local variables: through
 * s, every byte stored could alias s->bits, so the compiler would reload
 * and store it around each one. After each symbol (at most 48 bits) the
 * whole bytes leave in one 8-byte store, which 16 bytes of room allow. */
static int write_symbols(wsx_deflater *s, const trees *t)
{
    uint64_t bits = s->bits;
    unsigned nbits = s->nbits;
    uint8_t *o = s->out + s->out_len, *oend = s->out + s->out_cap - 16;
    for (; nbits >= 8; nbits -= 8, bits >>= 8)
        *o++ = (uint8_t)bits;
    const uint8_t *sy = s->syms, *syend = sy + 3 * (size_t)s->nsyms;
    for (; sy < syend; sy += 3) {
        if (o > oend) {
            s->out_len = (uint32_t)(o - s->out);
            int r = flush_out(s);
            if (r)
                return r;
            o = s->out;
        }
        unsigned dist = sy[1] | (unsigned)sy[2] << 8;
        if (!dist) {
            bits |= (uint64_t)t->lcode[sy[0]] << nbits;
            nbits += t->llen[sy[0]];
        } else {
            unsigned len = sy[0] + WSX_DFL_MIN_MATCH, lc = wsx__dfl_len_code(len);
            unsigned ls = 257 + lc, dc = wsx__dfl_dist_code(dist);
            bits |= (uint64_t)(t->lcode[ls] | (len - wsx__dfl_len_base[lc]) << t->llen[ls])
                    << nbits;
            nbits += t->llen[ls] + wsx__dfl_len_extra[lc];
            bits |= (uint64_t)(t->dcode[dc] | (dist - wsx__dfl_dist_base[dc]) << t->dlen[dc])
                    << nbits;
            nbits += t->dlen[dc] + wsx__dfl_dist_extra[dc];
        }
        store_le64(o, bits);
        o += nbits >> 3;
        bits >>= nbits & ~7u;
        nbits &= 7;
    }
    s->bits = bits;
    s->nbits = nbits;
    s->out_len = (uint32_t)(o - s->out);
    return 0;
}

static int write_huffman(wsx_deflater *s, const trees *t, bool dynamic,
                         bool last)
{
    int r = reserve(s, 16);
    if (r)
        return r;
    put(s, (unsigned)last | (dynamic ? 2u : 1u) << 1, 3);
    if (dynamic) {
        put(s, t->hlit - 257, 5);
        put(s, t->hdist - 1, 5);
        put(s, t->hclen - 4, 4);
        for (unsigned i = 0; i < t->hclen; i++) {
            if ((r = reserve(s, 8)) != 0)
                return r;
            put(s, t->clen[wsx__dfl_clen_order[i]], 3);
        }
        for (unsigned i = 0; i < t->nrle; i++) {
            if ((r = reserve(s, 8)) != 0)
                return r;
            unsigned sym = t->rle[i];
            put(s, t->ccode[sym], t->clen[sym]);
            put(s, t->rext[i], clen_extra(sym));
        }
    }
    if ((r = write_symbols(s, t)) != 0 || (r = reserve(s, 8)) != 0)
        return r;
    put(s, t->lcode[WSX_DFL_END], t->llen[WSX_DFL_END]);
    return 0;
}

/* Bits of the extra bits after length and distance codes, which every
 * Huffman block pays alike. */
static uint64_t extra_bits(const wsx_deflater *s)
{
    uint64_t extra = 0;
    for (unsigned i = 0; i < 29; i++)
        extra += (uint64_t)s->lfreq[257 + i] * wsx__dfl_len_extra[i];
    for (unsigned i = 0; i < WSX_DFL_NDIST; i++)
        extra += (uint64_t)s->dfreq[i] * wsx__dfl_dist_extra[i];
    return extra;
}

/* Sum of freq[from..to). */
static uint64_t count(const uint32_t *freq, unsigned from, unsigned to)
{
    uint64_t n = 0;
    for (unsigned i = from; i < to; i++)
        n += freq[i];
    return n;
}

static uint64_t fixed_bits(const wsx_deflater *s)
{
    /* RFC 1951 §3.2.6: 8 bits for 0-143, 9 for 144-255, 7 for 256-279
     * (the end of block counted once), 8 for 280-287, 5 per distance. */
    const uint32_t *f = s->lfreq;
    return 3 + 8 * count(f, 0, 144) + 9 * count(f, 144, 256) + 7 * (count(f, 257, 280) + 1) +
           8 * count(f, 280, WSX_DFL_NLIT) + 5 * count(s->dfreq, 0, WSX_DFL_NDIST) +
           extra_bits(s);
}

/* Each 64 KiB piece of a stored block costs a header, padding and
 * LEN/NLEN: at most 42 bits. */
static uint64_t stored_bits(const wsx_deflater *s)
{
    return (uint64_t)(s->block_bytes / 65535 + 1) * 42 + 8 * (uint64_t)s->block_bytes;
}

bool wsx__dfl_stored_wins(const wsx_deflater *s)
{
    return s->nsyms && stored_bits(s) <= fixed_bits(s);
}

void wsx__dfl_init_fixed(wsx_deflater *s)
{
    /* RFC 1951 §3.2.6; the unused symbols 286/287 still take their place
     * in the canonical order. */
    uint8_t len[288];
    for (unsigned i = 0; i < 288; i++)
        len[i] = (uint8_t)fixed_len(i);
    wsx__huff_codes(len, 288, s->fixed_lcode);
}

int wsx__dfl_write_block(wsx_deflater *s, bool last)
{
    trees t;
    s->lfreq[WSX_DFL_END] = 1;
    uint64_t dyn = build_dynamic(s, &t) + extra_bits(s), fix = fixed_bits(s);
    /* Stored needs the block's bytes still in the buffer. */
    uint64_t stored = s->block_start >= 0 ? stored_bits(s) : UINT64_MAX;

    int r;
    if (stored <= fix && stored <= dyn) {
        r = write_stored(s, last);
    } else if (fix <= dyn) {
        for (unsigned i = 0; i < WSX_DFL_NLIT; i++)
            t.llen[i] = (uint8_t)fixed_len(i);
        memcpy(t.lcode, s->fixed_lcode, sizeof t.lcode);
        for (unsigned i = 0; i < WSX_DFL_NDIST; i++) {
            t.dlen[i] = 5;
            t.dcode[i] = (uint16_t)wsx__dfl_bitrev(i, 5);
        }
        r = write_huffman(s, &t, false, last);
    } else {
        wsx__huff_codes(t.llen, WSX_DFL_NLIT, t.lcode);
        wsx__huff_codes(t.dlen, WSX_DFL_NDIST, t.dcode);
        wsx__huff_codes(t.clen, WSX_DFL_NCLEN, t.ccode);
        r = write_huffman(s, &t, true, last);
    }
    memset(s->lfreq, 0, sizeof s->lfreq);
    memset(s->dfreq, 0, sizeof s->dfreq);
    s->nsyms = 0;
    s->block_start += (int32_t)s->block_bytes;
    s->block_bytes = 0;
    return r;
}

int wsx__dfl_sync(wsx_deflater *s, wsx_flush flush)
{
    int r = reserve(s, 16);
    if (r)
        return r;
    if (flush != WSX_FLUSH_FINISH) {
        put(s, 0, 3); /* an empty stored block, not final */
        align(s);
        if (flush == WSX_FLUSH_SYNC) {
            put(s, 0, 16);
            put(s, 0xffffu, 16);
        }
    } else {
        align(s);
    }
    return flush_out(s);
}
