/* test_metrics.c - the registry (wsx_metrics.h): what the core counts for
 * known traffic on server connections, the exact exposition text, the
 * buffer-too-small contract, summing registries and the "other" slot. */
#include "conn_util.h"
#include "test.h"
#include "wsx_metrics.h"


/* A clock that advances 1 µs per reading: every duration is exact. */
static uint64_t fake_ns;
static uint64_t fake_clock(void *user)
{
    (void)user;
    return fake_ns += 1000;
}

static void echo_message(wsx_conn *c, const wsx_message *m, void *user)
{
    ep_message(c, m, user);
    wsx_send(c, m->opcode, m->data, m->len);
}

static void server(ep *e, wsx_config *cfg, wsx_callbacks *cb, wsx_metrics *m)
{
    memset(e, 0, sizeof *e);
    wsx_config_init(cfg, WSX_SERVER);
    cfg->metrics = m;
    ep_callbacks(cb);
    cb->on_message = echo_message;
    e->c = wsx_conn_new(cfg, cb, e);
}

static void feed_frame(ep *e, uint8_t b0, const char *p, size_t n)
{
    uint8_t f[256];
    size_t len = client_frame(f, b0, p, n);
    wsx_conn_feed(e->c, f, len);
}

static void feed_str(ep *e, const char *s)
{
    uint8_t buf[512];
    size_t n = strlen(s);
    memcpy(buf, s, n);
    wsx_conn_feed(e->c, buf, n);
}

/* Two connections with traffic, one failed, two refused. */
static void traffic(wsx_metrics *m)
{
    ep e;
    wsx_config cfg;
    wsx_callbacks cb;
    server(&e, &cfg, &cb, m);
    feed_str(&e, rfc_request);
    feed_frame(&e, 0x81, "hello", 5);
    feed_frame(&e, 0x81, "world!", 6);
    feed_frame(&e, 0x82, "\1\2\3", 3);
    feed_frame(&e, 0x89, "p", 1);
    feed_frame(&e, 0x8a, "", 0);
    CHECK_EQ(wsx_ping(e.c, "x", 1), 0);
    feed_frame(&e, 0x88, "\x03\xe8", 2); /* 1000, from the peer */
    CHECK_EQ(e.closes, 1);
    ep_fini(&e);

    server(&e, &cfg, &cb, m);
    feed_str(&e, rfc_request);
    feed_frame(&e, 0x83, "", 0); /* reserved opcode: 1002 */
    CHECK_EQ(e.close_code, 1002);
    ep_fini(&e);

    server(&e, &cfg, &cb, m); /* open, then freed without a close */
    feed_str(&e, rfc_request);
    ep_fini(&e);

    server(&e, &cfg, &cb, m);
    feed_str(&e, "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Version: 12\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    CHECK_EQ(e.close_http, 426);
    ep_fini(&e);
    server(&e, &cfg, &cb, m);
    feed_str(&e, "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n");
    CHECK_EQ(e.close_http, 400);
    ep_fini(&e);
}

static void test_counts(void)
{
    wsx_metrics m;
    wsx_metrics_init(&m);
    traffic(&m);
    CHECK_EQ(m.connections_total, 3);
    CHECK_EQ(m.connections_open, 0);
    CHECK_EQ(m.messages_received[0], 2);
    CHECK_EQ(m.messages_received[1], 1);
    CHECK_EQ(m.messages_sent[0], 2);
    CHECK_EQ(m.messages_sent[1], 1);
    CHECK_EQ(m.bytes_received, 14);
    CHECK_EQ(m.bytes_sent, 14);
    CHECK_EQ(m.pings_received, 1);
    CHECK_EQ(m.pongs_sent, 1);
    CHECK_EQ(m.pongs_received, 1);
    CHECK_EQ(m.pings_sent, 1);
    CHECK_EQ(m.protocol_errors[0], 1);
    CHECK_EQ(m.handler.count, 0); /* no clock: nothing timed */
    CHECK_EQ(m.queue_wait.count, 0);
}

/* One string per line: C11 compilers need not take longer literals. */
static const char *const expected[] = {
    "# HELP wsx_connections_open WebSocket connections open now.\n",
    "# TYPE wsx_connections_open gauge\n",
    "wsx_connections_open 0\n",
    "# HELP wsx_connections_total WebSocket connections opened (handshakes completed).\n",
    "# TYPE wsx_connections_total counter\n",
    "wsx_connections_total 3\n",
    "# HELP wsx_handshakes_refused_total Opening handshakes refused, by HTTP status.\n",
    "# TYPE wsx_handshakes_refused_total counter\n",
    "wsx_handshakes_refused_total{status=\"426\"} 1\n",
    "wsx_handshakes_refused_total{status=\"400\"} 1\n",
    "# HELP wsx_messages_received_total Messages received.\n",
    "# TYPE wsx_messages_received_total counter\n",
    "wsx_messages_received_total{opcode=\"text\"} 2\n",
    "wsx_messages_received_total{opcode=\"binary\"} 1\n",
    "# HELP wsx_messages_sent_total Messages sent.\n",
    "# TYPE wsx_messages_sent_total counter\n",
    "wsx_messages_sent_total{opcode=\"text\"} 2\n",
    "wsx_messages_sent_total{opcode=\"binary\"} 1\n",
    "# HELP wsx_bytes_received_total Payload bytes of messages received (after decompression).\n",
    "# TYPE wsx_bytes_received_total counter\n",
    "wsx_bytes_received_total 14\n",
    "# HELP wsx_bytes_sent_total Payload bytes of messages sent (before compression).\n",
    "# TYPE wsx_bytes_sent_total counter\n",
    "wsx_bytes_sent_total 14\n",
    "# HELP wsx_pings_received_total Pings received.\n",
    "# TYPE wsx_pings_received_total counter\n",
    "wsx_pings_received_total 1\n",
    "# HELP wsx_pongs_received_total Pongs received.\n",
    "# TYPE wsx_pongs_received_total counter\n",
    "wsx_pongs_received_total 1\n",
    "# HELP wsx_pings_sent_total Pings sent.\n",
    "# TYPE wsx_pings_sent_total counter\n",
    "wsx_pings_sent_total 1\n",
    "# HELP wsx_pongs_sent_total Pongs sent.\n",
    "# TYPE wsx_pongs_sent_total counter\n",
    "wsx_pongs_sent_total 1\n",
    "# HELP wsx_protocol_errors_total Connections failed by wsx, by the close code it sent.\n",
    "# TYPE wsx_protocol_errors_total counter\n",
    "wsx_protocol_errors_total{code=\"1002\"} 1\n",
    "wsx_protocol_errors_total{code=\"1007\"} 0\n",
    "wsx_protocol_errors_total{code=\"1008\"} 0\n",
    "wsx_protocol_errors_total{code=\"1009\"} 0\n",
    "wsx_protocol_errors_total{code=\"1011\"} 0\n",
    "# HELP wsx_closes_total Connections closed, by close code and the side that closed first.\n",
    "# TYPE wsx_closes_total counter\n",
    "wsx_closes_total{code=\"1000\",side=\"remote\"} 1\n",
    "wsx_closes_total{code=\"1002\",side=\"local\"} 1\n",
    "# HELP wsx_send_queue_bytes Bytes queued for sending and not yet taken by the transport.\n",
    "# TYPE wsx_send_queue_bytes gauge\n",
    "wsx_send_queue_bytes 0\n",
    "# HELP wsx_connections_paused Connections not read while their send queue is full.\n",
    "# TYPE wsx_connections_paused gauge\n",
    "wsx_connections_paused 0\n",
    "# HELP wsx_quota_trips_total Frames that found a guard's quota short (a close or a pause).\n",
    "# TYPE wsx_quota_trips_total counter\n",
    "wsx_quota_trips_total{quota=\"message_rate\"} 0\n",
    "wsx_quota_trips_total{quota=\"byte_rate\"} 0\n",
    "wsx_quota_trips_total{quota=\"control_rate\"} 0\n",
    "wsx_quota_trips_total{quota=\"fragments\"} 0\n",
    "# HELP wsx_message_handler_seconds Time spent in the message callback.\n",
    "# TYPE wsx_message_handler_seconds histogram\n",
    "wsx_message_handler_seconds_bucket{le=\"0.000005\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"0.00001\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"0.000025\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"0.00005\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"0.0001\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"0.00025\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"0.0005\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"0.001\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"0.0025\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"0.005\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"0.01\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"0.025\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"0.05\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"0.1\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"0.25\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"1\"} 3\n",
    "wsx_message_handler_seconds_bucket{le=\"+Inf\"} 3\n",
    "wsx_message_handler_seconds_sum 0.000003000\n",
    "wsx_message_handler_seconds_count 3\n",
    "# HELP wsx_send_queue_wait_seconds Time from queueing a message to its last byte leaving.\n",
    "# TYPE wsx_send_queue_wait_seconds histogram\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"0.000005\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"0.00001\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"0.000025\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"0.00005\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"0.0001\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"0.00025\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"0.0005\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"0.001\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"0.0025\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"0.005\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"0.01\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"0.025\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"0.05\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"0.1\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"0.25\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"1\"} 3\n",
    "wsx_send_queue_wait_seconds_bucket{le=\"+Inf\"} 3\n",
    "wsx_send_queue_wait_seconds_sum 0.000006000\n",
    "wsx_send_queue_wait_seconds_count 3\n",
};

/* With a clock of 1 µs per reading, each handler call spans 1 µs (one
 * reading before it, one after; its echo is stamped with the first) and
 * each echo waits 2 µs (its handler's start to the drain's reading). */
static void test_exposition(void)
{
    wsx_metrics m;
    char buf[8192];
    wsx_metrics_init(&m);
    m.clock_ns = fake_clock;
    traffic(&m);
    char want[8192] = "";
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++)
        strcat(want, expected[i]);
    size_t n = wsx_metrics_write(&m, buf, sizeof buf);
    CHECK_EQ(n, strlen(want));
    CHECK(strcmp(buf, want) == 0);
    if (strcmp(buf, want))
        fprintf(stderr, "got:\n%s", buf);
    /* Too small: the length needed, a cut and terminated prefix. */
    char small[100];
    CHECK_EQ(wsx_metrics_write(&m, small, sizeof small), n);
    CHECK_EQ(strlen(small), sizeof small - 1);
    CHECK(memcmp(small, want, sizeof small - 1) == 0);
    CHECK_EQ(wsx_metrics_write(&m, NULL, 0), n);
}

static void test_add(void)
{
    wsx_metrics a, b;
    wsx_metrics_init(&a);
    wsx_metrics_init(&b);
    a.clock_ns = b.clock_ns = fake_clock;
    traffic(&a);
    traffic(&b);
    b.send_queue_bytes = 7;
    wsx_metrics sum;
    wsx_metrics_init(&sum);
    CHECK_EQ(wsx_metrics_add(&sum, &a), 0);
    CHECK_EQ(wsx_metrics_add(&sum, &b), 0);
    CHECK_EQ(sum.connections_total, 6);
    CHECK_EQ(sum.messages_received[0], 4);
    CHECK_EQ(sum.bytes_sent, 28);
    CHECK_EQ(sum.closes[0].key, 1000);
    CHECK_EQ(sum.closes[0].count, 2);
    CHECK_EQ(sum.closes[1].count, 2);
    CHECK_EQ(sum.closes[2].count, 0);
    CHECK_EQ(sum.refused[1].key, 400);
    CHECK_EQ(sum.refused[1].count, 2);
    CHECK_EQ(sum.handler.count, 6);
    CHECK_EQ(sum.handler.bucket[0], 6);
    CHECK_EQ(sum.queue_wait.sum_ns, 12000);
    CHECK_EQ(sum.send_queue_bytes, 7);
    b.size = 8;
    CHECK_EQ(wsx_metrics_add(&sum, &b), WSX_EINVAL);
}

/* Messages that arrive in one input are timed one after the other: the
 * end of one callback starts the next (three readings for two), and the
 * chain breaks between inputs. */
static void test_chained(void)
{
    wsx_metrics m;
    ep e;
    wsx_config cfg;
    wsx_callbacks cb;
    uint8_t in[64];
    wsx_metrics_init(&m);
    m.clock_ns = fake_clock;
    server(&e, &cfg, &cb, &m);
    feed_str(&e, rfc_request);
    size_t n = client_frame(in, 0x81, "a", 1);
    n += client_frame(in + n, 0x81, "b", 1);
    uint64_t t0 = fake_ns;
    wsx_conn_feed(e.c, in, n);
    /* Three for the callbacks, one for the drain of both echoes. */
    CHECK_EQ((fake_ns - t0) / 1000, 4);
    CHECK_EQ(m.handler.count, 2);
    CHECK_EQ(m.handler.sum_ns, 2000);
    CHECK_EQ(m.queue_wait.count, 2);
    CHECK_EQ(m.queue_wait.sum_ns, 2 * 3000);
    CHECK_EQ(m.cb_ns, 0);
    CHECK_EQ(m.chain_ns, 0);
    t0 = fake_ns;
    feed_frame(&e, 0x81, "c", 1);
    CHECK_EQ((fake_ns - t0) / 1000, 3);
    CHECK_EQ(m.handler.sum_ns, 3000);
    ep_fini(&e);
}

/* More distinct codes than slots: the rest is counted as "other". */
static void test_other(void)
{
    wsx_metrics m;
    wsx_metrics_init(&m);
    for (int code = 3000; code < 3000 + WSX_METRICS_CLOSE_SLOTS + 5; code++) {
        ep e;
        wsx_config cfg;
        wsx_callbacks cb;
        char f[2] = {(char)(code >> 8), (char)code};
        server(&e, &cfg, &cb, &m);
        feed_str(&e, rfc_request);
        feed_frame(&e, 0x88, f, 2);
        ep_fini(&e);
    }
    const wsx_metrics_slot *last = &m.closes[WSX_METRICS_CLOSE_SLOTS - 1];
    CHECK_EQ(last->key, 0);
    CHECK_EQ(last->count, 6);
    CHECK_EQ(m.closes[0].key, 3000);
    CHECK_EQ(m.closes[0].count, 1);
    char buf[8192];
    wsx_metrics_write(&m, buf, sizeof buf);
    CHECK(strstr(buf, "wsx_closes_total{code=\"other\",side=\"local\"} 6\n"));
    CHECK(strstr(buf, "wsx_closes_total{code=\"3022\",side=\"remote\"} 1\n"));
}

int main(void)
{
    RUN(test_counts);
    RUN(test_exposition);
    RUN(test_add);
    RUN(test_chained);
    RUN(test_other);
    return test_summary("test_metrics");
}
