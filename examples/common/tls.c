/* tls.c - TLS options and contexts for the examples and tools (tls.h). */
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
