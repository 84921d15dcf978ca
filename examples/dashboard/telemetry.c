/* telemetry.c - encode and check the dashboard's little-endian telemetry
 * formats (layouts in telemetry.h). Byte by byte, so the result is the
 * same on any host byte order. */
#include "telemetry.h"

#include <math.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void putf(uint8_t *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, sizeof v); /* IEEE 754 binary32 on every host we build */
    put32(p, v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static float getf(const uint8_t *p)
{
    uint32_t v = get32(p);
    float f;
    memcpy(&f, &v, sizeof f);
    return f;
}

void telemetry_encode(const telemetry_sample *s, uint8_t *out)
{
    out[0] = TELEMETRY_VERSION;
    out[1] = s->alarm ? TELEMETRY_ALARM : 0;
    put16(out + 2, 0);
    put32(out + 4, s->id);
    put64(out + 8, s->ts_us);
    putf(out + 16, s->x);
    putf(out + 20, s->y);
    putf(out + 24, s->speed);
    putf(out + 28, s->temp);
}

/* NaN fails every comparison, so it is out of range too. */
static bool within(float v, float lo, float hi)
{
    return v >= lo && v <= hi;
}

int telemetry_decode(const uint8_t *p, size_t len, telemetry_sample *s)
{
    if (len != TELEMETRY_SAMPLE_SIZE)
        return TELEMETRY_ESIZE;
    if (p[0] != TELEMETRY_VERSION)
        return TELEMETRY_EVERSION;
    if ((p[1] & ~TELEMETRY_ALARM) || get16(p + 2))
        return TELEMETRY_EFLAGS;
    s->alarm = p[1] & TELEMETRY_ALARM;
    s->id = get32(p + 4);
    s->ts_us = get64(p + 8);
    s->x = getf(p + 16);
    s->y = getf(p + 20);
    s->speed = getf(p + 24);
    s->temp = getf(p + 28);
    if (s->id >= TELEMETRY_MAX_DEVICES || !within(s->x, 0, 1000) ||
        !within(s->y, 0, 1000) || !within(s->speed, 0, 100) ||
        !within(s->temp, -50, 200))
        return TELEMETRY_ERANGE;
    return 0;
}

const char *telemetry_strerror(int code)
{
    switch (code) {
    case TELEMETRY_ESIZE: return "telemetry sample must be 32 bytes";
    case TELEMETRY_EVERSION: return "unknown telemetry version";
    case TELEMETRY_EFLAGS: return "reserved telemetry bits set";
    case TELEMETRY_ERANGE: return "telemetry value out of range";
    default: return "telemetry ok";
    }
}

void telemetry_batch_encode(const telemetry_batch_head *h, uint8_t *out)
{
    out[0] = TELEMETRY_BATCH;
    out[1] = TELEMETRY_VERSION;
    put16(out + 2, h->count);
    put32(out + 4, h->seq);
    put32(out + 8, h->online);
    put32(out + 12, h->received);
    put64(out + 16, h->server_us);
}

int telemetry_batch_decode(const uint8_t *p, size_t len,
                           telemetry_batch_head *h)
{
    if (len < TELEMETRY_BATCH_HEAD)
        return TELEMETRY_ESIZE;
    if (p[0] != TELEMETRY_BATCH || p[1] != TELEMETRY_VERSION)
        return TELEMETRY_EVERSION;
    h->count = get16(p + 2);
    h->seq = get32(p + 4);
    h->online = get32(p + 8);
    h->received = get32(p + 12);
    h->server_us = get64(p + 16);
    if (len != TELEMETRY_BATCH_HEAD + (size_t)h->count * TELEMETRY_SAMPLE_SIZE)
        return TELEMETRY_ESIZE;
    return 0;
}
