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

/* A connection becomes a member, in no room yet. Returns NULL when out of
 * memory. */
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

/* Send {"type":"error","message":MSG} to one member. */
void chat_error(chat_member *m, const char *msg);

/* Called with every event a room sends (after its members got it): for a
 * relay or a live view. fn NULL removes it. */
typedef void (*chat_event_fn)(chat *ch, const char *room, const char *json,
                              size_t len, void *user);
void chat_set_observer(chat *ch, chat_event_fn fn, void *user);

/* Each room with at least one member, in no particular order. */
typedef void (*chat_room_fn)(const char *room, size_t members, void *user);
void chat_each_room(const chat *ch, chat_room_fn fn, void *user);
/* Connections that are members (in a room or not). */
size_t chat_member_count(const chat *ch);

#endif
