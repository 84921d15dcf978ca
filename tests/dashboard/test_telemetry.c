/* test_telemetry - the dashboard's binary telemetry formats
 * (examples/dashboard/telemetry.h): exact little-endian bytes of a sample
 * and a batch head, round trips, and every way a sample is refused. */
#include <math.h>

#include "telemetry.h"
#include "test.h"


static telemetry_sample sample(void)
{
    telemetry_sample s = {0};
    s.id = 0x01020304 & (TELEMETRY_MAX_DEVICES - 1); /* 0x304 */
    s.ts_us = 0x1122334455667788ull;
    s.x = 1.0f;      /* 0x3f800000 */
    s.y = 500.5f;    /* 0x43fa4000 */
    s.speed = 12.25f;
    s.temp = -2.0f;  /* 0xc0000000 */
    s.alarm = true;
    return s;
}

/* The bytes are written in the documented order and byte order whatever
 * the host's: this is what a browser's DataView(..., true) reads. */
static void test_layout(void)
{
    telemetry_sample s = sample();
    uint8_t b[TELEMETRY_SAMPLE_SIZE];
    static const uint8_t want[TELEMETRY_SAMPLE_SIZE] = {
        1, 1, 0, 0,                                     /* version, flags */
        0x04, 0x03, 0, 0,                               /* id 0x304 */
        0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* timestamp */
        0x00, 0x00, 0x80, 0x3f,                         /* x 1.0 */
        0x00, 0x40, 0xfa, 0x43,                         /* y 500.5 */
        0x00, 0x00, 0x44, 0x41,                         /* speed 12.25 */
        0x00, 0x00, 0x00, 0xc0,                         /* temp -2.0 */
    };
    telemetry_encode(&s, b);
    CHECK(!memcmp(b, want, sizeof want));
    s.alarm = false;
    telemetry_encode(&s, b);
    CHECK_EQ(b[1], 0);
}

static void test_round_trip(void)
{
    uint64_t seed = 42;
    for (int i = 0; i < 1000; i++) {
        telemetry_sample s, d;
        uint8_t b[TELEMETRY_SAMPLE_SIZE];
        s.id = (uint32_t)(test_rand(&seed) % TELEMETRY_MAX_DEVICES);
        s.ts_us = test_rand(&seed);
        s.x = (float)(test_rand(&seed) % 100001) / 100;
        s.y = (float)(test_rand(&seed) % 100001) / 100;
        s.speed = (float)(test_rand(&seed) % 10001) / 100;
        s.temp = (float)(test_rand(&seed) % 25001) / 100 - 50;
        s.alarm = test_rand(&seed) & 1;
        telemetry_encode(&s, b);
        /* At a page end: decode reads no byte past the sample. */
        test_guard g = test_guard_copy(b, sizeof b);
        int r = telemetry_decode(g.data, sizeof b, &d);
        test_guard_free(&g);
        CHECK_EQ(r, 0);
        CHECK(d.id == s.id && d.ts_us == s.ts_us && d.x == s.x && d.y == s.y &&
              d.speed == s.speed && d.temp == s.temp && d.alarm == s.alarm);
    }
}

/* A sample with one 32-bit field at off replaced by v. */
static int decode_with32(size_t off, uint32_t v)
{
    telemetry_sample s = sample(), d;
    uint8_t b[TELEMETRY_SAMPLE_SIZE];
    telemetry_encode(&s, b);
    for (int i = 0; i < 4; i++)
        b[off + (size_t)i] = (uint8_t)(v >> (8 * i));
    return telemetry_decode(b, sizeof b, &d);
}

static void test_malformed(void)
{
    telemetry_sample s = sample(), d;
    uint8_t b[TELEMETRY_SAMPLE_SIZE + 1];
    telemetry_encode(&s, b);
    CHECK_EQ(telemetry_decode(b, sizeof b - 1, &d), 0);
    CHECK_EQ(telemetry_decode(b, 0, &d), TELEMETRY_ESIZE);
    CHECK_EQ(telemetry_decode(b, 31, &d), TELEMETRY_ESIZE);
    CHECK_EQ(telemetry_decode(b, 33, &d), TELEMETRY_ESIZE);
    b[0] = 2;
    CHECK_EQ(telemetry_decode(b, 32, &d), TELEMETRY_EVERSION);
    b[0] = 1;
    b[1] = 2;
    CHECK_EQ(telemetry_decode(b, 32, &d), TELEMETRY_EFLAGS);
    b[1] = 1;
    b[3] = 1;
    CHECK_EQ(telemetry_decode(b, 32, &d), TELEMETRY_EFLAGS);
    CHECK_EQ(decode_with32(4, TELEMETRY_MAX_DEVICES), TELEMETRY_ERANGE);
    CHECK_EQ(decode_with32(4, TELEMETRY_MAX_DEVICES - 1), 0);
    CHECK_EQ(decode_with32(16, 0x7fc00000), TELEMETRY_ERANGE); /* NaN x */
    CHECK_EQ(decode_with32(20, 0x447a4000), TELEMETRY_ERANGE); /* y 1001 */
    CHECK_EQ(decode_with32(24, 0xbf800000), TELEMETRY_ERANGE); /* speed -1 */
    CHECK_EQ(decode_with32(28, 0x7f800000), TELEMETRY_ERANGE); /* temp inf */
    CHECK_EQ(decode_with32(28, 0xc2480000), 0);                /* temp -50 */
    CHECK(strcmp(telemetry_strerror(TELEMETRY_ESIZE), "telemetry ok") != 0);
}

static void test_batch_head(void)
{
    telemetry_batch_head h = {2, 0xa1b2c3d4u, 200, 123456, 0x0102030405060708ull};
    telemetry_batch_head d;
    uint8_t b[TELEMETRY_BATCH_HEAD + 2 * TELEMETRY_SAMPLE_SIZE] = {0};
    static const uint8_t want[TELEMETRY_BATCH_HEAD] = {
        0x42, 1, 2, 0, 0xd4, 0xc3, 0xb2, 0xa1, 200, 0, 0, 0,
        0x40, 0xe2, 0x01, 0, 8, 7, 6, 5, 4, 3, 2, 1,
    };
    telemetry_batch_encode(&h, b);
    CHECK(!memcmp(b, want, sizeof want));
    CHECK_EQ(telemetry_batch_decode(b, sizeof b, &d), 0);
    CHECK(d.count == 2 && d.seq == h.seq && d.online == 200 &&
          d.received == 123456 && d.server_us == h.server_us);
    CHECK_EQ(telemetry_batch_decode(b, sizeof b - 1, &d), TELEMETRY_ESIZE);
    CHECK_EQ(telemetry_batch_decode(b, 23, &d), TELEMETRY_ESIZE);
    b[0] = 'A';
    CHECK_EQ(telemetry_batch_decode(b, sizeof b, &d), TELEMETRY_EVERSION);
}

int main(void)
{
    RUN(test_layout);
    RUN(test_round_trip);
    RUN(test_malformed);
    RUN(test_batch_head);
    return test_summary("test_telemetry");
}
