/* fanout_client - one process of the 100k broadcast benchmark
 * (fanout_100k.sh), on the wsx loop. Two roles:
 *   fanout_client sub URL[,URL...] CONNS COUNT SLOW OUT  open CONNS
 *       connections to the pubsub processes at the URLs, in turns (at most
 *       256 handshakes at a time), each subscribing to "b"; print "ready" once the server has taken every
 *       subscription, then record, for every message, the delay from the
 *       publisher's clock (CLOCK_MONOTONIC, one per machine) to arrival
 *       (a histogram of the messages numbered below SLOW, and per message
 *       its count, slowest delay and send time); write the figures to OUT
 *       as JSON once each connection has COUNT messages, or at SIGTERM.
 *   fanout_client pub COUNT FROM INTERVAL_MS URL...  publish messages
 *       FROM..FROM+COUNT-1, one every INTERVAL_MS, to every URL (one
 *       pubsub process each) as "pub b SEQ SEND_NS", then close. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wsx.h"
#include "wsx_loop.h"

#define MAX_SEQ 4096
#define BUCKETS 2400 /* 1% wide buckets from 1 us to beyond an hour */
#define IN_FLIGHT 256

static wsx_loop *loop;
static char *urls[16];
static int nurls;
static long conns, want, opened, ready, done_conns, started;
static uint64_t hist[BUCKETS], seq_max_ns[MAX_SEQ], seq_count[MAX_SEQ],
    seq_sent_ns[MAX_SEQ];
static uint64_t received;
static unsigned long slow;
static const char *out_path;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned bucket(uint64_t ns)
{
    double us = (double)ns / 1000.0;
    unsigned b = us <= 1.0 ? 0 : (unsigned)(log(us) / log(1.01));
    return b < BUCKETS ? b : BUCKETS - 1;
}

static void write_result(void)
{
    FILE *f = fopen(out_path, "w");
    if (!f)
        return;
    fprintf(f, "{\"conns\":%ld,\"opened\":%ld,\"received\":%" PRIu64
            ",\"hist\":{", conns, opened, received);
    const char *sep = "";
    for (unsigned i = 0; i < BUCKETS; i++)
        if (hist[i]) {
            fprintf(f, "%s\"%u\":%" PRIu64, sep, i, hist[i]);
            sep = ",";
        }
    fputs("},\"seq\":{", f);
    sep = "";
    for (unsigned i = 0; i < MAX_SEQ; i++)
        if (seq_count[i]) {
            fprintf(f, "%s\"%u\":[%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", sep, i,
                    seq_count[i], seq_max_ns[i], seq_sent_ns[i]);
            sep = ",";
        }
    fputs("}}\n", f);
    fclose(f);
}

static void open_more(void);

/* Per connection: messages seen; the stats reply marks the subscription. */
typedef struct sub {
    long got;
    int opened, subscribed;
} sub;

static int running = 1;

static void on_open(wsx_conn *c, void *user)
{
    sub *s = user;
    s->opened = 1;
    opened++;
    wsx_send(c, WSX_TEXT, "sub b", 5);
    wsx_send(c, WSX_TEXT, "stats", 5); /* answered after the sub is done */
    open_more();
}

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    sub *s = user;
    uint64_t t = now_ns();
    (void)c;
    if (!s->subscribed) {
        s->subscribed = 1;
        if (++ready == conns) {
            puts("ready");
            fflush(stdout);
        }
        return;
    }
    char buf[64];
    size_t n = m->len < sizeof buf - 1 ? m->len : sizeof buf - 1;
    memcpy(buf, m->data, n);
    buf[n] = '\0';
    unsigned long seq;
    uint64_t sent;
    if (sscanf(buf, "b %lu %" SCNu64, &seq, &sent) != 2 || seq >= MAX_SEQ || sent > t)
        return;
    received++;
    if (seq < slow)
        hist[bucket(t - sent)]++;
    seq_count[seq]++;
    seq_sent_ns[seq] = sent;
    if (t - sent > seq_max_ns[seq])
        seq_max_ns[seq] = t - sent;
    if (++s->got == want && ++done_conns == conns) {
        write_result();
        wsx_loop_stop(loop);
    }
}

/* A handshake that failed (a full backlog, say) is tried again while
 * the run goes on; a connection lost after it opened is not replaced. */
static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    sub *s = user;
    (void)c;
    (void)ci;
    if (!s->opened && running) {
        started--;
        open_more();
    }
    free(s);
}

static wsx_callbacks cb;

/* Keep IN_FLIGHT handshakes going: 17k at once would overflow the
 * server's accept backlog and stall on SYN retries. */
static void open_more(void)
{
    while (started < conns && started - opened < IN_FLIGHT) {
        wsx_connect_opts o;
        wsx_connect_opts_init(&o);
        /* In turns: Linux hands out the ephemeral ports towards one
         * destination even ones first and slows to a crawl past them
         * (about 14,000 of 32768-60999, counted over every process of
         * the source address), so the driver keeps each server port
         * under that. */
        o.url = urls[started % nurls];
        o.callbacks = &cb;
        o.user = calloc(1, sizeof(sub));
        if (!o.user || wsx_loop_connect(loop, &o, NULL) < 0) {
            free(o.user);
            fprintf(stderr, "fanout_client: connect %ld failed\n", started);
            conns = started; /* report what could be held */
            return;
        }
        started++;
    }
}

/* ---- publisher ---------------------------------------------------- */

static wsx_conn *pubs[64];
static int npubs, pubs_open;
static long pub_from, pub_count, pub_sent;

static void pub_open(wsx_conn *c, void *user)
{
    (void)c;
    (void)user;
    pubs_open++;
}

static void pub_tick(wsx_timer *t, void *user)
{
    (void)user;
    if (pubs_open < npubs)
        return;
    char msg[64];
    int n = snprintf(msg, sizeof msg, "pub b %ld %" PRIu64, pub_from + pub_sent, now_ns());
    for (int i = 0; i < npubs; i++)
        wsx_send(pubs[i], WSX_TEXT, msg, (size_t)n);
    if (++pub_sent == pub_count) {
        wsx_timer_stop(t);
        for (int i = 0; i < npubs; i++)
            wsx_close(pubs[i], WSX_CLOSE_NORMAL, NULL);
    }
}

static int usage(void)
{
    fputs("usage: fanout_client sub URL[,URL...] CONNS COUNT SLOW OUT\n"
          "       fanout_client pub COUNT FROM INTERVAL_MS URL...\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    wsx_loop_opts lo;
    wsx_loop_opts_init(&lo);
    lo.handle_signals = true; /* SIGTERM: stop, and write what we have */
    loop = wsx_loop_new(&lo);
    if (!loop)
        return 1;
    wsx_callbacks_init(&cb);
    if (argc == 7 && !strcmp(argv[1], "sub")) {
        for (char *u = strtok(argv[2], ","); u && nurls < 16; u = strtok(NULL, ","))
            urls[nurls++] = u;
        conns = atol(argv[3]);
        want = atol(argv[4]);
        slow = strtoul(argv[5], NULL, 10);
        out_path = argv[6];
        cb.on_open = on_open;
        cb.on_message = on_message;
        cb.on_close = on_close;
        open_more();
        wsx_loop_run(loop);
        running = 0;
        if (done_conns < conns)
            write_result();
    } else if (argc >= 6 && !strcmp(argv[1], "pub")) {
        pub_count = atol(argv[2]);
        pub_from = atol(argv[3]);
        cb.on_open = pub_open;
        for (int i = 5; i < argc && npubs < 64; i++) {
            wsx_connect_opts o;
            wsx_connect_opts_init(&o);
            o.url = argv[i];
            o.callbacks = &cb;
            if (wsx_loop_connect(loop, &o, &pubs[npubs++]) < 0)
                return 1;
        }
        wsx_timer *t = wsx_timer_new(loop, pub_tick, NULL);
        if (!t)
            return 1;
        wsx_timer_start(t, 100, (uint64_t)atol(argv[4]));
        wsx_loop_run(loop);
    } else {
        wsx_loop_free(loop);
        return usage();
    }
    wsx_loop_free(loop);
    return 0;
}
