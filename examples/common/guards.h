/* guards.h - the flood guards every example server offers, as options:
 * per-connection quotas (wsx_config) and per-address admission limits
 * (wsx_loop_opts). Each program sets its own defaults (README: "Guards")
 * and lets these options change them. Public headers only. */
#ifndef WSX_EXAMPLES_GUARDS_H
#define WSX_EXAMPLES_GUARDS_H

#include "cli.h"
#include "wsx.h"
#include "wsx_loop.h"

/* The options' lines for a program's usage text. */
#define CLI_GUARDS_USAGE                                                      \
    "  --message-rate N[:BURST]   data messages a second per connection\n"    \
    "  --byte-rate N[:BURST]      payload bytes a second per connection\n"    \
    "  --control-rate N[:BURST]   pings and pongs a second per connection\n"  \
    "  --max-fragments N          frames per message (1008 above)\n"          \
    "  --quota-policy close|throttle  over a rate: close 1008, or slow down\n" \
    "  --max-conns N              connections in total\n"                     \
    "  --max-conns-per-addr N     connections per IPv4 address / IPv6 /64\n"  \
    "  --handshake-rate N[:BURST] new connections a second per address\n"     \
    "  --origin ORIGIN            allow this Origin (repeat; *.host.tld\n"    \
    "                             suffixes too); others get 403\n"            \
    "                             (each N: 0 means unlimited)\n"

/* Defaults for the echo server (a benchmark and conformance target:
 * throttle, never close) and for the chat (humans typing: close). The
 * README's "Guards" section says why each value. */
void cli_guards_echo(wsx_config *cfg, wsx_loop_opts *lo);
void cli_guards_chat(wsx_config *cfg, wsx_loop_opts *lo);

/* Consume the current argument when it is one of the options above and
 * return 1, else return 0; a bad value exits 2 with the usage. */
int cli_guards_option(cli *c, wsx_config *cfg, wsx_loop_opts *lo);

#endif
