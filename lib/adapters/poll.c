/* poll.c - the portable readiness backend (POSIX poll(2)): a dense pollfd
 * array plus an fd -> slot index, so add/mod/del are O(1); each wait is
 * O(descriptors), the price of portability. */
#include "poller.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct wsx_poller {
    struct pollfd *fds;
    void **data;     /* data[i] belongs to fds[i] */
    size_t n, cap;
    int *slot;       /* slot[fd]: index into fds, or -1 */
    size_t slot_cap;
    size_t start;    /* where the next wait starts reporting: fairness when
                        more descriptors are ready than fit in one batch */
};

static short to_poll(unsigned events)
{
    return (short)((events & WSX_POLL_IN ? POLLIN : 0) |
                   (events & WSX_POLL_OUT ? POLLOUT : 0));
}

static wsx_poller *pl_create(void)
{
    wsx_poller *p = calloc(1, sizeof *p);
    return p;
}

static void pl_destroy(wsx_poller *p)
{
    free(p->fds);
    free(p->data);
    free(p->slot);
    free(p);
}

static int grow(wsx_poller *p, int fd)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct pollfd *f = realloc(p->fds, cap * sizeof *f);
        if (!f)
            return -1;
        p->fds = f;
        void **d = realloc(p->data, cap * sizeof *d);
        if (!d)
            return -1;
        p->data = d;
        p->cap = cap;
    }
    if ((size_t)fd >= p->slot_cap) {
        size_t cap = p->slot_cap ? p->slot_cap : 64;
        while (cap <= (size_t)fd)
            cap *= 2;
        int *s = realloc(p->slot, cap * sizeof *s);
        if (!s)
            return -1;
        for (size_t i = p->slot_cap; i < cap; i++)
            s[i] = -1;
        p->slot = s;
        p->slot_cap = cap;
    }
    return 0;
}

static int find(const wsx_poller *p, int fd)
{
    if (fd < 0 || (size_t)fd >= p->slot_cap || p->slot[fd] < 0) {
        errno = ENOENT;
        return -1;
    }
    return p->slot[fd];
}

static int pl_add(wsx_poller *p, int fd, unsigned events, void *data)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if (grow(p, fd) < 0) {
        errno = ENOMEM;
        return -1;
    }
    if (p->slot[fd] >= 0) {
        errno = EEXIST;
        return -1;
    }
    p->fds[p->n].fd = fd;
    p->fds[p->n].events = to_poll(events);
    p->fds[p->n].revents = 0;
    p->data[p->n] = data;
    p->slot[fd] = (int)p->n++;
    return 0;
}

static int pl_mod(wsx_poller *p, int fd, unsigned events, void *data)
{
    int i = find(p, fd);
    if (i < 0)
        return -1;
    p->fds[i].events = to_poll(events);
    p->data[i] = data;
    return 0;
}

static int pl_del(wsx_poller *p, int fd)
{
    int i = find(p, fd);
    if (i < 0)
        return -1;
    size_t last = --p->n;
    if ((size_t)i != last) {
        p->fds[i] = p->fds[last];
        p->data[i] = p->data[last];
        p->slot[p->fds[i].fd] = i;
    }
    p->slot[fd] = -1;
    return 0;
}

static int pl_wait(wsx_poller *p, wsx_poll_event *out, int max, int timeout)
{
    int r = poll(p->fds, (nfds_t)p->n, timeout);
    if (r <= 0)
        return r < 0 && errno != EINTR ? -1 : 0;
    int got = 0;
    size_t n = p->n, i = p->start < n ? p->start : 0;
    for (size_t k = 0; k < n && got < max && r > 0; k++, i = (i + 1) % n) {
        short re = p->fds[i].revents;
        if (!re)
            continue;
        r--;
        out[got].data = p->data[i];
        out[got].events = (re & POLLIN ? WSX_POLL_IN : 0u) |
                          (re & POLLOUT ? WSX_POLL_OUT : 0u) |
                          (re & (POLLERR | POLLHUP | POLLNVAL) ? WSX_POLL_ERR : 0u);
        got++;
    }
    p->start = i;
    return got;
}

const wsx_poller_ops wsx__poller_poll = {
    "poll", pl_create, pl_destroy, pl_add, pl_mod, pl_del, pl_wait,
};
