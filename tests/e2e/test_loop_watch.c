/* test_loop_watch.c - the application's fd watchers and timers, on every
 * backend built in: order of timers (equal deadlines: order of starts),
 * repeating timers, watchers on pipes, changing and freeing handles from
 * inside callbacks (their own included), and the loop returning once
 * nothing is active. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "wsx_loop.h"


static wsx_loop_backend backend;

static wsx_loop *new_loop(void)
{
    wsx_loop_opts o;
    wsx_loop_opts_init(&o);
    o.backend = backend;
    wsx_loop *l = wsx_loop_new(&o);
    if (!l)
        abort();
    return l;
}

static void pipe_nb(int fds[2])
{
    if (pipe(fds) < 0)
        abort();
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
}

/* ---- timers in order ---------------------------------------------- */

static char order[16];
static size_t norder;

static void record(wsx_timer *t, void *user)
{
    (void)t;
    order[norder++] = *(const char *)user;
}

static void test_timer_order(void)
{
    wsx_loop *l = new_loop();
    static const char names[] = "abcde";
    static const uint64_t delays[] = {30, 10, 30, 30, 0};
    wsx_timer *t[5];
    norder = 0;
    for (int i = 0; i < 5; i++) {
        t[i] = wsx_timer_new(l, record, (void *)&names[i]);
        CHECK(t[i] != NULL);
    }
    for (int i = 0; i < 5; i++)
        CHECK_EQ(wsx_timer_start(t[i], delays[i], 0), 0);
    /* Restarting d moves it behind a and c, which share its deadline. */
    CHECK_EQ(wsx_timer_start(t[0], 30, 0), 0);
    uint64_t t0 = wsx_loop_now(l);
    CHECK_EQ(wsx_loop_run(l), 0);
    CHECK_EQ(norder, 5u);
    CHECK(memcmp(order, "ebcda", 5) == 0);
    CHECK(wsx_loop_now(l) >= t0 + 30);
    for (int i = 0; i < 5; i++)
        wsx_timer_free(t[i]);
    wsx_loop_free(l);
}

/* ---- repeating, restarting itself with no delay ------------------- */

typedef struct rep {
    int fired;
    uint64_t at[4];
    wsx_loop *loop;
} rep;

static void repeat_cb(wsx_timer *t, void *user)
{
    rep *r = user;
    r->at[r->fired++] = wsx_loop_now(r->loop);
    if (r->fired == 4)
        wsx_timer_free(t); /* its own free, inside its callback */
}

static void test_timer_repeat(void)
{
    wsx_loop *l = new_loop();
    rep r = {0, {0}, l};
    wsx_timer *t = wsx_timer_new(l, repeat_cb, &r);
    CHECK_EQ(wsx_timer_start(t, 5, 10), 0);
    CHECK_EQ(wsx_loop_run(l), 0);
    CHECK_EQ(r.fired, 4);
    for (int i = 1; i < 4; i++)
        CHECK(r.at[i] >= r.at[i - 1] + 10);
    wsx_loop_free(l);
}

static void zero_cb(wsx_timer *t, void *user)
{
    int *n = user;
    if (++*n < 100)
        wsx_timer_start(t, 0, 0); /* must not spin inside one pass */
}

static void test_timer_restart_zero(void)
{
    wsx_loop *l = new_loop();
    int n = 0;
    wsx_timer *t = wsx_timer_new(l, zero_cb, &n);
    CHECK_EQ(wsx_timer_start(t, 0, 0), 0);
    CHECK_EQ(wsx_loop_run(l), 0);
    CHECK_EQ(n, 100);
    wsx_timer_free(t);
    wsx_loop_free(l);
}

/* ---- one timer frees another due at the same time ----------------- */

static wsx_timer *victim;
static int victim_fired;

static void killer_cb(wsx_timer *t, void *user)
{
    (void)t;
    (void)user;
    wsx_timer_free(victim);
    victim = NULL;
}

static void victim_cb(wsx_timer *t, void *user)
{
    (void)t;
    (void)user;
    victim_fired++;
}

static void test_timer_free_other(void)
{
    wsx_loop *l = new_loop();
    wsx_timer *k = wsx_timer_new(l, killer_cb, NULL);
    victim = wsx_timer_new(l, victim_cb, NULL);
    victim_fired = 0;
    wsx_timer_start(k, 10, 0);
    wsx_timer_start(victim, 10, 0);
    CHECK_EQ(wsx_loop_run(l), 0);
    CHECK_EQ(victim_fired, 0);
    CHECK(victim == NULL);
    wsx_timer_free(k);
    wsx_loop_free(l);
}

/* ---- a watcher on a pipe ------------------------------------------ */

typedef struct reader {
    int fd;
    char got[64];
    size_t n;
    int calls;
} reader;

static void read_cb(wsx_watch *w, int fd, unsigned events, void *user)
{
    reader *r = user;
    r->calls++;
    CHECK(events == WSX_WATCH_READ);
    CHECK_EQ(fd, r->fd);
    ssize_t n = read(fd, r->got + r->n, sizeof r->got - r->n);
    if (n > 0)
        r->n += (size_t)n;
    if (n == 0)
        wsx_watch_free(w); /* end of file: its own free */
}

static void writer_cb(wsx_timer *t, void *user)
{
    int *wfd = user;
    static const char *parts[] = {"hello ", "world"};
    static int i;
    if (*wfd < 0)
        return;
    if (i < 2) {
        CHECK(write(*wfd, parts[i], strlen(parts[i])) > 0);
        i++;
        return;
    }
    close(*wfd);
    *wfd = -1;
    i = 0;
    wsx_timer_stop(t);
}

static void test_watch_pipe(void)
{
    wsx_loop *l = new_loop();
    int fds[2];
    pipe_nb(fds);
    reader r = {fds[0], {0}, 0, 0};
    wsx_watch *w = wsx_watch_new(l, fds[0], WSX_WATCH_READ, read_cb, &r);
    CHECK(w != NULL);
    wsx_timer *t = wsx_timer_new(l, writer_cb, &fds[1]);
    wsx_timer_start(t, 1, 5);
    CHECK_EQ(wsx_loop_run(l), 0);
    CHECK_EQ(r.n, 11u);
    CHECK(memcmp(r.got, "hello world", 11) == 0);
    CHECK(r.calls >= 3);
    close(fds[0]);
    wsx_timer_free(t);
    wsx_loop_free(l);
}

/* ---- add, modify and remove from inside callbacks ----------------- */

typedef struct chain {
    wsx_loop *loop;
    int a[2], b[2];
    wsx_watch *wa, *wb;
    int steps;
    int write_events;
} chain;

static void chain_b(wsx_watch *w, int fd, unsigned events, void *user)
{
    chain *c = user;
    char ch;
    CHECK(events == WSX_WATCH_READ);
    CHECK(read(fd, &ch, 1) == 1);
    c->steps++;
    /* Step 3: free the other watcher, then ourselves. */
    wsx_watch_free(c->wa);
    c->wa = NULL;
    wsx_watch_free(w);
    c->wb = NULL;
}

static void chain_a(wsx_watch *w, int fd, unsigned events, void *user)
{
    chain *c = user;
    if (events & WSX_WATCH_WRITE) {
        /* Step 1: writable; switch to reading only (modify in callback)
         * and write a byte to ourselves. */
        c->write_events++;
        CHECK_EQ(wsx_watch_set(w, WSX_WATCH_READ), 0);
        CHECK(write(c->a[1], "x", 1) == 1);
        return;
    }
    char ch;
    CHECK(read(fd, &ch, 1) == 1);
    c->steps++;
    /* Step 2: add a watcher from inside a callback, make it ready, and
     * stop reporting here (events 0 keeps the handle). */
    c->wb = wsx_watch_new(c->loop, c->b[0], WSX_WATCH_READ, chain_b, c);
    CHECK(c->wb != NULL);
    CHECK(write(c->b[1], "y", 1) == 1);
    CHECK_EQ(wsx_watch_set(w, 0), 0);
}

static void test_watch_in_callbacks(void)
{
    chain c;
    memset(&c, 0, sizeof c);
    c.loop = new_loop();
    /* a: a socket pair, so one end is both writable and readable. */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, c.a) == 0);
    pipe_nb(c.b);
    c.wa = wsx_watch_new(c.loop, c.a[0], WSX_WATCH_WRITE, chain_a, &c);
    CHECK(c.wa != NULL);
    CHECK_EQ(wsx_loop_run(c.loop), 0);
    CHECK_EQ(c.write_events, 1);
    CHECK_EQ(c.steps, 2);
    CHECK(c.wa == NULL && c.wb == NULL);
    for (int i = 0; i < 2; i++) {
        close(c.a[i]);
        close(c.b[i]);
    }
    wsx_loop_free(c.loop);
}

/* ---- two ready watchers: the first to run frees the other --------- */

typedef struct pair {
    wsx_watch *w[2];
    int fired;
} pair;

static void pair_cb(wsx_watch *w, int fd, unsigned events, void *user)
{
    pair *p = user;
    (void)fd;
    (void)events;
    p->fired++;
    wsx_watch_free(p->w[0]);
    wsx_watch_free(p->w[1]);
    p->w[0] = p->w[1] = NULL;
    (void)w;
}

static void test_watch_free_other(void)
{
    wsx_loop *l = new_loop();
    int a[2], b[2];
    pipe_nb(a);
    pipe_nb(b);
    CHECK(write(a[1], "1", 1) == 1 && write(b[1], "2", 1) == 1);
    pair p = {{NULL, NULL}, 0};
    p.w[0] = wsx_watch_new(l, a[0], WSX_WATCH_READ, pair_cb, &p);
    p.w[1] = wsx_watch_new(l, b[0], WSX_WATCH_READ, pair_cb, &p);
    CHECK_EQ(wsx_loop_run(l), 0);
    CHECK_EQ(p.fired, 1);
    for (int i = 0; i < 2; i++) {
        close(a[i]);
        close(b[i]);
    }
    wsx_loop_free(l);
}

/* ---- what keeps the loop running ---------------------------------- */

static void never_cb(wsx_watch *w, int fd, unsigned events, void *user)
{
    (void)w;
    (void)fd;
    (void)events;
    ++*(int *)user;
}

static void never_timer(wsx_timer *t, void *user)
{
    (void)t;
    ++*(int *)user;
}

static void test_loop_exits_when_idle(void)
{
    wsx_loop *l = new_loop();
    int fds[2], calls = 0;
    pipe_nb(fds);
    CHECK(write(fds[1], "z", 1) == 1);
    /* Events 0 and a stopped timer: nothing active, run returns. */
    wsx_watch *w = wsx_watch_new(l, fds[0], 0, never_cb, &calls);
    wsx_timer *t = wsx_timer_new(l, never_timer, &calls);
    CHECK(w != NULL && t != NULL);
    wsx_timer_start(t, 1000, 0);
    wsx_timer_stop(t);
    CHECK_EQ(wsx_loop_run(l), 0);
    CHECK_EQ(calls, 0);
    /* Handles left at wsx_loop_free are freed with the loop. */
    CHECK(wsx_watch_new(l, fds[1], 0, never_cb, &calls) != NULL);
    wsx_loop_free(l);
    close(fds[0]);
    close(fds[1]);
    (void)w;
}

static void run_all(wsx_loop_backend b)
{
    backend = b;
    RUN(test_timer_order);
    RUN(test_timer_repeat);
    RUN(test_timer_restart_zero);
    RUN(test_timer_free_other);
    RUN(test_watch_pipe);
    RUN(test_watch_in_callbacks);
    RUN(test_watch_free_other);
    RUN(test_loop_exits_when_idle);
}

int main(void)
{
    run_all(WSX_LOOP_POLL);
#if defined(__linux__)
    run_all(WSX_LOOP_EPOLL);
#endif
    run_all(WSX_LOOP_DEFAULT);
    return test_summary("loop_watch");
}
