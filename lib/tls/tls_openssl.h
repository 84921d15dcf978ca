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
};

/* Record the reason of a failed connection from OpenSSL's error queue
 * (or verify_result when not X509_V_OK) in t->last_error, and clear the
 * queue. */
void wsx__tls_note(wsx_tls *t, long verify_result);

#endif
