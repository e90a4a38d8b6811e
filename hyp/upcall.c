/*
 * The upcall's latency sampled while serving (see upcall.h). A sample is sent only from
 * upcall_idle, which the main loop calls when it has nothing else to do, and at most one is
 * in flight: no request waits behind more than one hypercall of it, and none is served while
 * one is sent.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arch/timer.h"
#include "hyp/evtchn.h"
#include "hyp/upcall.h"
#include "lib/hist.h"
#include "lib/log.h"

/* The sampler: one per vdisk, as the upcall is the domain's. */
static struct {
	uint64_t period_ns; /* 0: not sampling */
	bool open;          /* rx and tx are bound */
	uint32_t rx, tx;    /* the loopback channel: sent on tx, handled on rx */
	uint64_t due_ns;    /* the next sample goes at the first idle moment from here on */
	bool in_flight;
	uint64_t sent_ns; /* arch_timer_now_ns at the send, for UPCALL_LOST_NS */
	uint64_t sent;    /* the counter just before the send */
	uint64_t due_ticks; /* upcall_due_ns on the counter: upcall_due's cheap test */
	uint64_t lost_count;
	struct hist hist;
} sampler;

/* After every change of upcall_due_ns. */
static void set_due(void)
{
	sampler.due_ticks = arch_timer_ns_to_ticks(upcall_due_ns());
}

static void arrived(uint32_t port, void *arg)
{
	uint64_t at = arch_timer_counter();

	/* Not in flight: a sample counted lost, arriving after all. */
	if (!sampler.in_flight)
		return;
	sampler.in_flight = false;
	set_due();
	hist_add(&sampler.hist, arch_timer_ticks_to_ns(at - sampler.sent));
}

/* The sample in flight did not arrive: the next may go. Said the first time only. */
static void lose(void)
{
	sampler.in_flight = false;
	set_due();
	if (sampler.lost_count++ == 0)
		log_warn("upcall: sample on port %u did not arrive in %llu ms: lost (said once)",
		         sampler.tx, UPCALL_LOST_NS / 1000000ull);
}

int upcall_start(uint16_t self, uint64_t period_ns)
{
	int rc;

	if (sampler.open) {
		evtchn_close(sampler.tx);
		evtchn_close(sampler.rx);
	}
	memset(&sampler, 0, sizeof(sampler));
	if (!period_ns)
		return 0;
	rc = evtchn_bind_loopback(self, arrived, NULL, &sampler.rx, &sampler.tx);
	if (rc)
		return rc;
	sampler.open = true;
	sampler.period_ns = period_ns;
	sampler.due_ns = arch_timer_now_ns() + period_ns;
	set_due();
	return 0;
}

bool upcall_idle(uint64_t now)
{
	int rc;

	if (!sampler.period_ns)
		return false;
	if (sampler.in_flight) {
		if (now - sampler.sent_ns < UPCALL_LOST_NS)
			return false;
		lose();
	}
	if (now < sampler.due_ns)
		return false;
	sampler.due_ns = now + sampler.period_ns;
	sampler.sent_ns = now;
	sampler.sent = arch_timer_counter();
	rc = evtchn_send(sampler.tx);
	if (rc) {
		log_error("upcall: sending a sample on port %u failed (%d); sampling stopped",
		          sampler.tx, rc);
		sampler.period_ns = 0;
		set_due();
		return false;
	}
	sampler.in_flight = true;
	set_due();
	return true;
}

bool upcall_due(void)
{
	return sampler.period_ns && arch_timer_counter() >= sampler.due_ticks;
}

uint64_t upcall_due_ns(void)
{
	if (!sampler.period_ns)
		return 0;
	return sampler.in_flight ? sampler.sent_ns + UPCALL_LOST_NS : sampler.due_ns;
}

const struct hist *upcall_hist(void)
{
	return &sampler.hist;
}
