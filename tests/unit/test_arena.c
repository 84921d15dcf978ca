/* test_arena.c - the fixed-arena allocator (wsx_arena_init): argument
 * checks, exhaustion, in-place growth and shrinking, and long random
 * malloc/realloc/free runs checked for alignment, bounds, overlap and
 * content, ending with everything coalesced back into one block. */
#include "test.h"

#define ARENA_BYTES (64 * 1024)
#define SLOTS 96

static uint64_t arena_mem[ARENA_BYTES / 8];

typedef struct slot {
    uint8_t *p;
    size_t n;
    uint8_t tag;
} slot;

/* The largest single allocation the arena can serve right now. */
static size_t largest(const wsx_allocator *a)
{
    size_t lo = 0, hi = ARENA_BYTES;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        void *p = a->malloc(mid, a->user);
        if (p) {
            a->free(p, mid, a->user);
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

static bool content_ok(const slot *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->p[i] != (uint8_t)(s->tag + i))
            return false;
    return true;
}

static void paint(slot *s, uint8_t tag)
{
    s->tag = tag;
    for (size_t i = 0; i < s->n; i++)
        s->p[i] = (uint8_t)(tag + i);
}

/* Alignment, bounds, pairwise overlap and content of every live block. */
static long audit(const slot *s, size_t n)
{
    const uint8_t *lo = (const uint8_t *)arena_mem, *hi = lo + sizeof arena_mem;
    long bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (!s[i].p)
            continue;
        bad += (uintptr_t)s[i].p % 8 != 0;
        bad += s[i].p < lo || s[i].p + s[i].n > hi;
        bad += !content_ok(&s[i]);
        for (size_t j = i + 1; j < n; j++)
            if (s[j].p && s[i].p < s[j].p + (s[j].n ? s[j].n : 1) &&
                s[j].p < s[i].p + (s[i].n ? s[i].n : 1))
                bad++;
    }
    return bad;
}

static void test_init(void)
{
    wsx_allocator a;
    CHECK_EQ(wsx_arena_init(&a, NULL, 1024), WSX_EINVAL);
    CHECK_EQ(wsx_arena_init(&a, (uint8_t *)arena_mem + 4, 1024), WSX_EINVAL);
    CHECK_EQ(wsx_arena_init(&a, arena_mem, 8), WSX_EINVAL);
    CHECK_EQ(wsx_arena_init(&a, arena_mem, 64), 0);
    void *p = a.malloc(1, a.user);
    CHECK(p != NULL);
    a.free(p, 1, a.user);
    a.free(NULL, 0, a.user);
}

static void test_exhaustion(void)
{
    wsx_allocator a;
    CHECK_EQ(wsx_arena_init(&a, arena_mem, sizeof arena_mem), 0);
    size_t max = largest(&a);
    /* Bookkeeping costs a few words, not a fraction of the arena. */
    CHECK(max >= sizeof arena_mem - 64);
    CHECK(a.malloc(max + 1, a.user) == NULL);
    CHECK(a.malloc(SIZE_MAX, a.user) == NULL);
    CHECK(a.malloc(SIZE_MAX - 7, a.user) == NULL);
    void *whole = a.malloc(max, a.user);
    CHECK(whole != NULL);
    CHECK(a.malloc(1, a.user) == NULL);
    a.free(whole, max, a.user);
    /* Small blocks until it is full, then all freed in a scattered order. */
    static void *ptrs[ARENA_BYTES / 8];
    size_t n = 0;
    while ((ptrs[n] = a.malloc(24, a.user)) != NULL)
        n++;
    CHECK(n > 1000);
    for (size_t stride = 0; stride < 7; stride++)
        for (size_t i = stride; i < n; i += 7)
            a.free(ptrs[i], 24, a.user);
    CHECK_EQ(largest(&a), max);
}

static void test_realloc_in_place(void)
{
    wsx_allocator a;
    CHECK_EQ(wsx_arena_init(&a, arena_mem, sizeof arena_mem), 0);
    size_t max = largest(&a);
    slot s = {a.malloc(100, a.user), 100, 0};
    paint(&s, 3);
    uint8_t *b = a.malloc(100, a.user);
    a.free(b, 100, a.user);
    /* The freed neighbour is absorbed: same pointer, content kept. */
    uint8_t *q = a.realloc(s.p, 100, 180, a.user);
    CHECK(q == s.p);
    CHECK(content_ok(&s));
    /* Shrinking keeps the pointer and gives the tail back. */
    q = a.realloc(s.p, 180, 16, a.user);
    CHECK(q == s.p);
    s.n = 16;
    CHECK(content_ok(&s));
    CHECK(largest(&a) >= max - 64);
    /* A request that cannot be met leaves the block as it was. */
    CHECK(a.realloc(s.p, 16, max + 1, a.user) == NULL);
    CHECK(content_ok(&s));
    /* realloc(NULL) allocates; growing past a neighbour moves and copies. */
    uint8_t *c = a.realloc(NULL, 0, 32, a.user);
    CHECK(c != NULL);
    q = a.realloc(s.p, 16, 4000, a.user);
    CHECK(q != NULL && q != s.p);
    s.p = q;
    CHECK(content_ok(&s));
    a.free(c, 32, a.user);
    a.free(s.p, 4000, a.user);
    CHECK_EQ(largest(&a), max);
}

static void test_random(void)
{
    wsx_allocator a;
    CHECK_EQ(wsx_arena_init(&a, arena_mem, sizeof arena_mem), 0);
    size_t max = largest(&a);
    slot s[SLOTS] = {{0}};
    uint64_t seed = 12345;
    long bad = 0, fails = 0;
    for (long op = 0; op < 200000; op++) {
        uint64_t r = test_rand(&seed);
        slot *t = &s[r % SLOTS];
        /* Mostly small blocks, sometimes big ones to force exhaustion. */
        size_t n = (r >> 20) % 16 ? (size_t)((r >> 8) % 600)
                                   : (size_t)((r >> 8) % 9000);
        if (!t->p) {
            t->p = a.malloc(n, a.user);
            if (!t->p) {
                fails++;
                continue;
            }
            t->n = n;
            paint(t, (uint8_t)(r >> 40));
        } else if ((r >> 30) % 3 == 0) {
            bad += !content_ok(t);
            a.free(t->p, t->n, a.user);
            t->p = NULL;
        } else {
            uint8_t *q = a.realloc(t->p, t->n, n, a.user);
            if (!q) {
                fails++;
                bad += !content_ok(t);
                continue;
            }
            slot kept = {q, n < t->n ? n : t->n, t->tag};
            bad += !content_ok(&kept);
            t->p = q;
            t->n = n;
            paint(t, (uint8_t)(r >> 40));
        }
        if (op % 1000 == 0)
            bad += audit(s, SLOTS);
    }
    bad += audit(s, SLOTS);
    CHECK_EQ(bad, 0);
    CHECK(fails > 0); /* the run really did reach exhaustion */
    for (size_t i = 0; i < SLOTS; i++)
        if (s[i].p)
            a.free(s[i].p, s[i].n, a.user);
    CHECK_EQ(largest(&a), max);
}

int main(void)
{
    RUN(test_init);
    RUN(test_exhaustion);
    RUN(test_realloc_in_place);
    RUN(test_random);
    return test_summary("test_arena");
}
