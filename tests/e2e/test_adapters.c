/* test_adapters - the loop's internal parts without sockets: the deadline
 * heap against a brute-force reference under random operations (setting
 * no deadline takes an entry out; equal deadlines leave in the order they
 * were set; sockets stay listed in the array without one), and ws:// URL
 * parsing (RFC 6455 §3) from a table. */
#include "loop_internal.h"
#include "test.h"


#define N 500

/* Sockets (a third of the entries) are members of the array from join
 * to leave, in the heap part only while they have a deadline; the others
 * only while they have one. */
static void test_heap_random(void)
{
    static wsx_io io[N];
    static bool joined[N];
    wsx_heap h = {NULL, 0, 0, 0, 0};
    uint64_t seed = 7;
    for (int i = 0; i < N; i++) {
        io[i].heap_idx = WSX_HEAP_NONE;
        io[i].deadline = WSX_NO_DEADLINE;
        io[i].kind = i % 3 == 0 ? WSX_IO_SOCK : WSX_IO_TIMER;
    }
    int bad_top = 0, bad_idx = 0;
    for (int step = 0; step < 20000; step++) {
        int k = (int)(test_rand(&seed) % N);
        wsx_io *x = &io[k];
        uint64_t r = test_rand(&seed) % 12;
        if (x->kind == WSX_IO_SOCK && !joined[k]) {
            CHECK_EQ(wsx__heap_join(&h, x), 0);
            joined[k] = true;
        } else if (x->kind == WSX_IO_SOCK && r == 11) {
            wsx__heap_leave(&h, x);
            joined[k] = false;
        } else if (r == 0) {
            wsx__heap_del(&h, x);
        } else {
            CHECK_EQ(wsx__heap_set(&h, x, r == 1 ? WSX_NO_DEADLINE
                                                : test_rand(&seed) % 1000), 0);
        }
        /* The top is the minimum of a brute-force scan; every entry is
         * where its index says, in the heap part exactly when it has a
         * deadline, and in the array when it has one or is a member. */
        const wsx_io *min = NULL;
        uint32_t in = 0, all = 0;
        for (int i = 0; i < N; i++) {
            bool timed = io[i].deadline != WSX_NO_DEADLINE;
            bool there = io[i].heap_idx != WSX_HEAP_NONE;
            bad_idx += there != (timed || joined[i]);
            if (!there)
                continue;
            all++;
            bad_idx += io[i].heap_idx >= h.m || h.v[io[i].heap_idx] != &io[i];
            bad_idx += (io[i].heap_idx < h.n) != timed;
            if (!timed)
                continue;
            in++;
            if (!min || io[i].deadline < min->deadline ||
                (io[i].deadline == min->deadline && io[i].seq < min->seq))
                min = &io[i];
        }
        bad_top += in != h.n || all != h.m || wsx__heap_top(&h) != min;
    }
    CHECK_EQ(bad_top, 0);
    CHECK_EQ(bad_idx, 0);
    CHECK(h.n > N / 3);
    CHECK(h.m > h.n);
    /* Draining yields sorted deadlines, equal ones in order of setting;
     * members stay in the array. */
    uint64_t last = 0, last_seq = 0;
    int unsorted = 0;
    while (wsx__heap_top(&h)) {
        wsx_io *t = wsx__heap_top(&h);
        unsorted += t->deadline < last ||
                    (t->deadline == last && t->seq < last_seq);
        last = t->deadline;
        last_seq = t->seq;
        wsx__heap_del(&h, t);
        unsorted += (t->heap_idx != WSX_HEAP_NONE) != (t->kind == WSX_IO_SOCK && joined[t - io]);
    }
    CHECK_EQ(unsorted, 0);
    CHECK_EQ(h.n, 0);
    uint32_t members = 0;
    for (int i = 0; i < N; i++)
        members += joined[i];
    CHECK_EQ(h.m, members);
    for (int i = 0; i < N; i++)
        if (joined[i])
            wsx__heap_leave(&h, &io[i]);
    CHECK_EQ(h.m, 0);
    wsx__heap_free(&h);
}

static void test_urls(void)
{
    static const struct {
        const char *url;
        int ret;
        const char *host, *port, *hostport, *target;
    } t[] = {
        {"ws://example.com/chat", 0, "example.com", "80", "example.com", "/chat"},
        {"ws://example.com", 0, "example.com", "80", "example.com", "/"},
        {"ws://h:9001/a/b?x=1&y", 0, "h", "9001", "h:9001", "/a/b?x=1&y"},
        {"ws://h?q=1", 0, "h", "80", "h", "/?q=1"}, /* RFC 6455 §3 */
        {"ws://127.0.0.1:80/", 0, "127.0.0.1", "80", "127.0.0.1", "/"},
        {"ws://[::1]:8080/x", 0, "::1", "8080", "[::1]:8080", "/x"},
        {"ws://[::1]", 0, "::1", "80", "[::1]", "/"},
        {"wss://h/", 0, "h", "443", "h", "/"},
        {"wss://h:443/x", 0, "h", "443", "h", "/x"},
        {"wss://h:80/", 0, "h", "80", "h:80", "/"},
        {"wsx://h/", WSX_EINVAL, 0, 0, 0, 0},
        {"http://h/", WSX_EINVAL, 0, 0, 0, 0},
        {"ws://", WSX_EINVAL, 0, 0, 0, 0},
        {"ws://:80/", WSX_EINVAL, 0, 0, 0, 0},
        {"ws://h:/", WSX_EINVAL, 0, 0, 0, 0},
        {"ws://h:0/", WSX_EINVAL, 0, 0, 0, 0},
        {"ws://h:65536/", WSX_EINVAL, 0, 0, 0, 0},
        {"ws://h:123456/", WSX_EINVAL, 0, 0, 0, 0},
        {"ws://h/#frag", WSX_EINVAL, 0, 0, 0, 0}, /* RFC 6455 §3 */
        {"ws://[::1/", WSX_EINVAL, 0, 0, 0, 0},
        {"ws://h:80x/", WSX_EINVAL, 0, 0, 0, 0},
        {"ws://h/a b", WSX_EINVAL, 0, 0, 0, 0},
        {"ws://h/a\r\nX-Injected: 1", WSX_EINVAL, 0, 0, 0, 0},
        {"ws://h\r\nX: 1/", WSX_EINVAL, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        wsx_url u;
        int r = wsx__url_parse(&u, t[i].url);
        CHECK_EQ(r, t[i].ret);
        if (r != 0)
            continue;
        CHECK(strcmp(u.host, t[i].host) == 0);
        CHECK(strcmp(u.port, t[i].port) == 0);
        CHECK(strcmp(u.hostport, t[i].hostport) == 0);
        CHECK(strcmp(u.target, t[i].target) == 0);
    }
    char longhost[300] = "ws://";
    memset(longhost + 5, 'a', 280);
    wsx_url u;
    CHECK_EQ(wsx__url_parse(&u, longhost), WSX_EINVAL);
    CHECK_EQ(wsx__url_parse(&u, NULL), WSX_EINVAL);
}

int main(void)
{
    RUN(test_heap_random);
    RUN(test_urls);
    return test_summary("adapters");
}
