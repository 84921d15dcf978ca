/* workers.h - one server on every core: N event loops on N threads, each
 * accepting on the same port with SO_REUSEPORT, so the kernel spreads new
 * connections over the loops and no thread hands sockets to another.
 *
 * A connection lives and dies on the thread whose loop accepted it. To
 * send to it, or to a room of connections, from another thread, post a
 * closure to its loop with wsx_loop_post (the only wsx call that is safe
 * from any thread) and send from the closure; examples/chat/chat_threads.c
 * broadcasts a room's events that way. Loop 0 runs on the calling thread
 * and is the one whose SIGINT/SIGTERM handler starts a graceful shutdown;
 * the others follow it. */
#ifndef WSX_EXAMPLES_WORKERS_H
#define WSX_EXAMPLES_WORKERS_H

#include "cli.h"

#define CLI_THREADS_MAX 64

typedef struct cli_workers {
    int n;
    wsx_loop *loops[CLI_THREADS_MAX];
    void *stream_ctx[CLI_THREADS_MAX]; /* set: loop i's o->stream_ctx
                                          (cli_tls_workers) */
    wsx_limits_share *share; /* the loops' admission counts, when n > 1 */
} cli_workers;

/* Make n loops (1..CLI_THREADS_MAX) with opts (backend, metrics hub...);
 * loop 0 handles the signals; with admission limits in opts and n > 1,
 * the loops count them together (wsx_limits_share), so --max-conns and
 * the per-address limits hold for the process. Exits 1 when one cannot
 * be made. */
void cli_workers_init(cli_workers *w, const char *prog, int n,
                      const wsx_loop_opts *opts);
/* Listen on a with every loop (SO_REUSEPORT when n > 1; a port 0 becomes
 * the one the first loop got), loop i with user[i] as o->user when user
 * is not NULL and stream_ctx[i] as o->stream_ctx when set, and print the startup line once. Exits 1 when the address
 * cannot be bound. Returns the port. */
int cli_workers_listen(cli_workers *w, const char *prog, wsx_listen_opts *o,
                       const cli_addr *a, void *const *user,
                       const char *scheme, const char *note);
/* Run every loop, loops 1..n-1 on threads of their own, until loop 0 ends
 * (a signal's graceful shutdown); then shut the others down and join
 * them. start (may be NULL) runs first on each loop's thread with its
 * index, e.g. to set a thread-local pointer to that loop's state. Returns
 * 0, or -1 when a loop failed or a thread did not start. */
typedef void (*cli_worker_fn)(int index, void *arg);
int cli_workers_run(cli_workers *w, cli_worker_fn start, void *arg);
/* Free every loop (after cli_workers_run). */
void cli_workers_free(cli_workers *w);

#endif
