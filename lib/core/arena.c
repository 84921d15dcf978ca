/* arena.c - a fixed-arena allocator for firmware (wsx_arena_init): first
 * fit over an address-ordered free list, neighbours coalesced on free, all
 * bookkeeping inside the caller's memory, 8-byte aligned blocks. Like a
 * connection, an arena is used by one thread at a time. */
#include <stdint.h>
#include <string.h>

#include "wsx.h"

#define WSX_ARENA_ALIGN 8u
#define WSX_ARENA_ROUND(n)                                                    \
    (((n) + (WSX_ARENA_ALIGN - 1)) & ~(size_t)(WSX_ARENA_ALIGN - 1))

/* Every block starts with its size; only a free block uses `next`, which
 * then lies in what would be its payload. */
typedef struct arena_block {
    size_t size; /* whole block including the header, a multiple of 8 */
    struct arena_block *next; /* next free block, in address order */
} arena_block;

typedef struct arena {
    arena_block *free;
} arena;

#define WSX_ARENA_HDR WSX_ARENA_ROUND(sizeof(size_t))
#define WSX_ARENA_MIN WSX_ARENA_ROUND(sizeof(arena_block))

/* Block size for an n-byte request, or 0 when it cannot be represented. */
static size_t block_size(size_t n)
{
    if (n > SIZE_MAX - WSX_ARENA_HDR - WSX_ARENA_ALIGN)
        return 0;
    size_t need = WSX_ARENA_ROUND(n + WSX_ARENA_HDR);
    return need < WSX_ARENA_MIN ? WSX_ARENA_MIN : need;
}

static arena_block *block_of(void *p)
{
    return (arena_block *)((uint8_t *)p - WSX_ARENA_HDR);
}

static bool adjacent(const arena_block *a, const arena_block *b)
{
    return (const uint8_t *)a + a->size == (const uint8_t *)b;
}

/* Put b back on the free list in address order and merge it with the free
 * neighbours on either side, so freeing everything leaves one block. */
static void release(arena *a, arena_block *b)
{
    arena_block *prev = NULL, *next = a->free;
    while (next && (uintptr_t)next < (uintptr_t)b) {
        prev = next;
        next = next->next;
    }
    b->next = next;
    if (next && adjacent(b, next)) {
        b->size += next->size;
        b->next = next->next;
    }
    if (!prev) {
        a->free = b;
    } else if (adjacent(prev, b)) {
        prev->size += b->size;
        prev->next = b->next;
    } else {
        prev->next = b;
    }
}

/* Shrink b to `need` bytes when the rest can stand as a block of its own. */
static void trim(arena *a, arena_block *b, size_t need)
{
    if (b->size - need < WSX_ARENA_MIN)
        return;
    arena_block *rest = (arena_block *)((uint8_t *)b + need);
    rest->size = b->size - need;
    b->size = need;
    release(a, rest);
}

static void *arena_malloc(size_t n, void *user)
{
    arena *a = user;
    size_t need = block_size(n);
    if (!need)
        return NULL;
    for (arena_block **pp = &a->free; *pp; pp = &(*pp)->next) {
        arena_block *b = *pp;
        if (b->size < need)
            continue;
        if (b->size - need >= WSX_ARENA_MIN) {
            arena_block *rest = (arena_block *)((uint8_t *)b + need);
            rest->size = b->size - need;
            rest->next = b->next;
            *pp = rest;
            b->size = need;
        } else {
            *pp = b->next;
        }
        return (uint8_t *)b + WSX_ARENA_HDR;
    }
    return NULL;
}

static void arena_free(void *p, size_t size, void *user)
{
    (void)size; /* the block header knows better than the caller */
    if (p)
        release(user, block_of(p));
}

static void *arena_realloc(void *p, size_t old_size, size_t new_size,
                           void *user)
{
    (void)old_size;
    if (!p)
        return arena_malloc(new_size, user);
    arena *a = user;
    arena_block *b = block_of(p);
    size_t need = block_size(new_size);
    if (!need)
        return NULL;
    if (need <= b->size) {
        trim(a, b, need);
        return p;
    }
    /* Grow in place into a free block right after this one. */
    arena_block **pp = &a->free;
    while (*pp && (uintptr_t)*pp < (uintptr_t)b)
        pp = &(*pp)->next;
    arena_block *next = *pp;
    if (next && adjacent(b, next) && b->size + next->size >= need) {
        *pp = next->next;
        b->size += next->size;
        trim(a, b, need);
        return p;
    }
    void *q = arena_malloc(new_size, user);
    if (!q)
        return NULL;
    memcpy(q, p, b->size - WSX_ARENA_HDR);
    release(a, b);
    return q;
}

int wsx_arena_init(wsx_allocator *al, void *mem, size_t size)
{
    size_t hdr = WSX_ARENA_ROUND(sizeof(arena));
    if (!al || !mem || (uintptr_t)mem % WSX_ARENA_ALIGN ||
        size < hdr + WSX_ARENA_MIN)
        return WSX_EINVAL;
    arena *a = mem;
    arena_block *b = (arena_block *)((uint8_t *)mem + hdr);
    b->size = (size - hdr) & ~(size_t)(WSX_ARENA_ALIGN - 1);
    b->next = NULL;
    a->free = b;
    al->malloc = arena_malloc;
    al->realloc = arena_realloc;
    al->free = arena_free;
    al->user = a;
    return 0;
}
