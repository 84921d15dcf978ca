/* test_conn_refused.c - an upgrade refused with an HTTP status: the
 * client ends with WSX_EREFUSED and the status in on_close
 * (wsx_close_info.http_status) and from wsx_conn_http_status; a 101 that
 * fails verification stays WSX_EHANDSHAKE with no status; the server
 * reports the error status it answered. */
#include "conn_util.h"

#ifndef RUN
#define RUN(fn) fn()
#endif

static int seen_status, seen_error, seen_code, seen_closes;

static void rec_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    (void)user;
    seen_closes++;
    seen_status = ci->http_status;
    seen_error = ci->error;
    seen_code = ci->code;
    /* The same value from the accessor, during on_close. */
    CHECK_EQ(wsx_conn_http_status(c), ci->http_status);
}

static int refuse_with;

static int refuse(wsx_conn *c, const wsx_handshake *hs,
                  wsx_handshake_reply *r, void *user)
{
    (void)c;
    (void)hs;
    (void)r;
    (void)user;
    return refuse_with;
}

static wsx_conn *endpoint(ep *e, wsx_config *cfg, wsx_callbacks *cb,
                          wsx_role role)
{
    memset(e, 0, sizeof *e);
    e->rng = 5;
    wsx_config_init(cfg, role);
    cfg->client.host = "example.com";
    ep_callbacks(cb);
    cb->on_close = rec_close;
    cb->on_handshake = refuse;
    seen_status = seen_error = seen_code = seen_closes = 0;
    e->c = wsx_conn_new(cfg, cb, e);
    CHECK(e->c != NULL);
    return e->c;
}

static void test_client_refused(void)
{
    static const int statuses[] = {401, 403, 426, 200, 302, 404, 500, 503};
    for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++) {
        for (int mode = 0; mode < 2; mode++) {
            ep e;
            wsx_config cfg;
            wsx_callbacks cb;
            uint64_t rng = 9;
            char res[160];
            int n = snprintf(res, sizeof res,
                             "HTTP/1.1 %d %s\r\nWWW-Authenticate: Basic\r\n"
                             "Content-Length: 0\r\n\r\n",
                             statuses[i], wsx_http_reason(statuses[i]));
            wsx_conn *c = endpoint(&e, &cfg, &cb, WSX_CLIENT);
            CHECK_EQ(wsx_conn_http_status(c), 0);
            wsx_conn_flush(c);
            int r = feed_split(c, (const uint8_t *)res, (size_t)n, mode, &rng);
            CHECK_EQ(r, WSX_EREFUSED);
            CHECK_EQ(wsx_conn_error(c), WSX_EREFUSED);
            CHECK_EQ(wsx_conn_http_status(c), statuses[i]);
            CHECK_EQ(wsx_conn_state(c), WSX_STATE_CLOSED);
            CHECK_EQ(seen_closes, 1);
            CHECK_EQ(seen_status, statuses[i]);
            CHECK_EQ(seen_error, WSX_EREFUSED);
            CHECK_EQ(seen_code, WSX_CLOSE_ABNORMAL);
            CHECK_EQ(e.opens, 0);
            ep_fini(&e);
        }
    }
    CHECK(strcmp(wsx_errname(WSX_EREFUSED), "WSX_EREFUSED") == 0);
}

/* A 101 that does not verify is no refusal: WSX_EHANDSHAKE, status 0. */
static void test_client_bad_101(void)
{
    static const char res[] = "HTTP/1.1 101 Switching Protocols\r\n"
                              "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n";
    ep e;
    wsx_config cfg;
    wsx_callbacks cb;
    uint8_t buf[sizeof res];
    wsx_conn *c = endpoint(&e, &cfg, &cb, WSX_CLIENT);
    memcpy(buf, res, sizeof res);
    CHECK_EQ(wsx_conn_feed(c, buf, sizeof res - 1), WSX_EHANDSHAKE);
    CHECK_EQ(seen_error, WSX_EHANDSHAKE);
    CHECK_EQ(seen_status, 0);
    CHECK_EQ(wsx_conn_http_status(c), 0);
    ep_fini(&e);
}

/* The server reports the status it answered. */
static void test_server_status(void)
{
    static const struct {
        const char *req;
        int refuse, status, error;
    } cases[] = {
        {rfc_request, 401, 401, WSX_EHANDSHAKE},
        {rfc_request, 0, 0, 0},
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, 426, WSX_EHANDSHAKE},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
         "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 8\r\n\r\n", 0, 426, WSX_EVERSION},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
         "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", 0, 400,
         WSX_EHTTP},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ep e;
        wsx_config cfg;
        wsx_callbacks cb;
        char buf[512];
        size_t n = strlen(cases[i].req);
        refuse_with = cases[i].refuse;
        wsx_conn *c = endpoint(&e, &cfg, &cb, WSX_SERVER);
        memcpy(buf, cases[i].req, n);
        CHECK_EQ(wsx_conn_feed(c, (uint8_t *)buf, n), cases[i].error);
        CHECK_EQ(wsx_conn_http_status(c), cases[i].status);
        if (cases[i].status) {
            char line[32];
            snprintf(line, sizeof line, "HTTP/1.1 %d ", cases[i].status);
            CHECK(e.out_len > strlen(line) &&
                  !memcmp(e.out, line, strlen(line)));
            CHECK_EQ(seen_status, cases[i].status);
            CHECK_EQ(seen_error, cases[i].error);
        } else {
            CHECK_EQ(wsx_conn_state(c), WSX_STATE_OPEN);
        }
        ep_fini(&e);
    }
    refuse_with = 0;
}

int main(void)
{
    RUN(test_client_refused);
    RUN(test_client_bad_101);
    RUN(test_server_status);
    return test_summary("conn_refused");
}
