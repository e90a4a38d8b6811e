/*
 * hyp/gmem.c: the mapping cache of two guests under a script of map, release, reset,
 * invalidate, fini and init calls with any address (guest-physical, grant, reserved bits),
 * length, writable flag and vq area, for one of several requests in flight at once (or
 * none), completed in any order, against a fake Xen whose map and unmap hypercalls
 * succeed or fail (the whole call or one entry, with any error) as the input says, and whose
 * grant table the script changes (read-only grants, ended grants). hyp/xen.c runs between
 * the two; the hypercall stubs and hyp/frames.h are link seams, and vdisk's frames are a
 * host buffer, ASan-poisoned where nothing is mapped. Invariants checked:
 * - a returned pointer lies in a frame of the guest's own that maps that guest frame or
 *   grant, keeps the address's offset, and the range stays in that page (and is not
 *   ASan-poisoned, as unmapped frames are); a writable request never gets a read-only grant
 *   mapping;
 * - an empty or page-crossing range, bits 62..48 on a guest-physical address and a grant
 *   reference past 32 bits are refused without a hypercall; anything else fails only when
 *   Xen refused it;
 * - Xen never maps a guest frame or grant twice at once, nor over a live mapping, nor into
 *   another guest's frames; every unmap is of a live mapping with its handle (no double
 *   unmap); gmem's slots and Xen's mappings agree after each call (no forgotten mapping),
 *   except mappings Xen refused to unmap, which gmem gives up as it says it does;
 * - the release of a request leaves no buffer grant mapped that no other request in flight
 *   got a pointer into (nor any mapped for nobody), and unmaps none that another one did:
 *   a request's buffer grants go only with the last request using them, or by eviction
 *   when a map() needs the frame (a re-map writable keeps its users);
 * - reset leaves no grant mapped, invalidate and fini nothing, and each forgets every
 *   request in flight; a slot counts only requests gmem gave a number and has not taken
 *   back (no stale user); fini gives the frames back;
 * - each guest's lines about refusals and failed unmaps stay within its device's budget
 *   (LOG_LIMIT_LINES per format; the fuzzer's clock does not move, so one period).
 *
 * Input: u16 domid (the second guest has the next), then actions (see the OP_* list); each
 * action that may reach Xen has a fate byte (see `act`). An action's guest byte: bit 0 the
 * guest, bits 1-3 the request a map or release is for (REQS: none, a NULL hold).
 */
#define _GNU_SOURCE /* memmem */

#include <errno.h>
#include <sanitizer/asan_interface.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/memory.h>

#include "arch/hypercall.h"
#include "hyp/frames.h"
#include "hyp/gmem.h"
#include "lib/log.h"
#include "tests/fuzz/fuzz.h"

#define PAGE      4096u
#define GUESTS    2u
#define FRAMES    (GUESTS * GMEM_SLOTS) /* two runs of GMEM_SLOTS frames */
#define GFN_BASE  0x40000u              /* guest RAM at 1 GiB */
#define GFN_COUNT 600u                  /* more frames and refs than slots: evictions */
#define REFS      256u                  /* the grant table entries the script can change */
#define OPS_MAX   512
#define MAPS_MAX  1024         /* bursts included: enough to go round the clock a few times */
#define GFN_LIMIT (1ull << 36) /* 48 bits of guest address */
#define REQS      7u           /* requests in flight per guest; request REQS has no hold */
/* Scans over every slot: no coverage feedback to give, and they would slow each run. */
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))
/* Log lines gmem.c writes about a guest after gmem_init ("gmem: dom%u: "). */
#define LOG_PREFIX "gmem: dom"

enum op {
	OP_MAP,        /* u8 guest, u8 fate, u8 mode, address and length (see map_script()) */
	OP_RELEASE,    /* u8 guest, u8 fate: the request is done */
	OP_RESET,      /* u8 guest, u8 fate */
	OP_INVALIDATE, /* u8 guest, u8 fate */
	OP_FINI,       /* u8 guest, u8 fate */
	OP_INIT,       /* u8 guest, u8 fate: fini if live, then gmem_init (bit 7: no frames) */
	OP_GRANT,      /* u8 guest, u8 ref, u8 state: 0 writable, 1 read-only, 2 ended */
	OP_BURST,      /* u8 guest, u8 fate, u8 mode, u16 count, address and length */
	OP_COUNT,
};

enum own_kind { OWN_HOLE, OWN_FOREIGN, OWN_GRANT };

/* What sits in each of vdisk's frames, as the fake Xen knows it. */
static struct own {
	enum own_kind kind;
	uint16_t dom;
	uint64_t key; /* the guest frame, or the grant reference */
	bool readonly;
	bool ring;   /* some map() of it was for a ring (gmem keeps those until a reset) */
	bool leaked; /* Xen refused to unmap it and gmem gave it up */
	uint32_t handle;
	uint8_t users; /* grant: requests in flight that mapped it for a buffer, a bit each */
} own[FRAMES];

/* One guest: its gmem, its grant table and what the checks count. */
static struct guest {
	struct gmem g;
	uint16_t domid;
	bool live; /* gmem_init succeeded, no fini since */
	int run;   /* which run of frames it holds, or -1 */
	enum { GRANT_RW, GRANT_RO, GRANT_ENDED } grants[REFS];
	unsigned int log_lines;
	struct log_limit limit; /* as the backend gives each device's gmem */
	struct vq_hold holds[REQS]; /* as the walker keeps one in each chain */
} guests[GUESTS];

/* The formats hyp/gmem.c logs with gmem_log(): each may use the budget once over. */
#define GMEM_FORMATS 6u

/*
 * How the fake Xen answers during one action. Fate byte: bits 0-1 the first map hypercall
 * (0, 1: as Xen would; 2: the entry fails; 3: the call fails), bits 2-3 the first unmap
 * hypercall (likewise; a batch's entry (bits 4-7) % count fails), bits 4-7 the error.
 */
static struct {
	uint8_t fate;
	bool map_done, unmap_done; /* the fate was spent */
	bool map_failed;           /* a map hypercall of this action failed */
	unsigned int hypercalls;
	int releasing; /* the request whose release() runs (REQS: no hold), or -1 */
	/* Grants unmapped during this map() and their users: a re-map writable keeps them. */
	struct {
		uint64_t key;
		uint8_t users;
	} gone[2];
	unsigned int gone_count;
} act;

static uint8_t *frames_mem;
static unsigned int maps_left; /* map() calls one input may still make */
static int run_owner[GUESTS];  /* guest of each run, or -1 when free */
static int initing = -1;       /* the guest gmem_init runs for */
static uint32_t next_handle;   /* of grant mappings */

static uint8_t *frame_ptr(unsigned int i)
{
	return frames_mem + (size_t)i * PAGE;
}

static struct guest *guest_of_dom(uint16_t dom)
{
	for (unsigned int i = 0; i < GUESTS; i++)
		if (guests[i].live && guests[i].domid == dom)
			return &guests[i];
	return NULL;
}

/* Our frame at guest-physical frame `n`, which must be in `gu`'s run. */
static unsigned int own_index(const struct guest *gu, uint64_t n, const char *what)
{
	uint64_t first = (uintptr_t)frames_mem >> 12;
	uint64_t i = n - first;

	FUZZ_CHECK(gu && gu->run >= 0 && n >= first && i / GMEM_SLOTS == (uint64_t)gu->run,
	           "%s at frame %#llx, not of dom%u's run %d", what, (unsigned long long)n,
	           gu ? gu->domid : 0, gu ? gu->run : -1);
	return (unsigned int)i;
}

static int fate_err(void)
{
	static const int errs[16] = {-EINVAL,  -ENOENT, -EAGAIN, -ENOMEM, -EPERM,  -ESRCH,
	                             -EFAULT,  -EIO,    -EBUSY,  -EACCES, -ENOSYS, -EEXIST,
	                             -ENOTSUP, -E2BIG,  -EBADF,  -ENOSPC};

	return errs[act.fate >> 4];
}

static int16_t fate_gntst(void)
{
	static const int16_t st[8] = {
	    GNTST_general_error,     GNTST_bad_domain, GNTST_bad_gntref, GNTST_bad_virt_addr,
	    GNTST_permission_denied, GNTST_bad_page,   GNTST_eagain,     GNTST_no_space};

	return st[act.fate >> 4 & 7];
}

/* What the first map (or unmap) of this action does: 0 as Xen would, 2 entry, 3 call fail. */
static unsigned int fate_take(bool unmap)
{
	bool *done = unmap ? &act.unmap_done : &act.map_done;
	unsigned int f = (act.fate >> (unmap ? 2 : 0)) & 3;

	if (*done)
		return 0;
	*done = true;
	return f >= 2 ? f : 0;
}

/* ---- frames (hyp/frames.h link seam) ------------------------------------------------ */

int frames_alloc(unsigned int count, struct own_frame *first)
{
	FUZZ_CHECK(count == GMEM_SLOTS && initing >= 0, "frames_alloc(%u)", count);
	if (act.fate & 0x80)
		return -ENOMEM;
	for (unsigned int r = 0; r < GUESTS; r++) {
		if (run_owner[r] < 0) {
			run_owner[r] = initing;
			guests[initing].run = (int)r;
			first->n = ((uintptr_t)frames_mem >> 12) + r * GMEM_SLOTS;
			return 0;
		}
	}
	return -ENOMEM;
}

void frames_free(struct own_frame first, unsigned int count)
{
	uint64_t r = (first.n - ((uintptr_t)frames_mem >> 12)) / GMEM_SLOTS;

	FUZZ_CHECK(count == GMEM_SLOTS && r < GUESTS && run_owner[r] >= 0 &&
	               first.n == ((uintptr_t)frames_mem >> 12) + r * GMEM_SLOTS,
	           "frames_free(%#llx, %u)", (unsigned long long)first.n, count);
	for (unsigned int i = 0; i < GMEM_SLOTS; i++) {
		const struct own *o = &own[r * GMEM_SLOTS + i];

		FUZZ_CHECK(o->kind == OWN_HOLE || o->leaked,
		           "frames given back with frame %u still mapped", i);
	}
	guests[run_owner[r]].run = -1;
	run_owner[r] = -1;
}

unsigned int frames_free_count(void)
{
	return (run_owner[0] < 0) + (run_owner[1] < 0);
}

/* ---- the fake Xen ------------------------------------------------------------------- */

/* A live mapping of (dom, kind, key) other than frame `except`: Xen would have two. */
NO_COVERAGE static bool mapped_elsewhere(uint16_t dom, enum own_kind kind, uint64_t key,
                                         unsigned int except)
{
	for (unsigned int i = 0; i < FRAMES; i++)
		if (i != except && own[i].kind == kind && !own[i].leaked && own[i].dom == dom &&
		    own[i].key == key)
			return true;
	return false;
}

static void own_map(unsigned int i, enum own_kind kind, uint16_t dom, uint64_t key, bool ro)
{
	FUZZ_CHECK(own[i].kind == OWN_HOLE || own[i].leaked,
	           "frame %u mapped over a live mapping (kind %d, key %#llx)", i, own[i].kind,
	           (unsigned long long)own[i].key);
	FUZZ_CHECK(!mapped_elsewhere(dom, kind, key, i), "dom%u %s %#llx mapped twice at once", dom,
	           kind == OWN_GRANT ? "grant" : "frame", (unsigned long long)key);
	own[i] = (struct own){kind, dom, key, ro, false, false, ++next_handle, 0};
	for (unsigned int k = 0; k < act.gone_count && kind == OWN_GRANT; k++)
		if (act.gone[k].key == key)
			own[i].users = act.gone[k].users;
	ASAN_UNPOISON_MEMORY_REGION(frame_ptr(i), PAGE);
}

static void own_unmap(unsigned int i)
{
	own[i] = (struct own){0};
	ASAN_POISON_MEMORY_REGION(frame_ptr(i), PAGE);
}

static int16_t grant_map_one(struct gnttab_map_grant_ref *op, unsigned int fate)
{
	struct guest *gu = guest_of_dom(op->dom);
	bool ro = op->flags & GNTMAP_readonly;
	unsigned int i;

	FUZZ_CHECK((op->flags & ~GNTMAP_readonly) == GNTMAP_host_map, "map flags %#x", op->flags);
	FUZZ_CHECK(gu, "grant map for dom%u, no live guest", op->dom);
	FUZZ_CHECK(op->host_addr % PAGE == 0, "host_addr %#llx", (unsigned long long)op->host_addr);
	i = own_index(gu, op->host_addr >> 12, "grant map");
	if (fate == 2)
		return fate_gntst();
	if (op->ref < REFS && gu->grants[op->ref] == GRANT_ENDED)
		return GNTST_bad_gntref;
	if (!ro && op->ref < REFS && gu->grants[op->ref] == GRANT_RO)
		return GNTST_permission_denied;
	own_map(i, OWN_GRANT, op->dom, op->ref, ro);
	op->handle = own[i].handle;
	return GNTST_okay;
}

static int16_t grant_unmap_one(struct gnttab_unmap_grant_ref *op, bool fail)
{
	uint64_t first = (uintptr_t)frames_mem >> 12, n = op->host_addr >> 12;
	unsigned int i = (unsigned int)(n - first);

	FUZZ_CHECK(op->dev_bus_addr == 0 && op->host_addr % PAGE == 0 && n >= first &&
	               n - first < FRAMES,
	           "grant unmap at %#llx", (unsigned long long)op->host_addr);
	FUZZ_CHECK(own[i].kind == OWN_GRANT && own[i].handle == op->handle,
	           "grant unmap of frame %u (kind %d, handle %u, given %u): double unmap?", i,
	           own[i].kind, own[i].handle, op->handle);
	if (act.releasing >= 0) {
		uint8_t others = own[i].users & (uint8_t) ~(1u << act.releasing);

		FUZZ_CHECK(!others,
		           "release of request %d unmapped dom%u grant %llu, which request(s) %#x "
		           "in flight still use",
		           act.releasing, own[i].dom, (unsigned long long)own[i].key, others);
	}
	if (act.gone_count < 2)
		act.gone[act.gone_count++] = (typeof(act.gone[0])){own[i].key, own[i].users};
	if (fail) {
		own[i].leaked = true; /* gmem forgets it: what gmem.c says it does */
		return fate_gntst();
	}
	own_unmap(i);
	return GNTST_okay;
}

long hypercall_grant_table_op(unsigned int cmd, void *uop, unsigned int count)
{
	act.hypercalls++;
	if (cmd == GNTTABOP_map_grant_ref) {
		struct gnttab_map_grant_ref *ops = uop;
		unsigned int f = fate_take(false);

		FUZZ_CHECK(count == 1, "%u grant maps at once", count);
		if (f == 3) {
			act.map_failed = true;
			return fate_err();
		}
		ops[0].status = grant_map_one(&ops[0], f);
		act.map_failed |= ops[0].status != GNTST_okay;
		return 0;
	}
	if (cmd == GNTTABOP_unmap_grant_ref) {
		struct gnttab_unmap_grant_ref *ops = uop;
		unsigned int f = fate_take(true);

		FUZZ_CHECK(count >= 1 && count <= GMEM_SLOTS, "%u grant unmaps at once", count);
		if (f == 3) {
			/* Xen did none of them; gmem forgets them all. */
			for (unsigned int k = 0; k < count; k++)
				grant_unmap_one(&ops[k], true);
			return fate_err();
		}
		for (unsigned int k = 0; k < count; k++)
			ops[k].status =
			    grant_unmap_one(&ops[k], f == 2 && k == (act.fate >> 4) % count);
		return 0;
	}
	FUZZ_CHECK(false, "grant_table_op %u", cmd);
	return -ENOSYS;
}

long hypercall_memory_op(unsigned int cmd, void *arg)
{
	act.hypercalls++;
	if (cmd == XENMEM_add_to_physmap_batch) {
		struct xen_add_to_physmap_batch *b = arg;
		struct guest *gu = guest_of_dom(b->u.foreign_domid);
		unsigned int f;

		FUZZ_CHECK(b->domid == DOMID_SELF && b->space == XENMAPSPACE_gmfn_foreign && gu &&
		               b->size == 1,
		           "add_to_physmap_batch space %u for dom%u, %u frames", b->space,
		           b->u.foreign_domid, b->size);
		if ((f = fate_take(false)) == 3) {
			act.map_failed = true;
			return fate_err();
		}
		for (unsigned int k = 0; k < b->size; k++) {
			uint64_t gfn = b->idxs.p[k];
			unsigned int i = own_index(gu, b->gpfns.p[k], "foreign map");

			FUZZ_CHECK(gfn < GFN_LIMIT, "guest frame %#llx: reserved bits reached Xen",
			           (unsigned long long)gfn);
			b->errs.p[k] = 0;
			if (f == 2)
				b->errs.p[k] = fate_err();
			else if ((gfn & 0xff) == 0xff)
				b->errs.p[k] = -EINVAL; /* no RAM of the guest's there */
			else
				own_map(i, OWN_FOREIGN, gu->domid, gfn, false);
			act.map_failed |= b->errs.p[k] != 0;
		}
		return 0;
	}
	if (cmd == XENMEM_remove_from_physmap) {
		struct xen_remove_from_physmap *rm = arg;
		uint64_t first = (uintptr_t)frames_mem >> 12;
		unsigned int i = (unsigned int)(rm->gpfn - first);

		FUZZ_CHECK(rm->domid == DOMID_SELF && rm->gpfn >= first &&
		               rm->gpfn - first < FRAMES,
		           "remove_from_physmap of %#llx", (unsigned long long)rm->gpfn);
		FUZZ_CHECK(own[i].kind == OWN_FOREIGN && !own[i].leaked,
		           "remove_from_physmap of frame %u (kind %d%s): double unmap, or a grant?",
		           i, own[i].kind, own[i].leaked ? ", given up" : "");
		if (fate_take(true) >= 2) {
			own[i].leaked = true;
			return fate_err();
		}
		own_unmap(i);
		return 0;
	}
	FUZZ_CHECK(false, "memory_op %u", cmd);
	return -ENOSYS;
}

/* ---- checks ------------------------------------------------------------------------ */

static void count_lines(const char *buf, size_t len)
{
	const char *at = memmem(buf, len, LOG_PREFIX, strlen(LOG_PREFIX));
	unsigned int dom;

	if (!at || sscanf(at, LOG_PREFIX "%u:", &dom) != 1)
		return;
	for (unsigned int i = 0; i < GUESTS; i++)
		if (guests[i].domid == dom)
			guests[i].log_lines++;
}

/*
 * gmem's slots and Xen's mappings of the guest's run agree, and what `after` must have
 * unmapped is gone: grant mappings unless `grants_ok` (ring ones also when `rings_ok`,
 * buffer ones used by a request in `kept` also), foreign ones unless `foreign_ok`.
 */
NO_COVERAGE static void check_guest(struct guest *gu, const char *after, bool grants_ok,
                                    bool rings_ok, bool foreign_ok, uint8_t kept)
{
	FUZZ_CHECK(gu->log_lines <= GMEM_FORMATS * LOG_LIMIT_LINES, "dom%u: %u log lines",
	           gu->domid, gu->log_lines);
	if (gu->run < 0)
		return;
	for (unsigned int s = 0; s < GMEM_SLOTS; s++) {
		const struct gmem_slot *sl = &gu->g.slots[s];
		const struct own *o = &own[gu->run * GMEM_SLOTS + s];
		bool live = o->kind != OWN_HOLE && !o->leaked;

		FUZZ_CHECK(!gu->live || (sl->users & ~gu->g.holders) == 0,
		           "after %s: dom%u slot %u counts users %#x, gmem gave out only %#x",
		           after, gu->domid, s, sl->users, gu->g.holders);
		FUZZ_CHECK(!gu->live || !sl->users || (sl->mapped && sl->grant && !sl->ring),
		           "after %s: dom%u slot %u counts users %#x, not a buffer grant mapping",
		           after, gu->domid, s, sl->users);

		FUZZ_CHECK(!live || (gu->live && sl->mapped),
		           "after %s: dom%u frame %u mapped (kind %d, key %#llx), gmem forgot it",
		           after, gu->domid, s, o->kind, (unsigned long long)o->key);
		if (!live) {
			FUZZ_CHECK(!gu->live || !sl->mapped,
			           "after %s: dom%u slot %u mapped, Xen has nothing there", after,
			           gu->domid, s);
			continue;
		}
		FUZZ_CHECK(sl->own.n == ((uintptr_t)frame_ptr(gu->run * GMEM_SLOTS + s) >> 12),
		           "slot %u at frame %#llx", s, (unsigned long long)sl->own.n);
		if (o->kind == OWN_GRANT)
			FUZZ_CHECK(sl->grant && sl->ref.n == o->key && sl->handle == o->handle &&
			               sl->readonly == o->readonly,
			           "dom%u slot %u: grant %u handle %u ro %d, Xen has %llu %u %d",
			           gu->domid, s, sl->ref.n, sl->handle, sl->readonly,
			           (unsigned long long)o->key, o->handle, o->readonly);
		else
			FUZZ_CHECK(!sl->grant && sl->guest.n == o->key,
			           "dom%u slot %u: frame %#llx, Xen has %#llx", gu->domid, s,
			           (unsigned long long)sl->guest.n, (unsigned long long)o->key);
		FUZZ_CHECK(o->kind != OWN_GRANT || grants_ok || (rings_ok && o->ring) ||
		               (!o->ring && (o->users & kept)),
		           "after %s: dom%u %s grant %llu still mapped (users %#x)", after,
		           gu->domid, o->ring ? "ring" : "buffer", (unsigned long long)o->key,
		           o->users);
		FUZZ_CHECK(o->kind != OWN_FOREIGN || foreign_ok,
		           "after %s: dom%u frame %#llx still mapped", after, gu->domid,
		           (unsigned long long)o->key);
	}
}

/* ---- the actions ------------------------------------------------------------------- */

/* One map() of the script for request `req` (REQS: none), checked. */
static void map(struct guest *gu, unsigned int req, uint64_t gpa, uint32_t len, bool writable,
                enum vq_area area)
{
	uint64_t off = gpa % PAGE;
	bool grant = gpa & GMEM_GRANT_BIT;
	bool refuse =
	    !gu->live || len == 0 || off + len > PAGE ||
	    (grant ? ((gpa & ~GMEM_GRANT_BIT) >> 12) > UINT32_MAX : (gpa & GMEM_GPA_RESERVED) != 0);
	unsigned int calls = act.hypercalls;
	uint8_t *p, *run;
	struct own *o;
	unsigned int i;

	if (!gu->g.mem.ops)
		return; /* a gmem_init that failed set up nothing to call */
	/* As the walker does: a buffer access names its chain, a ring access none. */
	act.gone_count = 0;
	p = gu->g.mem.ops->map(gu->g.mem.ctx, gpa, len, writable, area,
	                       area == VQ_AREA_BUFFER && req < REQS ? &gu->holds[req] : NULL);
	if (refuse) {
		FUZZ_CHECK(!p && act.hypercalls == calls,
		           "dom%u: %#llx+%u (live %d) not refused, or with %u hypercalls",
		           gu->domid, (unsigned long long)gpa, len, gu->live,
		           act.hypercalls - calls);
		return;
	}
	if (!p) {
		FUZZ_CHECK(act.map_failed, "dom%u: %#llx+%u %s refused without Xen refusing",
		           gu->domid, (unsigned long long)gpa, len, writable ? "rw" : "ro");
		return;
	}
	run = frame_ptr(gu->run * GMEM_SLOTS);
	FUZZ_CHECK(gu->run >= 0 && p >= run && p < run + GMEM_SLOTS * PAGE,
	           "dom%u: %#llx mapped at %p, outside its frames", gu->domid,
	           (unsigned long long)gpa, (void *)p);
	i = (unsigned int)((p - frames_mem) / PAGE);
	o = &own[i];
	FUZZ_CHECK((uintptr_t)p % PAGE == off, "dom%u: %#llx at offset %#lx", gu->domid,
	           (unsigned long long)gpa, (unsigned long)((uintptr_t)p % PAGE));
	FUZZ_CHECK(o->kind == (grant ? OWN_GRANT : OWN_FOREIGN) && !o->leaked &&
	               o->dom == gu->domid &&
	               o->key == (grant ? (gpa & ~GMEM_GRANT_BIT) >> 12 : gpa >> 12),
	           "dom%u: %#llx given frame %u, which maps dom%u %s %#llx", gu->domid,
	           (unsigned long long)gpa, i, o->dom,
	           o->kind == OWN_GRANT ? "grant"
	           : o->kind            ? "frame"
	                                : "nothing",
	           (unsigned long long)o->key);
	FUZZ_CHECK(!writable || !o->readonly, "dom%u: grant %llu given read-only for a write",
	           gu->domid, (unsigned long long)o->key);
	FUZZ_CHECK(!__asan_region_is_poisoned(p, len), "dom%u: %#llx+%u: unmapped bytes at %p",
	           gu->domid, (unsigned long long)gpa, len, __asan_region_is_poisoned(p, len));
	o->ring |= area == VQ_AREA_RING;
	if (grant && area == VQ_AREA_BUFFER && req < REQS)
		o->users |= 1u << req;
}

/* Request `req` (REQS: one without a hold) is done: it uses none of its mappings from now. */
static void release(struct guest *gu, unsigned int req)
{
	struct vq_mem *mem = &gu->g.mem;
	uint8_t bit = req < REQS ? (uint8_t)(1u << req) : 0;

	if (mem->ops) {
		act.releasing = (int)req;
		mem->ops->release(mem->ctx, req < REQS ? &gu->holds[req] : NULL);
		act.releasing = -1;
	}
	check_guest(gu, "release", false, true, true, (uint8_t)~bit);
	for (unsigned int i = 0; gu->run >= 0 && i < GMEM_SLOTS; i++)
		own[gu->run * GMEM_SLOTS + i].users &= (uint8_t)~bit;
}

/*
 * OP_MAP and OP_BURST. Mode bits 0-1: the address: 0 a guest frame (u16, GFN_COUNT of them)
 * and u16 offset, 1 a grant (u16 ref, GFN_COUNT of them) and u16 offset, 2 any u64, 3 any
 * u64 with bit 63. Bit 2 writable, bit 3 a ring. Bits 4-5 the length: 0 a u8, 1 a u32, 2 the
 * rest of the page, 3 one more than that. A burst (u16 count after the mode) maps that many
 * consecutive pages from there, each with that length.
 */
static void map_script(struct fuzz_in *in, struct guest *gu, unsigned int req, bool burst)
{
	uint8_t mode = fuzz_u8(in);
	uint32_t count = burst ? fuzz_u16(in) % (GMEM_SLOTS + 64) : 1;
	uint64_t gpa = 0, off;
	uint32_t len = 0;

	switch (mode & 3) {
	case 0:
		gpa = (uint64_t)(GFN_BASE + fuzz_u16(in) % GFN_COUNT) << 12;
		gpa |= fuzz_u16(in) % PAGE;
		break;
	case 1:
		gpa = GMEM_GRANT_BIT | (uint64_t)(fuzz_u16(in) % GFN_COUNT) << 12;
		gpa |= fuzz_u16(in) % PAGE;
		break;
	case 2:
		gpa = fuzz_u64(in);
		break;
	case 3:
		gpa = fuzz_u64(in) | GMEM_GRANT_BIT;
		break;
	}
	off = gpa % PAGE;
	switch (mode >> 4 & 3) {
	case 0:
		len = fuzz_u8(in);
		break;
	case 1:
		len = fuzz_u32(in);
		break;
	case 2:
		len = (uint32_t)(PAGE - off);
		break;
	case 3:
		len = (uint32_t)(PAGE - off + 1);
		break;
	}
	for (uint32_t k = 0; k < count && maps_left; k++, maps_left--)
		map(gu, req, gpa + (uint64_t)k * PAGE, len, mode & 4,
		    mode & 8 ? VQ_AREA_RING : VQ_AREA_BUFFER);
	check_guest(gu, "map", true, true, true, 0);
}

/* Ends (`fini`) a live guest's gmem, or sets it up again. */
static void init(struct guest *gu)
{
	if (gu->live || gu->run >= 0) {
		gmem_fini(&gu->g);
		gu->live = false;
	}
	check_guest(gu, "fini", false, false, false, 0);
	FUZZ_CHECK(gu->run < 0, "dom%u: frames kept after fini", gu->domid);
	/* A new device: its chains start without holds (vblk_init clears its requests). */
	memset(gu->holds, 0, sizeof(gu->holds));
	initing = (int)(gu - guests);
	gu->log_lines = 0;
	gu->live = gmem_init(&gu->g, gu->domid) == 0;
	gu->log_lines = 0;
	log_limit_init(&gu->limit, "guest");
	gu->g.limit = &gu->limit;
	initing = -1;
	FUZZ_CHECK(gu->live == (gu->run >= 0), "dom%u: gmem_init %d with run %d", gu->domid,
	           gu->live, gu->run);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint16_t domid = fuzz_u16(&in);

	if (!frames_mem) {
		frames_mem = aligned_alloc(PAGE, (size_t)FRAMES * PAGE);
		log_set_sink(count_lines);
		log_set_level(LOG_DEBUG);
	}
	ASAN_POISON_MEMORY_REGION(frames_mem, (size_t)FRAMES * PAGE);
	memset(own, 0, sizeof(own));
	maps_left = MAPS_MAX;
	next_handle = 0;
	memset(&act, 0, sizeof(act));
	memset(guests, 0, sizeof(guests));
	for (unsigned int i = 0; i < GUESTS; i++) {
		run_owner[i] = -1;
		guests[i].run = -1;
		guests[i].domid = (uint16_t)(domid + i);
		init(&guests[i]);
	}

	for (int n = 0; n < OPS_MAX && in.left; n++) {
		uint8_t op = fuzz_u8(&in) % OP_COUNT;
		uint8_t who = fuzz_u8(&in);
		struct guest *gu = &guests[who % GUESTS];
		unsigned int req = who >> 1 & 7;
		struct vq_mem *mem = &gu->g.mem;

		act = (typeof(act)){.fate = fuzz_u8(&in), .releasing = -1};
		switch (op) {
		case OP_MAP:
		case OP_BURST:
			map_script(&in, gu, req, op == OP_BURST);
			break;
		case OP_RELEASE:
			release(gu, req);
			break;
		case OP_RESET:
			if (mem->ops)
				mem->ops->reset(mem->ctx);
			check_guest(gu, "reset", false, false, true, 0);
			FUZZ_CHECK(!gu->live || gu->g.holders == 0,
			           "dom%u: holders %#x after reset", gu->domid, gu->g.holders);
			break;
		case OP_INVALIDATE:
			gmem_invalidate(&gu->g);
			check_guest(gu, "invalidate", false, false, false, 0);
			FUZZ_CHECK(!gu->live || gu->g.holders == 0,
			           "dom%u: holders %#x after invalidate", gu->domid, gu->g.holders);
			break;
		case OP_FINI:
			gmem_fini(&gu->g);
			gu->live = false;
			check_guest(gu, "fini", false, false, false, 0);
			FUZZ_CHECK(gu->run < 0, "dom%u: frames kept after fini", gu->domid);
			break;
		case OP_INIT:
			init(gu);
			break;
		case OP_GRANT: {
			uint32_t ref = act.fate % REFS;
			uint8_t state = fuzz_u8(&in) % 3;
			bool mapped = mapped_elsewhere(gu->domid, OWN_GRANT, ref, FRAMES);

			/* As Linux's gnttab_end_foreign_access: not while Xen maps it. */
			if (!mapped)
				gu->grants[ref] = state;
			break;
		}
		}
	}
	for (unsigned int i = 0; i < GUESTS; i++) {
		gmem_fini(&guests[i].g);
		guests[i].live = false;
		check_guest(&guests[i], "fini", false, false, false, 0);
	}
	FUZZ_CHECK(run_owner[0] < 0 && run_owner[1] < 0, "frames kept after fini");
	ASAN_UNPOISON_MEMORY_REGION(frames_mem, (size_t)FRAMES * PAGE);
	return 0;
}
