/* fuzz_utf8.c - libFuzzer target for the streaming UTF-8 validator
 * (RFC 3629, RFC 6455 §8.1), differential against the one-code-point-at-
 * a-time reference in fuzz_util.h: same verdict, same open/complete end,
 * and the same failing byte, whole, at any split and at any alignment,
 * for every variant this build has (portable, auto, SIMD). */
#include "fuzz_util.h"
#include "utf8.h"

#define WSX_FUZZ_MAX_LEN 4096

static int validate_copy(wsx_utf8_fn fn, uint32_t *st, const uint8_t *p,
                         size_t n, size_t align)
{
    uint8_t *b = malloc(align + (n ? n : 1));
    int r;
    WSX_FUZZ_CHECK(b);
    if (n)
        memcpy(b + align, p, n);
    r = fn(st, b + align, n);
    free(b);
    return r;
}

static void check_variant(wsx_utf8_fn fn, const uint8_t *data, size_t size)
{
    fz_utf8 ref = {0, 0, 0, 0};
    fz_rng rng = {fz_hash(data, size, FZ_HASH0)};
    long fail = fz_utf8_check(&ref, data, size);
    size_t align = fz_below(&rng, 16);
    uint32_t st = WSX_UTF8_OK;
    int r = validate_copy(fn, &st, data, size, align);

    /* Whole input: the same verdict, and a valid input is complete
     * exactly when the reference has no sequence open. */
    WSX_FUZZ_CHECK((r == WSX_EUTF8) == (fail >= 0));
    WSX_FUZZ_CHECK(r == 0 || r == WSX_EUTF8);
    if (r == 0)
        WSX_FUZZ_CHECK((st == WSX_UTF8_OK) == (ref.need == 0));
    /* Fail fast, at the reference's byte: the prefix before it is still
     * valid, one byte more is not. */
    if (fail >= 0) {
        st = WSX_UTF8_OK;
        WSX_FUZZ_CHECK(validate_copy(fn, &st, data, (size_t)fail, align) == 0);
        st = WSX_UTF8_OK;
        WSX_FUZZ_CHECK(validate_copy(fn, &st, data, (size_t)fail + 1, align) ==
                       WSX_EUTF8);
    }
    /* Streaming: random pieces with the state carried across calls. The
     * piece holding the failing byte fails, no earlier one does, and at
     * every boundary before it the state says "between characters"
     * exactly when the reference does. */
    fz_utf8 part = {0, 0, 0, 0};
    st = WSX_UTF8_OK;
    for (size_t off = 0; off < size;) {
        size_t rem = size - off;
        size_t k = 1 + fz_below(&rng, fz_one_in(&rng, 2) && rem > 5 ? 5 : rem);
        int rk = validate_copy(fn, &st, data + off, k, fz_below(&rng, 16));
        long fk = fz_utf8_check(&part, data + off, k);
        WSX_FUZZ_CHECK((rk == WSX_EUTF8) == (fk >= 0));
        if (rk < 0) {
            WSX_FUZZ_CHECK((long)off + fk == fail);
            break;
        }
        WSX_FUZZ_CHECK((st == WSX_UTF8_OK) == (part.need == 0));
        off += k;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const wsx_utf8_variant *v;
    size_t n = wsx__utf8_variants(&v);
    for (size_t i = 0; i < n; i++)
        check_variant(v[i].fn, data, size);
    return 0;
}
