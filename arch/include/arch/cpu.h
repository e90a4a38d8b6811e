/* CPU-level operations that the layers above need (arm64: cpu.c; host: arch/fake). */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <stddef.h>
#include <stdint.h>

/** Sleeps until an interrupt is pending (WFI); interrupts stay masked at PSTATE. */
void arch_cpu_wait_for_interrupt(void);
/** Returns the exception level the image was entered at (1 or 2). */
unsigned int arch_cpu_entry_el(void);
/** Cleans and invalidates the data cache lines covering [addr, addr + size) to PoC. */
void arch_cpu_dcache_clean_inval(const void *addr, size_t size);
/** Stops this CPU for good (used after a fatal error when no other way out exists). */
void arch_cpu_halt(void) __attribute__((noreturn));

#endif
