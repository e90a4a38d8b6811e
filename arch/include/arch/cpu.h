/* CPU-level operations that the layers above need (arm64: cpu.c; host: arch/fake). */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "arch/psci.h"

/** Sleeps until an interrupt is pending (WFI); interrupts stay masked at PSTATE. */
void arch_cpu_wait_for_interrupt(void);
/** Returns the exception level the image was entered at (1 or 2). */
unsigned int arch_cpu_entry_el(void);
/** Cleans and invalidates the data cache lines covering [addr, addr + size) to PoC. */
void arch_cpu_dcache_clean_inval(const void *addr, size_t size);
/** Stops this CPU for good (used after a fatal error when no other way out exists). */
void arch_cpu_halt(void) __attribute__((noreturn));
/**
 * Starts another CPU (PSCI CPU_ON on `conduit`, affinity `mpidr`): it enables its MMU with
 * this CPU's translation tables and exception vectors, runs on the stack ending at stack_top
 * (exceptions on the one ending at exception_stack_top) with interrupts masked, and calls
 * fn(arg), which must not return. One start at a time. Returns 0 or -errno from PSCI.
 */
int arch_cpu_start_secondary(enum psci_conduit conduit, uint64_t mpidr, void (*fn)(void *),
                             void *arg, void *stack_top, void *exception_stack_top);

/**
 * Arms this CPU to survive its next synchronous data abort at EL1: the faulting load or store
 * is skipped (a load's register keeps its old value) and the syndrome kept for
 * arch_fault_taken(). For test guests probing what the hypervisor does with odd accesses;
 * vdisk never arms it, so every exception still stops it.
 */
void arch_fault_expect(void);
/**
 * Disarms arch_fault_expect(); returns the ESR_EL1 of the data abort taken since, or 0 if
 * there was none.
 */
uint64_t arch_fault_taken(void);

#endif
