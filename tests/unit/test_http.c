/* test_http.c - the opening handshake's HTTP layer: request and response
 * heads parsed whole, at every prefix and against a guard page; the
 * upgrade check (RFC 6455 §4.2.1); list helpers; and the builders' exact
 * bytes, overflow behaviour and round trips through the parsers. */
#include "test.h"

#include "http_chars.h"

#define MAXH 16
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

#define RL "GET /chat HTTP/1.1\r\n"
#define HOST "Host: server.example.com\r\n"
#define UPG "Upgrade: websocket\r\n"
#define CONN "Connection: Upgrade\r\n"
#define SKEY "Sec-WebSocket-Key: " KEY "\r\n"
#define VER "Sec-WebSocket-Version: 13\r\n"
#define GOOD RL HOST UPG CONN SKEY VER "\r\n"

/* parse: 0 when the input is a valid head followed by `tail` more bytes,
 * else the WSX_E* the parser must return. check: the upgrade verdict when
 * the head parses. len: 0 for strlen (set for inputs that hold a NUL). */
typedef struct req_case {
    const char *name;
    const char *in;
    size_t len, tail, maxh;
    int parse, check;
} req_case;

static const req_case req_cases[] = {
    {"rfc6455 example",
     RL HOST UPG CONN SKEY "Origin: http://example.com\r\n"
     "Sec-WebSocket-Protocol: chat, superchat\r\n" VER "\r\n", 0, 0, 0, 0, 0},
    {"lowercase names", "GET / HTTP/1.1\r\nhost: a\r\nupgrade: WebSocket\r\n"
     "connection: upgrade\r\nsec-websocket-key: " KEY "\r\n"
     "sec-websocket-version: 13\r\n\r\n", 0, 0, 0, 0, 0},
    {"extra whitespace", RL "Host:   a  \r\nUpgrade:\t websocket \t\r\n"
     "Connection:  Upgrade   \r\nSec-WebSocket-Key:   " KEY " \r\n"
     "Sec-WebSocket-Version:13\t\r\n\r\n", 0, 0, 0, 0, 0},
    {"bare LF", "GET / HTTP/1.1\nHost: a\nUpgrade: websocket\n"
     "Connection: Upgrade\nSec-WebSocket-Key: " KEY "\n"
     "Sec-WebSocket-Version: 13\n\n", 0, 0, 0, 0, 0},
    {"mixed CRLF and LF", "GET / HTTP/1.1\nHost: a\r\nUpgrade: websocket\n"
     CONN SKEY "Sec-WebSocket-Version: 13\n\r\n", 0, 0, 0, 0, 0},
    {"connection list", RL HOST UPG "Connection: keep-alive, Upgrade\r\n" SKEY
     VER "\r\n", 0, 0, 0, 0, 0},
    {"connection over two lines", RL HOST UPG "Connection: keep-alive\r\n"
     "Connection: upgrade\r\n" SKEY VER "\r\n", 0, 0, 0, 0, 0},
    {"protocol over two lines", RL HOST UPG CONN SKEY VER
     "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: superchat, v2"
     "\r\n\r\n", 0, 0, 0, 0, 0},
    {"upgrade list", RL HOST "Upgrade: foo/2, websocket\r\n" CONN SKEY VER
     "\r\n", 0, 0, 0, 0, 0},
    {"HTTP/1.9", "GET / HTTP/1.9\r\n" HOST UPG CONN SKEY VER "\r\n", 0, 0, 0,
     0, 0},
    {"frame bytes after head", GOOD "\x81\x85\x37\xfa\x21\x3d", 0, 6, 0, 0, 0},
    {"empty, obs-text, tab values", RL HOST UPG CONN SKEY VER "X-Empty:\r\n"
     "X-Bin: caf\xc3\xa9\r\nX-Tab: a\tb\r\nX-Ws: \t \r\n\r\n", 0, 0, 0, 0, 0},
    {"query and token method chars", "GET /c?room=1&x=%20;~!$ HTTP/1.1\r\n"
     HOST UPG CONN SKEY VER "X-A.b_c|d~e!: 1\r\n\r\n", 0, 0, 0, 0, 0},
    {"exactly max headers", GOOD, 0, 0, 5, 0, 0},

    {"POST", "POST /chat HTTP/1.1\r\n" HOST UPG CONN SKEY VER "\r\n", 0, 0, 0, 0,
     WSX_EHTTP},
    {"lowercase get", "get /chat HTTP/1.1\r\n" HOST UPG CONN SKEY VER "\r\n", 0,
     0, 0, 0, WSX_EHTTP},
    {"POST without upgrade", "POST /form HTTP/1.1\r\n" HOST
     "Content-Length: 0\r\n\r\n", 0, 0, 0, 0, WSX_EHANDSHAKE},
    {"HTTP/1.0", "GET /chat HTTP/1.0\r\n" HOST UPG CONN SKEY VER "\r\n", 0, 0,
     0, 0, WSX_EHTTP},
    {"HTTP/1.0 page", "GET / HTTP/1.0\r\n\r\n", 0, 0, 0, 0, WSX_EHANDSHAKE},
    {"missing Host", RL UPG CONN SKEY VER "\r\n", 0, 0, 0, 0, WSX_EHTTP},
    {"two Hosts", RL HOST "host: b\r\n" UPG CONN SKEY VER "\r\n", 0, 0, 0, 0,
     WSX_EHTTP},
    {"missing Upgrade", RL HOST CONN SKEY VER "\r\n", 0, 0, 0, 0,
     WSX_EHANDSHAKE},
    {"Upgrade h2c", RL HOST "Upgrade: h2c\r\n" CONN SKEY VER "\r\n", 0, 0, 0, 0,
     WSX_EHANDSHAKE},
    {"Upgrade websocket2", RL HOST "Upgrade: websocket2\r\n" CONN SKEY VER
     "\r\n", 0, 0, 0, 0, WSX_EHANDSHAKE},
    {"missing Connection", RL HOST UPG SKEY VER "\r\n", 0, 0, 0, 0, WSX_EHTTP},
    {"Connection keep-alive", RL HOST UPG "Connection: keep-alive\r\n" SKEY VER
     "\r\n", 0, 0, 0, 0, WSX_EHTTP},
    {"Connection upgraded", RL HOST UPG "Connection: upgraded\r\n" SKEY VER
     "\r\n", 0, 0, 0, 0, WSX_EHTTP},
    {"key of 15 bytes", RL HOST UPG CONN
     "Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0O\r\n" VER "\r\n", 0, 0, 0, 0,
     WSX_EHTTP},
    {"key of 17 bytes", RL HOST UPG CONN
     "Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODxA=\r\n" VER "\r\n", 0, 0, 0, 0,
     WSX_EHTTP},
    {"key not base64", RL HOST UPG CONN
     "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==\r\n" VER "\r\n", 0, 0, 0, 0,
     WSX_EHTTP},
    {"key with inner space", RL HOST UPG CONN
     "Sec-WebSocket-Key: dGhlIHNhbXBs ZSBub25jZQ==\r\n" VER "\r\n", 0, 0, 0, 0,
     WSX_EHTTP},
    {"key empty", RL HOST UPG CONN "Sec-WebSocket-Key:\r\n" VER "\r\n", 0, 0,
     0, 0, WSX_EHTTP},
    {"key missing", RL HOST UPG CONN VER "\r\n", 0, 0, 0, 0, WSX_EHTTP},
    {"key twice", RL HOST UPG CONN SKEY SKEY VER "\r\n", 0, 0, 0, 0,
     WSX_EHTTP},
    {"version 8", RL HOST UPG CONN SKEY "Sec-WebSocket-Version: 8\r\n\r\n", 0,
     0, 0, 0, WSX_EVERSION},
    {"version list", RL HOST UPG CONN SKEY
     "Sec-WebSocket-Version: 13, 8\r\n\r\n", 0, 0, 0, 0, WSX_EVERSION},
    {"version 013", RL HOST UPG CONN SKEY "Sec-WebSocket-Version: 013\r\n\r\n",
     0, 0, 0, 0, WSX_EVERSION},
    {"version missing", RL HOST UPG CONN SKEY "\r\n", 0, 0, 0, 0, WSX_EHTTP},
    {"version twice", RL HOST UPG CONN SKEY VER VER "\r\n", 0, 0, 0, 0,
     WSX_EHTTP},

    {"space before colon", RL "Host : a\r\n" UPG "\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"tab before colon", RL "Host\t: a\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"bare CR in value", RL "Host: a\rb\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"bare CR ends line", RL "Host: a\rUpgrade: websocket\r\n\r\n", 0, 0, 0,
     WSX_EHTTP, 0},
    {"bare CR ends request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", 0, 0, 0,
     WSX_EHTTP, 0},
    {"CR CR LF", RL "Host: a\r\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"bare CR ends head", RL HOST "\r\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"obs-fold SP", RL "X-A: a\r\n b\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"obs-fold HTAB", RL "X-A: a\r\n\tb\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"space before first header", RL " Host: a\r\n\r\n", 0, 0, 0, WSX_EHTTP,
     0},
    {"NUL in value", RL "Host: a\0b\r\n\r\n", sizeof RL "Host: a\0b\r\n\r\n" - 1,
     0, 0, WSX_EHTTP, 0},
    {"NUL in name", RL "Ho\0st: a\r\n\r\n", sizeof RL "Ho\0st: a\r\n\r\n" - 1,
     0, 0, WSX_EHTTP, 0},
    {"SOH in value", RL "Host: a\x01\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"ESC in value", RL "X-A: \x1b[31m\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"DEL in value", RL "Host: a\x7f\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"empty name", RL ": a\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"no colon", RL "Host a\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"name only", RL "Host\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"name not a token", RL "Ho(st: a\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"name with obs-text", RL "H\xc3\xb6st: a\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"method not a token", "G@T / HTTP/1.1\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"empty method", " / HTTP/1.1\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"leading empty line", "\r\nGET / HTTP/1.1\r\n\r\n", 0, 0, 0, WSX_EHTTP,
     0},
    {"double space", "GET  / HTTP/1.1\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"space in target", "GET /a b HTTP/1.1\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"tab after method", "GET\t/ HTTP/1.1\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"CTL in target", "GET /a\x01 HTTP/1.1\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"DEL in target", "GET /a\x7f HTTP/1.1\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"lowercase version", "GET / http/1.1\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"HTTP/1.10", "GET / HTTP/1.10\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"HTTP/1.x", "GET / HTTP/1.x\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"HTTP/1", "GET / HTTP/1\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"space after version", "GET / HTTP/1.1 \r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"no version", "GET /\r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"empty version", "GET / \r\n\r\n", 0, 0, 0, WSX_EHTTP, 0},
    {"too many headers", GOOD, 0, 0, 4, WSX_EHDRSIZE, 0},
    {"too many then malformed", RL "A: 1\r\nB: 2\r\nC : 3\r\n\r\n", 0, 0, 1,
     WSX_EHDRSIZE, 0},
};

/* Expected outcome of parsing the first k bytes of a case whose whole
 * outcome is `full` and whose head is `head` bytes long. */
static int expect_prefix(int full, size_t head, size_t k)
{
    if (full > 0)
        return k >= head ? full : 0;
    return full; /* errors: 0 or full, checked by the caller */
}

static void check_inside(const wsx_header *h, size_t n, const char *p,
                         size_t len)
{
    for (size_t i = 0; i < n; i++) {
        CHECK(h[i].name >= p && h[i].name + h[i].name_len <= p + len);
        CHECK(h[i].value >= p && h[i].value + h[i].value_len <= p + len);
        CHECK(h[i].name_len > 0);
    }
}

static void test_request_cases(void)
{
    for (size_t c = 0; c < sizeof req_cases / sizeof *req_cases; c++) {
        const req_case *t = &req_cases[c];
        size_t len = t->len ? t->len : strlen(t->in);
        size_t maxh = t->maxh ? t->maxh : MAXH, head = len - t->tail;
        int full = t->parse ? t->parse : (int)head;
        wsx_header h[MAXH];
        wsx_http_request req;
        bool failed = false;
        int r = wsx_http_parse_request(&req, h, maxh, (const uint8_t *)t->in,
                                       len);

        CHECK_EQ(r, full);
        if (r != full)
            fprintf(stderr, "  case: %s\n", t->name);
        if (r > 0 && r == full) {
            const char *key = NULL;
            size_t key_len = 0;
            int chk = wsx_http_check_upgrade(&req, &key, &key_len);
            CHECK_EQ(chk, t->check);
            if (chk != t->check)
                fprintf(stderr, "  case: %s\n", t->name);
            if (chk == 0)
                CHECK(key_len == 24 && memcmp(key, KEY, 24) == 0);
            CHECK(req.num_headers <= maxh);
            check_inside(req.headers, req.num_headers, t->in, len);
        }
        /* Every prefix, each one ending at a guard page: a valid head
         * gives 0 until it is whole; an invalid one gives 0 until the
         * error shows, then that error for every longer prefix. */
        for (size_t k = 0; k <= len; k++) {
            test_guard g = test_guard_copy(t->in, k);
            int pr = wsx_http_parse_request(&req, h, maxh, g.data, k);
            int want = expect_prefix(full, head, k);
            if (full < 0 && !failed && pr == 0)
                want = 0;
            if (pr == full && full < 0)
                failed = true;
            if (pr != want) {
                CHECK_EQ(pr, want);
                fprintf(stderr, "  case: %s, prefix %zu\n", t->name, k);
            }
            test_guard_free(&g);
        }
        CHECK(full > 0 || failed);
    }
}

static void test_request_fields(void)
{
    static const char in[] = "GET /x?y=1 HTTP/1.1\r\nHost:   a b  \r\n"
                             "X-Empty:  \t \r\nx-tab: \tv\t1\t\r\n\r\n";
    static const char *const want[][2] = {
        {"Host", "a b"}, {"X-Empty", ""}, {"x-tab", "v\t1"}};
    wsx_header h[MAXH];
    wsx_http_request req;
    int r = wsx_http_parse_request(&req, h, MAXH, (const uint8_t *)in,
                                   sizeof in - 1);

    CHECK_EQ(r, sizeof in - 1);
    CHECK(req.method_len == 3 && memcmp(req.method, "GET", 3) == 0);
    CHECK(req.target_len == 6 && memcmp(req.target, "/x?y=1", 6) == 0);
    CHECK_EQ(req.version_minor, 1);
    CHECK(req.headers == h);
    CHECK_EQ(req.num_headers, 3);
    for (size_t i = 0; i < 3 && i < req.num_headers; i++) {
        CHECK(h[i].name_len == strlen(want[i][0]) &&
              memcmp(h[i].name, want[i][0], h[i].name_len) == 0);
        CHECK(h[i].value_len == strlen(want[i][1]) &&
              memcmp(h[i].value, want[i][1], h[i].value_len) == 0);
    }

    /* No header storage at all is fine for a head without headers. */
    CHECK_EQ(wsx_http_parse_request(&req, NULL, 0,
                                    (const uint8_t *)"GET / HTTP/1.1\r\n\r\n",
                                    18),
             18);
    CHECK_EQ(req.num_headers, 0);
    CHECK_EQ(wsx_http_parse_request(&req, NULL, 0,
                                    (const uint8_t *)"GET / HTTP/1.1\r\nA: b",
                                    20),
             WSX_EHDRSIZE);
}

typedef struct res_case {
    const char *name;
    const char *in;
    size_t maxh;
    int parse, status;
    const char *reason;
} res_case;

static const res_case res_cases[] = {
    {"101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n"
     "Sec-WebSocket-Protocol: chat\r\n\r\n", 0, 0, 101,
     "Switching Protocols"},
    {"400", "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 0, 0, 400,
     "Bad Request"},
    {"no reason", "HTTP/1.1 101\r\n\r\n", 0, 0, 101, ""},
    {"empty reason", "HTTP/1.1 101 \r\n\r\n", 0, 0, 101, ""},
    {"bare LF 1.0", "HTTP/1.0 200 OK\nA: b\n\n", 0, 0, 200, "OK"},
    {"reason with tab and obs-text", "HTTP/1.1 404 Not\tFound \xc3\xa9\r\n\r\n",
     0, 0, 404, "Not\tFound \xc3\xa9"},
    {"two digits", "HTTP/1.1 10\r\n\r\n", 0, WSX_EHTTP, 0, NULL},
    {"four digits", "HTTP/1.1 1011 X\r\n\r\n", 0, WSX_EHTTP, 0, NULL},
    {"double space", "HTTP/1.1  101 X\r\n\r\n", 0, WSX_EHTTP, 0, NULL},
    {"no space", "HTTP/1.1101 X\r\n\r\n", 0, WSX_EHTTP, 0, NULL},
    {"HTTP/2", "HTTP/2 101 X\r\n\r\n", 0, WSX_EHTTP, 0, NULL},
    {"letters", "HTTP/1.1 abc OK\r\n\r\n", 0, WSX_EHTTP, 0, NULL},
    {"status below 100", "HTTP/1.1 099 Low\r\n\r\n", 0, WSX_EHTTP, 0, NULL},
    {"CTL in reason", "HTTP/1.1 101 Sw\x01tching\r\n\r\n", 0, WSX_EHTTP, 0,
     NULL},
    {"not HTTP", "ICY 200 OK\r\n\r\n", 0, WSX_EHTTP, 0, NULL},
    {"obs-fold", "HTTP/1.1 101 OK\r\nA: b\r\n c\r\n\r\n", 0, WSX_EHTTP, 0,
     NULL},
    {"space before colon", "HTTP/1.1 101 OK\r\nUpgrade : websocket\r\n\r\n", 0,
     WSX_EHTTP, 0, NULL},
    {"bare CR", "HTTP/1.1 101 OK\rUpgrade: websocket\r\n\r\n", 0, WSX_EHTTP, 0,
     NULL},
    {"too many headers", "HTTP/1.1 101 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 2,
     WSX_EHDRSIZE, 0, NULL},
};

static void test_response_cases(void)
{
    for (size_t c = 0; c < sizeof res_cases / sizeof *res_cases; c++) {
        const res_case *t = &res_cases[c];
        size_t len = strlen(t->in), maxh = t->maxh ? t->maxh : MAXH;
        int full = t->parse ? t->parse : (int)len;
        wsx_header h[MAXH];
        wsx_http_response res;
        bool failed = false;
        int r = wsx_http_parse_response(&res, h, maxh, (const uint8_t *)t->in,
                                        len);

        CHECK_EQ(r, full);
        if (r != full)
            fprintf(stderr, "  case: %s\n", t->name);
        if (r > 0 && r == full) {
            CHECK_EQ(res.status, t->status);
            CHECK(res.reason_len == strlen(t->reason) &&
                  memcmp(res.reason, t->reason, res.reason_len) == 0);
            check_inside(res.headers, res.num_headers, t->in, len);
        }
        for (size_t k = 0; k <= len; k++) {
            test_guard g = test_guard_copy(t->in, k);
            int pr = wsx_http_parse_response(&res, h, maxh, g.data, k);
            int want = expect_prefix(full, len, k);
            if (full < 0 && !failed && pr == 0)
                want = 0;
            if (pr == full && full < 0)
                failed = true;
            if (pr != want) {
                CHECK_EQ(pr, want);
                fprintf(stderr, "  case: %s, prefix %zu\n", t->name, k);
            }
            test_guard_free(&g);
        }
        CHECK(full > 0 || failed);
    }
}

/* Elements joined with '|'. */
static void test_list_next(void)
{
    static const char *const cases[][2] = {
        {"", ""},
        {" , ,, \t", ""},
        {"a", "a"},
        {"a,b", "a|b"},
        {" a , b ,, c\t", "a|b|c"},
        {"permessage-deflate; client_max_window_bits, x-webkit-deflate-frame",
         "permessage-deflate; client_max_window_bits|x-webkit-deflate-frame"},
        {"foo; p=\"a,b\", bar", "foo; p=\"a,b\"|bar"},
        {"foo; p=\"a\\\",b\" , bar", "foo; p=\"a\\\",b\"|bar"},
        {"\"open, x", "\"open, x"},
        {"x\\", "x\\"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const char *v = cases[c][0];
        char got[128] = "";
        size_t pos = 0, glen = 0, elen;
        const char *e;

        while (wsx_http_list_next(v, strlen(v), &pos, &e, &elen)) {
            CHECK(elen > 0 && e >= v && e + elen <= v + strlen(v));
            if (glen)
                got[glen++] = '|';
            memcpy(got + glen, e, elen);
            glen += elen;
            got[glen] = '\0';
        }
        CHECK(strcmp(got, cases[c][1]) == 0);
        if (strcmp(got, cases[c][1]) != 0)
            fprintf(stderr, "  list \"%s\" gave \"%s\"\n", v, got);
        CHECK(!wsx_http_list_next(v, strlen(v), &pos, &e, &elen));
    }
}

#define HDR(n, v) {n, sizeof n - 1, v, sizeof v - 1}

static void test_find_and_tokens(void)
{
    static const wsx_header h[] = {
        HDR("Connection", "keep-alive"),
        HDR("connection", "Upgrade"),
        HDR("Sec-WebSocket-Protocol", "chat"),
        HDR("SEC-WEBSOCKET-PROTOCOL", "superchat, v2"),
        HDR("X", "upgraded, upgrad"),
        HDR("Host", "a"),
    };
    size_t n = sizeof h / sizeof *h;

    CHECK(wsx_http_find(h, n, "HOST") == &h[5]);
    CHECK(wsx_http_find(h, n, "Connection") == &h[0]);
    CHECK(wsx_http_find(h, n, "Hos") == NULL);
    CHECK(wsx_http_find(h, n, "Hostx") == NULL);
    CHECK(wsx_http_find(h, 0, "Host") == NULL);
    CHECK(wsx_http_has_token(h, n, "Connection", "upgrade"));
    CHECK(wsx_http_has_token(h, n, "CONNECTION", "Keep-Alive"));
    CHECK(!wsx_http_has_token(h, n, "Connection", "close"));
    CHECK(wsx_http_has_token(h, n, "Sec-WebSocket-Protocol", "chat"));
    CHECK(wsx_http_has_token(h, n, "sec-websocket-protocol", "SUPERCHAT"));
    CHECK(wsx_http_has_token(h, n, "Sec-WebSocket-Protocol", "v2"));
    CHECK(!wsx_http_has_token(h, n, "Sec-WebSocket-Protocol", "cha"));
    CHECK(!wsx_http_has_token(h, n, "X", "upgrade"));
    CHECK(!wsx_http_has_token(h, n, "Missing", "a"));
    CHECK(!wsx_http_has_token(h, 1, "Connection", "upgrade"));

    /* The duplicated Sec-WebSocket-Protocol lines of a parsed request. */
    for (size_t c = 0; c < sizeof req_cases / sizeof *req_cases; c++) {
        wsx_header ph[MAXH];
        wsx_http_request req;
        if (strcmp(req_cases[c].name, "protocol over two lines") != 0)
            continue;
        CHECK(wsx_http_parse_request(&req, ph, MAXH,
                                     (const uint8_t *)req_cases[c].in,
                                     strlen(req_cases[c].in)) > 0);
        CHECK(wsx_http_has_token(ph, req.num_headers, "Sec-WebSocket-Protocol",
                                 "chat"));
        CHECK(wsx_http_has_token(ph, req.num_headers, "Sec-WebSocket-Protocol",
                                 "v2"));
    }
}

enum { B_REQ, B_ACCEPT, B_ERROR, B_RESPONSE };

typedef struct build_case {
    const char *name;
    int kind;
    wsx_client_opts opts; /* B_REQ */
    const char *key;      /* B_REQ, B_ACCEPT */
    const char *protocol, *extensions, *extra;
    int status;           /* B_ERROR, B_RESPONSE */
    const char *content_type;
    size_t body_len;
    int result;           /* 0: success with `want`, else WSX_E* */
    const char *want;
} build_case;

static int run_build(const build_case *b, char *out, size_t cap)
{
    switch (b->kind) {
    case B_REQ:
        return wsx_http_build_request(out, cap, &b->opts, b->key);
    case B_ACCEPT:
        return wsx_http_build_accept(out, cap, b->key,
                                     b->key ? strlen(b->key) : 0, b->protocol,
                                     b->extensions, b->extra);
    case B_ERROR:
        return wsx_http_build_error(out, cap, b->status, b->extra);
    default:
        return wsx_http_build_response(out, cap, b->status, b->content_type,
                                       b->extra, b->body_len);
    }
}

static const build_case build_cases[] = {
    {"request, every option", B_REQ,
     {"server.example.com", "/chat", "http://example.com", "chat, superchat",
      "permessage-deflate", "X-A: 1\r\n"}, KEY, 0, 0, 0, 0, 0, 0, 0,
     "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
     "Sec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n"
     "Sec-WebSocket-Protocol: chat, superchat\r\n"
     "Sec-WebSocket-Extensions: permessage-deflate\r\nX-A: 1\r\n\r\n"},
    {"request, minimal", B_REQ, {"h", NULL, NULL, "", NULL, NULL}, KEY, 0, 0, 0,
     0, 0, 0, 0,
     "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
     "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n"},
    {"101, rfc6455 key", B_ACCEPT, {0}, KEY, NULL, NULL, NULL, 0, 0, 0, 0,
     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n"},
    {"101, every option", B_ACCEPT, {0}, KEY, "chat", "permessage-deflate",
     "X-B: 2\r\n", 0, 0, 0, 0,
     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
     "Connection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n"
     "Sec-WebSocket-Protocol: chat\r\n"
     "Sec-WebSocket-Extensions: permessage-deflate\r\nX-B: 2\r\n\r\n"},
    {"400", B_ERROR, {0}, 0, 0, 0, NULL, 400, 0, 0, 0,
     "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
     "Content-Type: text/plain\r\nContent-Length: 16\r\n\r\n"
     "400 Bad Request\n"},
    {"403", B_ERROR, {0}, 0, 0, 0, NULL, 403, 0, 0, 0,
     "HTTP/1.1 403 Forbidden\r\nConnection: close\r\n"
     "Content-Type: text/plain\r\nContent-Length: 14\r\n\r\n403 Forbidden\n"},
    {"426", B_ERROR, {0}, 0, 0, 0, NULL, 426, 0, 0, 0,
     "HTTP/1.1 426 Upgrade Required\r\nConnection: Upgrade, close\r\n"
     "Content-Type: text/plain\r\nContent-Length: 21\r\n"
     "Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n\r\n"
     "426 Upgrade Required\n"},
    {"401 with extra", B_ERROR, {0}, 0, 0, 0, "WWW-Authenticate: Basic\r\n",
     401, 0, 0, 0,
     "HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n"
     "Content-Type: text/plain\r\nContent-Length: 17\r\n"
     "WWW-Authenticate: Basic\r\n\r\n401 Unauthorized\n"},
    {"599 unknown", B_ERROR, {0}, 0, 0, 0, NULL, 599, 0, 0, 0,
     "HTTP/1.1 599 Unknown\r\nConnection: close\r\nContent-Type: text/plain\r\n"
     "Content-Length: 12\r\n\r\n599 Unknown\n"},
    {"200 response", B_RESPONSE, {0}, 0, 0, 0, "X-C: 3\r\n", 200, "text/html",
     4000000000u, 0,
     "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/html\r\n"
     "Content-Length: 4000000000\r\nX-C: 3\r\n\r\n"},
    {"404 response, no type", B_RESPONSE, {0}, 0, 0, 0, NULL, 404, NULL, 0, 0,
     "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},

    {"no host", B_REQ, {NULL, "/", NULL, NULL, NULL, NULL}, KEY, 0, 0, 0, 0, 0,
     0, WSX_EINVAL, NULL},
    {"empty host", B_REQ, {"", "/", NULL, NULL, NULL, NULL}, KEY, 0, 0, 0, 0,
     0, 0, WSX_EINVAL, NULL},
    {"CRLF in host", B_REQ, {"a\r\nX: y", "/", NULL, NULL, NULL, NULL}, KEY, 0,
     0, 0, 0, 0, 0, WSX_EINVAL, NULL},
    {"space in path", B_REQ, {"a", "/a b", NULL, NULL, NULL, NULL}, KEY, 0, 0,
     0, 0, 0, 0, WSX_EINVAL, NULL},
    {"LF in origin", B_REQ, {"a", "/", "o\n", NULL, NULL, NULL}, KEY, 0, 0, 0,
     0, 0, 0, WSX_EINVAL, NULL},
    {"CTL in protocols", B_REQ, {"a", "/", NULL, "a\x01", NULL, NULL}, KEY, 0,
     0, 0, 0, 0, 0, WSX_EINVAL, NULL},
    {"CR in extensions", B_REQ, {"a", "/", NULL, NULL, "x\r", NULL}, KEY, 0, 0,
     0, 0, 0, 0, WSX_EINVAL, NULL},
    {"short key", B_REQ, {"a", "/", NULL, NULL, NULL, NULL},
     "dGhlIHNhbXBsZSBub25jZQ=", 0, 0, 0, 0, 0, 0, WSX_EINVAL, NULL},
    {"no key", B_REQ, {"a", "/", NULL, NULL, NULL, NULL}, NULL, 0, 0, 0, 0, 0,
     0, WSX_EINVAL, NULL},
    {"accept without key", B_ACCEPT, {0}, NULL, NULL, NULL, NULL, 0, 0, 0,
     WSX_EINVAL, NULL},
    {"LF in protocol", B_ACCEPT, {0}, KEY, "chat\n", NULL, NULL, 0, 0, 0,
     WSX_EINVAL, NULL},
    {"status 99", B_ERROR, {0}, 0, 0, 0, NULL, 99, 0, 0, WSX_EINVAL, NULL},
    {"status 1000", B_ERROR, {0}, 0, 0, 0, NULL, 1000, 0, 0, WSX_EINVAL, NULL},
    {"status 0", B_RESPONSE, {0}, 0, 0, 0, NULL, 0, NULL, 0, WSX_EINVAL, NULL},
    {"CR in content type", B_RESPONSE, {0}, 0, 0, 0, NULL, 200, "a\rb", 0,
     WSX_EINVAL, NULL},
};

#define CANARY 0xA5

static void test_builders(void)
{
    for (size_t c = 0; c < sizeof build_cases / sizeof *build_cases; c++) {
        const build_case *b = &build_cases[c];
        char out[512];
        size_t wlen = b->want ? strlen(b->want) : 0;

        memset(out, CANARY, sizeof out);
        int r = run_build(b, out, sizeof out);
        if (b->result) {
            CHECK_EQ(r, b->result);
            CHECK_EQ(out[0], 0);
            CHECK_EQ(run_build(b, out, 0), b->result);
            continue;
        }
        CHECK_EQ(r, wlen);
        CHECK(r >= 0 && out[r] == 0 && memcmp(out, b->want, wlen) == 0);
        if (r < 0 || memcmp(out, b->want, wlen) != 0)
            fprintf(stderr, "  case: %s\n  got: %s\n", b->name, out);
        /* Every cap too small by one byte or more: ENOSPC, an empty string
         * when there is room for it, and not one byte written at or past
         * cap. cap == wlen fails too: the NUL needs its byte. */
        for (size_t cap = 0; cap <= wlen + 1; cap++) {
            bool clean = true;
            memset(out, CANARY, sizeof out);
            r = run_build(b, out, cap);
            for (size_t i = cap; i < sizeof out; i++)
                clean = clean && (uint8_t)out[i] == CANARY;
            CHECK(clean);
            if (cap <= wlen) {
                CHECK_EQ(r, WSX_ENOSPC);
                if (cap > 0)
                    CHECK_EQ(out[0], 0);
            } else {
                CHECK_EQ(r, wlen);
                CHECK(memcmp(out, b->want, wlen) == 0 && out[wlen] == 0);
            }
        }
    }
}

static void test_reason(void)
{
    CHECK(strcmp(wsx_http_reason(101), "Switching Protocols") == 0);
    CHECK(strcmp(wsx_http_reason(400), "Bad Request") == 0);
    CHECK(strcmp(wsx_http_reason(426), "Upgrade Required") == 0);
    CHECK(strcmp(wsx_http_reason(431), "Request Header Fields Too Large") == 0);
    CHECK(strcmp(wsx_http_reason(503), "Service Unavailable") == 0);
    CHECK(strcmp(wsx_http_reason(0), "Unknown") == 0);
    CHECK(strcmp(wsx_http_reason(-1), "Unknown") == 0);
    CHECK(strcmp(wsx_http_reason(999), "Unknown") == 0);
}

/* Builders and parsers agree: random keys through request, check, 101
 * and response; and an error response's Content-Length matches its body. */
static void test_round_trip(void)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    wsx_client_opts o = {"example.com:8080", "/chat?room=1", "http://x",
                         "chat, superchat", "permessage-deflate", "X-A: 1\r\n"};

    for (int i = 0; i < 200; i++) {
        uint8_t raw[16];
        char key[25], acc[WSX_ACCEPT_KEY_LEN + 1], buf[512];
        const char *k = NULL;
        size_t klen = 0;
        wsx_header h[MAXH];
        wsx_http_request req;
        wsx_http_response res;
        const wsx_header *a;

        for (int j = 0; j < 16; j++)
            raw[j] = (uint8_t)test_rand(&seed);
        wsx_base64_encode(key, raw, 16);
        int n = wsx_http_build_request(buf, sizeof buf, &o, key);
        CHECK(n > 0);
        CHECK_EQ(wsx_http_parse_request(&req, h, MAXH, (uint8_t *)buf,
                                        (size_t)n),
                 n);
        CHECK_EQ(wsx_http_check_upgrade(&req, &k, &klen), 0);
        CHECK(klen == 24 && memcmp(k, key, 24) == 0);
        CHECK(req.target_len == 12 && memcmp(req.target, "/chat?room=1", 12) == 0);
        CHECK(wsx_http_has_token(h, req.num_headers, "Sec-WebSocket-Protocol",
                                 "superchat"));

        n = wsx_http_build_accept(buf, sizeof buf, key, 24, "chat", NULL, NULL);
        CHECK(n > 0);
        CHECK_EQ(wsx_http_parse_response(&res, h, MAXH, (uint8_t *)buf,
                                         (size_t)n),
                 n);
        CHECK_EQ(res.status, 101);
        CHECK(wsx_http_has_token(h, res.num_headers, "Upgrade", "websocket"));
        CHECK(wsx_http_has_token(h, res.num_headers, "Connection", "upgrade"));
        wsx_accept_key(acc, key, 24);
        a = wsx_http_find(h, res.num_headers, "sec-websocket-accept");
        CHECK(a && a->value_len == 28 && memcmp(a->value, acc, 28) == 0);
    }

    static const int codes[] = {400, 401, 403, 404, 426, 431, 500, 503};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        char buf[512];
        wsx_header h[MAXH];
        wsx_http_response res;
        const wsx_header *cl;
        int n = wsx_http_build_error(buf, sizeof buf, codes[i], NULL);
        int head = wsx_http_parse_response(&res, h, MAXH, (uint8_t *)buf,
                                           (size_t)n);

        CHECK(n > 0 && head > 0 && head < n);
        CHECK_EQ(res.status, codes[i]);
        CHECK(wsx_http_has_token(h, res.num_headers, "Connection", "close"));
        cl = wsx_http_find(h, res.num_headers, "Content-Length");
        CHECK(cl && (size_t)atoi(cl->value) == (size_t)(n - head));
        CHECK_EQ(wsx_http_has_token(h, res.num_headers, "Upgrade", "websocket"),
                 codes[i] == 426);
        CHECK_EQ(wsx_http_has_token(h, res.num_headers, "Connection", "upgrade"),
                 codes[i] == 426);
    }
}

/* Every byte value inside a field name and inside a field value: the
 * parser's class table agrees with http_chars.h's definitions (a tchar
 * or the ':' that ends the name; field-content), both for the parse and
 * for the upgrade check that follows. */
static void test_field_bytes(void)
{
    for (int b = 0; b < 256; b++) {
        char in[256];
        wsx_header h[MAXH];
        wsx_http_request req;
        int n = snprintf(in, sizeof in, RL HOST "X-A%cB: v\r\n" UPG CONN SKEY VER
                         "\r\n", b);
        int r = wsx_http_parse_request(&req, h, MAXH, (const uint8_t *)in,
                                       (size_t)n);
        bool name_ok = wsx_http_is_tchar((uint8_t)b) || b == ':';
        CHECK_EQ(r, name_ok ? n : WSX_EHTTP);
        if (r > 0) {
            CHECK_EQ(h[1].name_len, b == ':' ? 3u : 5u);
            CHECK_EQ(wsx_http_check_upgrade(&req, NULL, NULL), 0);
        }
        n = snprintf(in, sizeof in, RL HOST "X-V: a%cb\r\n" UPG CONN SKEY VER
                     "\r\n", b);
        r = wsx_http_parse_request(&req, h, MAXH, (const uint8_t *)in,
                                   (size_t)n);
        CHECK_EQ(r, wsx_http_is_field((uint8_t)b) ? n : WSX_EHTTP);
        if (r > 0) {
            CHECK_EQ(h[1].value_len, 3u);
            CHECK_EQ(wsx_http_check_upgrade(&req, NULL, NULL), 0);
        }
    }
}

/* Content-Length digits (printed with 32-bit divisions only) against
 * printf, at the edges of every 16- and 32-bit piece. */
static void test_content_length(void)
{
    static const uint64_t v[] = {0, 7, 9, 10, 65535, 65536, 655359, 4294967295u,
                                 4294967296u, 4294967305u, 42949672959ull,
                                 10000000000000000000ull, 18446744073709551614ull};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        if (v[i] >= (uint64_t)WSX_HTTP_UNTIL_CLOSE)
            continue;
        char out[512], want[64];
        int n = wsx_http_build_response(out, sizeof out, 200, NULL, NULL,
                                        (size_t)v[i]);
        CHECK(n > 0);
        snprintf(want, sizeof want, "\r\nContent-Length: %llu\r\n",
                 (unsigned long long)v[i]);
        CHECK(n > 0 && strstr(out, want) != NULL);
    }
}

int main(void)
{
    RUN(test_request_cases);
    RUN(test_request_fields);
    RUN(test_field_bytes);
    RUN(test_content_length);
    RUN(test_response_cases);
    RUN(test_list_next);
    RUN(test_find_and_tokens);
    RUN(test_builders);
    RUN(test_reason);
    RUN(test_round_trip);
    return test_summary("test_http");
}
