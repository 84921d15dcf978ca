/* epoll.c - the Linux readiness backend: level-triggered epoll(7), one
 * registration per descriptor carrying the loop's pointer. */
#include "poller.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define WSX_EPOLL_BATCH 256

struct wsx_poller {
    int epfd;
};

static uint32_t to_epoll(unsigned events)
{
    return (events & WSX_POLL_IN ? EPOLLIN | EPOLLRDHUP : 0u) |
           (events & WSX_POLL_OUT ? EPOLLOUT : 0u);
}

static wsx_poller *ep_create(void)
{
    wsx_poller *p = malloc(sizeof *p);
    if (!p)
        return NULL;
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (p->epfd < 0) {
        free(p);
        return NULL;
    }
    return p;
}

static void ep_destroy(wsx_poller *p)
{
    close(p->epfd);
    free(p);
}

static int ep_ctl(wsx_poller *p, int op, int fd, unsigned events, void *data)
{
    struct epoll_event ev;
    ev.events = to_epoll(events);
    ev.data.ptr = data;
    return epoll_ctl(p->epfd, op, fd, &ev);
}

static int ep_add(wsx_poller *p, int fd, unsigned events, void *data)
{
    return ep_ctl(p, EPOLL_CTL_ADD, fd, events, data);
}

static int ep_mod(wsx_poller *p, int fd, unsigned events, void *data)
{
    return ep_ctl(p, EPOLL_CTL_MOD, fd, events, data);
}

static int ep_del(wsx_poller *p, int fd)
{
    struct epoll_event ev = {0, {0}};
    return epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, &ev);
}

static int ep_wait(wsx_poller *p, wsx_poll_event *out, int max, int timeout)
{
    struct epoll_event ev[WSX_EPOLL_BATCH];
    int n = epoll_wait(p->epfd, ev, max < WSX_EPOLL_BATCH ? max : WSX_EPOLL_BATCH,
                       timeout);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        uint32_t e = ev[i].events;
        out[i].data = ev[i].data.ptr;
        out[i].events = (e & (EPOLLIN | EPOLLRDHUP) ? WSX_POLL_IN : 0u) |
                        (e & EPOLLOUT ? WSX_POLL_OUT : 0u) |
                        (e & (EPOLLERR | EPOLLHUP) ? WSX_POLL_ERR : 0u);
    }
    return n;
}

const wsx_poller_ops wsx__poller_epoll = {
    "epoll", ep_create, ep_destroy, ep_add, ep_mod, ep_del, ep_wait,
};
