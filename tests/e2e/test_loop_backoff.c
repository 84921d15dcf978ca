/* test_loop_backoff.c - the reconnect policy (wsx_loop.h): its wait
 * (wsx_backoff_delay), full jitter over [0, min(cap, base * 2^n)] for a
 * deterministic random source, at the bounds, past the shift width, with
 * a cap below the base; and a real loop retrying a refused port until
 * max_tries, on_close saying "will retry" then "gave up". */
#include "e2e.h"


static void test_defaults(void)
{
    wsx_reconnect p;
    wsx_reconnect_init(&p);
    CHECK_EQ(p.size, sizeof p);
    CHECK_EQ(p.base_ms, 250);
    CHECK_EQ(p.cap_ms, 30000);
    CHECK_EQ(p.max_tries, 0);
    CHECK(p.on_attempt == NULL);
}

static void test_ceiling_doubles_then_caps(void)
{
    wsx_reconnect p;
    wsx_reconnect_init(&p);
    /* rnd = ceiling gives the ceiling itself; ceiling + 1 wraps to 0. */
    static const uint32_t ceil[] = {250, 500, 1000, 2000, 4000, 8000, 16000,
                                    30000, 30000, 30000};
    for (unsigned n = 0; n < sizeof ceil / sizeof ceil[0]; n++) {
        CHECK_EQ(wsx_backoff_delay(&p, n, ceil[n]), ceil[n]);
        CHECK_EQ(wsx_backoff_delay(&p, n, ceil[n] + 1), 0);
        CHECK_EQ(wsx_backoff_delay(&p, n, 0), 0);
    }
    /* Far past the shift width: still the cap, no overflow. */
    CHECK_EQ(wsx_backoff_delay(&p, 31, 30000), 30000);
    CHECK_EQ(wsx_backoff_delay(&p, 64, 30000), 30000);
    CHECK_EQ(wsx_backoff_delay(&p, 1000, UINT32_MAX), UINT32_MAX % 30001);
    p.cap_ms = 100; /* a cap below the base wins */
    CHECK_EQ(wsx_backoff_delay(&p, 0, 100), 100);
    CHECK_EQ(wsx_backoff_delay(&p, 0, 101), 0);
}

/* A seeded source: every wait within its ceiling, and spread over it
 * (full jitter, not "ceiling/2 + jitter"): both halves get hits. */
static void test_full_jitter_spread(void)
{
    wsx_reconnect p;
    wsx_reconnect_init(&p);
    uint64_t seed = 42;
    for (unsigned n = 0; n < 8; n++) {
        uint32_t c = p.cap_ms;
        if (n < 32 && (p.base_ms << n) < c)
            c = p.base_ms << n;
        int low = 0, high = 0, over = 0;
        for (int i = 0; i < 1000; i++) {
            uint32_t d = wsx_backoff_delay(&p, n, (uint32_t)test_rand(&seed));
            over += d > c;
            low += d < c / 2;
            high += d >= c / 2;
        }
        CHECK_EQ(over, 0);
        CHECK(low > 400 && high > 400);
    }
}

typedef struct tries {
    int closes, attempts, retries;
    bool last_retry;
    wsx_loop *loop;
} tries;

static void rc_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    tries *t = user;
    CHECK_EQ(ci->error, WSX_ECONNREFUSED);
    t->last_retry = wsx_loop_will_retry(c);
    t->retries += t->last_retry;
    t->closes++;
}

static int rc_attempt(wsx_loop *l, unsigned attempt, uint32_t delay_ms,
                      void *user)
{
    tries *t = user;
    CHECK(delay_ms <= 40);
    /* The first connect failed too: the retries are tries 2 and 3. */
    CHECK_EQ(attempt, (unsigned)t->attempts + 2);
    (void)l;
    t->attempts++;
    return 0;
}

static void test_gives_up_after_max_tries(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", ntohs(a.sin_port));
    tries t = {0};
    t.loop = wsx_loop_new(NULL);
    wsx_callbacks cb;
    wsx_callbacks_init(&cb);
    cb.on_close = rc_close;
    wsx_reconnect p;
    wsx_reconnect_init(&p);
    p.base_ms = 10;
    p.cap_ms = 40;
    p.max_tries = 3;
    p.on_attempt = rc_attempt;
    wsx_connect_opts o;
    wsx_connect_opts_init(&o);
    o.url = url; /* bound, never listening: every connect is refused */
    o.callbacks = &cb;
    o.user = &t;
    o.reconnect = &p;
    int r = wsx_loop_connect(t.loop, &o, NULL);
    if (r == WSX_ECONNREFUSED) { /* refused at once: nothing to retry */
        CHECK_EQ(t.closes, 0);
    } else {
        CHECK_EQ(r, 0);
        wsx_loop_run(t.loop); /* returns once the policy gave up */
        CHECK_EQ(t.closes, 3);
        CHECK_EQ(t.attempts, 2);
        CHECK_EQ(t.retries, 2);
        CHECK(!t.last_retry);
    }
    wsx_loop_free(t.loop);
    close(fd);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_ceiling_doubles_then_caps);
    RUN(test_full_jitter_spread);
    RUN(test_gives_up_after_max_tries);
    return test_summary("backoff");
}
