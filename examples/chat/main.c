/* chat - chat rooms with nicknames over JSON messages, and the browser page
 * that uses them, served by one process: the page at /, the WebSocket at
 * any other path, and SSE, long polling and POST /send for clients
 * without WebSocket (fallback.h).
 *
 * Client -> server, one JSON object per text message, keys in any order:
 *   {"type":"join","room":"lobby","nick":"ann"[,"since":"<id>"]}
 *   {"type":"say","text":"hi"}
 *   {"type":"leave"}
 * Server -> client: join, say and leave events of the room (with room,
 * nick and id), and {"type":"error","message":"..."} for input it cannot
 * use. Room state lives in room.c, the protocol reader in protocol.c, the
 * sharing of rooms in chat_redis.c (instances) and chat_threads.c
 * (threads), sign-in in auth.c. */
#include <stdio.h>
#include <string.h>

#include "../common/cli.h"
#include "../common/tls.h"
#include "../common/metrics.h"
#include "../common/guards.h"
#include "../common/workers.h"
#include "auth.h"
#include "chat_redis.h"
#include "chat_threads.h"
#include "fallback.h"
#include "page.h"
#include "protocol.h"
#include "stats.h"
#include "wsx.h"
#include "wsx_loop.h"

static chat_auth *auth; /* --jwt-secret */
/* The nick the token of the handshake in progress proved: on_open
 * follows on_handshake within the same call into wsx, so no other
 * connection's handshake (on this thread) can come between. */
static _Thread_local char signed_nick[CHAT_NAME_MAX + 1];

static int on_handshake(wsx_conn *c, const wsx_handshake *hs,
                        wsx_handshake_reply *reply, void *user)
{
    (void)c;
    (void)user;
    return chat_auth_check(auth, hs->request, signed_nick, reply);
}

/* What one loop serves; each thread sees its own (set by loop_start). */
typedef struct loop_state {
    chat *rooms;
    chat_fallback *fallback;
    chat_redis *redis;
} loop_state;

static loop_state loops[CLI_THREADS_MAX];
static _Thread_local loop_state *here;

static void loop_start(int index, void *arg)
{
    (void)arg;
    here = &loops[index];
}

static void on_message(wsx_conn *c, const wsx_message *msg, void *user)
{
    (void)c;
    chat_read(user, msg);
}

static void on_open(wsx_conn *c, void *user)
{
    chat_member *m = chat_member_new(here->rooms, c);
    (void)user;
    if (!m)
        wsx_close(c, WSX_CLOSE_INTERNAL, "out of memory");
    else if (auth)
        chat_member_sign_in(m, signed_nick);
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
 * included), "ok" at /healthz for a proxy's health checks, 404 for
 * anything else that is not a WebSocket upgrade. */
static void on_http(wsx_conn *c, const wsx_http_request *req, void *user)
{
    char nick[CHAT_NAME_MAX + 1];
    (void)user;
    if (auth && chat_auth_http(auth, c, req, nick))
        return;
    if (chat_fallback_http(here->fallback, c, req, auth ? nick : NULL) ||
        chat_stats_http(c, req))
        return;
    if (req->target[0] == '/' && (req->target_len == 1 || req->target[1] == '?'))
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
    "            [--poll-timeout MS] [--heartbeat MS]\n"
    "            [--tls-cert FILE --tls-key FILE]\n"
    "            [--metrics] [--metrics-port N]\n"
    "Chat rooms: serves the page at / and the WebSocket beside it.\n"
    "  --host ADDR        address to listen on (default 127.0.0.1;\n"
    "                     0.0.0.0 or :: for every interface)\n"
    "  --port N           port (default 8080; 0: any free port)\n"
    "  --threads N        N event loops on N threads sharing the port\n"
    "                     (SO_REUSEPORT) and the rooms (default 1)\n"
    "  --redis HOST:PORT  share the rooms with every instance using this\n"
    "                     Redis (default: none, rooms are this process's)\n"
    "  --history N        events the Redis stream keeps for clients that\n"
    "                     come back with \"since\" (default 10000)\n"
    "  --poll-timeout MS  how long GET /poll waits for events (default 25000)\n"
    "  --heartbeat MS     SSE comment heartbeat interval (default 15000)\n"
    "  --metrics, --metrics-port N  Prometheus metrics at /metrics (on port\n"
    "                     N), live statistics drawn from them at /stats\n"
    "  --jwt-secret SECRET  the WebSocket needs an HS256 JWT signed with\n"
    "                     SECRET (its sub is the nick); POST /login?nick=N\n"
    "                     hands one out as a cookie\n"
    CLI_TLS_SERVER_USAGE CLI_TLS_RELOAD_USAGE
    "Guards (defaults: README \"Guards\"):\n" CLI_GUARDS_USAGE;

int main(int argc, char **argv)
{
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_listen_opts o;
    wsx_loop_opts lo;
    cli_addr addr = CLI_ADDR_INIT(8080);
    cli_tls tls = {0};
    uint32_t poll_ms = 25000, beat_ms = 15000;
    const char *redis = NULL;
    long long history = 10000;
    int threads = 1;
    cli_metrics metrics = CLI_METRICS_INIT;
    cli c;
    wsx_config_init(&cfg, WSX_SERVER);
    wsx_loop_opts_init(&lo);
    cli_guards_chat(&cfg, &lo);
    cli_init(&c, argc, argv, "chat", usage);
    const char *secret = NULL;
    for (const char *a; (a = cli_next(&c));) {
        if (cli_addr_option(&c, &addr) || cli_metrics_option(&c, &metrics) ||
            cli_guards_option(&c, &cfg, &lo))
            continue;
        else if (!strcmp(a, "--poll-timeout"))
            poll_ms = (uint32_t)cli_int(&c, 1, 3600000);
        else if (!strcmp(a, "--heartbeat"))
            beat_ms = (uint32_t)cli_int(&c, 0, 3600000);
        else if (!strcmp(a, "--redis"))
            redis = cli_value(&c);
        else if (!strcmp(a, "--history"))
            history = cli_int(&c, 1, 1LL << 40);
        else if (!strcmp(a, "--threads"))
            threads = (int)cli_int(&c, 1, CLI_THREADS_MAX);
        else if (!strcmp(a, "--jwt-secret"))
            secret = cli_value(&c);
        else if (!cli_tls_option(&c, &tls, WSX_SERVER))
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
    cli_workers w;
    chat *rooms[CLI_THREADS_MAX];
    cli_metrics_loop_opts("chat", &metrics, &lo);
    cli_metrics_listen_opts(&metrics, &o);
    cli_workers_init(&w, "chat", threads, &lo);
    for (int i = 0; i < threads; i++) {
        /* Each thread keeps its members; Redis or chat_threads shares
         * the rooms between them. */
        loop_state *s = &loops[i];
        if (!(rooms[i] = s->rooms = chat_new()) ||
            !(s->fallback = chat_fallback_new(w.loops[i], s->rooms, poll_ms, beat_ms)))
            return CLI_EXIT_FAIL;
        if (redis && !(s->redis = chat_redis_new(s->rooms, w.loops[i], redis, history)))
            cli_fail(&c, "--redis needs HOST:PORT, HOST an IP address");
    }
    chat_threads *shared = NULL;
    if (!redis && threads > 1 && !(shared = chat_threads_new(rooms, w.loops, threads)))
        return CLI_EXIT_FAIL;
    if (cli_tls_listen(&c, &tls, &o)) {
        cli_tls_workers("chat", &tls, &w); /* a context per loop */
        cli_tls_reload_on_hup("chat", w.loops[0], &tls);
    }
    int port = cli_workers_listen(&w, "chat", &o, &addr, NULL,
                                  tls.ctx ? "https" : "http",
                                  redis ? "shared through Redis" : "Ctrl-C stops");
    cli_metrics_start("chat", &metrics, w.loops[0], &addr, port);
    int r = cli_workers_run(&w, loop_start, NULL);
    /* Before the loops: their watchers, timers and posts are the loops'. */
    for (int i = 0; i < threads; i++) {
        chat_redis_free(loops[i].redis);
        chat_fallback_free(loops[i].fallback);
    }
    chat_threads_free(shared);
    cli_workers_free(&w);
    cli_tls_free(&tls);
    for (int i = 0; i < threads; i++)
        chat_free(rooms[i]);
    cli_metrics_free(&metrics);
    chat_auth_free(auth);
    return r < 0;
}
