/* stats.h - chat's live statistics page (/stats), drawn from /metrics. */
#ifndef CHAT_STATS_H
#define CHAT_STATS_H

#include <stdbool.h>

#include "wsx.h"

/* Answer GET /stats with the page and return true; false for any other
 * target (the caller answers it). */
bool chat_stats_http(wsx_conn *c, const wsx_http_request *req);

#endif
