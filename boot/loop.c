/*
 * The main loop. vdisk never takes interrupts as exceptions: it sleeps in WFI with
 * PSTATE.I masked (WFI still wakes on a pending interrupt), then acknowledges what the
 * GIC holds and dispatches event channels. Handlers therefore never preempt each other.
 */
#include <errno.h>
#include <stdbool.h>

#include "arch/cpu.h"
#include "arch/gic.h"
#include "arch/timer.h"
#include "boot/log.h"
#include "boot/loop.h"
#include "hyp/evtchn.h"
#include "hyp/xs.h"

#define WORK_MAX 32

struct work {
	loop_work_fn fn;
	void *arg;
};

static struct loop_irqs irqs;
static struct work works[WORK_MAX];
static unsigned int work_count;
static bool stopping;
static unsigned int stop_reason;

void loop_init(const struct loop_irqs *i)
{
	irqs = *i;
	if (irqs.timer)
		arch_gic_enable(irqs.timer);
	if (irqs.upcall)
		arch_gic_enable(irqs.upcall);
}

static void dispatch(void)
{
	for (;;) {
		unsigned int irq = arch_gic_ack();

		if (irq >= 1020)
			break;
		if (irq == irqs.timer)
			arch_timer_set_deadline(0); /* level-triggered: silence it before EOI */
		else if (irq != irqs.upcall)
			log_warn("loop: unexpected interrupt %u", irq);
		arch_gic_eoi(irq);
	}
	/* The upcall PPI only says "look": the pending bits are the truth. */
	if (irqs.upcall)
		evtchn_dispatch();
}

int loop_wait(uint64_t deadline_ns)
{
	if (deadline_ns && arch_timer_now_ns() >= deadline_ns)
		return -ETIMEDOUT;
	arch_timer_set_deadline(deadline_ns);
	arch_cpu_wait_for_interrupt();
	dispatch();
	if (deadline_ns && arch_timer_now_ns() >= deadline_ns)
		return -ETIMEDOUT;
	return 0;
}

int loop_defer(loop_work_fn fn, void *arg)
{
	for (unsigned int i = 0; i < work_count; i++)
		if (works[i].fn == fn && works[i].arg == arg)
			return 0;
	if (work_count == WORK_MAX) {
		log_error("loop: deferred work queue full");
		return -ENOSPC;
	}
	works[work_count++] = (struct work){.fn = fn, .arg = arg};
	return 0;
}

static void run_deferred(void)
{
	while (work_count) {
		struct work w = works[0];

		for (unsigned int i = 1; i < work_count; i++)
			works[i - 1] = works[i];
		work_count--;
		w.fn(w.arg);
	}
}

unsigned int loop_run(void)
{
	while (!stopping) {
		dispatch();
		run_deferred();
		if (xs_available())
			xs_dispatch_watches();
		if (stopping)
			break;
		loop_wait(0);
	}
	return stop_reason;
}

void loop_stop(unsigned int reason)
{
	stopping = true;
	stop_reason = reason;
}
