/* huff_encode.h - length-limited canonical Huffman codes for the
 * deflater (RFC 1951 §3.2.2). */
#ifndef WSX_HUFF_ENCODE_H
#define WSX_HUFF_ENCODE_H

#include <stdint.h>

/* Code lengths for freq[0..n) (n <= 288, each frequency below 2^23), no
 * longer than maxbits, into lens[0..n); unused symbols get 0. At least two
 * symbols receive a code (unused low ones are added when needed), since
 * some decoders refuse a code with one symbol. */
void wsx__huff_lengths(const uint32_t *freq, unsigned n, unsigned maxbits,
                      uint8_t *lens);

/* Canonical codes for lens[0..n) (RFC 1951 §3.2.2), bit-reversed so that
 * they can be written from the least significant bit. */
void wsx__huff_codes(const uint8_t *lens, unsigned n, uint16_t *codes);

#endif
