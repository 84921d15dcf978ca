/* limits.c - admission of accepted connections by peer address: a total
 * cap, a cap per IPv4 address or IPv6 /64, and a handshake rate per
 * address (token bucket), counted for metrics, per loop or over loops
 * that share their counts; and the peer address of a loop connection as
 * text. */
#include "loop_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct wsx_limits_share {
    pthread_mutex_t mu;
    wsx_addr_table t;
};

static bool per_addr(const wsx_limits *m)
{
    return m->per_addr || m->rate.per_sec;
}

/* IPv4 as ::ffff:a.b.c.d; IPv6 cut to its /64, since one host (or one
 * customer) typically holds a whole /64 and could hop addresses inside
 * it. False for anything else (a Unix socket). */
static bool addr_key(int fd, uint8_t key[16])
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
        return false;
    memset(key, 0, 16);
    if (ss.ss_family == AF_INET) {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
        return true;
    }
    if (ss.ss_family != AF_INET6)
        return false;
    const uint8_t *a = ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr;
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memcpy(key, a, memcmp(a, v4mapped, 12) ? 8 : 16);
    return true;
}

static size_t hash(const uint8_t key[16], size_t cap)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    return (size_t)(h & (cap - 1));
}

static int grow(wsx_addr_table *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    wsx_addr_slot **tab = calloc(cap, sizeof *tab);
    if (!tab)
        return WSX_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        for (wsx_addr_slot *s = m->tab[i], *next; s; s = next) {
            next = s->next;
            size_t h = hash(s->key, cap);
            s->next = tab[h];
            tab[h] = s;
        }
    }
    free(m->tab);
    m->tab = tab;
    m->cap = cap;
    return 0;
}

/* Slots of addresses with nothing open and a full bucket say nothing a
 * new slot would not: dropped, so a scan of many addresses cannot grow
 * the table without bound. Runs when the table doubles the open count. */
static void sweep(wsx_addr_table *m, const wsx_rate *rate, uint64_t now)
{
    for (size_t i = 0; i < m->cap; i++) {
        for (wsx_addr_slot **p = &m->tab[i], *s; (s = *p);) {
            wsx__bucket_refill(&s->handshakes, rate, now);
            if (!s->conns && s->handshakes.tokens >= wsx__rate_cap(rate)) {
                *p = s->next;
                free(s);
                m->n--;
            } else {
                p = &s->next;
            }
        }
    }
}

static wsx_addr_slot *slot_get(wsx_addr_table *m, const wsx_rate *rate,
                               const uint8_t key[16], uint64_t now)
{
    if (m->cap) {
        for (wsx_addr_slot *s = m->tab[hash(key, m->cap)]; s; s = s->next)
            if (!memcmp(s->key, key, 16))
                return s;
    }
    if (m->n >= 64 && m->n > 2 * m->open)
        sweep(m, rate, now);
    if (m->n >= m->cap && grow(m) < 0)
        return NULL;
    wsx_addr_slot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    memcpy(s->key, key, 16);
    wsx__bucket_init(&s->handshakes, rate, now);
    size_t h = hash(key, m->cap);
    s->next = m->tab[h];
    m->tab[h] = s;
    m->n++;
    return s;
}

static int admit(wsx_limits *m, wsx_addr_table *t, int fd, uint64_t now,
                 wsx_addr_slot **slot)
{
    uint8_t key[16];
    if (m->max_conns && t->open >= m->max_conns) {
        m->stats.over_total++;
        return WSX_ADMIT_DROP;
    }
    t->open++;
    /* Without a slot (out of memory, no address) the peer is let in:
     * the limits are a defence, not a reason to fail good peers. */
    wsx_addr_slot *s = NULL;
    if (per_addr(m) && addr_key(fd, key))
        s = slot_get(t, &m->rate, key, now);
    if (!s)
        return WSX_ADMIT_OK;
    if (m->per_addr && s->conns >= m->per_addr) {
        m->stats.over_per_addr++;
        return WSX_ADMIT_REFUSE;
    }
    wsx__bucket_refill(&s->handshakes, &m->rate, now);
    if (wsx__bucket_short(&s->handshakes, &m->rate, 1000)) {
        m->stats.over_rate++;
        return WSX_ADMIT_REFUSE;
    }
    if (m->rate.per_sec)
        s->handshakes.tokens -= 1000;
    s->conns++;
    *slot = s;
    return WSX_ADMIT_OK;
}

int wsx__limits_admit(wsx_loop *l, int fd, wsx_addr_slot **slot)
{
    wsx_limits *m = &l->lim;
    *slot = NULL;
    if (!m->share)
        return admit(m, &m->own, fd, l->now, slot);
    pthread_mutex_lock(&m->share->mu);
    int r = admit(m, &m->share->t, fd, l->now, slot);
    pthread_mutex_unlock(&m->share->mu);
    return r;
}

void wsx__limits_release(wsx_loop *l, wsx_addr_slot *slot)
{
    wsx_limits_share *sh = l->lim.share;
    if (sh)
        pthread_mutex_lock(&sh->mu);
    (sh ? &sh->t : &l->lim.own)->open--;
    if (slot)
        slot->conns--;
    if (sh)
        pthread_mutex_unlock(&sh->mu);
}

static void table_free(wsx_addr_table *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        for (wsx_addr_slot *s = m->tab[i], *next; s; s = next) {
            next = s->next;
            free(s);
        }
    }
    free(m->tab);
}

void wsx__limits_free(wsx_loop *l)
{
    table_free(&l->lim.own);
}

wsx_limits_share *wsx_limits_share_new(void)
{
    wsx_limits_share *s = calloc(1, sizeof *s);
    if (s && pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

void wsx_limits_share_free(wsx_limits_share *s)
{
    if (!s)
        return;
    table_free(&s->t);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void wsx_loop_limit_stats_get(const wsx_loop *l, wsx_loop_limit_stats *out)
{
    *out = l->lim.stats;
}

int wsx_loop_conn_peer(const wsx_conn *c, char *out, size_t cap)
{
    const wsx_sock *s = wsx_conn_transport(c);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char text[INET6_ADDRSTRLEN];
    if (!s || getpeername(s->io.fd, (struct sockaddr *)&ss, &len) < 0)
        return WSX_EINVAL;
    const void *a = ss.ss_family == AF_INET
                        ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
                    : ss.ss_family == AF_INET6
                        ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
                        : NULL;
    if (!a || !inet_ntop(ss.ss_family, a, text, sizeof text))
        return WSX_EINVAL;
    size_t n = strlen(text);
    if (n >= cap)
        return WSX_ENOSPC;
    memcpy(out, text, n + 1);
    return (int)n;
}
