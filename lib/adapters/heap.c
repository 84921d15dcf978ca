/* heap.c - the loop's timers: a binary min-heap of sockets and listeners
 * ordered by their next deadline. Each entry knows its index, so moving or
 * removing one is O(log n) and a wake-up never scans every connection.
 * Entries without a deadline (WSX_NO_DEADLINE) stay in it, at the bottom:
 * the loop's sockets live here from attach to close. */
#include <stdlib.h>

#include "loop_internal.h"

static void place(wsx_heap *h, uint32_t i, wsx_io *io)
{
    h->v[i] = io;
    io->heap_idx = i;
}

static void sift_up(wsx_heap *h, uint32_t i)
{
    wsx_io *io = h->v[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (h->v[parent]->deadline <= io->deadline)
            break;
        place(h, i, h->v[parent]);
        i = parent;
    }
    place(h, i, io);
}

static void sift_down(wsx_heap *h, uint32_t i)
{
    wsx_io *io = h->v[i];
    for (;;) {
        uint32_t kid = 2 * i + 1;
        if (kid >= h->n)
            break;
        if (kid + 1 < h->n && h->v[kid + 1]->deadline < h->v[kid]->deadline)
            kid++;
        if (io->deadline <= h->v[kid]->deadline)
            break;
        place(h, i, h->v[kid]);
        i = kid;
    }
    place(h, i, io);
}

static void remove_at(wsx_heap *h, uint32_t i)
{
    wsx_io *last = h->v[--h->n];
    h->v[i]->heap_idx = WSX_HEAP_NONE;
    if (i == h->n)
        return;
    place(h, i, last);
    sift_down(h, i);
    sift_up(h, last->heap_idx);
}

/* Give io a new deadline, inserting it when it is not in the heap yet.
 * Returns 0, or -1 when the heap could not grow (io stays out of it). */
int wsx_heap_set(wsx_heap *h, wsx_io *io, uint64_t deadline)
{
    uint32_t i = io->heap_idx;
    if (i != WSX_HEAP_NONE) {
        uint64_t was = io->deadline;
        io->deadline = deadline;
        if (deadline > was)
            sift_down(h, i);
        else if (deadline < was)
            sift_up(h, i);
        return 0;
    }
    if (h->n == h->cap) {
        uint32_t cap = h->cap ? h->cap * 2 : 64;
        wsx_io **v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    io->deadline = deadline;
    place(h, h->n++, io);
    sift_up(h, h->n - 1);
    return 0;
}

/* Take io out of the heap (nothing when it is not in it). */
void wsx_heap_del(wsx_heap *h, wsx_io *io)
{
    if (io->heap_idx != WSX_HEAP_NONE)
        remove_at(h, io->heap_idx);
    io->deadline = WSX_NO_DEADLINE;
}

wsx_io *wsx_heap_top(const wsx_heap *h)
{
    return h->n ? h->v[0] : NULL;
}

void wsx_heap_free(wsx_heap *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}
