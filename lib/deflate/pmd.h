/* pmd.h - permessage-deflate negotiation internals (RFC 7692 §7.1):
 * parsing Sec-WebSocket-Extensions elements and their parameters. */
#ifndef WSX_PMD_H
#define WSX_PMD_H

#include "wsx_deflate.h"

#define WSX_PMD_NAME "permessage-deflate"

/* The parameters of one permessage-deflate element. Window bits: 0 when
 * absent, 8..15, or (client_max_window_bits in an offer only)
 * WSX_PMD_NOVALUE when present without a value. */
#define WSX_PMD_NOVALUE (-1)
typedef struct wsx_pmd_params {
    bool server_no_context_takeover;
    bool client_no_context_takeover;
    int server_max_window_bits;
    int client_max_window_bits;
} wsx_pmd_params;

/* Parse one element. Returns 1 for a valid permessage-deflate element
 * (into *p), 0 for an element naming another extension, or WSX_EEXT for a
 * permessage-deflate element that RFC 7692 §7.1 makes unacceptable
 * (malformed, unknown or repeated parameter, bad value) or for a
 * malformed element. `offer` allows client_max_window_bits without a
 * value (RFC 7692 §7.1.2.2). */
int wsx__pmd_parse(const char *e, size_t len, bool offer, wsx_pmd_params *p);

/* Write "permessage-deflate" and p's parameters (window bits only when
 * nonzero; WSX_PMD_NOVALUE gives the bare name) into out[0..cap) with a
 * NUL. Returns the length or WSX_ENOSPC. */
int wsx__pmd_format(char *out, size_t cap, const wsx_pmd_params *p);

#endif
