/* echo_lws - the libwebsockets (Debian libwebsockets-dev) peer of the
 * benchmark table: one lws context, one service thread, lws defaults
 * (buffer sizes included). Each message is assembled from RECEIVE chunks,
 * queued, and written back one per WRITEABLE callback, as lws requires.
 * Usage: echo_lws [--port N] [--host ADDR] [--tls-cert FILE --tls-key FILE]
 * (with both: wss:// through lws's own OpenSSL integration). */
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

typedef struct msg {
    struct msg *next;
    size_t len;
    int binary;
    unsigned char buf[]; /* LWS_PRE bytes of headroom, then the payload */
} msg;

typedef struct session {
    msg *head, *tail; /* echoes waiting for a WRITEABLE callback */
    msg *rx;          /* message being assembled */
    size_t rx_cap;
} session;

static msg *rx_append(session *s, const void *in, size_t len, int binary)
{
    size_t have = s->rx ? s->rx->len : 0;
    if (!s->rx || have + len > s->rx_cap) {
        size_t cap = s->rx_cap ? s->rx_cap : 256;
        while (cap < have + len)
            cap *= 2;
        msg *m = realloc(s->rx, sizeof *m + LWS_PRE + cap);
        if (!m)
            return NULL;
        if (!s->rx)
            m->len = 0;
        s->rx = m;
        s->rx_cap = cap;
    }
    memcpy(s->rx->buf + LWS_PRE + s->rx->len, in, len);
    s->rx->len += len;
    s->rx->binary = binary;
    return s->rx;
}

static int callback_echo(struct lws *wsi, enum lws_callback_reasons reason,
                         void *user, void *in, size_t len)
{
    session *s = user;
    msg *m;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(s, 0, sizeof *s);
        break;
    case LWS_CALLBACK_RECEIVE:
        if (!rx_append(s, in, len, lws_frame_is_binary(wsi)))
            return -1;
        if (!lws_is_final_fragment(wsi))
            break;
        m = s->rx;
        m->next = NULL;
        s->rx = NULL;
        s->rx_cap = 0;
        if (s->tail)
            s->tail->next = m;
        else
            s->head = m;
        s->tail = m;
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        m = s->head;
        if (!m)
            break;
        if (lws_write(wsi, m->buf + LWS_PRE, m->len,
                      m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < (int)m->len)
            return -1;
        s->head = m->next;
        if (!s->head)
            s->tail = NULL;
        free(m);
        if (s->head)
            lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLOSED:
        while ((m = s->head)) {
            s->head = m->next;
            free(m);
        }
        free(s->rx);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"echo", callback_echo, sizeof(session), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

int main(int argc, char **argv)
{
    struct lws_context_creation_info info;
    const char *host = "127.0.0.1", *cert = NULL, *key = NULL;
    int port = 9003;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port"))
            port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--host"))
            host = argv[i + 1];
        else if (!strcmp(argv[i], "--tls-cert"))
            cert = argv[i + 1];
        else if (!strcmp(argv[i], "--tls-key"))
            key = argv[i + 1];
    }
    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof info);
    if (cert && key) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cert;
        info.ssl_private_key_filepath = key;
    }
    info.port = port;
    info.iface = host;
    info.protocols = protocols;
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        lwsl_err("echo_lws: cannot create the context\n");
        return 1;
    }
    lwsl_err("echo_lws: listening on %s port %d\n", host, port);
    while (lws_service(ctx, 0) >= 0)
        ;
    lws_context_destroy(ctx);
    return 0;
}
