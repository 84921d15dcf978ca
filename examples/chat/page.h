/* page.h - the chat's browser page (HTML and script in one string). */
#ifndef CHAT_PAGE_H
#define CHAT_PAGE_H

#include <stddef.h>

extern const char chat_page[];
extern const size_t chat_page_len;

#endif
