/* error.c - the library version and the names and messages of the WSX_E*
 * codes, all generated from the one WSX_ERRNO_MAP table in wsx.h so the
 * enum, wsx_strerror() and wsx_errname() can never disagree. */
#include "wsx.h"

const char *wsx_version(void)
{
    return WSX_VERSION_STRING;
}

const char *wsx_strerror(int err)
{
    switch (err) {
#define WSX_ERR_MSG_(name, val, msg)                                          \
    case (val):                                                               \
        return msg;
        WSX_ERRNO_MAP(WSX_ERR_MSG_)
#undef WSX_ERR_MSG_
    default:
        return "unknown error";
    }
}

const char *wsx_errname(int err)
{
    switch (err) {
#define WSX_ERR_NAME_(name, val, msg)                                         \
    case (val):                                                               \
        return "WSX_E" #name;
        WSX_ERRNO_MAP(WSX_ERR_NAME_)
#undef WSX_ERR_NAME_
    default:
        return "WSX_EUNKNOWN";
    }
}
