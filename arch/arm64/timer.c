/* The generic timer: CNTVCT_EL0 for time, the EL1 virtual timer for deadlines (Arm ARM D11). */
#include <stdint.h>

#include "arch/sysreg.h"
#include "arch/timer.h"

#define CNTV_CTL_ENABLE 1u

static uint64_t frequency;
static unsigned int timer_irq;

void arch_timer_init(void)
{
	frequency = read_sysreg(cntfrq_el0);
	if (frequency == 0)
		frequency = 62500000; /* QEMU's default; firmware forgot CNTFRQ_EL0 */
	write_sysreg(cntv_ctl_el0, 0);
}

uint64_t arch_timer_frequency(void)
{
	return frequency;
}

uint64_t arch_timer_counter(void)
{
	isb(); /* keep the read from being taken early */
	return read_sysreg(cntvct_el0);
}

uint64_t arch_timer_system_counter(void)
{
	isb();
	return read_sysreg(cntpct_el0); /* Xen sets CNTHCTL_EL2.EL1PCTEN: readable at EL1 */
}

uint64_t arch_timer_ticks_to_ns(uint64_t ticks)
{
	return (ticks / frequency) * 1000000000ull + (ticks % frequency) * 1000000000ull / frequency;
}

uint64_t arch_timer_ns_to_ticks(uint64_t ns)
{
	return (ns / 1000000000ull) * frequency + (ns % 1000000000ull) * frequency / 1000000000ull;
}

uint64_t arch_timer_now_ns(void)
{
	return arch_timer_ticks_to_ns(arch_timer_counter());
}

void arch_timer_set_deadline(uint64_t deadline_ns)
{
	uint64_t ticks;

	if (deadline_ns == 0) {
		write_sysreg(cntv_ctl_el0, 0);
		return;
	}
	ticks = arch_timer_ns_to_ticks(deadline_ns);
	write_sysreg(cntv_cval_el0, ticks);
	write_sysreg(cntv_ctl_el0, CNTV_CTL_ENABLE);
	isb();
}

unsigned int arch_timer_irq(void)
{
	return timer_irq;
}

void arch_timer_set_irq(unsigned int irq)
{
	timer_irq = irq;
}
