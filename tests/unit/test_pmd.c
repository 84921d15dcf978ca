/* test_pmd.c - permessage-deflate (RFC 7692): server negotiation of
 * offers (§7.1), the client's offer and its checks of the answer, and the
 * message transform both ways (§7.2) through the wsx_extension table:
 * context takeover, window sizes (8 included), the RFC's examples,
 * corrupt messages, thresholds, emit errors and failing allocators. */
#include "test.h"
#include "wsx_deflate.h"

static const wsx_extension *ext;

typedef struct sink {
    uint8_t *p;
    size_t n, cap;
    int ret; /* what emit returns after storing; 0 normally */
} sink;

static int sink_put(void *ctx, const uint8_t *p, size_t n)
{
    sink *s = ctx;
    if (s->n + n > s->cap) {
        s->cap = (s->n + n) * 2 + 64;
        s->p = realloc(s->p, s->cap);
    }
    memcpy(s->p + s->n, p, n);
    s->n += n;
    return s->ret;
}

static wsx_deflate_config cfg_default(void)
{
    wsx_deflate_config c;
    wsx_deflate_config_init(&c);
    return c;
}

/* ---- server negotiation ---------------------------------------------- */

typedef struct server_case {
    const char *offer;
    int want;          /* 1 accepted, 0 declined, or an error */
    const char *resp;  /* when accepted */
} server_case;

static void run_server_cases(const wsx_deflate_config *c, const server_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        test_alloc t = {0};
        wsx_allocator a = test_allocator(&t);
        char resp[160] = "unchanged";
        void *state = NULL;
        /* The offer ends at a PROT_NONE page: no over-read. */
        test_guard g = test_guard_copy(cases[i].offer, strlen(cases[i].offer));
        int r = ext->server_accept(c, (const char *)g.data, strlen(cases[i].offer), resp,
                                   sizeof resp, &state, &a);
        test_guard_free(&g);
        if (r != cases[i].want || (r == 1 && strcmp(resp, cases[i].resp)))
            fprintf(stderr, "offer [%s]: got %d [%s]\n", cases[i].offer, r, r == 1 ? resp : "");
        CHECK_EQ(r, cases[i].want);
        CHECK_EQ(state != NULL, r == 1);
        if (r == 1) {
            CHECK(!strcmp(resp, cases[i].resp));
            ext->destroy(state, &a);
        }
        CHECK_EQ(t.live, 0);
    }
}

static void test_server_offers(void)
{
    static const server_case def[] = {
        {"permessage-deflate", 1, "permessage-deflate"},
        {"permessage-deflate; client_max_window_bits", 1, "permessage-deflate"},
        {"permessage-deflate; client_max_window_bits=10", 1,
         "permessage-deflate; client_max_window_bits=10"},
        {"permessage-deflate; server_max_window_bits=10", 1,
         "permessage-deflate; server_max_window_bits=10"},
        {"permessage-deflate; server_max_window_bits=8", 1,
         "permessage-deflate; server_max_window_bits=8"},
        {"permessage-deflate; server_no_context_takeover", 1,
         "permessage-deflate; server_no_context_takeover"},
        {"permessage-deflate; client_no_context_takeover", 1,
         "permessage-deflate; client_no_context_takeover"},
        {"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
         "server_max_window_bits=9; client_max_window_bits=8",
         1,
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
         "server_max_window_bits=9; client_max_window_bits=8"},
        /* RFC 7692 §7.1: quoted-string values, quoted-pairs inside. */
        {"permessage-deflate; server_max_window_bits=\"10\"", 1,
         "permessage-deflate; server_max_window_bits=10"},
        {"permessage-deflate; client_max_window_bits=\"1\\2\"", 1,
         "permessage-deflate; client_max_window_bits=12"},
        /* Whitespace around separators, case of names. */
        {"  permessage-deflate ;client_max_window_bits = 12 ; server_no_context_takeover ", 1,
         "permessage-deflate; server_no_context_takeover; client_max_window_bits=12"},
        {"PerMessage-Deflate; Server_Max_Window_Bits=11", 1,
         "permessage-deflate; server_max_window_bits=11"},
        /* Declined offers (RFC 7692 §7.1): unknown or repeated
         * parameters, bad values, values on valueless parameters. */
        {"permessage-deflate; foo", 0, NULL},
        {"permessage-deflate; foo=1", 0, NULL},
        {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", 0, NULL},
        {"permessage-deflate; client_no_context_takeover; client_no_context_takeover", 0, NULL},
        {"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", 0, NULL},
        {"permessage-deflate; client_max_window_bits; client_max_window_bits=9", 0, NULL},
        {"permessage-deflate; server_max_window_bits", 0, NULL},
        {"permessage-deflate; server_max_window_bits=7", 0, NULL},
        {"permessage-deflate; server_max_window_bits=16", 0, NULL},
        {"permessage-deflate; server_max_window_bits=08", 0, NULL},
        {"permessage-deflate; server_max_window_bits=010", 0, NULL},
        {"permessage-deflate; server_max_window_bits=+9", 0, NULL},
        {"permessage-deflate; server_max_window_bits=9.0", 0, NULL},
        {"permessage-deflate; server_max_window_bits=1 0", 0, NULL},
        {"permessage-deflate; server_max_window_bits=\"\"", 0, NULL},
        {"permessage-deflate; server_max_window_bits=\"1 0\"", 0, NULL},
        {"permessage-deflate; server_max_window_bits=\"10", 0, NULL},
        {"permessage-deflate; server_max_window_bits=99999999999999999999", 0, NULL},
        {"permessage-deflate; client_max_window_bits=0", 0, NULL},
        {"permessage-deflate; client_max_window_bits=", 0, NULL},
        {"permessage-deflate; server_no_context_takeover=1", 0, NULL},
        {"permessage-deflate; client_no_context_takeover=\"x\"", 0, NULL},
        {"permessage-deflate;", 0, NULL},
        {"permessage-deflate; ; server_no_context_takeover", 0, NULL},
        {"permessage-deflate; =10", 0, NULL},
        {"permessage-deflate x", 0, NULL},
        {"permessage-deflate server_no_context_takeover", 0, NULL},
        {"permessage-deflatex", 0, NULL},
        {"", 0, NULL},
        {" , ,, ", 0, NULL},
        {"x-webkit-deflate-frame", 0, NULL},
        /* A comma inside a quoted string does not start an offer. */
        {"foo; bar=\"a, permessage-deflate\", baz", 0, NULL},
        /* Several offers: the first acceptable one wins. */
        {"permessage-deflate; foo, permessage-deflate; client_max_window_bits=9", 1,
         "permessage-deflate; client_max_window_bits=9"},
        {"x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=12, "
         "permessage-deflate",
         1, "permessage-deflate; server_max_window_bits=12"},
        {"foo; bar=\"x,y\", permessage-deflate", 1, "permessage-deflate"},
        {"permessage-deflate; server_max_window_bits=\"16\", permessage-deflate; "
         "server_max_window_bits=\"15\"",
         1, "permessage-deflate; server_max_window_bits=15"},
    };
    wsx_deflate_config c = cfg_default();
    run_server_cases(&c, def, sizeof def / sizeof def[0]);
    run_server_cases(NULL, def, 3); /* NULL config: the defaults */

    /* The server's own limits: smaller windows are announced; an offer
     * without client_max_window_bits cannot honour a client limit. */
    static const server_case limited[] = {
        {"permessage-deflate", 0, NULL},
        {"permessage-deflate; client_max_window_bits", 1,
         "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9"},
        {"permessage-deflate; client_max_window_bits=12; server_max_window_bits=12", 1,
         "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9"},
        {"permessage-deflate; client_max_window_bits=8; server_max_window_bits=8", 1,
         "permessage-deflate; server_max_window_bits=8; client_max_window_bits=8"},
        {"permessage-deflate, permessage-deflate; client_max_window_bits=15", 1,
         "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9"},
    };
    c.server_max_window_bits = 10;
    c.client_max_window_bits = 9;
    run_server_cases(&c, limited, sizeof limited / sizeof limited[0]);

    static const server_case forced[] = {
        {"permessage-deflate", 1,
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
    };
    c = cfg_default();
    c.server_no_context_takeover = c.client_no_context_takeover = true;
    run_server_cases(&c, forced, 1);

    /* Bad configurations refuse the handshake. */
    static const server_case any[] = {{"permessage-deflate", WSX_EINVAL, NULL}};
    for (int f = 0; f < 8; f++) {
        c = cfg_default();
        int v = f & 1 ? 16 : 7;
        switch (f >> 1) {
        case 0: c.server_max_window_bits = v; break;
        case 1: c.client_max_window_bits = v; break;
        case 2: c.level = f & 1 ? 10 : 0; break;
        default: c.mem_level = f & 1 ? 10 : 0; break;
        }
        run_server_cases(&c, any, 1);
    }

    /* No room for the answer; no memory for the state. */
    test_alloc t = {0};
    wsx_allocator a = test_allocator(&t);
    char small[20];
    void *state = NULL;
    const char *offer = "permessage-deflate; server_max_window_bits=9";
    CHECK_EQ(ext->server_accept(NULL, offer, strlen(offer), small, sizeof small, &state, &a),
             WSX_ENOSPC);
    CHECK(state == NULL);
    t.fail_at = 1;
    char resp[160];
    CHECK_EQ(ext->server_accept(NULL, offer, strlen(offer), resp, sizeof resp, &state, &a),
             WSX_ENOMEM);
    CHECK(state == NULL);
    CHECK_EQ(t.live, 0);
    /* The longest answer fits the 160 bytes the header promises. */
    c = cfg_default();
    c.server_no_context_takeover = c.client_no_context_takeover = true;
    c.server_max_window_bits = c.client_max_window_bits = 10;
    const char *full = "permessage-deflate; client_max_window_bits";
    t.fail_at = 0;
    CHECK_EQ(ext->server_accept(&c, full, strlen(full), resp, sizeof resp, &state, &a), 1);
    CHECK(strlen(resp) < 160);
    ext->destroy(state, &a);
    CHECK_EQ(t.live, 0);
}

/* ---- client ---------------------------------------------------------- */

static void test_client(void)
{
    char out[256];
    wsx_deflate_config c = cfg_default();
    CHECK_EQ(ext->client_offer(&c, out, sizeof out),
             (int)strlen("permessage-deflate; client_max_window_bits"));
    CHECK(!strcmp(out, "permessage-deflate; client_max_window_bits"));
    CHECK(ext->client_offer(NULL, out, sizeof out) > 0);
    c.server_no_context_takeover = c.client_no_context_takeover = true;
    c.server_max_window_bits = 10;
    c.client_max_window_bits = 9;
    const char *all = "permessage-deflate; server_no_context_takeover; "
                      "client_no_context_takeover; server_max_window_bits=10; "
                      "client_max_window_bits=9";
    CHECK_EQ(ext->client_offer(&c, out, sizeof out), (int)strlen(all));
    CHECK(!strcmp(out, all));
    CHECK_EQ(ext->client_offer(&c, out, strlen(all)), WSX_ENOSPC);
    CHECK_EQ(ext->client_offer(&c, out, 0), WSX_ENOSPC);
    c.level = 12;
    CHECK_EQ(ext->client_offer(&c, out, sizeof out), WSX_EINVAL);

    /* The server's answer, checked against what was offered. */
    enum { DEF, SMWB10, SNCT, CMWB10 };
    static const struct {
        int cfg;
        const char *resp;
        int want;
    } cases[] = {
        {DEF, "permessage-deflate", 0},
        {DEF, "permessage-deflate; server_max_window_bits=10", 0},
        {DEF, "permessage-deflate; client_max_window_bits=10", 0},
        {DEF, "permessage-deflate; server_no_context_takeover; client_no_context_takeover", 0},
        {DEF, "permessage-deflate; server_max_window_bits=\"9\"", 0},
        {DEF, " permessage-deflate ; client_max_window_bits=8 ", 0},
        {DEF, "permessage-deflate; client_max_window_bits", WSX_EEXT},
        {DEF, "permessage-deflate; server_max_window_bits", WSX_EEXT},
        {DEF, "permessage-deflate; server_max_window_bits=16", WSX_EEXT},
        {DEF, "permessage-deflate; foo", WSX_EEXT},
        {DEF, "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
         WSX_EEXT},
        {DEF, "permessage-deflate, permessage-deflate", WSX_EEXT},
        {DEF, "permessage-deflate, x-foo", WSX_EEXT},
        {DEF, "x-foo", WSX_EEXT},
        {DEF, "", WSX_EEXT},
        {DEF, "permessage-deflate;", WSX_EEXT},
        {SMWB10, "permessage-deflate; server_max_window_bits=10", 0},
        {SMWB10, "permessage-deflate; server_max_window_bits=8", 0},
        {SMWB10, "permessage-deflate; server_max_window_bits=12", WSX_EEXT},
        {SMWB10, "permessage-deflate", WSX_EEXT},
        {SNCT, "permessage-deflate; server_no_context_takeover", 0},
        {SNCT, "permessage-deflate", WSX_EEXT},
        {CMWB10, "permessage-deflate", 0},
        {CMWB10, "permessage-deflate; client_max_window_bits=10", 0},
        {CMWB10, "permessage-deflate; client_max_window_bits=9", 0},
        {CMWB10, "permessage-deflate; client_max_window_bits=11", WSX_EEXT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        c = cfg_default();
        if (cases[i].cfg == SMWB10)
            c.server_max_window_bits = 10;
        else if (cases[i].cfg == SNCT)
            c.server_no_context_takeover = true;
        else if (cases[i].cfg == CMWB10)
            c.client_max_window_bits = 10;
        test_alloc t = {0};
        wsx_allocator a = test_allocator(&t);
        void *state = NULL;
        test_guard g = test_guard_copy(cases[i].resp, strlen(cases[i].resp));
        int r = ext->client_accept(&c, (const char *)g.data, strlen(cases[i].resp), &state, &a);
        test_guard_free(&g);
        if (r != cases[i].want)
            fprintf(stderr, "response [%s]: got %d\n", cases[i].resp, r);
        CHECK_EQ(r, cases[i].want);
        CHECK_EQ(state != NULL, r == 0);
        if (state)
            ext->destroy(state, &a);
        CHECK_EQ(t.live, 0);
    }
    test_alloc t = {0};
    t.fail_at = 1;
    wsx_allocator a = test_allocator(&t);
    void *state = NULL;
    CHECK_EQ(ext->client_accept(NULL, "permessage-deflate", 18, &state, &a), WSX_ENOMEM);
    c = cfg_default();
    c.mem_level = 0;
    CHECK_EQ(ext->client_accept(&c, "permessage-deflate", 18, &state, &a), WSX_EINVAL);
    CHECK(state == NULL);
    /* The config records its size; an impossible one is refused, a
     * shorter one (an older caller) keeps the defaults it lacks. */
    c = cfg_default();
    CHECK_EQ(c.size, sizeof c);
    c.size = sizeof c + 8;
    CHECK_EQ(ext->client_offer(&c, out, sizeof out), WSX_EINVAL);
    c.size = 0;
    CHECK_EQ(ext->client_offer(&c, out, sizeof out), WSX_EINVAL);
    c = cfg_default();
    c.size = offsetof(wsx_deflate_config, server_max_window_bits);
    c.server_max_window_bits = 3; /* beyond the caller's struct: ignored */
    c.server_no_context_takeover = true;
    CHECK(ext->client_offer(&c, out, sizeof out) > 0);
    CHECK(!strcmp(out, "permessage-deflate; server_no_context_takeover; client_max_window_bits"));
}

/* ---- messages -------------------------------------------------------- */

typedef struct peers {
    test_alloc t;
    wsx_allocator a;
    void *srv, *cli;
} peers;

/* Negotiate like the core does: client offer -> server -> client. */
static void connect(peers *p, const wsx_deflate_config *sc, const wsx_deflate_config *cc)
{
    char offer[256], resp[160];
    memset(p, 0, sizeof *p);
    p->a = test_allocator(&p->t);
    int n = ext->client_offer(cc, offer, sizeof offer);
    CHECK(n > 0);
    CHECK_EQ(ext->server_accept(sc, offer, (size_t)n, resp, sizeof resp, &p->srv, &p->a), 1);
    CHECK_EQ(ext->client_accept(cc, resp, strlen(resp), &p->cli, &p->a), 0);
}

static void disconnect(peers *p)
{
    ext->destroy(p->srv, &p->a);
    ext->destroy(p->cli, &p->a);
    CHECK_EQ(p->t.live, 0);
}

/* Encode msg in pieces of `piece` bytes (0: whole) as `from`; return 1
 * if it was compressed (wire holds the payload), 0 if sent as is. */
static int encode(void *from, const uint8_t *msg, size_t n, size_t piece, sink *wire)
{
    wire->n = 0;
    size_t off = 0;
    int encoded = -1;
    do {
        size_t k = piece && piece < n - off ? piece : n - off;
        int r = ext->encode(from, msg + off, k, off == 0, off + k == n, sink_put, wire);
        CHECK(r >= 0);
        if (encoded < 0)
            encoded = r;
        CHECK_EQ(r, encoded);
        if (r == 0)
            break;
        off += k;
    } while (off < n);
    return encoded;
}

/* Decode a payload in random pieces (1-byte when rmax is 1). */
static int decode(void *to, const uint8_t *p, size_t n, size_t rmax, uint64_t *seed, sink *out)
{
    out->n = 0;
    size_t off = 0;
    do {
        size_t k = n - off;
        if (rmax && k > 1)
            k = 1 + (size_t)(test_rand(seed) % (k < rmax ? k : rmax));
        int r = ext->decode(to, p + off, k, off + k == n, sink_put, out);
        if (r)
            return r;
        off += k;
    } while (off < n);
    return 0;
}

static void fill_msg(uint8_t *p, size_t n, uint64_t *seed)
{
    static const char *w[] = {"{\"type\":\"chat\",", "\"room\":", "\"text\":\"", "hello ",
                              "world ", "\"}", "42,", "\"user\":\"ann\","};
    size_t i = 0;
    while (i < n) {
        if (test_rand(seed) % 16 == 0) {
            p[i++] = (uint8_t)test_rand(seed);
            continue;
        }
        const char *s = w[test_rand(seed) % 8];
        for (; *s && i < n; s++)
            p[i++] = (uint8_t)*s;
    }
}

static void exchange(const wsx_deflate_config *sc, const wsx_deflate_config *cc, uint64_t seed,
                     int nmsg)
{
    peers p;
    connect(&p, sc, cc);
    sink wire = {0}, out = {0};
    uint8_t *msg = malloc(100000);
    for (int i = 0; i < nmsg; i++) {
        size_t n = (size_t)(test_rand(&seed) % (i % 3 == 0 ? 200 : 100000));
        fill_msg(msg, n, &seed);
        bool to_srv = i % 2 == 0;
        size_t piece = i % 4 == 1 ? 1 + (size_t)(test_rand(&seed) % 5000) : 0;
        int enc = encode(to_srv ? p.cli : p.srv, msg, n, piece, &wire);
        if (!enc) {
            CHECK(n < 64);
            continue;
        }
        size_t rmax = i % 5 == 0 ? 1 : 1 + (size_t)(test_rand(&seed) % 3000);
        if (rmax == 1 && wire.n > 3000)
            rmax = 7;
        int r = decode(to_srv ? p.srv : p.cli, wire.p, wire.n, rmax, &seed, &out);
        CHECK_EQ(r, 0);
        CHECK(out.n == n && (!n || !memcmp(out.p, msg, n)));
    }
    free(msg);
    free(wire.p);
    free(out.p);
    disconnect(&p);
}

static void test_exchange(void)
{
    wsx_deflate_config s = cfg_default(), c = cfg_default();
    exchange(&s, &c, 1, 24);
    /* Every combination of takeover and window, both sides limiting. */
    for (int i = 0; i < 16; i++) {
        s = cfg_default();
        c = cfg_default();
        s.server_no_context_takeover = i & 1;
        c.client_no_context_takeover = (i >> 1) & 1;
        s.server_max_window_bits = 8 + (i % 8);
        c.client_max_window_bits = 15 - (i % 8);
        c.server_max_window_bits = 8 + ((i * 3) % 8);
        s.level = 1 + i % 9;
        c.level = 9 - i % 9;
        s.mem_level = c.mem_level = 1 + (i * 5) % 9;
        exchange(&s, &c, (uint64_t)i + 2, 12);
    }
}

/* Context takeover as agreed, seen in the sizes of a repeated message. */
static void test_takeover(void)
{
    const char *m = "{\"type\":\"update\",\"payload\":\"the same message, sent twice\"}";
    size_t n = strlen(m);
    for (int nct = 0; nct < 2; nct++) {
        wsx_deflate_config s = cfg_default(), c = cfg_default();
        s.server_no_context_takeover = nct;
        c.client_no_context_takeover = nct;
        s.threshold = c.threshold = 0;
        peers p;
        connect(&p, &s, &c);
        sink wire = {0}, out = {0};
        size_t sizes[2][2];
        uint64_t seed = 5;
        for (int k = 0; k < 2; k++) {
            for (int dir = 0; dir < 2; dir++) {
                CHECK_EQ(encode(dir ? p.srv : p.cli, (const uint8_t *)m, n, 0, &wire), 1);
                sizes[dir][k] = wire.n;
                CHECK_EQ(decode(dir ? p.cli : p.srv, wire.p, wire.n, 0, &seed, &out), 0);
                CHECK(out.n == n && !memcmp(out.p, m, n));
            }
        }
        for (int dir = 0; dir < 2; dir++) {
            if (nct)
                CHECK_EQ(sizes[dir][1], sizes[dir][0]);
            else
                CHECK(sizes[dir][1] < sizes[dir][0] / 2);
        }
        free(wire.p);
        free(out.p);
        disconnect(&p);
    }
}

/* Messages a peer could send that the agreement forbids: a window larger
 * than agreed, or a reference into the previous message without context
 * takeover. Both must fail to decode. */
static void test_agreement_enforced(void)
{
    wsx_allocator a;
    test_alloc t = {0};
    a = test_allocator(&t);
    uint8_t msg[2000];
    uint64_t r = 11;
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i < 1000 ? test_rand(&r) : msg[i - 1000]);
    /* A 15-bit window stream reaching 1000 bytes back. */
    wsx_deflater *d = wsx_deflater_new(&a, 6, 15, 8);
    sink z = {0}, out = {0};
    CHECK_EQ(wsx_deflater_run(d, msg, sizeof msg, WSX_FLUSH_MESSAGE, sink_put, &z), 0);
    wsx_deflater_free(d);
    wsx_deflate_config s = cfg_default(), c = cfg_default();
    s.client_max_window_bits = 9;
    peers p;
    connect(&p, &s, &c);
    uint64_t seed = 1;
    CHECK_EQ(decode(p.srv, z.p, z.n, 0, &seed, &out), WSX_EPROTO);
    disconnect(&p);
    /* The same at 10 bits is fine. */
    s.client_max_window_bits = 10;
    connect(&p, &s, &c);
    CHECK_EQ(decode(p.srv, z.p, z.n, 0, &seed, &out), 0);
    CHECK(out.n == sizeof msg && !memcmp(out.p, msg, sizeof msg));
    disconnect(&p);

    /* Two messages made with context takeover; the receiver agreed to
     * none from the client, so the second fails. */
    d = wsx_deflater_new(&a, 6, 15, 8);
    sink z2 = {0};
    z.n = 0;
    CHECK_EQ(wsx_deflater_run(d, msg, 1000, WSX_FLUSH_MESSAGE, sink_put, &z), 0);
    CHECK_EQ(wsx_deflater_run(d, msg + 1000, 1000, WSX_FLUSH_MESSAGE, sink_put, &z2), 0);
    wsx_deflater_free(d);
    for (int nct = 0; nct < 2; nct++) {
        s = cfg_default();
        s.client_no_context_takeover = nct;
        connect(&p, &s, &c);
        CHECK_EQ(decode(p.srv, z.p, z.n, 0, &seed, &out), 0);
        CHECK_EQ(decode(p.srv, z2.p, z2.n, 0, &seed, &out), nct ? WSX_EPROTO : 0);
        if (!nct)
            CHECK(out.n == 1000 && !memcmp(out.p, msg + 1000, 1000));
        disconnect(&p);
    }
    free(z.p);
    free(z2.p);
    free(out.p);
    CHECK_EQ(t.live, 0);
}

/* RFC 7692 §7.2.3's examples, as a received sequence, and corrupt
 * messages. */
static void test_rfc_examples(void)
{
    static const uint8_t hello[] = {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
    static const uint8_t again[] = {0xf2, 0x00, 0x11, 0x00, 0x00};  /* §7.2.3.2 */
    static const uint8_t stored[] = {0x00, 0x05, 0x00, 0xfa, 0xff, 0x48,
                                     0x65, 0x6c, 0x6c, 0x6f, 0x00}; /* §7.2.3.3 */
    static const uint8_t bfinal[] = {0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00};
    /* The same without the empty stored block's first byte: accepted, as
     * zlib-based receivers do. */
    static const uint8_t bfinal_bare[] = {0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
    static const uint8_t two[] = {0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff,
                                  0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}; /* §7.2.3.5 */
    static const uint8_t empty[] = {0x00};                            /* §7.2.3.6 */
    static const struct {
        const uint8_t *p;
        size_t n;
    } seq[] = {{hello, sizeof hello},   {again, sizeof again}, {stored, sizeof stored},
               {bfinal, sizeof bfinal}, {again, sizeof again}, {two, sizeof two},
               {empty, sizeof empty},   {again, sizeof again}, {bfinal_bare, sizeof bfinal_bare},
               {again, sizeof again}};
    for (int rmax = 0; rmax < 2; rmax++) {
        peers p;
        connect(&p, NULL, NULL);
        sink out = {0};
        uint64_t seed = 3;
        for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
            CHECK_EQ(decode(p.cli, seq[i].p, seq[i].n, (size_t)rmax, &seed, &out), 0);
            size_t want = seq[i].p == empty ? 0 : 5;
            CHECK(out.n == want && (!want || !memcmp(out.p, "Hello", 5)));
        }
        free(out.p);
        disconnect(&p);
    }
    /* Corrupt: a cut block, bytes after a final block, a bad block type,
     * a distance before the start. Each on a fresh connection. */
    static const uint8_t cut[] = {0xf2, 0x48};
    static const uint8_t after[] = {0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x01, 0x02};
    static const uint8_t btype3[] = {0x07, 0x00};
    static const struct {
        const uint8_t *p;
        size_t n;
    } bad[] = {{cut, sizeof cut}, {after, sizeof after}, {btype3, sizeof btype3},
               {again, sizeof again}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int rmax = 0; rmax < 2; rmax++) {
            peers p;
            connect(&p, NULL, NULL);
            sink out = {0};
            uint64_t seed = 4;
            CHECK_EQ(decode(p.srv, bad[i].p, bad[i].n, (size_t)rmax, &seed, &out), WSX_EPROTO);
            free(out.p);
            disconnect(&p);
        }
    }
}

static void test_encode_edges(void)
{
    wsx_deflate_config s = cfg_default(), c = cfg_default();
    s.threshold = 0;
    c.threshold = 10;
    peers p;
    connect(&p, &s, &c);
    sink wire = {0}, out = {0};
    uint64_t seed = 9;
    /* RFC 7692 §7.2.3.6: an empty message is the single byte 00. */
    CHECK_EQ(ext->encode(p.srv, NULL, 0, true, true, sink_put, &wire), 1);
    CHECK(wire.n == 1 && wire.p[0] == 0x00);
    CHECK_EQ(decode(p.cli, wire.p, wire.n, 0, &seed, &out), 0);
    CHECK_EQ(out.n, 0);
    /* Below the threshold: sent as is, nothing emitted. */
    wire.n = 0;
    CHECK_EQ(ext->encode(p.cli, (const uint8_t *)"short", 5, true, true, sink_put, &wire), 0);
    CHECK_EQ(wire.n, 0);
    CHECK_EQ(ext->encode(p.cli, (const uint8_t *)"0123456789", 10, true, true, sink_put, &wire),
             1);
    /* A streamed message is compressed from its first piece, and each
     * piece but the last carries a full sync flush. */
    wire.n = 0;
    CHECK_EQ(ext->encode(p.cli, (const uint8_t *)"ab", 2, true, false, sink_put, &wire), 1);
    CHECK(wire.n >= 4 && !memcmp(wire.p + wire.n - 4, "\x00\x00\xff\xff", 4));
    size_t first = wire.n;
    CHECK_EQ(ext->decode(p.srv, wire.p, wire.n, false, sink_put, &out), 0);
    CHECK(out.n == 2 && !memcmp(out.p, "ab", 2)); /* decodable on arrival */
    CHECK_EQ(ext->encode(p.cli, (const uint8_t *)"cd", 2, false, true, sink_put, &wire), 1);
    CHECK_EQ(ext->decode(p.srv, wire.p + first, wire.n - first, true, sink_put, &out), 0);
    CHECK(out.n == 4 && !memcmp(out.p, "abcd", 4));
    /* emit's refusal is returned by both directions. */
    sink refuse = {0};
    refuse.ret = 7;
    CHECK_EQ(ext->encode(p.srv, (const uint8_t *)"hello", 5, true, true, sink_put, &refuse), 7);
    static const uint8_t hello[] = {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
    refuse.n = 0;
    CHECK_EQ(ext->decode(p.cli, hello, sizeof hello, true, sink_put, &refuse), 7);
    free(refuse.p);
    free(wire.p);
    free(out.p);
    disconnect(&p);

    /* Allocation of the codecs fails on first use, then succeeds. */
    for (int dir = 0; dir < 2; dir++) {
        connect(&p, NULL, NULL);
        p.t.fail_at = p.t.calls + 1;
        sink o = {0};
        if (dir) {
            CHECK_EQ(ext->decode(p.cli, hello, sizeof hello, true, sink_put, &o), WSX_ENOMEM);
            CHECK_EQ(ext->decode(p.cli, hello, sizeof hello, true, sink_put, &o), 0);
            CHECK(o.n == 5);
        } else {
            uint8_t big[100] = {0};
            CHECK_EQ(ext->encode(p.srv, big, sizeof big, true, true, sink_put, &o), WSX_ENOMEM);
            CHECK_EQ(ext->encode(p.srv, big, sizeof big, true, true, sink_put, &o), 1);
        }
        free(o.p);
        disconnect(&p);
    }
    ext->destroy(NULL, &p.a);
}

/* What a connection holds: a small state after the handshake, the codec
 * that is used, sized by the agreed window. */
static void test_memory(void)
{
    wsx_deflate_config s = cfg_default(), c = cfg_default();
    s.server_max_window_bits = 9;
    s.client_max_window_bits = 10;
    s.mem_level = 2;
    peers p;
    connect(&p, &s, &c);
    size_t base = p.t.live_bytes;
    CHECK(base < 2 * 128);
    sink wire = {0}, out = {0};
    uint8_t msg[300] = {1, 2, 3};
    uint64_t seed = 1;
    CHECK_EQ(encode(p.srv, msg, sizeof msg, 0, &wire), 1);
    CHECK_EQ(p.t.live_bytes, base + wsx_deflater_mem(9, 2));
    CHECK_EQ(decode(p.cli, wire.p, wire.n, 0, &seed, &out), 0);
    CHECK_EQ(p.t.live_bytes, base + wsx_deflater_mem(9, 2) + wsx_inflater_mem(9));
    CHECK_EQ(encode(p.cli, msg, sizeof msg, 0, &wire), 1);
    CHECK_EQ(decode(p.srv, wire.p, wire.n, 0, &seed, &out), 0);
    CHECK_EQ(p.t.live_bytes, base + wsx_deflater_mem(9, 2) + wsx_inflater_mem(9) +
                                 wsx_deflater_mem(10, 8) + wsx_inflater_mem(10));
    free(wire.p);
    free(out.p);
    disconnect(&p);
}

/* Fail the n-th allocation for every n (handshake state, codecs): each
 * step reports WSX_ENOMEM or works, and nothing leaks. */
static void test_failmalloc(void)
{
    static const uint8_t msg[200] = {'x'};
    for (long n = 1; n <= 6; n++) {
        test_alloc t = {0};
        t.fail_at = n;
        wsx_allocator a = test_allocator(&t);
        char offer[128], resp[160];
        void *srv = NULL, *cli = NULL;
        int len = ext->client_offer(NULL, offer, sizeof offer);
        int r = ext->server_accept(NULL, offer, (size_t)len, resp, sizeof resp, &srv, &a);
        CHECK(r == 1 || r == WSX_ENOMEM);
        r = srv ? ext->client_accept(NULL, resp, strlen(resp), &cli, &a) : WSX_ENOMEM;
        CHECK(r == 0 || r == WSX_ENOMEM);
        if (srv && cli) {
            sink wire = {0}, out = {0};
            uint64_t seed = 1;
            r = ext->encode(cli, msg, sizeof msg, true, true, sink_put, &wire);
            CHECK(r == 1 || r == WSX_ENOMEM);
            if (r == 1) {
                r = decode(srv, wire.p, wire.n, 0, &seed, &out);
                CHECK(r == 0 || r == WSX_ENOMEM);
                CHECK(r || (out.n == sizeof msg && !memcmp(out.p, msg, sizeof msg)));
            }
            free(wire.p);
            free(out.p);
        }
        if (srv)
            ext->destroy(srv, &a);
        if (cli)
            ext->destroy(cli, &a);
        CHECK_EQ(t.live, 0);
    }
}

int main(void)
{
    ext = wsx_permessage_deflate();
    CHECK(ext && !strcmp(ext->name, "permessage-deflate"));
    RUN(test_server_offers);
    RUN(test_client);
    RUN(test_exchange);
    RUN(test_takeover);
    RUN(test_agreement_enforced);
    RUN(test_rfc_examples);
    RUN(test_encode_edges);
    RUN(test_memory);
    RUN(test_failmalloc);
    return test_summary("pmd");
}
