/* pmd_params.c - the parameters of a permessage-deflate element (RFC 7692
 * §7.1) with token or quoted-string values, and formatting of an element;
 * the element list itself is the core's (RFC 6455 §9.1, wsx_http_list_next). */
#include <string.h>

#include "../core/http_chars.h"
#include "pmd.h"

/* The token and whitespace classes are the core's (lib/core/http_chars.h),
 * so the two layers agree on one HTTP grammar; the list of elements is
 * split by wsx_http_list_next. */
static bool is_tchar(char c)
{
    return wsx_http_is_tchar((uint8_t)c);
}

static size_t skip_ows(const char *v, size_t len, size_t i)
{
    while (i < len && wsx_http_is_ows((uint8_t)v[i]))
        i++;
    return i;
}

static size_t token_end(const char *v, size_t len, size_t i)
{
    while (i < len && is_tchar(v[i]))
        i++;
    return i;
}

static bool name_is(const char *s, size_t n, const char *name)
{
    if (strlen(name) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != name[i])
            return false;
    }
    return true;
}

/* RFC 7692 §7.1.2.1: "1*DIGIT" without leading zeros, 8 to 15. */
static int window_bits(const char *v, size_t n)
{
    if (n == 1 && (v[0] == '8' || v[0] == '9'))
        return v[0] - '0';
    if (n == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
        return 10 + (v[1] - '0');
    return 0;
}

/* A parameter value: a token, or a quoted-string whose content (after
 * quoted-pair unescaping) must itself be a token (RFC 7692 §7.1). The
 * unescaped value goes to buf (cap bytes); *n is set to cap + 1 when it
 * does not fit. Returns the index after the value, or 0 when malformed. */
static size_t read_value(const char *v, size_t len, size_t i, char *buf,
                         size_t cap, size_t *n)
{
    *n = 0;
    if (i < len && v[i] == '"') {
        for (i++; i < len && v[i] != '"'; i++) {
            if (v[i] == '\\' && ++i == len)
                return 0;
            if (!is_tchar(v[i]))
                return 0;
            if (*n < cap)
                buf[*n] = v[i];
            if (*n <= cap)
                (*n)++;
        }
        return i < len && *n ? i + 1 : 0;
    }
    size_t stop = token_end(v, len, i);
    if (stop == i)
        return 0;
    *n = stop - i > cap ? cap + 1 : stop - i;
    memcpy(buf, v + i, *n > cap ? cap : *n);
    return stop;
}

int wsx__pmd_parse(const char *e, size_t len, bool offer, wsx_pmd_params *p)
{
    size_t i = skip_ows(e, len, 0), stop = token_end(e, len, i);
    if (stop == i)
        return WSX_EEXT;
    if (!name_is(e + i, stop - i, WSX_PMD_NAME))
        return 0;
    memset(p, 0, sizeof *p);
    for (i = skip_ows(e, len, stop); i < len; i = skip_ows(e, len, i)) {
        if (e[i] != ';')
            return WSX_EEXT;
        i = skip_ows(e, len, i + 1);
        size_t ns = i;
        i = token_end(e, len, i);
        if (i == ns)
            return WSX_EEXT;
        const char *name = e + ns;
        size_t nlen = i - ns, vlen = 0;
        bool has_value = false;
        char val[4];
        i = skip_ows(e, len, i);
        if (i < len && e[i] == '=') {
            i = read_value(e, len, skip_ows(e, len, i + 1), val, sizeof val, &vlen);
            if (!i)
                return WSX_EEXT;
            has_value = true;
        }
        int bits = has_value ? window_bits(val, vlen) : 0;
        bool *flag = NULL;
        int *wb = NULL;
        if (name_is(name, nlen, "server_no_context_takeover"))
            flag = &p->server_no_context_takeover;
        else if (name_is(name, nlen, "client_no_context_takeover"))
            flag = &p->client_no_context_takeover;
        else if (name_is(name, nlen, "server_max_window_bits"))
            wb = &p->server_max_window_bits;
        else if (name_is(name, nlen, "client_max_window_bits"))
            wb = &p->client_max_window_bits;
        else
            return WSX_EEXT; /* RFC 7692 §7.1: unknown parameter */
        if (flag) {
            /* RFC 7692 §7.1.1: these have no value; repeats decline. */
            if (*flag || has_value)
                return WSX_EEXT;
            *flag = true;
            continue;
        }
        if (*wb)
            return WSX_EEXT;
        if (has_value) {
            if (!bits)
                return WSX_EEXT;
            *wb = bits;
        } else if (offer && wb == &p->client_max_window_bits) {
            *wb = WSX_PMD_NOVALUE; /* RFC 7692 §7.1.2.2 */
        } else {
            return WSX_EEXT;
        }
    }
    return 1;
}

static bool append(char *out, size_t cap, size_t *n, const char *s)
{
    size_t l = strlen(s);
    if (cap - *n <= l)
        return false;
    memcpy(out + *n, s, l + 1);
    *n += l;
    return true;
}

static bool append_bits(char *out, size_t cap, size_t *n, const char *name,
                        int bits)
{
    char num[4] = {0};
    if (!bits)
        return true;
    if (!append(out, cap, n, name))
        return false;
    if (bits == WSX_PMD_NOVALUE)
        return true;
    num[0] = '=';
    if (bits >= 10) {
        num[1] = '1';
        num[2] = (char)('0' + bits - 10);
    } else {
        num[1] = (char)('0' + bits);
    }
    return append(out, cap, n, num);
}

int wsx__pmd_format(char *out, size_t cap, const wsx_pmd_params *p)
{
    size_t n = 0;
    if (!cap || !append(out, cap, &n, WSX_PMD_NAME) ||
        (p->server_no_context_takeover &&
         !append(out, cap, &n, "; server_no_context_takeover")) ||
        (p->client_no_context_takeover &&
         !append(out, cap, &n, "; client_no_context_takeover")) ||
        !append_bits(out, cap, &n, "; server_max_window_bits", p->server_max_window_bits) ||
        !append_bits(out, cap, &n, "; client_max_window_bits", p->client_max_window_bits))
        return WSX_ENOSPC;
    return (int)n;
}
