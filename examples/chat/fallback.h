/* fallback.h - the chat for clients that cannot use WebSocket, on the
 * same rooms, events and ids as the WebSocket members (room.h):
 *   GET  /events?room=R&nick=N          Server-Sent Events: each event's
 *        data is the JSON a WebSocket member receives, its id in "id:";
 *        Last-Event-ID resumes after that event.
 *   GET  /poll?room=R&nick=N&since=ID   long polling: a JSON array of the
 *        events after ID as soon as there are any, or [] after the poll
 *        timeout; no since: events from now on; an unknown since: 400.
 *   POST /send?room=R&nick=N            body: the JSON a WebSocket client
 *        sends ({"type":"say","text":"hi"}); 200 {}, or 400 with
 *        {"type":"error","message":...}.
 * (room, nick) names a session: it joins the room at its first request
 * and leaves after twice the poll timeout with neither an event stream
 * nor a poll, so reconnecting clients neither leave nor miss events (the
 * last 256 events of each room are kept for resuming). */
#ifndef CHAT_FALLBACK_H
#define CHAT_FALLBACK_H

#include <stdbool.h>

#include "room.h"
#include "wsx_loop.h"

typedef struct chat_fallback chat_fallback;

/* poll_timeout_ms: how long a poll waits for events (the page uses 25 s);
 * heartbeat_ms: the event stream's comment heartbeat. Installs itself as
 * ch's observer. Returns NULL when out of memory. */
chat_fallback *chat_fallback_new(wsx_loop *l, chat *ch,
                                 uint32_t poll_timeout_ms,
                                 uint32_t heartbeat_ms);
/* Leave every room and free everything: after wsx_loop_run returned,
 * before wsx_loop_free (its timers are the loop's). */
void chat_fallback_free(chat_fallback *fb);
/* From on_http: serve the request when its path is one of the above and
 * return true, or return false and leave it to the caller. signed_nick:
 * the nick the request's token proved (chat_auth_http), or NULL without
 * sign-in; with it, nick= may be left out and any other nick is 403. */
bool chat_fallback_http(chat_fallback *fb, wsx_conn *c,
                        const wsx_http_request *req, const char *signed_nick);
/* From on_close of a connection that was not a WebSocket (user: its user
 * pointer, NULL when it was not one of ours). */
void chat_fallback_closed(void *user, wsx_conn *c);

#endif
