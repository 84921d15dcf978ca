/* history.h - the last events of every room, by id, so that a client
 * that reconnects (SSE's Last-Event-ID, a poll's since) gets what it
 * missed once. Ids increase: the events' own "id" (room.h: a counter, or
 * with Redis the stream entry id, the same on every instance); a
 * counter's "17" reads as the stream id 17-0, so one order serves both. */
#ifndef CHAT_HISTORY_H
#define CHAT_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "stream_id.h"

#define CHAT_HISTORY 256 /* events kept per room */

typedef struct chat_event {
    stream_id id;
    char id_text[STREAM_ID_MAX]; /* as the JSON spells it */
    char *json;
    size_t len;
} chat_event;

typedef struct chat_history chat_history;

chat_history *chat_history_new(void);
void chat_history_free(chat_history *hs);
/* Keep a copy of room's event json with its id (text: as printed, at
 * most STREAM_ID_MAX - 1 bytes); the oldest goes beyond CHAT_HISTORY.
 * Returns the kept event, or NULL when out of memory (it is not kept). */
const chat_event *chat_history_add(chat_history *hs, const char *room,
                                   stream_id id, const char *text,
                                   const char *json, size_t len);
/* room's kept events with an id above `after`, oldest first, into ev
 * (room for CHAT_HISTORY); returns how many. */
size_t chat_history_since(const chat_history *hs, const char *room,
                          stream_id after, const chat_event **ev);

#endif
