/* tls_openssl.h - what the OpenSSL backend's two files share: the
 * context (wsx_tls, tls_openssl_ctx.c) and the per-connection stream
 * (tls_openssl_stream.c) that opens SSL objects from it. */
#ifndef WSX_TLS_OPENSSL_H
#define WSX_TLS_OPENSSL_H

#include <openssl/ssl.h>

#include "wsx_tls.h"

struct wsx_tls {
    wsx_tls_opts o;       /* strings point into strs */
    char *strs;           /* copies of o's file names */
    SSL_CTX *ctx;         /* what new connections use; replaced by reload */
    SSL_CTX **sni_ctx;    /* one per o.sni entry, same order */
    wsx_tls_sni_cert *sni; /* o.sni copied, names into strs */
    char last_error[256];
    wsx_tls_stats stats;
    struct {              /* client: a session to offer per server name */
        char *name;
        SSL_SESSION *sess;
    } sessions[WSX_TLS_CLIENT_SESSIONS];
    unsigned session_next; /* the slot a new name takes */
};

/* Client session cache (tls_openssl_ctx.c): keep sess (a reference the
 * cache now owns) as name's; take name's (the caller's reference now, or
 * NULL); drop them all. */
void wsx__tls_session_put(wsx_tls *t, const char *name, SSL_SESSION *sess);
SSL_SESSION *wsx__tls_session_take(wsx_tls *t, const char *name);
void wsx__tls_sessions_drop(wsx_tls *t);
/* SSL_CTX_sess_set_new_cb of a client context (tls_openssl_stream.c). */
int wsx__tls_on_new_session(SSL *ssl, SSL_SESSION *sess);

/* Record the reason of a failed connection from OpenSSL's error queue
 * (or verify_result when not X509_V_OK) in t->last_error, and clear the
 * queue. */
void wsx__tls_note(wsx_tls *t, long verify_result);

#endif
