/* loop.c - the event loop shared by every backend: wait for readiness,
 * dispatch to sockets and listeners, run due timers from the deadline
 * heap, run closures posted from other threads, and shut down gracefully
 * (RFC 6455 §7.4.1: 1001 "going away") on request or on a signal. */
#include "loop_internal.h"
#include "wsx_http.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WSX_EVENT_BATCH 128

void wsx_loop_opts_init_(wsx_loop_opts *o, size_t size)
{
    memset(o, 0, sizeof *o);
    o->size = size;
    /* Frames up to the buffer's size usually arrive whole in one read
     * and reach on_message without a copy; a frame that spans two reads
     * is copied into the message buffer. 512 KiB per loop (the pages are
     * touched only as reads fill them) took 64 KiB echoes from two reads
     * and a copy each to one read and none. */
    o->read_buffer_size = 512 * 1024;
    o->read_pause = 1024 * 1024;
    o->shutdown_timeout_ms = 2000;
}

static const wsx_poller_ops *backend(wsx_loop_backend b)
{
    switch (b) {
    case WSX_LOOP_DEFAULT:
#if defined(WSX_HAVE_EPOLL)
        return &wsx__poller_epoll;
#elif defined(WSX_HAVE_KQUEUE)
        return &wsx__poller_kqueue;
#else
        return &wsx__poller_poll;
#endif
#ifdef WSX_HAVE_EPOLL
    case WSX_LOOP_EPOLL:
        return &wsx__poller_epoll;
#endif
#ifdef WSX_HAVE_KQUEUE
    case WSX_LOOP_KQUEUE:
        return &wsx__poller_kqueue;
#endif
    case WSX_LOOP_POLL:
        return &wsx__poller_poll;
    default:
        return NULL;
    }
}

wsx_loop *wsx_loop_new(const wsx_loop_opts *opts)
{
    wsx_loop_opts d;
    if (!opts) {
        wsx_loop_opts_init(&d);
        opts = &d;
    }
    const wsx_poller_ops *ops = backend(opts->backend);
    if (opts->size != sizeof *opts || !ops || opts->read_buffer_size == 0 ||
        opts->read_buffer_size > INT_MAX)
        return NULL;
    wsx_loop *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    int fds[2] = {-1, -1};
    l->ops = ops;
    l->rbuf_size = opts->read_buffer_size;
    l->read_pause = opts->read_pause;
    l->shutdown_ms = opts->shutdown_timeout_ms;
    l->lim.max_conns = opts->max_conns;
    l->lim.per_addr = opts->max_conns_per_addr;
    l->lim.rate = opts->handshake_rate;
    l->lim.share = opts->limits_share;
    l->rnd_pos = sizeof l->rnd; /* empty: filled on first use */
    l->rbuf = malloc(l->rbuf_size);
    l->poller = ops->create();
    if (!l->rbuf || !l->poller || wsx__net_pipe(fds) < 0)
        goto fail;
    l->wake.fd = fds[0];
    l->wake.kind = WSX_IO_WAKE;
    l->wake.heap_idx = WSX_HEAP_NONE;
    l->wake.deadline = WSX_NO_DEADLINE;
    l->wake_w = fds[1];
    if (ops->add(l->poller, fds[0], WSX_POLL_IN, &l->wake) < 0 ||
        pthread_mutex_init(&l->mu, NULL) != 0)
        goto fail;
    if (opts->metrics && wsx__metrics_join(l, opts->metrics) < 0) {
        pthread_mutex_destroy(&l->mu);
        goto fail;
    }
    if (opts->handle_signals)
        l->handle_signals = wsx__signal_take(l->wake_w) == 0;
    l->now = wsx__clock_ms();
    return l;
fail:
    if (fds[0] >= 0) {
        close(fds[0]);
        close(fds[1]);
    }
    if (l->poller)
        ops->destroy(l->poller);
    free(l->rbuf);
    free(l);
    return NULL;
}

const char *wsx_loop_backend_name(const wsx_loop *l)
{
    return l->ops->name;
}

size_t wsx_loop_conn_count(const wsx_loop *l)
{
    return l->nsocks;
}

int wsx__loop_interest(wsx_loop *l, wsx_io *io, unsigned events)
{
    if (io->interest == events)
        return 0;
    int r = l->ops->mod(l->poller, io->fd, events, io);
    if (r == 0)
        io->interest = (uint8_t)events;
    return r;
}

/* Closing unlinks the socket; a closing socket's on_close may open
 * others: take the head until none is left. */
static void close_all(wsx_loop *l)
{
    while (l->socks)
        wsx__sock_close(l, l->socks);
}

static void mark_all_dirty(wsx_loop *l)
{
    for (wsx_sock *s = l->socks; s; s = s->next)
        wsx__sock_mark_dirty(l, s);
}

static void free_dead(wsx_loop *l)
{
    while (l->dead) {
        wsx_sock *s = l->dead;
        l->dead = s->next_dead;
        free(s);
    }
}

static void close_listeners(wsx_loop *l)
{
    for (wsx_listener *ls = l->listeners; ls; ls = ls->next) {
        if (ls->io.fd < 0)
            continue;
        l->ops->del(l->poller, ls->io.fd);
        close(ls->io.fd);
        ls->io.fd = -1;
        wsx__heap_del(&l->timers, &ls->io);
    }
}

void wsx_loop_free(wsx_loop *l)
{
    if (!l)
        return;
    l->phase = WSX_PHASE_SHUTDOWN; /* closing below is no reason to retry */
    wsx__metrics_lock(l);
    close_all(l);
    wsx__metrics_unlock(l);
    wsx__metrics_leave(l);
    free_dead(l);
    close_listeners(l);
    wsx__reconnect_free_all(l);
    wsx__watch_free_all(l);
    while (l->listeners) {
        wsx_listener *next = l->listeners->next;
        free(l->listeners);
        l->listeners = next;
    }
    while (l->posts) {
        wsx_post *next = l->posts->next;
        free(l->posts);
        l->posts = next;
    }
    if (l->handle_signals)
        wsx__signal_give_back();
    l->ops->destroy(l->poller);
    close(l->wake.fd);
    close(l->wake_w);
    pthread_mutex_destroy(&l->mu);
    wsx__heap_free(&l->timers);
    wsx__limits_free(l);
    free(l->dirty.v);
    free(l->rbuf);
    wsx_tls_free(l->tls_client);
    free(l);
}

void wsx_loop_stop(wsx_loop *l)
{
    l->stop = true;
}

void wsx_loop_shutdown(wsx_loop *l)
{
    if (l->phase == WSX_PHASE_SHUTDOWN)
        return;
    l->phase = WSX_PHASE_SHUTDOWN;
    l->now = wsx__clock_ms(); /* may be called outside wsx_loop_run */
    l->shutdown_at = l->now + l->shutdown_ms;
    close_listeners(l);
    /* Nothing here closes a socket at once (settling does, later), so
     * the list stays as it is while it is walked. */
    for (wsx_sock *s = l->socks; s; s = s->next) {
        if (s->io.flags & WSX_SOCK_KILL)
            continue;
        wsx_state st = wsx_conn_state(s->conn);
        if (st == WSX_STATE_OPEN) {
            wsx_close(s->conn, WSX_CLOSE_GOING_AWAY, "going away");
        } else if (st == WSX_STATE_HTTP) {
            wsx_http_stream_end(s->conn); /* a held request gets 503 */
        } else if (st == WSX_STATE_HANDSHAKE) {
            s->io.flags |= WSX_SOCK_KILL;
            if (s->io.deadline > l->now)
                wsx__heap_set(&l->timers, &s->io, l->now);
        }
        wsx__sock_mark_dirty(l, s);
    }
}

int wsx_loop_post(wsx_loop *l, wsx_loop_fn fn, void *arg)
{
    wsx_post *p = malloc(sizeof *p);
    if (!p)
        return WSX_ENOMEM;
    p->fn = fn;
    p->arg = arg;
    p->next = NULL;
    pthread_mutex_lock(&l->mu);
    bool was_empty = l->posts == NULL;
    if (l->posts_tail)
        l->posts_tail->next = p;
    else
        l->posts = p;
    l->posts_tail = p;
    pthread_mutex_unlock(&l->mu);
    /* One byte per batch: the loop drains the pipe before it takes the
     * queue, so a closure is never left waiting for a missed wake-up. */
    if (was_empty && write(l->wake_w, "p", 1) < 0) {
        /* EAGAIN: the pipe is full of wake-ups already */
    }
    return 0;
}

static void on_wake(wsx_loop *l)
{
    char buf[64];
    while (read(l->wake.fd, buf, sizeof buf) > 0)
        continue;
    if (l->handle_signals && wsx__signal_arrived()) {
        if (l->phase == WSX_PHASE_SHUTDOWN)
            l->stop = true;
        else
            wsx_loop_shutdown(l);
    }
    pthread_mutex_lock(&l->mu);
    wsx_post *p = l->posts;
    l->posts = l->posts_tail = NULL;
    pthread_mutex_unlock(&l->mu);
    while (p) {
        wsx_post *next = p->next;
        p->fn(l, p->arg);
        free(p);
        p = next;
    }
}

static void on_listener_timer(wsx_loop *l, wsx_listener *ls)
{
    wsx__heap_del(&l->timers, &ls->io);
    wsx__loop_interest(l, &ls->io, WSX_POLL_IN);
}

static void dispatch(wsx_loop *l, const wsx_poll_event *ev)
{
    wsx_io *io = ev->data;
    switch (io->kind) {
    case WSX_IO_SOCK:
        if (!(io->flags & WSX_SOCK_DEAD))
            wsx__sock_event(l, (wsx_sock *)io, ev->events);
        break;
    case WSX_IO_LISTENER:
        if (io->fd >= 0)
            wsx__listener_ready(l, (wsx_listener *)io);
        break;
    case WSX_IO_WATCH:
        wsx__watch_event((wsx_watch *)io, ev->events);
        break;
    default:
        on_wake(l);
        break;
    }
}

/* Only deadlines set before this pass: a timer a callback restarts with
 * no delay waits for the next wake-up instead of spinning here. An entry
 * set later sorts after every older one with its deadline or an earlier
 * one, so meeting it at the top means no older due entry is left. */
static void run_timers(wsx_loop *l)
{
    wsx_io *io;
    uint64_t limit = l->timers.seq;
    while ((io = wsx__heap_top(&l->timers)) && io->deadline <= l->now &&
           io->seq < limit) {
        if (io->kind == WSX_IO_SOCK)
            wsx__sock_timer(l, (wsx_sock *)io);
        else if (io->kind == WSX_IO_TIMER)
            wsx__timer_fire(l, (wsx_timer *)io);
        else
            on_listener_timer(l, (wsx_listener *)io);
    }
}

/* Settle what callbacks and closures touched; settling may touch more. */
static void run_dirty(wsx_loop *l)
{
    for (size_t i = 0; i < l->dirty.n; i++) {
        wsx_sock *s = l->dirty.v[i];
        if (s->io.flags & WSX_SOCK_DEAD)
            continue;
        s->io.flags &= (uint8_t)~WSX_SOCK_DIRTY;
        wsx__sock_settle(l, s);
    }
    l->dirty.n = 0;
}

static bool listening(const wsx_loop *l)
{
    for (const wsx_listener *ls = l->listeners; ls; ls = ls->next)
        if (ls->io.fd >= 0)
            return true;
    return false;
}

static int wait_ms(const wsx_loop *l)
{
    uint64_t due = WSX_NO_DEADLINE;
    const wsx_io *top = wsx__heap_top(&l->timers);
    if (top)
        due = top->deadline;
    if (l->phase == WSX_PHASE_SHUTDOWN && l->shutdown_at < due)
        due = l->shutdown_at;
    if (due == WSX_NO_DEADLINE)
        return -1;
    if (due <= l->now)
        return 0;
    return due - l->now > INT_MAX ? INT_MAX : (int)(due - l->now);
}

/* Dead sockets may still sit in the dirty list: it is emptied first. */
static void end_of_wakeup(wsx_loop *l)
{
    run_dirty(l);
    free_dead(l);
    wsx__watch_reap(l);
}

int wsx_loop_run(wsx_loop *l)
{
    wsx_poll_event ev[WSX_EVENT_BATCH];
    int ret = 0;
    l->stop = false;
    wsx__metrics_lock(l);
    l->now = wsx__clock_ms();
    /* Output queued while the loop was not running had nowhere to go. */
    mark_all_dirty(l);
    for (;;) {
        end_of_wakeup(l);
        if (l->stop)
            break;
        if (!l->nsocks &&
            (l->phase == WSX_PHASE_SHUTDOWN ||
             (!listening(l) && !l->nwatch_active && !l->ntimer_active)))
            break;
        if (l->phase == WSX_PHASE_SHUTDOWN && l->now >= l->shutdown_at) {
            close_all(l);
            continue;
        }
        wsx__metrics_unlock(l);
        int n = l->ops->wait(l->poller, ev, WSX_EVENT_BATCH, wait_ms(l));
        wsx__metrics_lock(l);
        if (n < 0) {
            ret = WSX_EIO;
            break;
        }
        l->now = wsx__clock_ms();
        for (int i = 0; i < n; i++)
            dispatch(l, &ev[i]);
        run_timers(l);
    }
    end_of_wakeup(l);
    if (l->phase == WSX_PHASE_SHUTDOWN && !l->nsocks)
        l->phase = WSX_PHASE_RUN;
    wsx__metrics_unlock(l);
    return ret;
}
