/* tls.c - TLS options and contexts for the examples and tools (tls.h). */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_tls_option(cli *c, cli_tls *t, wsx_role role)
{
    const char *a = c->arg;
    if (role == WSX_SERVER && !strcmp(a, "--tls-cert"))
        t->cert = cli_value(c);
    else if (role == WSX_SERVER && !strcmp(a, "--tls-key"))
        t->key = cli_value(c);
    else if (role == WSX_CLIENT && !strcmp(a, "--cafile"))
        t->cafile = cli_value(c);
    else if (role == WSX_CLIENT && !strcmp(a, "--insecure"))
        t->insecure = true;
    else
        return 0;
    return 1;
}

static void new_ctx(const char *prog, cli_tls *t, const wsx_tls_opts *o)
{
    char why[512];
    if (wsx_tls_new(o, &t->ctx, why, sizeof why) < 0) {
        fprintf(stderr, "%s: TLS: %s\n", prog, why);
        exit(CLI_EXIT_FAIL);
    }
}

bool cli_tls_listen(cli *c, cli_tls *t, wsx_listen_opts *o)
{
    if (!t->cert != !t->key)
        cli_fail(c, "--tls-cert and --tls-key go together");
    if (!t->cert)
        return false;
    wsx_tls_opts to;
    wsx_tls_opts_init(&to, WSX_SERVER);
    to.cert_file = t->cert;
    to.key_file = t->key;
    new_ctx(c->prog, t, &to);
    if (o) {
        o->stream = &wsx_stream_tls;
        o->stream_ctx = t->ctx;
    }
    return true;
}

/* A signal handler may only write: the loop reads the pipe and reloads. */
static int hup_pipe[2] = {-1, -1};
static const char *hup_prog;

static void on_sighup(int sig)
{
    int e = errno;
    ssize_t r = write(hup_pipe[1], "", 1);
    (void)sig;
    (void)r; /* a full pipe already holds a wake-up */
    errno = e;
}

static void reload(wsx_tls *ctx, int loop)
{
    char why[512], where[24] = "";
    if (loop)
        snprintf(where, sizeof where, " (loop %d)", loop);
    if (wsx_tls_reload(ctx, why, sizeof why) < 0)
        fprintf(stderr, "%s: SIGHUP: certificates kept%s: %s\n", hup_prog, where, why);
    else
        fprintf(stderr, "%s: SIGHUP: certificates reloaded%s\n", hup_prog, where);
}

/* On loop i's thread: its clone (a context is one thread's). */
static void reload_clone(wsx_loop *l, void *arg)
{
    cli_tls *t = arg;
    for (int i = 1; i < t->w->n; i++)
        if (t->w->loops[i] == l)
            reload(t->w->stream_ctx[i], i);
}

static void on_hup(wsx_watch *w, int fd, unsigned events, void *user)
{
    cli_tls *t = user;
    char buf[64];
    (void)w;
    (void)events;
    while (read(fd, buf, sizeof buf) > 0)
        continue;
    reload(t->ctx, 0);
    for (int i = 1; t->w && i < t->w->n; i++)
        if (wsx_loop_post(t->w->loops[i], reload_clone, t) < 0)
            fprintf(stderr, "%s: SIGHUP: loop %d kept its certificates: out of memory\n",
                    hup_prog, i);
}

void cli_tls_workers(const char *prog, cli_tls *t, cli_workers *w)
{
    char why[512];
    t->w = w;
    for (int i = 1; i < w->n; i++) {
        wsx_tls *clone;
        if (wsx_tls_clone(t->ctx, &clone, why, sizeof why) < 0) {
            fprintf(stderr, "%s: TLS: %s\n", prog, why);
            exit(CLI_EXIT_FAIL);
        }
        w->stream_ctx[i] = clone;
    }
}

void cli_tls_free(cli_tls *t)
{
    for (int i = 1; t->w && i < t->w->n; i++)
        wsx_tls_free(t->w->stream_ctx[i]);
    wsx_tls_free(t->ctx);
}

void cli_tls_reload_on_hup(const char *prog, wsx_loop *l, cli_tls *t)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sighup;
    sa.sa_flags = SA_RESTART;
    hup_prog = prog;
    if (pipe(hup_pipe) < 0 || fcntl(hup_pipe[0], F_SETFL, O_NONBLOCK) < 0 ||
        fcntl(hup_pipe[1], F_SETFL, O_NONBLOCK) < 0 ||
        !wsx_watch_new(l, hup_pipe[0], WSX_WATCH_READ, on_hup, t) ||
        sigaction(SIGHUP, &sa, NULL) < 0) {
        fprintf(stderr, "%s: cannot watch for SIGHUP: %s\n", prog, strerror(errno));
        exit(CLI_EXIT_FAIL);
    }
}

void cli_tls_connect(const char *prog, cli_tls *t, wsx_connect_opts *o)
{
    if (strncmp(o->url, "wss://", 6) != 0)
        return;
    wsx_tls_opts to;
    wsx_tls_opts_init(&to, WSX_CLIENT);
    to.ca_file = t->cafile;
    to.insecure = t->insecure;
    new_ctx(prog, t, &to);
    o->stream = &wsx_stream_tls;
    o->stream_ctx = t->ctx;
}
