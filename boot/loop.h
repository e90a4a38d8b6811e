/* The main loop: sleep in WFI, acknowledge interrupts, dispatch event channels and watches. */
#ifndef BOOT_LOOP_H
#define BOOT_LOOP_H

#include <stdint.h>

/** Interrupt numbers the loop listens to, from the device tree. */
struct loop_irqs {
	unsigned int upcall; /* Xen event channel upcall PPI, 0 without Xen */
	unsigned int timer;  /* EL1 virtual timer PPI */
};

/** Enables the interrupts at the GIC. */
void loop_init(const struct loop_irqs *irqs);
/**
 * Sleeps until an interrupt arrives or deadline_ns (absolute, 0 = none) passes, then
 * dispatches event channels. Watch handlers do not run here. Returns -ETIMEDOUT once the
 * deadline has passed, else 0.
 */
int loop_wait(uint64_t deadline_ns);
/**
 * Like loop_wait, but runs only `port`'s handler; events on other ports wait for the main
 * loop. For a caller that waits for one answer in the middle of other work (the xenstore
 * client): no other handler runs under it.
 */
int loop_wait_port(uint32_t port, uint64_t deadline_ns);
/** Work that must not run inside an event handler (e.g. a xenstore request). */
typedef void (*loop_work_fn)(void *arg);

/** Most device interrupts the loop takes (loop_irq). */
#define LOOP_IRQ_MAX 4
/**
 * Takes interrupt `irq` (a device's SPI) at the GIC: when it comes, fn(arg) runs before the
 * interrupt is ended, so a level-triggered device must be silenced there. fn runs wherever
 * the loop dispatches, inside a wait too: it quiets the device and defers the rest. Returns
 * 0, -EINVAL (not an SPI, or taken already) or -ENOSPC (LOOP_IRQ_MAX taken).
 */
int loop_irq(unsigned int irq, loop_work_fn fn, void *arg);

/**
 * Runs fn(arg) from the main loop, outside any handler. A request already queued with the
 * same fn and arg is not queued twice. Returns 0, or -ENOSPC when the queue is full.
 */
int loop_defer(loop_work_fn fn, void *arg);
/** Like loop_defer, not before due_ns (absolute, on arch_timer_now_ns's clock). */
int loop_defer_until(loop_work_fn fn, void *arg, uint64_t due_ns);
/**
 * Like loop_defer, but only after the loop has dispatched events once more: for work that
 * queues itself again (e.g. a guest's queue served a budget at a time), so that it cannot
 * keep the loop from everything else.
 */
int loop_defer_next_pass(loop_work_fn fn, void *arg);
/**
 * Like loop_defer_next_pass, and the loop gives the CPU to Xen's other vCPUs once
 * (SCHEDOP_yield) before that pass: for work a guest's notify asked for, which goes better
 * when the guest has had the CPU to add to it first.
 */
int loop_defer_after_yield(loop_work_fn fn, void *arg);
/** How often the loop gave the CPU away for loop_defer_after_yield (dom0's statistics). */
uint64_t loop_yield_count(void);
/** Time spent asleep in WFI or yielded since boot, in ns (dom0's statistics). */
uint64_t loop_idle_ns(void);
/** Serves events until a shutdown is requested; returns the SHUTDOWN_* reason. */
unsigned int loop_run(void);
/** Asks loop_run to return with a SHUTDOWN_* reason. */
void loop_stop(unsigned int reason);

#endif
