/* wsx_metrics.h - operational counters for wsx connections, and their
 * Prometheus text exposition (version 0.0.4), with no dependency: usable
 * on firmware or under any event loop.
 *
 * A registry (wsx_metrics) is plain memory the caller owns. Point
 * wsx_config.metrics at it and every connection made with that config
 * counts into it as events happen: plain integer additions, no atomics,
 * no allocation, no system call (the two histograms read the registry's
 * clock, when one is set). The counts are the sum of the connections that
 * closed and those still open, kept at the moment each event happens, so
 * a connection costs no memory for them.
 *
 * Threads: a registry is written by the thread that drives its
 * connections, like the connections themselves. Several threads keep one
 * registry each and a reader sums them (wsx_metrics_add) under whatever
 * lock it shares with them; the event loop does this for its loops
 * (wsx_loop.h: wsx_metrics_hub).
 *
 * The two gauges that describe live queues (send_queue_bytes, paused) are
 * not tracked per event: whoever owns the connections sets them before
 * writing the exposition (the loop sums wsx_buffered_amount over its
 * sockets).
 */
#ifndef WSX_METRICS_H
#define WSX_METRICS_H

#include "wsx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Histogram bucket upper bounds, in seconds (the exposition's "le"),
 * 5 µs to 1 s; a last bucket holds everything above. */
#define WSX_METRICS_BUCKETS(X)                                                \
    X(5000, "0.000005") X(10000, "0.00001") X(25000, "0.000025")              \
    X(50000, "0.00005") X(100000, "0.0001") X(250000, "0.00025")              \
    X(500000, "0.0005") X(1000000, "0.001") X(2500000, "0.0025")              \
    X(5000000, "0.005") X(10000000, "0.01") X(25000000, "0.025")              \
    X(50000000, "0.05") X(100000000, "0.1") X(250000000, "0.25")              \
    X(1000000000, "1")
#define WSX_METRICS_NBUCKETS 17 /* the bounds above and +Inf */

typedef struct wsx_histogram {
    uint64_t bucket[WSX_METRICS_NBUCKETS]; /* per bucket, not cumulative */
    uint64_t count;
    uint64_t sum_ns;
} wsx_histogram;

/* A count per (code, side) or per HTTP status, for the values that occur,
 * in order of first occurrence. What finds no room is counted in the
 * last slot under key 0, exposed as code="other" (side "local"), so
 * totals stay exact. */
#define WSX_METRICS_CLOSE_SLOTS 24
#define WSX_METRICS_STATUS_SLOTS 12
typedef struct wsx_metrics_slot {
    uint16_t key;   /* close code or HTTP status; 0: "other" */
    uint8_t remote; /* closes: the peer started the close */
    uint64_t count;
} wsx_metrics_slot;

/* Close codes with which wsx fails a connection itself (RFC 6455 §7.4.1),
 * for wsx_protocol_errors_total{code}: 1002, 1007, 1008, 1009, 1011. */
#define WSX_METRICS_NERRORS 5

typedef struct wsx_metrics {
    size_t size; /* set by wsx_metrics_init: ABI growth */
    /* Nanoseconds on any monotonic clock, for the histograms; NULL: the
     * histograms stay empty and nothing reads a clock. It is read about
     * three times per echoed message (less when one input holds several
     * messages), so a cheap one matters: the loop's reads the CPU's
     * time-stamp counter where that is invariant. */
    uint64_t (*clock_ns)(void *user);
    void *clock_user;
    /* wsx's own, while a message callback runs: its start (messages it
     * queues wait from there), and the end of the previous callback in
     * the same wsx_conn_feed (the next one is timed from there, which
     * saves a clock reading per message and adds the parsing of one
     * frame, tens of nanoseconds). 0 otherwise. */
    uint64_t cb_ns, chain_ns;
    /* Counters (read them; wsx writes them). Index [0] text, [1] binary. */
    uint64_t connections_total;     /* handshakes completed */
    uint64_t connections_open;      /* gauge: opened and not yet closed */
    uint64_t messages_received[2];
    uint64_t messages_sent[2];
    uint64_t bytes_received;        /* message payload, as delivered */
    uint64_t bytes_sent;            /* message payload, as given to wsx */
    uint64_t pings_received, pongs_received, pings_sent, pongs_sent;
    uint64_t protocol_errors[WSX_METRICS_NERRORS];
    wsx_metrics_slot closes[WSX_METRICS_CLOSE_SLOTS];
    wsx_metrics_slot refused[WSX_METRICS_STATUS_SLOTS];
    /* Time spent in on_message/on_fragment, per call. */
    wsx_histogram handler;
    /* Per message: from wsx_send (or wsx_send_fragment with fin, or
     * wsx_send_shared) to the moment the connection's send queue was
     * empty again, i.e. its last byte was handed to the transport. Each
     * message of one backlog is counted with the wait of the backlog's
     * first message (an upper bound); messages still queued when the
     * connection closes are not counted. */
    wsx_histogram queue_wait;
    /* Gauges of live queues, set by the owner of the connections. */
    uint64_t send_queue_bytes;
    uint64_t paused;                /* connections not read: backpressure */
    /* Guards that tripped (wsx_conn_quota_trips): [0] message rate, [1]
     * byte rate, [2] control-frame rate, [3] fragments per message. */
    uint64_t quota_trips[4];
} wsx_metrics;

/* Zero every count; no clock. Use the macro (ABI growth, as for
 * wsx_config_init). */
WSX_API void wsx_metrics_init_(wsx_metrics *m, size_t size);
#define wsx_metrics_init(m) wsx_metrics_init_((m), sizeof *(m))

/* sum += m, every counter, gauge and histogram (sum's clock is kept).
 * Returns 0, or WSX_EINVAL when the sizes differ. */
WSX_API int wsx_metrics_add(wsx_metrics *sum, const wsx_metrics *m);

/* Write m as Prometheus text exposition 0.0.4 into buf[0..cap), with a
 * HELP and a TYPE line for every family, NUL-terminated when cap > 0.
 * Returns the length of the whole text (without the NUL); when that is
 * >= cap the text was cut: call again with at least that plus one. Serve
 * it as "text/plain; version=0.0.4". The series:
 *   wsx_connections_open                    gauge
 *   wsx_connections_total                   counter
 *   wsx_handshakes_refused_total{status}    counter
 *   wsx_messages_received_total{opcode}     counter, opcode text|binary
 *   wsx_messages_sent_total{opcode}         counter
 *   wsx_bytes_received_total                counter
 *   wsx_bytes_sent_total                    counter
 *   wsx_pings_received_total, wsx_pongs_received_total,
 *   wsx_pings_sent_total, wsx_pongs_sent_total   counters
 *   wsx_protocol_errors_total{code}         counter
 *   wsx_closes_total{code,side}             counter, side local|remote
 *   wsx_send_queue_bytes                    gauge
 *   wsx_connections_paused                  gauge
 *   wsx_message_handler_seconds             histogram
 *   wsx_send_queue_wait_seconds             histogram */
WSX_API size_t wsx_metrics_write(const wsx_metrics *m, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* WSX_METRICS_H */
