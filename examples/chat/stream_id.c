/* stream_id.c - Redis stream ids as chat event ids (see stream_id.h). */
#include "stream_id.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decimal digits into *v; returns the count read, 0 on none or overflow. */
static size_t digits(const char *s, size_t len, uint64_t *v)
{
    size_t i = 0;
    *v = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (*v > (UINT64_MAX - d) / 10)
            return 0;
        *v = *v * 10 + d;
    }
    return i;
}

int stream_id_parse(const char *s, size_t len, stream_id *id)
{
    stream_id r = {0, 0};
    size_t n = digits(s, len, &r.ms);
    if (!n)
        return -1;
    if (n < len) {
        if (s[n] != '-')
            return -1;
        size_t m = digits(s + n + 1, len - n - 1, &r.seq);
        if (!m || n + 1 + m != len)
            return -1;
    }
    *id = r;
    return 0;
}

int stream_id_cmp(stream_id a, stream_id b)
{
    if (a.ms != b.ms)
        return a.ms < b.ms ? -1 : 1;
    return a.seq < b.seq ? -1 : a.seq > b.seq;
}

void stream_id_format(stream_id id, char out[STREAM_ID_MAX])
{
    snprintf(out, STREAM_ID_MAX, "%" PRIu64 "-%" PRIu64, id.ms, id.seq);
}

char *stream_id_stamp(const char *json, size_t len, stream_id id,
                      size_t *out_len)
{
    char sid[STREAM_ID_MAX];
    if (len < 2 || json[0] != '{' || json[len - 1] != '}')
        return NULL;
    stream_id_format(id, sid);
    /* The ids are digits and a dash: nothing to escape. */
    const char *sep = len > 2 ? "," : "";
    size_t n = len - 1 + strlen(sep) + strlen(sid) + sizeof "\"id\":\"\"}" - 1;
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, json, len - 1);
        snprintf(out + len - 1, n + 2 - len, "%s\"id\":\"%s\"}", sep, sid);
        *out_len = n;
    }
    return out;
}
