/* test_auth.c - what a server decides at the handshake: the request
 * helpers (target split, percent-decoding, query parameters, RFC 6265
 * cookies) as tables, the Origin allow-list, refusals with a status,
 * headers and a body, and decisions left pending (accepted, refused,
 * timed out, freed, or interrupted by early input). */
#include "conn_util.h"

static void test_target_split(void)
{
    static const struct {
        const char *target, *path, *query; /* query NULL: none */
    } t[] = {
        {"/chat", "/chat", NULL},
        {"/chat?", "/chat", ""},
        {"/chat?a=1&b", "/chat", "a=1&b"},
        {"/?x?y", "/", "x?y"},
        {"", "", NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t pl, ql;
        const char *q;
        wsx_http_target_split(t[i].target, strlen(t[i].target), &pl, &q, &ql);
        CHECK(pl == strlen(t[i].path) && !memcmp(t[i].target, t[i].path, pl));
        CHECK((q == NULL) == (t[i].query == NULL));
        if (q && t[i].query)
            CHECK(ql == strlen(t[i].query) && !memcmp(q, t[i].query, ql));
    }
}

static void test_unescape(void)
{
    static const struct {
        const char *in;
        bool plus;
        int ret;
        const char *out;
    } t[] = {
        {"abc", false, 3, "abc"},
        {"a%20b", false, 3, "a b"},
        {"a+b", false, 3, "a+b"},
        {"a+b", true, 3, "a b"},
        {"%e2%82%AC", false, 3, "\xe2\x82\xac"},
        {"%", false, WSX_EINVAL, NULL},
        {"%4", false, WSX_EINVAL, NULL},
        {"%zz", false, WSX_EINVAL, NULL},
        {"a%00b", false, WSX_EINVAL, NULL}, /* would cut the C string */
        {"", false, 0, ""},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char out[16];
        int r = wsx_http_unescape(out, sizeof out, t[i].in, strlen(t[i].in),
                                  t[i].plus);
        CHECK_EQ(r, t[i].ret);
        if (r >= 0)
            CHECK(strcmp(out, t[i].out) == 0);
    }
    char small[4];
    CHECK_EQ(wsx_http_unescape(small, sizeof small, "abcd", 4, false), WSX_ENOSPC);
    CHECK_EQ(wsx_http_unescape(small, sizeof small, "abc", 3, false), 3);
    CHECK_EQ(wsx_http_unescape(small, 0, "", 0, false), WSX_ENOSPC);
}

static void test_query_param(void)
{
    static const struct {
        const char *target, *name;
        int ret;
        const char *value;
    } t[] = {
        {"/ws?access_token=abc.def&x=1", "access_token", 7, "abc.def"},
        {"/ws?x=1&access_token=abc", "access_token", 3, "abc"},
        {"/ws?x=1&x=2", "x", 1, "1"},                 /* the first wins */
        {"/ws?a%20b=c%2Bd", "a b", 3, "c+d"},         /* names decode too */
        {"/ws?q=a+b", "q", 3, "a b"},                 /* form encoding */
        {"/ws?flag&y=2", "flag", 0, ""},
        {"/ws?flag=&y=2", "flag", 0, ""},
        {"/ws?token=1", "tok", WSX_ENOENT, NULL},     /* no prefix match */
        {"/ws?tok=1", "token", WSX_ENOENT, NULL},
        {"/ws", "x", WSX_ENOENT, NULL},
        {"/ws?x=1#y=2", "y", WSX_ENOENT, NULL},
        {"/ws?x=%zz", "x", WSX_EINVAL, NULL},
        {"/ws?&&x=1&", "x", 1, "1"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char out[32];
        int r = wsx_http_query_param(t[i].target, strlen(t[i].target), t[i].name,
                                     out, sizeof out);
        CHECK_EQ(r, t[i].ret);
        if (r >= 0)
            CHECK(strcmp(out, t[i].value) == 0);
    }
}

static void test_cookies(void)
{
    static const struct {
        const char *header, *name;
        const char *value; /* NULL: not found */
    } t[] = {
        {"token=abc", "token", "abc"},
        {"a=1; token=xyz; b=2", "token", "xyz"},
        {"a=1;token=xyz", "token", "xyz"},             /* no space */
        {"  token = padded  ; a=1", "token", "padded"},
        {"token=\"quoted\"", "token", "quoted"},       /* RFC 6265 §4.1.1 */
        {"token=\"", "token", "\""},
        {"Token=upper", "token", NULL},                /* case-sensitive */
        {"mytoken=1", "token", NULL},
        {"tokenx=1", "token", NULL},
        {"token", "token", NULL},                      /* no '=' */
        {"token=; a=1", "token", ""},
        {"token=a=b", "token", "a=b"},                 /* first '=' splits */
        {"a=1; token=first; token=second", "token", "first"},
        {"", "token", NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        wsx_header h = {"Cookie", 6, t[i].header, strlen(t[i].header)};
        const char *v;
        size_t n;
        int r = wsx_http_cookie(&h, 1, t[i].name, &v, &n);
        CHECK_EQ(r, t[i].value ? 0 : WSX_ENOENT);
        if (!r && t[i].value)
            CHECK(n == strlen(t[i].value) && !memcmp(v, t[i].value, n));
    }
    /* Several Cookie headers, and other headers around them. */
    wsx_header hs[3] = {{"Host", 4, "x", 1},
                        {"cookie", 6, "a=1", 3},
                        {"COOKIE", 6, "token=t2", 8}};
    const char *v;
    size_t n;
    CHECK_EQ(wsx_http_cookie(hs, 3, "token", &v, &n), 0);
    CHECK(n == 2 && !memcmp(v, "t2", 2));
    CHECK_EQ(wsx_http_cookie(hs, 3, "x", &v, &n), WSX_ENOENT);
}

static void test_origin_allowed(void)
{
    static const char *const allow[] = {"https://chat.example.org",
                                        "*.example.com",
                                        "https://*.secure.net", "null", NULL};
    static const struct {
        const char *origin;
        bool ok;
    } t[] = {
        {"https://chat.example.org", true},
        {"HTTPS://Chat.Example.org", true},
        {"http://chat.example.org", false},
        {"https://chat.example.org:8443", false},
        {"https://a.example.com", true},
        {"http://a.b.example.com:8080", true},
        {"https://example.com", false},            /* not the apex */
        {"https://badexample.com", false},
        {"https://a.example.com.evil.io", false},
        {"https://x.secure.net", true},
        {"http://x.secure.net", false},
        {"null", true},
        {"", false},
        {"https://", false},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK_EQ(wsx_origin_allowed(allow, t[i].origin, strlen(t[i].origin)),
                 t[i].ok);
    CHECK(!wsx_origin_allowed(NULL, "null", 4));
}

/* ---- connections ------------------------------------------------------ */

static const char *const origins[] = {"http://example.com", NULL};

typedef struct hs_case {
    ep e; /* first: the ep callbacks see the case as their ep */
    wsx_config cfg;
    wsx_callbacks cb;
    int answer;           /* what on_handshake returns */
    wsx_handshake_reply reply;
    int calls;
    char token[32];       /* the access_token query parameter it saw */
} hs_case;

static int hs_handshake(wsx_conn *c, const wsx_handshake *hs,
                        wsx_handshake_reply *reply, void *user)
{
    hs_case *h = (hs_case *)user;
    const wsx_http_request *r = hs->request;
    (void)c;
    h->calls++;
    if (wsx_http_query_param(r->target, r->target_len, "access_token",
                             h->token, sizeof h->token) < 0)
        h->token[0] = 0;
    *reply = h->reply;
    return h->answer;
}

static void hs_init(hs_case *h, int answer)
{
    memset(h, 0, sizeof *h);
    wsx_config_init(&h->cfg, WSX_SERVER);
    h->cfg.guards = wsx_guards();
    ep_callbacks(&h->cb);
    h->cb.on_handshake = hs_handshake;
    h->answer = answer;
}

static void hs_start(hs_case *h)
{
    h->e.c = wsx_conn_new(&h->cfg, &h->cb, h);
    wsx_conn_tick(h->e.c, 0);
}

/* The request of RFC 6455 §1.3 with another target and Origin line. */
static size_t request(char *out, const char *target, const char *origin)
{
    const char *rest = strstr(rfc_request, "Host:");
    const char *o = strstr(rfc_request, "Origin:");
    const char *after = strstr(o, "\r\n") + 2;
    int n = sprintf(out, "GET %s HTTP/1.1\r\n%.*s", target, (int)(o - rest), rest);
    if (origin)
        n += sprintf(out + n, "Origin: %s\r\n", origin);
    n += sprintf(out + n, "%s", after);
    return (size_t)n;
}

static bool out_has(const ep *e, const char *s)
{
    return mem_find(e->out, e->out_len, s, strlen(s)) != NULL;
}

static void test_origin_refused(void)
{
    static const struct {
        const char *origin;
        bool required;
        int status; /* 101 or the refusal */
    } t[] = {
        {"http://example.com", false, 101},
        {"http://evil.example", false, 403},
        {NULL, false, 101},
        {NULL, true, 403},
        {"http://example.com", true, 101},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        for (int mode = 0; mode < 2; mode++) {
            hs_case h;
            char req[1024];
            hs_init(&h, 0);
            h.cfg.origins = origins;
            h.cfg.origin_required = t[i].required;
            hs_start(&h);
            size_t n = request(req, "/chat", t[i].origin);
            CHECK_EQ(feed_split(h.e.c, (uint8_t *)req, n, mode, &h.e.rng),
                     t[i].status == 101 ? 0 : WSX_EHANDSHAKE);
            CHECK_EQ(wsx_conn_http_status(h.e.c), t[i].status);
            /* The application never sees a refused origin. */
            CHECK_EQ(h.calls, t[i].status == 101 ? 1 : 0);
            CHECK_EQ(h.e.opens, t[i].status == 101 ? 1 : 0);
            if (t[i].status == 403)
                CHECK(out_has(&h.e, "HTTP/1.1 403 "));
            ep_fini(&h.e);
        }
    }
}

/* 401 with WWW-Authenticate and a body, 429 with Retry-After. */
static void test_refusal_with_headers_and_body(void)
{
    hs_case h;
    char req[1024];
    hs_init(&h, 401);
    h.reply.extra_headers = "WWW-Authenticate: Bearer realm=\"chat\"\r\n";
    h.reply.body = "token expired\n";
    h.reply.body_len = 14;
    hs_start(&h);
    size_t n = request(req, "/chat?access_token=a%2Eb", NULL);
    CHECK_EQ(wsx_conn_feed(h.e.c, (uint8_t *)req, n), WSX_EHANDSHAKE);
    CHECK(strcmp(h.token, "a.b") == 0);
    CHECK(out_has(&h.e, "HTTP/1.1 401 Unauthorized\r\n"));
    CHECK(out_has(&h.e, "\r\nWWW-Authenticate: Bearer realm=\"chat\"\r\n"));
    CHECK(out_has(&h.e, "Content-Length: 14\r\n"));
    CHECK(h.e.out_len > 14 && !memcmp(h.e.out + h.e.out_len - 14,
                                      "token expired\n", 14));
    CHECK_EQ(h.e.close_http, 401);
    CHECK_EQ(h.e.close_error, WSX_EHANDSHAKE);
    CHECK(wsx_conn_done(h.e.c));
    ep_fini(&h.e);

    /* Extras beyond the 512 bytes of a refusal: the bare status. */
    static char big[600];
    memset(big, 'b', sizeof big);
    hs_init(&h, 401);
    h.reply.extra_headers = "WWW-Authenticate: Bearer\r\n";
    h.reply.body = big;
    h.reply.body_len = sizeof big;
    hs_start(&h);
    n = request(req, "/chat", NULL);
    CHECK_EQ(wsx_conn_feed(h.e.c, (uint8_t *)req, n), WSX_EHANDSHAKE);
    CHECK(out_has(&h.e, "HTTP/1.1 401 Unauthorized\r\n"));
    CHECK(!out_has(&h.e, "WWW-Authenticate"));
    CHECK(!out_has(&h.e, "bbbb"));
    ep_fini(&h.e);

    hs_init(&h, 429);
    h.reply.extra_headers = "Retry-After: 30\r\n";
    hs_start(&h);
    n = request(req, "/chat", NULL);
    CHECK_EQ(wsx_conn_feed(h.e.c, (uint8_t *)req, n), WSX_EHANDSHAKE);
    CHECK(out_has(&h.e, "HTTP/1.1 429 "));
    CHECK(out_has(&h.e, "\r\nRetry-After: 30\r\n"));
    ep_fini(&h.e);
}

static void test_pending_accept(void)
{
    for (int mode = 0; mode < 3; mode++) {
        hs_case h;
        char req[1024];
        hs_init(&h, WSX_HANDSHAKE_PENDING);
        h.e.rng = 7;
        hs_start(&h);
        size_t n = request(req, "/chat?access_token=t1", NULL);
        CHECK_EQ(feed_split(h.e.c, (uint8_t *)req, n, mode, &h.e.rng), 0);
        CHECK_EQ(h.calls, 1);
        CHECK_EQ(h.e.out_len, 0);
        CHECK_EQ(wsx_conn_state(h.e.c), WSX_STATE_HANDSHAKE);
        CHECK(strcmp(h.token, "t1") == 0);
        /* The handshake timer still runs: 10 s from the first tick. */
        CHECK_EQ(wsx_conn_tick(h.e.c, 5000), 10000);
        wsx_handshake_reply r = {"chat", "X-User: t1\r\n", NULL, 0};
        CHECK_EQ(wsx_conn_accept(h.e.c, &r), 0);
        CHECK_EQ(h.e.opens, 1);
        CHECK(out_has(&h.e, "HTTP/1.1 101 "));
        CHECK(out_has(&h.e, "\r\nSec-WebSocket-Protocol: chat\r\n"));
        CHECK(out_has(&h.e, "\r\nX-User: t1\r\n"));
        CHECK(out_has(&h.e, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        CHECK(strcmp(wsx_conn_protocol(h.e.c), "chat") == 0);
        /* Decided once. */
        CHECK_EQ(wsx_conn_accept(h.e.c, NULL), WSX_ESTATE);
        CHECK_EQ(wsx_conn_refuse(h.e.c, 403, NULL), WSX_ESTATE);
        uint8_t f[64];
        n = client_frame(f, 0x81, "hi", 2);
        CHECK_EQ(wsx_conn_feed(h.e.c, f, n), 0);
        CHECK_EQ(h.e.msgs, 1);
        ep_fini(&h.e);
    }
}

static void test_pending_refuse(void)
{
    hs_case h;
    char req[1024];
    hs_init(&h, WSX_HANDSHAKE_PENDING);
    hs_start(&h);
    size_t n = request(req, "/chat", NULL);
    CHECK_EQ(wsx_conn_feed(h.e.c, (uint8_t *)req, n), 0);
    CHECK_EQ(wsx_conn_refuse(h.e.c, 200, NULL), WSX_EINVAL);
    wsx_handshake_reply r = {NULL, "WWW-Authenticate: Bearer\r\n", "no\n", 3};
    CHECK_EQ(wsx_conn_refuse(h.e.c, 401, &r), 0);
    CHECK(out_has(&h.e, "HTTP/1.1 401 "));
    CHECK(out_has(&h.e, "WWW-Authenticate: Bearer\r\n"));
    CHECK_EQ(h.e.closes, 1);
    CHECK_EQ(h.e.close_http, 401);
    CHECK_EQ(h.e.opens, 0);
    CHECK_EQ(wsx_conn_accept(h.e.c, NULL), WSX_EHANDSHAKE);
    ep_fini(&h.e);
}

/* The timeout fires while the decision is pending: 408, and a late
 * accept finds nothing to decide. */
static void test_pending_timeout(void)
{
    hs_case h;
    char req[1024];
    hs_init(&h, WSX_HANDSHAKE_PENDING);
    h.cfg.handshake_timeout_ms = 300;
    hs_start(&h);
    size_t n = request(req, "/chat", NULL);
    CHECK_EQ(wsx_conn_feed(h.e.c, (uint8_t *)req, n), 0);
    CHECK_EQ(wsx_conn_tick(h.e.c, 299), 300);
    CHECK_EQ(h.e.closes, 0);
    wsx_conn_tick(h.e.c, 300);
    CHECK_EQ(h.e.closes, 1);
    CHECK_EQ(h.e.close_error, WSX_ETIMEOUT);
    CHECK_EQ(h.e.close_http, 408);
    CHECK(out_has(&h.e, "HTTP/1.1 408 "));
    CHECK_EQ(wsx_conn_accept(h.e.c, NULL), WSX_ETIMEOUT);
    CHECK_EQ(h.e.opens, 0);
    ep_fini(&h.e);
}

/* Freed while pending (the client went away): nothing leaks, under the
 * counting allocator and the sanitizers. */
static void test_pending_free(void)
{
    test_alloc ta;
    memset(&ta, 0, sizeof ta);
    hs_case h;
    char req[1024];
    hs_init(&h, WSX_HANDSHAKE_PENDING);
    h.cfg.alloc = test_allocator(&ta);
    for (int mode = 0; mode < 2; mode++) {
        hs_start(&h);
        size_t n = request(req, "/chat", NULL);
        CHECK_EQ(feed_split(h.e.c, (uint8_t *)req, n, mode, &h.e.rng), 0);
        CHECK(ta.live > 1); /* the request is kept */
        wsx_conn_free(h.e.c);
        h.e.c = NULL;
        CHECK_EQ(ta.live, 0);
    }
    ep_fini(&h.e);
}

/* Frames before the 101 break RFC 6455 §4.1: 400. */
static void test_pending_early_input(void)
{
    hs_case h;
    char req[1024];
    uint8_t f[64];
    hs_init(&h, WSX_HANDSHAKE_PENDING);
    hs_start(&h);
    size_t n = request(req, "/chat", NULL);
    n += client_frame((uint8_t *)req + n, 0x81, "early", 5);
    CHECK_EQ(wsx_conn_feed(h.e.c, (uint8_t *)req, n), WSX_EPROTO);
    CHECK(out_has(&h.e, "HTTP/1.1 400 "));
    ep_fini(&h.e);

    hs_init(&h, WSX_HANDSHAKE_PENDING);
    hs_start(&h);
    n = request(req, "/chat", NULL);
    CHECK_EQ(wsx_conn_feed(h.e.c, (uint8_t *)req, n), 0);
    n = client_frame(f, 0x81, "early", 5);
    CHECK_EQ(wsx_conn_feed(h.e.c, f, n), WSX_EPROTO);
    CHECK_EQ(h.e.close_http, 400);
    ep_fini(&h.e);
}

/* A transport refusing a peer over its limits, before the request. */
static void test_refuse_before_request(void)
{
    hs_case h;
    char req[1024];
    hs_init(&h, 0);
    hs_start(&h);
    wsx_handshake_reply r = {NULL, "Retry-After: 1\r\n", NULL, 0};
    CHECK_EQ(wsx_conn_refuse(h.e.c, 503, &r), 0);
    CHECK(out_has(&h.e, "HTTP/1.1 503 "));
    CHECK(out_has(&h.e, "Retry-After: 1\r\n"));
    CHECK_EQ(h.e.close_http, 503);
    size_t n = request(req, "/chat", NULL);
    CHECK_EQ(wsx_conn_feed(h.e.c, (uint8_t *)req, n), WSX_EHANDSHAKE);
    CHECK_EQ(h.calls, 0);
    ep_fini(&h.e);
}

int main(void)
{
    RUN(test_target_split);
    RUN(test_unescape);
    RUN(test_query_param);
    RUN(test_cookies);
    RUN(test_origin_allowed);
    RUN(test_origin_refused);
    RUN(test_refusal_with_headers_and_body);
    RUN(test_pending_accept);
    RUN(test_pending_refuse);
    RUN(test_pending_timeout);
    RUN(test_pending_free);
    RUN(test_pending_early_input);
    RUN(test_refuse_before_request);
    return test_summary("auth");
}
