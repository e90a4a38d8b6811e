/*
 * Host implementation of the arch timer interface (arch/include/arch/timer.h) for unit
 * tests: time is the variable fake_time_ns, which only tests and fakes advance. The data
 * cache maintenance of arch/cpu.h is counted, not done (the host is coherent).
 */
#include <stddef.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "arch/fake.h"
#include "arch/timer.h"

uint64_t fake_time_ns;
uint64_t fake_timer_deadline_ns;
uint64_t fake_dcache_bytes;
static unsigned int timer_irq;

void fake_reset(void)
{
	fake_time_ns = 0;
	fake_timer_deadline_ns = 0;
	fake_dcache_bytes = 0;
	timer_irq = 0;
}

void arch_cpu_dcache_clean_inval(const void *addr, size_t size)
{
	(void)addr;
	fake_dcache_bytes += size;
}

void arch_timer_init(void)
{
}

uint64_t arch_timer_frequency(void)
{
	return FAKE_TIMER_HZ;
}

uint64_t arch_timer_counter(void)
{
	/* The counter that fake_time_ns corresponds to, rounded down to a tick. */
	return (fake_time_ns / 1000000000ull) * FAKE_TIMER_HZ +
	       (fake_time_ns % 1000000000ull) * FAKE_TIMER_HZ / 1000000000ull;
}

uint64_t arch_timer_ns_to_ticks(uint64_t ns)
{
	return (ns / 1000000000ull) * FAKE_TIMER_HZ +
	       (ns % 1000000000ull) * FAKE_TIMER_HZ / 1000000000ull;
}

uint64_t arch_timer_ticks_to_ns(uint64_t ticks)
{
	return (ticks / FAKE_TIMER_HZ) * 1000000000ull +
	       (ticks % FAKE_TIMER_HZ) * 1000000000ull / FAKE_TIMER_HZ;
}

uint64_t arch_timer_now_ns(void)
{
	return fake_time_ns;
}

void arch_timer_set_deadline(uint64_t deadline_ns)
{
	fake_timer_deadline_ns = deadline_ns;
}

unsigned int arch_timer_irq(void)
{
	return timer_irq;
}

void arch_timer_set_irq(unsigned int irq)
{
	timer_irq = irq;
}
