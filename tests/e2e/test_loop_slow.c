/* test_loop_slow - a client that stops reading: the server stops reading
 * it too (read_pause), so its memory stays bounded near that mark instead
 * of queueing every echo; when the client reads again, every byte of
 * every echo arrives, in order. */
#include "e2e.h"


#define MSG (64 * 1024)
#define COUNT 400 /* 25 MiB each way */
#define PAUSE (256 * 1024)

static test_alloc counted;

static void server_echo(wsx_conn *c, const wsx_message *m, void *user)
{
    (void)user;
    wsx_send(c, m->opcode, m->data, m->len);
}

static void fill(uint8_t *p, int i)
{
    for (size_t k = 0; k < MSG; k++)
        p[k] = (uint8_t)(i * 7 + k);
}

typedef struct reader {
    int fd, ok;
} reader;

static void *read_all(void *arg)
{
    reader *r = arg;
    static uint8_t got[MSG], want[MSG];
    wsx_frame_header h;
    usleep(500 * 1000); /* the writer blocks meanwhile */
    for (int i = 0; i < COUNT; i++) {
        fill(want, i);
        if (raw_read_frame(r->fd, &h, got, sizeof got) != MSG ||
            h.opcode != WSX_BINARY || memcmp(got, want, MSG) != 0)
            break;
        r->ok++;
    }
    return NULL;
}

/* Phase 1: a reader that stops is paused; phase 2: a slow reader that
 * reads gets every byte; phase 3: a quiet connection gives its buffers
 * back. */
static void test_slow_reader(void)
{
    static uint8_t msg[MSG];
    e2e_server s;
    wsx_loop_opts lo;
    memset(&s, 0, sizeof s);
    wsx_loop_opts_init(&lo);
    lo.read_pause = PAUSE;
    wsx_config_init(&s.cfg, WSX_SERVER);
    s.cfg.alloc = test_allocator(&counted);
    wsx_callbacks_init(&s.cb);
    s.cb.on_message = server_echo;
    CHECK_EQ(e2e_server_start(&s, &lo, NULL), 0);

    int small = 16 * 1024;
    int fd = raw_connect(s.port);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    CHECK_EQ(raw_handshake(fd), 101);

    /* Phase 1: write without reading until a send stalls for 200 ms (it
     * may leave a torn frame: this connection is then dropped). */
    struct timeval tv = {0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int sent = 0;
    while (sent < COUNT) {
        fill(msg, sent);
        if (raw_send_frame(fd, WSX_BINARY, msg, MSG, true) < 0)
            break;
        sent++;
    }
    CHECK(sent < COUNT); /* backpressure reached the client */
    fprintf(stderr, "loop_slow: client blocked after %d of %d messages; "
            "server peak %zu bytes\n", sent, COUNT, counted.peak_bytes);
    /* The echo queue stays near read_pause; allocation rounds capacity up
     * to a power of two, and one partial message is being assembled. */
    CHECK(counted.peak_bytes < 2 * (PAUSE + 4 * MSG) + 2 * MSG);
    close(fd);

    /* Phase 2: a slow reader that reads again gets every byte. */
    fd = raw_connect(s.port);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    CHECK_EQ(raw_handshake(fd), 101);
    reader r = {fd, 0};
    pthread_t th;
    int wrote = 0;
    pthread_create(&th, NULL, read_all, &r);
    for (; wrote < COUNT; wrote++) {
        fill(msg, wrote);
        if (raw_send_frame(fd, WSX_BINARY, msg, MSG, true) < 0)
            break;
    }
    CHECK_EQ(wrote, COUNT);
    pthread_join(th, NULL);
    CHECK_EQ(r.ok, COUNT);
    close(fd);

    /* Phase 3: once quiet, a connection gives its buffers back. */
    fd = raw_connect(s.port);
    CHECK_EQ(raw_handshake(fd), 101);
    CHECK_EQ(raw_send_frame(fd, WSX_TEXT, "ping", 4, true), 0);
    wsx_frame_header h;
    CHECK_EQ(raw_read_frame(fd, &h, msg, sizeof msg), 4);
    CHECK(e2e_wait_conns(&s, 1, 2000));
    usleep(1300 * 1000);
    e2e_server_conns(&s); /* a round trip through the server's loop */
    fprintf(stderr, "loop_slow: an idle connection holds %zu bytes in %ld "
            "blocks\n", counted.live_bytes, counted.live);
    CHECK_EQ(counted.live, 1); /* just the wsx_conn */
    CHECK(counted.live_bytes < 512);
    close(fd);
    e2e_server_stop(&s);
    CHECK_EQ(counted.live, 0); /* nothing leaked by either connection */
    fprintf(stderr, "loop_slow: server peak %zu bytes after both phases\n",
            counted.peak_bytes);
    CHECK(counted.peak_bytes < 2 * (PAUSE + 4 * MSG) + 2 * MSG);
}

int main(void)
{
    e2e_watchdog(120);
    RUN(test_slow_reader);
    return test_summary("loop_slow");
}
