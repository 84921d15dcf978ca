/* protocol.h - the chat's client protocol, read once for every front end
 * that serves it (the chat example, the dashboard's chat panel): one JSON
 * object per text message, keys in any order:
 *   {"type":"join","room":"lobby","nick":"ann"}
 *   {"type":"join","room":"lobby","nick":"ann","since":"<id>"}
 *   {"type":"say","text":"hi"}
 *   {"type":"leave"}
 * "since" (the "id" of the last event a client saw, chat --redis) first
 * replays what it missed; without Redis it is ignored. Anything else is
 * answered with {"type":"error","message":"..."}. */
#ifndef CHAT_PROTOCOL_H
#define CHAT_PROTOCOL_H

#include "room.h"

/* Act on one message a member sent (room.h does the rest). */
void chat_read(chat_member *m, const wsx_message *msg);
/* The same for one JSON text from any transport (an HTTP POST body):
 * returns NULL, or the error message instead of sending it. */
const char *chat_apply(chat_member *m, const char *json, size_t len);

#endif
