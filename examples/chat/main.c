/* chat - chat rooms with nicknames over JSON messages, and the browser page
 * that uses them, served by one process: the page at /, the WebSocket at
 * any other path, and SSE, long polling and POST /send for clients
 * without WebSocket (fallback.h).
 *
 * Client -> server, one JSON object per text message, keys in any order:
 *   {"type":"join","room":"lobby","nick":"ann"}
 *   {"type":"say","text":"hi"}
 *   {"type":"leave"}
 * Server -> client: join, say and leave events of the room (with room and
 * nick), and {"type":"error","message":"..."} for input it cannot use.
 * Room state lives in room.c, the protocol reader in protocol.c. */
#include <string.h>

#include "../common/cli.h"
#include "../common/tls.h"
#include "fallback.h"
#include "page.h"
#include "protocol.h"
#include "wsx.h"
#include "wsx_loop.h"

static chat *rooms;
static chat_fallback *fallback;

static void on_message(wsx_conn *c, const wsx_message *msg, void *user)
{
    (void)c;
    chat_read(user, msg);
}

static void on_open(wsx_conn *c, void *user)
{
    chat_member *m = chat_member_new(rooms, c);
    (void)user;
    if (!m)
        wsx_close(c, WSX_CLOSE_INTERNAL, "out of memory");
    wsx_conn_set_user(c, m);
}

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    (void)ci;
    if (wsx_conn_http_status(c) == 101)
        chat_member_free(user);
    else
        chat_fallback_closed(user, c); /* SSE, poll: NULL for others */
}

/* SSE and polling (fallback.h), the page at / (?transport=sse|poll
 * included), 404 for anything else that is not a WebSocket upgrade. */
static void on_http(wsx_conn *c, const wsx_http_request *req, void *user)
{
    (void)user;
    if (chat_fallback_http(fallback, c, req))
        return;
    if (req->target[0] == '/' && (req->target_len == 1 || req->target[1] == '?'))
        wsx_http_respond(c, 200, "text/html; charset=utf-8", NULL, chat_page,
                         chat_page_len);
    else
        wsx_http_respond(c, 404, "text/plain", NULL, "not found\n", 10);
}

static const char usage[] =
    "usage: chat [--host ADDR] [--port N] [--tls-cert FILE --tls-key FILE]\n"
    "Chat rooms: serves the page at / and the WebSocket beside it.\n"
    "  --host ADDR  address to listen on (default 127.0.0.1;\n"
    "               0.0.0.0 or :: for every interface)\n"
    "  --port N     port (default 8080; 0: any free port)\n"
    "  --poll-timeout MS  how long GET /poll waits for events (default 25000)\n"
    "  --heartbeat MS     SSE comment heartbeat interval (default 15000)\n"
    CLI_TLS_SERVER_USAGE CLI_TLS_RELOAD_USAGE;

int main(int argc, char **argv)
{
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_listen_opts o;
    cli_addr addr = CLI_ADDR_INIT(8080);
    cli_tls tls = {0};
    uint32_t poll_ms = 25000, beat_ms = 15000;
    cli c;
    cli_init(&c, argc, argv, "chat", usage);
    while (cli_next(&c))
        if (!strcmp(c.arg, "--poll-timeout"))
            poll_ms = (uint32_t)cli_int(&c, 1, 3600000);
        else if (!strcmp(c.arg, "--heartbeat"))
            beat_ms = (uint32_t)cli_int(&c, 0, 3600000);
        else if (!cli_addr_option(&c, &addr) && !cli_tls_option(&c, &tls, WSX_SERVER))
            cli_unknown(&c);
    wsx_config_init(&cfg, WSX_SERVER);
    /* A chat line is small: refuse big messages (1009) and let a member
     * that does not read miss events rather than queue them forever. */
    cfg.max_message_size = cfg.max_frame_size = 16 * 1024;
    cfg.high_water = 1024 * 1024;
    wsx_callbacks_init(&cb);
    cb.on_open = on_open;
    cb.on_message = on_message;
    cb.on_close = on_close;
    cb.on_http = on_http;
    wsx_listen_opts_init(&o);
    o.config = &cfg;
    o.callbacks = &cb;
    rooms = chat_new();
    wsx_loop *l = cli_loop_new("chat", WSX_LOOP_DEFAULT);
    fallback = rooms ? chat_fallback_new(l, rooms, poll_ms, beat_ms) : NULL;
    if (!fallback)
        return CLI_EXIT_FAIL;
    const char *scheme = cli_tls_listen(&c, &tls, &o) ? "https" : "http";
    if (tls.ctx)
        cli_tls_reload_on_hup("chat", l, &tls);
    cli_listen("chat", l, &o, &addr, scheme, "Ctrl-C stops");
    int r = wsx_loop_run(l);
    chat_fallback_free(fallback);
    wsx_loop_free(l);
    wsx_tls_free(tls.ctx);
    chat_free(rooms);
    return r < 0;
}
