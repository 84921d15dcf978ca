/* signal.c - SIGINT/SIGTERM for the one loop that asks for them: the
 * handler only counts and writes a byte to the loop's wake-up pipe
 * (async-signal-safe); the loop starts its graceful shutdown, RFC 6455
 * §7.4.1 1001 "going away", when it wakes. */
#include "loop_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t wsx_signal_count_;
static int wsx_signal_fd_ = -1;
static sig_atomic_t wsx_signal_seen_;
static struct sigaction wsx_old_int_, wsx_old_term_;

static void on_signal(int sig)
{
    int saved = errno;
    (void)sig;
    wsx_signal_count_ = wsx_signal_count_ + 1;
    if (write(wsx_signal_fd_, "s", 1) < 0) {
        /* a full pipe already holds a wake-up */
    }
    errno = saved;
}

/* Route both signals to wake_fd; -1 when another loop has them. */
int wsx__signal_take(int wake_fd)
{
    struct sigaction sa;
    if (wsx_signal_fd_ >= 0)
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    wsx_signal_fd_ = wake_fd;
    wsx_signal_seen_ = wsx_signal_count_;
    sigaction(SIGINT, &sa, &wsx_old_int_);
    sigaction(SIGTERM, &sa, &wsx_old_term_);
    return 0;
}

void wsx__signal_give_back(void)
{
    sigaction(SIGINT, &wsx_old_int_, NULL);
    sigaction(SIGTERM, &wsx_old_term_, NULL);
    wsx_signal_fd_ = -1;
}

/* True once per batch of signals that arrived since the last call. */
bool wsx__signal_arrived(void)
{
    sig_atomic_t now = wsx_signal_count_;
    if (now == wsx_signal_seen_)
        return false;
    wsx_signal_seen_ = now;
    return true;
}
