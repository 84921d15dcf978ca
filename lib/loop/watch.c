/* watch.c - the application's own handles in the loop: watchers on
 * foreign file descriptors and one-shot or repeating timers. A handle is
 * in a plain list of the loop from new to free; a timer is in the
 * deadline heap only while started. Every handle may be changed or freed
 * from any callback: a freed watcher is parked until the end of the
 * wake-up (collected events may point to it), a timer leaves the heap
 * before its callback runs. */
#include "loop_internal.h"

#include <errno.h>
#include <stdlib.h>

int wsx__loop_reserve(wsx_loop *l, size_t extra)
{
    return wsx__heap_reserve(&l->timers, l->nsocks + l->ntimers +
                                            l->nlisteners + extra);
}

static unsigned to_poll(unsigned events)
{
    return (events & WSX_WATCH_READ ? WSX_POLL_IN : 0u) |
           (events & WSX_WATCH_WRITE ? WSX_POLL_OUT : 0u);
}

wsx_watch *wsx_watch_new(wsx_loop *l, int fd, unsigned events,
                         wsx_watch_fn fn, void *user)
{
    if (!fn || fd < 0 || (events & ~(WSX_WATCH_READ | WSX_WATCH_WRITE))) {
        errno = EINVAL;
        return NULL;
    }
    wsx_watch *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->io.fd = fd;
    w->io.kind = WSX_IO_WATCH;
    w->io.heap_idx = WSX_HEAP_NONE;
    w->io.deadline = WSX_NO_DEADLINE;
    w->io.interest = (uint8_t)to_poll(events);
    w->loop = l;
    w->fn = fn;
    w->user = user;
    if (l->ops->add(l->poller, fd, w->io.interest, &w->io) < 0) {
        int e = errno;
        free(w);
        errno = e;
        return NULL;
    }
    WSX__LIST_PUSH(l->watches, w);
    if (w->io.interest)
        l->nwatch_active++;
    return w;
}

int wsx_watch_set(wsx_watch *w, unsigned events)
{
    if (events & ~(WSX_WATCH_READ | WSX_WATCH_WRITE))
        return WSX_EINVAL;
    wsx_loop *l = w->loop;
    bool was = w->io.interest != 0;
    if (wsx__loop_interest(l, &w->io, to_poll(events)) < 0)
        return WSX_EIO;
    bool is = w->io.interest != 0;
    if (is != was)
        l->nwatch_active += is ? 1 : (size_t)-1;
    return 0;
}

void wsx_watch_free(wsx_watch *w)
{
    if (!w)
        return;
    wsx_loop *l = w->loop;
    l->ops->del(l->poller, w->io.fd);
    if (w->io.interest)
        l->nwatch_active--;
    w->io.interest = 0;
    w->io.fd = -1; /* marks it freed for events already collected */
    WSX__LIST_UNLINK(l->watches, w);
    w->prev = NULL;
    w->next = l->dead_watch;
    l->dead_watch = w;
}

/* An error or hang-up is reported as everything asked for: reading or
 * writing is how the owner learns which. */
void wsx__watch_event(wsx_watch *w, unsigned events)
{
    if (w->io.fd < 0)
        return;
    unsigned asked = w->io.interest;
    unsigned got = (events & WSX_POLL_ERR) ? asked : (events & asked);
    unsigned out = (got & WSX_POLL_IN ? WSX_WATCH_READ : 0u) |
                   (got & WSX_POLL_OUT ? WSX_WATCH_WRITE : 0u);
    if (out)
        w->fn(w, w->io.fd, out, w->user);
}

void wsx__watch_reap(wsx_loop *l)
{
    while (l->dead_watch) {
        wsx_watch *w = l->dead_watch;
        l->dead_watch = w->next;
        free(w);
    }
}

void wsx__watch_free_all(wsx_loop *l)
{
    while (l->watches)
        wsx_watch_free(l->watches);
    wsx__watch_reap(l);
    while (l->timer_list)
        wsx_timer_free(l->timer_list);
}

wsx_timer *wsx_timer_new(wsx_loop *l, wsx_timer_fn fn, void *user)
{
    if (!fn || wsx__loop_reserve(l, 1) < 0)
        return NULL;
    wsx_timer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->io.fd = -1;
    t->io.kind = WSX_IO_TIMER;
    t->io.heap_idx = WSX_HEAP_NONE;
    t->io.deadline = WSX_NO_DEADLINE;
    t->loop = l;
    t->fn = fn;
    t->user = user;
    WSX__LIST_PUSH(l->timer_list, t);
    l->ntimers++;
    return t;
}

static uint64_t after(uint64_t now, uint64_t ms)
{
    return ms >= WSX_NO_DEADLINE - now ? WSX_NO_DEADLINE - 1 : now + ms;
}

int wsx_timer_start(wsx_timer *t, uint64_t delay_ms, uint64_t repeat_ms)
{
    wsx_loop *l = t->loop;
    bool was = t->io.heap_idx != WSX_HEAP_NONE;
    t->repeat = repeat_ms;
    /* Room for every timer was reserved at wsx_timer_new. */
    if (wsx__heap_set(&l->timers, &t->io, after(l->now, delay_ms)) < 0)
        return WSX_ENOMEM;
    if (!was)
        l->ntimer_active++;
    return 0;
}

void wsx_timer_stop(wsx_timer *t)
{
    if (t->io.heap_idx == WSX_HEAP_NONE)
        return;
    wsx__heap_del(&t->loop->timers, &t->io);
    t->loop->ntimer_active--;
}

void wsx_timer_free(wsx_timer *t)
{
    if (!t)
        return;
    wsx_loop *l = t->loop;
    wsx_timer_stop(t);
    WSX__LIST_UNLINK(l->timer_list, t);
    l->ntimers--;
    free(t);
}

/* Rearmed (or stopped) before the callback, so the callback may restart,
 * stop or free it; nothing touches t after the call. */
void wsx__timer_fire(wsx_loop *l, wsx_timer *t)
{
    if (t->repeat)
        wsx__heap_set(&l->timers, &t->io, after(l->now, t->repeat));
    else
        wsx_timer_stop(t);
    t->fn(t, t->user);
}

uint64_t wsx_loop_now(const wsx_loop *l)
{
    return l->now;
}
