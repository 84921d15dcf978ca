/* wsx-cat - a websocat-like client: stdin lines become messages, received messages become stdout lines. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wsx.h"
#include "wsx_deflate.h"
#include "wsx_loop.h"

static wsx_loop *loop;
static wsx_conn *conn;  /* NULL once closed: touched on the loop thread only */
static wsx_opcode mode = WSX_TEXT;
static int exit_code = 1;

typedef struct line {
    size_t len;
    char text[];
} line;

/* Runs on the loop thread: the only thread that may touch the connection. */
static void send_line(wsx_loop *l, void *arg)
{
    line *ln = arg;
    (void)l;
    if (conn && !ln)
        wsx_close(conn, 1000, NULL); /* end of stdin */
    else if (conn)
        wsx_send(conn, mode, ln->text, ln->len);
    free(ln);
}

static void *read_stdin(void *arg)
{
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    (void)arg;
    while ((n = getline(&buf, &cap, stdin)) >= 0) {
        if (n > 0 && buf[n - 1] == '\n')
            n--;
        line *ln = malloc(sizeof *ln + (size_t)n);
        ln->len = (size_t)n;
        memcpy(ln->text, buf, (size_t)n);
        wsx_loop_post(loop, send_line, ln);
    }
    free(buf);
    wsx_loop_post(loop, send_line, NULL);
    return NULL;
}

static void on_open(wsx_conn *c, void *user)
{
    pthread_t th;
    (void)c;
    (void)user;
    pthread_create(&th, NULL, read_stdin, NULL);
    pthread_detach(th);
}

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)c;
    (void)user;
    fwrite(m->data, 1, m->len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    (void)c;
    (void)user;
    conn = NULL;
    exit_code = ci->code == WSX_CLOSE_NORMAL ? 0 : 1;
    if (exit_code)
        fprintf(stderr, "wsx-cat: closed %u \"%.*s\"%s%s\n", ci->code,
                (int)ci->reason_len, ci->reason, ci->error ? ": " : "",
                ci->error ? wsx_strerror(ci->error) : "");
}

int main(int argc, char **argv)
{
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_connect_opts o;
    static char headers[4096];
    wsx_config_init(&cfg, WSX_CLIENT);
    wsx_callbacks_init(&cb);
    wsx_connect_opts_init(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t used = strlen(headers);
        if (!strcmp(a, "--binary")) {
            mode = WSX_BINARY;
        } else if (!strcmp(a, "--deflate")) {
            cfg.extension = wsx_permessage_deflate(); /* RFC 7692 offer */
        } else if (!strcmp(a, "--header") && v && used + strlen(v) + 3 < sizeof headers) {
            snprintf(headers + used, sizeof headers - used, "%s\r\n", v);
            i++;
        } else if (!strcmp(a, "--protocol") && v) {
            cfg.client.protocols = v;
            i++;
        } else if (a[0] != '-' && !o.url) {
            o.url = a;
        } else {
            o.url = NULL;
            break;
        }
    }
    if (!o.url) {
        fprintf(stderr, "usage: wsx-cat [--binary] [--deflate] [--header 'Name: "
                        "value']... [--protocol p] ws://host[:port]/path\n");
        return 2;
    }
    cfg.client.extra_headers = headers[0] ? headers : NULL;
    cb.on_open = on_open;
    cb.on_message = on_message;
    cb.on_close = on_close;
    o.config = &cfg;
    o.callbacks = &cb;
    loop = wsx_loop_new(NULL);
    int r = loop ? wsx_loop_connect(loop, &o, &conn) : WSX_ENOMEM;
    if (r < 0) {
        fprintf(stderr, "wsx-cat: %s: %s\n", o.url, wsx_strerror(r));
        return 1;
    }
    wsx_loop_run(loop);
    /* The stdin thread may still be inside getline() and post once more:
     * end the process rather than free the loop under it. */
    fflush(stdout);
    _exit(exit_code);
}
