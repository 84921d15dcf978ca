/* wsx_loop.h - the event-loop adapter: sockets, clock and readiness for
 * wsx connections (wsx.h), over epoll (Linux), kqueue (BSD, macOS) or
 * poll (anywhere POSIX). One loop runs on one thread; every connection it
 * creates belongs to that thread.
 *
 * Life of a connection: the loop accepts (or connects) a socket, creates a
 * wsx_conn with the application's callbacks and user pointer, feeds it
 * what the socket reads, writes what it queues, runs its timers, and when
 * wsx_conn_done() closes the socket and frees the connection. The
 * application never frees a loop connection: it drops its references in
 * on_close (or, for a connection that never opened, never had one).
 *
 * Bytes go through a byte stream (wsx_stream.h): plain TCP by default,
 * or the stream the listen/connect options name (TLS). Its own queue
 * counts toward read_pause and the close drain.
 *
 * Reads go through one buffer per loop, so a connection that has been
 * quiet for a second holds only its wsx_conn plus about 90 bytes here
 * (its socket state and a slot in the loop's timer heap) and its
 * stream's state, if any.
 *
 * The callbacks' `send` and `random` are the loop's: whatever the
 * application sets there is replaced. wsx_conn_user()/wsx_conn_set_user()
 * stay the application's. Any wsx_send*()/wsx_close() on a loop
 * connection must happen on the loop's thread (in a callback, or in a
 * closure given to wsx_loop_post from another thread).
 */
#ifndef WSX_LOOP_H
#define WSX_LOOP_H

#include "wsx.h"
#include "wsx_metrics.h"
#include "wsx_stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wsx_loop wsx_loop;
typedef struct wsx_metrics_hub wsx_metrics_hub; /* see "metrics" below */
typedef struct wsx_limits_share wsx_limits_share; /* see "admission" below */

/* Readiness backends. DEFAULT picks the best one built in: epoll on
 * Linux, kqueue on BSD and macOS, poll elsewhere. */
typedef enum wsx_loop_backend {
    WSX_LOOP_DEFAULT = 0,
    WSX_LOOP_EPOLL,
    WSX_LOOP_KQUEUE,
    WSX_LOOP_POLL
} wsx_loop_backend;

typedef struct wsx_loop_opts {
    size_t size;                  /* set by wsx_loop_opts_init */
    wsx_loop_backend backend;     /* default WSX_LOOP_DEFAULT */
    size_t read_buffer_size;      /* one buffer shared by every connection
                                     of the loop; default 512 KiB. A
                                     frame that arrives whole in one read
                                     is delivered from it without a copy */
    size_t read_pause;            /* stop reading an accepted connection
                                     while more than this many bytes wait
                                     to be sent to it, so a peer that does
                                     not read is slowed by TCP instead of
                                     growing the queue; default 1 MiB, 0:
                                     never. Client connections always read
                                     (two peers pausing would deadlock). */
    bool handle_signals;          /* SIGINT/SIGTERM start a graceful
                                     shutdown (a second one stops at once);
                                     at most one loop per process */
    uint32_t shutdown_timeout_ms; /* graceful shutdown bound; default 2000 */
    wsx_metrics_hub *metrics;     /* count every connection of the loop
                                     (whose config names no registry of
                                     its own) into a registry of the
                                     loop's, summed with the other loops
                                     of this hub; NULL: no metrics */
    /* Admission of accepted connections (limits.c); 0: no limit, the
     * default. Client connections are never counted. */
    uint32_t max_conns;           /* in total; one more is closed before
                                     anything is read (no answer: it would
                                     cost what the limit saves) */
    uint32_t max_conns_per_addr;  /* from one IPv4 address or IPv6 /64 (a
                                     single host or site usually holds a
                                     whole /64); above it: HTTP 503 */
    wsx_rate handshake_rate;      /* new connections per second from one
                                     address, with a burst; above it:
                                     HTTP 503 with Retry-After */
    wsx_limits_share *limits_share; /* loops on several threads serving
                                     one port: count the three limits
                                     above over all loops naming this
                                     share, not per loop (each loop
                                     applies its own numbers: give all
                                     the same); NULL: per loop */
} wsx_loop_opts;

WSX_API void wsx_loop_opts_init_(wsx_loop_opts *o, size_t size);
#define wsx_loop_opts_init(o) wsx_loop_opts_init_((o), sizeof *(o))

/* Create a loop (opts NULL: defaults). Returns NULL when out of memory or
 * file descriptors, or when the requested backend is not built in. */
WSX_API wsx_loop *wsx_loop_new(const wsx_loop_opts *opts);
/* Close every listener and socket and free the loop. Connections still
 * open see on_close (code 1006) first. Not while wsx_loop_run runs. */
WSX_API void wsx_loop_free(wsx_loop *l);
/* "epoll", "kqueue" or "poll". */
WSX_API const char *wsx_loop_backend_name(const wsx_loop *l);

/* Run until wsx_loop_stop, the end of a graceful shutdown, or until the
 * loop has neither listener nor connection left. Returns 0, or WSX_EIO
 * when the poller itself failed (errno tells why). May be called again. */
WSX_API int wsx_loop_run(wsx_loop *l);
/* Loop thread only: return from wsx_loop_run after the current wake-up;
 * listeners and connections stay as they are. */
WSX_API void wsx_loop_stop(wsx_loop *l);
/* Loop thread only: graceful shutdown. Listeners close, every open
 * connection gets close 1001 "going away", handshakes in progress are
 * dropped, streamed HTTP responses end and held requests get 503
 * (wsx_http.h), and wsx_loop_run returns once all are gone or after
 * shutdown_timeout_ms, whichever comes first (then the rest is dropped). */
WSX_API void wsx_loop_shutdown(wsx_loop *l);
/* Number of connections the loop owns (any state). */
WSX_API size_t wsx_loop_conn_count(const wsx_loop *l);

/* Connections the admission limits turned away since the loop began. A
 * 503 is sent once the peer's first bytes (its request) have been read,
 * so that closing does not reset the connection under the answer. */
typedef struct wsx_loop_limit_stats {
    uint64_t over_total;    /* closed at once: max_conns */
    uint64_t over_per_addr; /* 503: max_conns_per_addr */
    uint64_t over_rate;     /* 503: handshake_rate */
} wsx_loop_limit_stats;
WSX_API void wsx_loop_limit_stats_get(const wsx_loop *l,
                                      wsx_loop_limit_stats *out);

/* Counts shared by the admission of several loops (limits_share in
 * wsx_loop_opts), e.g. one per thread with SO_REUSEPORT: a peer's
 * connections and handshakes count against one max_conns_per_addr and
 * one handshake_rate whichever loop accepted them, and max_conns caps
 * the process. Taken under a mutex once per accept and per close. NULL
 * when out of memory. Free it after every loop that names it. */
WSX_API wsx_limits_share *wsx_limits_share_new(void);
WSX_API void wsx_limits_share_free(wsx_limits_share *s);

/* The peer's address of a loop connection as text ("127.0.0.1", "::1"),
 * NUL-terminated in out; for on_handshake to log or decide by. Returns
 * its length, WSX_EINVAL when c is not a loop connection or its socket
 * has no peer address, or WSX_ENOSPC (64 bytes always suffice). */
WSX_API int wsx_loop_conn_peer(const wsx_conn *c, char *out, size_t cap);

/* The one cross-thread call: queue fn(l, arg) to run on the loop's
 * thread, and wake the loop. Safe from any thread (not from a signal
 * handler) while the loop exists. Closures run in posting order, each
 * once, on the next wake-up of wsx_loop_run (closures still queued at
 * wsx_loop_free are dropped unrun). A closure may do anything a callback
 * may, plus wsx_loop_listen/connect/stop/shutdown. To reach a connection,
 * keep it in the application's own state and forget it in on_close: a
 * pointer kept past on_close dangles. Returns 0 or WSX_ENOMEM. */
typedef void (*wsx_loop_fn)(wsx_loop *l, void *arg);
WSX_API int wsx_loop_post(wsx_loop *l, wsx_loop_fn fn, void *arg);

/* ---- foreign file descriptors and timers -------------------------- *
 * Other code with its own non-blocking socket (hiredis, a database
 * driver, stdin) and timers of the application's own live in the same
 * loop, on its thread. Active watchers and started timers keep
 * wsx_loop_run running like listeners and connections do. Every handle
 * may be modified, stopped or freed from inside any callback of the loop,
 * its own included; a callback never fires for a handle after its free.
 * Handles are loop-thread only (from another thread: wsx_loop_post).
 * Handles still alive at wsx_loop_free are freed with the loop (a pointer
 * kept past it dangles). A graceful shutdown waits for connections only:
 * watchers and timers do not hold it up. */

/* Readiness a watcher asks for and receives. */
enum { WSX_WATCH_READ = 1u, WSX_WATCH_WRITE = 2u };

typedef struct wsx_watch wsx_watch;
/* events: WSX_WATCH_READ and/or WSX_WATCH_WRITE that are ready (an error
 * or hang-up on the fd is reported as both of those asked for). */
typedef void (*wsx_watch_fn)(wsx_watch *w, int fd, unsigned events,
                             void *user);
/* Watch fd (not owned: never closed by the loop) for events (0: none
 * yet). One watcher per fd, and free it before closing the fd (a closed
 * and reused number would reach the wrong watcher). Level-triggered: the
 * callback fires at every wake-up while the fd stays ready, so read or
 * write until EAGAIN or clear the interest. Returns NULL when out of
 * memory, for fn NULL or unknown event bits (errno EINVAL), or when the
 * poller refuses the fd (errno tells why: EEXIST for a second watcher,
 * EPERM for a regular file under epoll). */
WSX_API wsx_watch *wsx_watch_new(wsx_loop *l, int fd, unsigned events,
                                 wsx_watch_fn fn, void *user);
/* Change the events watched (0 keeps the watcher but reports nothing and
 * no longer keeps the loop running). Returns 0, WSX_EINVAL for unknown
 * bits, or WSX_EIO when the poller refuses (errno tells why). */
WSX_API int wsx_watch_set(wsx_watch *w, unsigned events);
/* Stop watching and free the handle (NULL: nothing); the fd stays
 * open. */
WSX_API void wsx_watch_free(wsx_watch *w);

typedef struct wsx_timer wsx_timer;
typedef void (*wsx_timer_fn)(wsx_timer *t, void *user);
/* A stopped timer. Returns NULL when out of memory. */
WSX_API wsx_timer *wsx_timer_new(wsx_loop *l, wsx_timer_fn fn, void *user);
/* (Re)start: fire delay_ms after wsx_loop_now() (the clock of the
 * current wake-up), then every repeat_ms after each firing (0: once).
 * Timers fire in the order of their deadlines; equal deadlines in the
 * order of their starts. A timer (re)started from a timer callback with a
 * due deadline fires at the next wake-up, not in the same pass, so a
 * zero-delay restart cannot starve I/O. Returns 0 (room for every timer
 * is reserved at wsx_timer_new). */
WSX_API int wsx_timer_start(wsx_timer *t, uint64_t delay_ms,
                            uint64_t repeat_ms);
/* Stop (nothing when not started); the handle stays for a restart. */
WSX_API void wsx_timer_stop(wsx_timer *t);
/* Stop and free the handle (NULL: nothing). */
WSX_API void wsx_timer_free(wsx_timer *t);
/* The loop's clock in milliseconds (monotonic, refreshed at every
 * wake-up): the value the loop gives wsx_conn_tick. */
WSX_API uint64_t wsx_loop_now(const wsx_loop *l);

/* ---- server ------------------------------------------------------- */

typedef struct wsx_listen_opts {
    size_t size;              /* set by wsx_listen_opts_init */
    const char *host;         /* address or name to bind, e.g. "127.0.0.1"
                                 or "::1"; NULL: every interface, IPv6 and
                                 IPv4 when the system has IPv6 */
    uint16_t port;            /* 0: any free port (see the return value) */
    bool reuse_port;          /* SO_REUSEPORT: processes share the port */
    int backlog;              /* default 511 */
    const wsx_config *config; /* server settings for every connection;
                                 copied (role forced to WSX_SERVER); NULL:
                                 wsx_config_init defaults */
    const wsx_callbacks *callbacks; /* copied; send/random are the loop's */
    void *user;               /* initial user pointer of each connection */
    const wsx_stream_ops *stream; /* the byte stream of each accepted
                                 connection (wsx_stream.h), e.g. a TLS
                                 layer; NULL: plain TCP */
    void *stream_ctx;         /* given to stream->open; must outlive the
                                 listener */
    const char *metrics_path; /* e.g. "/metrics": a GET of this path (a
                                 query allowed) is answered by the loop
                                 with its hub's exposition before
                                 on_http sees it; needs opts.metrics;
                                 must outlive the listener */
} wsx_listen_opts;

WSX_API void wsx_listen_opts_init_(wsx_listen_opts *o, size_t size);
#define wsx_listen_opts_init(o) wsx_listen_opts_init_((o), sizeof *(o))

/* Listen and accept connections on the loop's thread. Returns the bound
 * port (1..65535), WSX_EINVAL for bad options, WSX_ENOMEM, or WSX_EIO when
 * the socket could not be bound (errno tells why, e.g. EADDRINUSE).
 * When the process runs out of file descriptors (EMFILE/ENFILE) the
 * listener pauses for 100 ms instead of spinning; pending peers wait in
 * the kernel's backlog. */
WSX_API int wsx_loop_listen(wsx_loop *l, const wsx_listen_opts *o);

/* ---- client ------------------------------------------------------- */

/* An opt-in reconnect policy for wsx_loop_connect: when the connection
 * ends for a reason other than the application's own close (the server
 * closed, the transport broke, a connect failed), the loop waits and
 * connects again to the same URL with the same options, each time a new
 * wsx_conn with the same callbacks and user pointer.
 *
 * Waits grow exponentially with full jitter: before the n-th attempt
 * since the last connection that opened (n from 0), a uniformly random
 * delay in [0, min(cap_ms, base_ms * 2^n)] (wsx_backoff_delay), so a
 * fleet of clients dropped at once does not come back in lockstep.
 *
 * What the application sees:
 * - on_close of every connection; inside it, wsx_loop_will_retry(c) says
 *   whether another attempt follows (true) or the policy gave up or does
 *   not apply (false: the application closed it, max_tries attempts in a
 *   row failed, the loop is shutting down or being freed);
 * - on_attempt before each new attempt (return nonzero to stop instead;
 *   no on_close follows then, as there is no connection);
 * - on_open of the new connection: the place to resend what the
 *   application wants resent (a subscription, a resume id); nothing is
 *   replayed by wsx.
 * A connect that fails before a connection exists (the name no longer
 * resolves) counts as a failed attempt; when it was the last try the
 * policy ends without an on_close.
 * The config (and its client strings) and the callbacks given to
 * wsx_loop_connect must stay valid while the policy runs. */
typedef struct wsx_reconnect {
    size_t size;        /* set by wsx_reconnect_init */
    uint32_t base_ms;   /* default 250 */
    uint32_t cap_ms;    /* longest wait; default 30000 */
    uint32_t max_tries; /* failed attempts in a row before giving up;
                           0 (default): never give up */
    /* attempt: which try this is since the last connection that opened
     * (1 after an open connection ended; 2 after a first connect that
     * failed), counting up while tries fail; delay_ms: the wait just
     * over; user: the connect options' user. May be NULL. */
    int (*on_attempt)(wsx_loop *l, unsigned attempt, uint32_t delay_ms,
                      void *user);
} wsx_reconnect;

WSX_API void wsx_reconnect_init_(wsx_reconnect *p, size_t size);
#define wsx_reconnect_init(p) wsx_reconnect_init_((p), sizeof *(p))
/* The full-jitter wait before attempt n (0-based, since the last open
 * connection) for a random value rnd: rnd modulo
 * min(cap_ms, base_ms * 2^n) + 1. Pure: a test passes its own rnd. */
WSX_API uint32_t wsx_backoff_delay(const wsx_reconnect *p, unsigned n,
                                   uint32_t rnd);
/* Inside on_close of a connection made by wsx_loop_connect: true when its
 * reconnect policy will make another attempt, false otherwise (no
 * policy, gave up, closed by the application). */
WSX_API bool wsx_loop_will_retry(const wsx_conn *c);

typedef struct wsx_connect_opts {
    size_t size;                 /* set by wsx_connect_opts_init */
    const char *url;             /* ws://host[:port][/path][?query]; host
                                    may be a name, IPv4 or [IPv6].
                                    wss:// (default port 443): over the
                                    stream below, or when none is given
                                    and TLS is built in, wsx_stream_tls
                                    verifying against the system's CA
                                    store (wsx_tls.h) */
    uint32_t connect_timeout_ms; /* TCP connect bound; default 10000,
                                    0: none */
    const wsx_config *config;    /* copied (role forced to WSX_CLIENT);
                                    config->client.host and .path default
                                    to the URL's; NULL: defaults */
    const wsx_callbacks *callbacks; /* copied; send/random are the loop's */
    void *user;
    const wsx_stream_ops *stream; /* the connection's byte stream
                                    (wsx_stream.h), opened with the URL's
                                    host as server_name; NULL: plain TCP
                                    for ws://, TLS for wss:// */
    void *stream_ctx;            /* given to stream->open; must outlive
                                    the connection */
    const wsx_reconnect *reconnect; /* NULL: none; see below. Copied. */
} wsx_connect_opts;

WSX_API void wsx_connect_opts_init_(wsx_connect_opts *o, size_t size);
#define wsx_connect_opts_init(o) wsx_connect_opts_init_((o), sizeof *(o))

/* Start connecting: resolves the host (getaddrinfo, which blocks for
 * names that are not literal addresses), then connects without blocking
 * and sends the opening handshake. *out (may be NULL) receives the
 * connection, in WSX_STATE_HANDSHAKE.
 *
 * Failures known at once are returned and no connection exists (on_close
 * never fires): WSX_EINVAL (bad URL, or wss:// with no stream in a
 * build without TLS),
 * WSX_ENOHOST (the name does not resolve), WSX_ECONNREFUSED (refused
 * before the call returned, rare), WSX_ENOMEM, WSX_EIO (errno tells why),
 * or the error of the stream's open. Failures found later end the
 * connection like a dropped transport: on_close with code 1006 and as
 * error WSX_ECONNREFUSED (refused), WSX_ECONNTIMEOUT (connect_timeout_ms
 * passed, or the kernel gave up), the stream's own error (a TLS
 * failure), or WSX_EPEERCLOSED (any other reason); see wsx_conn_lost.
 * Returns 0 otherwise. */
WSX_API int wsx_loop_connect(wsx_loop *l, const wsx_connect_opts *o,
                             wsx_conn **out);

/* ---- metrics ------------------------------------------------------ *
 * A hub joins the registries (wsx_metrics.h) of several loops, one per
 * thread, so that a scrape on any of them reports the sum. Each loop
 * writes its own registry with plain additions; a loop holds a mutex of
 * its own while it handles a wake-up (not while it waits), and a sum
 * takes each loop's mutex in turn, so it sees every loop between two
 * events (at most one wake-up's work late) and never holds two at once.
 * The gauges wsx_send_queue_bytes and wsx_connections_paused are summed
 * over the sockets at that moment. Connections of the loop count from
 * their handshake; plain HTTP requests (a scrape included) do not. A
 * loop's counts leave the sum when it is freed (Prometheus reads that as
 * a counter reset). */

/* Returns NULL when out of memory. */
WSX_API wsx_metrics_hub *wsx_metrics_hub_new(void);
/* Free a hub after every loop that joined it is freed. NULL: nothing. */
WSX_API void wsx_metrics_hub_free(wsx_metrics_hub *h);
/* out = the sum of the hub's loops (out need not be initialised; its
 * clock is none). From any thread; on a loop's thread inside one of its
 * callbacks, pass that loop as self (its own mutex is let go during the
 * sum so that two loops scraping each other cannot deadlock), else
 * NULL. */
WSX_API void wsx_metrics_hub_sum(wsx_metrics_hub *h, wsx_loop *self,
                                 wsx_metrics *out);
/* Serve GET /metrics (any other path: 404; upgrades refused with 404) on
 * a listener of its own at host:port (host NULL: every interface; port 0:
 * any free one), e.g. on a private address. Its requests are not counted.
 * Returns the port, WSX_EINVAL when the loop has no hub, or as
 * wsx_loop_listen. */
WSX_API int wsx_loop_metrics_listen(wsx_loop *l, const char *host,
                                    uint16_t port);

#ifdef __cplusplus
}
#endif
#endif /* WSX_LOOP_H */
