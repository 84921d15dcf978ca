/* redis_loop.c - hiredis's event hooks (ev.addRead, delRead, addWrite,
 * delWrite, cleanup) mapped onto one wsx_watch per context; see
 * redis_loop.h. */
#include "redis_loop.h"

#include <stdlib.h>

typedef struct redis_watch {
    redisAsyncContext *ac;
    wsx_watch *w;
    unsigned events; /* WSX_WATCH_READ / WRITE hiredis asked for */
} redis_watch;

static void on_ready(wsx_watch *w, int fd, unsigned events, void *user)
{
    redis_watch *rw = user;
    (void)w;
    (void)fd;
    /* One side per wake-up: a read may end in a disconnect that frees the
     * context and rw with it, so nothing may follow it. The watcher is
     * level-triggered, so a pending write is reported again at once. */
    if (events & WSX_WATCH_READ)
        redisAsyncHandleRead(rw->ac);
    else if (events & WSX_WATCH_WRITE)
        redisAsyncHandleWrite(rw->ac);
}

/* hiredis calls the hooks repeatedly with the same request: they must be
 * idempotent, and a poller that refuses a change leaves the old interest,
 * which at worst delays hiredis until its next request. */
static void interest(redis_watch *rw, unsigned add, unsigned del)
{
    unsigned ev = (rw->events | add) & ~del;
    if (ev != rw->events && wsx_watch_set(rw->w, ev) == 0)
        rw->events = ev;
}

static void add_read(void *p) { interest(p, WSX_WATCH_READ, 0); }
static void del_read(void *p) { interest(p, 0, WSX_WATCH_READ); }
static void add_write(void *p) { interest(p, WSX_WATCH_WRITE, 0); }
static void del_write(void *p) { interest(p, 0, WSX_WATCH_WRITE); }

static void cleanup(void *p)
{
    redis_watch *rw = p;
    wsx_watch_free(rw->w);
    free(rw);
}

int redis_loop_attach(redisAsyncContext *ac, wsx_loop *l)
{
    redis_watch *rw = calloc(1, sizeof *rw);
    if (!rw)
        return WSX_ENOMEM;
    rw->ac = ac;
    rw->w = wsx_watch_new(l, ac->c.fd, 0, on_ready, rw);
    if (!rw->w) {
        free(rw);
        return WSX_EIO;
    }
    ac->ev.data = rw;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    return 0;
}
