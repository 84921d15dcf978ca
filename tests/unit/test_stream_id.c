/* test_stream_id.c - the chat's event ids (examples/chat/stream_id.c):
 * Redis stream ids read strictly (no sign, no space, no overflow, nothing
 * after), ordered by both parts, and the "id" member added to an event
 * without touching the rest of it. */
#include "test.h"

#include "../../examples/chat/stream_id.c"

static void test_parse(void)
{
    static const struct {
        const char *in;
        int ok;
        uint64_t ms, seq;
    } v[] = {
        {"0-0", 1, 0, 0},
        {"1700000000000-3", 1, 1700000000000u, 3},
        {"42", 1, 42, 0},
        {"18446744073709551615-18446744073709551615", 1, UINT64_MAX, UINT64_MAX},
        {"18446744073709551616-0", 0, 0, 0}, /* ms overflows */
        {"1-18446744073709551616", 0, 0, 0}, /* seq overflows */
        {"", 0, 0, 0},
        {"-1", 0, 0, 0},
        {"1-", 0, 0, 0},
        {"1--2", 0, 0, 0},
        {"1-2-3", 0, 0, 0},
        {"+1-2", 0, 0, 0},
        {" 1-2", 0, 0, 0},
        {"1-2 ", 0, 0, 0},
        {"12a", 0, 0, 0},
        {"yesterday", 0, 0, 0},
        {"$", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        stream_id id = {7, 7};
        int r = stream_id_parse(v[i].in, strlen(v[i].in), &id);
        CHECK_EQ(r == 0, v[i].ok);
        if (v[i].ok) {
            CHECK(id.ms == v[i].ms && id.seq == v[i].seq);
        } else {
            CHECK(id.ms == 7 && id.seq == 7); /* unchanged on failure */
        }
    }
    /* The length bounds the read: "12-34" cut after "12-3". */
    stream_id id;
    CHECK_EQ(stream_id_parse("12-34", 4, &id), 0);
    CHECK(id.ms == 12 && id.seq == 3);
}

static void test_order_and_format(void)
{
    stream_id a = {5, 9}, b = {6, 0}, c = {6, 1};
    CHECK(stream_id_cmp(a, b) < 0 && stream_id_cmp(b, a) > 0);
    CHECK(stream_id_cmp(b, c) < 0 && stream_id_cmp(c, c) == 0);
    char s[STREAM_ID_MAX];
    stream_id max = {UINT64_MAX, UINT64_MAX}, back;
    stream_id_format(max, s);
    CHECK(!strcmp(s, "18446744073709551615-18446744073709551615"));
    CHECK_EQ(stream_id_parse(s, strlen(s), &back), 0);
    CHECK_EQ(stream_id_cmp(back, max), 0);
}

static void test_stamp(void)
{
    stream_id id = {1700000000000u, 2};
    size_t n = 0;
    const char *ev = "{\"type\":\"say\",\"text\":\"}\"}";
    char *s = stream_id_stamp(ev, strlen(ev), id, &n);
    const char *want = "{\"type\":\"say\",\"text\":\"}\",\"id\":\"1700000000000-2\"}";
    CHECK(s && !strcmp(s, want) && n == strlen(want));
    free(s);
    s = stream_id_stamp("{}", 2, id, &n);
    CHECK(s && !strcmp(s, "{\"id\":\"1700000000000-2\"}") && n == strlen(s));
    free(s);
    /* Not an object: refused rather than made into bad JSON. */
    CHECK(!stream_id_stamp("[1]", 3, id, &n));
    CHECK(!stream_id_stamp("{", 1, id, &n));
    CHECK(!stream_id_stamp("", 0, id, &n));
}

int main(void)
{
    RUN(test_parse);
    RUN(test_order_and_format);
    RUN(test_stamp);
    return test_summary("test_stream_id");
}
