/* sse.c - Server-Sent Events over a streamed HTTP response (wsx_http.h):
 * the text/event-stream format of the HTML Living Standard §9.2.5, one
 * event per call, data split at every line end into "data:" lines. */
#include "conn.h"
#include "wsx_http.h"

#ifndef WSX_NO_HTTP /* firmware without on_http (see wsx.h) */

#include <string.h>

/* The spec's comment line: ignored by the client, enough for proxies. */
static const char beat[] = ":\n\n";

int wsx_sse_begin(wsx_conn *c, uint32_t heartbeat_ms,
                  const char *extra_headers)
{
    /* A cached or buffered event stream would reach the client late. */
    int r = wsx__http_begin(c, 200, "text/event-stream",
                            "Cache-Control: no-store\r\n", extra_headers);
    if (r == 0 && heartbeat_ms)
        r = wsx_http_stream_heartbeat(c, heartbeat_ms, beat, sizeof beat - 1);
    return r;
}

/* A field value the format can carry: a line end would start a new
 * field (§9.2.6), a NUL in an id makes the client ignore it. */
static bool field_ok(const char *s)
{
    return !s || !s[strcspn(s, "\r\n")];
}

static size_t put(uint8_t *d, const char *s, size_t n)
{
    memcpy(d, s, n);
    return n;
}

/* The data as "data:" lines, into d when not NULL; returns the size.
 * §9.2.6: a line ends at CRLF, LF or CR. */
static size_t data_lines(uint8_t *d, const uint8_t *p, size_t len)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] != '\r' && p[i] != '\n')
            continue;
        if (d) {
            put(d + n, "data:", 5);
            put(d + n + 5, (const char *)p + start, i - start);
            d[n + 5 + i - start] = '\n';
        }
        n += 5 + i - start + 1;
        if (i + 1 < len && p[i] == '\r' && p[i + 1] == '\n')
            i++;
        start = i + 1;
    }
    return n;
}

static size_t field(uint8_t *d, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    put(d, name, nl);
    put(d + nl, value, vl);
    d[nl + vl] = '\n';
    return nl + vl + 1;
}

int wsx_sse_send(wsx_conn *c, const char *id, const char *event,
                 const void *data, size_t len)
{
    if (!field_ok(id) || !field_ok(event) || (len && !data))
        return WSX_EINVAL;
    int r = wsx__http_room(c);
    wsx__enter(c);
    if (r == WSX_EFULL) {
        /* Skipping an event would leave a silent gap; dropping the stream
         * makes the client reconnect and resume from its last id. */
        wsx__fail(c, WSX_EFULL);
        wsx__buf_release(c, &c->out);
        return wsx__leave(c, WSX_EFULL);
    }
    if (r < 0)
        return wsx__leave(c, r);
    size_t n = data_lines(NULL, data, len) + 1;
    n += id ? 4 + strlen(id) + 1 : 0;
    n += event ? 7 + strlen(event) + 1 : 0;
    r = wsx__buf_reserve(c, &c->out, n);
    if (r < 0)
        return wsx__leave(c, r);
    uint8_t *d = c->out.p + c->out.len;
    size_t k = id ? field(d, "id: ", id) : 0;
    k += event ? field(d + k, "event: ", event) : 0;
    k += data_lines(d + k, data, len);
    d[k] = '\n'; /* the empty line dispatches the event */
    c->out.len += k + 1;
    c->tx_seen = true;
    return wsx__leave(c, 0);
}

const char *wsx_sse_last_event_id(const wsx_http_request *req, size_t *len)
{
    const wsx_header *h =
        wsx_http_find(req->headers, req->num_headers, "Last-Event-ID");
    *len = h ? h->value_len : 0;
    return h ? h->value : NULL;
}
#endif
