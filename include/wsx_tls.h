/* wsx_tls.h - TLS for wss:// (RFC 6455 §3, §4.1 step 5): a context that
 * holds certificates and settings, and a byte stream (wsx_stream.h) that
 * runs TLS over a connection's socket with it. The core never sees TLS:
 * the stream encrypts what the core sends and decrypts what it reads.
 *
 *   wsx_tls_opts o;
 *   wsx_tls_opts_init(&o, WSX_SERVER);
 *   o.cert_file = "chain.pem";
 *   o.key_file = "key.pem";
 *   wsx_tls *t;
 *   char why[256];
 *   if (wsx_tls_new(&o, &t, why, sizeof why) < 0) ... why says what failed
 *   listen_opts.stream = &wsx_stream_tls;
 *   listen_opts.stream_ctx = t;        (wsx_tls_free after the loop)
 *
 * One backend is built in: OpenSSL 3 (libssl), driven through memory BIOs
 * so the socket stays the loop's. A build without TLS (make TLS=0) keeps
 * this header and these symbols: wsx_tls_new then fails with WSX_ETLS
 * and says so, and wss:// URLs fail in wsx_loop_connect with WSX_EINVAL.
 *
 * A context is used on one thread at a time (the loop's): connections
 * are opened, fail and report their reason there.
 */
#ifndef WSX_TLS_H
#define WSX_TLS_H

#include "wsx.h"
#include "wsx_stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wsx_tls wsx_tls;

/* Server names whose latest session a client context keeps. */
#define WSX_TLS_CLIENT_SESSIONS 8

/* How a server asks for client certificates. */
typedef enum wsx_tls_client_auth {
    WSX_TLS_CLIENT_AUTH_NONE = 0, /* never asks (default) */
    WSX_TLS_CLIENT_AUTH_OPTIONAL, /* asks; a client without one is let in,
                                     one that does not verify is not */
    WSX_TLS_CLIENT_AUTH_REQUIRED  /* a client without a certificate that
                                     verifies fails the handshake */
} wsx_tls_client_auth;

/* A certificate a server presents to clients that ask for name through
 * SNI (RFC 6066 §3). name is a DNS name, or "*.example.com" for one
 * label at its left; names compare without regard to case. */
typedef struct wsx_tls_sni_cert {
    const char *name;
    const char *cert_file; /* PEM: the certificate, then its chain */
    const char *key_file;  /* PEM private key */
} wsx_tls_sni_cert;

/* Oldest protocol version accepted. */
typedef enum wsx_tls_version {
    WSX_TLS_1_2 = 0, /* default */
    WSX_TLS_1_3
} wsx_tls_version;

typedef struct wsx_tls_opts {
    size_t size;           /* set by wsx_tls_opts_init */
    wsx_role role;         /* WSX_SERVER or WSX_CLIENT */
    wsx_tls_version min_version; /* default WSX_TLS_1_2 */
    /* Our certificate: required for a server, optional for a client
     * (client authentication). PEM files; the chain file holds the
     * certificate first, then the intermediates. Default NULL. */
    const char *cert_file;
    const char *key_file;
    /* Server: certificates chosen by the name the client asks for (SNI);
     * a client that asks for no name or another one gets cert_file.
     * Default none. The table is read at wsx_tls_new and at each reload;
     * it need not outlive those calls. */
    const wsx_tls_sni_cert *sni;
    size_t sni_count;
    /* Server: client certificates (default NONE); OPTIONAL and REQUIRED
     * verify them against ca_file, which is then required. */
    wsx_tls_client_auth client_auth;
    /* The certificate authorities (PEM file) that peers' certificates
     * must chain to: a server's client certificates, or for a client the
     * servers'. Default NULL: a client uses the system's store. */
    const char *ca_file;
    /* Client: skip every check of the server's certificate (chain, dates,
     * name). For tests against a throw-away certificate only: anyone on
     * the path can then read and change the traffic. Default false. */
    bool insecure;
    /* Resume sessions with tickets (RFC 8446 §4.6.1, RFC 5077) so a
     * returning client skips the public-key work. Server: issue and
     * accept them. Client: keep the newest ticket of each of the last
     * WSX_TLS_CLIENT_SESSIONS server names and offer it, once, to the
     * next connection to that name (a reconnect); dropped on reload.
     * Default true. */
    bool session_tickets;
} wsx_tls_opts;

/* Defaults for role, as documented beside each field. */
WSX_API void wsx_tls_opts_init_(wsx_tls_opts *o, wsx_role role, size_t size);
#define wsx_tls_opts_init(o, role) wsx_tls_opts_init_((o), (role), sizeof *(o))

/* A context for o (copied; its strings are kept for wsx_tls_reload).
 * Reads every file now. Returns 0 and *out, WSX_EINVAL for inconsistent
 * options (a server without cert_file, a client-auth mode without
 * ca_file), WSX_ENOMEM, or WSX_ETLS when a file cannot be used or TLS is
 * not built in. On failure why (may be NULL) receives a sentence naming
 * the file and the library's reason, cut to why_len bytes. */
WSX_API int wsx_tls_new(const wsx_tls_opts *o, wsx_tls **out, char *why,
                        size_t why_len);
/* Free the context (NULL: nothing). Every connection opened with it must
 * be gone: after wsx_loop_free, or after their on_close and the loop's
 * next wake-up. */
WSX_API void wsx_tls_free(wsx_tls *t);

/* A second context with t's options, for another thread's loop (a
 * context serves one thread at a time): the files are read again now,
 * and session tickets sealed by either open on both (they share ticket
 * keys), so a client resumes whichever thread accepts it. Free each
 * clone with wsx_tls_free; reload each on its own loop's thread. Returns
 * as wsx_tls_new. Call it on t's thread, or before any loop runs. */
WSX_API int wsx_tls_clone(const wsx_tls *t, wsx_tls **out, char *why,
                          size_t why_len);

/* Read the certificate, key, SNI and CA files named at wsx_tls_new again
 * (e.g. on SIGHUP, from a closure given to wsx_loop_post): connections
 * opened afterwards use them, open ones keep theirs, session tickets
 * issued before stay valid. On failure nothing changes and why says
 * what failed. Returns 0, WSX_ENOMEM or WSX_ETLS. Loop thread only. */
WSX_API int wsx_tls_reload(wsx_tls *t, char *why, size_t why_len);

/* Handshakes of t's connections that completed, and how many of them
 * resumed a session instead of doing the public-key work. */
typedef struct wsx_tls_stats {
    uint64_t handshakes;
    uint64_t resumed;
} wsx_tls_stats;
WSX_API void wsx_tls_stats_get(const wsx_tls *t, wsx_tls_stats *out);

/* Why the last connection of t that failed did (WSX_ETLS or
 * WSX_ETLSVERIFY): the library's own words, e.g. "certificate verify
 * failed: certificate has expired" or "wrong version number". Meant for
 * on_close of that connection, which fires right after the failure;
 * "" when none failed yet. Valid until the next failure or the free. */
WSX_API const char *wsx_tls_last_error(const wsx_tls *t);

/* The TLS byte stream: stream_ctx is a wsx_tls of the connection's role.
 * For a client, server_name (the URL's host) goes out as SNI when it is
 * a name and is what the certificate must name (RFC 6125), unless the
 * context is insecure. ALPN offers or selects "http/1.1" (RFC 7301), a
 * peer that asks for renegotiation is refused, TLS 1.3 key updates are
 * answered. A client's bytes written before the handshake ends wait
 * for it; a server's are dropped (it has nothing to say before the
 * client's request, so they can only be the answer to a handshake that
 * timed out, which the client could not decrypt anyway). Read, writev
 * and flush return WSX_ETLS for a handshake or
 * record failure (a truncated record included), WSX_ETLSVERIFY for a
 * peer certificate that does not verify, WSX_EPEERCLOSED for a reset,
 * and 0 (end of stream) for the peer's close_notify or a close between
 * records. */
WSX_API extern const wsx_stream_ops wsx_stream_tls;

#ifdef __cplusplus
}
#endif
#endif /* WSX_TLS_H */
