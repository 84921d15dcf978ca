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
    const chat_relay *relay;
    void *relay_user;
    uint64_t last_id; /* of the last room event: ids increase by one */
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
    if (m->ch->relay && m->ch->relay->forget)
        m->ch->relay->forget(m, m->ch->relay_user);
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

/* A room event's id: a decimal string, opaque to the transports that
 * carry it (SSE's id:, a poll's since=). */
static const char *next_id(chat *ch, char buf[24])
{
    if (ch->relay)
        return NULL; /* the relay numbers events (deliver counts them) */
    snprintf(buf, 24, "%llu", (unsigned long long)++ch->last_id);
    return buf;
}

/* The event as compact JSON text (with "id" when id is not NULL); NULL
 * when out of memory. */
static char *event(const char *type, const char *id, const room *r,
                   const char *nick, const char *field, const char *value)
{
    cJSON *o = cJSON_CreateObject();
    char *s = NULL;
    if (o && cJSON_AddStringToObject(o, "type", type) &&
        (!id || cJSON_AddStringToObject(o, "id", id)) &&
        (!r || cJSON_AddStringToObject(o, "room", r->name)) &&
        (!nick || cJSON_AddStringToObject(o, "nick", nick)) &&
        (!field || cJSON_AddStringToObject(o, field, value)))
        s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Frame once, queue on every member. A member whose queue is above the
 * high-water mark misses the event (WSX_EFULL) instead of growing it.
 * Queuing on a member whose peer is gone fails it at once, and its
 * on_close may free members of this room (chat_member_free from the
 * application), the last one with the room: so the connections and the
 * room's name are taken first and neither the list nor the room is
 * touched while sending. */
static int deliver(chat *ch, const room *r, const char *json, size_t len)
{
    char name[CHAT_NAME_MAX + 1];
    size_t n = 0;
    wsx_shared *s = wsx_shared_new(NULL, WSX_TEXT, json, len);
    wsx_conn **to = malloc((r->count ? r->count : 1) * sizeof *to);
    if (s && to) {
        if (ch->relay) /* chat_last_id: the observer's event, here too */
            ch->last_id++;
        strcpy(name, r->name);
        for (chat_member *m = r->members; m; m = m->next)
            if (m->conn)
                to[n++] = m->conn;
        for (size_t i = 0; i < n; i++)
            wsx_send_shared(to[i], s);
        if (ch->observer)
            ch->observer(ch, name, json, len, ch->observer_user);
    }
    int err = s && to ? 0 : WSX_ENOMEM;
    wsx_shared_free(s);
    free(to);
    return err;
}

/* Takes json (freed here): to the relay when there is one, else to the
 * room's members. */
static int broadcast(chat *ch, room *r, char *json)
{
    if (!json)
        return WSX_ENOMEM;
    size_t len = strlen(json);
    int rc = ch->relay ? ch->relay->publish(ch, r->name, json, len, ch->relay_user)
                       : deliver(ch, r, json, len);
    cJSON_free(json);
    return rc;
}

static room *room_find(const chat *ch, const char *name)
{
    room *r = ch->rooms;
    while (r && strcmp(r->name, name))
        r = r->next;
    return r;
}

int chat_deliver(chat *ch, const char *name, const char *json, size_t len)
{
    const room *r = room_find(ch, name);
    return r ? deliver(ch, r, json, len) : 0;
}

static room *room_get(chat *ch, const char *name)
{
    room *r = room_find(ch, name);
    if (r)
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
    char id[24];
    broadcast(m->ch, r, event("leave", next_id(m->ch, id), r, m->nick, NULL, NULL));
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
    char id[24];
    return broadcast(m->ch, r, event("join", next_id(m->ch, id), r, nick, NULL, NULL));
}

int chat_join_since(chat_member *m, const char *room_name, const char *nick,
                    const char *since)
{
    if (!since || !m->ch->relay || !m->ch->relay->join_since)
        return chat_join(m, room_name, nick);
    if (!name_ok(room_name) || !name_ok(nick))
        return WSX_EINVAL;
    return m->ch->relay->join_since(m, room_name, nick, since, m->ch->relay_user);
}

int chat_say(chat_member *m, const char *text)
{
    if (!m->room)
        return WSX_ESTATE;
    if (strlen(text) > CHAT_TEXT_MAX)
        return WSX_EINVAL;
    char id[24];
    return broadcast(m->ch, m->room,
                     event("say", next_id(m->ch, id), m->room, m->nick, "text", text));
}

void chat_error(chat_member *m, const char *msg)
{
    char *json = event("error", NULL, NULL, NULL, "message", msg);
    if (json && m->conn)
        wsx_send(m->conn, WSX_TEXT, json, strlen(json));
    cJSON_free(json);
}

void chat_set_observer(chat *ch, chat_event_fn fn, void *user)
{
    ch->observer = fn;
    ch->observer_user = user;
}

void chat_set_relay(chat *ch, const chat_relay *ops, void *user)
{
    ch->relay = ops;
    ch->relay_user = user;
}

wsx_conn *chat_member_conn(const chat_member *m)
{
    return m->conn;
}

void chat_each_room(const chat *ch, chat_room_fn fn, void *user)
{
    for (const room *r = ch->rooms; r; r = r->next)
        fn(r->name, r->count, user);
}

uint64_t chat_last_id(const chat *ch)
{
    return ch->last_id;
}

bool chat_ids_shared(const chat *ch)
{
    return ch->relay && ch->relay->join_since; /* one that keeps history */
}

size_t chat_member_count(const chat *ch)
{
    return ch->members;
}
