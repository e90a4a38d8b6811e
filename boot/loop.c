/*
 * The main loop. vdisk never takes interrupts as exceptions: it sleeps in WFI with
 * PSTATE.I masked (WFI still wakes on a pending interrupt), or yields right after answering
 * an IOREQ, then acknowledges what the GIC holds and dispatches event channels. Handlers
 * therefore never preempt each other.
 */
#include <errno.h>
#include <stdbool.h>

#include "arch/cpu.h"
#include "arch/gic.h"
#include "arch/timer.h"
#include "boot/loop.h"
#include "hyp/evtchn.h"
#include "hyp/ioreq.h"
#include "hyp/upcall.h"
#include "hyp/xen.h"
#include "hyp/xs.h"
#include "lib/log.h"

#define WORK_MAX 32

struct work {
	loop_work_fn fn;
	void *arg;
	uint64_t due_ns; /* 0: as soon as possible */
	uint64_t pass;   /* the first run_deferred pass that may run it */
};

static struct loop_irqs irqs;
struct device_irq {
	unsigned int irq;
	loop_work_fn fn;
	void *arg;
};

static struct device_irq device_irqs[LOOP_IRQ_MAX];
static unsigned int device_irq_count;
static struct work works[WORK_MAX];
static unsigned int work_count;
static uint64_t pass; /* run_deferred passes so far */
static uint64_t idle_ns;     /* asleep in WFI or yielded, since boot (loop_idle_ns) */
static uint64_t yield_count; /* loop_yield_count */
static uint64_t answered_at_sleep; /* ioreq_answered_count when the loop last went idle */

uint64_t loop_idle_ns(void)
{
	return idle_ns;
}

uint64_t loop_yield_count(void)
{
	return yield_count;
}
static bool yield_wanted; /* give the CPU away once before the next pass (loop_defer_after_yield) */
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

int loop_irq(unsigned int irq, loop_work_fn fn, void *arg)
{
	if (irq < 32 || irq >= 1020)
		return -EINVAL;
	for (unsigned int i = 0; i < device_irq_count; i++)
		if (device_irqs[i].irq == irq)
			return -EINVAL;
	if (device_irq_count == LOOP_IRQ_MAX)
		return -ENOSPC;
	device_irqs[device_irq_count++] = (struct device_irq){irq, fn, arg};
	arch_gic_enable(irq);
	return 0;
}

/* A device's interrupt: its handler, or false if nobody took `irq` (loop_irq). */
static bool device_irq(unsigned int irq)
{
	for (unsigned int i = 0; i < device_irq_count; i++) {
		if (device_irqs[i].irq == irq) {
			device_irqs[i].fn(device_irqs[i].arg);
			return true;
		}
	}
	return false;
}

/* Acknowledges what the GIC holds, then runs the handlers of pending event channels. */
static void dispatch_port(uint32_t port, bool all)
{
	for (;;) {
		unsigned int irq = arch_gic_ack();

		if (irq >= 1020)
			break;
		if (irq == irqs.timer)
			arch_timer_set_deadline(0); /* level-triggered: silence it before EOI */
		else if (irq != irqs.upcall && !device_irq(irq))
			log_warn("loop: unexpected interrupt %u", irq);
		arch_gic_eoi(irq);
	}
	/* The upcall PPI only says "look": the pending bits are the truth. */
	if (irqs.upcall) {
		if (all)
			evtchn_dispatch();
		else
			evtchn_dispatch_port(port);
	}
}

static void dispatch(void)
{
	dispatch_port(0, true);
}

/* Sleeps until an interrupt or the deadline, then dispatches all ports or just `port`. */
static int wait(uint64_t deadline_ns, uint32_t port, bool all)
{
	if (deadline_ns && arch_timer_now_ns() >= deadline_ns)
		return -ETIMEDOUT;
	arch_timer_set_deadline(deadline_ns);
	/*
	 * Xen raises the upcall interrupt only when evtchn_upcall_pending goes from 0 to 1:
	 * with the flag already set there may be nothing to wake us, so do not sleep.
	 */
	if (!(irqs.upcall && (evtchn_upcall_pending() || (all && evtchn_deferred())))) {
		uint64_t t = arch_timer_now_ns();

		/*
		 * A guest whose IOREQ was just answered is runnable: on a shared CPU, yielding
		 * hands it the CPU without blocking, and its next IOREQ finds vdisk runnable
		 * rather than asleep (0.4 us less a round trip in make bench's null IOREQ).
		 * With a CPU of its own the yield returns at once and the next wait blocks.
		 */
		if (all && ioreq_answered_count() != answered_at_sleep) {
			answered_at_sleep = ioreq_answered_count();
			yield_count++;
			xen_yield();
		} else {
			arch_cpu_wait_for_interrupt();
		}
		idle_ns += arch_timer_now_ns() - t;
	}
	dispatch_port(port, all);
	if (deadline_ns && arch_timer_now_ns() >= deadline_ns)
		return -ETIMEDOUT;
	return 0;
}

int loop_wait(uint64_t deadline_ns)
{
	return wait(deadline_ns, 0, true);
}

int loop_wait_port(uint32_t port, uint64_t deadline_ns)
{
	return wait(deadline_ns, port, false);
}

static int defer(loop_work_fn fn, void *arg, uint64_t due_ns, uint64_t not_before_pass)
{
	for (unsigned int i = 0; i < work_count; i++) {
		if (works[i].fn == fn && works[i].arg == arg) {
			if (due_ns < works[i].due_ns)
				works[i].due_ns = due_ns;
			if (not_before_pass < works[i].pass)
				works[i].pass = not_before_pass;
			return 0;
		}
	}
	if (work_count == WORK_MAX) {
		log_error("loop: deferred work queue full");
		return -ENOSPC;
	}
	works[work_count++] =
	    (struct work){.fn = fn, .arg = arg, .due_ns = due_ns, .pass = not_before_pass};
	return 0;
}

int loop_defer_until(loop_work_fn fn, void *arg, uint64_t due_ns)
{
	return defer(fn, arg, due_ns, 0);
}

int loop_defer(loop_work_fn fn, void *arg)
{
	return defer(fn, arg, 0, 0);
}

int loop_defer_next_pass(loop_work_fn fn, void *arg)
{
	return defer(fn, arg, 0, pass + 1);
}

int loop_defer_after_yield(loop_work_fn fn, void *arg)
{
	yield_wanted = true;
	return defer(fn, arg, 0, pass + 1);
}

/* Runs the work that is due; returns the earliest time still pending (0: none). */
static uint64_t run_deferred(void)
{
	uint64_t now = arch_timer_now_ns();
	uint64_t next = 0;

	pass++;
	for (unsigned int i = 0; i < work_count;) {
		struct work w = works[i];

		if (w.pass > pass) {
			next = 1; /* due at once, in the next pass: loop_run must not sleep */
			i++;
			continue;
		}
		if (w.due_ns > now) {
			next = next && next < w.due_ns ? next : w.due_ns;
			i++;
			continue;
		}
		works[i] = works[--work_count];
		w.fn(w.arg);
		/* fn may have queued work: look at the whole queue again. */
		i = 0;
		now = arch_timer_now_ns();
		next = 0;
	}
	return next;
}

unsigned int loop_run(void)
{
	while (!stopping) {
		uint64_t next;

		dispatch();
		if (yield_wanted) {
			/*
			 * On a shared CPU the guest that just notified runs now and may queue
			 * more; with a CPU of its own, Xen returns at once. What arrived
			 * meanwhile (its next ioreq) is dispatched before the deferred work.
			 */
			uint64_t t = arch_timer_now_ns();

			yield_wanted = false;
			yield_count++;
			xen_yield();
			idle_ns += arch_timer_now_ns() - t;
			dispatch();
		}
		if (xs_available() && xs_watches_pending())
			xs_dispatch_watches();
		next = run_deferred();
		if (stopping)
			break;
		/* Deferred work may have queued watch events while it talked to xenstore. */
		if (xs_available() && xs_watches_pending())
			continue;
		if (work_count && !next)
			continue; /* work for the next pass: no sleep */
		/*
		 * Nothing to do before `next` or an event: the one moment the upcall sampler may
		 * send, so that a sample never runs inside a pass that serves a request. Its event
		 * is then pending and the wait dispatches it without sleeping. The sampler never
		 * sets the wait's deadline: a timer armed while vdisk blocks costs Xen one of its
		 * own at every block and wake (0.5 us an IOREQ in make bench), so samples come when
		 * vdisk goes idle anyway.
		 */
		if (upcall_due() && !evtchn_upcall_pending() && !evtchn_deferred()) {
			uint64_t now = arch_timer_now_ns();

			if (!next || next > now)
				upcall_idle(now);
		}
		loop_wait(next);
	}
	return stop_reason;
}

void loop_stop(unsigned int reason)
{
	stopping = true;
	stop_reason = reason;
}
