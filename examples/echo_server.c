/* echo_server - echoes every text and binary message; the reference target for conformance tests and benchmarks. */
#include <stdint.h>
#include <string.h>

#include "common/cli.h"
#include "common/tls.h"
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
    "                   [--streaming] [--poll] [--no-deflate]\n"
    "                   [--tls-cert FILE --tls-key FILE]\n"
    "Echoes every text and binary message.\n"
    "  --host ADDR          address to listen on (default 127.0.0.1;\n"
    "                       0.0.0.0 or :: for every interface)\n"
    "  --port N             port (default 9001; 0: any free port)\n"
    "  --max-message BYTES  frame and message limit (default 16 MiB; 1009 above)\n"
    "  --streaming          echo each fragment as it arrives (fixed memory)\n"
    "  --poll               use the poll backend instead of epoll/kqueue\n"
    "  --no-deflate         do not agree to permessage-deflate\n"
    CLI_TLS_SERVER_USAGE CLI_TLS_RELOAD_USAGE;

int main(int argc, char **argv)
{
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_listen_opts o;
    cli_addr addr = CLI_ADDR_INIT(9001);
    cli_tls tls = {0};
    wsx_loop_backend backend = WSX_LOOP_DEFAULT;
    cli c;
    wsx_config_init(&cfg, WSX_SERVER);
    wsx_callbacks_init(&cb);
    wsx_listen_opts_init(&o);
    cb.on_message = on_message;
    /* permessage-deflate (RFC 7692) is agreed when the client offers it,
     * as browsers always do. */
    cfg.extension = wsx_permessage_deflate();
    cli_init(&c, argc, argv, "echo_server", usage);
    for (const char *a; (a = cli_next(&c));) {
        if (cli_addr_option(&c, &addr) || cli_tls_option(&c, &tls, WSX_SERVER)) {
            continue;
        } else if (!strcmp(a, "--max-message")) {
            cfg.max_message_size = cfg.max_frame_size =
                (size_t)cli_int(&c, 1, (long long)(SIZE_MAX >> 1));
        } else if (!strcmp(a, "--streaming")) {
            cfg.streaming = true;
            cb.on_fragment = on_fragment;
        } else if (!strcmp(a, "--poll")) {
            backend = WSX_LOOP_POLL;
        } else if (!strcmp(a, "--no-deflate")) {
            cfg.extension = NULL;
        } else {
            cli_unknown(&c);
        }
    }
    o.config = &cfg;
    o.callbacks = &cb;
    const char *scheme = cli_tls_listen(&c, &tls, &o) ? "wss" : "ws";
    wsx_loop *l = cli_loop_new("echo_server", backend);
    if (tls.ctx)
        cli_tls_reload_on_hup("echo_server", l, &tls);
    cli_listen("echo_server", l, &o, &addr, scheme, wsx_loop_backend_name(l));
    int r = wsx_loop_run(l);
    wsx_loop_free(l);
    wsx_tls_free(tls.ctx);
    return r < 0;
}
