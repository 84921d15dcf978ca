/* tls_openssl_ctx.c - wsx_tls contexts over OpenSSL 3: the SSL_CTX that
 * connections are opened from (certificates, verification, ALPN
 * "http/1.1" per RFC 7301, SNI per RFC 6066 §3, TLS 1.2 minimum, tickets),
 * rebuilt from the same files by wsx_tls_reload, and the reason of the
 * last failure in words. */
#include "tls_openssl.h"
#include "../core/strcopy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

/* ALPN in wire format (RFC 7301 §3.1): a WebSocket upgrade is HTTP/1.1,
 * which is what browsers offer on a wss:// connection. */
static const unsigned char alpn_http11[] = "\x08http/1.1";
#define ALPN_LEN (sizeof alpn_http11 - 1)

/* Why something failed, from OpenSSL's error queue, which is emptied. */
static void why_openssl(char *why, size_t why_len, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    if (why && why_len)
        snprintf(why, why_len, "%s: %s", what, r ? r : "TLS library error");
    ERR_clear_error();
}

void wsx__tls_note(wsx_tls *t, long verify_result)
{
    if (verify_result != X509_V_OK) {
        snprintf(t->last_error, sizeof t->last_error,
                 "certificate verify failed: %s",
                 X509_verify_cert_error_string(verify_result));
        ERR_clear_error();
        return;
    }
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(t->last_error, sizeof t->last_error, "%s",
             r ? r : "unexpected end of the TLS stream");
    ERR_clear_error();
}

const char *wsx_tls_last_error(const wsx_tls *t)
{
    return t ? t->last_error : "";
}

static int alpn_select(SSL *ssl, const unsigned char **out,
                       unsigned char *outlen, const unsigned char *in,
                       unsigned inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    unsigned char *sel;
    if (SSL_select_next_proto(&sel, outlen, alpn_http11, ALPN_LEN, in,
                              inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK; /* a client that offers no http/1.1
                                        still gets its upgrade answered */
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* "*.example.com" covers exactly one label left of example.com. */
static bool name_matches(const char *pattern, const char *name)
{
    if (pattern[0] == '*' && pattern[1] == '.') {
        const char *dot = strchr(name, '.');
        return dot && dot != name && !strcasecmp(dot, pattern + 1);
    }
    return !strcasecmp(pattern, name);
}

static int on_servername(SSL *ssl, int *alert, void *arg)
{
    (void)alert;
    wsx_tls *t = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    for (size_t i = 0; name && i < t->o.sni_count; i++) {
        if (name_matches(t->sni[i].name, name)) {
            SSL_set_SSL_CTX(ssl, t->sni_ctx[i]);
            break;
        }
    }
    return SSL_TLSEXT_ERR_OK;
}

static int load_cert(SSL_CTX *ctx, const char *cert, const char *key,
                     char *why, size_t why_len)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        why_openssl(why, why_len, cert);
        return WSX_ETLS;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        why_openssl(why, why_len, key);
        return WSX_ETLS;
    }
    return 0;
}

/* Whom the peer's certificate must chain to, and whether one is asked
 * for at all. */
static int set_verify(wsx_tls *t, SSL_CTX *ctx, char *why, size_t why_len)
{
    const wsx_tls_opts *o = &t->o;
    if (o->role == WSX_CLIENT && o->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return 0;
    }
    if (o->role == WSX_SERVER && o->client_auth == WSX_TLS_CLIENT_AUTH_NONE)
        return 0;
    int ok = o->ca_file ? SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL)
                        : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        why_openssl(why, why_len, o->ca_file ? o->ca_file : "system CA store");
        return WSX_ETLS;
    }
    int mode = SSL_VERIFY_PEER;
    if (o->role == WSX_SERVER) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->ca_file);
        if (!names) {
            why_openssl(why, why_len, o->ca_file);
            return WSX_ETLS;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        if (o->client_auth == WSX_TLS_CLIENT_AUTH_REQUIRED)
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(ctx, mode, NULL);
    return 0;
}

/* One SSL_CTX with every setting of t and the certificate cert/key (none
 * for a client without one). */
static SSL_CTX *ctx_build(wsx_tls *t, const char *cert, const char *key,
                          char *why, size_t why_len)
{
    const wsx_tls_opts *o = &t->o;
    bool server = o->role == WSX_SERVER;
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        why_openssl(why, why_len, "SSL_CTX_new");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, o->min_version == WSX_TLS_1_3
                                           ? TLS1_3_VERSION
                                           : TLS1_2_VERSION);
    /* Renegotiation would let a peer restart the handshake in the middle
     * of the byte stream; nothing here needs it (RFC 8446 removed it). */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
                                 (o->session_tickets ? 0 : SSL_OP_NO_TICKET));
    /* The stream hands SSL_write one record at a time from buffers that
     * may move between retries; idle connections give their record
     * buffers back. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    int r = cert ? load_cert(ctx, cert, key, why, why_len) : 0;
    if (r == 0)
        r = set_verify(t, ctx, why, why_len);
    if (r == 0 && server) {
        static const unsigned char sid[] = "wsx";
        SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
        SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
        SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
        SSL_CTX_set_tlsext_servername_arg(ctx, t);
    } else if (r == 0 && SSL_CTX_set_alpn_protos(ctx, alpn_http11, ALPN_LEN) != 0) {
        why_openssl(why, why_len, "ALPN");
        r = WSX_ETLS;
    } else if (r == 0 && o->session_tickets) {
        /* Tickets arrive after the handshake (TLS 1.3): the stream hands
         * each to the context's own cache (wsx__tls_session_put). */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
                                                SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, wsx__tls_on_new_session);
    }
    if (r < 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static void ctx_set_free(SSL_CTX *ctx, SSL_CTX **sni, size_t n)
{
    for (size_t i = 0; sni && i < n; i++)
        SSL_CTX_free(sni[i]);
    free(sni);
    SSL_CTX_free(ctx);
}

/* The main context and one per SNI entry, from the files; 0 or WSX_E*
 * (then nothing is left allocated). */
static int ctx_set_build(wsx_tls *t, SSL_CTX **ctx, SSL_CTX ***sni,
                         char *why, size_t why_len)
{
    size_t n = t->o.sni_count;
    *sni = n ? calloc(n, sizeof **sni) : NULL;
    if (n && !*sni)
        return WSX_ENOMEM;
    *ctx = ctx_build(t, t->o.cert_file, t->o.key_file, why, why_len);
    bool ok = *ctx != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = ((*sni)[i] = ctx_build(t, t->sni[i].cert_file,
                                    t->sni[i].key_file, why, why_len)) != NULL;
    if (ok)
        return 0;
    ctx_set_free(*ctx, *sni, n);
    *ctx = NULL;
    *sni = NULL;
    return WSX_ETLS;
}

/* t->o and t->sni as copies of o, strings in one block. */
static int opts_keep(wsx_tls *t, const wsx_tls_opts *o)
{
    size_t n = wsx__str_size(o->cert_file) + wsx__str_size(o->key_file) + wsx__str_size(o->ca_file);
    for (size_t i = 0; i < o->sni_count; i++)
        n += wsx__str_size(o->sni[i].name) + wsx__str_size(o->sni[i].cert_file) +
             wsx__str_size(o->sni[i].key_file);
    t->strs = malloc(n ? n : 1);
    t->sni = o->sni_count ? calloc(o->sni_count, sizeof *t->sni) : NULL;
    if (!t->strs || (o->sni_count && !t->sni))
        return WSX_ENOMEM;
    char *area = t->strs;
    t->o = *o;
    t->o.cert_file = wsx__str_keep(&area, o->cert_file);
    t->o.key_file = wsx__str_keep(&area, o->key_file);
    t->o.ca_file = wsx__str_keep(&area, o->ca_file);
    for (size_t i = 0; i < o->sni_count; i++) {
        t->sni[i].name = wsx__str_keep(&area, o->sni[i].name);
        t->sni[i].cert_file = wsx__str_keep(&area, o->sni[i].cert_file);
        t->sni[i].key_file = wsx__str_keep(&area, o->sni[i].key_file);
    }
    t->o.sni = t->sni;
    return 0;
}

static bool opts_valid(const wsx_tls_opts *o)
{
    if (!o || o->size != sizeof *o || (!o->cert_file != !o->key_file) ||
        (o->sni_count && !o->sni))
        return false;
    for (size_t i = 0; i < o->sni_count; i++)
        if (!o->sni[i].name || !o->sni[i].cert_file || !o->sni[i].key_file)
            return false;
    if (o->role == WSX_SERVER)
        return o->cert_file &&
               (o->client_auth == WSX_TLS_CLIENT_AUTH_NONE || o->ca_file);
    return o->role == WSX_CLIENT && o->sni_count == 0 &&
           o->client_auth == WSX_TLS_CLIENT_AUTH_NONE;
}

int wsx_tls_new(const wsx_tls_opts *o, wsx_tls **out, char *why, size_t why_len)
{
    if (!opts_valid(o) || !out) {
        if (why && why_len)
            snprintf(why, why_len, "inconsistent TLS options");
        return WSX_EINVAL;
    }
    wsx_tls *t = calloc(1, sizeof *t);
    int r = t ? opts_keep(t, o) : WSX_ENOMEM;
    if (r == 0)
        r = ctx_set_build(t, &t->ctx, &t->sni_ctx, why, why_len);
    if (r < 0) {
        if (r == WSX_ENOMEM && why && why_len)
            snprintf(why, why_len, "%s", wsx_strerror(r));
        wsx_tls_free(t);
        return r;
    }
    *out = t;
    return 0;
}

/* Tickets are sealed with the context's keys: a context that takes
 * over from another (a reload) or stands beside it (a clone) takes its
 * keys, so that what one sealed the other opens. */
static void keys_copy(SSL_CTX *from, SSL_CTX *to)
{
    unsigned char keys[80];
    if (SSL_CTX_get_tlsext_ticket_keys(from, keys, sizeof keys) == 1)
        SSL_CTX_set_tlsext_ticket_keys(to, keys, sizeof keys);
    OPENSSL_cleanse(keys, sizeof keys);
}

int wsx_tls_clone(const wsx_tls *t, wsx_tls **out, char *why, size_t why_len)
{
    if (!t || !out)
        return WSX_EINVAL;
    int r = wsx_tls_new(&t->o, out, why, why_len);
    if (r == 0)
        keys_copy(t->ctx, (*out)->ctx);
    return r;
}

void wsx__tls_session_put(wsx_tls *t, const char *name, SSL_SESSION *sess)
{
    unsigned i = 0;
    while (i < WSX_TLS_CLIENT_SESSIONS &&
           !(t->sessions[i].name && !strcmp(t->sessions[i].name, name)))
        i++;
    if (i == WSX_TLS_CLIENT_SESSIONS) { /* a new name: the oldest goes */
        i = t->session_next;
        t->session_next = (i + 1) % WSX_TLS_CLIENT_SESSIONS;
        free(t->sessions[i].name);
        t->sessions[i].name = strdup(name);
        if (!t->sessions[i].name) {
            SSL_SESSION_free(t->sessions[i].sess);
            t->sessions[i].sess = NULL;
            SSL_SESSION_free(sess);
            return;
        }
    }
    SSL_SESSION_free(t->sessions[i].sess); /* the newest ticket wins */
    t->sessions[i].sess = sess;
}

SSL_SESSION *wsx__tls_session_take(wsx_tls *t, const char *name)
{
    for (unsigned i = 0; i < WSX_TLS_CLIENT_SESSIONS; i++) {
        if (t->sessions[i].name && !strcmp(t->sessions[i].name, name)) {
            SSL_SESSION *sess = t->sessions[i].sess;
            t->sessions[i].sess = NULL; /* a TLS 1.3 ticket is for once */
            return sess;
        }
    }
    return NULL;
}

void wsx__tls_sessions_drop(wsx_tls *t)
{
    for (unsigned i = 0; i < WSX_TLS_CLIENT_SESSIONS; i++) {
        SSL_SESSION_free(t->sessions[i].sess);
        free(t->sessions[i].name);
        t->sessions[i].sess = NULL;
        t->sessions[i].name = NULL;
    }
}

void wsx_tls_stats_get(const wsx_tls *t, wsx_tls_stats *out)
{
    *out = t->stats;
}

int wsx_tls_reload(wsx_tls *t, char *why, size_t why_len)
{
    SSL_CTX *ctx, **sni;
    int r = ctx_set_build(t, &ctx, &sni, why, why_len);
    if (r < 0)
        return r;
    keys_copy(t->ctx, ctx); /* sessions issued before stay resumable */
    /* Open connections hold their own reference to the old ones. */
    ctx_set_free(t->ctx, t->sni_ctx, t->o.sni_count);
    t->ctx = ctx;
    t->sni_ctx = sni;
    /* A session skips the certificate check: none made under the old
     * CA file may stand in for one under the new. */
    wsx__tls_sessions_drop(t);
    return 0;
}

void wsx_tls_free(wsx_tls *t)
{
    if (!t)
        return;
    wsx__tls_sessions_drop(t);
    ctx_set_free(t->ctx, t->sni_ctx, t->o.sni_count);
    free(t->sni);
    free(t->strs);
    free(t);
}
