/* startup.c - reset and exception handling for the Cortex-M4 images: the
 * vector table, a reset handler that copies .data, zeroes .bss, paints the
 * stack and starts SysTick at 1 kHz before main, the SysTick handler that
 * counts milliseconds, and a fault handler that reports and exits. */
#include "fw.h"

extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_limit[], __stack_top[];

int main(void);
void fw_reset(void);

/* System control registers (ARMv7-M Architecture Reference Manual B3.2). */
#define REG(a) (*(volatile uint32_t *)(a))
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define SCB_CCR REG(0xE000ED14u)
#define SCB_SHCSR REG(0xE000ED24u)
#define SCB_CFSR REG(0xE000ED28u)
#define SCB_HFSR REG(0xE000ED2Cu)
#define CCR_UNALIGN_TRP (1u << 3)
#define CFSR_UNALIGNED (1u << 24)
#define SHCSR_USGFAULTENA (1u << 18)

static volatile uint32_t ms_lo, ms_hi;
static volatile unsigned traps_expected, traps_caught;

static void systick(void)
{
    if (++ms_lo == 0)
        ms_hi++;
}

uint64_t fw_ms(void)
{
    uint32_t hi, lo;
    do {
        hi = ms_hi;
        lo = ms_lo;
    } while (hi != ms_hi);
    return (uint64_t)hi << 32 | lo;
}

void fw_wait_until(uint64_t ms)
{
    while (fw_ms() < ms)
        __asm__ volatile("wfi");
}

/* Called with the exception frame the core stacked (r0-r3, r12, lr, pc,
 * xpsr). An expected unaligned trap is skipped over: a Thumb instruction
 * is 32 bits when its first halfword starts with 0b11101, 0b11110 or
 * 0b11111, else 16. */
void fw_fault(uint32_t *frame);
void fw_fault(uint32_t *frame)
{
    uint32_t cfsr = SCB_CFSR;
    if ((cfsr & CFSR_UNALIGNED) && traps_expected) {
        uint16_t op = *(const uint16_t *)frame[6];
        frame[6] += (op >> 11) >= 0x1d ? 4 : 2;
        SCB_CFSR = CFSR_UNALIGNED; /* write one to clear */
        traps_expected--;
        traps_caught++;
        return;
    }
    fw_puts((cfsr & CFSR_UNALIGNED) ? "FAIL unaligned access at pc="
                                    : "FAIL fault at pc=");
    fw_puthex(frame[6]);
    fw_puts(" cfsr=");
    fw_puthex(cfsr);
    fw_puts(" hfsr=");
    fw_puthex(SCB_HFSR);
    fw_puts(" (arm-none-eabi-addr2line -fe IMAGE PC names the function)");
    fw_puts("\n0 passed, 1 failed\n");
    fw_exit(3);
}

/* Pass the right stack's frame to fw_fault (EXC_RETURN bit 2: PSP). */
__attribute__((naked)) static void fault_entry(void)
{
    __asm__ volatile("tst lr, #4\n"
                     "ite eq\n"
                     "mrseq r0, msp\n"
                     "mrsne r0, psp\n"
                     "b fw_fault\n");
}

static void unexpected(void)
{
    fw_puts("FAIL unexpected exception\n0 passed, 1 failed\n");
    fw_exit(3);
}

typedef void (*fw_vector)(void);

__attribute__((section(".vectors"), used))
static const fw_vector vectors[16] = {
    (fw_vector)(uintptr_t)__stack_top,
    fw_reset,
    unexpected,  /* NMI */
    fault_entry, /* HardFault */
    fault_entry, /* MemManage */
    fault_entry, /* BusFault */
    fault_entry, /* UsageFault */
    0, 0, 0, 0,
    unexpected,  /* SVCall */
    unexpected,  /* DebugMonitor */
    0,
    unexpected,  /* PendSV */
    systick,
};

/* Fill the stack below the caller's frame with the paint pattern, keeping
 * a margin for this function's own frame. */
static uintptr_t paint_below_here(void)
{
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    volatile uint32_t *w = __stack_limit;
    while ((uintptr_t)(w + 1) < sp - 64)
        *w++ = FW_STACK_PAINT;
    return sp;
}

static uintptr_t lowest_used(void)
{
    const uint32_t *w = __stack_limit;
    while (w < __stack_top && *w == FW_STACK_PAINT)
        w++;
    return (uintptr_t)w;
}

size_t fw_stack_peak(void)
{
    return (size_t)((uintptr_t)__stack_top - lowest_used());
}

uintptr_t fw_stack_mark(void)
{
    return paint_below_here();
}

size_t fw_stack_since(uintptr_t mark)
{
    uintptr_t low = lowest_used();
    return low < mark ? (size_t)(mark - low) : 0;
}

size_t fw_stack_size(void)
{
    return (size_t)((uintptr_t)__stack_top - (uintptr_t)__stack_limit);
}

void fw_unaligned_trap(bool on)
{
    SCB_SHCSR |= SHCSR_USGFAULTENA;
    if (on)
        SCB_CCR |= CCR_UNALIGN_TRP;
    else
        SCB_CCR &= ~CCR_UNALIGN_TRP;
    __asm__ volatile("dsb\nisb" ::: "memory");
    /* Let one SysTick exception pass too: an emulator may apply the new
     * setting to already translated code only from an exception on. */
    fw_wait_until(fw_ms() + 2);
}

void fw_trap_expect(void)
{
    traps_expected++;
}

unsigned fw_traps_caught(void)
{
    return traps_caught;
}

void fw_reset(void)
{
    /* No C before this: .data and .bss are not set up yet, so plain
     * loops rather than anything that might read a global. */
    for (uint32_t *d = __data_start, *s = __data_load; d < __data_end;)
        *d++ = *s++;
    for (uint32_t *d = __bss_start; d < __bss_end;)
        *d++ = 0;
    paint_below_here();
    SYST_RVR = FW_CPU_HZ / 1000 - 1;
    SYST_CVR = 0;
    SYST_CSR = 7; /* processor clock, interrupt, enable */
    fw_exit(main());
}
