/* metrics.c - the example servers' --metrics options (metrics.h). */
#include "metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_metrics_option(cli *c, cli_metrics *m)
{
    if (!strcmp(c->arg, "--metrics"))
        m->same_port = true;
    else if (!strcmp(c->arg, "--metrics-port"))
        m->port = (int)cli_int(c, 0, 65535);
    else
        return 0;
    return 1;
}

void cli_metrics_loop_opts(const char *prog, cli_metrics *m, wsx_loop_opts *lo)
{
    if (!m->same_port && m->port < 0)
        return;
    if (!(m->hub = wsx_metrics_hub_new())) {
        fprintf(stderr, "%s: out of memory\n", prog);
        exit(CLI_EXIT_FAIL);
    }
    lo->metrics = m->hub;
}

void cli_metrics_listen_opts(const cli_metrics *m, wsx_listen_opts *o)
{
    if (m->same_port)
        o->metrics_path = "/metrics";
}

void cli_metrics_start(const char *prog, const cli_metrics *m, wsx_loop *l,
                       const cli_addr *a, int port)
{
    if (m->port >= 0) {
        port = wsx_loop_metrics_listen(l, a->host, (uint16_t)m->port);
        if (port < 0) {
            fprintf(stderr, "%s: cannot listen on %s port %d: %s\n", prog,
                    a->host, m->port,
                    port == WSX_EIO ? strerror(errno) : wsx_strerror(port));
            exit(CLI_EXIT_FAIL);
        }
    } else if (!m->same_port) {
        return;
    }
    const char *fmt = strchr(a->host, ':') ? "%s: metrics at http://[%s]:%d/metrics\n"
                                           : "%s: metrics at http://%s:%d/metrics\n";
    printf(fmt, prog, a->host, port);
    fflush(stdout);
}

void cli_metrics_free(cli_metrics *m)
{
    wsx_metrics_hub_free(m->hub);
    m->hub = NULL;
}
