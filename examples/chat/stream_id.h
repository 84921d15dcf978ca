/* stream_id.h - Redis stream entry ids ("<ms>-<seq>", both unsigned 64-bit)
 * as the chat's event ids: read, compare, print, and the event JSON with
 * its "id" member added. */
#ifndef CHAT_STREAM_ID_H
#define CHAT_STREAM_ID_H

#include <stddef.h>
#include <stdint.h>

typedef struct stream_id {
    uint64_t ms, seq;
} stream_id;

/* Longest printed id: two 20-digit numbers and the dash, plus NUL. */
#define STREAM_ID_MAX 42

/* "<ms>-<seq>" or "<ms>" (seq 0), digits only. Returns 0, or -1 (and *id
 * unchanged) for anything else. */
int stream_id_parse(const char *s, size_t len, stream_id *id);
/* <0, 0, >0 as a is before, equal to or after b. */
int stream_id_cmp(stream_id a, stream_id b);
void stream_id_format(stream_id id, char out[STREAM_ID_MAX]);
/* json (an object, "{...}") with ,"id":"<id>" before its closing brace,
 * in a new NUL-terminated buffer (free() it) of *out_len bytes; NULL when
 * json is not an object or out of memory. */
char *stream_id_stamp(const char *json, size_t len, stream_id id,
                      size_t *out_len);

#endif
