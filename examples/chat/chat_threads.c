/* chat_threads.c - room events crossing threads (see chat_threads.h):
 * each thread has an inbox under a mutex; a publisher appends a copy of
 * the event to every other inbox and posts one wake-up closure to a loop
 * only when its inbox was empty, so a burst costs one wake-up per thread,
 * not one per event. */
#include "chat_threads.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct event {
    struct event *next;
    size_t len;
    char *room; /* after json in the same allocation */
    char json[];
} event;

typedef struct peer {
    struct chat_threads *t;
    chat *ch;
    wsx_loop *loop;
    pthread_mutex_t lock; /* guards inbox: any thread appends */
    event *inbox, **inbox_tail;
} peer;

struct chat_threads {
    int n;
    peer peers[];
};

static void inbox_free(event *e)
{
    while (e) {
        event *next = e->next;
        free(e);
        e = next;
    }
}

/* On p's loop: deliver everything queued for it, in arrival order. */
static void drain(wsx_loop *l, void *arg)
{
    peer *p = arg;
    (void)l;
    pthread_mutex_lock(&p->lock);
    event *e = p->inbox;
    p->inbox = NULL;
    p->inbox_tail = &p->inbox;
    pthread_mutex_unlock(&p->lock);
    for (event *x = e; x; x = x->next)
        chat_deliver(p->ch, x->room, x->json, x->len);
    inbox_free(e);
}

static int hand_over(peer *to, const char *room, const char *json, size_t len)
{
    size_t rlen = strlen(room);
    event *e = malloc(sizeof *e + len + 1 + rlen + 1);
    if (!e)
        return WSX_ENOMEM;
    e->next = NULL;
    e->len = len;
    memcpy(e->json, json, len);
    e->json[len] = '\0';
    e->room = e->json + len + 1;
    memcpy(e->room, room, rlen + 1);
    pthread_mutex_lock(&to->lock);
    int wake = !to->inbox;
    *to->inbox_tail = e;
    to->inbox_tail = &e->next;
    /* A failed post leaves the event queued for the next one. */
    int r = wake ? wsx_loop_post(to->loop, drain, to) : 0;
    pthread_mutex_unlock(&to->lock);
    return r;
}

static int publish(chat *ch, const char *room, const char *json, size_t len,
                   void *user)
{
    peer *self = user;
    int r = 0;
    /* The others first: a send that fails here may end the room. */
    for (int i = 0; i < self->t->n; i++)
        if (&self->t->peers[i] != self) {
            int h = hand_over(&self->t->peers[i], room, json, len);
            r = r < 0 ? r : h;
        }
    int d = chat_deliver(ch, room, json, len);
    return r < 0 ? r : d;
}

/* No history without Redis: since is ignored, forget has nothing to do. */
static const chat_relay relay_ops = {publish, NULL, NULL};

chat_threads *chat_threads_new(chat *const *rooms, wsx_loop *const *loops,
                               int n)
{
    chat_threads *t = calloc(1, sizeof *t + (size_t)n * sizeof(peer));
    if (!t)
        return NULL;
    t->n = n;
    for (int i = 0; i < n; i++) {
        peer *p = &t->peers[i];
        p->t = t;
        p->ch = rooms[i];
        p->loop = loops[i];
        p->inbox_tail = &p->inbox;
        pthread_mutex_init(&p->lock, NULL);
        chat_set_relay(rooms[i], &relay_ops, p);
    }
    return t;
}

void chat_threads_free(chat_threads *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->n; i++) {
        chat_set_relay(t->peers[i].ch, NULL, NULL);
        inbox_free(t->peers[i].inbox);
        pthread_mutex_destroy(&t->peers[i].lock);
    }
    free(t);
}
