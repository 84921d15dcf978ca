/* fw.h - the bare-metal harness every firmware image shares (startup.c,
 * fw_sys.c): a millisecond clock from SysTick, output and exit status over
 * ARM semihosting, stack painting to measure the deepest stack use, and a
 * trap on unaligned word access for the alignment tests. */
#ifndef WSX_FW_H
#define WSX_FW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The board's processor clock (MPS2 SYSCLK), which drives SysTick. */
#define FW_CPU_HZ 25000000u

/* Milliseconds since reset, counted by the SysTick interrupt. */
uint64_t fw_ms(void);
/* Sleep until the SysTick counter reaches at least `ms` (WFI between
 * ticks). */
void fw_wait_until(uint64_t ms);

/* Semihosting output to the host's stdout, without stdio (so the echo
 * images carry no printf). */
void fw_write(const char *s, size_t n);
void fw_puts(const char *s);          /* s, no newline added */
void fw_putu(unsigned long v);        /* decimal */
void fw_puthex(uint32_t v);           /* 0x and 8 hex digits */
/* End the emulation with this exit status (SYS_EXIT_EXTENDED). */
void fw_exit(int status) __attribute__((noreturn));

/* Stack painting: the reset handler fills the whole stack with
 * FW_STACK_PAINT. fw_stack_peak() is the deepest use since reset, in
 * bytes; fw_stack_mark() repaints everything below the caller's frame and
 * returns a mark, fw_stack_since(mark) the bytes used below the mark
 * since then (what the calls made in between needed). */
#define FW_STACK_PAINT 0xC0DE5741u
size_t fw_stack_peak(void);
uintptr_t fw_stack_mark(void);
size_t fw_stack_since(uintptr_t mark);
size_t fw_stack_size(void);

/* Unaligned-access trap (SCB->CCR.UNALIGN_TRP): while on, any halfword
 * or word access to an unaligned address faults, as LDRD/LDM/STRD/STM
 * always do on a Cortex-M4. A trap stops the image with status 3 and the
 * faulting PC printed, unless fw_trap_expect() announced one: then the
 * faulting instruction is skipped and counted. */
void fw_unaligned_trap(bool on);
void fw_trap_expect(void);
unsigned fw_traps_caught(void);

#endif
