/* sock.c - one connection's transport: reads its byte stream into the
 * loop's shared buffer and feeds the core, writes through the core's send
 * callback into the stream, keeps write interest only while output is
 * queued (in the core or the stream), runs the core's timers and closes
 * the socket once wsx_conn_done() says the connection is over and the
 * stream has drained. */
#include "loop_internal.h"
#include "../core/strcopy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One socket's turn is bounded, so a fast sender cannot starve others:
 * a few reads, or a single one when the buffer alone holds 256 KiB (the
 * default 512 KiB buffer: a turn stays near the 4 x 64 KiB it was). */
#define WSX_READS_PER_EVENT 4
#define WSX_READ_TURN_BYTES (256u << 10)

/* A socket touched outside its own event (a broadcast from another
 * connection's callback, a posted closure) is revisited after it. */
void wsx__sock_mark_dirty(wsx_loop *l, wsx_sock *s)
{
    if (s == l->current || (s->io.flags & (WSX_SOCK_DIRTY | WSX_SOCK_DEAD)))
        return;
    wsx_sockvec *v = &l->dirty;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        wsx_sock **p = realloc(v->v, cap * sizeof *p);
        if (!p)
            return;
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = s;
    s->io.flags |= WSX_SOCK_DIRTY;
}

wsx_sock *wsx__loop_sock(const wsx_conn *c)
{
    return c && c->cb->send == wsx__sock_send_cb ? wsx__conn_sock(c) : NULL;
}

long wsx__sock_sendv_cb(wsx_conn *c, const wsx_iovec *iov, int n, void *user)
{
    (void)user;
    wsx_sock *s = wsx__conn_sock(c);
    if (s->io.flags & WSX_SOCK_CONNECTING)
        return WSX_EAGAIN; /* stays queued; the next settle flushes it */
    wsx__sock_mark_dirty(wsx__sock_loop(s), s);
    long k = wsx__sock_ops(s)->writev(wsx__sock_st(s), s->io.fd, iov, n);
    return k >= 0 || k == WSX_EAGAIN ? k : WSX_EIO;
}

long wsx__sock_send_cb(wsx_conn *c, const uint8_t *p, size_t len, void *user)
{
    wsx_iovec v = {p, len};
    return wsx__sock_sendv_cb(c, &v, 1, user);
}

size_t wsx__sock_queued_cb(const wsx_conn *c, void *user)
{
    (void)user;
    const wsx_sock *s = wsx__conn_sock(c);
    return wsx__sock_ops(s)->queued(wsx__sock_st(s));
}

/* getentropy() draws from the kernel CSPRNG (getrandom on Linux) and
 * serves at most 256 bytes a call. */
static int entropy(uint8_t *buf, size_t len)
{
    while (len) {
        size_t n = len < 256 ? len : 256;
        if (getentropy(buf, n) < 0)
            return WSX_EIO;
        buf += n;
        len -= n;
    }
    return 0;
}

int wsx__sock_random_cb(wsx_conn *c, uint8_t *buf, size_t len, void *user)
{
    (void)user;
    /* A client draws a fresh masking key for every frame: serving the
     * 4-byte keys from a pool of kernel randomness saves a system call
     * per frame (measured: 3x the message rate of wsx-load at 16 in
     * flight). The keys stay unpredictable, as RFC 6455 §5.3 asks. */
    wsx_loop *l = wsx__conn_ep(c)->loop;
    if (len > sizeof l->rnd)
        return entropy(buf, len);
    if (l->rnd_pos + len > sizeof l->rnd) {
        if (entropy(l->rnd, sizeof l->rnd) < 0)
            return WSX_EIO;
        l->rnd_pos = 0;
    }
    memcpy(buf, l->rnd + l->rnd_pos, len);
    /* Used bytes are wiped so a key is never handed out twice. */
    memset(l->rnd + l->rnd_pos, 0, len);
    l->rnd_pos += len;
    return 0;
}

/* A client connection keeps its settings, strings included, in a block
 * of its own, freed with it: the core reads cfg->client.protocols again
 * when the server answers. */
static wsx_client_ep *client_block(const wsx_endpoint *ep)
{
    const wsx_client_opts *o = &ep->cfg.client;
    size_t extra = wsx__str_size(o->host) + wsx__str_size(o->path) + wsx__str_size(o->origin) +
                   wsx__str_size(o->protocols) + wsx__str_size(o->extensions) +
                   wsx__str_size(o->extra_headers);
    wsx_client_ep *cs = malloc(sizeof *cs + extra);
    if (!cs)
        return NULL;
    char *area = (char *)(cs + 1);
    cs->ep = *ep;
    cs->rc = NULL;
    wsx_client_opts *k = &cs->ep.cfg.client;
    k->host = wsx__str_keep(&area, o->host);
    k->path = wsx__str_keep(&area, o->path);
    k->origin = wsx__str_keep(&area, o->origin);
    k->protocols = wsx__str_keep(&area, o->protocols);
    k->extensions = wsx__str_keep(&area, o->extensions);
    k->extra_headers = wsx__str_keep(&area, o->extra_headers);
    return cs;
}

/* Wrap a connected (or connecting, for clients: server_name is the URL's
 * host) descriptor in a stream and a connection. On failure returns a
 * negative code and the caller still owns fd. */
int wsx__sock_attach(wsx_loop *l, int fd, const wsx_endpoint *ep,
                    const char *server_name, wsx_sock **out)
{
    bool client = ep->cfg.role == WSX_CLIENT;
    wsx_client_ep *cs = NULL;
    if (client) {
        cs = client_block(ep);
        if (!cs)
            return WSX_ENOMEM;
        ep = &cs->ep;
    }
    /* The socket's area comes zeroed, in front of the connection. */
    wsx_conn *c = wsx_conn_new(&ep->cfg, &ep->cb, ep->user);
    if (!c) {
        free(cs);
        return WSX_ENOMEM;
    }
    bool extra = ep->cfg.transport_size > sizeof(wsx_sock);
    wsx_sock *s = wsx__conn_sock(c);
    s->io.fd = fd;
    s->io.kind = WSX_IO_SOCK;
    s->io.heap_idx = WSX_HEAP_NONE;
    s->io.deadline = WSX_NO_DEADLINE;
    s->io.flags = client ? WSX_SOCK_CONNECTING | WSX_SOCK_CLIENT : 0;
    s->io.flags |= extra ? WSX_SOCK_EXTRA : 0;
    s->io.seen = WSX_SEEN_NONE;
    void *st = NULL;
    int r = ep->stream->open(ep->stream_ctx, fd, client, server_name, &st);
    if (r < 0) {
        wsx_conn_free(c);
        free(cs);
        return r;
    }
    if (extra)
        wsx__sock_extra(s)->st = st;
    unsigned ev = client ? WSX_POLL_OUT : WSX_POLL_IN;
    /* Room in the heap now, so settling never fails to set a deadline. */
    r = wsx__loop_reserve(l, 1) < 0 ? WSX_ENOMEM : 0;
    if (r == 0 && l->ops->add(l->poller, fd, ev, &s->io) < 0)
        r = WSX_EIO;
    if (r < 0) {
        ep->stream->close(st);
        wsx_conn_free(c);
        free(cs);
        return r;
    }
    s->io.interest = (uint8_t)ev;
    wsx__heap_join(&l->timers, &s->io); /* reserved above */
    l->nsocks++;
    *out = s;
    return 0;
}

/* Servers only: two peers that both stop reading while their output is
 * backlogged (a large message each way) would wait on each other. */
bool wsx__sock_paused(const wsx_loop *l, const wsx_sock *s)
{
    return l->read_pause && !(s->io.flags & WSX_SOCK_CLIENT) &&
           wsx_buffered_amount(wsx__sock_conn(s)) > l->read_pause;
}

static bool has_input(const wsx_sock *s)
{
    return (wsx__sock_ops(s)->wants(wsx__sock_st(s)) & WSX_STREAM_INPUT) != 0;
}

/* Over an admission limit (limits.c): the answer goes out once the
 * request is in, so that closing does not reset the connection under it
 * (unread input makes the kernel send RST). */
static void sock_refuse(wsx_sock *s)
{
    static const wsx_handshake_reply busy = {NULL, "Retry-After: 1\r\n",
                                             NULL, 0};
    s->io.flags &= (uint8_t)~WSX_SOCK_REFUSE;
    wsx_conn_refuse(wsx__sock_conn(s), 503, &busy);
}

/* A short read from TCP means the socket is drained; other streams (TLS
 * hands out a record at a time) are read until they say WSX_EAGAIN. A
 * throttled connection (wsx_conn_paused) is not read: TCP pushes back on
 * its sender until the core's tick resumes it. */
static void sock_read(wsx_loop *l, wsx_sock *s)
{
    const wsx_stream_ops *ops = wsx__sock_ops(s);
    void *st = wsx__sock_st(s);
    bool tcp = ops == &wsx_stream_tcp;
    int reads = l->rbuf_size >= WSX_READ_TURN_BYTES ? 1 : WSX_READS_PER_EVENT;
    for (int i = 0; i < reads && !wsx_conn_paused(wsx__sock_conn(s)); i++) {
        /* The rest of a large frame is read straight into its message
         * (a frame larger than the read buffer is no longer assembled by
         * copy); any other input goes through the shared buffer. */
        wsx_conn *c = wsx__sock_conn(s);
        uint8_t *buf;
        size_t cap;
        bool into = wsx_conn_read_into(c, &buf, &cap) == 1;
        if (!into) {
            buf = l->rbuf;
            cap = l->rbuf_size;
        }
        long n = ops->read(st, s->io.fd, buf, cap);
        if (n > 0 && (s->io.flags & WSX_SOCK_REFUSE)) {
            sock_refuse(s);
            return;
        }
        if (n > 0) {
            wsx_conn_clock(c, l->now);
            int r = into ? wsx_conn_feed_done(c, (size_t)n)
                         : wsx_conn_feed(c, buf, (size_t)n);
            if (r < 0 || (tcp && (size_t)n < cap) || wsx__sock_paused(l, s))
                return;
            continue;
        }
        if (n == WSX_EAGAIN)
            return;
        /* End of file, a reset or the stream's own error (TLS): RFC 6455
         * §7.1.5, the core reports 1006 with the stream's reason unless
         * the close handshake already finished. */
        s->io.flags |= WSX_SOCK_EOF;
        wsx_conn_lost(wsx__sock_conn(s), n < 0 ? (int)n : WSX_EPEERCLOSED);
        return;
    }
}

/* A refused connect ends the connection (1006) like a lost transport,
 * with WSX_ECONNREFUSED as on_close's error. */
static void sock_connected(wsx_sock *s)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    s->io.flags &= (uint8_t)~WSX_SOCK_CONNECTING;
    if (err) {
        s->io.flags |= WSX_SOCK_EOF;
        wsx_conn_lost(wsx__sock_conn(s), err == ECONNREFUSED ? WSX_ECONNREFUSED
                               : err == ETIMEDOUT  ? WSX_ECONNTIMEOUT
                                                   : WSX_EPEERCLOSED);
    }
}

void wsx__sock_event(wsx_loop *l, wsx_sock *s, unsigned events)
{
    l->current = s;
    if (s->io.flags & WSX_SOCK_CONNECTING)
        sock_connected(s);
    else if ((events & (WSX_POLL_IN | WSX_POLL_ERR)) &&
             !(s->io.flags & WSX_SOCK_EOF))
        sock_read(l, s);
    wsx__sock_settle(l, s);
}

/* Whether the core's timers must run before s settles. After activity the
 * core needs a tick within WSX_IDLE_SWEEP_MS of it: a tick that sees no
 * traffic since the previous one hands the buffers back. While s holds a
 * deadline within that bound and the core's state is the one its last
 * tick saw, no deadline of the core has moved earlier (idle and ping
 * timers count from input seen at a tick, so they only move later): the
 * tick and the heap update are skipped, which is most events of a busy
 * connection (measured: -27% user-space instructions per echoed 16 B
 * message at one in flight). */
static bool needs_tick(const wsx_loop *l, const wsx_sock *s)
{
    uint64_t d = s->io.deadline;
    return d <= l->now || d > l->now + WSX_IDLE_SWEEP_MS ||
           wsx_conn_state(wsx__sock_conn(s)) != s->io.seen || wsx_conn_paused(wsx__sock_conn(s));
}

/* Push out what the stream holds; true while some is left. A failure
 * ends the connection as a lost transport, with the stream's reason. */
static bool stream_flush(wsx_sock *s)
{
    const wsx_stream_ops *ops = wsx__sock_ops(s);
    void *st = wsx__sock_st(s);
    if (ops->queued(st) == 0)
        return false;
    int r = ops->flush(st, s->io.fd);
    if (r < 0 && r != WSX_EAGAIN) {
        s->io.flags |= WSX_SOCK_EOF;
        wsx_conn_lost(wsx__sock_conn(s), r);
        return false;
    }
    return ops->queued(st) != 0;
}

/* After anything happened to s (timer: its deadline came): run the core's
 * timers when due, write what it queued (frames queued during one event
 * leave in one write), then close it or re-arm interest and deadline. */
static void settle(wsx_loop *l, wsx_sock *s, bool timer)
{
    wsx_conn *c = wsx__sock_conn(s);
    const wsx_stream_ops *ops = wsx__sock_ops(s);
    void *st = wsx__sock_st(s);
    if (s->io.flags & WSX_SOCK_CONNECTING) {
        wsx__loop_interest(l, &s->io, WSX_POLL_OUT);
        return;
    }
    uint32_t now32 = (uint32_t)l->now;
    if (!timer) {
        s->io.act = now32;
        /* Most events of a busy plain TCP connection: the core flushed
         * its output at the end of the feed, no tick is due and the
         * state is the one of the last tick (so it is not closed: that
         * tick set KILL). The stream holds nothing and wants nothing, so
         * all that is left of the general path below is read interest
         * (measured: ~130 user-space instructions per 16 B echo). */
        if (ops == &wsx_stream_tcp &&
            !(s->io.flags & (WSX_SOCK_KILL | WSX_SOCK_EOF)) &&
            !needs_tick(l, s) && !wsx_conn_wants_write(c)) {
            l->current = NULL;
            wsx__loop_interest(l, &s->io, WSX_POLL_IN);
            return;
        }
    }
    uint64_t next = WSX_NO_DEADLINE;
    bool retime = !(s->io.flags & WSX_SOCK_KILL) && (timer || needs_tick(l, s));
    l->current = s;
    if (retime) {
        next = wsx_conn_tick(c, l->now);
        s->io.seen = (uint8_t)wsx_conn_state(c);
    }
    bool held = ops->queued(st) != 0;
    bool out = stream_flush(s);
    /* A stream that emptied may bring the backlog under low_water: the
     * core's flush is where on_drain fires. */
    if (wsx_conn_wants_write(c) || (held && !out)) {
        wsx_conn_flush(c);
        out = stream_flush(s) || wsx_conn_wants_write(c);
    }
    l->current = NULL;
    bool done = wsx_conn_done(c);
    if (done && !out) {
        wsx__sock_close(l, s);
        return;
    }
    unsigned sw = ops->wants(st);
    unsigned want = out || (sw & WSX_STREAM_WRITE) ? WSX_POLL_OUT : 0u;
    bool throttled = wsx_conn_paused(c);
    if (!(s->io.flags & WSX_SOCK_EOF) && !throttled &&
        (!(out && wsx__sock_paused(l, s)) || (sw & WSX_STREAM_READ)))
        want |= WSX_POLL_IN;
    wsx__loop_interest(l, &s->io, want);
    /* Input the stream already holds is read at the next wake-up. */
    if ((sw & WSX_STREAM_INPUT) && !wsx__sock_paused(l, s) && !throttled &&
        !(s->io.flags & (WSX_SOCK_EOF | WSX_SOCK_KILL)))
        wsx__heap_set(&l->timers, &s->io, l->now);
    if ((done || wsx_conn_state(c) == WSX_STATE_CLOSED) &&
        !(s->io.flags & WSX_SOCK_KILL)) {
        s->io.flags |= WSX_SOCK_KILL;
        wsx__heap_set(&l->timers, &s->io, l->now + WSX_LINGER_MS);
        return;
    }
    if (!retime || ((sw & WSX_STREAM_INPUT) && !throttled))
        return;
    /* The tick that follows the last activity comes one sweep after it
     * (not after the skipped ticks), so buffers go back after a quiet
     * second as they would with a tick per event. A wrapped difference
     * only brings a tick early. */
    uint32_t quiet = now32 - s->io.act;
    if (quiet < WSX_IDLE_SWEEP_MS &&
        next > l->now + (WSX_IDLE_SWEEP_MS - quiet))
        next = l->now + (WSX_IDLE_SWEEP_MS - quiet);
    /* A deadline that is already due would make the timer loop spin. */
    if (next <= l->now)
        next = l->now + 1;
    wsx__heap_set(&l->timers, &s->io, next);
}

void wsx__sock_settle(wsx_loop *l, wsx_sock *s)
{
    settle(l, s, false);
}

void wsx__sock_timer(wsx_loop *l, wsx_sock *s)
{
    if (s->io.flags & (WSX_SOCK_CONNECTING | WSX_SOCK_KILL)) {
        if (s->io.flags & WSX_SOCK_CONNECTING) {
            l->current = s;
            wsx_conn_lost(wsx__sock_conn(s), WSX_ECONNTIMEOUT);
            l->current = NULL;
        }
        wsx__sock_close(l, s);
        return;
    }
    if (has_input(s) && !(s->io.flags & WSX_SOCK_EOF)) {
        l->current = s;
        sock_read(l, s);
    }
    settle(l, s, true);
}

/* Close the socket now; a connection not yet over learns it as a lost
 * transport (on_close 1006). The memory waits for the end of the wake-up:
 * events already collected may still point to it. */
void wsx__sock_close(wsx_loop *l, wsx_sock *s)
{
    if (s->io.flags & WSX_SOCK_DEAD)
        return;
    if (!wsx_conn_done(wsx__sock_conn(s))) {
        l->current = s;
        wsx_conn_eof(wsx__sock_conn(s));
        l->current = NULL;
    }
    l->ops->del(l->poller, s->io.fd);
    wsx__sock_ops(s)->shutdown(wsx__sock_st(s), s->io.fd);
    wsx__sock_ops(s)->close(wsx__sock_st(s));
    close(s->io.fd);
    wsx__heap_leave(&l->timers, &s->io);
    if (!(s->io.flags & WSX_SOCK_CLIENT))
        wsx__limits_release(l, wsx__sock_slot(s));
    l->nsocks--;
    s->io.flags |= WSX_SOCK_DEAD;
    s->io.dead_next = l->dead ? &l->dead->io : NULL;
    l->dead = s;
}

/* The end of a closed socket's wake-up: its block goes with its
 * connection (after it, a client's endpoint, which the connection's
 * settings point into). */
void wsx__sock_free(wsx_sock *s)
{
    wsx_conn *c = wsx__sock_conn(s);
    void *cs = (s->io.flags & WSX_SOCK_CLIENT)
                   ? (void *)(uintptr_t)wsx__sock_ep(s) : NULL;
    wsx_conn_free(c);
    free(cs);
}
