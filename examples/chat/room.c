/* room.c - chat rooms: membership and the JSON events each room sends
 * (see room.h). An event is built once with cJSON, framed once
 * (wsx_shared_new) and the same bytes are queued on every member. */
#include "room.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct room {
    char name[CHAT_NAME_MAX + 1];
    chat_member *members; /* doubly linked through chat_member.prev/next */
    size_t count;
    struct room *next;
} room;

struct chat_member {
    chat *ch;
    wsx_conn *conn;
    room *room; /* NULL: in no room */
    char nick[CHAT_NAME_MAX + 1];
    char signed_nick[CHAT_NAME_MAX + 1]; /* chat_member_sign_in; "" */
    chat_member *prev, *next;
};

struct chat {
    room *rooms;
    size_t members;
    chat_event_fn observer;
    void *observer_user;
};

chat *chat_new(void)
{
    return calloc(1, sizeof(chat));
}

void chat_free(chat *ch)
{
    free(ch);
}

chat_member *chat_member_new(chat *ch, wsx_conn *c)
{
    chat_member *m = calloc(1, sizeof *m);
    if (m) {
        m->ch = ch;
        m->conn = c;
        ch->members++;
    }
    return m;
}

void chat_member_free(chat_member *m)
{
    if (!m)
        return;
    chat_leave(m);
    m->ch->members--;
    free(m);
}

const char *chat_member_nick(const chat_member *m)
{
    return m->room ? m->nick : NULL;
}

const char *chat_member_room(const chat_member *m)
{
    return m->room ? m->room->name : NULL;
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= CHAT_NAME_MAX;
}

/* The event as compact JSON text; NULL when out of memory. */
static char *event(const char *type, const room *r, const char *nick,
                   const char *field, const char *value)
{
    cJSON *o = cJSON_CreateObject();
    char *s = NULL;
    if (o && cJSON_AddStringToObject(o, "type", type) &&
        (!r || cJSON_AddStringToObject(o, "room", r->name)) &&
        (!nick || cJSON_AddStringToObject(o, "nick", nick)) &&
        (!field || cJSON_AddStringToObject(o, field, value)))
        s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Frame once, queue on every member. A member whose queue is above the
 * high-water mark misses the event (WSX_EFULL) instead of growing it. */
static int broadcast(chat *ch, room *r, char *json)
{
    if (!json)
        return WSX_ENOMEM;
    size_t len = strlen(json);
    wsx_shared *s = wsx_shared_new(NULL, WSX_TEXT, json, len);
    if (s) {
        for (chat_member *m = r->members; m; m = m->next)
            wsx_send_shared(m->conn, s);
        wsx_shared_free(s);
        if (ch->observer)
            ch->observer(ch, r->name, json, len, ch->observer_user);
    }
    cJSON_free(json);
    return s ? 0 : WSX_ENOMEM;
}

static room *room_get(chat *ch, const char *name)
{
    room *r;
    for (r = ch->rooms; r; r = r->next)
        if (!strcmp(r->name, name))
            return r;
    r = calloc(1, sizeof *r);
    if (r) {
        strcpy(r->name, name); /* name_ok checked the length */
        r->next = ch->rooms;
        ch->rooms = r;
    }
    return r;
}

static void room_drop_if_empty(chat *ch, room *r)
{
    if (r->count)
        return;
    room **pp = &ch->rooms;
    while (*pp != r)
        pp = &(*pp)->next;
    *pp = r->next;
    free(r);
}

void chat_leave(chat_member *m)
{
    room *r = m->room;
    if (!r)
        return;
    broadcast(m->ch, r, event("leave", r, m->nick, NULL, NULL));
    if (m->prev)
        m->prev->next = m->next;
    else
        r->members = m->next;
    if (m->next)
        m->next->prev = m->prev;
    m->prev = m->next = NULL;
    m->room = NULL;
    r->count--;
    room_drop_if_empty(m->ch, r);
}

void chat_member_sign_in(chat_member *m, const char *nick)
{
    snprintf(m->signed_nick, sizeof m->signed_nick, "%s", nick);
}

int chat_join(chat_member *m, const char *room_name, const char *nick)
{
    if (m->signed_nick[0])
        nick = m->signed_nick;
    if (!name_ok(room_name) || !name_ok(nick))
        return WSX_EINVAL;
    chat_leave(m);
    room *r = room_get(m->ch, room_name);
    if (!r)
        return WSX_ENOMEM;
    strcpy(m->nick, nick);
    m->room = r;
    m->next = r->members;
    if (r->members)
        r->members->prev = m;
    r->members = m;
    r->count++;
    return broadcast(m->ch, r, event("join", r, nick, NULL, NULL));
}

int chat_say(chat_member *m, const char *text)
{
    if (!m->room)
        return WSX_ESTATE;
    if (strlen(text) > CHAT_TEXT_MAX)
        return WSX_EINVAL;
    return broadcast(m->ch, m->room, event("say", m->room, m->nick, "text", text));
}

void chat_error(chat_member *m, const char *msg)
{
    char *json = event("error", NULL, NULL, "message", msg);
    if (json)
        wsx_send(m->conn, WSX_TEXT, json, strlen(json));
    cJSON_free(json);
}

void chat_set_observer(chat *ch, chat_event_fn fn, void *user)
{
    ch->observer = fn;
    ch->observer_user = user;
}

void chat_each_room(const chat *ch, chat_room_fn fn, void *user)
{
    for (const room *r = ch->rooms; r; r = r->next)
        fn(r->name, r->count, user);
}

size_t chat_member_count(const chat *ch)
{
    return ch->members;
}
