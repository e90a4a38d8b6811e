/*
 * The event-channel upcall's latency while vdisk serves. Every period, at a moment the main
 * loop would otherwise sleep, vdisk sends itself an event on a loopback channel and counts, on
 * the virtual counter, the time from just before the send to the handler running: the
 * hypercall, Xen marking the port and raising the upcall, and vdisk's dispatch (the start-up
 * measurement of boot/diag.c, one event at a time). The upcall is the domain's (vCPU 0's),
 * shared by every device, so there is one sampler per vdisk.
 */
#ifndef HYP_UPCALL_H
#define HYP_UPCALL_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/hist.h"

/** How long a sample may stay unanswered before it counts as lost and the next may go. */
#define UPCALL_LOST_NS 1000000000ull

/**
 * Opens a loopback channel of domain `self` (evtchn_bind_loopback) and samples every
 * period_ns from then on, the first one period_ns from now; period_ns 0 opens nothing.
 * Starting again closes the last channel and empties the histogram. Returns 0 or -errno.
 */
int upcall_start(uint16_t self, uint64_t period_ns);
/**
 * For the main loop, at a moment it would otherwise sleep (nothing due, no event pending), at
 * `now` (arch_timer_now_ns): sends a sample if one is due and none is in flight. Returns true
 * when it sent one: its event is then pending, so the loop's wait dispatches it at once.
 */
bool upcall_idle(uint64_t now);
/**
 * When upcall_idle next has something to do (absolute, on arch_timer_now_ns's clock): the
 * next sample, or the in-flight one's UPCALL_LOST_NS; 0 when not sampling.
 */
uint64_t upcall_due_ns(void);
/**
 * Whether upcall_idle may have something to do now (upcall_due_ns has come), for the loop to
 * ask at every idle moment: one counter read, no conversion.
 */
bool upcall_due(void);
/** The samples so far (empty when not sampling). */
const struct hist *upcall_hist(void);

#endif
