/* fallback.c - Server-Sent Events, long polling and POST /send for the
 * chat (fallback.h): sessions named by (room, nick) that are members of
 * the rooms like WebSocket connections, fed by the rooms' observer, with
 * the rooms' recent events (history.h) for resuming after a reconnect. */
#include "fallback.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "protocol.h"
#include "wsx_http.h"

typedef struct session {
    chat_fallback *fb;
    chat_member *m;
    char room[CHAT_NAME_MAX + 1], nick[CHAT_NAME_MAX + 1];
    wsx_conn *sse;    /* the open event stream, or NULL */
    wsx_conn *poll;   /* the held poll, or NULL */
    stream_id since;  /* the held poll's */
    wsx_timer *timer; /* the held poll's timeout, or the expiry */
    struct session *prev, *next;
} session;

struct chat_fallback {
    wsx_loop *loop;
    chat *ch;
    uint32_t poll_ms, beat_ms;
    chat_history *hist;
    stream_id last;  /* the newest event's id seen here */
    session *sessions;
};

/* ---- requests ------------------------------------------------------ */

/* The decoded value of `key` in the request's query, NUL-terminated
 * ("" when absent); false when too long or malformed. *present: whether
 * the query names it at all (NULL: no matter). */
static bool query(const wsx_http_request *req, const char *key, char *out,
                  size_t cap, bool *present)
{
    int n = wsx_http_query_param(req->target, req->target_len, key, out, cap);
    if (n == WSX_ENOENT)
        out[0] = '\0';
    if (present)
        *present = n >= 0;
    return n >= 0 || n == WSX_ENOENT;
}

static bool path_is(const wsx_http_request *req, const char *path)
{
    size_t n = strlen(path);
    return req->target_len >= n && !memcmp(req->target, path, n) &&
           (req->target_len == n || req->target[n] == '?');
}

static bool method_is(const wsx_http_request *req, const char *m)
{
    return req->method_len == strlen(m) && !memcmp(req->method, m, req->method_len);
}

static void reply_json(wsx_conn *c, int status, const char *json)
{
    wsx_http_respond(c, status, "application/json", NULL, json, strlen(json));
}

/* The error event a WebSocket member would get, as the answer. */
static void reply_error(wsx_conn *c, int status, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    char *json = NULL;
    if (o && cJSON_AddStringToObject(o, "type", "error") &&
        cJSON_AddStringToObject(o, "message", msg))
        json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    reply_json(c, status, json ? json : "{\"type\":\"error\"}");
    cJSON_free(json);
}

/* ---- sessions ------------------------------------------------------ */

static session *session_find(chat_fallback *fb, const char *room,
                             const char *nick)
{
    for (session *s = fb->sessions; s; s = s->next)
        if (!strcmp(s->room, room) && !strcmp(s->nick, nick))
            return s;
    return NULL;
}

static void session_free(session *s)
{
    if (s->sse)
        wsx_conn_set_user(s->sse, NULL);
    if (s->poll)
        wsx_conn_set_user(s->poll, NULL);
    if (s->prev)
        s->prev->next = s->next;
    else
        s->fb->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    wsx_timer_free(s->timer);
    chat_member_free(s->m); /* the room gets a leave event */
    free(s);
}

static void on_session_timer(wsx_timer *t, void *user);

/* Without a transport a session waits for its client to come back for
 * twice the poll timeout, then leaves its room. */
static void session_idle(session *s)
{
    if (!s->sse && !s->poll)
        wsx_timer_start(s->timer, 2 * (uint64_t)s->fb->poll_ms, 0);
}

/* Whose request: the query's nick, or the one a token proved. */
typedef struct who {
    const char *nick;
    bool is_signed;
} who;

/* The session (room, nick), joined at its first request. */
static session *session_get(chat_fallback *fb, const char *room,
                            const who *w, const char **err)
{
    const char *nick = w->nick;
    session *s = session_find(fb, room, nick);
    if (s)
        return s;
    *err = "out of memory";
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fb = fb;
    s->m = chat_member_new(fb->ch, NULL);
    s->timer = wsx_timer_new(fb->loop, on_session_timer, s);
    snprintf(s->room, sizeof s->room, "%s", room);
    snprintf(s->nick, sizeof s->nick, "%s", nick);
    s->next = fb->sessions;
    if (s->next)
        s->next->prev = s;
    fb->sessions = s;
    if (s->m && w->is_signed) /* a "join" sent later keeps this nick */
        chat_member_sign_in(s->m, nick);
    int r = s->m && s->timer ? chat_join(s->m, room, nick) : WSX_ENOMEM;
    if (r < 0) {
        *err = r == WSX_EINVAL ? "room and nick must be 1 to 64 bytes"
                               : "out of memory";
        session_free(s);
        return NULL;
    }
    return s;
}

/* Answer the held poll with the events after its since, if any (or
 * always, when the timeout came: [] then). */
static void poll_answer(session *s, bool timeout)
{
    const chat_event *ev[CHAT_HISTORY];
    size_t n = chat_history_since(s->fb->hist, s->room, s->since, ev);
    if (!n && !timeout)
        return;
    size_t len = 2;
    for (size_t k = 0; k < n; k++)
        len += ev[k]->len + 1;
    char *buf = malloc(len);
    wsx_conn *c = s->poll;
    s->poll = NULL;
    wsx_conn_set_user(c, NULL);
    wsx_timer_stop(s->timer);
    if (!buf) {
        wsx_http_respond(c, 503, NULL, NULL, NULL, 0);
    } else {
        size_t off = 0;
        buf[off++] = '[';
        for (size_t k = 0; k < n; k++) {
            if (k)
                buf[off++] = ',';
            memcpy(buf + off, ev[k]->json, ev[k]->len);
            off += ev[k]->len;
        }
        buf[off++] = ']';
        wsx_http_respond(c, 200, "application/json", "Cache-Control: no-store\r\n",
                         buf, off);
        free(buf);
    }
    session_idle(s);
}

static void on_session_timer(wsx_timer *t, void *user)
{
    session *s = user;
    (void)t;
    if (s->poll)
        poll_answer(s, true);
    else if (!s->sse)
        session_free(s);
}

/* ---- the three endpoints -------------------------------------------- */

static void serve_events(chat_fallback *fb, wsx_conn *c,
                         const wsx_http_request *req, const char *room,
                         const who *w)
{
    stream_id since = fb->last;
    size_t n;
    const char *last = wsx_sse_last_event_id(req, &n);
    if (last && stream_id_parse(last, n, &since) < 0) {
        reply_error(c, 400, "Last-Event-ID is not an event id");
        return;
    }
    const char *err;
    session *s = session_get(fb, room, w, &err);
    if (!s) {
        reply_error(c, 400, err);
        return;
    }
    if (wsx_sse_begin(c, fb->beat_ms, NULL) < 0)
        return;
    if (s->sse) { /* the newest stream wins */
        wsx_conn_set_user(s->sse, NULL);
        wsx_http_stream_end(s->sse);
    }
    s->sse = c;
    wsx_conn_set_user(c, s);
    wsx_timer_stop(s->timer);
    const chat_event *ev[CHAT_HISTORY];
    size_t missed = chat_history_since(fb->hist, room, since, ev);
    for (size_t i = 0; i < missed; i++)
        if (wsx_sse_send(c, ev[i]->id_text, NULL, ev[i]->json, ev[i]->len) < 0)
            break;
}

static void serve_poll(chat_fallback *fb, wsx_conn *c,
                       const wsx_http_request *req, const char *room,
                       const who *w)
{
    char v[STREAM_ID_MAX];
    stream_id since = fb->last;
    bool given;
    /* An id after the newest seen here is refused, unless the ids are a
     * shared stream's: then another instance may have seen it first. */
    if (query(req, "since", v, sizeof v, &given) && given &&
        (stream_id_parse(v, strlen(v), &since) < 0 ||
         (stream_id_cmp(since, fb->last) > 0 && !chat_ids_shared(fb->ch)))) {
        reply_error(c, 400, "since is not an event id of this server");
        return;
    }
    const char *err;
    session *s = session_get(fb, room, w, &err);
    if (!s) {
        reply_error(c, 400, err);
        return;
    }
    if (s->poll) { /* a client has one poll at a time: the old one ends */
        wsx_conn *old = s->poll;
        s->poll = NULL;
        wsx_conn_set_user(old, NULL);
        reply_json(old, 200, "[]");
    }
    wsx_http_hold(c);
    s->poll = c;
    s->since = since;
    wsx_conn_set_user(c, s);
    wsx_timer_start(s->timer, fb->poll_ms, 0);
    poll_answer(s, false);
}

static void serve_send(chat_fallback *fb, wsx_conn *c, const char *room,
                       const who *w)
{
    const char *err;
    session *s = session_get(fb, room, w, &err);
    if (!s) {
        reply_error(c, 400, err);
        return;
    }
    size_t n;
    const uint8_t *body = wsx_http_body(c, &n);
    err = chat_apply(s->m, body ? (const char *)body : "", n);
    if (err)
        reply_error(c, 400, err);
    else
        reply_json(c, 200, "{}");
    session_idle(s);
}

bool chat_fallback_http(chat_fallback *fb, wsx_conn *c,
                        const wsx_http_request *req, const char *signed_nick)
{
    enum { EVENTS, POLL, SEND } what;
    if (path_is(req, "/events"))
        what = EVENTS;
    else if (path_is(req, "/poll"))
        what = POLL;
    else if (path_is(req, "/send"))
        what = SEND;
    else
        return false;
    char room[CHAT_NAME_MAX + 1], nick[CHAT_NAME_MAX + 1];
    who w = {signed_nick ? signed_nick : nick, signed_nick != NULL};
    if (!method_is(req, what == SEND ? "POST" : "GET"))
        reply_error(c, 405, what == SEND ? "use POST" : "use GET");
    else if (!query(req, "room", room, sizeof room, NULL) ||
             !query(req, "nick", nick, sizeof nick, NULL) || !room[0] ||
             (!nick[0] && !signed_nick))
        reply_error(c, 400, "room and nick (1 to 64 bytes) are required");
    else if (signed_nick && nick[0] && strcmp(nick, signed_nick))
        reply_error(c, 403, "nick is the one your token was signed for");
    else if (what == EVENTS)
        serve_events(fb, c, req, room, &w);
    else if (what == POLL)
        serve_poll(fb, c, req, room, &w);
    else
        serve_send(fb, c, room, &w);
    return true;
}

void chat_fallback_closed(void *user, wsx_conn *c)
{
    session *s = user;
    if (!s)
        return;
    if (s->sse == c)
        s->sse = NULL;
    if (s->poll == c) {
        s->poll = NULL;
        wsx_timer_stop(s->timer);
    }
    session_idle(s);
}

/* ---- events from the rooms ----------------------------------------- */

/* The event's own "id" (a counter's, or a Redis stream entry's: then the
 * same on every instance, so a client may resume on another), or, where
 * a relay numbers none (chat --threads), this chat's count of them. */
static void event_id(chat *ch, const char *json, size_t len, stream_id *id,
                     char text[STREAM_ID_MAX])
{
    cJSON *o = cJSON_ParseWithLength(json, len);
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "id"));
    size_t n = v ? strlen(v) : 0;
    if (n && n < STREAM_ID_MAX && stream_id_parse(v, n, id) == 0) {
        memcpy(text, v, n + 1);
    } else {
        *id = (stream_id){chat_last_id(ch), 0};
        snprintf(text, STREAM_ID_MAX, "%llu", (unsigned long long)id->ms);
    }
    cJSON_Delete(o);
}

static void on_event(chat *ch, const char *room, const char *json,
                     size_t len, void *user)
{
    chat_fallback *fb = user;
    stream_id id;
    char text[STREAM_ID_MAX];
    event_id(ch, json, len, &id, text);
    const chat_event *e = chat_history_add(fb->hist, room, id, text, json, len);
    if (!e)
        return;
    if (stream_id_cmp(id, fb->last) > 0)
        fb->last = id;
    /* A stream dropped for falling behind (WSX_EFULL) or a poll answered
     * here may end its session: walk with the next pointer saved. */
    for (session *s = fb->sessions, *next; s; s = next) {
        next = s->next;
        if (strcmp(s->room, room))
            continue;
        if (s->sse)
            wsx_sse_send(s->sse, e->id_text, NULL, json, len);
        if (s->poll)
            poll_answer(s, false);
    }
}

chat_fallback *chat_fallback_new(wsx_loop *l, chat *ch,
                                 uint32_t poll_timeout_ms,
                                 uint32_t heartbeat_ms)
{
    chat_fallback *fb = calloc(1, sizeof *fb);
    if (!fb)
        return NULL;
    fb->loop = l;
    fb->ch = ch;
    fb->poll_ms = poll_timeout_ms;
    fb->beat_ms = heartbeat_ms;
    fb->hist = chat_history_new();
    if (!fb->hist) {
        free(fb);
        return NULL;
    }
    chat_set_observer(ch, on_event, fb);
    return fb;
}

void chat_fallback_free(chat_fallback *fb)
{
    if (!fb)
        return;
    while (fb->sessions)
        session_free(fb->sessions);
    chat_set_observer(fb->ch, NULL, NULL);
    chat_history_free(fb->hist);
    free(fb);
}
