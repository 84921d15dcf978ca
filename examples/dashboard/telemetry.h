/* telemetry.h - the dashboard's binary wire formats: one device sample
 * (device -> server) and the batch the server broadcasts to browsers every
 * tick (server -> browser). Plain bytes, little-endian, no padding, so a
 * browser reads them with DataView and a microcontroller with shifts.
 *
 * Device sample, 32 bytes, one per WebSocket binary message on /device:
 *   off size field
 *    0   1   version      TELEMETRY_VERSION (1)
 *    1   1   flags        bit 0: alarm raised; bits 1-7 must be 0
 *    2   2   reserved     must be 0
 *    4   4   device id    u32, 0 .. TELEMETRY_MAX_DEVICES-1
 *    8   8   timestamp    u64, microseconds since the Unix epoch when the
 *                         sample was taken (device clock; on one machine
 *                         the page subtracts it from its own clock to get
 *                         device-to-screen latency)
 *   16   4   x            f32, metres east in the 1000 x 1000 m yard
 *   20   4   y            f32, metres north, 0 .. 1000
 *   24   4   speed        f32, m/s, 0 .. 100
 *   28   4   temperature  f32, degrees Celsius, -50 .. 200
 * Anything else (another length, version, a flag or reserved bit set, an
 * id, coordinate, speed or temperature out of range, NaN) is malformed:
 * the server closes such a device with 1007 (invalid payload data); a
 * text message on /device is closed with 1003 (unsupported data).
 *
 * Batch, one binary message on /live per tick with the samples that
 * changed since the previous tick:
 *    0   1   kind         TELEMETRY_BATCH (0x42, 'B')
 *    1   1   version      TELEMETRY_VERSION
 *    2   2   count        u16, samples that follow
 *    4   4   sequence     u32, +1 per tick (a gap means a lost batch)
 *    8   4   online       u32, devices connected now
 *   12   4   received     u32, device samples received since start
 *   16   8   server time  u64, microseconds since the epoch at encoding
 *   24  32*count          samples, in the device layout above
 */
#ifndef TELEMETRY_H
#define TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    TELEMETRY_VERSION = 1,
    TELEMETRY_SAMPLE_SIZE = 32,
    TELEMETRY_BATCH = 0x42,
    TELEMETRY_BATCH_HEAD = 24,
    TELEMETRY_MAX_DEVICES = 4096,
    TELEMETRY_ALARM = 1
};

/* Why a sample was refused (telemetry_decode). */
enum {
    TELEMETRY_ESIZE = -1,    /* not TELEMETRY_SAMPLE_SIZE bytes */
    TELEMETRY_EVERSION = -2, /* unknown version */
    TELEMETRY_EFLAGS = -3,   /* reserved flag or field not zero */
    TELEMETRY_ERANGE = -4    /* id or a value out of range, or NaN */
};

typedef struct telemetry_sample {
    uint32_t id;
    uint64_t ts_us;
    float x, y, speed, temp;
    bool alarm;
} telemetry_sample;

typedef struct telemetry_batch_head {
    uint16_t count;
    uint32_t seq, online, received;
    uint64_t server_us;
} telemetry_batch_head;

/* Write s into out[0..TELEMETRY_SAMPLE_SIZE). */
void telemetry_encode(const telemetry_sample *s, uint8_t *out);
/* Read and check one sample: 0, or a TELEMETRY_E* code (s then undefined). */
int telemetry_decode(const uint8_t *p, size_t len, telemetry_sample *s);
/* A short English reason for a TELEMETRY_E* code (close reasons). */
const char *telemetry_strerror(int code);
/* Write a batch head into out[0..TELEMETRY_BATCH_HEAD). */
void telemetry_batch_encode(const telemetry_batch_head *h, uint8_t *out);
/* Read a batch head and check that len holds exactly its samples:
 * 0 or TELEMETRY_ESIZE / TELEMETRY_EVERSION. */
int telemetry_batch_decode(const uint8_t *p, size_t len,
                           telemetry_batch_head *h);

#endif
