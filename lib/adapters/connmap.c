/* connmap.c - the loop's set of sockets, keyed by their wsx_conn pointer
 * (linear probing, backward-shift deletion, load at most 1/2), and the
 * small growable socket vectors the loop keeps per wake-up. */
#include <stdlib.h>

#include "loop_internal.h"

static size_t slot_of(const wsx_connmap *m, const wsx_conn *c)
{
    /* Fibonacci hashing: allocator addresses differ mostly in high bits. */
    uint64_t h = (uint64_t)(uintptr_t)c * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & (m->cap - 1);
}

static void insert(wsx_connmap *m, wsx_sock *s)
{
    size_t i = slot_of(m, s->conn);
    while (m->slots[i])
        i = (i + 1) & (m->cap - 1);
    m->slots[i] = s;
    m->n++;
}

int wsx_connmap_put(wsx_connmap *m, wsx_sock *s)
{
    if ((m->n + 1) * 2 > m->cap) {
        wsx_connmap bigger = {NULL, m->cap ? m->cap * 2 : 64, 0};
        bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
        if (!bigger.slots)
            return -1;
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i])
                insert(&bigger, m->slots[i]);
        free(m->slots);
        *m = bigger;
    }
    insert(m, s);
    return 0;
}

wsx_sock *wsx_connmap_get(const wsx_connmap *m, const wsx_conn *c)
{
    if (!m->cap)
        return NULL;
    for (size_t i = slot_of(m, c); m->slots[i]; i = (i + 1) & (m->cap - 1))
        if (m->slots[i]->conn == c)
            return m->slots[i];
    return NULL;
}

void wsx_connmap_del(wsx_connmap *m, const wsx_conn *c)
{
    if (!m->cap)
        return;
    size_t mask = m->cap - 1, i = slot_of(m, c);
    while (m->slots[i] && m->slots[i]->conn != c)
        i = (i + 1) & mask;
    if (!m->slots[i])
        return;
    m->slots[i] = NULL;
    m->n--;
    /* Backward shift: pull later members of the probe run into the hole
     * when the hole lies between their home slot and where they sit. */
    for (size_t j = (i + 1) & mask; m->slots[j]; j = (j + 1) & mask) {
        size_t home = slot_of(m, m->slots[j]->conn);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            m->slots[j] = NULL;
            i = j;
        }
    }
}

void wsx_connmap_free(wsx_connmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

int wsx_sockvec_push(wsx_sockvec *v, wsx_sock *s)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        wsx_sock **p = realloc(v->v, cap * sizeof *p);
        if (!p)
            return -1;
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = s;
    return 0;
}
