/* protocol.c - reads the chat's client messages with cJSON and drives the
 * rooms of room.c; see protocol.h for the messages. */
#include <cJSON.h>
#include <string.h>

#include "protocol.h"

/* The string member `key` of o, or NULL when absent or not a string. */
static const char *field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One request; returns NULL or the error to send back. */
static const char *handle(chat_member *m, const cJSON *o)
{
    const char *type = field(o, "type");
    if (!type)
        return "a \"type\" string is required";
    if (!strcmp(type, "join")) {
        const char *room = field(o, "room"), *nick = field(o, "nick");
        if (!room || !nick)
            return "join needs \"room\" and \"nick\" strings";
        int r = chat_join_since(m, room, nick, field(o, "since"));
        return r == WSX_EINVAL  ? "room and nick must be 1 to 64 bytes"
               : r == WSX_EPROTO ? "since must be an event id such as \"1700000000000-0\""
               : r < 0         ? wsx_strerror(r)
                               : NULL;
    }
    if (!strcmp(type, "say")) {
        const char *text = field(o, "text");
        if (!text)
            return "say needs a \"text\" string";
        int r = chat_say(m, text);
        return r == WSX_ESTATE  ? "join a room first"
               : r == WSX_EINVAL ? "text is longer than 4096 bytes"
               : r < 0           ? wsx_strerror(r)
                                 : NULL;
    }
    if (!strcmp(type, "leave")) {
        chat_leave(m);
        return NULL;
    }
    return "unknown type (join, say or leave)";
}

const char *chat_apply(chat_member *m, const char *json, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(json, len);
    const char *err = !o                 ? "not valid JSON"
                      : cJSON_IsObject(o) ? handle(m, o)
                                          : "a message must be a JSON object";
    cJSON_Delete(o);
    return err;
}

void chat_read(chat_member *m, const wsx_message *msg)
{
    const char *err = "binary messages are not understood: send JSON text";
    if (msg->opcode == WSX_TEXT)
        err = chat_apply(m, (const char *)msg->data, msg->len);
    if (err)
        chat_error(m, err);
}
