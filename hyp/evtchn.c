/*
 * 2-level event channels (public/event_channel.h, public/xen.h shared_info). The upcall
 * interrupt only wakes the main loop; evtchn_dispatch() then walks the selector and the
 * pending words as Linux's events_2l.c does and calls each port's handler.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/event_channel.h>

#include "arch/barrier.h"
#include "arch/hypercall.h"
#include "hyp/evtchn.h"
#include "hyp/xen.h"
#include "lib/log.h"

#define BITS_PER_WORD (sizeof(xen_ulong_t) * 8)
#define PORT_COUNT    (BITS_PER_WORD * BITS_PER_WORD) /* EVTCHN_2L_NR_CHANNELS */

struct binding {
	evtchn_handler_fn fn;
	void *arg;
};

static struct shared_info *shared;
static struct vcpu_info *vcpu;
static struct binding bindings[PORT_COUNT];
static uint64_t stray;
/* Words of the 2-level bitmap with events a dispatch of one port left for later. */
static xen_ulong_t deferred;

static xen_ulong_t word_bit(uint32_t port)
{
	return (xen_ulong_t)1 << (port % BITS_PER_WORD);
}

void evtchn_init(struct shared_info *s, struct vcpu_info *v)
{
	shared = s;
	vcpu = v;
	deferred = 0;
}

int evtchn_alloc_unbound(uint16_t remote_dom)
{
	struct evtchn_alloc_unbound op = {.dom = DOMID_SELF, .remote_dom = remote_dom};
	long rc = hypercall_event_channel_op(EVTCHNOP_alloc_unbound, &op);

	return rc < 0 ? xen_errno(rc) : (int)op.port;
}

int evtchn_bind_interdomain(uint16_t remote_dom, uint32_t remote_port)
{
	struct evtchn_bind_interdomain op = {.remote_dom = remote_dom, .remote_port = remote_port};
	long rc = hypercall_event_channel_op(EVTCHNOP_bind_interdomain, &op);

	return rc < 0 ? xen_errno(rc) : (int)op.local_port;
}

int evtchn_send(uint32_t port)
{
	struct evtchn_send op = {.port = port};

	return xen_errno(hypercall_event_channel_op(EVTCHNOP_send, &op));
}

int evtchn_close(uint32_t port)
{
	struct evtchn_close op = {.port = port};

	if (port < PORT_COUNT) {
		evtchn_mask(port);
		bindings[port] = (struct binding){0};
	}
	return xen_errno(hypercall_event_channel_op(EVTCHNOP_close, &op));
}

int evtchn_bind(uint32_t port, evtchn_handler_fn fn, void *arg)
{
	if (port == 0 || port >= PORT_COUNT || !fn)
		return -EINVAL;
	if (!shared)
		return -ENODEV;
	bindings[port] = (struct binding){.fn = fn, .arg = arg};
	evtchn_unmask(port);
	return 0;
}

void evtchn_ignore(uint32_t port, void *arg)
{
}

int evtchn_bind_loopback(uint16_t self, evtchn_handler_fn fn, void *arg, uint32_t *rx, uint32_t *tx)
{
	int r = evtchn_alloc_unbound(self);
	int t, rc;

	if (r < 0)
		return r;
	t = evtchn_bind_interdomain(self, (uint32_t)r);
	if (t < 0) {
		evtchn_close((uint32_t)r);
		return t;
	}
	if ((rc = evtchn_bind((uint32_t)r, fn, arg)) ||
	    (rc = evtchn_bind((uint32_t)t, evtchn_ignore, NULL))) {
		evtchn_close((uint32_t)t);
		evtchn_close((uint32_t)r);
		return rc;
	}
	*rx = (uint32_t)r;
	*tx = (uint32_t)t;
	return 0;
}

void evtchn_mask(uint32_t port)
{
	if (port >= PORT_COUNT)
		return;
	__atomic_fetch_or(&shared->evtchn_mask[port / BITS_PER_WORD], word_bit(port),
			  __ATOMIC_SEQ_CST);
}

void evtchn_unmask(uint32_t port)
{
	xen_ulong_t bit = word_bit(port);
	xen_ulong_t pending;

	if (port >= PORT_COUNT)
		return;
	__atomic_fetch_and(&shared->evtchn_mask[port / BITS_PER_WORD], ~bit, __ATOMIC_SEQ_CST);
	pending = __atomic_load_n(&shared->evtchn_pending[port / BITS_PER_WORD], __ATOMIC_SEQ_CST);
	if (pending & bit) {
		/* An event that came while masked raised no upcall: have Xen deliver it again. */
		struct evtchn_unmask op = {.port = port};

		__atomic_fetch_or(&shared->evtchn_mask[port / BITS_PER_WORD], bit,
				  __ATOMIC_SEQ_CST);
		hypercall_event_channel_op(EVTCHNOP_unmask, &op);
	}
}

/* Runs the port's handler; returns whether there was one. */
static bool handle(uint32_t port)
{
	struct binding b = bindings[port];

	if (b.fn) {
		b.fn(port, b.arg);
		return true;
	}
	/* Nobody listens here: mask it rather than be woken by it forever. */
	stray++;
	log_warn("evtchn: event on unbound port %u, masking it", port);
	evtchn_mask(port);
	return false;
}

/*
 * Runs the handlers of pending ports: every one, or (only < PORT_COUNT) just that one, the
 * others left pending with their words in `deferred` for the next full dispatch.
 */
static unsigned int dispatch(uint32_t only)
{
	unsigned int handled = 0;

	while (__atomic_load_n(&vcpu->evtchn_upcall_pending, __ATOMIC_ACQUIRE) ||
	       (only >= PORT_COUNT && deferred)) {
		xen_ulong_t sel;

		__atomic_store_n(&vcpu->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
		smp_mb();
		sel = __atomic_exchange_n(&vcpu->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
		if (only >= PORT_COUNT) {
			sel |= deferred;
			deferred = 0;
		}
		while (sel) {
			unsigned int w = (unsigned int)__builtin_ctzll(sel);
			xen_ulong_t bits;

			sel &= sel - 1;
			bits = __atomic_load_n(&shared->evtchn_pending[w], __ATOMIC_ACQUIRE) &
			       ~__atomic_load_n(&shared->evtchn_mask[w], __ATOMIC_ACQUIRE);
			while (bits) {
				unsigned int b = (unsigned int)__builtin_ctzll(bits);
				uint32_t port = w * BITS_PER_WORD + b;

				bits &= bits - 1;
				if (only < PORT_COUNT && port != only) {
					deferred |= (xen_ulong_t)1 << w;
					continue;
				}
				/* Clear before handling so that a new event is not lost. */
				__atomic_fetch_and(&shared->evtchn_pending[w], ~word_bit(port),
						   __ATOMIC_SEQ_CST);
				handled += handle(port);
			}
		}
	}
	return handled;
}

unsigned int evtchn_dispatch(void)
{
	return dispatch(PORT_COUNT);
}

unsigned int evtchn_dispatch_port(uint32_t port)
{
	return port < PORT_COUNT ? dispatch(port) : 0;
}

bool evtchn_upcall_pending(void)
{
	return vcpu && __atomic_load_n(&vcpu->evtchn_upcall_pending, __ATOMIC_ACQUIRE);
}

bool evtchn_deferred(void)
{
	return deferred != 0;
}

uint64_t evtchn_stray_count(void)
{
	return stray;
}
