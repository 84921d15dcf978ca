/* poller.h - the small readiness interface every backend implements
 * (epoll.c, kqueue.c, poll.c): register a descriptor with an opaque
 * pointer, change or remove its interest, wait for events. Level-triggered
 * everywhere, so the shared loop logic (loop.c) never depends on which. */
#ifndef WSX_POLLER_H
#define WSX_POLLER_H

/* accept4, SO_REUSEPORT, getentropy and kqueue hide behind strict POSIX
 * (the build sets _POSIX_C_SOURCE); these names unhide them. Every
 * adapter file includes this header before any system header. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#ifndef _DARWIN_C_SOURCE
#define _DARWIN_C_SOURCE
#endif

#include <stddef.h>

#if defined(__linux__)
#define WSX_HAVE_EPOLL 1
#endif
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) ||     \
    defined(__NetBSD__) || defined(__DragonFly__)
#define WSX_HAVE_KQUEUE 1
#endif

#define WSX_POLL_IN 1u   /* readable, or a peer closed/reset */
#define WSX_POLL_OUT 2u  /* writable, or a connect completed */
#define WSX_POLL_ERR 4u  /* error or hang-up: read to learn which */

typedef struct wsx_poller wsx_poller;

typedef struct wsx_poll_event {
    void *data;
    unsigned events;
} wsx_poll_event;

typedef struct wsx_poller_ops {
    const char *name;
    /* NULL on failure (errno set). */
    wsx_poller *(*create)(void);
    void (*destroy)(wsx_poller *p);
    /* events: WSX_POLL_IN|WSX_POLL_OUT, possibly 0 (errors only). Each
     * returns 0, or -1 with errno set. */
    int (*add)(wsx_poller *p, int fd, unsigned events, void *data);
    int (*mod)(wsx_poller *p, int fd, unsigned events, void *data);
    int (*del)(wsx_poller *p, int fd);
    /* Store up to max events; timeout_ms -1 waits forever. Returns the
     * count (0 on timeout or EINTR) or -1 with errno set. */
    int (*wait)(wsx_poller *p, wsx_poll_event *ev, int max, int timeout_ms);
} wsx_poller_ops;

extern const wsx_poller_ops wsx__poller_poll;
#ifdef WSX_HAVE_EPOLL
extern const wsx_poller_ops wsx__poller_epoll;
#endif
#ifdef WSX_HAVE_KQUEUE
extern const wsx_poller_ops wsx__poller_kqueue;
#endif

#endif
