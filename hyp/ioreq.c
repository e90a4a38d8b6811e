/*
 * IOREQ server (see ioreq.h). Each slot is read once into a local after its state says
 * IOREQ_READY, checked (type, size, count, address in our window), handled, and completed as
 * Xen's wait_for_io() expects: data, barrier, state = IORESP_READY, barrier, notify.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/hvm/ioreq.h>

#include "arch/barrier.h"
#include "arch/timer.h"
#include "hyp/dm.h"
#include "hyp/evtchn.h"
#include "hyp/frames.h"
#include "hyp/ioreq.h"
#include "lib/log.h"

_Static_assert(sizeof(struct ioreq) * IOREQ_VCPU_MAX == XEN_PAGE_SIZE, "ioreq slots per page");

/* Every ioreq answered, by all servers since boot (ioreq_answered_count), and the time from
 * reading each to writing its answer, before the notify hypercall (ioreq_busy_ns). */
static uint64_t answered_count;
static uint64_t busy_ns;

static bool valid_copy(const struct ioreq_server *s, const struct ioreq *req)
{
	uint64_t size = req->size;

	if (req->data_is_ptr || req->count != 1)
		return false;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return false;
	/* A window smaller than the access must not wrap the subtraction below. */
	return size <= s->size && req->addr >= s->base && req->addr - s->base <= s->size - size;
}

static void complete(struct ioreq_server *s, uint32_t vcpu, struct ioreq *slot, uint64_t data)
{
	volatile struct ioreq *v = slot;

	v->data = data;
	smp_wmb(); /* Xen reads state, then data */
	v->state = STATE_IORESP_READY;
	smp_mb();
	evtchn_send(s->ports[vcpu]);
	answered_count++;
}

uint64_t ioreq_answered_count(void)
{
	return answered_count;
}

uint64_t ioreq_busy_ns(void)
{
	return busy_ns;
}

static void handle_slot(struct ioreq_server *s, uint32_t vcpu)
{
	struct ioreq *slot = &s->page->vcpu_ioreq[vcpu];
	struct ioreq req;
	uint64_t mask, data, start, elapsed;

	if (((volatile struct ioreq *)slot)->state != STATE_IOREQ_READY)
		return;
	start = arch_timer_now_ns();
	smp_rmb(); /* the state before the fields it covers */
	memcpy(&req, (const void *)slot, sizeof(req));
	/*
	 * A read answers only the bits of its size, refused or not: Xen 4.17's handle_ioserv()
	 * puts data in the guest's register as it is, expecting the rest zeroed.
	 */
	mask = req.size >= 1 && req.size < 8 ? (1ull << (req.size * 8)) - 1 : ~0ull;
	data = mask;

	if (req.type == IOREQ_TYPE_INVALIDATE) {
		if (s->ops->invalidate)
			s->ops->invalidate(s->ctx);
		data = req.data;
	} else if (req.type == IOREQ_TYPE_COPY && valid_copy(s, &req)) {
		uint64_t offset = req.addr - s->base;

		if (req.dir == IOREQ_READ) {
			data = s->ops->read(s->ctx, offset, req.size) & mask;
		} else {
			s->ops->write(s->ctx, offset, req.size, req.data & mask);
			data = req.data;
		}
		s->handled++;
	} else {
		/* Reads of what we cannot serve return all ones, as an absent device would. */
		s->rejected++;
		log_limited(s->limit, LOG_WARN,
		            "ioreq: dom%u vcpu%u: rejected type %u %s of %u x %u bytes at %#llx "
		            "(window %#llx+%#llx, ptr %u)",
		            s->domid, vcpu, req.type, req.dir == IOREQ_READ ? "read" : "write",
		            req.count, req.size, (unsigned long long)req.addr,
		            (unsigned long long)s->base, (unsigned long long)s->size,
		            req.data_is_ptr);
		if (req.dir != IOREQ_READ)
			data = req.data;
	}
	/* vdisk's own time: what Xen does for the notify below (waking the vCPU) is not. */
	elapsed = arch_timer_now_ns() - start;
	busy_ns += elapsed;
	hist_add(&s->turnaround, elapsed);
	complete(s, vcpu, slot, data);
}

void ioreq_server_poll(struct ioreq_server *s)
{
	if (!s->page || !s->enabled)
		return;
	for (uint32_t v = 0; v < s->port_count; v++)
		handle_slot(s, v);
}

static void ioreq_event(uint32_t port, void *arg)
{
	ioreq_server_poll(arg);
}

static int fail(struct ioreq_server *s, const char *step, int rc)
{
	/* No device-model rights (yet) is for the caller to report: it may wait for them. */
	if (rc == -EPERM || rc == -EACCES)
		log_debug("ioreq: dom%u: %s refused (%d)", s->domid, step, rc);
	else
		log_error("ioreq: dom%u: %s failed (%d)", s->domid, step, rc);
	ioreq_server_stop(s);
	return rc;
}

int ioreq_server_start(struct ioreq_server *s, uint16_t domid, uint64_t base, uint64_t size,
		       const struct ioreq_ops *ops, void *ctx)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->domid = domid;
	s->base = base;
	s->size = size;
	s->ops = ops;
	s->ctx = ctx;
	if (size == 0 || base + size < base)
		return fail(s, "checking the MMIO window", -EINVAL);

	if ((rc = dm_nr_vcpus(domid, &s->vcpu_count)))
		return fail(s, "XEN_DMOP_nr_vcpus", rc);
	if (s->vcpu_count == 0 || s->vcpu_count > IOREQ_VCPU_MAX)
		return fail(s, "checking the vCPU count", -E2BIG);
	if ((rc = dm_create_ioreq_server(domid, &s->id)))
		return fail(s, "XEN_DMOP_create_ioreq_server", rc);
	s->created = true;
	if ((rc = frames_alloc(1, &s->page_frame)))
		return fail(s, "allocating a frame for the ioreq page", rc);
	if ((rc = xen_acquire_ioreq_page(domid, s->id, s->page_frame))) {
		frames_free(s->page_frame, 1);
		return fail(s, "XENMEM_acquire_resource of the ioreq page", rc);
	}
	s->page = frames_ptr(s->page_frame);
	if ((rc = dm_map_mmio_range(domid, s->id, base, base + size - 1)))
		return fail(s, "XEN_DMOP_map_io_range_to_ioreq_server", rc);
	if ((rc = dm_set_ioreq_server_state(domid, s->id, true)))
		return fail(s, "enabling the server", rc);
	s->enabled = true;

	/* Enabling made Xen allocate one unbound port per vCPU in the guest, for us. */
	for (uint32_t v = 0; v < s->vcpu_count; v++) {
		uint32_t remote = ((volatile struct ioreq *)&s->page->vcpu_ioreq[v])->vp_eport;
		int port = evtchn_bind_interdomain(domid, remote);

		if (port < 0)
			return fail(s, "binding a vCPU's ioreq event channel", port);
		s->ports[v] = (uint32_t)port;
		s->port_count = v + 1;
		evtchn_bind((uint32_t)port, ioreq_event, s);
	}
	log_info("ioreq: dom%u: server %u for MMIO %#llx+%#llx, %u vCPU(s)", domid, s->id,
		 (unsigned long long)base, (unsigned long long)size, s->vcpu_count);
	/* A request may have been posted before the ports were bound. */
	ioreq_server_poll(s);
	return 0;
}

void ioreq_server_stop(struct ioreq_server *s)
{
	for (uint32_t v = 0; v < s->port_count; v++)
		evtchn_close(s->ports[v]);
	s->port_count = 0;
	if (s->enabled)
		dm_set_ioreq_server_state(s->domid, s->id, false);
	s->enabled = false;
	if (s->page) {
		xen_unmap_frame(s->page_frame);
		frames_free(s->page_frame, 1);
		s->page = NULL;
	}
	if (s->created)
		dm_destroy_ioreq_server(s->domid, s->id);
	s->created = false;
}
