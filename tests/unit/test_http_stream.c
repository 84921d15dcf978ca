/* test_http_stream.c - plain HTTP requests past on_http (wsx_http.h), on
 * a server connection in pull mode: bodies fed in any split, the 413 and
 * 411 refusals, held requests answered later or timed out, streamed
 * responses with heartbeats, Server-Sent Events framing and the drop of a
 * client that stops reading. */
#include "test.h"
#include "wsx_http.h"


typedef enum action { ACT_NONE, ACT_RESPOND, ACT_HOLD, ACT_SSE } action;

typedef struct rec {
    action act;
    int https, closes, close_error;
    uint16_t close_code;
    bool close_clean;
    char body[256];
    size_t body_len;
    char last_id[64];
} rec;

static void on_http(wsx_conn *c, const wsx_http_request *req, void *user)
{
    rec *r = user;
    size_t n;
    const uint8_t *b = wsx_http_body(c, &n);
    r->https++;
    r->body_len = n < sizeof r->body ? n : sizeof r->body;
    if (b)
        memcpy(r->body, b, r->body_len);
    const char *id = wsx_sse_last_event_id(req, &n);
    if (id && n < sizeof r->last_id)
        memcpy(r->last_id, id, n);
    switch (r->act) {
    case ACT_RESPOND:
        wsx_http_respond(c, 200, "text/plain", NULL, "ok", 2);
        break;
    case ACT_HOLD:
        CHECK_EQ(wsx_http_hold(c), 0);
        break;
    case ACT_SSE:
        CHECK_EQ(wsx_sse_begin(c, 1000, NULL), 0);
        break;
    default:
        break;
    }
}

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    rec *r = user;
    (void)c;
    r->closes++;
    r->close_code = ci->code;
    r->close_error = ci->error;
    r->close_clean = ci->clean;
}

static wsx_config cfg;
static wsx_callbacks cb;

static wsx_conn *server(rec *r, action act)
{
    memset(r, 0, sizeof *r);
    r->act = act;
    wsx_callbacks_init(&cb);
    cb.on_http = on_http;
    cb.on_close = on_close;
    wsx_conn *c = wsx_conn_new(&cfg, &cb, r);
    wsx_conn_tick(c, 0);
    return c;
}

static void feed(wsx_conn *c, const char *s, size_t step)
{
    size_t n = strlen(s);
    for (size_t off = 0; off < n; off += step) {
        uint8_t b[256];
        size_t k = n - off < step ? n - off : step;
        memcpy(b, s + off, k);
        wsx_conn_feed(c, b, k);
    }
}

/* Everything queued so far, taken out, as a string. */
static const char *take(wsx_conn *c)
{
    static char out[4096];
    const uint8_t *p;
    size_t n, len = 0;
    while ((n = wsx_conn_pending(c, &p)) && len + n < sizeof out) {
        memcpy(out + len, p, n);
        len += n;
        wsx_conn_advance(c, n);
    }
    out[len] = 0;
    return out;
}

static void test_post_body_any_split(void)
{
    static const char req[] = "POST /send HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: 11\r\n\r\nhello world";
    for (size_t step = 1; step <= sizeof req; step++) {
        rec r;
        wsx_conn *c = server(&r, ACT_RESPOND);
        feed(c, req, step);
        CHECK_EQ(r.https, 1);
        CHECK_EQ(r.body_len, 11);
        CHECK(!memcmp(r.body, "hello world", 11));
        CHECK(strstr(take(c), "200 OK") != NULL);
        CHECK(wsx_conn_done(c));
        CHECK_EQ(r.closes, 1);
        CHECK(r.close_clean);
        wsx_conn_free(c);
    }
}

static void test_body_limits(void)
{
    rec r;
    wsx_conn *c = server(&r, ACT_RESPOND);
    feed(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\nxx", 64);
    CHECK_EQ(r.https, 0);
    CHECK(!strncmp(take(c), "HTTP/1.1 413 ", 13));
    CHECK_EQ(r.close_error, WSX_ETOOBIG);
    wsx_conn_free(c);
    c = server(&r, ACT_RESPOND);
    feed(c, "POST / HTTP/1.1\r\nHost: x\r\n"
            "Content-Length: 99999999999999999999999\r\n\r\n", 64);
    CHECK(!strncmp(take(c), "HTTP/1.1 413 ", 13));
    wsx_conn_free(c);
    c = server(&r, ACT_RESPOND);
    feed(c, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 64);
    CHECK_EQ(r.https, 0);
    CHECK(!strncmp(take(c), "HTTP/1.1 411 ", 13));
    wsx_conn_free(c);
    c = server(&r, ACT_RESPOND);
    feed(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
            "Content-Length: 1\r\n\r\nx", 64);
    CHECK(!strncmp(take(c), "HTTP/1.1 400 ", 13));
    wsx_conn_free(c);
}

static void test_hold_then_respond(void)
{
    rec r;
    wsx_conn *c = server(&r, ACT_HOLD);
    feed(c, "GET /poll HTTP/1.1\r\nHost: x\r\n\r\n", 200);
    CHECK_EQ(wsx_conn_state(c), WSX_STATE_HTTP);
    CHECK_EQ(take(c)[0], 0);
    CHECK_EQ(wsx_http_hold(c), WSX_ESTATE); /* only from on_http */
    CHECK_EQ(wsx_http_respond(c, 200, "application/json", NULL, "[]", 2), 0);
    const char *out = take(c);
    CHECK(strstr(out, "Content-Length: 2\r\n\r\n[]") != NULL);
    CHECK(wsx_conn_done(c));
    CHECK_EQ(r.close_code, 1000);
    CHECK_EQ(wsx_http_respond(c, 200, NULL, NULL, NULL, 0), WSX_ESTATE);
    wsx_conn_free(c);
}

static void test_held_idle_timeout_and_end(void)
{
    rec r;
    cfg.idle_timeout_ms = 500;
    wsx_conn *c = server(&r, ACT_HOLD);
    feed(c, "GET /poll HTTP/1.1\r\nHost: x\r\n\r\n", 200);
    uint64_t next = wsx_conn_tick(c, 100);
    CHECK_EQ(next, 600);
    wsx_conn_tick(c, 600);
    CHECK(!strncmp(take(c), "HTTP/1.1 408 ", 13));
    CHECK_EQ(r.close_error, WSX_ETIMEOUT);
    wsx_conn_free(c);
    cfg.idle_timeout_ms = 0;
    c = server(&r, ACT_HOLD);
    feed(c, "GET /poll HTTP/1.1\r\nHost: x\r\n\r\n", 200);
    CHECK_EQ(wsx_http_stream_end(c), 0);
    CHECK(!strncmp(take(c), "HTTP/1.1 503 ", 13));
    wsx_conn_free(c);
}

static void test_sse_events_and_heartbeat(void)
{
    rec r;
    wsx_conn *c = server(&r, ACT_SSE);
    feed(c, "GET /events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 41\r\n\r\n", 7);
    CHECK(!strcmp(r.last_id, "41"));
    const char *head = take(c);
    CHECK(!strncmp(head, "HTTP/1.1 200 OK\r\n", 17));
    CHECK(strstr(head, "Content-Type: text/event-stream\r\n") != NULL);
    CHECK(strstr(head, "Cache-Control: no-store\r\n\r\n") != NULL);
    CHECK(strstr(head, "Content-Length") == NULL);
    CHECK_EQ(wsx_sse_send(c, "42", "say", "a\nb\r\nc\rd", 8), 0);
    CHECK(!strcmp(take(c), "id: 42\nevent: say\ndata:a\ndata:b\ndata:c\ndata:d\n\n"));
    CHECK_EQ(wsx_sse_send(c, NULL, NULL, "", 0), 0);
    CHECK(!strcmp(take(c), "data:\n\n"));
    CHECK_EQ(wsx_sse_send(c, NULL, NULL, "x\n", 2), 0);
    CHECK(!strcmp(take(c), "data:x\ndata:\n\n"));
    CHECK_EQ(wsx_sse_send(c, "4\n2", NULL, "x", 1), WSX_EINVAL);
    /* Silence: a comment after each second of it, not before. */
    CHECK_EQ(wsx_conn_tick(c, 10), 1010);
    CHECK_EQ(take(c)[0], 0);
    wsx_conn_tick(c, 1010);
    CHECK(!strcmp(take(c), ":\n\n"));
    CHECK_EQ(wsx_conn_tick(c, 1500), 2010);
    CHECK_EQ(wsx_http_stream_end(c), 0);
    CHECK(wsx_conn_done(c));
    CHECK_EQ(r.close_code, 1000);
    CHECK(r.close_clean);
    CHECK_EQ(wsx_sse_send(c, NULL, NULL, "x", 1), WSX_ECLOSED);
    wsx_conn_free(c);
}

static void test_slow_reader_dropped(void)
{
    rec r;
    cfg.high_water = 1000;
    wsx_conn *c = server(&r, ACT_SSE);
    feed(c, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n", 200);
    char ev[200];
    memset(ev, 'e', sizeof ev);
    int sent = 0, rc;
    while ((rc = wsx_sse_send(c, "1", NULL, ev, sizeof ev)) == 0)
        sent++;
    CHECK_EQ(rc, WSX_EFULL);
    CHECK(sent >= 4 && sent <= 6);
    CHECK_EQ(r.closes, 1);
    CHECK_EQ(r.close_error, WSX_EFULL);
    CHECK_EQ(wsx_buffered_amount(c), 0);
    CHECK(wsx_conn_done(c));
    wsx_conn_free(c);
    /* A plain stream refuses the write and keeps going. */
    c = server(&r, ACT_NONE);
    feed(c, "GET /s HTTP/1.1\r\nHost: x\r\n\r\n", 200);
    CHECK_EQ(r.closes, 1); /* not answered: 426 */
    wsx_conn_free(c);
    cfg.high_water = 0;
}

static void stream_on_http(wsx_conn *c, const wsx_http_request *req,
                           void *user)
{
    (void)req;
    (void)user;
    CHECK_EQ(wsx_http_stream_write(c, "x", 1), WSX_ESTATE);
    CHECK_EQ(wsx_http_stream_begin(c, 200, "text/plain", "X-A: 1\r\n"), 0);
    CHECK_EQ(wsx_http_stream_begin(c, 200, NULL, NULL), WSX_ESTATE);
}

static void test_plain_stream(void)
{
    rec r;
    memset(&r, 0, sizeof r);
    wsx_callbacks_init(&cb);
    cb.on_http = stream_on_http;
    cb.on_close = on_close;
    cfg.high_water = 8;
    wsx_conn *c = wsx_conn_new(&cfg, &cb, &r);
    feed(c, "GET /s HTTP/1.1\r\nHost: x\r\n\r\n", 200);
    CHECK(strstr(take(c), "X-A: 1\r\n\r\n") != NULL);
    CHECK_EQ(wsx_http_stream_write(c, "0123456789", 10), 0);
    CHECK_EQ(wsx_http_stream_write(c, "x", 1), WSX_EFULL);
    CHECK(!strcmp(take(c), "0123456789"));
    CHECK_EQ(wsx_http_stream_write(c, "y", 1), 0);
    CHECK(!strcmp(take(c), "y"));
    CHECK_EQ(r.closes, 0);
    wsx_conn_free(c);
    cfg.high_water = 0;
}

int main(void)
{
    wsx_config_init(&cfg, WSX_SERVER);
    cfg.max_message_size = 1024;
    RUN(test_post_body_any_split);
    RUN(test_body_limits);
    RUN(test_hold_then_respond);
    RUN(test_held_idle_timeout_and_end);
    RUN(test_sse_events_and_heartbeat);
    RUN(test_slow_reader_dropped);
    RUN(test_plain_stream);
    return test_summary("http_stream");
}
