/* test_client_refused.c - what a client and a server learn in on_close
 * about the opening handshake's HTTP status (RFC 6455 §4.1: a status
 * other than 101 fails the client's connection): WSX_EREFUSED with the
 * server's status, WSX_EHANDSHAKE with 101 for an invalid 101, and the
 * status a server refused an upgrade with; and wsx_conn_lost, through
 * which a transport names why it ended. Every answer is also fed one byte
 * at a time. */
#include "test.h"
#include "conn_util.h"


/* A client connection whose request has been sent; its accept key. */
static void client_start(ep *e, wsx_config *cfg, wsx_callbacks *cb,
                         char accept[WSX_ACCEPT_KEY_LEN + 1])
{
    memset(e, 0, sizeof *e);
    e->rng = 7;
    wsx_config_init(cfg, WSX_CLIENT);
    cfg->client.host = "127.0.0.1:9";
    cfg->client.path = "/";
    ep_callbacks(cb);
    e->c = wsx_conn_new(cfg, cb, e);
    CHECK(e->c != NULL);
    wsx_conn_tick(e->c, 0);
    wsx_conn_flush(e->c);
    const char *k = mem_find(e->out, e->out_len, "Sec-WebSocket-Key: ", 19);
    CHECK(k != NULL);
    k = k ? k + 19 : "x\r\n";
    const char *end = strstr(k, "\r\n");
    wsx_accept_key(accept, k, end ? (size_t)(end - k) : 1);
}

static void answer(int split, const char *head, int want_err,
                   uint16_t want_status)
{
    ep e;
    wsx_config cfg;
    wsx_callbacks cb;
    char accept[WSX_ACCEPT_KEY_LEN + 1], resp[512];
    client_start(&e, &cfg, &cb, accept);
    snprintf(resp, sizeof resp, head, accept);
    int r = feed_split(e.c, (const uint8_t *)resp, strlen(resp), split, &e.rng);
    CHECK_EQ(r, want_err);
    CHECK_EQ(wsx_conn_http_status(e.c), want_status);
    CHECK_EQ(e.closes, want_err ? 1 : 0);
    CHECK_EQ(e.opens, want_err ? 0 : 1);
    if (want_err) {
        CHECK_EQ(e.close_error, want_err);
        CHECK_EQ(e.close_code, WSX_CLOSE_ABNORMAL);
        CHECK_EQ(e.close_http, want_status);
        CHECK_EQ(wsx_conn_error(e.c), want_err);
    } else { /* open: the transport ends, on_close still tells the 101 */
        wsx_conn_eof(e.c);
        CHECK_EQ(e.closes, 1);
        CHECK_EQ(e.close_http, want_status);
    }
    ep_fini(&e);
}

#define UPGRADE "Upgrade: websocket\r\nConnection: Upgrade\r\n"

static void test_refused_statuses(void)
{
    static const struct {
        const char *head;
        uint16_t status;
    } cases[] = {
        {"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\n"
         "Content-Length: 0\r\n\r\n", 401},
        {"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", 403},
        {"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 404},
        {"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\r\n", 426},
        {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", 200},
        {"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n\r\n", 302},
        {"HTTP/1.1 500 Internal Server Error\r\n\r\n", 500},
        {"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n\r\n", 503},
        /* An upgrade-looking answer with another status is still refused. */
        {"HTTP/1.1 200 OK\r\n" UPGRADE "Sec-WebSocket-Accept: %s\r\n\r\n", 200},
    };
    for (int split = 0; split < 3; split++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            answer(split, cases[i].head, WSX_EREFUSED, cases[i].status);
}

static void test_invalid_101(void)
{
    static const char *const heads[] = {
        "HTTP/1.1 101 Switching Protocols\r\n" UPGRADE
        "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: %s\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\n" UPGRADE "\r\n",
    };
    for (int split = 0; split < 3; split++)
        for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
            answer(split, heads[i], WSX_EHANDSHAKE, 101);
    /* The valid 101 opens, and a later close reports 101. */
    answer(0, "HTTP/1.1 101 Switching Protocols\r\n" UPGRADE
              "Sec-WebSocket-Accept: %s\r\n\r\n", 0, 101);
}

static void test_server_side_status(void)
{
    static const struct {
        const char *req;
        uint16_t status;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: a\r\n" UPGRADE
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 8\r\n\r\n", 426},
        {"GET / HTTP/1.1\r\nHost: a\r\n" UPGRADE
         "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n", 400},
        {rfc_request, 101},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ep e;
        wsx_config cfg;
        wsx_callbacks cb;
        memset(&e, 0, sizeof e);
        e.rng = 3;
        wsx_config_init(&cfg, WSX_SERVER);
        ep_callbacks(&cb);
        e.c = wsx_conn_new(&cfg, &cb, &e);
        CHECK(e.c != NULL);
        CHECK_EQ(feed_split(e.c, (const uint8_t *)cases[i].req,
                            strlen(cases[i].req), 0, &e.rng),
                 cases[i].status == 101 ? 0 : wsx_conn_error(e.c));
        CHECK_EQ(wsx_conn_http_status(e.c), cases[i].status);
        if (cases[i].status == 101) {
            CHECK_EQ(e.opens, 1);
            wsx_conn_eof(e.c);
        }
        CHECK_EQ(e.closes, 1);
        CHECK_EQ(e.close_http, cases[i].status);
        ep_fini(&e);
    }
}

/* A transport that failed (a refused connect, a TLS error) says why; the
 * error reaches on_close once and stays the connection's error. */
static void test_transport_lost(void)
{
    static const int errs[] = {WSX_ECONNREFUSED, WSX_ECONNTIMEOUT, WSX_ETLS,
                               WSX_ETLSVERIFY, WSX_EIO};
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        for (int opened = 0; opened < 2; opened++) {
            ep e;
            wsx_config cfg;
            wsx_callbacks cb;
            char accept[WSX_ACCEPT_KEY_LEN + 1], resp[256];
            client_start(&e, &cfg, &cb, accept);
            if (opened) {
                snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching Protocols\r\n"
                         UPGRADE "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
                CHECK_EQ(feed_split(e.c, (const uint8_t *)resp, strlen(resp), 0,
                                    &e.rng), 0);
                CHECK_EQ(e.opens, 1);
                wsx_send(e.c, WSX_TEXT, "queued", 6);
            }
            wsx_conn_lost(e.c, errs[i]);
            CHECK_EQ(e.closes, 1);
            CHECK_EQ(e.close_code, WSX_CLOSE_ABNORMAL);
            CHECK_EQ(e.close_error, errs[i]);
            CHECK_EQ(wsx_conn_error(e.c), errs[i]);
            CHECK(wsx_conn_done(e.c));
            wsx_conn_lost(e.c, WSX_EIO); /* once only */
            wsx_conn_eof(e.c);
            CHECK_EQ(e.closes, 1);
            CHECK_EQ(wsx_conn_error(e.c), errs[i]);
            ep_fini(&e);
        }
    }
    /* Not an error code: a plain end of the transport. */
    ep e;
    wsx_config cfg;
    wsx_callbacks cb;
    char accept[WSX_ACCEPT_KEY_LEN + 1];
    client_start(&e, &cfg, &cb, accept);
    wsx_conn_lost(e.c, 0);
    CHECK_EQ(e.close_error, WSX_EPEERCLOSED);
    ep_fini(&e);
}

int main(void)
{
    RUN(test_refused_statuses);
    RUN(test_invalid_101);
    RUN(test_server_side_status);
    RUN(test_transport_lost);
    return test_summary("test_client_refused");
}
