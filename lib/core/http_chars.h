/* http_chars.h - the byte classes of HTTP/1.1 syntax (RFC 9110 §5.6,
 * RFC 9112 §3), shared by the parser (what we accept) and the builders
 * (what we refuse to emit), so both agree on one definition. */
#ifndef WSX_HTTP_CHARS_H
#define WSX_HTTP_CHARS_H

#include <stdbool.h>
#include <stdint.h>

/* RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. Methods and
 * field names are tokens. */
static inline bool wsx_http_is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

/* RFC 9110 §5.5: field-content is VCHAR, obs-text, SP and HTAB; every
 * other control byte (NUL, CR, LF, DEL...) is refused, as it is what
 * request smuggling and header injection are made of. */
static inline bool wsx_http_is_field(uint8_t c)
{
    return (c >= 0x20 && c != 0x7f) || c == '\t';
}

/* RFC 9112 §3.2: a request-target holds no whitespace or control byte.
 * Bytes >= 0x80 are let through (clients do send raw UTF-8 paths); the
 * application decides what a target means. */
static inline bool wsx_http_is_target(uint8_t c)
{
    return c > 0x20 && c != 0x7f;
}

/* RFC 9110 §5.6.3: OWS = *( SP / HTAB ). */
static inline bool wsx_http_is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

#endif
