/* test_conn.c - the server connection against hand-made client bytes:
 * handshake answers, every RFC 6455 protocol error with its close code
 * (each input fed whole, byte by byte and at random splits), the close
 * handshake, timers, backpressure, pull mode and HTTP answers. */
#include "conn.h"
#include "conn_util.h"

static wsx_config scfg;
static wsx_callbacks scb;

static void server_open(ep *e)
{
    memset(e, 0, sizeof *e);
    e->rng = 42;
    e->c = wsx_conn_new(&scfg, &scb, e);
    wsx_conn_tick(e->c, 1);
    uint8_t buf[sizeof rfc_request];
    memcpy(buf, rfc_request, sizeof rfc_request - 1);
    wsx_conn_feed(e->c, buf, sizeof rfc_request - 1);
    ep_reset_out(e);
}

static void test_handshake(void)
{
    for (int mode = 0; mode < 3; mode++) {
        ep e;
        uint64_t rng = 7;
        memset(&e, 0, sizeof e);
        e.c = wsx_conn_new(&scfg, &scb, &e);
        CHECK(e.c != NULL);
        CHECK_EQ(feed_split(e.c, (const uint8_t *)rfc_request,
                            sizeof rfc_request - 1, mode, &rng), 0);
        e.out[e.out_len < e.out_cap ? e.out_len : 0] = 0;
        CHECK(e.out_len > 0 && strstr((char *)e.out, "HTTP/1.1 101 ") == (char *)e.out);
        CHECK(strstr((char *)e.out, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL);
        /* No subprotocol chosen by the app: none in the answer. */
        CHECK(strstr((char *)e.out, "Sec-WebSocket-Protocol") == NULL);
        CHECK_EQ(e.opens, 1);
        CHECK_EQ(wsx_conn_state(e.c), WSX_STATE_OPEN);
        ep_fini(&e);
    }
}

/* Requests that must be refused, with the HTTP status. */
static const struct {
    const char *req;
    int status;
} bad_requests[] = {
    {"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", 426},
    {"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400},
    {"GET / HTTP/1.0\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 426},
    {"GARBAGE\r\n\r\n", 400},
};

static void test_bad_requests(void)
{
    for (size_t i = 0; i < sizeof bad_requests / sizeof *bad_requests; i++) {
        for (int mode = 0; mode < 2; mode++) {
            ep e;
            uint64_t rng = 1;
            char want[32];
            memset(&e, 0, sizeof e);
            e.c = wsx_conn_new(&scfg, &scb, &e);
            int r = feed_split(e.c, (const uint8_t *)bad_requests[i].req,
                               strlen(bad_requests[i].req), mode, &rng);
            CHECK(r < 0);
            snprintf(want, sizeof want, "HTTP/1.1 %d ", bad_requests[i].status);
            CHECK(e.out_len > 12 && !memcmp(e.out, want, strlen(want)));
            if (bad_requests[i].status == 426)
                CHECK(mem_find(e.out, e.out_len, "Sec-WebSocket-Version: 13", 25) != NULL);
            CHECK(wsx_conn_done(e.c));
            CHECK_EQ(e.closes, 1);
            CHECK_EQ(e.opens, 0);
            ep_fini(&e);
        }
    }
    /* An endless head hits max_header_size: 431. */
    ep e;
    memset(&e, 0, sizeof e);
    e.c = wsx_conn_new(&scfg, &scb, &e);
    uint8_t junk[1000];
    memset(junk, 'a', sizeof junk);
    memcpy(junk, "GET / HTTP/1.1\r\nX: ", 19);
    int r = 0;
    for (int i = 0; i < 20 && r == 0; i++) {
        r = wsx_conn_feed(e.c, junk, sizeof junk);
        memset(junk, 'a', sizeof junk);
    }
    CHECK_EQ(r, WSX_EHDRSIZE);
    CHECK(e.out_len > 12 && !memcmp(e.out, "HTTP/1.1 431 ", 13));
    ep_fini(&e);
}

/* Frames after a good handshake and the close code they must cause. */
typedef struct {
    const char *name;
    uint8_t bytes[300];
    size_t len; /* 0: build from the parts below */
    int code;   /* expected close code, 0: none (connection stays open) */
} proto_case;

static size_t build_case(uint8_t *out, int which)
{
    uint8_t big[130];
    memset(big, 'x', sizeof big);
    size_t n = 0;
    switch (which) {
    case 0: return client_frame(out, 0xC1, "a", 1);          /* RSV1 */
    case 1: return client_frame(out, 0xA1, "a", 1);          /* RSV2 */
    case 2: return client_frame(out, 0x91, "a", 1);          /* RSV3 */
    case 3: return client_frame(out, 0x83, "a", 1);          /* opcode 3 */
    case 4: return client_frame(out, 0x87, "a", 1);          /* opcode 7 */
    case 5: return client_frame(out, 0x8B, "a", 1);          /* opcode B */
    case 6: return client_frame(out, 0x8F, "a", 1);          /* opcode F */
    case 7: return client_frame(out, 0x09, "a", 1);          /* ping FIN=0 */
    case 8: return client_frame(out, 0x89, big, 126);        /* ping 126 */
    case 9: return client_frame(out, 0x80, "a", 1);          /* lone cont */
    case 10:
        n = client_frame(out, 0x01, "a", 1);                 /* text, text */
        return n + client_frame(out + n, 0x81, "b", 1);
    case 11: {                                               /* unmasked */
        out[0] = 0x81; out[1] = 0x01; out[2] = 'a';
        return 3;
    }
    case 12: return client_frame(out, 0x81, "\xff", 1);       /* bad UTF-8 */
    case 13: return client_frame(out, 0x01, "\xed\xa0\x80", 3); /* surrogate, fail fast */
    case 14: return client_frame(out, 0x88, "\x03", 1);       /* close 1 byte */
    case 15: return client_frame(out, 0x88, "\x03\xed", 2);   /* close 1005 */
    case 16: return client_frame(out, 0x88, "\x03\xe7", 2);   /* close 999 */
    case 17: return client_frame(out, 0x88, "\x13\x88", 2);   /* close 5000 */
    case 18: return client_frame(out, 0x88, "\x03\xe8\xc0\xaf", 4); /* bad reason */
    case 19: return client_frame(out, 0x88, "\x03\xe8ok", 4); /* good close */
    case 20: return client_frame(out, 0x88, "", 0);           /* empty close */
    case 21: return client_frame(out, 0x88, "\x0b\xb8", 2);   /* 3000 ok */
    case 22: return client_frame(out, 0x81, "\xce\xba\xe1\xbd\xb9", 5); /* valid */
    case 23:                                                  /* too big */
        return client_frame(out, 0x82, big, 101);
    case 24:
        n = client_frame(out, 0x01, "\xce", 1);               /* split char ok */
        return n + client_frame(out + n, 0x80, "\xba", 1);
    case 25:
        n = client_frame(out, 0x01, "\xce", 1);               /* truncated at end */
        return n + client_frame(out + n, 0x80, "", 0);
    case 26: return client_frame(out, 0x88, "\x03\xf3", 2);   /* close 1011 ok */
    case 27: return client_frame(out, 0x88, "\x03\xf7", 2);   /* close 1015 */
    default: return 0;
    }
}

static const int case_codes[] = {
    1002, 1002, 1002, 1002, 1002, 1002, 1002, 1002, 1002, 1002, 1002, 1002,
    1007, 1007, 1002, 1002, 1002, 1002, 1007, 1000, 1005, 3000, 0, 1009,
    0, 1007, 1011, 1002,
};

static void test_protocol_errors(void)
{
    for (int i = 0; i < (int)(sizeof case_codes / sizeof *case_codes); i++) {
        for (int mode = 0; mode < 3; mode++) {
            uint8_t in[400];
            uint64_t rng = (uint64_t)i * 31 + 5;
            size_t n = build_case(in, i);
            ep e;
            server_open(&e);
            int r = feed_split(e.c, in, n, mode, &rng);
            int want = case_codes[i];
            int got = server_close_code(e.out, e.out_len);
            if (want == 0) {
                CHECK_EQ(got, -1);
                CHECK_EQ(r, 0);
                CHECK_EQ(wsx_conn_state(e.c), WSX_STATE_OPEN);
                if (i == 24 || i == 22)
                    CHECK_EQ(e.msgs, 1);
            } else if (want == 1000 || want == 1005 || want == 3000 || want == 1011) {
                /* A valid close is echoed (RFC 6455 §5.5.1). */
                CHECK_EQ(r, 0);
                CHECK_EQ(got, want);
                CHECK_EQ(e.close_code, want);
                CHECK(e.close_clean);
                CHECK(wsx_conn_done(e.c));
            } else {
                if (got != want)
                    fprintf(stderr, "  case %d mode %d: close %d, want %d\n", i, mode, got, want);
                CHECK_EQ(got, want);
                CHECK(r < 0);
                CHECK_EQ(e.closes, 1);
                CHECK_EQ(e.close_code, want);
                CHECK(!e.close_clean);
                CHECK(wsx_conn_done(e.c));
                /* Sticky: more input is refused with the same error. */
                CHECK_EQ(wsx_conn_feed(e.c, in, 0), r);
                CHECK_EQ(wsx_send(e.c, WSX_TEXT, "x", 1), r);
            }
            ep_fini(&e);
        }
    }
}

static void test_fragments_and_pings(void)
{
    uint8_t in[256];
    size_t n = 0;
    n += client_frame(in + n, 0x01, "Hel", 3);
    n += client_frame(in + n, 0x89, "p1", 2);
    n += client_frame(in + n, 0x00, "lo ", 3);
    n += client_frame(in + n, 0x8A, "x", 1);
    n += client_frame(in + n, 0x80, "world", 5);
    for (int mode = 0; mode < 3; mode++) {
        uint64_t rng = 99;
        ep e;
        server_open(&e);
        CHECK_EQ(feed_split(e.c, in, n, mode, &rng), 0);
        CHECK_EQ(e.msgs, 1);
        CHECK(e.msg_len == 11 && !memcmp(e.msg, "Hello world", 11));
        CHECK_EQ(e.pongs, 1);
        /* The pong for p1, unmasked, same payload. */
        CHECK(e.out_len == 4 && !memcmp(e.out, "\x8a\x02p1", 4));
        ep_fini(&e);
    }
}

static void test_close_initiated(void)
{
    ep e;
    server_open(&e);
    CHECK_EQ(wsx_close(e.c, 1000, "bye"), 0);
    CHECK(e.out_len == 7 && !memcmp(e.out, "\x88\x05\x03\xe8" "bye", 7));
    CHECK_EQ(wsx_conn_state(e.c), WSX_STATE_CLOSING);
    CHECK_EQ(wsx_send(e.c, WSX_TEXT, "x", 1), WSX_ECLOSED);
    CHECK_EQ(wsx_close(e.c, 1000, NULL), WSX_ECLOSED);
    /* Data still in flight from the peer is delivered, then its close. */
    uint8_t in[64];
    size_t n = client_frame(in, 0x81, "late", 4);
    n += client_frame(in + n, 0x88, "\x03\xe8", 2);
    CHECK_EQ(wsx_conn_feed(e.c, in, n), 0);
    CHECK_EQ(e.msgs, 1);
    CHECK_EQ(e.close_code, 1000);
    CHECK(e.close_clean);
    CHECK(wsx_conn_done(e.c));
    CHECK_EQ(e.out_len, 7); /* no second close frame */
    ep_fini(&e);
    /* Invalid arguments. */
    server_open(&e);
    CHECK_EQ(wsx_close(e.c, 1005, NULL), WSX_EINVAL);
    CHECK_EQ(wsx_close(e.c, 0, "reason"), WSX_EINVAL);
    CHECK_EQ(wsx_close(e.c, 1000, "\xff"), WSX_EINVAL);
    CHECK_EQ(wsx_ping(e.c, in, 126), WSX_EINVAL);
    ep_fini(&e);
}

static void test_timers(void)
{
    ep e;
    /* Handshake timeout: half a request, then silence. */
    memset(&e, 0, sizeof e);
    e.c = wsx_conn_new(&scfg, &scb, &e);
    CHECK_EQ(wsx_conn_tick(e.c, 1000), 1000 + scfg.handshake_timeout_ms);
    uint8_t half[] = "GET / HTTP/1.1\r\nHost: a\r\n";
    wsx_conn_feed(e.c, half, sizeof half - 1);
    wsx_conn_tick(e.c, 1000 + scfg.handshake_timeout_ms);
    CHECK_EQ(e.closes, 1);
    CHECK_EQ(e.close_error, WSX_ETIMEOUT);
    CHECK(wsx_conn_done(e.c) || wsx_conn_wants_write(e.c));
    ep_fini(&e);

    /* Close timeout: our close is never answered. */
    server_open(&e);
    wsx_close(e.c, 1000, NULL);
    uint64_t d = wsx_conn_tick(e.c, 5000);
    CHECK_EQ(d, 5000 + scfg.close_timeout_ms);
    wsx_conn_tick(e.c, d);
    CHECK_EQ(e.closes, 1);
    CHECK_EQ(e.close_code, 1006);
    CHECK(!e.close_clean);
    ep_fini(&e);

    /* Keep-alive ping after silence, then idle timeout. */
    wsx_config cfg = scfg;
    cfg.ping_interval_ms = 100;
    cfg.idle_timeout_ms = 250;
    memset(&e, 0, sizeof e);
    e.c = wsx_conn_new(&cfg, &scb, &e);
    wsx_conn_tick(e.c, 10);
    uint8_t req[sizeof rfc_request];
    memcpy(req, rfc_request, sizeof req);
    wsx_conn_feed(e.c, req, sizeof rfc_request - 1);
    CHECK_EQ(wsx_conn_tick(e.c, 20), 120);
    ep_reset_out(&e);
    uint64_t next = wsx_conn_tick(e.c, 120);
    CHECK(e.out_len == 2 && e.out[0] == 0x89);
    CHECK_EQ(next, 270);
    /* A pong counts as life. */
    uint8_t pong[16];
    size_t pn = client_frame(pong, 0x8A, "", 0);
    wsx_conn_feed(e.c, pong, pn);
    CHECK_EQ(wsx_conn_tick(e.c, 150), 250);
    ep_reset_out(&e);
    wsx_conn_tick(e.c, 250); /* second ping */
    CHECK(e.out_len == 2 && e.out[0] == 0x89);
    wsx_conn_tick(e.c, 400); /* idle: close 1001 */
    CHECK_EQ(server_close_code(e.out, e.out_len), 1001);
    CHECK_EQ(wsx_conn_state(e.c), WSX_STATE_CLOSING);
    ep_fini(&e);
}

static long block_send(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    (void)c;
    (void)p;
    (void)len;
    (void)user;
    return WSX_EAGAIN;
}

static void test_backpressure(void)
{
    wsx_config cfg = scfg;
    wsx_callbacks cb = scb;
    cfg.high_water = 1000;
    cfg.low_water = 100;
    ep e;
    server_open(&e);
    wsx_conn_free(e.c);
    e.c = wsx_conn_new(&cfg, &cb, &e);
    uint8_t req[sizeof rfc_request];
    memcpy(req, rfc_request, sizeof req);
    wsx_conn_feed(e.c, req, sizeof rfc_request - 1);
    ep_reset_out(&e);
    cb.send = block_send;
    uint8_t payload[300];
    memset(payload, 'p', sizeof payload);
    int sent = 0;
    while (wsx_send(e.c, WSX_BINARY, payload, sizeof payload) == 0)
        sent++;
    CHECK_EQ(sent, 4); /* 4 x 304 bytes: the 5th finds 1216 > 1000 */
    CHECK_EQ(wsx_buffered_amount(e.c), 4 * 304);
    CHECK_EQ(wsx_send(e.c, WSX_BINARY, payload, 1), WSX_EFULL);
    CHECK_EQ(e.drains, 0);
    /* Pull a little: still above low water, no drain. */
    const uint8_t *p;
    CHECK_EQ(wsx_conn_pending(e.c, &p), 4 * 304);
    CHECK(p[0] == 0x82 && p[1] == 126);
    wsx_conn_advance(e.c, 1000);
    CHECK_EQ(e.drains, 0);
    wsx_conn_advance(e.c, 116);
    CHECK_EQ(e.drains, 1);
    CHECK_EQ(wsx_buffered_amount(e.c), 100);
    cb.send = ep_send;
    CHECK_EQ(wsx_conn_flush(e.c), 0);
    CHECK_EQ(e.out_len, 100);
    ep_fini(&e);
}

/* What a TLS stream would still hold after taking bytes from send. */
static size_t transport_held;
static size_t held_queued(const wsx_conn *c, void *user)
{
    (void)c;
    (void)user;
    return transport_held;
}

/* The transport's own queue counts in wsx_buffered_amount, the high-water
 * mark and on_drain, which fires at the flush after it has gone. */
static void test_transport_queued(void)
{
    wsx_config cfg = scfg;
    wsx_callbacks cb = scb;
    cfg.high_water = 1000;
    cfg.low_water = 100;
    cb.queued = held_queued;
    ep e;
    memset(&e, 0, sizeof e);
    e.c = wsx_conn_new(&cfg, &cb, &e);
    uint8_t req[sizeof rfc_request];
    memcpy(req, rfc_request, sizeof req);
    CHECK_EQ(wsx_conn_feed(e.c, req, sizeof rfc_request - 1), 0);
    transport_held = 900;
    CHECK_EQ(wsx_buffered_amount(e.c), 900);
    uint8_t payload[200];
    memset(payload, 'p', sizeof payload);
    CHECK_EQ(wsx_send(e.c, WSX_BINARY, payload, sizeof payload), 0);
    /* The core handed its 204 bytes on; the transport holds 1,104. */
    transport_held += 204;
    CHECK_EQ(wsx_buffered_amount(e.c), 1104);
    CHECK_EQ(wsx_send(e.c, WSX_BINARY, payload, 1), WSX_EFULL);
    CHECK_EQ(wsx_conn_flush(e.c), 0);
    CHECK_EQ(e.drains, 0);
    transport_held = 150; /* above low water: no drain yet */
    CHECK_EQ(wsx_conn_flush(e.c), 0);
    CHECK_EQ(e.drains, 0);
    transport_held = 0;
    CHECK_EQ(wsx_conn_flush(e.c), 0);
    CHECK_EQ(e.drains, 1);
    CHECK_EQ(wsx_send(e.c, WSX_BINARY, payload, 1), 0);
    ep_fini(&e);
}

static void on_http(wsx_conn *c, const wsx_http_request *req, void *user)
{
    (void)user;
    if (req->target_len == 1 && req->target[0] == '/')
        wsx_http_respond(c, 200, "text/html", NULL, "<p>hi</p>", 9);
}

static int on_handshake(wsx_conn *c, const wsx_handshake *hs,
                        wsx_handshake_reply *reply, void *user)
{
    (void)c;
    (void)user;
    const wsx_header *h = wsx_http_find(hs->request->headers,
                                        hs->request->num_headers, "Origin");
    if (h && h->value_len == 4 && !memcmp(h->value, "evil", 4))
        return 403;
    reply->protocol = "superchat";
    return 0;
}

static void test_http_and_reply(void)
{
    wsx_callbacks cb = scb;
    cb.on_http = on_http;
    cb.on_handshake = on_handshake;
    ep e;
    memset(&e, 0, sizeof e);
    e.c = wsx_conn_new(&scfg, &cb, &e);
    uint8_t get[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    CHECK_EQ(wsx_conn_feed(e.c, get, sizeof get - 1), 0);
    CHECK(e.out_len > 20 && !memcmp(e.out, "HTTP/1.1 200 ", 13));
    CHECK(mem_find(e.out, e.out_len, "<p>hi</p>", 9) != NULL);
    CHECK(wsx_conn_done(e.c));
    ep_fini(&e);

    memset(&e, 0, sizeof e);
    e.c = wsx_conn_new(&scfg, &cb, &e);
    uint8_t other[] = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
    wsx_conn_feed(e.c, other, sizeof other - 1);
    CHECK(e.out_len > 20 && !memcmp(e.out, "HTTP/1.1 426 ", 13));
    ep_fini(&e);

    memset(&e, 0, sizeof e);
    e.c = wsx_conn_new(&scfg, &cb, &e);
    uint8_t req[sizeof rfc_request];
    memcpy(req, rfc_request, sizeof req);
    wsx_conn_feed(e.c, req, sizeof rfc_request - 1);
    CHECK(mem_find(e.out, e.out_len, "Sec-WebSocket-Protocol: superchat\r\n", 35) != NULL);
    CHECK(wsx_conn_protocol(e.c) && !strcmp(wsx_conn_protocol(e.c), "superchat"));
    ep_fini(&e);

    char evil[512];
    strcpy(evil, rfc_request);
    memcpy(strstr(evil, "Origin: ") + 8, "evil\r\nX-Pad:", 12);
    memset(&e, 0, sizeof e);
    e.c = wsx_conn_new(&scfg, &cb, &e);
    wsx_conn_feed(e.c, (uint8_t *)evil, strlen(evil));
    CHECK(e.out_len > 20 && !memcmp(e.out, "HTTP/1.1 403 ", 13));
    CHECK_EQ(e.opens, 0);
    ep_fini(&e);
}

static void test_free_in_close(void)
{
    ep e;
    server_open(&e);
    e.free_on_close = true;
    uint8_t in[32];
    size_t n = client_frame(in, 0x88, "\x03\xe8", 2);
    CHECK_EQ(wsx_conn_feed(e.c, in, n), 0);
    CHECK(e.c == NULL); /* freed from on_close; nothing touched after */
    ep_fini(&e);
}

static void test_limits(void)
{
    CHECK(wsx_close_code_valid(1000));
    CHECK(!wsx_close_code_valid(1004));
    CHECK(!wsx_close_code_valid(1005));
    CHECK(!wsx_close_code_valid(1006));
    CHECK(wsx_close_code_valid(1014));
    CHECK(!wsx_close_code_valid(1015));
    CHECK(!wsx_close_code_valid(2999));
    CHECK(wsx_close_code_valid(4999));
    CHECK(!wsx_close_code_valid(5000));
    printf("sizeof(wsx_conn) = %zu bytes\n", sizeof(struct wsx_conn));
}

/* transport_size: the transport's area and the connection are one
 * allocation, the area zeroed and in front, the connection at the next
 * multiple of 8, all of it freed together, the area the transport
 * pointer for good; the connection works as usual (a handshake, an
 * echo). */
static void test_transport_area(void)
{
    static const size_t sizes[] = {0, 8, 13, 48};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        test_alloc ta;
        memset(&ta, 0, sizeof ta);
        ep e;
        memset(&e, 0, sizeof e);
        wsx_config cfg;
        wsx_config_init(&cfg, WSX_SERVER);
        cfg.alloc = test_allocator(&ta);
        cfg.transport_size = sizes[i];
        wsx_callbacks cb;
        ep_callbacks(&cb);
        wsx_conn *c = wsx_conn_new(&cfg, &cb, &e);
        CHECK(c != NULL);
        CHECK_EQ(ta.allocs, 1);
        /* Without an area, 8 bytes keep the transport pointer. */
        size_t pre = sizes[i] ? (sizes[i] + 7) / 8 * 8 : 8;
        CHECK_EQ(ta.live_bytes, pre + sizeof(struct wsx_conn));
        uint8_t *area = wsx_conn_transport(c);
        if (!sizes[i]) {
            CHECK(area == NULL);
        } else {
            CHECK(area + pre == (uint8_t *)c);
            size_t zero = 0;
            while (zero < sizes[i] && area[zero] == 0)
                zero++;
            CHECK_EQ(zero, sizes[i]);
            memset(area, 0xa5, sizes[i]); /* the transport's to use */
        }
        e.c = c;
        CHECK_EQ(wsx_conn_feed(c, (uint8_t *)rfc_request, sizeof rfc_request - 1), 0);
        CHECK_EQ(e.opens, 1);
        uint8_t buf[64];
        size_t n = client_frame(buf, 0x82, "abc", 3);
        CHECK_EQ(wsx_conn_feed(c, buf, n), 0);
        CHECK_EQ(e.msgs, 1);
        /* The area stays the transport; a pointer is kept otherwise. */
        wsx_conn_set_transport(c, &e);
        CHECK(wsx_conn_transport(c) == (sizes[i] ? (void *)area : (void *)&e));
        ep_fini(&e);
        CHECK_EQ(ta.live, 0);
        CHECK_EQ(ta.live_bytes, 0);
    }
}

/* Buffers count in 32 bits: past WSX_BUF_MAX a reserve fails before it
 * allocates, and up to it the capacity stays representable. */
static void test_buf_limit(void)
{
    test_alloc ta;
    memset(&ta, 0, sizeof ta);
    wsx_config cfg;
    wsx_config_init(&cfg, WSX_SERVER);
    cfg.alloc = test_allocator(&ta);
    wsx_callbacks cb;
    ep_callbacks(&cb);
    wsx_conn *c = wsx_conn_new(&cfg, &cb, NULL);
    wsx_buf b;
    memset(&b, 0, sizeof b);
    long before = ta.allocs;
    CHECK_EQ(wsx__buf_reserve(c, &b, WSX_BUF_MAX + 1), WSX_ENOMEM);
    CHECK_EQ(ta.allocs, before);
    CHECK_EQ(wsx__buf_reserve(c, &b, 1000), 0);
    CHECK_EQ(b.cap, 1024);
    b.len = 1000;
    CHECK_EQ(wsx__buf_reserve(c, &b, WSX_BUF_MAX - 999), WSX_ENOMEM);
    CHECK_EQ(b.cap, 1024);
    wsx__buf_release(c, &b);
    wsx_conn_free(c);
    CHECK_EQ(ta.live, 0);
}

int main(void)
{
    wsx_config_init(&scfg, WSX_SERVER);
    scfg.max_message_size = 100;
    scfg.max_frame_size = 1000;
    ep_callbacks(&scb);
    RUN(test_handshake);
    RUN(test_bad_requests);
    RUN(test_protocol_errors);
    RUN(test_fragments_and_pings);
    RUN(test_close_initiated);
    RUN(test_timers);
    RUN(test_backpressure);
    RUN(test_transport_queued);
    RUN(test_http_and_reply);
    RUN(test_free_in_close);
    RUN(test_limits);
    RUN(test_transport_area);
    RUN(test_buf_limit);
    return test_summary("conn");
}
