/* metrics.h - the --metrics and --metrics-port N options of the example
 * servers: a hub for the server's loop(s) (wsx_loop.h), GET /metrics on
 * the server's own port, or on a port of its own on the same host. */
#ifndef WSX_EXAMPLES_METRICS_H
#define WSX_EXAMPLES_METRICS_H

#include <stdbool.h>

#include "cli.h"

typedef struct cli_metrics {
    bool same_port;       /* --metrics */
    int port;             /* --metrics-port N; -1: none */
    wsx_metrics_hub *hub; /* made by cli_metrics_loop_opts when asked for */
} cli_metrics;
#define CLI_METRICS_INIT {false, -1, NULL}

/* The usage lines of the two options. */
#define CLI_METRICS_USAGE                                                     \
    "  --metrics            serve Prometheus metrics at /metrics\n"           \
    "  --metrics-port N     serve them on port N of the same host instead\n"  \
    "                       (0: any free port, printed at startup)\n"

/* Consume --metrics or --metrics-port N: 1, or 0 for another argument. */
int cli_metrics_option(cli *c, cli_metrics *m);
/* When metrics were asked for: make the hub (exit 1 when out of memory)
 * and name it in lo. */
void cli_metrics_loop_opts(const char *prog, cli_metrics *m,
                           wsx_loop_opts *lo);
/* Before cli_listen: the metrics path on o. */
void cli_metrics_listen_opts(const cli_metrics *m, wsx_listen_opts *o);
/* After cli_listen: the metrics listener of --metrics-port on a's host,
 * and a line naming the URL (exit 1 when it cannot be bound). */
void cli_metrics_start(const char *prog, const cli_metrics *m, wsx_loop *l,
                       const cli_addr *a, int port);
/* After wsx_loop_free. */
void cli_metrics_free(cli_metrics *m);

#endif
