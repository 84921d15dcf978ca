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
#include <string.h>

#include "../common/cli.h"
#include "chat_redis.h"
#include "page.h"
#include "protocol.h"
#include "wsx.h"
#include "wsx_loop.h"

static chat *rooms;

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
    (void)c;
    (void)ci;
    chat_member_free(user); /* NULL for a connection that never opened */
}

/* The page at /, "ok" at /healthz for a proxy's health checks, 404 for
 * anything else that is not a WebSocket upgrade. */
static void on_http(wsx_conn *c, const wsx_http_request *req, void *user)
{
    (void)user;
    if (req->target_len == 1 && req->target[0] == '/')
        wsx_http_respond(c, 200, "text/html; charset=utf-8", NULL, chat_page,
                         chat_page_len);
    else if (req->target_len == 8 && !memcmp(req->target, "/healthz", 8))
        wsx_http_respond(c, 200, "text/plain", NULL, "ok\n", 3);
    else
        wsx_http_respond(c, 404, "text/plain", NULL, "not found\n", 10);
}

static const char usage[] =
    "usage: chat [--host ADDR] [--port N] [--redis HOST:PORT [--history N]]\n"
    "Chat rooms: serves the page at / and the WebSocket beside it.\n"
    "  --host ADDR        address to listen on (default 127.0.0.1;\n"
    "                     0.0.0.0 or :: for every interface)\n"
    "  --port N           port (default 8080; 0: any free port)\n"
    "  --redis HOST:PORT  share the rooms with every instance using this\n"
    "                     Redis (default: none, rooms are this process's)\n"
    "  --history N        events the Redis stream keeps for clients that\n"
    "                     come back with \"since\" (default 10000)\n";

int main(int argc, char **argv)
{
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_listen_opts o;
    cli_addr addr = CLI_ADDR_INIT(8080);
    const char *redis = NULL;
    long long history = 10000;
    cli c;
    cli_init(&c, argc, argv, "chat", usage);
    for (const char *a; (a = cli_next(&c));) {
        if (cli_addr_option(&c, &addr))
            continue;
        else if (!strcmp(a, "--redis"))
            redis = cli_value(&c);
        else if (!strcmp(a, "--history"))
            history = cli_int(&c, 1, 1LL << 40);
        else
            cli_unknown(&c);
    }
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
    if (!rooms)
        return CLI_EXIT_FAIL;
    chat_redis *relay = redis ? chat_redis_new(rooms, l, redis, history) : NULL;
    if (redis && !relay)
        cli_fail(&c, "--redis needs HOST:PORT, HOST an IP address");
    cli_listen("chat", l, &o, &addr, "http", redis ? "shared through Redis" : "Ctrl-C stops");
    int r = wsx_loop_run(l);
    chat_redis_free(relay); /* before the loop: its watchers are the loop's */
    wsx_loop_free(l);
    chat_free(rooms);
    return r < 0;
}
