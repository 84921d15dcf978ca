/* tls_none.c - the TLS entry points of a build without TLS (make TLS=0):
 * programs link and run the same, and every attempt at TLS fails with a
 * sentence that says why. */
#include <stdio.h>

#include "wsx_tls.h"

static const char no_tls[] = "this build of wsx has no TLS (built with TLS=0)";

int wsx_tls_new(const wsx_tls_opts *o, wsx_tls **out, char *why, size_t why_len)
{
    (void)o;
    (void)out;
    if (why && why_len)
        snprintf(why, why_len, "%s", no_tls);
    return WSX_ETLS;
}

void wsx_tls_free(wsx_tls *t)
{
    (void)t; /* wsx_tls_new never made one */
}

int wsx_tls_clone(const wsx_tls *t, wsx_tls **out, char *why, size_t why_len)
{
    (void)t;
    return wsx_tls_new(NULL, out, why, why_len);
}

int wsx_tls_reload(wsx_tls *t, char *why, size_t why_len)
{
    return wsx_tls_new(NULL, &t, why, why_len);
}

void wsx_tls_stats_get(const wsx_tls *t, wsx_tls_stats *out)
{
    (void)t;
    *out = (wsx_tls_stats){0, 0};
}

const char *wsx_tls_last_error(const wsx_tls *t)
{
    (void)t;
    return no_tls;
}

static int none_open(void *ctx, int fd, bool client, const char *server_name,
                     void **st)
{
    (void)ctx;
    (void)fd;
    (void)client;
    (void)server_name;
    (void)st;
    return WSX_ETLS;
}

/* open always fails, so no other entry is ever reached. */
const wsx_stream_ops wsx_stream_tls = {
    "none", none_open, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
};
