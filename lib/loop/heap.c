/* heap.c - the loop's timers: a binary min-heap of whatever has a
 * deadline (sockets, paused listeners, application timers), ordered by
 * deadline and then by the order the deadlines were set. Each entry knows
 * its index, so moving or removing one is O(log n) and a wake-up never
 * scans every connection. The same array lists every socket: those
 * without a deadline sit after the heap's end (the tail), so the loop
 * enumerates its sockets without links in each (8 B per connection, and
 * the heap needs room for every socket anyway). */
#include <stdlib.h>

#include "loop_internal.h"

/* Sockets belong to the array from attach to close; listeners and
 * timers only while they have a deadline. */
static bool member(const wsx_io *io)
{
    return io->kind == WSX_IO_SOCK;
}

static bool before(const wsx_io *a, const wsx_io *b)
{
    return a->deadline < b->deadline ||
           (a->deadline == b->deadline && a->seq < b->seq);
}

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
        if (!before(io, h->v[parent]))
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
        if (kid + 1 < h->n && before(h->v[kid + 1], h->v[kid]))
            kid++;
        if (!before(h->v[kid], io))
            break;
        place(h, i, h->v[kid]);
        i = kid;
    }
    place(h, i, io);
}

/* Take the heap entry at i out of the heap part: a member becomes the
 * first of the tail, anything else leaves the array. */
static void remove_at(wsx_heap *h, uint32_t i)
{
    wsx_io *io = h->v[i], *last = h->v[--h->n];
    if (i != h->n) {
        place(h, i, last);
        sift_down(h, i);
        sift_up(h, last->heap_idx);
    }
    if (member(io)) {
        place(h, h->n, io);
        return;
    }
    io->heap_idx = WSX_HEAP_NONE;
    if (--h->m != h->n)
        place(h, h->n, h->v[h->m]);
}

/* Make room for n entries in all. Returns 0 or -1. */
int wsx__heap_reserve(wsx_heap *h, size_t n)
{
    if (n <= h->cap)
        return 0;
    if (n > UINT32_MAX / 2)
        return -1;
    uint32_t cap = h->cap ? h->cap : 64;
    while (cap < n)
        cap *= 2;
    wsx_io **v = realloc(h->v, cap * sizeof *v);
    if (!v)
        return -1;
    h->v = v;
    h->cap = cap;
    return 0;
}

int wsx__heap_join(wsx_heap *h, wsx_io *io)
{
    if (wsx__heap_reserve(h, (size_t)h->m + 1) < 0)
        return -1;
    io->deadline = WSX_NO_DEADLINE;
    place(h, h->m++, io);
    return 0;
}

void wsx__heap_leave(wsx_heap *h, wsx_io *io)
{
    wsx__heap_del(h, io);
    if (io->heap_idx == WSX_HEAP_NONE)
        return;
    if (--h->m != io->heap_idx)
        place(h, io->heap_idx, h->v[h->m]);
    io->heap_idx = WSX_HEAP_NONE;
}

/* Give io a new deadline (WSX_NO_DEADLINE: take it out), inserting it
 * when it is not in the heap yet; it goes after every entry already
 * holding the same deadline. Returns 0, or -1 when the array could not
 * grow (io stays out of the heap). */
int wsx__heap_set(wsx_heap *h, wsx_io *io, uint64_t deadline)
{
    if (deadline == WSX_NO_DEADLINE) {
        wsx__heap_del(h, io);
        return 0;
    }
    uint32_t i = io->heap_idx;
    if (i != WSX_HEAP_NONE && i < h->n) {
        io->deadline = deadline;
        io->seq = h->seq++;
        sift_up(h, i);
        sift_down(h, io->heap_idx);
        return 0;
    }
    if (i == WSX_HEAP_NONE) {
        /* A newcomer: the first of the tail moves to its end. */
        if (wsx__heap_reserve(h, (size_t)h->m + 1) < 0)
            return -1;
        if (h->m != h->n)
            place(h, h->m, h->v[h->n]);
        h->m++;
    } else if (i != h->n) {
        /* A member from the tail: it swaps with the tail's first. */
        place(h, i, h->v[h->n]);
    }
    io->deadline = deadline;
    io->seq = h->seq++;
    place(h, h->n++, io);
    sift_up(h, h->n - 1);
    return 0;
}

/* Take io out of the heap (nothing when it is not in it); a member
 * stays in the array. */
void wsx__heap_del(wsx_heap *h, wsx_io *io)
{
    if (io->heap_idx != WSX_HEAP_NONE && io->heap_idx < h->n)
        remove_at(h, io->heap_idx);
    io->deadline = WSX_NO_DEADLINE;
}

wsx_io *wsx__heap_top(const wsx_heap *h)
{
    return h->n ? h->v[0] : NULL;
}

void wsx__heap_free(wsx_heap *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->m = h->cap = 0;
}
