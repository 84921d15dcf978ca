/* kqueue.c - the BSD/macOS readiness backend: kqueue(2) with one read and
 * one write filter per descriptor, enabled or disabled to match the
 * interest, so mod is a single kevent() call. Not exercised on Linux CI. */
#include "poller.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

#define WSX_KQ_BATCH 256

struct wsx_poller {
    int kq;
};

static wsx_poller *kq_create(void)
{
    wsx_poller *p = malloc(sizeof *p);
    if (!p)
        return NULL;
    p->kq = kqueue();
    if (p->kq < 0) {
        free(p);
        return NULL;
    }
    return p;
}

static void kq_destroy(wsx_poller *p)
{
    close(p->kq);
    free(p);
}

static int kq_set(wsx_poller *p, int fd, unsigned events, void *data)
{
    struct kevent ch[2];
    EV_SET(&ch[0], (uintptr_t)fd, EVFILT_READ,
           EV_ADD | (events & WSX_POLL_IN ? EV_ENABLE : EV_DISABLE), 0, 0, data);
    EV_SET(&ch[1], (uintptr_t)fd, EVFILT_WRITE,
           EV_ADD | (events & WSX_POLL_OUT ? EV_ENABLE : EV_DISABLE), 0, 0, data);
    return kevent(p->kq, ch, 2, NULL, 0, NULL);
}

static int kq_del(wsx_poller *p, int fd)
{
    struct kevent ch[2];
    EV_SET(&ch[0], (uintptr_t)fd, EVFILT_READ, EV_DELETE, 0, 0, NULL);
    EV_SET(&ch[1], (uintptr_t)fd, EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
    return kevent(p->kq, ch, 2, NULL, 0, NULL);
}

static int kq_wait(wsx_poller *p, wsx_poll_event *out, int max, int timeout)
{
    struct kevent ev[WSX_KQ_BATCH];
    struct timespec ts, *tp = NULL;
    if (timeout >= 0) {
        ts.tv_sec = timeout / 1000;
        ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
        tp = &ts;
    }
    int n = kevent(p->kq, NULL, 0, ev, max < WSX_KQ_BATCH ? max : WSX_KQ_BATCH, tp);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        out[i].data = ev[i].udata;
        out[i].events = (ev[i].filter == EVFILT_READ ? WSX_POLL_IN : WSX_POLL_OUT) |
                        (ev[i].flags & (EV_EOF | EV_ERROR) ? WSX_POLL_ERR : 0u);
    }
    return n;
}

const wsx_poller_ops wsx__poller_kqueue = {
    "kqueue", kq_create, kq_destroy, kq_set, kq_set, kq_del, kq_wait,
};
