/* cli.c - option parsing, listening address, startup line and signal-aware
 * loop shared by every example and tool (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_init(cli *c, int argc, char **argv, const char *prog,
              const char *usage)
{
    memset(c, 0, sizeof *c);
    c->argc = argc;
    c->argv = argv;
    c->next = 1;
    c->prog = prog;
    c->usage = usage;
}

const char *cli_next(cli *c)
{
    if (c->next >= c->argc)
        return c->arg = NULL;
    c->arg = c->argv[c->next++];
    if (c->only_operands)
        return c->arg;
    if (!strcmp(c->arg, "--")) {
        c->only_operands = 1;
        return cli_next(c);
    }
    if (!strcmp(c->arg, "--help") || !strcmp(c->arg, "-h")) {
        fputs(c->usage, stdout);
        exit(CLI_EXIT_OK);
    }
    return c->arg;
}

int cli_is_operand(const cli *c)
{
    /* "-" alone is the usual name for stdin, an operand too. */
    return c->arg && (c->arg[0] != '-' || !c->arg[1] || c->only_operands);
}

_Noreturn void cli_fail(const cli *c, const char *why)
{
    fprintf(stderr, "%s: %s\n%s", c->prog, why, c->usage);
    exit(CLI_EXIT_USAGE);
}

_Noreturn void cli_unknown(const cli *c)
{
    char why[256];
    snprintf(why, sizeof why, "%s '%s'",
             cli_is_operand(c) ? "unexpected argument" : "unknown option",
             c->arg);
    cli_fail(c, why);
}

const char *cli_value(cli *c)
{
    char why[256];
    if (c->next >= c->argc) {
        snprintf(why, sizeof why, "option %s needs a value", c->arg);
        cli_fail(c, why);
    }
    return c->argv[c->next++];
}

static _Noreturn void bad_value(const cli *c, const char *opt, const char *v)
{
    char why[256];
    snprintf(why, sizeof why, "bad value '%s' for %s", v, opt);
    cli_fail(c, why);
}

long long cli_int(cli *c, long long min, long long max)
{
    const char *opt = c->arg, *v = cli_value(c);
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || errno || n < min || n > max)
        bad_value(c, opt, v);
    return n;
}

double cli_number(cli *c, double min, double max)
{
    const char *opt = c->arg, *v = cli_value(c);
    char *end;
    double d = strtod(v, &end);
    if (!*v || *end || isnan(d) || d < min || d > max)
        bad_value(c, opt, v);
    return d;
}

int cli_addr_option(cli *c, cli_addr *a)
{
    if (!strcmp(c->arg, "--host"))
        a->host = cli_value(c);
    else if (!strcmp(c->arg, "--port"))
        a->port = (int)cli_int(c, 0, 65535);
    else
        return 0;
    return 1;
}

void cli_print_url(const char *prog, const char *scheme, const char *host,
                   int port, const char *note)
{
    int v6 = strchr(host, ':') != NULL;
    /* A page is for a browser: say so, a user copies the line. */
    int page = !strncmp(scheme, "http", 4);
    printf("%s: listening on %s port %d: %s%s://%s%s%s:%d/%s%s%s%s\n", prog,
           host, port, page ? "open " : "", scheme, v6 ? "[" : "", host,
           v6 ? "]" : "", port, page ? " in a browser" : "",
           note ? " (" : "", note ? note : "", note ? ")" : "");
    fflush(stdout);
}

wsx_loop *cli_loop_new(const char *prog, wsx_loop_backend backend)
{
    wsx_loop_opts lo;
    wsx_loop_opts_init(&lo);
    lo.backend = backend;
    return cli_loop_new_opts(prog, &lo);
}

wsx_loop *cli_loop_new_opts(const char *prog, wsx_loop_opts *lo)
{
    lo->handle_signals = true;
    wsx_loop *l = wsx_loop_new(lo);
    if (!l) {
        fprintf(stderr, "%s: cannot create the event loop: %s\n", prog,
                strerror(errno));
        exit(CLI_EXIT_FAIL);
    }
    return l;
}

int cli_listen(const char *prog, wsx_loop *l, wsx_listen_opts *o,
               const cli_addr *a, const char *scheme, const char *note)
{
    o->host = a->host;
    o->port = (uint16_t)a->port;
    int port = wsx_loop_listen(l, o);
    if (port < 0) {
        fprintf(stderr, "%s: cannot listen on %s port %d: %s\n", prog, a->host,
                a->port, port == WSX_EIO ? strerror(errno) : wsx_strerror(port));
        wsx_loop_free(l);
        exit(CLI_EXIT_FAIL);
    }
    cli_print_url(prog, scheme, a->host, port, note);
    return port;
}
