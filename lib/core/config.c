/* config.c - defaults for wsx_config and wsx_callbacks, and the default
 * allocator. The size recorded by the init macros lets a later library
 * version tell which fields a caller compiled against. */
#include "wsx.h"

#include <string.h>

#ifndef WSX_NO_MALLOC
/* The core includes no <stdlib.h> (firmware builds may have none); C11
 * §7.1.4 allows declaring library functions directly. Build with
 * -DWSX_NO_MALLOC to drop them: cfg.alloc must then be set. */
void *malloc(size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);

static void *default_malloc(size_t n, void *u)
{
    (void)u;
    return malloc(n);
}

static void *default_realloc(void *p, size_t old, size_t n, void *u)
{
    (void)u;
    (void)old;
    return realloc(p, n);
}

static void default_free(void *p, size_t n, void *u)
{
    (void)u;
    (void)n;
    free(p);
}
#endif

void wsx_config_init_(wsx_config *cfg, size_t size, wsx_role role)
{
    wsx_config d;
    memset(&d, 0, sizeof d);
    d.size = size < sizeof d ? size : sizeof d;
    d.role = role;
    d.max_frame_size = 16u << 20;
    d.max_message_size = 16u << 20;
    d.max_header_size = 8192;
    d.handshake_timeout_ms = 10000;
    d.close_timeout_ms = 5000;
#ifndef WSX_NO_MALLOC
    d.alloc.malloc = default_malloc;
    d.alloc.realloc = default_realloc;
    d.alloc.free = default_free;
#endif
    memcpy(cfg, &d, d.size);
}

void wsx_callbacks_init_(wsx_callbacks *cb, size_t size)
{
    wsx_callbacks d;
    memset(&d, 0, sizeof d);
    d.size = size < sizeof d ? size : sizeof d;
    memcpy(cb, &d, d.size);
}
