/* echo_server - echoes every text and binary message; the reference target for conformance tests and benchmarks. */
#include <stdint.h>
#include <string.h>

#include "common/cli.h"
#include "common/tls.h"
#include "common/metrics.h"
#include "common/guards.h"
#include "common/workers.h"
#include "wsx.h"
#include "wsx_deflate.h"
#include "wsx_loop.h"

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    wsx_send(c, m->opcode, m->data, m->len);
}

/* --streaming: each piece goes back as it arrives, so messages of any
 * size pass through a fixed amount of memory. */
static void on_fragment(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    wsx_send_fragment(c, m->opcode, m->data, m->len, m->fin);
}

static const char usage[] =
    "usage: echo_server [--host ADDR] [--port N] [--max-message BYTES]\n"
    "                   [--streaming] [--poll] [--no-deflate] [--threads N]\n"
    "                   [--tls-cert FILE --tls-key FILE]\n"
    "                   [--metrics] [--metrics-port N]\n"
    "Echoes every text and binary message.\n"
    "  --host ADDR          address to listen on (default 127.0.0.1;\n"
    "                       0.0.0.0 or :: for every interface)\n"
    "  --port N             port (default 9001; 0: any free port)\n"
    "  --max-message BYTES  frame and message limit (default 16 MiB; 1009 above)\n"
    "  --streaming          echo each fragment as it arrives (fixed memory)\n"
    "  --poll               use the poll backend instead of epoll/kqueue\n"
    "  --no-deflate         do not agree to permessage-deflate\n"
    "  --threads N          N event loops on N threads sharing the port\n"
    "                       (SO_REUSEPORT; default 1)\n"
    CLI_TLS_SERVER_USAGE CLI_TLS_RELOAD_USAGE CLI_METRICS_USAGE
    "Guards (defaults: README \"Guards\"):\n" CLI_GUARDS_USAGE;

int main(int argc, char **argv)
{
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_listen_opts o;
    wsx_loop_opts lo;
    cli_addr addr = CLI_ADDR_INIT(9001);
    cli_tls tls = {0};
    cli_metrics metrics = CLI_METRICS_INIT;
    int threads = 1;
    cli_workers w;
    cli c;
    wsx_config_init(&cfg, WSX_SERVER);
    wsx_callbacks_init(&cb);
    wsx_listen_opts_init(&o);
    wsx_loop_opts_init(&lo);
    cli_guards_echo(&cfg, &lo);
    cb.on_message = on_message;
    /* permessage-deflate (RFC 7692) is agreed when the client offers it,
     * as browsers always do. */
    cfg.extension = wsx_permessage_deflate();
    cli_init(&c, argc, argv, "echo_server", usage);
    for (const char *a; (a = cli_next(&c));) {
        if (cli_addr_option(&c, &addr) || cli_tls_option(&c, &tls, WSX_SERVER) ||
            cli_metrics_option(&c, &metrics) || cli_guards_option(&c, &cfg, &lo)) {
            continue;
        } else if (!strcmp(a, "--max-message")) {
            cfg.max_message_size = cfg.max_frame_size =
                (size_t)cli_int(&c, 1, (long long)(SIZE_MAX >> 1));
        } else if (!strcmp(a, "--streaming")) {
            cfg.streaming = true;
            cb.on_fragment = on_fragment;
        } else if (!strcmp(a, "--poll")) {
            lo.backend = WSX_LOOP_POLL;
        } else if (!strcmp(a, "--no-deflate")) {
            cfg.extension = NULL;
        } else if (!strcmp(a, "--threads")) {
            threads = (int)cli_int(&c, 1, CLI_THREADS_MAX);
        } else {
            cli_unknown(&c);
        }
    }
    o.config = &cfg;
    o.callbacks = &cb;
    const char *scheme = cli_tls_listen(&c, &tls, &o) ? "wss" : "ws";
    cli_metrics_loop_opts("echo_server", &metrics, &lo);
    cli_metrics_listen_opts(&metrics, &o);
    cli_workers_init(&w, "echo_server", threads, &lo);
    if (tls.ctx) {
        cli_tls_workers("echo_server", &tls, &w); /* a context per loop */
        cli_tls_reload_on_hup("echo_server", w.loops[0], &tls);
    }
    int port = cli_workers_listen(&w, "echo_server", &o, &addr, NULL, scheme,
                                  wsx_loop_backend_name(w.loops[0]));
    cli_metrics_start("echo_server", &metrics, w.loops[0], &addr, port);
    int r = cli_workers_run(&w, NULL, NULL);
    cli_workers_free(&w);
    cli_metrics_free(&metrics);
    cli_tls_free(&tls);
    return r < 0;
}
