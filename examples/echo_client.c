/* echo_client - the client-role twin of echo_server: connects to a URL and
 * sends every message back with its opcode until the server closes, for
 * fuzzing servers that test clients (Autobahn's fuzzingserver,
 * tests/conformance --server). Exit status 0 after a clean close (1000 or
 * 1001), 1 otherwise. */
#include <stdio.h>
#include <string.h>

#include "common/cli.h"
#include "wsx.h"
#include "wsx_deflate.h"
#include "wsx_loop.h"

static int status = CLI_EXIT_FAIL;

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    wsx_send(c, m->opcode, m->data, m->len);
}

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    (void)c;
    (void)user;
    bool clean = ci->clean && !ci->error &&
                 (ci->code == WSX_CLOSE_NORMAL || ci->code == WSX_CLOSE_GOING_AWAY);
    if (!clean)
        fprintf(stderr, "echo_client: closed %u%s%s\n", ci->code,
                ci->error ? ": " : "", ci->error ? wsx_strerror(ci->error) : "");
    status = clean ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static const char usage[] =
    "usage: echo_client [--deflate] ws://host[:port][/path]\n"
    "Connects and sends every message received back with its opcode until\n"
    "the server closes.\n"
    "  --deflate  offer permessage-deflate (RFC 7692)\n"
    "exit status: 0 after a clean close (1000 or 1001), 1 otherwise, 2 usage\n";

int main(int argc, char **argv)
{
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_connect_opts o;
    cli c;
    wsx_config_init(&cfg, WSX_CLIENT);
    wsx_connect_opts_init(&o);
    cli_init(&c, argc, argv, "echo_client", usage);
    for (const char *a; (a = cli_next(&c));) {
        if (cli_is_operand(&c) && !o.url)
            o.url = a;
        else if (!strcmp(a, "--deflate"))
            cfg.extension = wsx_permessage_deflate();
        else
            cli_unknown(&c);
    }
    if (!o.url)
        cli_fail(&c, "a ws:// URL is required");
    wsx_callbacks_init(&cb);
    cb.on_message = on_message;
    cb.on_close = on_close;
    o.config = &cfg;
    o.callbacks = &cb;
    wsx_loop *l = cli_loop_new("echo_client", WSX_LOOP_DEFAULT);
    int r = wsx_loop_connect(l, &o, NULL);
    if (r < 0) {
        fprintf(stderr, "echo_client: %s: %s\n", o.url, wsx_strerror(r));
        wsx_loop_free(l);
        return r == WSX_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    if (wsx_loop_run(l) < 0)
        status = CLI_EXIT_FAIL;
    wsx_loop_free(l);
    return status;
}
