/* history.c - a ring of the last CHAT_HISTORY events per room (history.h),
 * rooms in a list: a chat has few rooms, and a lookup per event is cheap
 * beside the event's JSON. */
#include "history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "room.h"

typedef struct ring {
    char room[CHAT_NAME_MAX + 1];
    chat_event ev[CHAT_HISTORY];
    size_t first, n; /* oldest at first */
    struct ring *next;
} ring;

struct chat_history {
    ring *rings;
};

chat_history *chat_history_new(void)
{
    return calloc(1, sizeof(chat_history));
}

void chat_history_free(chat_history *hs)
{
    if (!hs)
        return;
    while (hs->rings) {
        ring *r = hs->rings;
        hs->rings = r->next;
        for (size_t i = 0; i < r->n; i++)
            free(r->ev[(r->first + i) % CHAT_HISTORY].json);
        free(r);
    }
    free(hs);
}

static ring *ring_of(const chat_history *hs, const char *room)
{
    for (ring *r = hs->rings; r; r = r->next)
        if (!strcmp(r->room, room))
            return r;
    return NULL;
}

const chat_event *chat_history_add(chat_history *hs, const char *room,
                                   stream_id id, const char *text,
                                   const char *json, size_t len)
{
    ring *r = ring_of(hs, room);
    if (!r && strlen(room) <= CHAT_NAME_MAX && (r = calloc(1, sizeof *r))) {
        strcpy(r->room, room);
        r->next = hs->rings;
        hs->rings = r;
    }
    char *copy = r ? malloc(len) : NULL;
    if (!copy)
        return NULL;
    memcpy(copy, json, len);
    if (r->n == CHAT_HISTORY) {
        free(r->ev[r->first].json);
        r->first = (r->first + 1) % CHAT_HISTORY;
        r->n--;
    }
    chat_event *e = &r->ev[(r->first + r->n++) % CHAT_HISTORY];
    e->id = id;
    snprintf(e->id_text, sizeof e->id_text, "%s", text);
    e->json = copy;
    e->len = len;
    return e;
}

size_t chat_history_since(const chat_history *hs, const char *room,
                          stream_id after, const chat_event **ev)
{
    const ring *r = ring_of(hs, room);
    size_t k = 0;
    for (size_t i = 0; r && i < r->n; i++) {
        const chat_event *e = &r->ev[(r->first + i) % CHAT_HISTORY];
        if (stream_id_cmp(e->id, after) > 0)
            ev[k++] = e;
    }
    return k;
}
