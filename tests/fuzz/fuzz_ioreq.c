/*
 * hyp/ioreq.c: a hostile ioreq page. Xen writes the page, but here every field of every
 * slot is what the input makes it (state, type, dir, size, addr, data, data_is_ptr, count,
 * df, vp_eport, READY slots of vCPUs the guest does not have), event-channel upcalls come on
 * any port, and the fake Xen below answers each hypercall of the server's start as the
 * input says. ioreq.c runs over the real hyp/evtchn.c, hyp/dm.c and hyp/xen.c; the hypercall
 * stubs and hyp/frames.h are link seams (as in the unit tests), and the MMIO model is a fake
 * that records each access. Invariants checked:
 * - only IOREQ_TYPE_COPY reaches read/write, only IOREQ_TYPE_INVALIDATE reaches invalidate;
 *   an access is 1, 2, 4 or 8 bytes inside the window, never data_is_ptr or count != 1;
 * - when the server polls (its start, ioreq_server_poll, an upcall on one of its ports),
 *   every slot of its vCPUs in STATE_IOREQ_READY is answered exactly once: state
 *   IORESP_READY, then a notify on that vCPU's port; any other slot is left as it was, and
 *   an answer changes only data and state;
 * - a read answers the device's value masked to the access size, a refused read all ones of
 *   that size; a write gives the device the data masked to its size;
 * - start binds each vCPU's vp_eport and maps [base, base + size - 1]; stop, or a start that
 *   fails, closes every port it bound once, unmaps and frees the page and destroys the server;
 * - rejections get a bounded number of log lines.
 *
 * Input: domid, window, device seed (see the header in LLVMFuzzerTestOneInput), then actions
 * (see the OP_* list). The fake Xen takes its answers from the same stream as it is called.
 */
#define _GNU_SOURCE     /* memmem */
#define __XEN_TOOLS__ 1 /* dm_op.h's ioreq-server operations */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/hvm/dm_op.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/ioreq.h>
#include <xen/memory.h>

#include "arch/hypercall.h"
#include "hyp/evtchn.h"
#include "hyp/frames.h"
#include "hyp/ioreq.h"
#include "lib/log.h"
#include "tests/fuzz/fuzz.h"
#include "virtio/vmmio.h"

#define PAGE      4096u
#define PORTS     4096u /* 2-level event channels */
#define WORD_BITS 64u
#define OPS_MAX   256
#define CALLS_MAX 8
/* Where vdisk's devices typically sit (their window is VMMIO_WINDOW bytes). */
#define VDISK_BASE 0x02000000ull

enum op {
	OP_START,  /* u8 vCPUs (0xff: u32 follows), u8 fail (see start()), u16 per bind asked */
	OP_STOP,   /* ioreq_server_stop */
	OP_POST,   /* u8 vCPU, u8 control, fields: a request in a slot (see post()) */
	OP_RAW,    /* u16 offset, u8 length, bytes: raw ioreq page bytes */
	OP_UPCALL, /* u16 port (bit 15: the server's n-th), u8 extra: an event and a dispatch */
	OP_POLL,   /* ioreq_server_poll */
	OP_COUNT,
};

/* Steps of ioreq_server_start the failing-step byte can make fail (its low 3 bits). */
enum step {
	STEP_NONE,
	STEP_NR_VCPUS,
	STEP_CREATE,
	STEP_FRAME,
	STEP_ACQUIRE,
	STEP_MAP_RANGE,
	STEP_ENABLE,
};

static uint8_t *page_mem; /* the ioreq page: 128 slots of struct ioreq */
static struct shared_info shared;
static struct ioreq_server srv;
static struct fuzz_in in;

/* The fake Xen. */
static struct {
	uint16_t domid;
	uint64_t base, size;
	uint64_t seed;  /* the device's read values */
	uint32_t vcpus; /* XEN_DMOP_nr_vcpus's answer */
	enum step fail; /* the start step that fails */
	int fail_rc;    /* with this Xen error */
	uint16_t id;    /* the server's id */
	bool created, enabled, range_mapped;
	bool frame_taken;         /* frames_alloc gave the page frame */
	bool acquired;            /* the ioreq page is mapped there */
	uint32_t binds;           /* EVTCHNOP_bind_interdomain calls of this start */
	int16_t port_vcpu[PORTS]; /* the vCPU of each open port, or -1 */
	uint32_t open_ports;
} xen;

/* What one poll must do to each slot, computed from the page before it. */
enum kind { K_NONE, K_READ, K_WRITE, K_INVALIDATE, K_REFUSE_READ, K_REFUSE_WRITE };

static struct {
	bool active;
	struct ioreq before[IOREQ_VCPU_MAX];
	enum kind expect[IOREQ_VCPU_MAX];
	unsigned int answers[IOREQ_VCPU_MAX];
	/* MMIO model calls since the last notify: they belong to the next answer. */
	struct call {
		enum kind kind;
		uint64_t offset;
		unsigned int size;
		uint64_t value;
	} calls[CALLS_MAX];
	unsigned int call_count;
	uint64_t answered_total;
	uint64_t refused_total; /* since the server's start */
	unsigned int refusal_lines;
} chk;

static struct ioreq *slot(unsigned int v)
{
	return (struct ioreq *)page_mem + v;
}

/* Bits of an access `size` bytes wide; all for sizes an access cannot have. */
static uint64_t size_mask(uint64_t size)
{
	return size >= 1 && size < 8 ? (1ull << (size * 8)) - 1 : ~0ull;
}

/* What the device model reads at `offset`: bits above the access size set, on purpose. */
static uint64_t device_value(uint64_t offset)
{
	return xen.seed ^ (offset * 0x9e3779b97f4a7c15ull);
}

/* ---- frames: the one frame of the ioreq page (hyp/frames.h link seam) ------------- */

int frames_alloc(unsigned int count, struct own_frame *first)
{
	FUZZ_CHECK(count == 1 && !xen.frame_taken, "frames_alloc(%u) with the frame %s", count,
	           xen.frame_taken ? "taken" : "free");
	if (xen.fail == STEP_FRAME)
		return -ENOMEM;
	xen.frame_taken = true;
	first->n = (uintptr_t)page_mem >> 12;
	return 0;
}

void frames_free(struct own_frame first, unsigned int count)
{
	FUZZ_CHECK(xen.frame_taken && count == 1 && first.n == (uintptr_t)page_mem >> 12,
	           "frames_free(%#llx, %u)", (unsigned long long)first.n, count);
	FUZZ_CHECK(!xen.acquired, "page frame freed while the ioreq page is mapped there");
	xen.frame_taken = false;
}

unsigned int frames_free_count(void)
{
	return xen.frame_taken ? 0 : 1;
}

/* ---- the fake Xen's hypercalls --------------------------------------------------- */

static long fails(enum step step)
{
	return xen.fail == step ? xen.fail_rc : 0;
}

long hypercall_dm_op(unsigned int domid, unsigned int nr_bufs, void *bufs)
{
	struct xen_dm_op_buf *buf = bufs;
	struct xen_dm_op *op;
	long rc;

	FUZZ_CHECK(domid == xen.domid && nr_bufs == 1 && buf->size == sizeof(*op),
	           "dm_op for dom%u, %u buffers", domid, nr_bufs);
	op = buf->h.p;
	switch (op->op) {
	case XEN_DMOP_nr_vcpus:
		if ((rc = fails(STEP_NR_VCPUS)))
			return rc;
		op->u.nr_vcpus.vcpus = xen.vcpus;
		return 0;
	case XEN_DMOP_create_ioreq_server:
		FUZZ_CHECK(!xen.created, "a second ioreq server");
		FUZZ_CHECK(op->u.create_ioreq_server.handle_bufioreq == HVM_IOREQSRV_BUFIOREQ_OFF,
		           "buffered ioreqs asked for");
		if ((rc = fails(STEP_CREATE)))
			return rc;
		xen.created = true;
		op->u.create_ioreq_server.id = xen.id;
		return 0;
	case XEN_DMOP_map_io_range_to_ioreq_server: {
		struct xen_dm_op_ioreq_server_range *r = &op->u.map_io_range_to_ioreq_server;

		FUZZ_CHECK(xen.created && r->id == xen.id, "range of server %u", r->id);
		FUZZ_CHECK(r->type == XEN_DMOP_IO_RANGE_MEMORY && r->start == xen.base &&
		               r->end == xen.base + xen.size - 1,
		           "range %u %#llx-%#llx for window %#llx+%#llx", r->type,
		           (unsigned long long)r->start, (unsigned long long)r->end,
		           (unsigned long long)xen.base, (unsigned long long)xen.size);
		if ((rc = fails(STEP_MAP_RANGE)))
			return rc;
		xen.range_mapped = true;
		return 0;
	}
	case XEN_DMOP_set_ioreq_server_state: {
		bool enable = op->u.set_ioreq_server_state.enabled;

		FUZZ_CHECK(xen.created && op->u.set_ioreq_server_state.id == xen.id,
		           "state of server %u", op->u.set_ioreq_server_state.id);
		if (enable && (rc = fails(STEP_ENABLE)))
			return rc;
		xen.enabled = enable;
		return 0;
	}
	case XEN_DMOP_destroy_ioreq_server:
		FUZZ_CHECK(xen.created && op->u.destroy_ioreq_server.id == xen.id,
		           "destroying server %u", op->u.destroy_ioreq_server.id);
		xen.created = xen.enabled = xen.range_mapped = false;
		return 0;
	}
	FUZZ_CHECK(false, "dm_op %u", op->op);
	return -ENOSYS;
}

long hypercall_memory_op(unsigned int cmd, void *arg)
{
	uint64_t frame = (uintptr_t)page_mem >> 12;
	long rc;

	if (cmd == XENMEM_acquire_resource) {
		struct xen_mem_acquire_resource *res = arg;

		FUZZ_CHECK(res->domid == xen.domid && res->type == XENMEM_resource_ioreq_server &&
		               xen.created && res->id == xen.id && res->nr_frames == 1 &&
		               res->frame == XENMEM_resource_ioreq_server_frame_ioreq(0),
		           "acquire_resource dom%u type %u id %u frame %llu", res->domid, res->type,
		           res->id, (unsigned long long)res->frame);
		FUZZ_CHECK(xen.frame_taken && !xen.acquired && res->frame_list.p[0] == frame,
		           "ioreq page at frame %#llx", (unsigned long long)res->frame_list.p[0]);
		if ((rc = fails(STEP_ACQUIRE)))
			return rc;
		xen.acquired = true;
		return 0;
	}
	if (cmd == XENMEM_remove_from_physmap) {
		struct xen_remove_from_physmap *rm = arg;

		FUZZ_CHECK(rm->domid == DOMID_SELF && rm->gpfn == frame && xen.acquired,
		           "remove_from_physmap of %#llx (page %s)", (unsigned long long)rm->gpfn,
		           xen.acquired ? "mapped" : "not mapped");
		xen.acquired = false;
		return 0;
	}
	FUZZ_CHECK(false, "memory_op %u", cmd);
	return -ENOSYS;
}

/* Xen's 2-level evtchn_set_pending: pending bit, then selector and upcall if unmasked. */
static void xen_raise(uint32_t port)
{
	unsigned int w = port / WORD_BITS;
	xen_ulong_t bit = (xen_ulong_t)1 << (port % WORD_BITS);
	struct vcpu_info *vcpu = &shared.vcpu_info[0];

	if (shared.evtchn_pending[w] & bit)
		return;
	shared.evtchn_pending[w] |= bit;
	if (!(shared.evtchn_mask[w] & bit) && !(vcpu->evtchn_pending_sel & (1ull << w))) {
		vcpu->evtchn_pending_sel |= 1ull << w;
		vcpu->evtchn_upcall_pending = 1;
	}
}

/* A notify: the answer of the slot of the port's vCPU, checked as Xen would take it. */
static void answered(uint32_t port)
{
	int v = port < PORTS ? xen.port_vcpu[port] : -1;
	struct ioreq got, *was;
	uint64_t mask;

	FUZZ_CHECK(v >= 0, "notify on port %u, no vCPU's", port);
	FUZZ_CHECK(chk.active, "vCPU %d notified outside a poll", v);
	memcpy(&got, slot((unsigned int)v), sizeof(got));
	was = &chk.before[v];
	mask = size_mask(was->size);
	FUZZ_CHECK(++chk.answers[v] == 1, "vCPU %d answered %u times in one poll", v,
	           chk.answers[v]);
	FUZZ_CHECK(chk.expect[v] != K_NONE, "vCPU %d answered in state %u", v, was->state);
	FUZZ_CHECK(got.state == STATE_IORESP_READY, "vCPU %d notified in state %u", v, got.state);
	switch (chk.expect[v]) {
	case K_READ:
		FUZZ_CHECK(chk.call_count == 1 && chk.calls[0].kind == K_READ &&
		               chk.calls[0].offset == was->addr - xen.base &&
		               chk.calls[0].size == was->size,
		           "vCPU %d: %u-byte read at %#llx answered after %u calls", v, was->size,
		           (unsigned long long)was->addr, chk.call_count);
		FUZZ_CHECK(got.data == (chk.calls[0].value & mask),
		           "vCPU %d: %u-byte read of %#llx answered %#llx", v, was->size,
		           (unsigned long long)chk.calls[0].value, (unsigned long long)got.data);
		break;
	case K_WRITE:
		FUZZ_CHECK(chk.call_count == 1 && chk.calls[0].kind == K_WRITE &&
		               chk.calls[0].offset == was->addr - xen.base &&
		               chk.calls[0].size == was->size &&
		               chk.calls[0].value == (was->data & mask),
		           "vCPU %d: %u-byte write of %#llx at %#llx answered after %u calls", v,
		           was->size, (unsigned long long)was->data, (unsigned long long)was->addr,
		           chk.call_count);
		break;
	case K_INVALIDATE:
		FUZZ_CHECK(chk.call_count == (srv.ops->invalidate ? 1u : 0u) &&
		               (!chk.call_count || chk.calls[0].kind == K_INVALIDATE),
		           "vCPU %d: invalidate answered after %u calls", v, chk.call_count);
		break;
	case K_REFUSE_READ:
		FUZZ_CHECK(got.data == mask,
		           "vCPU %d: refused %u-byte read answered %#llx, not %#llx", v, was->size,
		           (unsigned long long)got.data, (unsigned long long)mask);
		/* fall through */
	default:
		FUZZ_CHECK(chk.call_count == 0,
		           "vCPU %d: refused type %u reached the device model (%u calls)", v,
		           was->type, chk.call_count);
		break;
	}
	/* Everything but the answer is as Xen wrote it. */
	got.data = was->data;
	got.state = was->state;
	FUZZ_CHECK(memcmp(&got, was, sizeof(got)) == 0, "vCPU %d: answer changed other fields", v);
	chk.call_count = 0;
}

long hypercall_event_channel_op(int cmd, void *arg)
{
	switch (cmd) {
	case EVTCHNOP_bind_interdomain: {
		struct evtchn_bind_interdomain *op = arg;
		uint32_t v = xen.binds++;
		uint16_t pick = fuzz_u16(&in);

		FUZZ_CHECK(v < IOREQ_VCPU_MAX && op->remote_dom == xen.domid &&
		               op->remote_port == chk.before[v].vp_eport,
		           "bind %u to dom%u port %u, vp_eport %u", v, op->remote_dom,
		           op->remote_port, v < IOREQ_VCPU_MAX ? chk.before[v].vp_eport : 0);
		if (pick == 0xffff)
			return -EINVAL; /* Xen's answer to a vp_eport that is no unbound port */
		/* Xen gives a free port; the input picks which. */
		for (uint32_t p = pick % (PORTS - 1) + 1;; p = p % (PORTS - 1) + 1) {
			if (xen.port_vcpu[p] < 0) {
				xen.port_vcpu[p] = (int16_t)v;
				xen.open_ports++;
				op->local_port = p;
				return 0;
			}
		}
	}
	case EVTCHNOP_send:
		answered(((struct evtchn_send *)arg)->port);
		return 0;
	case EVTCHNOP_close: {
		uint32_t port = ((struct evtchn_close *)arg)->port;

		FUZZ_CHECK(port < PORTS && xen.port_vcpu[port] >= 0, "closing port %u, not open",
		           port);
		xen.port_vcpu[port] = -1;
		xen.open_ports--;
		return 0;
	}
	case EVTCHNOP_unmask: {
		uint32_t port = ((struct evtchn_unmask *)arg)->port;
		unsigned int w = port / WORD_BITS;
		xen_ulong_t bit = (xen_ulong_t)1 << (port % WORD_BITS);

		FUZZ_CHECK(port < PORTS, "unmask of port %u", port);
		/* evtchn.c masked it again for us; Xen's 2-level unmask re-raises. */
		shared.evtchn_mask[w] &= ~bit;
		if (shared.evtchn_pending[w] & bit) {
			shared.evtchn_pending[w] &= ~bit;
			xen_raise(port);
		}
		return 0;
	}
	}
	FUZZ_CHECK(false, "event_channel_op %d", cmd);
	return -ENOSYS;
}

/* ---- the device model ------------------------------------------------------------ */

static void record(enum kind kind, uint64_t offset, unsigned int size, uint64_t value)
{
	FUZZ_CHECK(chk.active, "device model called outside a poll");
	FUZZ_CHECK(chk.call_count < CALLS_MAX, "%u device model calls for one answer",
	           chk.call_count);
	if (kind != K_INVALIDATE) {
		FUZZ_CHECK(size == 1 || size == 2 || size == 4 || size == 8, "%u-byte access",
		           size);
		FUZZ_CHECK(offset < xen.size && size <= xen.size - offset,
		           "%u-byte access at %#llx, window of %#llx", size,
		           (unsigned long long)offset, (unsigned long long)xen.size);
	}
	chk.calls[chk.call_count++] = (struct call){kind, offset, size, value};
}

static uint64_t model_read(void *ctx, uint64_t offset, unsigned int size)
{
	uint64_t value = device_value(offset);

	record(K_READ, offset, size, value);
	return value;
}

static void model_write(void *ctx, uint64_t offset, unsigned int size, uint64_t value)
{
	record(K_WRITE, offset, size, value);
}

static void model_invalidate(void *ctx)
{
	record(K_INVALIDATE, 0, 0, 0);
}

static const struct ioreq_ops model_ops = {model_read, model_write, model_invalidate};
static const struct ioreq_ops model_ops_no_invalidate = {model_read, model_write, NULL};

/* Lines the server logged about rejected requests. */
static void count_lines(const char *buf, size_t len)
{
	if (memmem(buf, len, "rejected", 8))
		chk.refusal_lines++;
}

/* ---- the checks around each poll ------------------------------------------------- */

/* What a server with `vcpus` vCPUs must do with each slot of the page as it is now. */
static void expect(uint32_t vcpus)
{
	memcpy(chk.before, page_mem, sizeof(chk.before));
	memset(chk.answers, 0, sizeof(chk.answers));
	chk.call_count = 0;
	for (uint32_t v = 0; v < IOREQ_VCPU_MAX; v++) {
		const struct ioreq *r = &chk.before[v];
		uint64_t size = r->size;
		bool in_window = size && size <= xen.size && r->addr >= xen.base &&
		                 r->addr - xen.base <= xen.size - size;
		bool valid = !r->data_is_ptr && r->count == 1 &&
		             (size == 1 || size == 2 || size == 4 || size == 8) && in_window;

		if (v >= vcpus || r->state != STATE_IOREQ_READY)
			chk.expect[v] = K_NONE;
		else if (r->type == IOREQ_TYPE_INVALIDATE)
			chk.expect[v] = K_INVALIDATE;
		else if (r->type == IOREQ_TYPE_COPY && valid)
			chk.expect[v] = r->dir == IOREQ_READ ? K_READ : K_WRITE;
		else
			chk.expect[v] = r->dir == IOREQ_READ ? K_REFUSE_READ : K_REFUSE_WRITE;
	}
	chk.active = true;
}

/* After a poll (`polled`: the server looked at its slots): each answer as expected. */
static void verify(bool polled)
{
	uint64_t answers = 0;

	chk.active = false;
	FUZZ_CHECK(chk.call_count == 0, "%u device model calls without an answer", chk.call_count);
	for (uint32_t v = 0; v < IOREQ_VCPU_MAX; v++) {
		bool want = polled && chk.expect[v] != K_NONE;

		FUZZ_CHECK(chk.answers[v] == want, "vCPU %u (state %u, type %u) answered %u times",
		           v, chk.before[v].state, chk.before[v].type, chk.answers[v]);
		if (!chk.answers[v]) {
			FUZZ_CHECK(memcmp(slot(v), &chk.before[v], sizeof(struct ioreq)) == 0,
			           "vCPU %u's slot changed without an answer", v);
			continue;
		}
		answers++;
		if (chk.expect[v] == K_REFUSE_READ || chk.expect[v] == K_REFUSE_WRITE)
			chk.refused_total++;
		/* Xen takes the answer (handle_ioserv) and the vCPU may post the next. */
		slot(v)->state = STATE_IOREQ_NONE;
	}
	chk.answered_total += answers;
	FUZZ_CHECK(ioreq_answered_count() == chk.answered_total, "%llu answers counted, %llu seen",
	           (unsigned long long)ioreq_answered_count(),
	           (unsigned long long)chk.answered_total);
	FUZZ_CHECK(chk.refusal_lines <= 16 + chk.refused_total / 1024,
	           "%u log lines for %llu refused requests", chk.refusal_lines,
	           (unsigned long long)chk.refused_total);
}

/* Whether an upcall now makes evtchn_dispatch run a handler of the server's. */
static bool server_port_pending(void)
{
	const struct vcpu_info *vcpu = &shared.vcpu_info[0];

	if (!vcpu->evtchn_upcall_pending)
		return false;
	for (uint32_t i = 0; i < srv.port_count; i++) {
		uint32_t p = srv.ports[i], w = p / WORD_BITS;
		xen_ulong_t bit = (xen_ulong_t)1 << (p % WORD_BITS);

		if ((vcpu->evtchn_pending_sel >> w & 1) && (shared.evtchn_pending[w] & bit) &&
		    !(shared.evtchn_mask[w] & bit))
			return true;
	}
	return false;
}

/* Nothing of a server is left with Xen. */
static void check_stopped(void)
{
	FUZZ_CHECK(xen.open_ports == 0, "%u ports left open", xen.open_ports);
	FUZZ_CHECK(!xen.created && !xen.enabled && !xen.acquired && !xen.frame_taken,
	           "left behind: server %d enabled %d page %d frame %d", xen.created, xen.enabled,
	           xen.acquired, xen.frame_taken);
	FUZZ_CHECK(srv.port_count == 0 && !srv.page, "server state after a stop");
}

/* ---- the actions ----------------------------------------------------------------- */

/*
 * Stops the server and starts it again: Xen says the guest has the vCPU count given (mod
 * 130, so 0 and 129 too; 0xff reads a u32), and the fail byte's bits 0-2 pick the step that
 * fails (enum step), bits 3-4 its error, bits 5-7 the server id Xen hands out. Each vCPU's
 * EVTCHNOP_bind_interdomain then reads a u16: the port Xen picks, or 0xffff to refuse.
 */
static void start(const struct ioreq_ops *ops)
{
	uint8_t vcpus = fuzz_u8(&in), fail = fuzz_u8(&in);
	static const int errs[4] = {-EPERM, -EACCES, -EINVAL, -ENOMEM};
	int rc;

	ioreq_server_stop(&srv);
	check_stopped();
	xen.vcpus = vcpus == 0xff ? fuzz_u32(&in) : vcpus % (IOREQ_VCPU_MAX + 2);
	xen.fail = (fail & 7) <= STEP_ENABLE ? (enum step)(fail & 7) : STEP_NONE;
	xen.fail_rc = errs[fail >> 3 & 3];
	xen.id = (uint16_t)(fail >> 5);
	xen.binds = 0;
	chk.refused_total = 0;
	chk.refusal_lines = 0;
	expect(xen.vcpus < IOREQ_VCPU_MAX ? xen.vcpus : IOREQ_VCPU_MAX);
	rc = ioreq_server_start(&srv, xen.domid, xen.base, xen.size, ops, NULL);
	verify(rc == 0);
	if (rc) {
		FUZZ_CHECK(rc < 0, "start returned %d", rc);
		check_stopped();
		return;
	}
	FUZZ_CHECK(xen.fail == STEP_NONE && xen.vcpus >= 1 && xen.vcpus <= IOREQ_VCPU_MAX &&
	               xen.size && xen.base + xen.size > xen.base,
	           "started with step %u failing, %u vCPUs, window %#llx+%#llx", xen.fail,
	           xen.vcpus, (unsigned long long)xen.base, (unsigned long long)xen.size);
	FUZZ_CHECK(srv.port_count == xen.vcpus && xen.open_ports == xen.vcpus && xen.enabled &&
	               xen.range_mapped && xen.acquired,
	           "started with %u of %u ports", srv.port_count, xen.vcpus);
	for (uint32_t v = 0; v < srv.port_count; v++)
		FUZZ_CHECK(srv.ports[v] < PORTS && xen.port_vcpu[srv.ports[v]] == (int16_t)v,
		           "vCPU %u on port %u", v, srv.ports[v]);
}

/*
 * A request in slot `vcpu`: control bit 0 read, bits 1-2 the size (1, 2, 4, 8), bit 3
 * invalidate, bit 4 a raw u64 address (else u16 offset in the window), bits 5-6 the
 * data_is_ptr and df bits; a well-formed request unless bit 7 adds a byte whose bits make
 * fields raw: 0 u8 state, 1 u8 type, 2 u32 size, 3 u32 count, 4 u8 of the remaining bits
 * (dir, _pad1). Then u64 data. vp_eport stays (OP_RAW changes it).
 */
static void post(void)
{
	static const uint32_t sizes[4] = {1, 2, 4, 8};
	uint32_t v = fuzz_u8(&in) % IOREQ_VCPU_MAX;
	uint8_t ctl = fuzz_u8(&in);
	uint8_t raw = ctl & 0x80 ? fuzz_u8(&in) : 0;
	struct ioreq r;

	memcpy(&r, slot(v), sizeof(r));
	r.state = raw & 1 ? fuzz_u8(&in) & 0xf : STATE_IOREQ_READY;
	r.type = raw & 2 ? fuzz_u8(&in) : ctl & 8 ? IOREQ_TYPE_INVALIDATE : IOREQ_TYPE_COPY;
	r.size = raw & 4 ? fuzz_u32(&in) : sizes[ctl >> 1 & 3];
	r.count = raw & 8 ? fuzz_u32(&in) : 1;
	r.dir = ctl & 1 ? IOREQ_READ : IOREQ_WRITE;
	r.data_is_ptr = ctl >> 5 & 1;
	r.df = ctl >> 6 & 1;
	if (raw & 16) {
		uint8_t bits = fuzz_u8(&in);

		r.dir = bits & 1;
		r._pad1 = bits >> 1 & 1;
	}
	r.addr = ctl & 0x10 ? fuzz_u64(&in) : xen.base + fuzz_u16(&in);
	r.data = fuzz_u64(&in);
	memcpy(slot(v), &r, sizeof(r));
}

static void upcall(void)
{
	uint16_t spec = fuzz_u16(&in);
	uint8_t extra = fuzz_u8(&in);
	struct vcpu_info *vcpu = &shared.vcpu_info[0];
	uint32_t port = spec % PORTS;
	bool polls;

	if ((spec & 0x8000) && srv.port_count)
		port = srv.ports[(spec & 0x7f) % srv.port_count];
	xen_raise(port);
	if (extra & 1) {
		/* A selector bit and upcall flag with or without anything pending under it. */
		vcpu->evtchn_pending_sel |= 1ull << (extra >> 1) % WORD_BITS;
		vcpu->evtchn_upcall_pending = 1;
	}
	expect(srv.port_count);
	polls = server_port_pending();
	evtchn_dispatch();
	verify(polls);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ioreq_ops *ops;
	uint8_t window;

	in = (struct fuzz_in){data, size};
	if (!page_mem) {
		page_mem = aligned_alloc(PAGE, PAGE);
		log_set_sink(count_lines);
		log_set_level(LOG_DEBUG);
	}
	memset(page_mem, 0, PAGE);
	memset(&shared, 0, sizeof(shared));
	memset(&xen, 0, sizeof(xen));
	memset(&chk, 0, sizeof(chk));
	memset(xen.port_vcpu, 0xff, sizeof(xen.port_vcpu));
	memset(&srv, 0, sizeof(srv));
	chk.answered_total = ioreq_answered_count();
	evtchn_init(&shared, &shared.vcpu_info[0]);

	/* Header: u16 domid, u8 window (bits 0-1 the kind, bit 2 no invalidate op), u64 seed. */
	xen.domid = fuzz_u16(&in);
	window = fuzz_u8(&in);
	xen.seed = fuzz_u64(&in);
	ops = window & 4 ? &model_ops_no_invalidate : &model_ops;
	switch (window & 3) {
	case 0: /* vdisk's */
		xen.base = VDISK_BASE;
		xen.size = VMMIO_WINDOW;
		break;
	case 1: /* small, anywhere: sizes below an access's */
		xen.base = (uint64_t)fuzz_u32(&in) << 12;
		xen.size = fuzz_u8(&in);
		break;
	case 2: /* any */
		xen.base = fuzz_u64(&in);
		xen.size = fuzz_u64(&in);
		break;
	case 3: /* at the top of the address space */
		xen.base = ~0ull - fuzz_u16(&in);
		xen.size = fuzz_u16(&in);
		break;
	}
	/* Each vCPU's port as Xen allocated it; OP_RAW may change them before a start. */
	for (uint32_t v = 0; v < IOREQ_VCPU_MAX; v++)
		slot(v)->vp_eport = 100 + v;

	for (int n = 0; n < OPS_MAX && in.left; n++) {
		switch (fuzz_u8(&in) % OP_COUNT) {
		case OP_START:
			start(ops);
			break;
		case OP_STOP:
			ioreq_server_stop(&srv);
			check_stopped();
			break;
		case OP_POST:
			post();
			break;
		case OP_RAW: {
			uint16_t off = fuzz_u16(&in) % PAGE;
			uint8_t len = fuzz_u8(&in);

			if (len > in.left)
				len = (uint8_t)in.left;
			if (len > PAGE - off)
				len = (uint8_t)(PAGE - off);
			memcpy(page_mem + off, in.p, len);
			in.p += len;
			in.left -= len;
			break;
		}
		case OP_UPCALL:
			upcall();
			break;
		case OP_POLL:
			expect(srv.page && srv.enabled ? srv.port_count : 0);
			ioreq_server_poll(&srv);
			verify(true);
			break;
		}
	}
	ioreq_server_stop(&srv);
	check_stopped();
	return 0;
}
