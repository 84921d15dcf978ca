/* pubsub - topic fan-out: each published message is framed once and queued on every subscriber; slow ones are skipped or cut off. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "wsx.h"
#include "wsx_loop.h"

/* Text commands: "sub TOPIC", "unsub TOPIC", "pub TOPIC PAYLOAD" (each
 * subscriber receives "TOPIC PAYLOAD") and "stats". Memory is bounded:
 * a subscriber holds at most --limit queued bytes (the core's high-water
 * mark refuses more with WSX_EFULL), messages are at most 64 KiB, and
 * there are at most MAX_TOPICS topics. */
#define MAX_TOPICS 1024
#define MAX_NAME 64

typedef struct topic {
    char name[MAX_NAME];
    wsx_conn **subs;
    size_t n, cap;
} topic;

static topic topics[MAX_TOPICS];
static size_t ntopics;
static bool disconnect_slow;
static unsigned long long published, delivered, dropped, cut_off;

static topic *find(const char *name, size_t len, bool create)
{
    for (size_t i = 0; i < ntopics; i++)
        if (strlen(topics[i].name) == len && !memcmp(topics[i].name, name, len))
            return &topics[i];
    if (!create || ntopics == MAX_TOPICS || len == 0 || len >= MAX_NAME)
        return NULL;
    topic *t = &topics[ntopics++];
    memcpy(t->name, name, len);
    t->name[len] = '\0';
    return t;
}

static void unsubscribe(topic *t, wsx_conn *c)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->subs[i] == c) {
            t->subs[i] = t->subs[--t->n];
            return;
        }
}

static void subscribe(topic *t, wsx_conn *c)
{
    unsubscribe(t, c);
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        wsx_conn **s = realloc(t->subs, cap * sizeof *s);
        if (!s)
            return;
        t->subs = s;
        t->cap = cap;
    }
    t->subs[t->n++] = c;
}

/* Encode once, send many; the high-water mark decides who is too slow.
 * The subscribers are copied first: a send that finds a peer gone runs
 * its on_close, which takes it out of t->subs (see wsx.h). */
static void publish(topic *t, const uint8_t *msg, size_t len)
{
    wsx_shared *s = wsx_shared_new(NULL, WSX_TEXT, msg, len);
    size_t n = t->n;
    wsx_conn **to = malloc((n ? n : 1) * sizeof *to);
    if (!s || !to) {
        wsx_shared_free(s);
        free(to);
        return;
    }
    memcpy(to, t->subs, n * sizeof *to);
    published++;
    for (size_t i = 0; i < n; i++) {
        int r = wsx_send_shared(to[i], s);
        if (r == 0) {
            delivered++;
        } else if (r == WSX_EFULL && disconnect_slow) {
            cut_off++;
            wsx_close(to[i], WSX_CLOSE_POLICY, "too slow");
        } else {
            dropped++;
        }
    }
    free(to);
    wsx_shared_free(s);
}

static void on_message(wsx_conn *c, const wsx_message *m, void *user)
{
    const char *p = (const char *)m->data, *end = p + m->len;
    (void)user;
    if (m->len == 5 && !memcmp(p, "stats", 5)) {
        char out[200];
        int n = snprintf(out, sizeof out, "stats published=%llu delivered=%llu "
                         "dropped=%llu cut_off=%llu topics=%zu", published,
                         delivered, dropped, cut_off, ntopics);
        wsx_send(c, WSX_TEXT, out, (size_t)n);
        return;
    }
    const char *name = memchr(p, ' ', m->len);
    if (!name++)
        return;
    const char *stop = memchr(name, ' ', (size_t)(end - name));
    size_t nlen = (size_t)((stop ? stop : end) - name);
    size_t cmd = (size_t)(name - 1 - p);
    topic *t = find(name, nlen, cmd == 3 && !memcmp(p, "sub", 3));
    if (!t)
        return;
    if (cmd == 3 && !memcmp(p, "sub", 3))
        subscribe(t, c);
    else if (cmd == 5 && !memcmp(p, "unsub", 5))
        unsubscribe(t, c);
    else if (cmd == 3 && !memcmp(p, "pub", 3))
        publish(t, (const uint8_t *)name, (size_t)(end - name));
}

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    (void)ci;
    (void)user;
    for (size_t i = 0; i < ntopics; i++)
        unsubscribe(&topics[i], c);
}

static const char usage[] =
    "usage: pubsub [--host ADDR] [--port N] [--limit BYTES] [--policy drop|disconnect]\n"
    "Topics over text commands: sub T, unsub T, pub T PAYLOAD, stats.\n"
    "  --host ADDR      address to listen on (default 127.0.0.1;\n"
    "                   0.0.0.0 or :: for every interface)\n"
    "  --port N         port (default 9002; 0: any free port)\n"
    "  --limit BYTES    bytes a subscriber may have queued (default 1048576)\n"
    "  --policy P       what a subscriber above the limit gets: drop (skip\n"
    "                   the message, the default) or disconnect (close 1008)\n";

int main(int argc, char **argv)
{
    wsx_config cfg;
    wsx_callbacks cb;
    wsx_listen_opts o;
    cli_addr addr = CLI_ADDR_INIT(9002);
    cli c;
    wsx_config_init(&cfg, WSX_SERVER);
    cfg.high_water = 1024 * 1024;
    cfg.max_message_size = cfg.max_frame_size = 64 * 1024;
    cli_init(&c, argc, argv, "pubsub", usage);
    for (const char *a; (a = cli_next(&c));) {
        if (cli_addr_option(&c, &addr)) {
            continue;
        } else if (!strcmp(a, "--limit")) {
            cfg.high_water = (size_t)cli_int(&c, 1, (long long)(SIZE_MAX >> 1));
        } else if (!strcmp(a, "--policy")) {
            const char *v = cli_value(&c);
            if (strcmp(v, "drop") && strcmp(v, "disconnect"))
                cli_fail(&c, "--policy is drop or disconnect");
            disconnect_slow = !strcmp(v, "disconnect");
        } else {
            cli_unknown(&c);
        }
    }
    wsx_callbacks_init(&cb);
    cb.on_message = on_message;
    cb.on_close = on_close;
    wsx_listen_opts_init(&o);
    o.config = &cfg;
    o.callbacks = &cb;
    char note[80];
    snprintf(note, sizeof note, "policy %s, limit %zu bytes",
             disconnect_slow ? "disconnect" : "drop", cfg.high_water);
    wsx_loop *l = cli_loop_new("pubsub", WSX_LOOP_DEFAULT);
    cli_listen("pubsub", l, &o, &addr, "ws", note);
    int r = wsx_loop_run(l);
    wsx_loop_free(l);
    for (size_t i = 0; i < ntopics; i++)
        free(topics[i].subs);
    return r < 0;
}
