/* The fake Xen shared by the hyp/ unit tests (see fake_xen.h). */
#define _GNU_SOURCE
#define __XEN_TOOLS__ 1 /* dm_op.h's ioreq-server operations */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/hvm/dm_op.h>
#include <xen/hvm/ioreq.h>
#include <xen/memory.h>

#include "arch/hypercall.h"
#include "hyp/evtchn.h"
#include "hyp/frames.h"
#include "tests/unit/fake_xen.h"

#define BITS       64u            /* xen_ulong_t is 64 bits on arm64 and on the x86-64 host */
#define IOREQ_PAGE FX_GUEST_PAGES /* the memfd's page past the guest's: the server's page */

struct fake_xen fx;
struct fx_grant fx_grants[FX_REFS];

/* What sits in each of our frames, and the runs frames_alloc handed out. */
static struct {
	enum fx_own_kind kind;
	uint32_t ref;
	uint32_t handle;
	unsigned int run; /* frames_alloc's count at the first frame of a run, else 0 */
	bool taken;
} own[FX_FRAMES];

static int memfd = -1;
static uint8_t *gm;          /* the guest's memory and the ioreq page, as Xen sees them */
static uint8_t *frames_base; /* our FX_FRAMES frames */
static struct shared_info shared;

uint8_t *fx_page(unsigned int p)
{
	return gm + (size_t)p * FX_PAGE;
}

uint64_t fx_gpa(unsigned int p, uint32_t off)
{
	return FX_GPA_BASE + (uint64_t)p * FX_PAGE + off;
}

struct ioreq *fx_ioreq(unsigned int v)
{
	return (struct ioreq *)fx_page(IOREQ_PAGE) + v;
}

static bool frame_index(uint64_t addr, unsigned int *i)
{
	uint64_t base = (uintptr_t)frames_base;

	if (addr < base || addr % FX_PAGE || (addr - base) / FX_PAGE >= FX_FRAMES) {
		fx.violations++;
		return false;
	}
	*i = (unsigned int)((addr - base) / FX_PAGE);
	return true;
}

static void alias(unsigned int i, unsigned int page, bool readonly, enum fx_own_kind kind)
{
	void *at = frames_base + (size_t)i * FX_PAGE;
	int prot = readonly ? PROT_READ : PROT_READ | PROT_WRITE;

	if (mmap(at, FX_PAGE, prot, MAP_SHARED | MAP_FIXED, memfd, (off_t)page * FX_PAGE) != at)
		fx.violations++;
	own[i].kind = kind;
}

static void unalias(unsigned int i)
{
	void *at = frames_base + (size_t)i * FX_PAGE;

	if (mmap(at, FX_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != at)
		fx.violations++;
	own[i].kind = FX_OWN_HOLE;
}

unsigned int fx_mapped_frames(enum fx_own_kind kind)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < FX_FRAMES; i++)
		n += own[i].kind == kind;
	return n;
}

bool fx_frame_ref(uint64_t addr, uint32_t *ref)
{
	unsigned int i;

	if (!frame_index(addr, &i) || own[i].kind != FX_OWN_GRANT)
		return false;
	*ref = own[i].ref;
	return true;
}

void fx_reset(uint16_t domid, uint32_t vcpus)
{
	if (memfd < 0) {
		memfd = memfd_create("guest", 0);
		if (memfd < 0 || ftruncate(memfd, (FX_GUEST_PAGES + 1) * FX_PAGE) != 0)
			abort();
		gm = mmap(NULL, (FX_GUEST_PAGES + 1) * FX_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		          memfd, 0);
		frames_base =
		    mmap(NULL, FX_FRAMES * FX_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (gm == MAP_FAILED || frames_base == MAP_FAILED)
			abort();
	}
	for (unsigned int i = 0; i < FX_FRAMES; i++) {
		unalias(i);
		own[i].run = 0;
		own[i].taken = false;
	}
	memset(fx_grants, 0, sizeof(fx_grants));
	memset(&fx, 0, sizeof(fx));
	fx.domid = domid;
	fx.vcpus = vcpus;
	for (unsigned int p = 0; p < FX_GUEST_PAGES; p++)
		for (unsigned int b = 0; b < FX_PAGE; b++)
			fx_page(p)[b] = (uint8_t)(p * 7 + b / 16);
	memset(fx_page(IOREQ_PAGE), 0, FX_PAGE);
	memset(&shared, 0, sizeof(shared));
	evtchn_init(&shared, &shared.vcpu_info[0]);
}

/* ---- hyp/frames.h: a pool of FX_FRAMES, first fit ------------------------------- */

int frames_alloc(unsigned int count, struct own_frame *first)
{
	for (unsigned int i = 0; count && i + count <= FX_FRAMES; i++) {
		unsigned int n = 0;

		while (n < count && !own[i + n].taken)
			n++;
		if (n < count) {
			i += n;
			continue;
		}
		for (n = 0; n < count; n++)
			own[i + n].taken = true;
		own[i].run = count;
		first->n = ((uintptr_t)frames_base >> 12) + i;
		return 0;
	}
	return -ENOMEM;
}

void frames_free(struct own_frame first, unsigned int count)
{
	unsigned int i;

	/* Only a whole run that frames_alloc gave. */
	if (!frame_index(first.n << 12, &i) || own[i].run != count) {
		fx.violations++;
		return;
	}
	own[i].run = 0;
	for (unsigned int n = 0; n < count; n++)
		own[i + n].taken = false;
}

unsigned int frames_free_count(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < FX_FRAMES; i++)
		n += !own[i].taken;
	return n;
}

/* ---- grant_table_op ------------------------------------------------------------- */

void fx_grant(uint32_t ref, unsigned int page, bool readonly)
{
	fx_grants[ref] = (struct fx_grant){.granted = true, .readonly = readonly, .page = page};
}

bool fx_end_access(uint32_t ref)
{
	if (fx_grants[ref].maps)
		return false;
	fx_grants[ref].granted = false;
	return true;
}

static int16_t grant_map_one(struct gnttab_map_grant_ref *op)
{
	unsigned int i;
	bool readonly = op->flags & GNTMAP_readonly;

	if (fx.map_ops < 512) {
		fx.map_ref[fx.map_ops] = op->ref;
		fx.map_flags[fx.map_ops] = op->flags;
	}
	fx.map_ops++;
	/* Xen on Arm takes exactly these flags (arch/arm/mm.c create_grant_host_mapping). */
	if ((op->flags & ~GNTMAP_readonly) != GNTMAP_host_map) {
		fx.violations++;
		return GNTST_general_error;
	}
	if (op->dom != fx.domid)
		return GNTST_bad_domain;
	if (!frame_index(op->host_addr, &i))
		return GNTST_bad_virt_addr;
	if (own[i].kind != FX_OWN_HOLE) {
		fx.violations++; /* mapping over a mapping: the old one would leak */
		return GNTST_general_error;
	}
	if (op->ref >= FX_REFS || !fx_grants[op->ref].granted)
		return GNTST_bad_gntref;
	if (fx_grants[op->ref].fail)
		return fx_grants[op->ref].fail;
	if (!readonly && fx_grants[op->ref].readonly)
		return GNTST_permission_denied;
	alias(i, fx_grants[op->ref].page, readonly, FX_OWN_GRANT);
	own[i].ref = op->ref;
	own[i].handle = op->handle = ++fx.next_handle;
	fx_grants[op->ref].maps++;
	return GNTST_okay;
}

static int16_t grant_unmap_one(struct gnttab_unmap_grant_ref *op)
{
	unsigned int i;

	if (op->dev_bus_addr != 0)
		fx.violations++;
	if (!frame_index(op->host_addr, &i))
		return GNTST_bad_virt_addr;
	if (own[i].kind != FX_OWN_GRANT || own[i].handle != op->handle) {
		fx.violations++;
		return GNTST_bad_handle;
	}
	fx_grants[own[i].ref].maps--;
	unalias(i);
	return GNTST_okay;
}

long hypercall_grant_table_op(unsigned int cmd, void *uop, unsigned int count)
{
	if (fx.grant_rc)
		return fx.grant_rc;
	if (cmd == GNTTABOP_map_grant_ref) {
		struct gnttab_map_grant_ref *ops = uop;

		fx.map_calls++;
		for (unsigned int i = 0; i < count; i++)
			ops[i].status = grant_map_one(&ops[i]);
		return 0;
	}
	if (cmd == GNTTABOP_unmap_grant_ref) {
		struct gnttab_unmap_grant_ref *ops = uop;

		fx.unmap_calls++;
		fx.unmap_ops += count;
		fx.last_unmap_count = count;
		if (fx.unmap_hook)
			fx.unmap_hook(ops, count);
		for (unsigned int i = 0; i < count; i++)
			ops[i].status = grant_unmap_one(&ops[i]);
		return 0;
	}
	fx.violations++;
	return -ENOSYS;
}

/* ---- memory_op ------------------------------------------------------------------ */

static long map_foreign(struct xen_add_to_physmap_batch *b)
{
	if (b->domid != DOMID_SELF || b->space != XENMAPSPACE_gmfn_foreign ||
	    b->u.foreign_domid != fx.domid) {
		fx.violations++;
		return -EINVAL;
	}
	for (unsigned int k = 0; k < b->size; k++) {
		uint64_t idx = b->idxs.p[k];
		unsigned int i;

		fx.foreign_maps++;
		b->errs.p[k] = 0;
		if (!frame_index(b->gpfns.p[k] << 12, &i) || own[i].kind != FX_OWN_HOLE) {
			fx.violations++;
			b->errs.p[k] = -EINVAL;
		} else if (idx < FX_GPA_BASE >> 12 || idx - (FX_GPA_BASE >> 12) >= FX_GUEST_PAGES) {
			b->errs.p[k] = -EINVAL; /* not the guest's frame */
		} else {
			alias(i, (unsigned int)(idx - (FX_GPA_BASE >> 12)), false, FX_OWN_FOREIGN);
		}
	}
	return 0;
}

static long unmap_frame(struct xen_remove_from_physmap *rm)
{
	unsigned int i;

	if (frame_index(rm->gpfn << 12, &i) && own[i].kind == FX_OWN_IOREQ) {
		fx.ioreq_unmaps++;
		fx.acquired = false;
		unalias(i);
		return 0;
	}
	fx.foreign_unmaps++;
	if (fx.foreign_unmap_rc)
		return fx.foreign_unmap_rc;
	if (!frame_index(rm->gpfn << 12, &i) || own[i].kind != FX_OWN_FOREIGN) {
		fx.violations++; /* a grant mapping must go through unmap_grant_ref */
		return -EINVAL;
	}
	unalias(i);
	return 0;
}

/* The server's ioreq page, at the frame the caller gives (Xen 4.17 acquire_resource). */
static long acquire(struct xen_mem_acquire_resource *res)
{
	unsigned int i;

	if (res->domid != fx.domid || res->type != XENMEM_resource_ioreq_server || !fx.created ||
	    res->nr_frames != 1 || res->frame != XENMEM_resource_ioreq_server_frame_ioreq(0) ||
	    !frame_index(res->frame_list.p[0] << 12, &i) || own[i].kind != FX_OWN_HOLE) {
		fx.violations++;
		return -EINVAL;
	}
	alias(i, IOREQ_PAGE, false, FX_OWN_IOREQ);
	fx.acquired = true;
	return 0;
}

long hypercall_memory_op(unsigned int cmd, void *arg)
{
	switch (cmd) {
	case XENMEM_add_to_physmap_batch:
		return map_foreign(arg);
	case XENMEM_remove_from_physmap:
		return unmap_frame(arg);
	case XENMEM_acquire_resource:
		return acquire(arg);
	}
	fx.violations++;
	return -ENOSYS;
}

/* ---- dm_op ---------------------------------------------------------------------- */

long hypercall_dm_op(unsigned int domid, unsigned int nr_bufs, void *bufs)
{
	struct xen_dm_op *op = ((struct xen_dm_op_buf *)bufs)->h.p;

	if (domid != fx.domid)
		return -ESRCH;
	switch (op->op) {
	case XEN_DMOP_nr_vcpus:
		op->u.nr_vcpus.vcpus = fx.vcpus;
		return 0;
	case XEN_DMOP_create_ioreq_server:
		fx.create_calls++;
		if (fx.create_rc)
			return fx.create_rc;
		/* Xen gives each vCPU of the guest a port, unbound, for the server. */
		for (unsigned int v = 0; v < fx.vcpus && v < FX_VCPU_MAX; v++)
			fx_ioreq(v)->vp_eport = FX_EPORT_BASE + v;
		fx.created = true;
		op->u.create_ioreq_server.id = 1;
		return 0;
	case XEN_DMOP_destroy_ioreq_server:
		fx.destroys++;
		fx.created = false;
		return 0;
	case XEN_DMOP_map_io_range_to_ioreq_server:
		fx.io_start = op->u.map_io_range_to_ioreq_server.start;
		fx.io_end = op->u.map_io_range_to_ioreq_server.end;
		return 0;
	case XEN_DMOP_set_ioreq_server_state:
		fx.enabled = op->u.set_ioreq_server_state.enabled;
		return 0;
	case XEN_DMOP_set_irq_level:
		fx.irq_calls++;
		fx.irq = op->u.set_irq_level.irq;
		fx.irq_level = op->u.set_irq_level.level;
		return fx.irq_rc;
	}
	return -ENOSYS;
}

/* ---- event_channel_op and the guest's accesses ---------------------------------- */

long hypercall_event_channel_op(int cmd, void *arg)
{
	switch (cmd) {
	case EVTCHNOP_bind_interdomain: {
		struct evtchn_bind_interdomain *op = arg;
		uint32_t v = op->remote_port - FX_EPORT_BASE;

		if (op->remote_dom != fx.domid || v >= FX_VCPU_MAX) {
			fx.violations++;
			return -EINVAL;
		}
		op->local_port = FX_PORT_BASE + fx.binds++;
		fx.local_port[v] = op->local_port;
		return 0;
	}
	case EVTCHNOP_send: {
		uint32_t port = ((struct evtchn_send *)arg)->port;

		for (unsigned int v = 0; v < FX_VCPU_MAX; v++)
			if (fx.local_port[v] && fx.local_port[v] == port)
				fx.sends[v]++;
		return 0;
	}
	case EVTCHNOP_close: {
		uint32_t port = ((struct evtchn_close *)arg)->port;

		fx.closes++;
		for (unsigned int v = 0; v < FX_VCPU_MAX; v++)
			if (fx.local_port[v] == port)
				fx.local_port[v] = 0;
		return 0;
	}
	case EVTCHNOP_unmask:
		return 0;
	}
	return -ENOSYS;
}

/* Xen's evtchn_2l_set_pending: pending bit, then selector and upcall if unmasked. */
static void raise_port(uint32_t port)
{
	struct vcpu_info *vcpu = &shared.vcpu_info[0];
	unsigned int w = port / BITS;
	xen_ulong_t bit = (xen_ulong_t)1 << (port % BITS);

	shared.evtchn_pending[w] |= bit;
	if (!(shared.evtchn_mask[w] & bit)) {
		vcpu->evtchn_pending_sel |= (xen_ulong_t)1 << w;
		vcpu->evtchn_upcall_pending = 1;
	}
}

static uint64_t post(unsigned int v, uint8_t type, bool read, uint64_t addr, uint32_t size,
                     uint64_t data)
{
	struct ioreq *r = fx_ioreq(v);

	fx.posts++;
	r->addr = addr;
	r->data = data;
	r->size = size;
	r->count = 1;
	r->dir = read ? IOREQ_READ : IOREQ_WRITE;
	r->data_is_ptr = 0;
	r->type = type;
	r->state = STATE_IOREQ_READY;
	if (v >= FX_VCPU_MAX || !fx.local_port[v]) {
		fx.violations++; /* Xen would wait for a server that cannot hear */
		return 0;
	}
	raise_port(fx.local_port[v]);
	evtchn_dispatch();
	return r->data;
}

uint64_t fx_mmio(unsigned int v, bool read, uint64_t addr, uint32_t size, uint64_t data)
{
	return post(v, IOREQ_TYPE_COPY, read, addr, size, data);
}

void fx_invalidate(unsigned int v)
{
	/* As Xen's ioreq_signal_mapcache_invalidate writes it. */
	post(v, IOREQ_TYPE_INVALIDATE, false, 0, 4, ~0ull);
}
