/* fuzz_pmd_offer.c - libFuzzer target for permessage-deflate negotiation
 * (RFC 7692 §7.1). Input: one byte choosing the server's configuration,
 * then a Sec-WebSocket-Extensions value. The server's answer must be a
 * valid response that claims nothing the accepted offer did not allow,
 * and must be the first acceptable offer; a client that sent that offer
 * must accept the answer; the same bytes read as a server response never
 * crash the client; parsing and formatting an element round-trips; every
 * allocation is freed. */
#include "fuzz_util.h"
#include "pmd.h"

/* What the server must do with offer o under config c: accept (and how)
 * or decline. Mirrors RFC 7692 §7.1 independently of pmd.c. */
static int acceptable(const wsx_deflate_config *c, const wsx_pmd_params *o)
{
    return o->client_max_window_bits || c->client_max_window_bits == 15;
}

static void check_answer(const wsx_deflate_config *c, const wsx_pmd_params *o,
                         const wsx_pmd_params *r)
{
    /* §7.1.1: both flags may be answered; offered or configured ones must. */
    WSX_FUZZ_CHECK(r->server_no_context_takeover ==
                   (o->server_no_context_takeover || c->server_no_context_takeover));
    WSX_FUZZ_CHECK(!o->client_no_context_takeover || r->client_no_context_takeover);
    WSX_FUZZ_CHECK(!c->client_no_context_takeover || r->client_no_context_takeover);
    /* §7.1.2.1: no more than offered, no more than configured. */
    if (o->server_max_window_bits)
        WSX_FUZZ_CHECK(r->server_max_window_bits &&
                       r->server_max_window_bits <= o->server_max_window_bits);
    WSX_FUZZ_CHECK(r->server_max_window_bits <= c->server_max_window_bits);
    if (c->server_max_window_bits < 15)
        WSX_FUZZ_CHECK(r->server_max_window_bits);
    /* §7.1.2.2: only when offered, with a value, within the offer. */
    if (r->client_max_window_bits) {
        WSX_FUZZ_CHECK(o->client_max_window_bits);
        WSX_FUZZ_CHECK(r->client_max_window_bits >= 8 && r->client_max_window_bits <= 15);
        WSX_FUZZ_CHECK(o->client_max_window_bits == WSX_PMD_NOVALUE ||
                       r->client_max_window_bits <= o->client_max_window_bits);
        WSX_FUZZ_CHECK(r->client_max_window_bits <= c->client_max_window_bits);
    }
    if (c->client_max_window_bits < 15)
        WSX_FUZZ_CHECK(r->client_max_window_bits);
}

/* The client config that would have sent offer o, when one exists. */
static int client_for(const wsx_pmd_params *o, wsx_deflate_config *cc)
{
    wsx_deflate_config_init(cc);
    if (!o->client_max_window_bits)
        return 0; /* wsx clients always offer client_max_window_bits */
    cc->server_no_context_takeover = o->server_no_context_takeover;
    cc->client_no_context_takeover = o->client_no_context_takeover;
    if (o->server_max_window_bits) {
        if (o->server_max_window_bits == 15)
            return 0; /* wsx sends 15 as "absent" */
        cc->server_max_window_bits = o->server_max_window_bits;
    }
    if (o->client_max_window_bits != WSX_PMD_NOVALUE) {
        if (o->client_max_window_bits == 15)
            return 0;
        cc->client_max_window_bits = o->client_max_window_bits;
    }
    return 1;
}

static int same(const wsx_pmd_params *a, const wsx_pmd_params *b)
{
    return a->server_no_context_takeover == b->server_no_context_takeover &&
           a->client_no_context_takeover == b->client_no_context_takeover &&
           a->server_max_window_bits == b->server_max_window_bits &&
           a->client_max_window_bits == b->client_max_window_bits;
}

static void roundtrip(const wsx_pmd_params *p, bool offer)
{
    char buf[160];
    wsx_pmd_params q;
    int n = wsx__pmd_format(buf, sizeof buf, p);
    WSX_FUZZ_CHECK(n > 0 && (size_t)n < sizeof buf && buf[n] == 0);
    WSX_FUZZ_CHECK(wsx__pmd_parse(buf, (size_t)n, offer, &q) == 1);
    WSX_FUZZ_CHECK(same(p, &q));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    const wsx_extension *ext = wsx_permessage_deflate();
    wsx_deflate_config c;
    wsx_deflate_config_init(&c);
    uint8_t k = data[0];
    c.server_no_context_takeover = k & 1;
    c.client_no_context_takeover = (k >> 1) & 1;
    c.server_max_window_bits = (k >> 2) & 1 ? 8 + ((k >> 4) & 7) : 15;
    c.client_max_window_bits = (k >> 3) & 1 ? 8 + ((k >> 5) & 7) : 15;
    char *v = (char *)fz_dup(data + 1, size - 1);
    size_t len = size - 1;

    /* The offer the server must take: the first acceptable one. */
    const char *e;
    size_t elen, pos = 0;
    wsx_pmd_params o, first = {false, false, 0, 0};
    int found = 0;
    while (wsx_http_list_next(v, len, &pos, &e, &elen)) {
        WSX_FUZZ_CHECK(e >= v && e + elen <= v + len && pos <= len);
        int pr = wsx__pmd_parse(e, elen, true, &o);
        WSX_FUZZ_CHECK(pr == 1 || pr == 0 || pr == WSX_EEXT);
        if (pr == 1) {
            roundtrip(&o, true);
            if (!found && acceptable(&c, &o)) {
                first = o;
                found = 1;
            }
        }
    }

    fz_alloc fa = {0};
    wsx_allocator a = fz_allocator(&fa, 1);
    char resp[160];
    void *state = NULL;
    int r = ext->server_accept(&c, v, len, resp, sizeof resp, &state, &a);
    WSX_FUZZ_CHECK(r == found);
    WSX_FUZZ_CHECK((state != NULL) == (r == 1));
    if (r == 1) {
        size_t n = strlen(resp);
        wsx_pmd_params ans;
        WSX_FUZZ_CHECK(n < sizeof resp);
        WSX_FUZZ_CHECK(wsx__pmd_parse(resp, n, false, &ans) == 1);
        check_answer(&c, &first, &ans);
        ext->destroy(state, &a);
        /* A wsx client that made this offer takes this answer. */
        wsx_deflate_config cc;
        if (client_for(&first, &cc)) {
            char offer[160];
            int on = ext->client_offer(&cc, offer, sizeof offer);
            WSX_FUZZ_CHECK(on > 0);
            WSX_FUZZ_CHECK(wsx__pmd_parse(offer, (size_t)on, true, &o) == 1);
            WSX_FUZZ_CHECK(same(&o, &first));
            state = NULL;
            WSX_FUZZ_CHECK(ext->client_accept(&cc, resp, n, &state, &a) == 0);
            ext->destroy(state, &a);
        }
    }

    /* The same bytes as a server's answer to a default client. */
    state = NULL;
    r = ext->client_accept(NULL, v, len, &state, &a);
    WSX_FUZZ_CHECK(r == 0 || r == WSX_EEXT);
    WSX_FUZZ_CHECK((state != NULL) == (r == 0));
    if (state) {
        pos = 0;
        WSX_FUZZ_CHECK(wsx_http_list_next(v, len, &pos, &e, &elen));
        WSX_FUZZ_CHECK(wsx__pmd_parse(e, elen, false, &o) == 1);
        roundtrip(&o, false);
        ext->destroy(state, &a);
    }
    WSX_FUZZ_CHECK(fa.live_blocks == 0);
    free(v);
    return 0;
}
