/* pmd.c - the permessage-deflate extension (RFC 7692 §7): negotiation in
 * both roles (§7.1) and the per-message transform (§7.2) on wsx's own
 * inflater and deflater, plugged into the core through wsx_extension. */
#include <string.h>

#include "pmd.h"

/* What the handshake agreed, seen from this endpoint: rx is what the
 * peer compresses, tx what we compress. */
typedef struct pmd {
    wsx_allocator alloc;
    wsx_inflater *rx;  /* allocated on the first compressed message */
    wsx_deflater *tx;
    size_t threshold;
    uint8_t rx_bits, tx_bits, level, mem_level;
    bool rx_reset;     /* no context takeover for the peer's messages */
    bool tx_reset;     /* no context takeover for ours */
    bool rx_open;      /* a received message is in progress */
    bool rx_ended;     /* the peer's DEFLATE stream ended (BFINAL) */
} pmd;

static const uint8_t trailer[4] = {0x00, 0x00, 0xff, 0xff};

void wsx_deflate_config_init_(wsx_deflate_config *c, size_t size)
{
    wsx_deflate_config d;
    memset(&d, 0, sizeof d);
    d.size = size < sizeof d ? size : sizeof d;
    d.server_max_window_bits = WSX_DEFLATE_WBITS_MAX;
    d.client_max_window_bits = WSX_DEFLATE_WBITS_MAX;
    d.level = 6;
    d.mem_level = 8;
    d.threshold = 64;
    memcpy(c, &d, d.size);
}

/* The caller's config over the defaults (an older, shorter struct keeps
 * the defaults of the fields it lacks); false when out of range. */
static bool load_config(const void *cfg, wsx_deflate_config *c)
{
    wsx_deflate_config_init(c);
    if (cfg) {
        size_t size = ((const wsx_deflate_config *)cfg)->size;
        if (size < sizeof c->size || size > sizeof *c)
            return false;
        memcpy(c, cfg, size);
    }
    return c->server_max_window_bits >= WSX_DEFLATE_WBITS_MIN &&
           c->server_max_window_bits <= WSX_DEFLATE_WBITS_MAX &&
           c->client_max_window_bits >= WSX_DEFLATE_WBITS_MIN &&
           c->client_max_window_bits <= WSX_DEFLATE_WBITS_MAX && c->level >= 1 &&
           c->level <= 9 && c->mem_level >= 1 && c->mem_level <= 9;
}

static int make_state(const wsx_deflate_config *c, const wsx_allocator *a,
                      int rx_bits, bool rx_reset, int tx_bits, bool tx_reset,
                      void **state)
{
    pmd *p = a->malloc(sizeof *p, a->user);
    if (!p)
        return WSX_ENOMEM;
    memset(p, 0, sizeof *p);
    p->alloc = *a;
    p->threshold = c->threshold;
    p->rx_bits = (uint8_t)rx_bits;
    p->tx_bits = (uint8_t)tx_bits;
    p->rx_reset = rx_reset;
    p->tx_reset = tx_reset;
    p->level = (uint8_t)c->level;
    p->mem_level = (uint8_t)c->mem_level;
    *state = p;
    return 0;
}

static int min_bits(int a, int b)
{
    return a < b ? a : b;
}

/* RFC 7692 §7.1: answer one offer, or return 0 to decline it. */
static int answer(const wsx_deflate_config *c, const wsx_pmd_params *o,
                  wsx_pmd_params *r)
{
    memset(r, 0, sizeof *r);
    /* §7.1.1: either flag may be in a response whether offered or not;
     * an offered server_no_context_takeover must be accepted, and an
     * offered client_no_context_takeover is acknowledged (the client
     * promised it; saying so lets us reset our inflater). */
    r->server_no_context_takeover = c->server_no_context_takeover || o->server_no_context_takeover;
    r->client_no_context_takeover = c->client_no_context_takeover || o->client_no_context_takeover;
    /* §7.1.2.1: the answer must not exceed an offered value; without
     * one, the server may still announce a smaller window. */
    if (o->server_max_window_bits)
        r->server_max_window_bits = min_bits(c->server_max_window_bits, o->server_max_window_bits);
    else if (c->server_max_window_bits < WSX_DEFLATE_WBITS_MAX)
        r->server_max_window_bits = c->server_max_window_bits;
    /* §7.1.2.2: client_max_window_bits may be answered only when offered;
     * if it was not, the client may use 15 bits, which a server limited
     * to fewer cannot accept. */
    if (!o->client_max_window_bits) {
        if (c->client_max_window_bits < WSX_DEFLATE_WBITS_MAX)
            return 0;
    } else {
        int offered = o->client_max_window_bits == WSX_PMD_NOVALUE
                          ? WSX_DEFLATE_WBITS_MAX
                          : o->client_max_window_bits;
        int bits = min_bits(c->client_max_window_bits, offered);
        if (bits < WSX_DEFLATE_WBITS_MAX)
            r->client_max_window_bits = bits;
    }
    return 1;
}

static int bits_or_max(int bits)
{
    return bits > 0 ? bits : WSX_DEFLATE_WBITS_MAX;
}

static int pmd_server_accept(const void *cfg, const char *offer, size_t len,
                             char *resp, size_t cap, void **state,
                             const wsx_allocator *a)
{
    wsx_deflate_config c;
    if (!load_config(cfg, &c))
        return WSX_EINVAL;
    const char *e;
    size_t elen, pos = 0;
    wsx_pmd_params o, r;
    /* The first acceptable permessage-deflate offer wins (RFC 7692 §5);
     * unacceptable ones are declined one by one (§7.1). */
    while (wsx_http_list_next(offer, len, &pos, &e, &elen)) {
        if (wsx__pmd_parse(e, elen, true, &o) != 1 || !answer(&c, &o, &r))
            continue;
        int n = wsx__pmd_format(resp, cap, &r);
        if (n < 0)
            return n;
        int err = make_state(&c, a, bits_or_max(r.client_max_window_bits),
                             r.client_no_context_takeover,
                             bits_or_max(r.server_max_window_bits),
                             r.server_no_context_takeover, state);
        return err ? err : 1;
    }
    return 0;
}

/* The offer a client with config c sends (see wsx_deflate.h). */
static void client_params(const wsx_deflate_config *c, wsx_pmd_params *o)
{
    memset(o, 0, sizeof *o);
    o->server_no_context_takeover = c->server_no_context_takeover;
    o->client_no_context_takeover = c->client_no_context_takeover;
    if (c->server_max_window_bits < WSX_DEFLATE_WBITS_MAX)
        o->server_max_window_bits = c->server_max_window_bits;
    o->client_max_window_bits = c->client_max_window_bits < WSX_DEFLATE_WBITS_MAX
                                    ? c->client_max_window_bits
                                    : WSX_PMD_NOVALUE;
}

static int pmd_client_offer(const void *cfg, char *out, size_t cap)
{
    wsx_deflate_config c;
    wsx_pmd_params o;
    if (!load_config(cfg, &c))
        return WSX_EINVAL;
    client_params(&c, &o);
    return wsx__pmd_format(out, cap, &o);
}

static int pmd_client_accept(const void *cfg, const char *resp, size_t len,
                             void **state, const wsx_allocator *a)
{
    wsx_deflate_config c;
    wsx_pmd_params o, r;
    if (!load_config(cfg, &c))
        return WSX_EINVAL;
    client_params(&c, &o);
    const char *e;
    size_t elen, pos = 0;
    /* RFC 6455 §9.1: the server may only answer with extensions offered,
     * and we offered permessage-deflate once. */
    if (!wsx_http_list_next(resp, len, &pos, &e, &elen) ||
        wsx__pmd_parse(e, elen, false, &r) != 1 ||
        wsx_http_list_next(resp, len, &pos, &e, &elen))
        return WSX_EEXT;
    /* RFC 7692 §7.1.1.1: a requested server_no_context_takeover must be
     * in the answer. §7.1.2.1: a requested server_max_window_bits must be
     * answered with a value no larger. §7.1.2.2: client_max_window_bits
     * (always offered here) may not exceed an offered value. */
    if ((o.server_no_context_takeover && !r.server_no_context_takeover) ||
        (o.server_max_window_bits &&
         (!r.server_max_window_bits || r.server_max_window_bits > o.server_max_window_bits)) ||
        (o.client_max_window_bits > 0 && r.client_max_window_bits > o.client_max_window_bits))
        return WSX_EEXT;
    int tx_bits = min_bits(c.client_max_window_bits, bits_or_max(r.client_max_window_bits));
    return make_state(&c, a, bits_or_max(r.server_max_window_bits),
                      r.server_no_context_takeover, tx_bits,
                      r.client_no_context_takeover || c.client_no_context_takeover, state);
}

/* Inflate a piece of a message. RFC 7692 §7.2.3.4 lets a sender end its
 * data with a BFINAL block and still append an empty stored block (whose
 * first byte is in the payload): bytes after a final block continue as a
 * new stream over the same window. */
static int inflate_piece(pmd *p, const uint8_t *in, size_t len, wsx_emit_fn emit,
                         void *ctx)
{
    while (len) {
        if (p->rx_ended) {
            wsx_inflater_reset(p->rx, true);
            p->rx_ended = false;
        }
        size_t used;
        int r = wsx_inflater_run(p->rx, in, len, &used, emit, ctx);
        if (r || !wsx_inflater_finished(p->rx))
            return r;
        p->rx_ended = true;
        in += used;
        len -= used;
    }
    return 0;
}

/* RFC 7692 §7.2.2: inflate the payload with 00 00 ff ff appended. */
static int pmd_decode(void *state, const uint8_t *in, size_t len, bool fin,
                      wsx_emit_fn emit, void *ctx)
{
    pmd *p = state;
    if (!p->rx && !(p->rx = wsx_inflater_new(&p->alloc, p->rx_bits)))
        return WSX_ENOMEM;
    if (!p->rx_open) {
        /* A new message continues the previous stream unless the window
         * must be dropped (§7.2.2) or a final block ended that stream. */
        if (p->rx_reset || p->rx_ended)
            wsx_inflater_reset(p->rx, !p->rx_reset);
        p->rx_open = true;
        p->rx_ended = false;
    }
    int r = inflate_piece(p, in, len, emit, ctx);
    if (r || !fin)
        return r;
    p->rx_open = false;
    /* A payload that ends right after a final block needs no trailer. */
    if (p->rx_ended)
        return 0;
    if ((r = inflate_piece(p, trailer, sizeof trailer, emit, ctx)) != 0)
        return r;
    /* The sender's flush must have ended the message on a block boundary;
     * otherwise its last block is cut (§7.2.1). */
    return wsx_inflater_at_boundary(p->rx) ? 0 : WSX_EPROTO;
}

/* RFC 7692 §7.2.1: compress, sync-flush and drop the final 00 00 ff ff. */
static int pmd_encode(void *state, const uint8_t *in, size_t len, bool first,
                      bool fin, wsx_emit_fn emit, void *ctx)
{
    pmd *p = state;
    if (first) {
        if (fin && len < p->threshold)
            return 0;
        if (!p->tx) {
            p->tx = wsx_deflater_new(&p->alloc, p->level, p->tx_bits, p->mem_level);
            if (!p->tx)
                return WSX_ENOMEM;
        } else if (p->tx_reset) {
            wsx_deflater_reset(p->tx, false);
        }
    }
    if (!p->tx)
        return WSX_ESTATE; /* a later piece of a message never started */
    /* A piece before the last is flushed whole, 00 00 ff ff included, so
     * the peer can decode each frame as it arrives. */
    int r = wsx_deflater_run(p->tx, in, len, fin ? WSX_FLUSH_MESSAGE : WSX_FLUSH_SYNC,
                             emit, ctx);
    return r ? r : 1;
}

static void pmd_destroy(void *state, const wsx_allocator *a)
{
    pmd *p = state;
    if (!p)
        return;
    wsx_inflater_free(p->rx);
    wsx_deflater_free(p->tx);
    a->free(p, sizeof *p, a->user);
}

static const wsx_extension permessage_deflate = {
    WSX_PMD_NAME,     pmd_server_accept, pmd_client_offer, pmd_client_accept,
    pmd_decode,       pmd_encode,        pmd_destroy};

const wsx_extension *wsx_permessage_deflate(void)
{
    return &permessage_deflate;
}
