/* auth.h - sign-in for the chat (--jwt-secret): the WebSocket upgrade must
 * carry an HS256 JWT whose "sub" becomes the member's nick, and
 * POST /login?nick=NICK hands a browser such a token as a cookie. Built
 * with libjwt when pkg-config finds it; without it chat_auth_new fails. */
#ifndef CHAT_AUTH_H
#define CHAT_AUTH_H

#include "room.h"
#include "wsx.h"

typedef struct chat_auth chat_auth;

/* NULL when out of memory or when the chat was built without libjwt
 * (*why says which). */
chat_auth *chat_auth_new(const char *secret, const char **why);
void chat_auth_free(chat_auth *a);

/* on_handshake: find the token (Authorization: Bearer, the access_token
 * query parameter, or the `token` cookie, in that order) and verify it:
 * signature, alg exactly HS256, exp required and nbf optional, both with
 * 30 s of leeway, sub of 1..CHAT_NAME_MAX bytes. Returns 0 with the nick
 * in nick, or 401 with *reply holding WWW-Authenticate (RFC 6750 §3) and
 * a one-line body (valid until the next call). */
int chat_auth_check(chat_auth *a, const wsx_http_request *req,
                    char nick[CHAT_NAME_MAX + 1], wsx_handshake_reply *reply);

/* on_http: serve /login.js (the page's sign-in step); answer
 * POST /login?nick=NICK with 200 and a token for NICK valid one hour, as
 * an HttpOnly SameSite=Strict cookie named `token` (the page's script
 * never sees it; other sites cannot send it); and refuse /events, /poll
 * and /send (the fallback transports) with 401 without a valid token.
 * Returns 1 when it answered, else 0; for a fallback request that carries
 * a valid token, 0 with the token's nick in nick (else nick is ""): the
 * session is that nick's, whatever the query says. */
int chat_auth_http(chat_auth *a, wsx_conn *c, const wsx_http_request *req,
                   char nick[CHAT_NAME_MAX + 1]);

#endif
