/* tls.h - the TLS options every example and tool shares (wsx_tls.h):
 * a server's --tls-cert FILE --tls-key FILE (wss:// on its port, the
 * files read again on SIGHUP), a client's --cafile FILE and --insecure,
 * and the context made of them. Public headers only: this is example
 * code. */
#ifndef WSX_EXAMPLES_TLS_H
#define WSX_EXAMPLES_TLS_H

#include "cli.h"
#include "workers.h"
#include "wsx_tls.h"

typedef struct cli_tls {
    const char *cert, *key; /* server: PEM chain and key; NULL: plain ws:// */
    const char *cafile;     /* client: CAs to trust; NULL: the system's */
    bool insecure;          /* client: no certificate check (tests only) */
    wsx_tls *ctx;           /* made by cli_tls_listen / cli_tls_connect */
    cli_workers *w;         /* server, --threads: the loops whose
                               stream_ctx[1..] are clones of ctx */
} cli_tls;

/* Usage lines for the options of each role. */
#define CLI_TLS_SERVER_USAGE                                                  \
    "  --tls-cert FILE      serve wss:// (https://) with this PEM chain\n"   \
    "  --tls-key FILE       and this PEM private key (both, or neither)\n"
/* For a server that calls cli_tls_reload_on_hup. */
#define CLI_TLS_RELOAD_USAGE                                                  \
    "  (with TLS, SIGHUP reads the certificate and key files again)\n"
#define CLI_TLS_CLIENT_USAGE                                                  \
    "  --cafile FILE       wss://: trust the CAs in this PEM file instead\n" \
    "                      of the system's\n"                                 \
    "  --insecure          wss://: do not check the server's certificate\n"  \
    "                      (tests only: anyone on the path can read it)\n"

/* Consume the current argument when it is one of role's options:
 * returns 1, or 0 for any other argument. */
int cli_tls_option(cli *c, cli_tls *t, wsx_role role);
/* Server: with --tls-cert and --tls-key, a context in t->ctx (and in o's
 * stream, unless o is NULL: a foreign loop drives the stream itself) and
 * true returned (serve wss:// and https://); false otherwise. Exits 2
 * when only one of them was given, 1 with the reason when the files
 * cannot be used. */
bool cli_tls_listen(cli *c, cli_tls *t, wsx_listen_opts *o);
/* Server with TLS on several loops (between cli_workers_init and
 * cli_workers_listen): a clone of t->ctx for each loop after the first,
 * as w->stream_ctx (a context serves one thread; clones share ticket
 * keys, so sessions resume on any loop). Exits 1 when one cannot be
 * made. */
void cli_tls_workers(const char *prog, cli_tls *t, cli_workers *w);
/* Server with TLS: SIGHUP reads the certificate files again
 * (wsx_tls_reload, through a pipe watched by l; each clone of
 * cli_tls_workers on its own loop's thread); the outcome is one line on
 * stderr per context. Exits 1 when the pipe cannot be made. */
void cli_tls_reload_on_hup(const char *prog, wsx_loop *l, cli_tls *t);
/* Free the contexts (after the loops). */
void cli_tls_free(cli_tls *t);
/* Client: for a wss:// URL, a context with --cafile/--insecure in o's
 * stream; exits 1 with the reason (after "PROG: ") when it cannot be
 * made. */
void cli_tls_connect(const char *prog, cli_tls *t, wsx_connect_opts *o);

#endif
