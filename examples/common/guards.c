/* guards.c - parsing of the guard options shared by the example servers
 * (see guards.h): rates as "N" or "N:BURST", the quota policy, admission
 * limits and an Origin allow-list. */
#include "guards.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* "N" or "N:BURST", each 0..UINT32_MAX, digits only. */
static wsx_rate parse_rate(cli *c)
{
    const char *v = cli_value(c), *colon = strchr(v, ':');
    unsigned long long n = 0, b = 0;
    size_t digits = strspn(v, "0123456789");
    bool ok = digits > 0 && digits < 11;
    if (ok && colon) {
        size_t bd = strspn(colon + 1, "0123456789");
        ok = v + digits == colon && bd > 0 && bd < 11 && !colon[1 + bd];
        b = strtoull(colon + 1, NULL, 10);
    } else {
        ok = ok && !v[digits];
    }
    n = strtoull(v, NULL, 10);
    if (!ok || n > UINT32_MAX || b > UINT32_MAX)
        cli_fail(c, "a rate is N or N:BURST (whole numbers)");
    wsx_rate r = {(uint32_t)n, (uint32_t)b};
    return r;
}

static uint32_t parse_count(cli *c)
{
    return (uint32_t)cli_int(c, 0, UINT32_MAX);
}

/* The allow-list grows with each --origin; it lives as long as the
 * program (the config points to it). */
static void add_origin(cli *c, wsx_config *cfg)
{
    static const char **list;
    static size_t n;
    const char **grown = realloc(list, (n + 2) * sizeof *list);
    if (!grown)
        cli_fail(c, "out of memory");
    list = grown;
    list[n++] = cli_value(c);
    list[n] = NULL;
    cfg->origins = list;
}

int cli_guards_option(cli *c, wsx_config *cfg, wsx_loop_opts *lo)
{
    const char *a = c->arg;
    if (!strcmp(a, "--message-rate"))
        cfg->message_rate = parse_rate(c);
    else if (!strcmp(a, "--byte-rate"))
        cfg->byte_rate = parse_rate(c);
    else if (!strcmp(a, "--control-rate"))
        cfg->control_rate = parse_rate(c);
    else if (!strcmp(a, "--max-fragments"))
        cfg->max_fragments = parse_count(c);
    else if (!strcmp(a, "--max-conns"))
        lo->max_conns = parse_count(c);
    else if (!strcmp(a, "--max-conns-per-addr"))
        lo->max_conns_per_addr = parse_count(c);
    else if (!strcmp(a, "--handshake-rate"))
        lo->handshake_rate = parse_rate(c);
    else if (!strcmp(a, "--origin"))
        add_origin(c, cfg);
    else if (!strcmp(a, "--quota-policy")) {
        const char *v = cli_value(c);
        if (!strcmp(v, "close"))
            cfg->quota_policy = WSX_QUOTA_CLOSE;
        else if (!strcmp(v, "throttle"))
            cfg->quota_policy = WSX_QUOTA_THROTTLE;
        else
            cli_fail(c, "--quota-policy is close or throttle");
    } else
        return 0;
    return 1;
}

void cli_guards_echo(wsx_config *cfg, wsx_loop_opts *lo)
{
    cfg->guards = wsx_guards();
    /* Throttling only delays: no conformance case can fail on it, and a
     * flooder is slowed by TCP instead of taking the whole server. */
    cfg->quota_policy = WSX_QUOTA_THROTTLE;
    /* 1,000 pipelined messages and the benchmarks' tens of thousands a
     * second per connection pass; a client writing tiny frames in a
     * loop (millions a second) does not. */
    cfg->message_rate = (wsx_rate){20000, 40000};
    /* A 16 MiB message (the size limit) and 64 x 256 KiB written without
     * reading pass at once. */
    cfg->byte_rate = (wsx_rate){64u << 20, 64u << 20};
    cfg->control_rate = (wsx_rate){1000, 1000};
    /* The conformance suite sends 4 MiB in 64-byte and 64 KiB in 1-byte
     * fragments: exactly 65,536. */
    cfg->max_fragments = 65536;
    /* wsx-load opens hundreds of connections and handshakes as fast as it
     * can from one address: a cap on the total only. */
    lo->max_conns = 10000;
}

void cli_guards_chat(wsx_config *cfg, wsx_loop_opts *lo)
{
    cfg->guards = wsx_guards();
    /* Nobody types 20 lines a second: a client that does is a bot. */
    cfg->quota_policy = WSX_QUOTA_CLOSE;
    cfg->message_rate = (wsx_rate){20, 40};
    cfg->byte_rate = (wsx_rate){64u << 10, 256u << 10};
    /* Browsers ping rarely, if ever. */
    cfg->control_rate = (wsx_rate){10, 20};
    /* A 16 KiB chat line needs no more than a few frames. */
    cfg->max_fragments = 64;
    /* A household or office behind one address, a page reloading. */
    lo->max_conns = 10000;
    lo->max_conns_per_addr = 64;
    lo->handshake_rate = (wsx_rate){10, 30};
}
