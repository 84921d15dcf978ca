/* auth.c - JWT sign-in for the chat (auth.h): tokens are verified and
 * minted by libjwt (RFC 7519, HS256 per RFC 7518 §3.2), never by hand;
 * the token travels as RFC 6750 says a bearer token may (header, query
 * parameter, or here also a cookie a browser sends by itself). */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CHAT_HAVE_JWT
#include <errno.h>
#include <strings.h>
#include <jwt.h>
#include <time.h>

/* Clocks of client and server differ a little (RFC 7519 §4.1.4). */
#define LEEWAY_S 30
#define LOGIN_TTL_S 3600
#define TOKEN_MAX 4096

struct chat_auth {
    unsigned char *key;
    int key_len;
};

/* The last refusal's WWW-Authenticate, per thread (chat --threads). */
static _Thread_local char header[160];

chat_auth *chat_auth_new(const char *secret, const char **why)
{
    chat_auth *a = calloc(1, sizeof *a);
    size_t n = strlen(secret);
    *why = "out of memory";
    if (!a || !(a->key = malloc(n ? n : 1))) {
        free(a);
        return NULL;
    }
    memcpy(a->key, secret, n);
    a->key_len = (int)n;
    return a;
}

void chat_auth_free(chat_auth *a)
{
    if (a) {
        free(a->key);
        free(a);
    }
}

/* The token as a C string in out (cap bytes); false when there is none. */
static bool find_token(const wsx_http_request *req, char *out, size_t cap)
{
    const wsx_header *h = wsx_http_find(req->headers, req->num_headers,
                                        "Authorization");
    const char *v;
    size_t n;
    /* RFC 6750 §2.1: "Bearer" (case-insensitive, RFC 9110 §11.1), a
     * space, the token. */
    if (h && h->value_len > 7 && !strncasecmp(h->value, "Bearer ", 7)) {
        v = h->value + 7;
        n = h->value_len - 7;
    } else if (wsx_http_query_param(req->target, req->target_len,
                                    "access_token", out, cap) > 0) {
        return true;
    } else if (wsx_http_cookie(req->headers, req->num_headers, "token", &v,
                               &n) < 0) {
        return false;
    }
    if (n == 0 || n >= cap)
        return false;
    memcpy(out, v, n);
    out[n] = 0;
    return true;
}

/* Why tok is not acceptable, or NULL with the nick filled. */
static const char *verify(chat_auth *a, const char *tok, char *nick)
{
    jwt_t *j = NULL;
    const char *why = NULL;
    /* Read the header unverified first, only to refuse any algorithm but
     * HS256 before the key is used: "none" and the others never pass. */
    if (jwt_decode(&j, tok, NULL, 0) != 0)
        return "malformed token";
    /* Decoded without a key, libjwt reports the algorithm as none: the
     * header's own word counts here. */
    const char *alg = jwt_get_header(j, "alg");
    bool hs256 = alg && !strcmp(alg, "HS256");
    jwt_free(j);
    j = NULL;
    if (!hs256)
        return "algorithm must be HS256";
    if (jwt_decode(&j, tok, a->key, a->key_len) != 0 ||
        jwt_get_alg(j) != JWT_ALG_HS256)
        why = "bad signature";
    long now = (long)time(NULL);
    if (!why) {
        errno = 0;
        long exp = jwt_get_grant_int(j, "exp");
        if (errno == ENOENT)
            why = "no exp claim";
        else if (now > exp + LEEWAY_S)
            why = "token expired";
    }
    if (!why) {
        errno = 0;
        long nbf = jwt_get_grant_int(j, "nbf");
        if (errno != ENOENT && now + LEEWAY_S < nbf)
            why = "token not yet valid";
    }
    if (!why) {
        const char *sub = jwt_get_grant(j, "sub");
        size_t n = sub ? strlen(sub) : 0;
        if (n == 0 || n > CHAT_NAME_MAX)
            why = "sub must be a nick of 1 to 64 bytes";
        else
            memcpy(nick, sub, n + 1);
    }
    jwt_free(j);
    return why;
}

int chat_auth_check(chat_auth *a, const wsx_http_request *req,
                    char nick[CHAT_NAME_MAX + 1], wsx_handshake_reply *reply)
{
    char tok[TOKEN_MAX];
    const char *why = find_token(req, tok, sizeof tok) ? verify(a, tok, nick)
                                                       : "";
    if (!why)
        return 0;
    /* RFC 6750 §3.1: a request without credentials gets no error code. */
    if (*why)
        snprintf(header, sizeof header,
                 "WWW-Authenticate: Bearer realm=\"chat\", "
                 "error=\"invalid_token\", error_description=\"%s\"\r\n",
                 why);
    else
        snprintf(header, sizeof header,
                 "WWW-Authenticate: Bearer realm=\"chat\"\r\n");
    reply->extra_headers = header;
    reply->body = *why ? why : "sign in first: POST /login?nick=NICK";
    reply->body_len = strlen(reply->body);
    return 401;
}

/* A token for nick, from libjwt; NULL when it cannot be made. */
static char *mint(chat_auth *a, const char *nick)
{
    jwt_t *j = NULL;
    char *tok = NULL;
    long now = (long)time(NULL);
    if (jwt_new(&j) == 0 && jwt_add_grant(j, "sub", nick) == 0 &&
        jwt_add_grant_int(j, "iat", now) == 0 &&
        jwt_add_grant_int(j, "exp", now + LOGIN_TTL_S) == 0 &&
        jwt_set_alg(j, JWT_ALG_HS256, a->key, a->key_len) == 0)
        tok = jwt_encode_str(j);
    jwt_free(j);
    return tok;
}

/* Loaded by the page after its own script (whose top-level names it
 * shares): a socket refused at load means "sign in first", so a join
 * posts /login (the HttpOnly cookie) and opens the WebSocket again. */
static const char login_js[] =
    "$('joinf').addEventListener('submit', async e => {\n"
    "  if (forced || (ws && ws.readyState === 1)) return;\n"
    "  e.stopImmediatePropagation(); e.preventDefault();\n"
    "  me = {room: $('room').value, nick: $('nick').value};\n"
    "  const r = await fetch('/login?nick=' + encodeURIComponent(me.nick),"
    " {method: 'POST'});\n"
    "  if (r.ok) { transport = 'ws'; tries = 0; start(); }\n"
    "}, true);\n";

int chat_auth_http(chat_auth *a, wsx_conn *c, const wsx_http_request *req,
                   char nick[CHAT_NAME_MAX + 1])
{
    size_t path_len, qlen;
    const char *q;
    nick[0] = '\0';
    wsx_http_target_split(req->target, req->target_len, &path_len, &q, &qlen);
    /* The fallback transports (fallback.c) reach the same rooms: the
     * same token is required. */
    if ((path_len == 7 && !memcmp(req->target, "/events", 7)) ||
        (path_len == 5 && (!memcmp(req->target, "/poll", 5) ||
                           !memcmp(req->target, "/send", 5)))) {
        wsx_handshake_reply r = {NULL, NULL, NULL, 0};
        if (chat_auth_check(a, req, nick, &r) == 0)
            return 0; /* nick: the token's */
        nick[0] = '\0';
        wsx_http_respond(c, 401, "text/plain", r.extra_headers, r.body,
                         r.body_len);
        return 1;
    }
    if (path_len == 9 && !memcmp(req->target, "/login.js", 9)) {
        wsx_http_respond(c, 200, "text/javascript", NULL, login_js,
                         sizeof login_js - 1);
        return 1;
    }
    if (path_len != 6 || memcmp(req->target, "/login", 6))
        return 0;
    if (req->method_len != 4 || memcmp(req->method, "POST", 4)) {
        wsx_http_respond(c, 405, "text/plain", "Allow: POST\r\n",
                         "POST /login?nick=NICK\n", 22);
        return 1;
    }
    int n = wsx_http_query_param(req->target, req->target_len, "nick", nick,
                                 CHAT_NAME_MAX + 1);
    char *tok = n > 0 ? mint(a, nick) : NULL;
    if (!tok) {
        wsx_http_respond(c, 400, "text/plain", NULL,
                         "nick must be 1 to 64 bytes\n", 27);
        return 1;
    }
    char cookie[TOKEN_MAX + 128];
    snprintf(cookie, sizeof cookie,
             "Set-Cookie: token=%s; HttpOnly; SameSite=Strict; Path=/; "
             "Max-Age=%d\r\nCache-Control: no-store\r\n",
             tok, LOGIN_TTL_S);
    free(tok);
    wsx_http_respond(c, 200, "text/plain", cookie, "signed in\n", 10);
    return 1;
}

#else /* without libjwt: the option exists and says why it cannot work */

chat_auth *chat_auth_new(const char *secret, const char **why)
{
    (void)secret;
    *why = "built without libjwt (install libjwt-dev and rebuild)";
    return NULL;
}

void chat_auth_free(chat_auth *a)
{
    (void)a;
}

int chat_auth_check(chat_auth *a, const wsx_http_request *req,
                    char nick[CHAT_NAME_MAX + 1], wsx_handshake_reply *reply)
{
    (void)a;
    (void)req;
    (void)nick;
    (void)reply;
    return 401;
}

int chat_auth_http(chat_auth *a, wsx_conn *c, const wsx_http_request *req,
                   char nick[CHAT_NAME_MAX + 1])
{
    (void)a;
    (void)c;
    (void)req;
    nick[0] = '\0';
    return 0;
}
#endif
