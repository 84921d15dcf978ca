/* loop_internal.h - what the adapter's files share: the loop object, the
 * per-socket state (kept small: an idle connection costs sizeof(wsx_sock)
 * plus its wsx_conn), the application's fd watchers and timers, and the
 * deadline heap. Membership is kept in plain lists; the heap holds only
 * what has a deadline. */
#ifndef WSX_LOOP_INTERNAL_H
#define WSX_LOOP_INTERNAL_H

#include "../adapters/poller.h" /* first: it sets the feature macros */

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "wsx_loop.h"
#include "wsx_tls.h"
#include "../core/rate.h"

#define WSX_NO_DEADLINE UINT64_MAX
#define WSX_HEAP_NONE UINT32_MAX
/* How long a connection may take to push out its last bytes once it is
 * closed (e.g. our close reply to a peer that stopped reading). */
#define WSX_LINGER_MS 5000u
/* Quiet time after which a connection's buffers go back (one tick). */
#define WSX_IDLE_SWEEP_MS 1000u
/* How long a listener rests after EMFILE/ENFILE before accepting again. */
#define WSX_ACCEPT_PAUSE_MS 100u

typedef enum wsx_io_kind {
    WSX_IO_WAKE = 0,
    WSX_IO_LISTENER,
    WSX_IO_SOCK,
    WSX_IO_WATCH,
    WSX_IO_TIMER
} wsx_io_kind;

enum {
    WSX_SOCK_CONNECTING = 1u, /* non-blocking connect in flight; closed at
                                 its deadline (the connect timeout) */
    WSX_SOCK_EOF = 2u,        /* read side finished */
    WSX_SOCK_DIRTY = 4u,      /* in loop->dirty */
    WSX_SOCK_DEAD = 8u,       /* closed, freed at the end of the wake-up */
    WSX_SOCK_CLIENT = 16u,    /* made by wsx_loop_connect */
    WSX_SOCK_KILL = 32u,      /* closed at its deadline: lingering after
                                 the close, or dropped by a shutdown */
    WSX_SOCK_REFUSE = 64u     /* over an admission limit: answer 503 once
                                 its request is read (limits.c) */
};
/* wsx_io.seen of a socket never ticked: no wsx_state has this value. */
#define WSX_SEEN_NONE 0xffu

/* The head of everything the poller reports and the heap orders. */
typedef struct wsx_io {
    uint64_t deadline;  /* WSX_NO_DEADLINE when none */
    uint64_t seq;       /* order among equal deadlines: order of setting */
    uint32_t heap_idx;  /* WSX_HEAP_NONE when not in the heap */
    int fd;
    uint8_t kind;       /* wsx_io_kind */
    uint8_t flags;      /* WSX_SOCK_* */
    uint8_t interest;   /* WSX_POLL_* currently registered */
    uint8_t seen;       /* sockets: the core's state at their last tick */
    uint32_t act;       /* sockets: last activity, low 32 bits of ms */
} wsx_io;

/* Settings a connection points to for its whole life (the core keeps the
 * pointers): one per listener, one per client connection. */
typedef struct wsx_endpoint {
    wsx_config cfg;
    wsx_callbacks cb;
    void *user;
    const wsx_stream_ops *stream; /* never NULL */
    void *stream_ctx;
    const char *metrics_path;     /* served by metrics.c, or NULL */
    void (*app_http)(wsx_conn *, const wsx_http_request *, void *);
} wsx_endpoint;

/* The connection's transport pointer (wsx_conn_transport) is its socket,
 * so the send and random callbacks reach socket and loop without a
 * lookup. A socket is in the loop's list from attach to close, and in the
 * heap only while it has a deadline. */
typedef struct wsx_sock {
    wsx_io io;
    union {
        wsx_conn *conn;
        struct wsx_sock *next_dead; /* once WSX_SOCK_DEAD */
    };
    struct wsx_loop *loop;
    struct wsx_sock *prev, *next; /* loop->socks */
    const wsx_stream_ops *sops;
    void *st;                     /* the stream's state */
    struct wsx_addr_slot *slot;   /* its address's count (limits.c) */
} wsx_sock;

/* limits.c: admission by address. A slot lives while connections from
 * its address are open or its handshake bucket is refilling. */
typedef struct wsx_addr_slot {
    uint8_t key[16];              /* IPv4-mapped address, or a /64 */
    uint32_t conns;
    wsx__bucket handshakes;
    struct wsx_addr_slot *next;   /* hash chain */
} wsx_addr_slot;

/* The counts admission decides by: one loop's, or those of every loop
 * that names the same wsx_limits_share (limits.c). */
typedef struct wsx_addr_table {
    size_t open;                  /* accepted connections, counted */
    wsx_addr_slot **tab;          /* hash of slots; cap a power of 2 */
    size_t cap, n;
} wsx_addr_table;

typedef struct wsx_limits {
    uint32_t max_conns, per_addr;
    wsx_rate rate;
    wsx_addr_table own;
    wsx_limits_share *share;      /* NULL: own counts */
    wsx_loop_limit_stats stats;
} wsx_limits;

/* A client connection carries its own endpoint in the same block. */
typedef struct wsx_client_sock {
    wsx_sock s;
    wsx_endpoint ep;
    struct wsx_reconnector *rc; /* its reconnect policy, or NULL */
} wsx_client_sock;

typedef struct wsx_listener {
    wsx_io io;
    wsx_endpoint ep;
    struct wsx_listener *next;
} wsx_listener;

/* An application's fd watcher. A freed one waits in loop->dead_watch
 * until the end of the wake-up: events already collected may point to
 * it. */
struct wsx_watch {
    wsx_io io;                     /* io.interest: WSX_POLL_* registered */
    struct wsx_loop *loop;
    wsx_watch_fn fn;
    void *user;
    struct wsx_watch *prev, *next; /* loop->watches, or dead_watch */
};

/* An application's timer: in the heap while started. */
struct wsx_timer {
    wsx_io io;
    struct wsx_loop *loop;
    wsx_timer_fn fn;
    void *user;
    uint64_t repeat;
    struct wsx_timer *prev, *next; /* loop->timer_list */
};

/* Sockets, watchers and timers sit in intrusive doubly linked lists
 * (head and x are lvalues of the same type with prev/next), so any of
 * them leaves in O(1) from inside any callback. */
#define WSX__LIST_PUSH(head, x)                                               \
    do {                                                                      \
        (x)->prev = NULL;                                                     \
        (x)->next = (head);                                                   \
        if (head)                                                             \
            (head)->prev = (x);                                               \
        (head) = (x);                                                         \
    } while (0)
#define WSX__LIST_UNLINK(head, x)                                             \
    do {                                                                      \
        if ((x)->prev)                                                        \
            (x)->prev->next = (x)->next;                                      \
        else                                                                  \
            (head) = (x)->next;                                               \
        if ((x)->next)                                                        \
            (x)->next->prev = (x)->prev;                                      \
    } while (0)

typedef struct wsx_heap {
    wsx_io **v;
    uint32_t n, cap;
    uint64_t seq;  /* next wsx_io.seq */
} wsx_heap;

typedef struct wsx_sockvec {
    wsx_sock **v;
    size_t n, cap;
} wsx_sockvec;

typedef struct wsx_post {
    wsx_loop_fn fn;
    void *arg;
    struct wsx_post *next;
} wsx_post;

typedef enum wsx_loop_phase {
    WSX_PHASE_RUN = 0,
    WSX_PHASE_SHUTDOWN, /* draining after wsx_loop_shutdown */
} wsx_loop_phase;

struct wsx_loop {
    const wsx_poller_ops *ops;
    wsx_poller *poller;
    uint8_t *rbuf;
    size_t rbuf_size, read_pause;
    uint64_t now;           /* ms, refreshed at every wake-up */
    wsx_heap timers;        /* whatever has a deadline: sockets, paused
                               listeners, started application timers */
    wsx_sock *socks;        /* every open socket */
    size_t nsocks;
    wsx_watch *watches;     /* every application watcher */
    wsx_watch *dead_watch;  /* freed during this wake-up */
    size_t nwatch_active;   /* watchers with events != 0 */
    wsx_timer *timer_list;  /* every application timer */
    size_t ntimers, ntimer_active;
    size_t nlisteners;
    wsx_sockvec dirty;      /* sockets touched outside their own event */
    wsx_sock *dead;         /* closed during this wake-up */
    wsx_sock *current;      /* socket whose event is being handled */
    wsx_listener *listeners;
    struct wsx_reconnector *reconnects; /* policies between attempts */
    wsx_io wake;            /* read end of the wake-up pipe */
    int wake_w;
    pthread_mutex_t mu;     /* guards posts */
    wsx_post *posts, *posts_tail;
    bool stop, handle_signals;
    uint8_t phase;          /* wsx_loop_phase */
    uint32_t shutdown_ms;
    uint64_t shutdown_at;
    wsx_limits lim;         /* admission of accepted connections */
    uint8_t rnd[256];       /* kernel randomness for masking keys */
    size_t rnd_pos;         /* bytes of rnd used; starts full (empty) */
    wsx_tls *tls_client;    /* wss:// without a stream of the caller's:
                               made at the first such connect */
    wsx_metrics_hub *hub;   /* NULL: no metrics */
    bool mlocked;           /* mmu is held by the loop's thread */
    pthread_mutex_t mmu;    /* held while a wake-up is handled */
    wsx_metrics metrics;    /* every connection of the loop counts here */
};

/* heap.c: a binary min-heap on (io->deadline, io->seq); O(log n) per
 * change. Setting WSX_NO_DEADLINE takes io out. Reserve room first where
 * a later set must not fail. */
int wsx__heap_reserve(wsx_heap *h, size_t n);
int wsx__heap_set(wsx_heap *h, wsx_io *io, uint64_t deadline);
void wsx__heap_del(wsx_heap *h, wsx_io *io);
wsx_io *wsx__heap_top(const wsx_heap *h);
void wsx__heap_free(wsx_heap *h);

/* net.c: sockets and URLs. */
typedef struct wsx_url {
    char host[256];      /* without brackets, for getaddrinfo */
    char hostport[264];  /* the Host header: host[:port], IPv6 bracketed */
    char port[6];
    char target[4096];   /* path and query; "/" when the path is empty */
    bool secure;         /* wss:// */
} wsx_url;
int wsx__url_parse(wsx_url *u, const char *url);
int wsx__net_listen(const char *host, uint16_t port, bool reuse_port,
                   int backlog, uint16_t *bound);
int wsx__net_connect(const wsx_url *u); /* fd or WSX_E* */
int wsx__net_accept(int lfd);
int wsx__net_pipe(int fds[2]);
uint64_t wsx__clock_ms(void);

/* sock.c: one connection's I/O. */
int wsx__sock_attach(wsx_loop *l, int fd, const wsx_endpoint *ep,
                    const char *server_name, wsx_sock **out);
void wsx__sock_event(wsx_loop *l, wsx_sock *s, unsigned events);
void wsx__sock_timer(wsx_loop *l, wsx_sock *s);
void wsx__sock_settle(wsx_loop *l, wsx_sock *s);
void wsx__sock_close(wsx_loop *l, wsx_sock *s);
void wsx__sock_mark_dirty(wsx_loop *l, wsx_sock *s);
long wsx__sock_send_cb(wsx_conn *c, const uint8_t *p, size_t len, void *user);
long wsx__sock_sendv_cb(wsx_conn *c, const wsx_iovec *iov, int n, void *user);
int wsx__sock_random_cb(wsx_conn *c, uint8_t *buf, size_t len, void *user);
size_t wsx__sock_queued_cb(const wsx_conn *c, void *user);
int wsx__loop_interest(wsx_loop *l, wsx_io *io, unsigned events);

/* signal.c */
int wsx__signal_take(int wake_fd);
void wsx__signal_give_back(void);
bool wsx__signal_arrived(void);

/* watch.c: the application's watchers and timers. */
void wsx__watch_event(wsx_watch *w, unsigned events);
void wsx__timer_fire(wsx_loop *l, wsx_timer *t);
void wsx__watch_free_all(wsx_loop *l);
void wsx__watch_reap(wsx_loop *l);
/* Room in the heap for every socket, listener and timer (+extra). */
int wsx__loop_reserve(wsx_loop *l, size_t extra);

/* limits.c */
enum { WSX_ADMIT_OK = 0, WSX_ADMIT_DROP, WSX_ADMIT_REFUSE };
/* Whether to take the socket fd just accepted; OK and REFUSE count it
 * (and *slot, when per-address limits apply) until wsx__limits_release. */
int wsx__limits_admit(wsx_loop *l, int fd, wsx_addr_slot **slot);
void wsx__limits_release(wsx_loop *l, wsx_addr_slot *slot);
void wsx__limits_free(wsx_loop *l);

/* endpoint.c: accepting on a listener that turned readable; a listener
 * whose connections count into the loop's registry, or not; one connect
 * attempt (rc: the reconnect policy it belongs to, or NULL). */
void wsx__listener_ready(wsx_loop *l, wsx_listener *ls);
int wsx__listen(wsx_loop *l, const wsx_listen_opts *o, bool counted);
int wsx__connect(wsx_loop *l, const wsx_connect_opts *o,
                 struct wsx_reconnector *rc, wsx_conn **out);

/* reconnect.c */
int wsx__reconnect_start(wsx_loop *l, const wsx_connect_opts *o,
                         wsx_conn **out);
void wsx__reconnect_on_close(wsx_conn *c, const wsx_close_info *ci,
                             void *user);
void wsx__reconnect_free_all(wsx_loop *l);

/* metrics.c: the loop's registry and its hub. */
int wsx__metrics_join(wsx_loop *l, wsx_metrics_hub *h);
void wsx__metrics_leave(wsx_loop *l);
/* The loop's thread takes its registry's mutex for a wake-up and lets it
 * go before it waits (nothing without a hub). */
void wsx__metrics_lock(wsx_loop *l);
void wsx__metrics_unlock(wsx_loop *l);
/* Count ep's connections into the loop's registry (counted) and serve
 * ep->metrics_path ahead of the application's on_http. */
void wsx__metrics_endpoint(wsx_loop *l, wsx_endpoint *ep, bool counted);
/* sock.c: a server socket not read while its output is backlogged. */
bool wsx__sock_paused(const wsx_loop *l, const wsx_sock *s);
/* The core's (conn.c): the callbacks a connection was made with, which
 * lead to its endpoint. */
const wsx_callbacks *wsx__conn_callbacks(const wsx_conn *c);

#endif
