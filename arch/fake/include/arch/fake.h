/* Controls of the host (fake) arch used by unit tests: the clock and the timer deadline. */
#ifndef ARCH_FAKE_H
#define ARCH_FAKE_H

#include <stdint.h>

/** The counter frequency the fake reports (QEMU's virt machine uses the same). */
#define FAKE_TIMER_HZ 62500000ull

/** What arch_timer_now_ns() returns; tests and fakes move it forward. */
extern uint64_t fake_time_ns;
/** The last deadline given to arch_timer_set_deadline (0 = disarmed). */
extern uint64_t fake_timer_deadline_ns;

/** Puts the fake clock, deadline and timer IRQ back to zero. */
void fake_reset(void);

#endif
