/* fuzz_conn_server.c - libFuzzer target for a whole server-role
 * connection: the opening request of RFC 6455 §4.2.1 and the frames of
 * §5 from a hostile client, at any split, through a flaky transport,
 * with the invariants of fuzz_conn.h checked all along. */
#include "fuzz_conn.h"

#define WSX_FUZZ_MAX_LEN 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_conn_run(WSX_SERVER, data, size);
}
