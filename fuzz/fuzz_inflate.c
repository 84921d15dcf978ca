/* fuzz_inflate.c - libFuzzer target for wsx's streaming inflater (RFC 1951
 * §3.2). Input: one header byte (window bits 8..15, output limit), then a
 * raw DEFLATE stream. It is decoded whole and again in input-chosen
 * pieces (one byte at a time included): both runs must agree on the
 * verdict, the bytes consumed and every output byte; output never passes
 * the limit and comes in window-sized chunks at most; errors are sticky;
 * every allocation is freed. The piecewise run uses the fast loop built
 * for the baseline CPU, the whole one the build the CPU picks (BMI2 on
 * x86-64 where present), so the two builds are checked against each
 * other. Built with -DWSX_FUZZ_ZLIB (and -lz), a 15-bit run is also
 * checked against zlib's inflate. */
#include <stdbool.h>

#include "fuzz_util.h"
#include "inflate_int.h"
#include "wsx_deflate.h"
#ifdef WSX_FUZZ_ZLIB
#include <zlib.h>
#endif

typedef struct out {
    uint64_t hash;
    size_t n, max_chunk;
} out;

static int collect(void *ctx, const uint8_t *p, size_t n)
{
    out *o = ctx;
    o->hash = fz_hash(p, n, o->hash);
    o->n += n;
    if (n > o->max_chunk)
        o->max_chunk = n;
    return 0;
}

typedef struct result {
    int r;
    bool finished;
    size_t used;
    out o;
} result;

/* Decode data whole (rng NULL) or in pieces chosen by rng. */
static result decode(const uint8_t *data, size_t size, int wbits, uint64_t limit,
                     fz_rng *rng)
{
    fz_alloc fa = {0};
    wsx_allocator a = fz_allocator(&fa, 0);
    wsx_inflater *s = wsx_inflater_new(&a, wbits);
    WSX_FUZZ_CHECK(s);
    s->baseline = rng != NULL;
    wsx_inflater_set_limit(s, limit);
    result res = {0, false, 0, {FZ_HASH0, 0, 0}};
    size_t off = 0;
    while (off < size) {
        size_t k = size - off;
        if (rng && k > 1)
            k = fz_one_in(rng, 4) ? 1 : 1 + fz_below(rng, k < 300 ? k : 300);
        uint8_t *piece = fz_dup(data + off, k); /* exact size: over-reads fault */
        size_t used = 0;
        res.r = wsx_inflater_run(s, piece, k, &used, collect, &res.o);
        free(piece);
        if (res.r)
            break;
        if (wsx_inflater_finished(s)) {
            WSX_FUZZ_CHECK(used <= k);
            off += used;
            res.finished = true;
            break;
        }
        WSX_FUZZ_CHECK(used == k);
        off += k;
    }
    res.used = off;
    WSX_FUZZ_CHECK(res.r == 0 || res.r == WSX_EPROTO || res.r == WSX_ETOOBIG);
    WSX_FUZZ_CHECK(res.o.max_chunk <= ((size_t)1 << wbits));
    WSX_FUZZ_CHECK(!limit || res.o.n <= limit);
    WSX_FUZZ_CHECK(wsx_inflater_at_boundary(s) || !res.finished);
    /* Sticky errors; a finished stream takes nothing more. */
    out dummy = {FZ_HASH0, 0, 0};
    size_t used = 99;
    static const uint8_t more[4] = {0, 0, 0xff, 0xff};
    int again = wsx_inflater_run(s, more, sizeof more, &used, collect, &dummy);
    if (res.r)
        WSX_FUZZ_CHECK(again == res.r);
    else if (res.finished)
        WSX_FUZZ_CHECK(again == 0 && used == 0 && dummy.n == 0);
    wsx_inflater_free(s);
    WSX_FUZZ_CHECK(fa.live_blocks == 0);
    return res;
}

#ifdef WSX_FUZZ_ZLIB
/* zlib as the oracle at a 15-bit window, where its notion of "too far
 * back" equals wsx's. wsx may reject a hopeless stream earlier than zlib
 * (an empty code-length code, say), never later and never a valid one. */
static void differential(const uint8_t *data, size_t size, const result *w)
{
    z_stream z;
    uint8_t buf[65536];
    out o = {FZ_HASH0, 0, 0};
    memset(&z, 0, sizeof z);
    WSX_FUZZ_CHECK(inflateInit2(&z, -15) == Z_OK);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)size;
    int r;
    do {
        z.next_out = buf;
        z.avail_out = sizeof buf;
        r = inflate(&z, Z_NO_FLUSH);
        collect(&o, buf, sizeof buf - z.avail_out);
        /* A full output buffer may hide more output: call again. */
    } while (r == Z_OK && o.n <= w->o.n + sizeof buf && (z.avail_in || !z.avail_out));
    size_t used = size - z.avail_in;
    inflateEnd(&z);
    if (w->r == WSX_ETOOBIG)
        return;
    if (r == Z_STREAM_END) {
        WSX_FUZZ_CHECK(w->r == 0 && w->finished && w->used == used);
        WSX_FUZZ_CHECK(w->o.n == o.n && w->o.hash == o.hash);
    } else if (r == Z_DATA_ERROR) {
        WSX_FUZZ_CHECK(w->r == WSX_EPROTO);
    } else if (w->r == 0) {
        WSX_FUZZ_CHECK(!w->finished && w->o.n == o.n && w->o.hash == o.hash);
    }
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    int wbits = 8 + (data[0] & 7);
    /* Output limits from 1 KiB to 16 MiB; the largest keeps bombs cheap. */
    uint64_t limit = (uint64_t)1 << (10 + ((data[0] >> 3) % 15));
    fz_rng rng = {fz_hash(data, size, FZ_HASH0)};
    data++;
    size--;
    result whole = decode(data, size, wbits, limit, NULL);
    result split = decode(data, size, wbits, limit, &rng);
    /* Where pieces end, pending output is emitted, so a limit can be
     * reported before a later data error that a whole run meets first. */
    if (whole.r != split.r)
        WSX_FUZZ_CHECK(whole.r == WSX_EPROTO && split.r == WSX_ETOOBIG);
    if (!whole.r && !split.r) {
        WSX_FUZZ_CHECK(whole.finished == split.finished && whole.used == split.used);
        WSX_FUZZ_CHECK(whole.o.n == split.o.n && whole.o.hash == split.o.hash);
    }
#ifdef WSX_FUZZ_ZLIB
    if (wbits == 15 && limit == (uint64_t)1 << 24)
        differential(data, size, &whole);
#endif
    return 0;
}
