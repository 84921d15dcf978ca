/* fuzz_tls_server.c - libFuzzer target for the TLS stream's server side
 * (lib/tls, wsx_stream_tls): whatever a client may send before and
 * instead of a handshake, in pieces, through a real socket, with what the
 * server answers read away. Checks besides "no crash": read never returns
 * more than asked, a failure is sticky, and a flush that reports nothing
 * left leaves nothing queued.
 *
 * byte 0   piece size (1..256) the rest is written in
 * 1..      the bytes the client sends; then the client closes. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "wsx_tls.h"

#define WSX_FUZZ_MAX_LEN 16384

#define FZ_CHECK(c)                                                           \
    do {                                                                      \
        if (!(c)) {                                                           \
            fprintf(stderr, "invariant failed: %s\n", #c);                    \
            abort();                                                          \
        }                                                                     \
    } while (0)

static wsx_tls *t;

/* Leak checkers see a clean exit. */
static void free_ctx(void)
{
    wsx_tls_free(t);
}

/* A context with a self-signed P-256 certificate, written to a temporary
 * directory for wsx_tls_new and removed, made once. */
static wsx_tls *server_ctx(void)
{
    if (t)
        return t;
    static char dir[] = "/tmp/wsx-fuzz-tls-XXXXXX", cert[64], key[64];
    FZ_CHECK(mkdtemp(dir) != NULL);
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FZ_CHECK(pk && x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, pk);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"fuzz", -1, -1, 0);
    X509_set_issuer_name(x, n);
    FZ_CHECK(X509_sign(x, pk, EVP_sha256()) > 0);
    FILE *f = fopen(cert, "w");
    FZ_CHECK(f && PEM_write_X509(f, x));
    fclose(f);
    f = fopen(key, "w");
    FZ_CHECK(f && PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL));
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(pk);
    wsx_tls_opts o;
    wsx_tls_opts_init(&o, WSX_SERVER);
    o.cert_file = cert;
    o.key_file = key;
    FZ_CHECK(wsx_tls_new(&o, &t, NULL, 0) == 0);
    atexit(free_ctx);
    unlink(cert);
    unlink(key);
    rmdir(dir);
    return t;
}

/* Read, flush and drain the answer; returns the stream's last result. */
static long serve(void *st, int fd, int peer)
{
    uint8_t buf[1000], sink[4096];
    long r;
    do {
        r = wsx_stream_tls.read(st, fd, buf, sizeof buf);
        FZ_CHECK(r <= (long)sizeof buf);
    } while (r > 0);
    if (r != WSX_EAGAIN && r != 0) {
        /* Sticky: every later call gives the same failure. */
        FZ_CHECK(wsx_stream_tls.read(st, fd, buf, sizeof buf) == r);
        FZ_CHECK(wsx_stream_tls.flush(st, fd) == r);
        return r;
    }
    int f = wsx_stream_tls.flush(st, fd);
    if (f == 0)
        FZ_CHECK(wsx_stream_tls.queued(st) == 0);
    while (recv(peer, sink, sizeof sink, MSG_DONTWAIT) > 0)
        continue;
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fds[2];
    void *st = NULL;
    if (size < 1)
        return 0;
    size_t piece = (size_t)data[0] + 1;
    data++;
    size--;
    FZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    FZ_CHECK(wsx_stream_tls.open(server_ctx(), fds[0], false, NULL, &st) == 0);
    long r = WSX_EAGAIN;
    for (size_t off = 0; off < size && r == WSX_EAGAIN; off += piece) {
        size_t n = size - off < piece ? size - off : piece;
        FZ_CHECK(send(fds[1], data + off, n, MSG_NOSIGNAL) == (ssize_t)n);
        r = serve(st, fds[0], fds[1]);
    }
    shutdown(fds[1], SHUT_WR);
    if (r == WSX_EAGAIN)
        serve(st, fds[0], fds[1]);
    wsx_stream_tls.shutdown(st, fds[0]);
    wsx_stream_tls.close(st);
    close(fds[0]);
    close(fds[1]);
    return 0;
}
