/* tls_opts.c - the TLS options' defaults, the same for every backend
 * (and for a build without one), so a program's settings mean one thing. */
#include <string.h>

#include "wsx_tls.h"

void wsx_tls_opts_init_(wsx_tls_opts *o, wsx_role role, size_t size)
{
    memset(o, 0, sizeof *o);
    o->size = size;
    o->role = role;
    o->min_version = WSX_TLS_1_2;
    o->session_tickets = true;
}
