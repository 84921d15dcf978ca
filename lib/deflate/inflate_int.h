/* inflate_int.h - the inflater's state, shared by inflate.c (the
 * streaming state machine, RFC 1951 §3.2) and inflate_fast.c (the hot
 * loop of Huffman blocks). */
#ifndef WSX_INFLATE_INT_H
#define WSX_INFLATE_INT_H

#include "dfl_tables.h"
#include "huff_decode.h"
#include "wsx_deflate.h"

#define LIT_ROOT 10 /* most literal/length codes are at most 10 bits */
#define DIST_ROOT 8
/* The window is a circle of 2^wbits + WSX_INF_SLACK bytes: the bytes just
 * ahead of the write position lie further back than any distance may
 * reach, so a match copy may run up to WSX_INF_SLACK - 1 bytes past its
 * end in whole words and never spoil history (later output overwrites
 * them before they are emitted). */
#define WSX_INF_SLACK 16

typedef enum inf_mode {
    INF_HEADER,      /* 3-bit block header */
    INF_STORED,      /* LEN and NLEN of a stored block */
    INF_STORED_COPY, /* the stored bytes */
    INF_TABLE,       /* HLIT, HDIST, HCLEN */
    INF_CLENS,       /* code-length code lengths */
    INF_LENS,        /* literal/length and distance code lengths */
    INF_LEN,         /* a literal/length symbol */
    INF_DIST,        /* a distance symbol */
    INF_COPY,        /* copying a match */
    INF_DONE,        /* the final block ended */
    INF_BAD          /* sticky error */
} inf_mode;

struct wsx_inflater {
    wsx_allocator alloc;
    uint8_t *win;
    uint32_t wsize;  /* 2^wbits: the farthest distance */
    uint32_t wend;   /* wsize + WSX_INF_SLACK: where win wraps */
    uint32_t wpos;   /* where the next byte goes */
    uint32_t epos;   /* win[epos..wpos) is decoded but not yet emitted,
                        at most wsize bytes */
    uint32_t whave;  /* bytes a distance may reach back, at most wsize */
    uint64_t bits;   /* bit buffer: nbits valid bits, higher bits zero */
    unsigned nbits;
    inf_mode mode;
    int err;
    bool last;       /* the current block has BFINAL set */
    bool fixed;      /* lit/dist tables hold the fixed code */
    bool baseline;   /* tests: the fast loop without CPU extensions */
    uint32_t len;    /* match length, or stored bytes left */
    uint32_t dist;
    uint16_t nlen, ndist, ncode, have;
    uint64_t total, limit;
    wsx_hdec lit, dist_h;
    uint32_t lit_table[1u << LIT_ROOT];
    uint32_t dist_table[1u << DIST_ROOT];
    uint32_t lit_sorted[288];
    uint32_t dist_sorted[32];
    uint8_t lens[288 + 32];
};

/* 8 input bytes, little-endian (one load where the CPU allows it). */
static inline uint64_t wsx_inflate_load64(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
           (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/* Record n more bytes of history (a distance may reach back at most the
 * window). */
static inline void wsx_inflate_history(wsx_inflater *s, uint32_t n)
{
    s->whave = s->wsize - s->whave <= n ? s->wsize : s->whave + n;
}

/* Copy a match of n bytes to win[wpos..wpos+n) (which must not wrap) from
 * dist bytes back (1 <= dist <= wsize), where the source may wrap around
 * wend, the window's end; nothing past the match is written. */
void wsx__inflate_copy(uint8_t *win, uint32_t wpos, uint32_t wend, uint32_t dist,
                      uint32_t n);

/* Decode a Huffman block while 8 input bytes and, at wpos, 258 bytes of
 * window before wsize are available (so a chunk never exceeds wsize and
 * a copy's overrun stays inside wend). Returns 0 (mode updated at the end
 * of the block) or WSX_EPROTO. */
int wsx__inflate_fast(wsx_inflater *s, const uint8_t **pp, const uint8_t *end);

#endif
