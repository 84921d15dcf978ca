/* history.h - the last events of every room, by id, so that a client
 * that reconnects (SSE's Last-Event-ID, a poll's since) gets what it
 * missed once. Ids are the rooms' (room.h), increasing. */
#ifndef CHAT_HISTORY_H
#define CHAT_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#define CHAT_HISTORY 256 /* events kept per room */

typedef struct chat_event {
    uint64_t id;
    char *json;
    size_t len;
} chat_event;

typedef struct chat_history chat_history;

chat_history *chat_history_new(void);
void chat_history_free(chat_history *hs);
/* Keep a copy of room's event (the oldest goes beyond CHAT_HISTORY).
 * Returns 0, or -1 when out of memory (the event is not kept). */
int chat_history_add(chat_history *hs, const char *room, uint64_t id,
                     const char *json, size_t len);
/* room's kept events with an id above `after`, oldest first, into ev
 * (room for CHAT_HISTORY); returns how many. */
size_t chat_history_since(const chat_history *hs, const char *room,
                          uint64_t after, const chat_event **ev);

#endif
