/* chat - chat rooms with nicknames over JSON messages, and the browser page
 * that uses them, served by one process: the page at /, the WebSocket at
 * any other path.
 *
 * Client -> server, one JSON object per text message, keys in any order:
 *   {"type":"join","room":"lobby","nick":"ann"[,"since":"<id>"]}
 *   {"type":"say","text":"hi"}
 *   {"type":"leave"}
 * Server -> client: join, say and leave events of the room (with room and
 * nick, and with --redis an "id"), and {"type":"error","message":"..."}
 * for input it cannot use. Room state lives in room.c, the protocol
 * reader in protocol.c, the sharing of rooms in chat_redis.c (instances)
 * and chat_threads.c (threads). */
#include <string.h>

#include "../common/cli.h"
#include "../common/workers.h"
#include "chat_redis.h"
#include "chat_threads.h"
#include "page.h"
#include "protocol.h"
#include "wsx.h"
#include "wsx_loop.h"

static void on_message(wsx_conn *c, const wsx_message *msg, void *user)
{
    (void)c;
    chat_read(user, msg);
}

/* user: the chat of the loop that accepted c, until it becomes m. */
static void on_open(wsx_conn *c, void *user)
{
    chat_member *m = chat_member_new(user, c);
    if (!m)
        wsx_close(c, WSX_CLOSE_INTERNAL, "out of memory");
    wsx_conn_set_user(c, m);
}

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    (void)c;
    /* Before a 101, user is still the loop's chat: no member to free. */
    if (ci->http_status == 101)
        chat_member_free(user);
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
    "usage: chat [--host ADDR] [--port N] [--threads N]\n"
    "            [--redis HOST:PORT [--history N]]\n"
    "Chat rooms: serves the page at / and the WebSocket beside it.\n"
    "  --host ADDR        address to listen on (default 127.0.0.1;\n"
    "                     0.0.0.0 or :: for every interface)\n"
    "  --port N           port (default 8080; 0: any free port)\n"
    "  --threads N        N event loops on N threads sharing the port\n"
    "                     (SO_REUSEPORT) and the rooms (default 1)\n"
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
    int threads = 1;
    cli c;
    cli_init(&c, argc, argv, "chat", usage);
    for (const char *a; (a = cli_next(&c));) {
        if (cli_addr_option(&c, &addr))
            continue;
        else if (!strcmp(a, "--redis"))
            redis = cli_value(&c);
        else if (!strcmp(a, "--history"))
            history = cli_int(&c, 1, 1LL << 40);
        else if (!strcmp(a, "--threads"))
            threads = (int)cli_int(&c, 1, CLI_THREADS_MAX);
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
    cli_workers w;
    chat *rooms[CLI_THREADS_MAX] = {0};
    chat_redis *relays[CLI_THREADS_MAX] = {0};
    cli_workers_init(&w, "chat", threads, WSX_LOOP_DEFAULT);
    for (int i = 0; i < threads; i++) {
        /* Each thread keeps its members; Redis or chat_threads shares
         * the rooms between them. */
        if (!(rooms[i] = chat_new()))
            return CLI_EXIT_FAIL;
        if (redis && !(relays[i] = chat_redis_new(rooms[i], w.loops[i], redis, history)))
            cli_fail(&c, "--redis needs HOST:PORT, HOST an IP address");
    }
    chat_threads *shared = NULL;
    if (!redis && threads > 1 && !(shared = chat_threads_new(rooms, w.loops, threads)))
        return CLI_EXIT_FAIL;
    cli_workers_listen(&w, "chat", &o, &addr, (void *const *)rooms, "http",
                       redis ? "shared through Redis" : "Ctrl-C stops");
    int r = cli_workers_run(&w);
    /* Relays first: their watchers and posts need the loops. */
    for (int i = 0; i < threads; i++)
        chat_redis_free(relays[i]);
    chat_threads_free(shared);
    cli_workers_free(&w);
    for (int i = 0; i < threads; i++)
        chat_free(rooms[i]);
    return r < 0;
}
