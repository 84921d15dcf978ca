/* workers.c - N loops on N threads sharing one port (see workers.h). */
#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_workers_init(cli_workers *w, const char *prog, int n,
                      const wsx_loop_opts *opts)
{
    wsx_loop_opts lo = *opts;
    memset(w, 0, sizeof *w);
    w->n = n;
    if (n > 1 && (lo.max_conns || lo.max_conns_per_addr || lo.handshake_rate.per_sec)) {
        if (!(w->share = wsx_limits_share_new())) {
            fprintf(stderr, "%s: out of memory\n", prog);
            exit(CLI_EXIT_FAIL);
        }
        lo.limits_share = w->share;
    }
    /* Signals go to one loop only (wsx_loop_opts.handle_signals). */
    w->loops[0] = cli_loop_new_opts(prog, &lo);
    lo.handle_signals = false;
    for (int i = 1; i < n; i++) {
        w->loops[i] = wsx_loop_new(&lo);
        if (!w->loops[i]) {
            fprintf(stderr, "%s: cannot create event loop %d: %s\n", prog, i,
                    strerror(errno));
            exit(CLI_EXIT_FAIL);
        }
    }
}

int cli_workers_listen(cli_workers *w, const char *prog, wsx_listen_opts *o,
                       const cli_addr *a, void *const *user,
                       const char *scheme, const char *note)
{
    int port = a->port;
    o->host = a->host;
    o->reuse_port = w->n > 1;
    for (int i = 0; i < w->n; i++) {
        o->port = (uint16_t)port;
        if (user)
            o->user = user[i];
        if (w->stream_ctx[i])
            o->stream_ctx = w->stream_ctx[i];
        int r = wsx_loop_listen(w->loops[i], o);
        if (r < 0) {
            fprintf(stderr, "%s: cannot listen on %s port %d: %s\n", prog,
                    a->host, port, r == WSX_EIO ? strerror(errno) : wsx_strerror(r));
            exit(CLI_EXIT_FAIL);
        }
        port = r;
    }
    cli_print_url(prog, scheme, a->host, port, note);
    return port;
}

typedef struct worker {
    wsx_loop *loop;
    int index;
    cli_worker_fn start;
    void *arg;
} worker;

static void *run_thread(void *p)
{
    worker *k = p;
    if (k->start)
        k->start(k->index, k->arg);
    return wsx_loop_run(k->loop) < 0 ? k : NULL;
}

static void shut_down(wsx_loop *l, void *arg)
{
    (void)arg;
    wsx_loop_shutdown(l);
}

int cli_workers_run(cli_workers *w, cli_worker_fn start, void *arg)
{
    pthread_t t[CLI_THREADS_MAX];
    worker k[CLI_THREADS_MAX];
    int started = 1, failed = 0;
    for (int i = 0; i < w->n; i++)
        k[i] = (worker){w->loops[i], i, start, arg};
    for (; started < w->n; started++)
        if (pthread_create(&t[started], NULL, run_thread, &k[started])) {
            failed = 1;
            break;
        }
    if (!failed && run_thread(&k[0]))
        failed = 1;
    for (int i = 1; i < started; i++) {
        void *res;
        /* Posting fails only out of memory; joining a loop that will never
         * hear of the shutdown would hang, so give up at once instead. */
        if (wsx_loop_post(w->loops[i], shut_down, NULL) < 0) {
            fputs("cannot stop the worker threads: out of memory\n", stderr);
            exit(CLI_EXIT_FAIL);
        }
        pthread_join(t[i], &res);
        failed |= res != NULL;
    }
    return failed ? -1 : 0;
}

void cli_workers_free(cli_workers *w)
{
    for (int i = 0; i < w->n; i++)
        wsx_loop_free(w->loops[i]);
    wsx_limits_share_free(w->share);
}
