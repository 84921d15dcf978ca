/* endpoint.c - where connections come from: listeners that accept (and
 * pause instead of spinning when descriptors run out) and client connects
 * to ws:// and wss:// URLs (RFC 6455 §3, §4.1), each
 * given the application's settings, its byte stream, and the loop's send
 * and random callbacks. */
#include "loop_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Accepting is bounded per wake-up so a connection storm cannot starve
 * the established connections. */
#define WSX_ACCEPTS_PER_EVENT 64

void wsx_listen_opts_init_(wsx_listen_opts *o, size_t size)
{
    memset(o, 0, sizeof *o);
    o->size = size;
    o->backlog = 511;
}

void wsx_connect_opts_init_(wsx_connect_opts *o, size_t size)
{
    memset(o, 0, sizeof *o);
    o->size = size;
    o->connect_timeout_ms = 10000;
}

static int endpoint_init(wsx_endpoint *ep, wsx_loop *l, const wsx_config *cfg,
                         wsx_role role, const wsx_callbacks *cb, void *user,
                         const wsx_stream_ops *stream, void *stream_ctx)
{
    ep->stream = stream ? stream : &wsx_stream_tcp;
    ep->stream_ctx = stream_ctx;
    if (!cb || cb->size != sizeof *cb || (cfg && cfg->size != sizeof *cfg))
        return WSX_EINVAL;
    if (cfg)
        ep->cfg = *cfg;
    else
        wsx_config_init(&ep->cfg, role);
    ep->cfg.role = role;
    ep->cb = *cb;
    ep->cb.send = wsx__sock_send_cb;
    ep->cb.random = wsx__sock_random_cb;
    /* Plain TCP holds nothing of its own: the core need not ask. */
    ep->cb.queued = ep->stream == &wsx_stream_tcp ? NULL : wsx__sock_queued_cb;
    ep->cb.sendv = wsx__sock_sendv_cb;
    ep->user = user;
    ep->loop = l;
    /* The socket (and what only some need) in the connection's block. */
    bool extra = ep->stream != &wsx_stream_tcp ||
                 (role == WSX_SERVER && wsx__limits_by_addr(l));
    ep->cfg.transport_size =
        sizeof(wsx_sock) + (extra ? sizeof(wsx_sock_extra) : 0);
    return 0;
}

int wsx_loop_listen(wsx_loop *l, const wsx_listen_opts *o)
{
    return wsx__listen(l, o, true);
}

int wsx__listen(wsx_loop *l, const wsx_listen_opts *o, bool counted)
{
    if (!o || o->size != sizeof *o || o->backlog <= 0 ||
        (o->metrics_path && !l->hub))
        return WSX_EINVAL;
    wsx_listener *ls = calloc(1, sizeof *ls);
    if (!ls)
        return WSX_ENOMEM;
    int r = endpoint_init(&ls->ep, l, o->config, WSX_SERVER, o->callbacks,
                          o->user, o->stream, o->stream_ctx);
    if (r < 0) {
        free(ls);
        return r;
    }
    ls->ep.metrics_path = o->metrics_path;
    wsx__metrics_endpoint(l, &ls->ep, counted);
    uint16_t port = 0;
    int fd = wsx__net_listen(o->host, o->port, o->reuse_port, o->backlog, &port);
    if (fd < 0) {
        int e = errno;
        free(ls);
        errno = e;
        return WSX_EIO;
    }
    ls->io.fd = fd;
    ls->io.kind = WSX_IO_LISTENER;
    ls->io.heap_idx = WSX_HEAP_NONE;
    ls->io.deadline = WSX_NO_DEADLINE;
    ls->io.interest = WSX_POLL_IN;
    if (l->ops->add(l->poller, fd, WSX_POLL_IN, &ls->io) < 0) {
        int e = errno;
        close(fd);
        free(ls);
        errno = e;
        return WSX_EIO;
    }
    ls->next = l->listeners;
    l->listeners = ls;
    l->nlisteners++;
    return port;
}

void wsx__listener_ready(wsx_loop *l, wsx_listener *ls)
{
    for (int i = 0; i < WSX_ACCEPTS_PER_EVENT; i++) {
        int fd = wsx__net_accept(ls->io.fd);
        if (fd < 0) {
            /* Out of descriptors or buffers: the pending peer stays in the
             * backlog and the level-triggered listener would wake us at
             * once, forever. Rest instead, and retry on a timer. */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                wsx__loop_interest(l, &ls->io, 0);
                if (wsx__heap_set(&l->timers, &ls->io,
                                 l->now + WSX_ACCEPT_PAUSE_MS) < 0)
                    wsx__loop_interest(l, &ls->io, WSX_POLL_IN);
            }
            return;
        }
        wsx_addr_slot *slot;
        int admit = wsx__limits_admit(l, fd, &slot);
        if (admit == WSX_ADMIT_DROP) {
            close(fd);
            continue;
        }
        wsx_sock *s;
        if (wsx__sock_attach(l, fd, &ls->ep, NULL, &s) < 0) {
            wsx__limits_release(l, slot);
            close(fd);
            continue;
        }
        if (slot)
            wsx__sock_extra(s)->slot = slot; /* by address: it has one */
        if (admit == WSX_ADMIT_REFUSE)
            s->io.flags |= WSX_SOCK_REFUSE;
        wsx__sock_settle(l, s);
    }
}

/* wss:// with no stream named: TLS that verifies against the system's
 * CA store, one context per loop. NULL when TLS is not built in. */
static wsx_tls *default_tls(wsx_loop *l)
{
    if (!l->tls_client) {
        wsx_tls_opts o;
        wsx_tls_opts_init(&o, WSX_CLIENT);
        if (wsx_tls_new(&o, &l->tls_client, NULL, 0) < 0)
            l->tls_client = NULL;
    }
    return l->tls_client;
}

int wsx_loop_connect(wsx_loop *l, const wsx_connect_opts *o, wsx_conn **out)
{
    if (o && o->size == sizeof *o && o->reconnect)
        return wsx__reconnect_start(l, o, out);
    return wsx__connect(l, o, NULL, out);
}

int wsx__connect(wsx_loop *l, const wsx_connect_opts *o,
                 struct wsx_reconnector *rc, wsx_conn **out)
{
    wsx_url u;
    wsx_endpoint ep;
    if (!o || o->size != sizeof *o || wsx__url_parse(&u, o->url) < 0)
        return WSX_EINVAL;
    const wsx_stream_ops *stream = o->stream;
    void *stream_ctx = o->stream_ctx;
    if (u.secure && !stream) {
        stream = &wsx_stream_tls;
        stream_ctx = default_tls(l);
        if (!stream_ctx)
            return WSX_EINVAL;
    }
    int r = endpoint_init(&ep, l, o->config, WSX_CLIENT, o->callbacks, o->user,
                          stream, stream_ctx);
    if (r < 0)
        return r;
    if (!ep.cfg.client.host)
        ep.cfg.client.host = u.hostport;
    if (!ep.cfg.client.path)
        ep.cfg.client.path = u.target;
    ep.metrics_path = NULL;
    wsx__metrics_endpoint(l, &ep, true);
    if (rc) /* sees every close first, to decide on the next attempt */
        ep.cb.on_close = wsx__reconnect_on_close;
    int fd = wsx__net_connect(&u);
    if (fd < 0)
        return fd;
    wsx_sock *s;
    r = wsx__sock_attach(l, fd, &ep, u.host, &s);
    if (r < 0) {
        close(fd);
        return r;
    }
    ((wsx_client_ep *)(uintptr_t)wsx__sock_ep(s))->rc = rc;
    if (o->connect_timeout_ms) {
        l->now = wsx__clock_ms();
        wsx__heap_set(&l->timers, &s->io, l->now + o->connect_timeout_ms);
    }
    if (out)
        *out = wsx__sock_conn(s);
    return 0;
}
