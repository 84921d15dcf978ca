/* fw_sys.c - ARM semihosting (the host's console and exit status through
 * BKPT 0xAB, "Semihosting for AArch32 and AArch64" v2) and the few newlib
 * system calls the test images need: _write for stdio, _sbrk for malloc
 * (the PSRAM heap of the linker script), _exit. */
#include "fw.h"

#include <errno.h>
#include <stdint.h>

#define SYS_OPEN 0x01
#define SYS_WRITE 0x05
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static uintptr_t semihost(uintptr_t op, const void *arg)
{
    register uintptr_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void fw_write(const char *s, size_t n)
{
    static long out = -1;
    if (out < 0) {
        /* ":tt" opened for writing (mode 4, "w") is the host's stdout. */
        const uintptr_t open_args[3] = {(uintptr_t)":tt", 4, 3};
        out = (long)semihost(SYS_OPEN, open_args);
    }
    const uintptr_t args[3] = {(uintptr_t)out, (uintptr_t)s, n};
    semihost(SYS_WRITE, args);
}

void fw_puts(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    fw_write(s, n);
}

void fw_putu(unsigned long v)
{
    char buf[24];
    size_t i = sizeof buf;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    fw_write(buf + i, sizeof buf - i);
}

void fw_puthex(uint32_t v)
{
    char buf[10] = {'0', 'x'};
    for (int i = 0; i < 8; i++)
        buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
    fw_write(buf, sizeof buf);
}

void fw_exit(int status)
{
    const uintptr_t args[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)status};
    for (;;)
        semihost(SYS_EXIT_EXTENDED, args);
}

/* newlib's system call layer (the rest comes from libnosys). */
int _write(int fd, const char *p, int n);
int _write(int fd, const char *p, int n)
{
    (void)fd; /* stdout and stderr both go to the host's stdout */
    fw_write(p, (size_t)n);
    return n;
}

void *_sbrk(ptrdiff_t incr);
void *_sbrk(ptrdiff_t incr)
{
    extern char __heap_start[], __heap_end[];
    static char *brk = __heap_start;
    if (incr > __heap_end - brk || incr < __heap_start - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    char *old = brk;
    brk += incr;
    return old;
}

void _exit(int status);
void _exit(int status)
{
    fw_exit(status);
}
