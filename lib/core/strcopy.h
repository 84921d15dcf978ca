/* strcopy.h - keeping a set of optional C strings in one allocation (a
 * client connection's request settings, a TLS context's file names):
 * size them with wsx__str_size, then copy each with wsx__str_keep. */
#ifndef WSX_STRCOPY_H
#define WSX_STRCOPY_H

#include <string.h>

/* Bytes s takes with its NUL; 0 for NULL. */
static inline size_t wsx__str_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copy s to *area and advance it; NULL stays NULL. */
static inline const char *wsx__str_keep(char **area, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = memcpy(*area, s, n);
    *area += n;
    return d;
}

#endif
