/* fleet.c - the simulated devices (fleet.h): motion and temperature model,
 * one client connection per device, a 10 ms tick that moves the fleet
 * every 50 ms and sends each device's sample in its own slot of the
 * period, so the load (and the wait for the server's batch) is spread
 * evenly as with real, unsynchronised devices. */
#include "fleet.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "telemetry.h"
#include "wsx_loop.h"

#define TICK_MS 10
#define MOVE_TICKS 5 /* move every 50 ms */
#define RETRY_MS 1000

typedef struct device {
    fleet *f;
    wsx_conn *conn; /* NULL: not connected */
    bool open;
    uint64_t retry_at; /* CLOCK_MONOTONIC, ms */
    telemetry_sample s;
    float heading;     /* radians */
    float cruise;      /* m/s the driver aims for */
    int overheat;      /* moves left in an overheating episode */
} device;

struct fleet {
    char url[256];
    unsigned count, every; /* send every `every` ticks */
    unsigned long tick;
    uint64_t rng;
    wsx_loop *loop;
    wsx_timer *timer;
    pthread_t thread;
    wsx_callbacks cb;
    device *dev;
};

/* xorshift64*: plenty for a simulation, and no shared libc state. */
static double rnd(fleet *f)
{
    f->rng ^= f->rng >> 12;
    f->rng ^= f->rng << 25;
    f->rng ^= f->rng >> 27;
    return (double)((f->rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Advance one device by dt seconds: steer a little, bounce off the yard's
 * fence, approach the cruise speed; the engine warms with speed and an
 * overheating episode drives the temperature past the alarm line. */
static void move(device *d, float dt)
{
    fleet *f = d->f;
    telemetry_sample *s = &d->s;
    d->heading += (float)(rnd(f) - 0.5) * 0.6f;
    if (rnd(f) < 0.01)
        d->cruise = (float)(4 + rnd(f) * 22);
    s->speed += (d->cruise - s->speed) * 0.2f * dt * 5;
    s->speed = clampf(s->speed + (float)(rnd(f) - 0.5), 0, 40);
    float nx = s->x + cosf(d->heading) * s->speed * dt;
    float ny = s->y + sinf(d->heading) * s->speed * dt;
    if (nx < 5 || nx > 995)
        d->heading = 3.14159265f - d->heading;
    if (ny < 5 || ny > 995)
        d->heading = -d->heading;
    s->x = clampf(nx, 0, 1000);
    s->y = clampf(ny, 0, 1000);
    /* About one episode every 11 minutes per device: with 200 devices an
     * alarm every few seconds, a handful active at once. */
    if (d->overheat == 0 && rnd(f) < 0.0015 * dt)
        d->overheat = (int)((3 + rnd(f) * 7) / dt);
    float target = 55 + s->speed * 0.8f + (d->overheat ? 45 : 0);
    if (d->overheat)
        d->overheat--;
    s->temp = clampf(s->temp + (target - s->temp) * 0.08f +
                         (float)(rnd(f) - 0.5) * 0.6f, -50, 200);
    /* Hysteresis, so an alarm does not flicker at the line. */
    s->alarm = s->alarm ? s->temp > 92 : s->temp > 95;
}

static void on_open(wsx_conn *c, void *user)
{
    device *d = user;
    (void)c;
    d->open = true;
}

static void on_close(wsx_conn *c, const wsx_close_info *ci, void *user)
{
    device *d = user;
    (void)c;
    (void)ci;
    d->conn = NULL;
    d->open = false;
    d->retry_at = mono_ms() + RETRY_MS;
}

static void connect_device(device *d)
{
    wsx_connect_opts o;
    wsx_connect_opts_init(&o);
    o.url = d->f->url;
    o.connect_timeout_ms = 2000;
    o.callbacks = &d->f->cb;
    o.user = d;
    if (wsx_loop_connect(d->f->loop, &o, &d->conn) < 0) {
        d->conn = NULL;
        d->retry_at = mono_ms() + RETRY_MS;
    }
}

static void reconnect_due(fleet *f)
{
    uint64_t now = mono_ms();
    for (unsigned i = 0; i < f->count; i++)
        if (!f->dev[i].conn && now >= f->dev[i].retry_at)
            connect_device(&f->dev[i]);
}

/* Every TICK_MS on the fleet's loop: move the devices when it is time,
 * and send for those whose slot this tick is. */
static void tick(wsx_timer *t, void *user)
{
    fleet *f = user;
    uint8_t buf[TELEMETRY_SAMPLE_SIZE];
    (void)t;
    f->tick++;
    for (unsigned i = 0; i < f->count; i++) {
        device *d = &f->dev[i];
        if (f->tick % MOVE_TICKS == 0)
            move(d, MOVE_TICKS * TICK_MS / 1000.0f);
        if (!d->open || (f->tick + i) % f->every)
            continue;
        d->s.ts_us = wall_us();
        telemetry_encode(&d->s, buf);
        wsx_send(d->conn, WSX_BINARY, buf, sizeof buf);
    }
    reconnect_due(f);
}

/* Posted by fleet_stop: no more ticks, close every device (1001). */
static void shutdown_fleet(wsx_loop *l, void *arg)
{
    fleet *f = arg;
    wsx_timer_stop(f->timer);
    wsx_loop_shutdown(l);
}

/* The started timer keeps the loop running while no device is connected
 * (the server went away), so it dials again; only shutdown_fleet ends it. */
static void *run(void *arg)
{
    fleet *f = arg;
    reconnect_due(f);
    wsx_loop_run(f->loop);
    return NULL;
}

fleet *fleet_start(const char *url, unsigned count, unsigned hz)
{
    fleet *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->dev = calloc(count, sizeof *f->dev);
    f->loop = wsx_loop_new(NULL);
    f->timer = f->loop ? wsx_timer_new(f->loop, tick, f) : NULL;
    if (!f->dev || !f->timer || wsx_timer_start(f->timer, TICK_MS, TICK_MS) < 0)
        goto fail;
    strncpy(f->url, url, sizeof f->url - 1);
    f->count = count;
    f->every = 1000 / TICK_MS / hz ? 1000 / TICK_MS / hz : 1;
    f->rng = 0x9e3779b97f4a7c15ull ^ wall_us();
    wsx_callbacks_init(&f->cb);
    f->cb.on_open = on_open;
    f->cb.on_close = on_close;
    for (unsigned i = 0; i < count; i++) {
        device *d = &f->dev[i];
        d->f = f;
        d->s.id = i;
        d->s.x = (float)(50 + rnd(f) * 900);
        d->s.y = (float)(50 + rnd(f) * 900);
        d->heading = (float)(rnd(f) * 6.2831853);
        d->cruise = (float)(4 + rnd(f) * 22);
        d->s.speed = d->cruise;
        d->s.temp = 60;
    }
    if (pthread_create(&f->thread, NULL, run, f))
        goto fail;
    return f;
fail:
    wsx_timer_free(f->timer);
    if (f->loop)
        wsx_loop_free(f->loop);
    free(f->dev);
    free(f);
    return NULL;
}

void fleet_stop(fleet *f)
{
    if (!f)
        return;
    /* Posting allocates: retry rather than leave the thread running. */
    while (wsx_loop_post(f->loop, shutdown_fleet, f) < 0)
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    pthread_join(f->thread, NULL);
    wsx_timer_free(f->timer);
    wsx_loop_free(f->loop);
    free(f->dev);
    free(f);
}
