/* metrics.c - the registry connections count into (wsx_metrics.h) and its
 * Prometheus text exposition, version 0.0.4 (HELP, TYPE, samples; the
 * histogram as cumulative _bucket{le}, _sum and _count). Formats numbers
 * itself: no printf, so that firmware without a full libc can expose it. */
#include "conn.h"

#include <string.h>

/* ---- the registry ---------------------------------------------------- */

void wsx_metrics_init_(wsx_metrics *m, size_t size)
{
    wsx_metrics d;
    memset(&d, 0, sizeof d);
    d.size = size < sizeof d ? size : sizeof d;
    memcpy(m, &d, d.size);
}

static void hist_add(wsx_histogram *sum, const wsx_histogram *h)
{
    for (int i = 0; i < WSX_METRICS_NBUCKETS; i++)
        sum->bucket[i] += h->bucket[i];
    sum->count += h->count;
    sum->sum_ns += h->sum_ns;
}

/* The slot of (key, remote), taken in order of first use; the last slot
 * collects whatever finds no room, as key 0 ("other"). */
static wsx_metrics_slot *slot(wsx_metrics_slot *t, int n, uint16_t key,
                              uint8_t remote)
{
    for (int i = 0; i < n - 1; i++) {
        if (!t[i].count) {
            t[i].key = key;
            t[i].remote = remote;
            return &t[i];
        }
        if (t[i].key == key && t[i].remote == remote)
            return &t[i];
    }
    t[n - 1].key = 0;
    t[n - 1].remote = 0;
    return &t[n - 1];
}

static void slots_add(wsx_metrics_slot *sum, const wsx_metrics_slot *t, int n)
{
    for (int i = 0; i < n && t[i].count; i++)
        slot(sum, n, t[i].key, t[i].remote)->count += t[i].count;
}

int wsx_metrics_add(wsx_metrics *sum, const wsx_metrics *m)
{
    if (sum->size != sizeof *sum || m->size != sizeof *m)
        return WSX_EINVAL;
    sum->connections_total += m->connections_total;
    sum->connections_open += m->connections_open;
    for (int i = 0; i < 2; i++) {
        sum->messages_received[i] += m->messages_received[i];
        sum->messages_sent[i] += m->messages_sent[i];
    }
    sum->bytes_received += m->bytes_received;
    sum->bytes_sent += m->bytes_sent;
    sum->pings_received += m->pings_received;
    sum->pongs_received += m->pongs_received;
    sum->pings_sent += m->pings_sent;
    sum->pongs_sent += m->pongs_sent;
    for (int i = 0; i < WSX_METRICS_NERRORS; i++)
        sum->protocol_errors[i] += m->protocol_errors[i];
    slots_add(sum->closes, m->closes, WSX_METRICS_CLOSE_SLOTS);
    slots_add(sum->refused, m->refused, WSX_METRICS_STATUS_SLOTS);
    hist_add(&sum->handler, &m->handler);
    hist_add(&sum->queue_wait, &m->queue_wait);
    sum->send_queue_bytes += m->send_queue_bytes;
    sum->paused += m->paused;
    for (int i = 0; i < 4; i++)
        sum->quota_trips[i] += m->quota_trips[i];
    return 0;
}

/* ---- the core's hooks (conn.h) ---------------------------------------- */

#define WSX_BOUND_NS_(ns, le) (ns),
static const uint64_t bound_ns[] = {WSX_METRICS_BUCKETS(WSX_BOUND_NS_)};
#define WSX_BOUND_LE_(ns, le) le,
static const char *const bound_le[] = {WSX_METRICS_BUCKETS(WSX_BOUND_LE_)};

/* t1 - t0, or 0 for a clock that stepped back (a time-stamp counter
 * read on two cores). */
static void observe(wsx_histogram *h, uint64_t t0, uint64_t t1, uint64_t n)
{
    uint64_t ns = t1 > t0 ? t1 - t0 : 0;
    int i = 0;
    while (i < WSX_METRICS_NBUCKETS - 1 && ns > bound_ns[i])
        i++;
    h->bucket[i] += n;
    h->count += n;
    h->sum_ns += ns * n;
}

static uint64_t now(const wsx_metrics *m)
{
    return m->clock_ns(m->clock_user);
}

uint64_t wsx__m_begin(wsx_metrics *m)
{
    if (!m->clock_ns)
        return 0;
    return m->cb_ns = m->chain_ns ? m->chain_ns : now(m);
}

void wsx__m_end(wsx_metrics *m, uint64_t since)
{
    if (!m->clock_ns)
        return;
    uint64_t t = now(m);
    observe(&m->handler, since, t, 1);
    m->chain_ns = t;
    m->cb_ns = 0;
}

void wsx__m_queued(wsx_conn *c)
{
    const wsx_metrics *m = c->cfg->metrics;
    if (!m->clock_ns)
        return;
    if (c->q_msgs == 0)
        c->q_since = m->cb_ns ? m->cb_ns : now(m);
    if (c->q_msgs < UINT16_MAX)
        c->q_msgs++;
}

void wsx__m_drained(wsx_conn *c)
{
    wsx_metrics *m = c->cfg->metrics;
    /* Once closing, q_since holds the close deadline (conn.h). */
    if (m && c->state == WSX_STATE_OPEN)
        observe(&m->queue_wait, c->q_since, now(m), c->q_msgs);
    c->q_msgs = 0;
}

void wsx__m_opened_(wsx_conn *c)
{
    wsx_metrics *m = c->cfg->metrics;
    m->connections_total++;
    m->connections_open++;
}

void wsx__m_closed_(wsx_conn *c, uint16_t code, bool remote)
{
    wsx_metrics *m = c->cfg->metrics;
    m->connections_open--;
    /* Code 0: freed while open, no close to count. */
    if (code)
        slot(m->closes, WSX_METRICS_CLOSE_SLOTS, code, remote)->count++;
}

void wsx__m_refused_(wsx_conn *c, int status)
{
    wsx_metrics *m = c->cfg->metrics;
    slot(m->refused, WSX_METRICS_STATUS_SLOTS, (uint16_t)status, 0)->count++;
}

static const uint16_t error_code[WSX_METRICS_NERRORS] = {
    WSX_CLOSE_PROTOCOL_ERROR, WSX_CLOSE_INVALID_DATA, WSX_CLOSE_POLICY,
    WSX_CLOSE_TOO_BIG, WSX_CLOSE_INTERNAL};

void wsx__m_failed_(wsx_conn *c, uint16_t code)
{
    wsx_metrics *m = c->cfg->metrics;
    for (int i = 0; i < WSX_METRICS_NERRORS; i++)
        if (error_code[i] == code)
            m->protocol_errors[i]++;
}

/* ---- exposition ------------------------------------------------------ */

typedef struct out {
    char *buf;
    size_t cap, len;
} out;

static void put(out *o, const char *s)
{
    size_t n = strlen(s);
    if (o->len < o->cap)
        memcpy(o->buf + o->len, s, o->len + n < o->cap ? n : o->cap - o->len);
    o->len += n;
}

static void put_u64(out *o, uint64_t v)
{
    char d[21], *p = d + sizeof d - 1;
    *p = 0;
    do
        *--p = (char)('0' + v % 10);
    while (v /= 10);
    put(o, p);
}

/* Nanoseconds as decimal seconds, exactly: "1.000250000". */
static void put_seconds(out *o, uint64_t ns)
{
    char frac[11] = ".000000000";
    put_u64(o, ns / 1000000000u);
    uint64_t f = ns % 1000000000u;
    for (int i = 9; i > 0; i--, f /= 10)
        frac[i] = (char)('0' + f % 10);
    put(o, frac);
}

static void family(out *o, const char *name, const char *type,
                   const char *help)
{
    put(o, "# HELP ");
    put(o, name);
    put(o, " ");
    put(o, help);
    put(o, "\n# TYPE ");
    put(o, name);
    put(o, " ");
    put(o, type);
    put(o, "\n");
}

/* name{labels} value; labels may be NULL. */
static void sample(out *o, const char *name, const char *labels, uint64_t v)
{
    put(o, name);
    if (labels) {
        put(o, "{");
        put(o, labels);
        put(o, "}");
    }
    put(o, " ");
    put_u64(o, v);
    put(o, "\n");
}

static void scalar(out *o, const char *name, const char *type,
                   const char *help, uint64_t v)
{
    family(o, name, type, help);
    sample(o, name, NULL, v);
}

static void by_opcode(out *o, const char *name, const char *help,
                      const uint64_t v[2])
{
    family(o, name, "counter", help);
    sample(o, name, "opcode=\"text\"", v[0]);
    sample(o, name, "opcode=\"binary\"", v[1]);
}

/* label="key" (or "other"), then side="..." for closes. */
static void keyed(out *o, const char *name, const char *label,
                  const wsx_metrics_slot *t, int n, bool side)
{
    for (int i = 0; i < n && t[i].count; i++) {
        put(o, name);
        put(o, "{");
        put(o, label);
        put(o, "=\"");
        if (t[i].key)
            put_u64(o, t[i].key);
        else
            put(o, "other");
        if (side)
            put(o, t[i].remote ? "\",side=\"remote" : "\",side=\"local");
        put(o, "\"} ");
        put_u64(o, t[i].count);
        put(o, "\n");
    }
}

static void histogram(out *o, const char *name, const char *help,
                      const wsx_histogram *h)
{
    uint64_t cum = 0;
    family(o, name, "histogram", help);
    for (int i = 0; i < WSX_METRICS_NBUCKETS; i++) {
        cum += h->bucket[i];
        put(o, name);
        put(o, "_bucket{le=\"");
        put(o, i < WSX_METRICS_NBUCKETS - 1 ? bound_le[i] : "+Inf");
        put(o, "\"} ");
        put_u64(o, cum);
        put(o, "\n");
    }
    put(o, name);
    put(o, "_sum ");
    put_seconds(o, h->sum_ns);
    put(o, "\n");
    put(o, name);
    put(o, "_count ");
    put_u64(o, h->count);
    put(o, "\n");
}

size_t wsx_metrics_write(const wsx_metrics *m, char *buf, size_t cap)
{
    out o = {buf, cap, 0};
    scalar(&o, "wsx_connections_open", "gauge",
           "WebSocket connections open now.", m->connections_open);
    scalar(&o, "wsx_connections_total", "counter",
           "WebSocket connections opened (handshakes completed).",
           m->connections_total);
    family(&o, "wsx_handshakes_refused_total", "counter",
           "Opening handshakes refused, by HTTP status.");
    keyed(&o, "wsx_handshakes_refused_total", "status", m->refused,
          WSX_METRICS_STATUS_SLOTS, false);
    by_opcode(&o, "wsx_messages_received_total", "Messages received.",
              m->messages_received);
    by_opcode(&o, "wsx_messages_sent_total", "Messages sent.",
              m->messages_sent);
    scalar(&o, "wsx_bytes_received_total", "counter",
           "Payload bytes of messages received (after decompression).",
           m->bytes_received);
    scalar(&o, "wsx_bytes_sent_total", "counter",
           "Payload bytes of messages sent (before compression).",
           m->bytes_sent);
    scalar(&o, "wsx_pings_received_total", "counter", "Pings received.",
           m->pings_received);
    scalar(&o, "wsx_pongs_received_total", "counter", "Pongs received.",
           m->pongs_received);
    scalar(&o, "wsx_pings_sent_total", "counter", "Pings sent.",
           m->pings_sent);
    scalar(&o, "wsx_pongs_sent_total", "counter", "Pongs sent.",
           m->pongs_sent);
    family(&o, "wsx_protocol_errors_total", "counter",
           "Connections failed by wsx, by the close code it sent.");
    for (int i = 0; i < WSX_METRICS_NERRORS; i++) {
        char label[] = "code=\"1000\"";
        for (int k = 9, v = error_code[i]; k > 5; k--, v /= 10)
            label[k] = (char)('0' + v % 10);
        sample(&o, "wsx_protocol_errors_total", label, m->protocol_errors[i]);
    }
    family(&o, "wsx_closes_total", "counter",
           "Connections closed, by close code and the side that closed first.");
    keyed(&o, "wsx_closes_total", "code", m->closes, WSX_METRICS_CLOSE_SLOTS,
          true);
    scalar(&o, "wsx_send_queue_bytes", "gauge",
           "Bytes queued for sending and not yet taken by the transport.",
           m->send_queue_bytes);
    scalar(&o, "wsx_connections_paused", "gauge",
           "Connections not read while their send queue is full.",
           m->paused);
    static const char *const quota[4] = {
        "quota=\"message_rate\"", "quota=\"byte_rate\"",
        "quota=\"control_rate\"", "quota=\"fragments\""};
    family(&o, "wsx_quota_trips_total", "counter",
           "Frames that found a guard's quota short (a close or a pause).");
    for (int i = 0; i < 4; i++)
        sample(&o, "wsx_quota_trips_total", quota[i], m->quota_trips[i]);
    histogram(&o, "wsx_message_handler_seconds",
              "Time spent in the message callback.", &m->handler);
    histogram(&o, "wsx_send_queue_wait_seconds",
              "Time from queueing a message to its last byte leaving.",
              &m->queue_wait);
    if (cap)
        buf[o.len < cap ? o.len : cap - 1] = 0;
    return o.len;
}
