/* deflate_int.h - the deflater's state, shared by deflate.c (LZ77 match
 * finding, RFC 1951 §4) and deflate_block.c (block encoding, §3.2). */
#ifndef WSX_DEFLATE_INT_H
#define WSX_DEFLATE_INT_H

#include "dfl_tables.h"
#include "wsx_deflate.h"

struct wsx_deflater {
    wsx_allocator alloc;
    size_t size;           /* of the single allocation */
    uint8_t *buf;          /* bufsize bytes: history, then lookahead */
    uint16_t *head;        /* 2^hbits: latest position of each hash */
    uint16_t *prev;        /* wsize: previous position with the same hash */
    uint8_t *syms;         /* 3 bytes per symbol of the open block */
    uint8_t *out;          /* out_cap bytes of encoded output */
    uint32_t wsize, bufsize, hbits;
    uint32_t pos;          /* next byte to encode */
    uint32_t end;          /* end of the input in buf */
    uint32_t msg_start;    /* matches may not reach before this */
    int32_t block_start;   /* first byte of the open block (may slide out) */
    uint32_t block_bytes;  /* input bytes the open block's symbols cover */
    uint32_t nsyms, max_syms;
    uint32_t prev_len, prev_dist; /* lazy matching: the match at pos - 1 */
    bool prev_avail;              /* buf[pos - 1] is not encoded yet */
    bool lazy;
    bool finished;
    uint16_t good, max_lazy, nice, chain;
    uint64_t bits;         /* bit writer */
    unsigned nbits;
    uint32_t out_len, out_cap;
    int err;
    wsx_emit_fn emit;
    void *ctx;
    uint32_t lfreq[WSX_DFL_NLIT];
    uint32_t dfreq[WSX_DFL_NDIST];
    uint16_t fixed_lcode[288];   /* RFC 1951 §3.2.6, built once */
};

/* Build the fixed literal/length codes into s (once, at creation). */
void wsx__dfl_init_fixed(wsx_deflater *s);

/* Encode the open block's symbols as the smallest of a stored, fixed or
 * dynamic block (BFINAL if last) and start a new one. 0 or emit's error. */
int wsx__dfl_write_block(wsx_deflater *s, bool last);
/* True when the open block would be smaller stored than with the fixed
 * code: worth writing before its bytes slide out of the buffer. */
bool wsx__dfl_stored_wins(const wsx_deflater *s);
/* Finish a flush after the open block was written: SYNC appends an
 * empty stored block (RFC 1951 §3.2.4) ending in 00 00 ff ff, MESSAGE the
 * same without those 4 bytes (RFC 7692 §7.2.1), FINISH only pads to a
 * byte. Then emit all output. 0 or emit's error. */
int wsx__dfl_sync(wsx_deflater *s, wsx_flush flush);

#endif
