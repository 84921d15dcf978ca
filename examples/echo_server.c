/* echo_server - echoes every text and binary message; the reference target for conformance tests and benchmarks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void usage(void)
{
    fprintf(stderr, "usage: echo_server [--port N] [--host ADDR] "
                    "[--max-message BYTES] [--streaming] [--poll] [--no-deflate]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    wsx_loop_opts lo;
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_listen_opts o;
    wsx_loop_opts_init(&lo);
    wsx_config_init(&cfg, WSX_SERVER);
    wsx_callbacks_init(&cb);
    wsx_listen_opts_init(&o);
    o.port = 9001;
    lo.handle_signals = true;
    cb.on_message = on_message;
    /* permessage-deflate (RFC 7692) is agreed when the client offers it,
     * as browsers always do. */
    cfg.extension = wsx_permessage_deflate();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--port") && v) {
            o.port = (uint16_t)atoi(v);
            i++;
        } else if (!strcmp(a, "--host") && v) {
            o.host = v;
            i++;
        } else if (!strcmp(a, "--max-message") && v) {
            cfg.max_message_size = cfg.max_frame_size = strtoull(v, NULL, 0);
            i++;
        } else if (!strcmp(a, "--streaming")) {
            cfg.streaming = true;
            cb.on_fragment = on_fragment;
        } else if (!strcmp(a, "--poll")) {
            lo.backend = WSX_LOOP_POLL;
        } else if (!strcmp(a, "--no-deflate")) {
            cfg.extension = NULL;
        } else {
            usage();
        }
    }
    o.config = &cfg;
    o.callbacks = &cb;
    wsx_loop *l = wsx_loop_new(&lo);
    int port = l ? wsx_loop_listen(l, &o) : WSX_ENOMEM;
    if (port < 0) {
        perror("echo_server: listen");
        return 1;
    }
    fprintf(stderr, "echo_server: listening on %s port %d (%s)\n",
            o.host ? o.host : "*", port, wsx_loop_backend_name(l));
    int r = wsx_loop_run(l);
    wsx_loop_free(l);
    return r < 0;
}
