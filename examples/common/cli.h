/* cli.h - the boilerplate every wsx example and tool shares, written once:
 * option parsing (--help prints the usage and exits 0; an unknown option or
 * a missing or bad value prints it on stderr and exits 2), the address a
 * server listens on (127.0.0.1 unless --host says otherwise), the startup
 * line naming the URL served, and a loop that turns SIGINT/SIGTERM into a
 * graceful shutdown. Public headers only: this is example code. */
#ifndef WSX_EXAMPLES_CLI_H
#define WSX_EXAMPLES_CLI_H

#include <stdint.h>

#include "wsx_loop.h"

/* Exit statuses shared by every program here. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

typedef struct cli {
    int argc;
    char **argv;
    int next;          /* index of the next argument to read */
    const char *prog;  /* program name for messages, e.g. "echo_server" */
    const char *usage; /* the whole usage text, "usage: ..." first */
    const char *arg;   /* the argument cli_next returned last */
    int only_operands; /* "--" was seen */
} cli;

void cli_init(cli *c, int argc, char **argv, const char *prog,
              const char *usage);
/* The next argument, an option ("--port") or an operand ("ws://..."), or
 * NULL at the end. "--help" and "-h" never come back: the usage goes to
 * stdout and the process exits 0. After "--" everything is an operand:
 * cli_is_operand tells them apart. */
const char *cli_next(cli *c);
/* True when the argument cli_next returned is an operand, not an option. */
int cli_is_operand(const cli *c);
/* The value that follows the current option; exits 2 when there is none. */
const char *cli_value(cli *c);
/* The value as an integer in [min, max], or as a number (fractions allowed)
 * in [min, max]; anything else exits 2 naming the option. */
long long cli_int(cli *c, long long min, long long max);
double cli_number(cli *c, double min, double max);
/* "PROG: WHY", then the usage, on stderr; exit 2. */
_Noreturn void cli_fail(const cli *c, const char *why);
/* The current argument is not one this program knows: exit 2. */
_Noreturn void cli_unknown(const cli *c);

/* Where a server listens: --host ADDR (default 127.0.0.1, so nothing is
 * reachable from elsewhere until asked for, e.g. --host 0.0.0.0 or ::) and
 * --port N (0: any free port, printed in the startup line). */
typedef struct cli_addr {
    const char *host;
    int port;
} cli_addr;
#define CLI_ADDR_INIT(default_port) {"127.0.0.1", (default_port)}
/* Consume --host or --port when the current argument is one: returns 1,
 * or 0 for any other argument. */
int cli_addr_option(cli *c, cli_addr *a);

/* The startup line, on stdout and flushed at once so that scripts can
 * wait for it: "PROG: listening on HOST port N: ws://HOST:N/ (NOTE)", or
 * for an http scheme "...: open http://HOST:N/ in a browser (NOTE)".
 * An IPv6 host is bracketed in the URL. note may be NULL. */
void cli_print_url(const char *prog, const char *scheme, const char *host,
                   int port, const char *note);

/* A loop whose SIGINT/SIGTERM start a graceful shutdown (close 1001 to
 * every peer, then wsx_loop_run returns); exits 1 when it cannot be made. */
wsx_loop *cli_loop_new(const char *prog, wsx_loop_backend backend);
/* The same with the caller's options (signals, admission limits...). */
wsx_loop *cli_loop_new_opts(const char *prog, wsx_loop_opts *lo);
/* Listen on a (o's config and callbacks as given), print the startup line
 * and return the port; exits 1 with the reason when the address cannot be
 * bound. */
int cli_listen(const char *prog, wsx_loop *l, wsx_listen_opts *o,
               const cli_addr *a, const char *scheme, const char *note);

#endif
