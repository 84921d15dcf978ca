/* fuzz_conn_client.c - libFuzzer target for a whole client-role
 * connection: the server's 101 of RFC 6455 §4.2.2 (its accept key matches
 * the all-zero nonce the harness's random callback gives) and unmasked
 * frames of §5 from a hostile server, with the invariants of fuzz_conn.h. */
#include "fuzz_conn.h"

#define WSX_FUZZ_MAX_LEN 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_conn_run(WSX_CLIENT, data, size);
}
