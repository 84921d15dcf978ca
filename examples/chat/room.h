/* room.h - chat state shared by everything that serves the chat: members
 * (one per WebSocket connection), the room each is in under which nick,
 * and the JSON events a room sends to its members. No socket and no
 * parsing of client input here: protocol.c reads the protocol, and other
 * front ends (a dashboard, metrics, a relay to Redis or SSE) can drive and
 * watch the same rooms through this API. One thread, like the loop. */
#ifndef CHAT_ROOM_H
#define CHAT_ROOM_H

#include <stddef.h>

#include "wsx.h"

/* Limits on what a client may name or say, in bytes of UTF-8. */
#define CHAT_NAME_MAX 64
#define CHAT_TEXT_MAX 4096

typedef struct chat chat;               /* every room of one server */
typedef struct chat_member chat_member; /* one connection */

chat *chat_new(void);
/* Free the state; every member must have been freed before. */
void chat_free(chat *ch);

/* A connection becomes a member, in no room yet. c NULL: a member whose
 * events reach it another way (the observer: SSE, long polling). Returns
 * NULL when out of memory. */
chat_member *chat_member_new(chat *ch, wsx_conn *c);
/* The member leaves its room (the others get a leave event) and is
 * forgotten: call it from on_close. */
void chat_member_free(chat_member *m);
/* The member proved it is nick (a verified token): every join uses this
 * nick, whatever the client asks for. */
void chat_member_sign_in(chat_member *m, const char *nick);
/* Nick, or NULL when not in a room. */
const char *chat_member_nick(const chat_member *m);
const char *chat_member_room(const chat_member *m);

/* Join room as nick, leaving the current room first; everyone in the new
 * room, the member included, gets {"type":"join","room":R,"nick":N}.
 * Returns 0, WSX_EINVAL when a name is empty or longer than CHAT_NAME_MAX,
 * or WSX_ENOMEM. */
int chat_join(chat_member *m, const char *room, const char *nick);
/* Everyone in the member's room gets {"type":"say","room":R,"nick":N,
 * "text":T}. Returns 0, WSX_ESTATE when not in a room, WSX_EINVAL when
 * text is longer than CHAT_TEXT_MAX, WSX_ENOMEM. */
int chat_say(chat_member *m, const char *text);
/* Leave the room, if any: {"type":"leave","room":R,"nick":N} goes to
 * everyone in it, the member included. */
void chat_leave(chat_member *m);

/* chat_join, but for a member coming back: with a relay that keeps history
 * (Redis, chat_redis.h) it first receives the room's events that came after
 * the event whose "id" is since, in order, then the live ones, with none
 * twice. since NULL, or no such relay: chat_join. Returns as chat_join, or
 * WSX_EPROTO when the relay cannot read since. */
int chat_join_since(chat_member *m, const char *room, const char *nick,
                    const char *since);

/* Send {"type":"error","message":MSG} to one member. */
void chat_error(chat_member *m, const char *msg);

/* Called with every event a room sends (after its members got it): for a
 * relay or a live view. fn NULL removes it. */
typedef void (*chat_event_fn)(chat *ch, const char *room, const char *json,
                              size_t len, void *user);
void chat_set_observer(chat *ch, chat_event_fn fn, void *user);

/* A relay shares the rooms with other processes: it takes every room
 * event instead of the local broadcast and hands events back, its own and
 * the others', through chat_deliver, in one order for every process. */
typedef struct chat_relay {
    /* Take the event json (a JSON object) of room; 0 or a WSX_E* code. */
    int (*publish)(chat *ch, const char *room, const char *json, size_t len,
                   void *user);
    /* chat_join_since with since not NULL and the names checked; NULL:
     * the relay keeps no history and since is ignored. */
    int (*join_since)(chat_member *m, const char *room, const char *nick,
                      const char *since, void *user);
    /* m is being freed: forget every reference to it (NULL: none kept). */
    void (*forget)(chat_member *m, void *user);
} chat_relay;
/* ops NULL: events are broadcast locally again. ops must outlive ch. */
void chat_set_relay(chat *ch, const chat_relay *ops, void *user);
/* Frame json once and queue it on every member of room (none: nothing),
 * then show it to the observer. Returns 0 or WSX_ENOMEM. */
int chat_deliver(chat *ch, const char *room, const char *json, size_t len);
/* The connection of a member, to send it what only it should get. */
wsx_conn *chat_member_conn(const chat_member *m);

/* Each room with at least one member, in no particular order. */
typedef void (*chat_room_fn)(const char *room, size_t members, void *user);
void chat_each_room(const chat *ch, chat_room_fn fn, void *user);
/* Every room event (join, say, leave) carries "id": a decimal string,
 * one more than the previous event's of any room. This is the id of the
 * last one sent (0 before any): inside the observer, the event's own.
 * With a relay the relay puts the "id" in the JSON, if any (chat_redis:
 * its stream id; chat_threads: none), and this counts the events
 * delivered here. */
uint64_t chat_last_id(const chat *ch);
/* Whether the events' ids are a relay's shared over processes (Redis), so
 * that an id not seen here yet may still be a real one. */
bool chat_ids_shared(const chat *ch);
/* Connections that are members (in a room or not). */
size_t chat_member_count(const chat *ch);

#endif
