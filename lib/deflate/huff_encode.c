/* huff_encode.c - length-limited Huffman code construction for the
 * deflater: minimum-redundancy lengths computed in place (Moffat and
 * Katajainen, 1995), then lengths above the limit folded back while
 * keeping the Kraft sum exact, then canonical codes (RFC 1951 §3.2.2). */
#include <string.h>

#include "dfl_tables.h"
#include "huff_encode.h"

#define MAXSYM 288

/* Shell sort: n is at most 288, and keys are distinct. */
static void sort_keys(uint32_t *k, unsigned n)
{
    static const unsigned gaps[] = {132, 57, 23, 10, 4, 1};
    for (unsigned g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        unsigned gap = gaps[g];
        for (unsigned i = gap; i < n; i++) {
            uint32_t v = k[i];
            unsigned j = i;
            for (; j >= gap && k[j - gap] > v; j -= gap)
                k[j] = k[j - gap];
            k[j] = v;
        }
    }
}

/* a[0..n) holds weights in ascending order, n >= 2; on return a[i] is the
 * optimal code length of the i-th weight. Pass 1 pairs the two smallest
 * of leaves and internal nodes, storing each node's parent in place; pass
 * 2 turns parents into depths; pass 3 hands depths out to the leaves. */
static void minimum_redundancy(uint32_t *a, unsigned n)
{
    unsigned root = 0, leaf = 2, next;
    a[0] += a[1];
    for (next = 1; next < n - 1; next++) {
        if (leaf >= n || a[root] < a[leaf]) {
            a[next] = a[root];
            a[root++] = next;
        } else {
            a[next] = a[leaf++];
        }
        if (leaf >= n || (root < next && a[root] < a[leaf])) {
            a[next] += a[root];
            a[root++] = next;
        } else {
            a[next] += a[leaf++];
        }
    }
    a[n - 2] = 0;
    for (int i = (int)n - 3; i >= 0; i--)
        a[i] = a[a[i]] + 1;
    int avail = 1, used = 0, r = (int)n - 2, x = (int)n - 1;
    uint32_t depth = 0;
    while (avail > 0) {
        while (r >= 0 && a[r] == depth) {
            used++;
            r--;
        }
        while (avail > used) {
            a[x--] = depth;
            avail--;
        }
        avail = 2 * used;
        depth++;
        used = 0;
    }
}

void wsx__huff_lengths(const uint32_t *freq, unsigned n, unsigned maxbits,
                      uint8_t *lens)
{
    uint32_t key[MAXSYM], w[MAXSYM];
    unsigned m = 0, count[WSX_DFL_MAX_BITS + 1] = {0};
    memset(lens, 0, n);
    for (unsigned i = 0; i < n; i++)
        if (freq[i])
            key[m++] = freq[i] << 9 | i;
    /* Weight-1 stand-ins for unused symbols: they sort first and take the
     * longest codes. */
    for (unsigned i = 0; m < 2 && i < n; i++)
        if (!freq[i])
            key[m++] = 1u << 9 | i;
    if (m < 2) { /* only when n < 2 */
        if (m)
            lens[key[0] & 511u] = 1;
        return;
    }
    sort_keys(key, m);
    for (unsigned i = 0; i < m; i++)
        w[i] = key[i] >> 9;
    minimum_redundancy(w, m);
    for (unsigned i = 0; i < m; i++)
        count[w[i] < maxbits ? w[i] : maxbits]++;
    /* Folding long codes to maxbits over-subscribes the code; each round
     * drops one maxbits code and splits a shorter code into two one bit
     * longer, lowering the Kraft sum (in units of 2^-maxbits) by one. */
    uint32_t kraft = 0;
    for (unsigned len = 1; len <= maxbits; len++)
        kraft += count[len] << (maxbits - len);
    for (; kraft > (1u << maxbits); kraft--) {
        count[maxbits]--;
        for (unsigned len = maxbits - 1; len > 0; len--) {
            if (count[len]) {
                count[len]--;
                count[len + 1] += 2;
                break;
            }
        }
    }
    /* The rarest symbols take the longest codes. */
    unsigned i = 0;
    for (unsigned len = maxbits; len > 0; len--)
        for (unsigned k = 0; k < count[len]; k++)
            lens[key[i++] & 511u] = (uint8_t)len;
}

void wsx__huff_codes(const uint8_t *lens, unsigned n, uint16_t *codes)
{
    uint16_t count[WSX_DFL_MAX_BITS + 1] = {0}, next[WSX_DFL_MAX_BITS + 1];
    for (unsigned i = 0; i < n; i++)
        count[lens[i]]++;
    count[0] = 0;
    uint32_t code = 0;
    for (unsigned len = 1; len <= WSX_DFL_MAX_BITS; len++) {
        code = (code + count[len - 1]) << 1;
        next[len] = (uint16_t)code;
    }
    for (unsigned i = 0; i < n; i++)
        codes[i] = lens[i] ? (uint16_t)wsx__dfl_bitrev(next[lens[i]]++, lens[i]) : 0;
}
