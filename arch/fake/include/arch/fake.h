/*
 * Controls of the host (fake) arch used by unit tests: the clock, the timer deadline, and what
 * the data cache was asked to do.
 */
#ifndef ARCH_FAKE_H
#define ARCH_FAKE_H

#include <stdint.h>

/** The counter frequency the fake reports (QEMU's virt machine uses the same). */
#define FAKE_TIMER_HZ 62500000ull

/** What arch_timer_now_ns() returns; tests and fakes move it forward. */
extern uint64_t fake_time_ns;
/** The last deadline given to arch_timer_set_deadline (0 = disarmed). */
extern uint64_t fake_timer_deadline_ns;

/** Bytes given to arch_cpu_dcache_clean_inval (a no-op on the host) so far. */
extern uint64_t fake_dcache_bytes;

/** Puts the fake clock, deadline, timer IRQ and cache count back to zero. */
void fake_reset(void);

#endif
