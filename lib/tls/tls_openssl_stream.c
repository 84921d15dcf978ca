/* tls_openssl_stream.c - the TLS byte stream (wsx_stream.h) over OpenSSL
 * memory BIOs: ciphertext is received into one BIO and sent from the
 * other by this file, so the socket stays non-blocking and the loop's
 * (or a foreign loop's); OpenSSL only ever sees bytes in memory. */
#include "tls_openssl.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* SO_NOSIGPIPE is set instead */
#endif

/* A TLS record carries at most 16 KiB of plaintext (RFC 8446 §5.1) plus
 * its header and expansion: one record per receive. */
#define TLS_RECORD_MAX (16384 + 2048)
/* Plaintext is taken only while less than this much ciphertext waits for
 * the socket, so a slow peer pushes back on the core's queue (and its
 * high_water and read pause) instead of on an unbounded BIO. */
#define TLS_OUT_HIGH (64 * 1024)
/* Receives per read call, so a peer sending records without plaintext
 * (handshake messages, key updates) cannot hold the loop. */
#define TLS_RECVS_PER_READ 8
/* A memory BIO never shrinks: after one big message a quiet connection
 * would keep that much. An empty one larger than this is replaced. */
#define TLS_BIO_KEEP 4096

typedef enum tls_phase {
    TLS_HANDSHAKE = 0, /* plaintext to send waits in early */
    TLS_OPEN,
    TLS_FAILED         /* err is returned by every call */
} tls_phase;

typedef struct tls_stream {
    SSL *ssl;
    BIO *in, *out;     /* ciphertext from and for the socket; owned by ssl */
    wsx_tls *t;
    uint8_t *early;    /* plaintext taken before the handshake finished */
    size_t early_len;
    int err;
    char *name;        /* client: the server name, its sessions' key */
    uint8_t phase;     /* tls_phase */
    bool write_needs_read; /* SSL_write waits for the peer's handshake
                              message (renegotiation is refused, so rare) */
} tls_stream;

/* Give an empty BIO's memory back when it grew past TLS_BIO_KEEP (the
 * SSL frees the old one). Best effort: without memory it stays. */
static void trim(tls_stream *s, bool in)
{
    BIO *b = in ? s->in : s->out;
    BUF_MEM *m = NULL;
    BIO_get_mem_ptr(b, &m);
    if (BIO_ctrl_pending(b) || !m || m->max <= TLS_BIO_KEEP)
        return;
    BIO *fresh = BIO_new(BIO_s_mem());
    if (!fresh)
        return;
    if (in) {
        SSL_set0_rbio(s->ssl, fresh);
        s->in = fresh;
    } else {
        SSL_set0_wbio(s->ssl, fresh);
        s->out = fresh;
    }
}

/* End the stream for good with err, noting the reason in the context
 * and sending whatever alert OpenSSL queued (best effort). */
static long tls_fail(tls_stream *s, int fd, int err);

/* Send what the out BIO holds: 0 when empty, WSX_EAGAIN, or an error. */
static int push(tls_stream *s, int fd)
{
    for (;;) {
        char *p;
        long n = BIO_get_mem_data(s->out, &p);
        if (n <= 0)
            return 0;
        ssize_t w = send(fd, p, (size_t)n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? WSX_EAGAIN
                   : errno == ECONNRESET || errno == EPIPE ? WSX_EPEERCLOSED
                                                           : WSX_EIO;
        /* Memory BIOs have no skip: what went out is read into scratch. */
        char scratch[4096];
        for (size_t left = (size_t)w; left;) {
            int k = left < sizeof scratch ? (int)left : (int)sizeof scratch;
            BIO_read(s->out, scratch, k);
            left -= (size_t)k;
        }
    }
}

/* One receive into the in BIO: > 0, 0 at end of file, WSX_EAGAIN, or an
 * error. */
static long pull(tls_stream *s, int fd)
{
    char buf[TLS_RECORD_MAX];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0)
            return BIO_write(s->in, buf, (int)n) == n ? (long)n : WSX_ENOMEM;
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? WSX_EAGAIN
               : errno == ECONNRESET || errno == EPIPE ? WSX_EPEERCLOSED
                                                       : WSX_EIO;
    }
}

/* Encrypt up to len plaintext bytes, a record at a time, while the out
 * BIO has room; returns how many were taken, or an error. */
static long seal(tls_stream *s, int fd, const uint8_t *p, size_t len)
{
    size_t taken = 0;
    while (taken < len) {
        if (BIO_ctrl_pending(s->out) >= TLS_OUT_HIGH) {
            int r = push(s, fd);
            if (r < 0 && r != WSX_EAGAIN)
                return tls_fail(s, fd, r);
            if (BIO_ctrl_pending(s->out) >= TLS_OUT_HIGH)
                break;
        }
        size_t n = len - taken < 16384 ? len - taken : 16384;
        ERR_clear_error();
        int w = SSL_write(s->ssl, p + taken, (int)n);
        if (w > 0) {
            taken += (size_t)w;
            continue;
        }
        if (SSL_get_error(s->ssl, w) != SSL_ERROR_WANT_READ)
            return tls_fail(s, fd, WSX_ETLS);
        s->write_needs_read = true;
        break;
    }
    return (long)taken;
}

/* Plaintext taken before the handshake finished goes out before any
 * taken after it; 0 or an error. */
static long drain_early(tls_stream *s, int fd)
{
    if (!s->early_len)
        return 0;
    long n = seal(s, fd, s->early, s->early_len);
    if (n < 0)
        return n;
    s->early_len -= (size_t)n;
    memmove(s->early, s->early + n, s->early_len);
    if (!s->early_len) {
        free(s->early);
        s->early = NULL;
    }
    return 0;
}

static long finish_handshake(tls_stream *s, int fd)
{
    s->phase = TLS_OPEN;
    s->t->stats.handshakes++;
    s->t->stats.resumed += SSL_session_reused(s->ssl) == 1;
    return drain_early(s, fd);
}

/* Advance the handshake with what the in BIO holds; 0 or an error. */
static long handshake(tls_stream *s, int fd)
{
    if (s->phase != TLS_HANDSHAKE)
        return s->phase == TLS_FAILED ? s->err : 0;
    ERR_clear_error();
    int r = SSL_do_handshake(s->ssl);
    if (r == 1)
        return finish_handshake(s, fd);
    if (SSL_get_error(s->ssl, r) == SSL_ERROR_WANT_READ)
        return 0;
    return tls_fail(s, fd, WSX_ETLS);
}

static long tls_fail(tls_stream *s, int fd, int err)
{
    if (s->phase == TLS_FAILED)
        return s->err;
    long v = SSL_get_verify_result(s->ssl);
    bool verifying = SSL_get_verify_mode(s->ssl) != SSL_VERIFY_NONE;
    unsigned long e = ERR_peek_last_error();
    /* A server that requires a client certificate and gets none fails
     * verification as much as one given a bad certificate does. */
    if (err == WSX_ETLS && verifying &&
        (v != X509_V_OK ||
         ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE))
        err = WSX_ETLSVERIFY;
    if (err == WSX_ETLS || err == WSX_ETLSVERIFY)
        wsx__tls_note(s->t, verifying ? v : X509_V_OK);
    s->phase = TLS_FAILED;
    s->err = err;
    push(s, fd); /* the alert, so the peer learns why */
    return err;
}

int wsx__tls_on_new_session(SSL *ssl, SSL_SESSION *sess)
{
    tls_stream *s = SSL_get_app_data(ssl);
    /* A copy: OpenSSL marks a connection's own session not resumable when
     * the connection ends without close_notify (a reset, a peer that
     * closed TCP first), which says nothing against a TLS 1.3 ticket. */
    SSL_SESSION *copy = s && s->name && SSL_SESSION_is_resumable(sess)
                            ? SSL_SESSION_dup(sess)
                            : NULL;
    if (copy)
        wsx__tls_session_put(s->t, s->name, copy);
    return 0; /* OpenSSL keeps and frees its own */
}

static int tls_open(void *ctx, int fd, bool client, const char *server_name,
                    void **st)
{
    wsx_tls *t = ctx;
    if (!t || (t->o.role == WSX_CLIENT) != client)
        return WSX_EINVAL;
    tls_stream *s = calloc(1, sizeof *s);
    if (!s)
        return WSX_ENOMEM;
    s->t = t;
    s->ssl = SSL_new(t->ctx);
    s->in = BIO_new(BIO_s_mem());
    s->out = BIO_new(BIO_s_mem());
    int r = s->ssl && s->in && s->out ? 0 : WSX_ENOMEM;
    if (r == 0) {
        SSL_set_bio(s->ssl, s->in, s->out);
        if (client)
            SSL_set_connect_state(s->ssl);
        else
            SSL_set_accept_state(s->ssl);
    } else {
        BIO_free(s->in);
        BIO_free(s->out);
    }
    if (r == 0)
        SSL_set_app_data(s->ssl, s);
    if (r == 0 && client && server_name && t->o.session_tickets) {
        SSL_SESSION *sess = wsx__tls_session_take(t, server_name);
        s->name = strdup(server_name);
        if (!s->name || (sess && SSL_set_session(s->ssl, sess) != 1))
            r = WSX_ENOMEM;
        SSL_SESSION_free(sess); /* SSL_set_session took its own */
    }
    if (r == 0 && client && server_name) {
        /* RFC 6066 §3: SNI carries names only, never address literals;
         * RFC 6125: the certificate must name what the URL named. */
        ASN1_OCTET_STRING *ip = a2i_IPADDRESS(server_name);
        if (!ip && !SSL_set_tlsext_host_name(s->ssl, server_name))
            r = WSX_ETLS;
        if (r == 0 && !t->o.insecure &&
            !(ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), server_name)
                 : SSL_set1_host(s->ssl, server_name)))
            r = WSX_ETLS;
        ASN1_OCTET_STRING_free(ip);
    }
    /* The client speaks first: its ClientHello waits in the out BIO and
     * leaves as soon as the connect completes. */
    if (r == 0 && client && handshake(s, fd) < 0)
        r = s->err;
    if (r < 0) {
        SSL_free(s->ssl);
        free(s->name);
        free(s);
        return r;
    }
    *st = s;
    return 0;
}

/* The peer closed TCP. Between records that is an end of stream; inside
 * one (bytes of it buffered) a truncation, which TLS exists to detect. */
static long at_eof(tls_stream *s)
{
    if (s->phase == TLS_OPEN &&
        (SSL_has_pending(s->ssl) || BIO_ctrl_pending(s->in))) {
        ERR_clear_error();
        snprintf(s->t->last_error, sizeof s->t->last_error, "truncated record");
        s->phase = TLS_FAILED;
        s->err = WSX_ETLS;
        return WSX_ETLS;
    }
    return 0;
}

static long tls_read(void *st, int fd, uint8_t *buf, size_t len)
{
    tls_stream *s = st;
    int want = len > INT_MAX ? INT_MAX : (int)len;
    for (int i = 0; s->phase != TLS_FAILED && i < TLS_RECVS_PER_READ; i++) {
        ERR_clear_error();
        int r = SSL_read(s->ssl, buf, want);
        if (r > 0 && s->phase == TLS_HANDSHAKE && finish_handshake(s, fd) < 0)
            return s->err;
        if (r > 0)
            return r;
        switch (SSL_get_error(s->ssl, r)) {
        case SSL_ERROR_ZERO_RETURN: /* close_notify */
            return 0;
        case SSL_ERROR_WANT_READ:
            break;
        default:
            return tls_fail(s, fd, WSX_ETLS);
        }
        if (s->phase == TLS_HANDSHAKE && SSL_is_init_finished(s->ssl) &&
            finish_handshake(s, fd) < 0)
            return s->err;
        s->write_needs_read = false;
        /* Handshake answers, key update replies and tickets go now. */
        int f = push(s, fd);
        if (f < 0 && f != WSX_EAGAIN)
            return tls_fail(s, fd, f);
        long n = pull(s, fd);
        if (n == 0)
            return at_eof(s);
        if (n == WSX_EAGAIN)
            trim(s, true);
        if (n < 0)
            return n == WSX_EAGAIN ? n : tls_fail(s, fd, (int)n);
    }
    return s->phase == TLS_FAILED ? s->err : WSX_EAGAIN;
}

static long tls_writev(void *st, int fd, const wsx_iovec *iov, int n)
{
    tls_stream *s = st;
    long taken = 0;
    if (s->phase == TLS_FAILED)
        return s->err;
    if (s->phase == TLS_HANDSHAKE) {
        size_t add = 0;
        for (int i = 0; i < n; i++)
            add += iov[i].len;
        /* A server speaks only after the client's request, which comes
         * after the handshake: bytes now are the core's answer to a
         * handshake that timed out, which no client could decrypt.
         * Dropping them lets the socket close at once. */
        if (SSL_is_server(s->ssl))
            return (long)add;
        uint8_t *p = realloc(s->early, s->early_len + add);
        if (!p)
            return WSX_ENOMEM;
        s->early = p;
        for (int i = 0; i < n; i++) {
            memcpy(p + s->early_len, iov[i].base, iov[i].len);
            s->early_len += iov[i].len;
        }
        return (long)add;
    }
    if (drain_early(s, fd) < 0)
        return s->err;
    for (int i = 0; !s->early_len && i < n; i++) {
        long w = seal(s, fd, iov[i].base, iov[i].len);
        if (w < 0)
            return w;
        taken += w;
        if ((size_t)w < iov[i].len)
            break;
    }
    int f = push(s, fd);
    if (f < 0 && f != WSX_EAGAIN)
        return tls_fail(s, fd, f);
    return taken ? taken : WSX_EAGAIN;
}

static int tls_flush(void *st, int fd)
{
    tls_stream *s = st;
    long r = handshake(s, fd);
    if (r == 0 && s->phase == TLS_OPEN)
        r = drain_early(s, fd);
    if (r < 0)
        return (int)r;
    int f = push(s, fd);
    if (f < 0 && f != WSX_EAGAIN)
        return (int)tls_fail(s, fd, f);
    if (f == 0)
        trim(s, false);
    return BIO_ctrl_pending(s->out) || s->early_len ? WSX_EAGAIN : 0;
}

static void tls_shutdown(void *st, int fd)
{
    tls_stream *s = st;
    if (s->phase != TLS_OPEN)
        return;
    ERR_clear_error();
    SSL_shutdown(s->ssl); /* queues close_notify (RFC 8446 §6.1) */
    push(s, fd);
    ERR_clear_error();
}

static size_t tls_queued(const void *st)
{
    const tls_stream *s = st;
    return BIO_ctrl_pending(s->out) + s->early_len;
}

static unsigned tls_wants(const void *st)
{
    const tls_stream *s = st;
    if (s->phase == TLS_FAILED)
        return 0;
    unsigned w = 0;
    if (s->phase == TLS_HANDSHAKE || s->write_needs_read)
        w |= WSX_STREAM_READ;
    if (tls_queued(s))
        w |= WSX_STREAM_WRITE;
    /* Decrypted bytes, or whole records already received: a partial
     * record is consumed into SSL by the read that found it short. */
    if (s->phase == TLS_OPEN && (SSL_pending(s->ssl) > 0 || BIO_ctrl_pending(s->in)))
        w |= WSX_STREAM_INPUT;
    return w;
}

static void tls_close(void *st)
{
    tls_stream *s = st;
    SSL_free(s->ssl);
    free(s->early);
    free(s->name);
    free(s);
}

const wsx_stream_ops wsx_stream_tls = {
    "tls",        tls_open,   tls_read,  tls_writev, tls_flush,
    tls_shutdown, tls_queued, tls_wants, tls_close,
};
