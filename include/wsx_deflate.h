/* wsx_deflate.h - permessage-deflate (RFC 7692) for wsx, and the DEFLATE
 * codec (RFC 1951) it is built on. The codec depends on nothing but libc's
 * string.h: no zlib.
 *
 * Layers, bottom to top:
 *   1. wsx_inflater: streaming raw-DEFLATE decoder with a 2^wbits window
 *   2. wsx_deflater: streaming raw-DEFLATE encoder (LZ77 + Huffman)
 *   3. permessage-deflate: a wsx_extension table for wsx_config.extension
 *
 * Memory per connection (permessage-deflate). The handshake leaves a
 * small state (under 100 bytes); the inflater is allocated on the first
 * compressed message received, the deflater on the first message
 * compressed, each as one block, kept until the connection is freed:
 *   inflater  wsx_inflater_mem(wbits) = 2^wbits + 6.8 KiB (decode tables,
 *             and 16 bytes past the window for word-sized match copies)
 *   deflater  wsx_deflater_mem(wbits, mem_level)
 *             = 4 * 2^wbits            (history + lookahead, hash chains)
 *             + 2 * 2^min(mem_level + 7, wbits + 1)   (hash heads)
 *             + 3 * 2^(mem_level + 6)                 (block symbols)
 *             + 3.4 to 3.7 KiB         (lookahead, output buffer, state)
 * where wbits is the window agreed for that direction (RFC 7692 §7.1.2).
 * Measured, in KiB:
 *   wbits   inflater   deflater mem_level 8 / 4 / 1
 *   15        38.8        243.4 / 138.4 / 132.3
 *   12        10.8         83.7 /  26.7 /  20.5
 *   10         7.8         59.7 /  14.7 /   8.5
 *    8         7.1         53.7 /   8.7 /   5.5
 * A connection that only receives compressed messages pays the inflater
 * alone. A server that wants a hard bound sets client_max_window_bits
 * (offers that cannot honour it are declined) and server_max_window_bits.
 *
 * Thread safety: no global mutable state; one object, one thread at a time.
 */
#ifndef WSX_DEFLATE_H
#define WSX_DEFLATE_H

#include "wsx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* 1. Inflater (RFC 1951 §3.2)                                        */
/* ------------------------------------------------------------------ */

/* Window sizes a raw DEFLATE stream may use here (RFC 7692 §7.1.2). */
#define WSX_DEFLATE_WBITS_MIN 8
#define WSX_DEFLATE_WBITS_MAX 15

typedef struct wsx_inflater wsx_inflater;

/* Bytes wsx_inflater_new allocates (in one block) for a window of 2^wbits. */
WSX_API size_t wsx_inflater_mem(int wbits);

/* A decoder for raw DEFLATE (no zlib/gzip wrapper) whose distances may
 * reach back at most 2^wbits bytes, wbits in 8..15; a stream that refers
 * further back is rejected. The allocator is copied. Returns NULL when
 * wbits is out of range or the allocation fails. */
WSX_API wsx_inflater *wsx_inflater_new(const wsx_allocator *a, int wbits);
WSX_API void wsx_inflater_free(wsx_inflater *s);

/* Start a new stream. keep_window: later distances may still refer to the
 * output of earlier streams (RFC 7692 context takeover); false forgets it.
 * Clears a sticky error and the output count used by the limit. */
WSX_API void wsx_inflater_reset(wsx_inflater *s, bool keep_window);

/* Fail with WSX_ETOOBIG once the stream decodes to more than max bytes
 * (0: no limit). The check runs on every window-sized chunk before it is
 * emitted, so a compression bomb stops after at most max + 2^wbits bytes
 * of work, with no memory growth. */
WSX_API void wsx_inflater_set_limit(wsx_inflater *s, uint64_t max);

/* Decode in[0..len), any split of the stream. Decoded bytes go to emit in
 * chunks of at most 2^wbits bytes, all of them before this returns; the
 * pointer passed to emit is valid only during that call.
 * Returns 0 on success: then *used (if not NULL) is len, or, when the
 * final block (BFINAL) ended inside in, the bytes that belonged to the
 * stream (wsx_inflater_finished is then true and later calls consume
 * nothing until wsx_inflater_reset).
 * Errors (sticky until reset): WSX_EPROTO for a malformed stream (block
 * type 3, stored LEN/NLEN mismatch, an over-subscribed or incomplete code
 * (a lone one-bit code and an empty distance code are allowed, as RFC
 * 1951 §3.2.7 and zlib do; using a missing code is then the error),
 * a repeat with no previous length, too many lengths, a literal/length
 * symbol 286/287, a distance symbol 30/31, a distance beyond the window
 * or before the start of the output), WSX_ETOOBIG above the limit, or the
 * nonzero value emit returned (which stops decoding at once). */
WSX_API int wsx_inflater_run(wsx_inflater *s, const uint8_t *in, size_t len,
                             size_t *used, wsx_emit_fn emit, void *ctx);

/* True once the final block has ended. */
WSX_API bool wsx_inflater_finished(const wsx_inflater *s);

/* True when the stream is between blocks (or finished): every byte fed so
 * far is decoded and no block is open. A permessage-deflate message must
 * end there once 00 00 ff ff is appended (RFC 7692 §7.2.2). */
WSX_API bool wsx_inflater_at_boundary(const wsx_inflater *s);

/* ------------------------------------------------------------------ */
/* 2. Deflater (RFC 1951 §3.2, LZ77 with hash chains)                 */
/* ------------------------------------------------------------------ */

typedef struct wsx_deflater wsx_deflater;

typedef enum wsx_flush {
    WSX_FLUSH_NONE = 0,   /* keep input for better compression */
    WSX_FLUSH_SYNC,       /* emit everything, end with an empty stored
                             block: the output ends in 00 00 ff ff */
    WSX_FLUSH_MESSAGE,    /* the same without those 4 bytes: the end of a
                             permessage-deflate message (RFC 7692 §7.2.1) */
    WSX_FLUSH_FINISH      /* end the stream with a final (BFINAL) block */
} wsx_flush;

/* Bytes wsx_deflater_new allocates (in one block). */
WSX_API size_t wsx_deflater_mem(int wbits, int mem_level);

/* An encoder of raw DEFLATE whose distances never exceed 2^wbits (wbits
 * 8..15; unlike zlib, 8 really means 256 bytes). level 1..3 is greedy
 * matching (fast), 4..9 lazy matching (6 is the usual default), more
 * chain search for higher levels. Matches are looked for from 4 bytes up
 * (a 3-byte match seldom pays); levels 1 and 6 give smaller output than
 * zlib's on JSON and text for about two thirds of its CPU time. mem_level 1..9 sizes the hash table and
 * the block buffer (see memory above); 8 is zlib's default. Returns NULL
 * on a bad argument or allocation failure. */
WSX_API wsx_deflater *wsx_deflater_new(const wsx_allocator *a, int level,
                                       int wbits, int mem_level);
WSX_API void wsx_deflater_free(wsx_deflater *s);

/* Start a new stream. keep_window: matches may still refer to earlier
 * input (RFC 7692 context takeover). Call it after a flush other than
 * WSX_FLUSH_NONE (input not yet flushed is dropped). Clears a sticky
 * error. */
WSX_API void wsx_deflater_reset(wsx_deflater *s, bool keep_window);

/* Compress in[0..len) and, with a flush, everything before it. Output
 * goes to emit in pieces; with WSX_FLUSH_NONE some of it may stay inside
 * until a later flush. After WSX_FLUSH_FINISH only wsx_deflater_reset is
 * allowed (other calls return WSX_ESTATE).
 * Returns 0, WSX_EINVAL for a bad flush value, or the nonzero value emit
 * returned (sticky until reset: the stream is then unusable). */
WSX_API int wsx_deflater_run(wsx_deflater *s, const uint8_t *in, size_t len,
                             wsx_flush flush, wsx_emit_fn emit, void *ctx);

/* ------------------------------------------------------------------ */
/* 3. permessage-deflate (RFC 7692 §7)                                */
/* ------------------------------------------------------------------ */

/* Negotiation policy and compression settings. In the server role the
 * *_max_window_bits are the largest windows the server accepts (it
 * answers with the smaller of its own and the client's value; an offer
 * without client_max_window_bits is declined when client_max_window_bits
 * is below 15, since the client would then use 15) and the
 * no_context_takeover flags are forced on in the answer when set. In the
 * client role they are what the client asks for: the offer is
 *   permessage-deflate[; server_no_context_takeover]
 *     [; client_no_context_takeover][; server_max_window_bits=N]
 *     ; client_max_window_bits[=N]
 * where a window parameter appears with a value only when below 15. */
typedef struct wsx_deflate_config {
    size_t size;                /* set by wsx_deflate_config_init: ABI growth */
    bool server_no_context_takeover;
    bool client_no_context_takeover;
    int server_max_window_bits; /* 8..15 */
    int client_max_window_bits; /* 8..15 */
    int level;                  /* 1..9, for messages we send */
    int mem_level;              /* 1..9, see the memory table above */
    size_t threshold;           /* a whole message shorter than this is sent
                                   uncompressed; messages sent with
                                   wsx_send_fragment are always compressed */
} wsx_deflate_config;

/* Defaults: context takeover both ways, windows 15, level 6, mem_level 8,
 * threshold 64. Use the macro: it records the caller's sizeof so that
 * later versions can grow the struct. */
WSX_API void wsx_deflate_config_init_(wsx_deflate_config *c, size_t size);
#define wsx_deflate_config_init(c) wsx_deflate_config_init_((c), sizeof *(c))

/* The extension table to put in wsx_config.extension, with a
 * wsx_deflate_config (or NULL for the defaults) in
 * wsx_config.extension_config, which must outlive the connection.
 *   server_accept: takes the first acceptable permessage-deflate offer of
 *     the request's Sec-WebSocket-Extensions value; offers with unknown or
 *     repeated parameters, bad values (not 8..15, leading zeros, a value on
 *     a valueless parameter) are declined (RFC 7692 §7.1). Returns 1 with
 *     the answer in resp (160 bytes always suffice), 0 when no offer is
 *     acceptable, WSX_EINVAL for a bad config, WSX_ENOSPC, WSX_ENOMEM.
 *   client_offer: returns the offer's length, or WSX_ENOSPC / WSX_EINVAL.
 *   client_accept: the response must be exactly one permessage-deflate
 *     element that answers the offer; anything else is WSX_EEXT.
 *   decode: inflates a message piece by piece and appends 00 00 ff ff at
 *     fin (RFC 7692 §7.2.2). A BFINAL block may end the data (§7.2.3.4):
 *     what follows it starts a new stream over the same window. Returns
 *     WSX_EPROTO for corrupt data (a distance beyond the agreed window or,
 *     without context takeover, into an earlier message, a message that
 *     does not end on a block boundary), WSX_ENOMEM, or emit's nonzero
 *     value.
 *   encode: compresses; a message's last piece ends with a sync flush
 *     whose 00 00 ff ff is removed (RFC 7692 §7.2.1), earlier pieces with a
 *     full sync flush so that each frame can be decoded on arrival. An
 *     empty message becomes the single byte 00. */
WSX_API const wsx_extension *wsx_permessage_deflate(void);

#ifdef __cplusplus
}
#endif
#endif /* WSX_DEFLATE_H */
