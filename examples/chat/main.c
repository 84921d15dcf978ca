/* chat - chat rooms with nicknames over JSON messages, and the browser page
 * that uses them, served by one process: the page at /, the WebSocket at
 * any other path. Room state lives in room.c; this file reads the protocol.
 *
 * Client -> server, one JSON object per text message, keys in any order:
 *   {"type":"join","room":"lobby","nick":"ann"}
 *   {"type":"say","text":"hi"}
 *   {"type":"leave"}
 * Server -> client: join, say and leave events of the room (with room and
 * nick), and {"type":"error","message":"..."} for input it cannot use. */
#include <cJSON.h>
#include <string.h>

#include "../common/cli.h"
#include "page.h"
#include "room.h"
#include "wsx.h"
#include "wsx_loop.h"

static chat *rooms;

/* The string member `key` of o, or NULL when absent or not a string. */
static const char *field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One request; returns NULL or the error to send back. */
static const char *handle(chat_member *m, const cJSON *o)
{
    const char *type = field(o, "type");
    if (!type)
        return "a \"type\" string is required";
    if (!strcmp(type, "join")) {
        const char *room = field(o, "room"), *nick = field(o, "nick");
        if (!room || !nick)
            return "join needs \"room\" and \"nick\" strings";
        int r = chat_join(m, room, nick);
        return r == WSX_EINVAL ? "room and nick must be 1 to 64 bytes"
               : r < 0         ? wsx_strerror(r)
                               : NULL;
    }
    if (!strcmp(type, "say")) {
        const char *text = field(o, "text");
        if (!text)
            return "say needs a \"text\" string";
        int r = chat_say(m, text);
        return r == WSX_ESTATE  ? "join a room first"
               : r == WSX_EINVAL ? "text is longer than 4096 bytes"
               : r < 0           ? wsx_strerror(r)
                                 : NULL;
    }
    if (!strcmp(type, "leave")) {
        chat_leave(m);
        return NULL;
    }
    return "unknown type (join, say or leave)";
}

static void on_message(wsx_conn *c, const wsx_message *msg, void *user)
{
    chat_member *m = user;
    const char *err = "binary messages are not understood: send JSON text";
    (void)c;
    if (msg->opcode == WSX_TEXT) {
        cJSON *o = cJSON_ParseWithLength((const char *)msg->data, msg->len);
        err = !o                 ? "not valid JSON"
              : cJSON_IsObject(o) ? handle(m, o)
                                  : "a message must be a JSON object";
        cJSON_Delete(o);
    }
    if (err)
        chat_error(m, err);
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

/* The page at /, 404 for anything else that is not a WebSocket upgrade. */
static void on_http(wsx_conn *c, const wsx_http_request *req, void *user)
{
    (void)user;
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
    "  --port N     port (default 8080; 0: any free port)\n";

int main(int argc, char **argv)
{
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_listen_opts o;
    cli_addr addr = CLI_ADDR_INIT(8080);
    cli c;
    cli_init(&c, argc, argv, "chat", usage);
    while (cli_next(&c))
        if (!cli_addr_option(&c, &addr))
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
    if (!rooms)
        return CLI_EXIT_FAIL;
    cli_listen("chat", l, &o, &addr, "http", "Ctrl-C stops");
    int r = wsx_loop_run(l);
    wsx_loop_free(l);
    chat_free(rooms);
    return r < 0;
}
