/* chat - chat rooms with nicknames over JSON messages, and the browser page
 * that uses them, served by one process: the page at /, the WebSocket at
 * any other path.
 *
 * Client -> server, one JSON object per text message, keys in any order:
 *   {"type":"join","room":"lobby","nick":"ann"}
 *   {"type":"say","text":"hi"}
 *   {"type":"leave"}
 * Server -> client: join, say and leave events of the room (with room and
 * nick), and {"type":"error","message":"..."} for input it cannot use.
 * Room state lives in room.c, the protocol reader in protocol.c. */
#include <stdio.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/guards.h"
#include "auth.h"
#include "page.h"
#include "protocol.h"
#include "wsx.h"
#include "wsx_loop.h"

static chat *rooms;
static chat_auth *auth; /* --jwt-secret */
/* The nick the token of the handshake in progress proved: on_open
 * follows on_handshake within the same call into wsx, so no other
 * connection's handshake can come between. */
static char signed_nick[CHAT_NAME_MAX + 1];

static int on_handshake(wsx_conn *c, const wsx_handshake *hs,
                        wsx_handshake_reply *reply, void *user)
{
    (void)c;
    (void)user;
    return chat_auth_check(auth, hs->request, signed_nick, reply);
}

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
    else if (auth)
        chat_member_sign_in(m, signed_nick);
    wsx_conn_set_user(c, m);
}

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    (void)c;
    (void)ci;
    chat_member_free(user); /* NULL for a connection that never opened */
}

/* The page at /, 404 for anything else that is not a WebSocket upgrade. */
static void on_http(wsx_conn *c, const wsx_http_request *req, void *user)
{
    (void)user;
    if (auth && chat_auth_login(auth, c, req))
        return;
    if (req->target_len == 1 && req->target[0] == '/')
        wsx_http_respond(c, 200, "text/html; charset=utf-8", NULL, chat_page,
                         chat_page_len);
    else
        wsx_http_respond(c, 404, "text/plain", NULL, "not found\n", 10);
}

static const char usage[] =
    "usage: chat [--host ADDR] [--port N]\n"
    "Chat rooms: serves the page at / and the WebSocket beside it.\n"
    "  --host ADDR  address to listen on (default 127.0.0.1;\n"
    "               0.0.0.0 or :: for every interface)\n"
    "  --port N     port (default 8080; 0: any free port)\n"
    "  --jwt-secret SECRET  the WebSocket needs an HS256 JWT signed with\n"
    "               SECRET (its sub is the nick); POST /login?nick=N\n"
    "               hands one out as a cookie\n"
    "Guards (defaults: README \"Guards\"):\n" CLI_GUARDS_USAGE;

int main(int argc, char **argv)
{
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_listen_opts o;
    wsx_loop_opts lo;
    cli_addr addr = CLI_ADDR_INIT(8080);
    cli c;
    wsx_config_init(&cfg, WSX_SERVER);
    wsx_loop_opts_init(&lo);
    cli_guards_chat(&cfg, &lo);
    cli_init(&c, argc, argv, "chat", usage);
    const char *secret = NULL;
    for (const char *a; (a = cli_next(&c));) {
        if (!strcmp(a, "--jwt-secret"))
            secret = cli_value(&c);
        else if (!cli_addr_option(&c, &addr) &&
                 !cli_guards_option(&c, &cfg, &lo))
            cli_unknown(&c);
    }
    const char *why;
    if (secret && !(auth = chat_auth_new(secret, &why))) {
        fprintf(stderr, "chat: --jwt-secret: %s\n", why);
        return CLI_EXIT_FAIL;
    }
    /* A chat line is small: refuse big messages (1009) and let a member
     * that does not read miss events rather than queue them forever. */
    cfg.max_message_size = cfg.max_frame_size = 16 * 1024;
    cfg.high_water = 1024 * 1024;
    wsx_callbacks_init(&cb);
    cb.on_open = on_open;
    cb.on_message = on_message;
    cb.on_close = on_close;
    cb.on_http = on_http;
    if (auth)
        cb.on_handshake = on_handshake;
    wsx_listen_opts_init(&o);
    o.config = &cfg;
    o.callbacks = &cb;
    rooms = chat_new();
    wsx_loop *l = cli_loop_new_opts("chat", &lo);
    if (!rooms)
        return CLI_EXIT_FAIL;
    cli_listen("chat", l, &o, &addr, "http", "Ctrl-C stops");
    int r = wsx_loop_run(l);
    wsx_loop_free(l);
    chat_free(rooms);
    chat_auth_free(auth);
    return r < 0;
}
