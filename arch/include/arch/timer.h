/* The generic timer: virtual counter timestamps and a one-shot deadline (Arm ARM D11). */
#ifndef ARCH_TIMER_H
#define ARCH_TIMER_H

#include <stdint.h>

/** Reads the counter frequency; call once before any other arch_timer_ function. */
void arch_timer_init(void);
/** Returns the counter frequency in Hz. */
uint64_t arch_timer_frequency(void);
/** Returns the raw virtual counter (CNTVCT_EL0). */
uint64_t arch_timer_counter(void);
/**
 * Returns the system counter (CNTPCT_EL0): the virtual counter plus the offset Xen gives each
 * domain (its creation time), so the same clock as Xen's own and other domains'.
 */
uint64_t arch_timer_system_counter(void);
/** Converts a counter delta to nanoseconds without overflow. */
uint64_t arch_timer_ticks_to_ns(uint64_t ticks);
/** Converts nanoseconds to counter ticks (rounded down) without overflow. */
uint64_t arch_timer_ns_to_ticks(uint64_t ns);
/** Returns nanoseconds of the virtual counter (since domain creation under Xen). */
uint64_t arch_timer_now_ns(void);
/** Arms the virtual timer interrupt for an absolute time in ns; 0 disarms it. */
void arch_timer_set_deadline(uint64_t deadline_ns);
/** Returns the virtual timer's interrupt number (a PPI) from the device tree, or 0. */
unsigned int arch_timer_irq(void);
/** Records the virtual timer's interrupt number found in the device tree. */
void arch_timer_set_irq(unsigned int irq);

#endif
