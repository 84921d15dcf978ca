/* chat - chat rooms with nicknames over JSON messages, plus the browser page that uses them, served by the same process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsx.h"
#include "wsx_loop.h"

/* Client -> server: {"type":"join","nick":"ann","room":"lobby"},
 * {"type":"say","text":"hi"}, {"type":"leave"}. The server relays join,
 * say and leave events, with the nick, to everyone in the room. */
static const char page[] =
    "<!doctype html><meta charset=utf-8><title>wsx chat</title>\n"
    "<style>body{font:15px system-ui,sans-serif;max-width:40em;margin:2em auto}"
    "#log{border:1px solid #ccc;height:20em;overflow-y:auto;padding:.5em;"
    "white-space:pre-wrap}</style>\n"
    "<h1>wsx chat</h1>\n"
    "<form id=joinf>nick <input id=nick value=guest size=10> room "
    "<input id=room value=lobby size=10> <button id=join>join</button></form>\n"
    "<div id=log></div>\n"
    "<form id=sayf><input id=text size=50 autocomplete=off> "
    "<button id=send>send</button></form>\n"
    "<script>\n"
    "const $ = id => document.getElementById(id);\n"
    "const ws = new WebSocket(`ws://${location.host}/chat`);\n"
    "const show = s => { $('log').textContent += s + '\\n';"
    " $('log').scrollTop = 1e9; };\n"
    "ws.onopen = () => show('connected');\n"
    "ws.onclose = e => show(`disconnected (${e.code})`);\n"
    "ws.onmessage = e => {\n"
    "  const m = JSON.parse(e.data);\n"
    "  if (m.type === 'say') show(`${m.nick}: ${m.text}`);\n"
    "  else if (m.type === 'join') show(`* ${m.nick} joined ${m.room}`);\n"
    "  else if (m.type === 'leave') show(`* ${m.nick} left`);\n"
    "};\n"
    "const send = m => ws.send(JSON.stringify(m));\n"
    "$('joinf').onsubmit = e => { e.preventDefault();\n"
    "  send({type: 'join', nick: $('nick').value, room: $('room').value}); };\n"
    "$('sayf').onsubmit = e => { e.preventDefault();\n"
    "  if ($('text').value) send({type: 'say', text: $('text').value});\n"
    "  $('text').value = ''; };\n"
    "</script>\n";

typedef struct member {
    wsx_conn *conn;
    char nick[64], room[64]; /* JSON string bodies, escapes kept */
    struct member *next;
} member;

static member *members;

/* The raw body of the JSON string value of "key" (escapes kept, so it can
 * be pasted into another JSON string), or false. Enough JSON for flat
 * objects from the page; anything odd is simply not found. */
static bool json_str(const wsx_message *m, const char *key, char *out, size_t cap)
{
    char pat[32];
    int n = snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = (const char *)m->data, *end = p + m->len;
    while (p + n <= end && memcmp(p, pat, (size_t)n) != 0)
        p++;
    if (p + n > end)
        return false;
    for (p += n; p < end && (*p == ' ' || *p == ':'); p++)
        continue;
    if (p >= end || *p++ != '"')
        return false;
    size_t len = 0;
    for (; p < end && *p != '"'; p++) {
        if ((unsigned char)*p < 0x20 || len + 2 >= cap)
            return false;
        if (*p == '\\' && p + 1 < end)
            out[len++] = *p++;
        out[len++] = *p;
    }
    out[len] = '\0';
    return p < end && len > 0;
}

/* Frame the event once and queue the same bytes on every member. */
static void broadcast(const char *room, const char *json, int len)
{
    wsx_shared *s = wsx_shared_new(NULL, WSX_TEXT, json, (size_t)len);
    if (!s)
        return;
    for (member *m = members; m; m = m->next)
        if (!strcmp(m->room, room))
            wsx_send_shared(m->conn, s);
    wsx_shared_free(s);
}

static void leave(member *m)
{
    char ev[160];
    if (!m->room[0])
        return;
    int n = snprintf(ev, sizeof ev, "{\"type\":\"leave\",\"nick\":\"%s\"}", m->nick);
    broadcast(m->room, ev, n);
    m->room[0] = '\0';
}

static void on_message(wsx_conn *c, const wsx_message *msg, void *user)
{
    member *m = user;
    char type[16], text[2048], ev[2300];
    (void)c;
    if (msg->opcode != WSX_TEXT || !json_str(msg, "type", type, sizeof type))
        return;
    if (!strcmp(type, "join")) {
        leave(m);
        if (!json_str(msg, "nick", m->nick, sizeof m->nick) ||
            !json_str(msg, "room", m->room, sizeof m->room))
            return;
        int n = snprintf(ev, sizeof ev, "{\"type\":\"join\",\"nick\":\"%s\","
                         "\"room\":\"%s\"}", m->nick, m->room);
        broadcast(m->room, ev, n);
    } else if (!strcmp(type, "say") && m->room[0] &&
               json_str(msg, "text", text, sizeof text)) {
        int n = snprintf(ev, sizeof ev, "{\"type\":\"say\",\"nick\":\"%s\","
                         "\"text\":\"%s\"}", m->nick, text);
        broadcast(m->room, ev, n);
    } else if (!strcmp(type, "leave")) {
        leave(m);
    }
}

static void on_open(wsx_conn *c, void *user)
{
    member *m = calloc(1, sizeof *m);
    (void)user;
    if (!m) {
        wsx_close(c, WSX_CLOSE_INTERNAL, "out of memory");
        return;
    }
    m->conn = c;
    m->next = members;
    members = m;
    wsx_conn_set_user(c, m);
}

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    member *m = user, **pp = &members;
    (void)c;
    (void)ci;
    if (!m) /* never opened */
        return;
    while (*pp != m)
        pp = &(*pp)->next;
    *pp = m->next; /* out of the list before the leave is broadcast */
    leave(m);
    free(m);
}

/* The page at /, 404 for anything else that is not a WebSocket upgrade. */
static void on_http(wsx_conn *c, const wsx_http_request *req, void *user)
{
    (void)user;
    if (req->target_len == 1 && req->target[0] == '/')
        wsx_http_respond(c, 200, "text/html; charset=utf-8", NULL, page,
                         sizeof page - 1);
    else
        wsx_http_respond(c, 404, "text/plain", NULL, "not found\n", 10);
}

int main(int argc, char **argv)
{
    wsx_loop_opts lo;
    wsx_callbacks cb;
    wsx_listen_opts o;
    wsx_loop_opts_init(&lo);
    wsx_callbacks_init(&cb);
    wsx_listen_opts_init(&o);
    lo.handle_signals = true;
    o.host = "127.0.0.1";
    o.port = 8080;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port"))
            o.port = (uint16_t)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--host"))
            o.host = argv[i + 1];
    }
    cb.on_open = on_open;
    cb.on_message = on_message;
    cb.on_close = on_close;
    cb.on_http = on_http;
    o.callbacks = &cb;
    wsx_loop *l = wsx_loop_new(&lo);
    int port = l ? wsx_loop_listen(l, &o) : WSX_ENOMEM;
    if (port < 0) {
        perror("chat: listen");
        return 1;
    }
    printf("chat: open http://%s:%d/ in a browser (Ctrl-C stops)\n", o.host, port);
    fflush(stdout);
    wsx_loop_run(l);
    wsx_loop_free(l);
    return 0;
}
