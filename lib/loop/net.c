/* net.c - the socket plumbing under the loop: ws:// URL parsing (RFC 6455
 * §3), IPv4/IPv6 listening and accepting, non-blocking connect, the
 * wake-up pipe and the monotonic clock. Every descriptor is non-blocking
 * and close-on-exec. */
#include "loop_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t wsx__clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -1;
    return 0;
}

/* A connected socket for the loop: no SIGPIPE where send() lacks
 * MSG_NOSIGNAL, no Nagle delay (frames are already coalesced). */
static void tune(int fd)
{
    int one = 1;
#ifdef SO_NOSIGPIPE
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int wsx__net_pipe(int fds[2])
{
    if (pipe(fds) < 0)
        return -1;
    if (set_flags(fds[0]) < 0 || set_flags(fds[1]) < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    return 0;
}

/* ws[s]://host[:port][/path][?query] -> parts. RFC 6455 §3: the default
 * port is 80 (443 for wss), the fragment is not allowed, the resource name
 * is "/" when the path is empty. */
int wsx__url_parse(wsx_url *u, const char *url)
{
    if (!url)
        return WSX_EINVAL;
    u->secure = strncmp(url, "wss://", 6) == 0;
    if (!u->secure && strncmp(url, "ws://", 5) != 0)
        return WSX_EINVAL;
    const char *dport = u->secure ? "443" : "80";
    /* Spaces and controls would break (or inject into) the request line
     * and the Host header: a URL must arrive percent-encoded. */
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return WSX_EINVAL;
    const char *h = url + (u->secure ? 6 : 5), *end, *after;
    if (*h == '[') {
        end = strchr(h, ']');
        if (!end)
            return WSX_EINVAL;
        h++;
        after = end + 1;
    } else {
        end = h + strcspn(h, ":/?#");
        after = end;
    }
    size_t hlen = (size_t)(end - h);
    if (hlen == 0 || hlen >= sizeof u->host || strchr(url, '#'))
        return WSX_EINVAL;
    memcpy(u->host, h, hlen);
    u->host[hlen] = '\0';
    strcpy(u->port, dport);
    if (*after == ':') {
        size_t plen = strspn(after + 1, "0123456789");
        long port = plen ? strtol(after + 1, NULL, 10) : 0;
        if (plen == 0 || plen > 5 || port < 1 || port > 65535)
            return WSX_EINVAL;
        snprintf(u->port, sizeof u->port, "%ld", port);
        after += 1 + plen;
    }
    if (*after && *after != '/' && *after != '?')
        return WSX_EINVAL;
    /* RFC 6455 §3: the resource name is "/" when the path is empty, with
     * "?" and the query appended. */
    int n = snprintf(u->target, sizeof u->target, "%s%s",
                     *after == '/' ? "" : "/", after);
    if (n < 0 || (size_t)n >= sizeof u->target)
        return WSX_EINVAL;
    bool v6 = strchr(u->host, ':') != NULL;
    bool dflt = strcmp(u->port, dport) == 0;
    n = snprintf(u->hostport, sizeof u->hostport, "%s%s%s%s%s",
                 v6 ? "[" : "", u->host, v6 ? "]" : "", dflt ? "" : ":",
                 dflt ? "" : u->port);
    return n < 0 || (size_t)n >= sizeof u->hostport ? WSX_EINVAL : 0;
}

static int bind_one(const struct addrinfo *ai, bool reuse_port, int backlog)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) /* one socket serves IPv4 too */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    int ok = 1;
    if (reuse_port) {
#ifdef SO_REUSEPORT
        ok = setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0;
#else
        errno = ENOTSUP;
        ok = 0;
#endif
    }
    if (!ok || set_flags(fd) < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
        listen(fd, backlog) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static uint16_t port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Bind the first address that works; with no host, the IPv6 wildcard
 * (dual-stack) comes first and IPv4's is the fallback. Returns the
 * listening descriptor, or -1 with errno set. */
int wsx__net_listen(const char *host, uint16_t port, bool reuse_port,
                   int backlog, uint16_t *bound)
{
    struct addrinfo hints, *res, *ai;
    char serv[8];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(serv, sizeof serv, "%u", (unsigned)port);
    int r = getaddrinfo(host, serv, &hints, &res);
    if (r != 0) {
        errno = r == EAI_SYSTEM ? errno : EADDRNOTAVAIL;
        return -1;
    }
    int fd = -1;
    for (int pass = 0; pass < 2 && fd < 0; pass++)
        for (ai = res; ai && fd < 0; ai = ai->ai_next)
            if ((ai->ai_family == AF_INET6) == (pass == 0))
                fd = bind_one(ai, reuse_port, backlog);
    int e = errno;
    freeaddrinfo(res);
    if (fd >= 0)
        *bound = port_of(fd);
    errno = e;
    return fd;
}

/* Start a non-blocking connect to the first address of u. Returns the
 * descriptor (the connect completes when it turns writable), or
 * WSX_ENOHOST (the name does not resolve), WSX_ECONNREFUSED (refused at
 * once), WSX_ENOMEM or WSX_EIO (errno tells why). */
int wsx__net_connect(const wsx_url *u)
{
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int r = getaddrinfo(u->host, u->port, &hints, &res);
    if (r == EAI_SYSTEM)
        return WSX_EIO;
    if (r == EAI_MEMORY)
        return WSX_ENOMEM;
    if (r != 0) {
        errno = EHOSTUNREACH;
        return WSX_ENOHOST;
    }
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd >= 0 && (set_flags(fd) < 0 ||
                    (connect(fd, res->ai_addr, res->ai_addrlen) < 0 &&
                     errno != EINPROGRESS))) {
        int e = errno;
        close(fd);
        errno = e;
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return errno == ECONNREFUSED ? WSX_ECONNREFUSED : WSX_EIO;
    tune(fd);
    return fd;
}

/* Accept one connection, ready for the loop; -1 with errno otherwise. */
int wsx__net_accept(int lfd)
{
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
    int fd = accept(lfd, NULL, NULL);
    if (fd >= 0 && set_flags(fd) < 0) {
        close(fd);
        return -1;
    }
#endif
    if (fd >= 0)
        tune(fd);
    return fd;
}
