/* sha1.h - internal: the SHA-1 block functions behind wsx_sha1_update
 * (FIPS 180-4 §6.1.2), exposed so tests can hold each one against the
 * FIPS vectors and the portable one, and benchmarks can time each one. */
#ifndef WSX_SHA1_H
#define WSX_SHA1_H

#include <stddef.h>
#include <stdint.h>

#include "wsx.h"

/* The x86 SHA extensions (SHA-NI) on x86-64 gcc/clang, behind a run-time
 * CPU check: no x86-64 baseline has them. Everywhere else, and on CPUs
 * (or emulators such as valgrind 3.19, whose synthetic CPUID does not
 * list SHA) without them, the portable rounds run. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define WSX_SHA1_SHANI 1
#endif

/* Hash n 64-byte blocks of p into the state h. */
typedef void (*wsx_sha1_blocks_fn)(uint32_t h[5], const uint8_t *p, size_t n);

typedef struct wsx_sha1_variant {
    const char *name;
    wsx_sha1_blocks_fn fn;
} wsx_sha1_variant;

void wsx__sha1_blocks_portable(uint32_t h[5], const uint8_t *p, size_t n);
#ifdef WSX_SHA1_SHANI
/* Call only when wsx__sha1_shani_usable() says so. */
void wsx__sha1_blocks_shani(uint32_t h[5], const uint8_t *p, size_t n);
bool wsx__sha1_shani_usable(void);
#endif

/* wsx_sha1_update and wsx_sha1_final with a given block function. */
void wsx__sha1_update_with(wsx_sha1 *s, const void *data, size_t len,
                           wsx_sha1_blocks_fn blocks);
void wsx__sha1_final_with(wsx_sha1 *s, uint8_t digest[20],
                          wsx_sha1_blocks_fn blocks);

/* Point *v at the variants this build has and this CPU can run, "auto"
 * (what wsx_sha1_update runs) among them; returns how many. */
size_t wsx__sha1_variants(const wsx_sha1_variant **v);

#endif
