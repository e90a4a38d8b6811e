/*
 * The PV console (io/console.h): vdisk writes to out[] and notifies; xenconsoled in dom0
 * consumes. The consumer index comes from another domain: read once, checked before use.
 */
#include <errno.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/io/console.h>
#include <xen/hvm/params.h>

#include "arch/barrier.h"
#include "arch/mmu.h"
#include "arch/timer.h"
#include "hyp/console.h"
#include "hyp/evtchn.h"
#include "hyp/xen.h"

#define FULL_TIMEOUT_NS 1000000000ull

static struct xencons_interface *ring;
static uint32_t port;
static size_t dropped;
static bool wedged; /* the consumer stopped once: do not wait for it again */

int console_init(void)
{
	uint64_t pfn, evtchn;
	int rc;

	if (xen_hvm_param_get(HVM_PARAM_CONSOLE_PFN, &pfn) || pfn == 0 || pfn == ~0ull ||
	    xen_hvm_param_get(HVM_PARAM_CONSOLE_EVTCHN, &evtchn) || evtchn == 0)
		return -ENODEV;
	rc = arch_mmu_map(pfn << XEN_PAGE_SHIFT, XEN_PAGE_SIZE, MMU_NORMAL);
	if (rc)
		return rc;
	ring = (struct xencons_interface *)(uintptr_t)(pfn << XEN_PAGE_SHIFT);
	port = (uint32_t)evtchn;
	/* xenconsoled signals when it has consumed output: that only needs to wake us. */
	evtchn_bind(port, evtchn_ignore, NULL);
	return 0;
}

void console_write(const char *buf, size_t len)
{
	uint64_t deadline = 0;

	while (len && ring) {
		XENCONS_RING_IDX cons = __atomic_load_n(&ring->out_cons, __ATOMIC_RELAXED);
		XENCONS_RING_IDX prod = ring->out_prod;
		XENCONS_RING_IDX used = prod - cons;
		size_t room;

		smp_mb();
		if (used > sizeof(ring->out))
			break; /* impossible indexes: the consumer is broken */
		room = sizeof(ring->out) - used;
		if (room == 0) {
			evtchn_send(port);
			if (wedged)
				break;
			if (!deadline)
				deadline = arch_timer_now_ns() + FULL_TIMEOUT_NS;
			if (arch_timer_now_ns() > deadline) {
				wedged = true;
				break;
			}
			xen_yield();
			continue;
		}
		wedged = false;
		deadline = 0;
		for (; room && len; room--, len--, buf++)
			ring->out[MASK_XENCONS_IDX(prod++, ring->out)] = *buf;
		smp_wmb();
		__atomic_store_n(&ring->out_prod, prod, __ATOMIC_RELAXED);
		evtchn_send(port);
	}
	dropped += len;
}

int console_drain(uint64_t timeout_ns)
{
	uint64_t deadline = arch_timer_now_ns() + timeout_ns;

	while (ring && __atomic_load_n(&ring->out_cons, __ATOMIC_RELAXED) != ring->out_prod) {
		if (arch_timer_now_ns() > deadline)
			return -ETIMEDOUT;
		evtchn_send(port);
		xen_yield();
	}
	return 0;
}

size_t console_dropped(void)
{
	return dropped;
}
