/*
 * hyp/gmem.c against a fake Xen that maps for real: the guest's memory is a memfd, and a
 * foreign or grant mapping puts the guest page at our frame's address with mmap(MAP_FIXED)
 * (read-only for a GNTMAP_readonly grant), an unmap puts an inaccessible page back. So a
 * pointer gmem hands out reads exactly what the guest has there, a stale mapping reads the
 * wrong page and a use after unmap faults. The fake grant table counts each grant's
 * mappings, as Xen does, so the guest can "end access" only to grants nobody maps.
 * The hypercall stubs this test needs (the rest: tests/unit/fake_hypercalls.c) and hyp/frames.h
 * are link seams.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/memory.h>

#include "arch/fake.h"
#include "arch/hypercall.h"
#include "arch/timer.h"
#include "blk/disk.h"
#include "blk/ramdisk.h"
#include "blk/vblk.h"
#include "hyp/frames.h"
#include "hyp/gmem.h"
#include "lib/log.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/test.h"
#include "virtio/vmmio.h"
#include "virtio/vq.h"

#define DOMID       7
#define PAGE        4096u
#define GUEST_PAGES 64u
#define GPA_BASE    0x40000000ull
#define REFS        (GMEM_SLOTS + 64u) /* more than the slots */

/* A guest-physical address of guest page p, and a grant-DMA address of reference r. */
#define GPA(p, off)   (GPA_BASE + (uint64_t)(p)*PAGE + (off))
#define GADDR(r, off) (GMEM_GRANT_BIT | (uint64_t)(r) << 12 | (off))

/* ---- the fake Xen ---------------------------------------------------------------- */

enum own_kind { OWN_HOLE, OWN_FOREIGN, OWN_GRANT };

/* What sits in each of our GMEM_SLOTS frames. */
static struct {
	enum own_kind kind;
	uint32_t ref;
	uint32_t handle;
} own[GMEM_SLOTS];

/* The guest's grant table: page lent, read-only, and how many mappings Xen counts. */
static struct {
	bool granted;
	bool readonly;
	unsigned int page;
	int16_t fail; /* a GNTST_* to answer instead of mapping */
	unsigned int maps;
} grants[REFS];

static struct {
	long rc;                /* what the next grant_table_op returns */
	unsigned int map_calls; /* GNTTABOP_map_grant_ref hypercalls */
	unsigned int map_ops;
	uint32_t map_ref[512];    /* the ref of each map op, in order */
	uint32_t map_flags[512];  /* and its flags */
	unsigned int unmap_calls; /* GNTTABOP_unmap_grant_ref hypercalls */
	unsigned int unmap_ops;
	unsigned int last_unmap_count;
	unsigned int foreign_maps, foreign_unmaps;
	int foreign_unmap_rc; /* what remove_from_physmap answers instead of unmapping */
	unsigned int violations; /* things real Xen would refuse or get wrong */
	uint32_t next_handle;
	void (*unmap_hook)(const struct gnttab_unmap_grant_ref *ops, unsigned int count);
} hv;

static int memfd = -1;
static uint8_t *gm;          /* the guest's memory, as the guest sees it */
static uint8_t *frames_base; /* our GMEM_SLOTS frames */
static struct gmem g;
static struct log_limit limit; /* the device's budget of log lines, where a test gives one */

static uint8_t *page_of(unsigned int p)
{
	return gm + (size_t)p * PAGE;
}

static bool frame_index(uint64_t addr, unsigned int *i)
{
	uint64_t base = (uintptr_t)frames_base;

	if (addr < base || addr % PAGE || (addr - base) / PAGE >= GMEM_SLOTS) {
		hv.violations++;
		return false;
	}
	*i = (unsigned int)((addr - base) / PAGE);
	return true;
}

static void alias(unsigned int i, unsigned int page, bool readonly)
{
	void *at = frames_base + (size_t)i * PAGE;
	int prot = readonly ? PROT_READ : PROT_READ | PROT_WRITE;

	if (mmap(at, PAGE, prot, MAP_SHARED | MAP_FIXED, memfd, (off_t)page * PAGE) != at)
		hv.violations++;
}

static void unalias(unsigned int i)
{
	void *at = frames_base + (size_t)i * PAGE;

	if (mmap(at, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != at)
		hv.violations++;
	own[i].kind = OWN_HOLE;
}

static int16_t grant_map_one(struct gnttab_map_grant_ref *op)
{
	unsigned int i;
	bool readonly = op->flags & GNTMAP_readonly;

	if (hv.map_ops < 512) {
		hv.map_ref[hv.map_ops] = op->ref;
		hv.map_flags[hv.map_ops] = op->flags;
	}
	hv.map_ops++;
	/* Xen on Arm takes exactly these flags (arch/arm/mm.c create_grant_host_mapping). */
	if ((op->flags & ~GNTMAP_readonly) != GNTMAP_host_map) {
		hv.violations++;
		return GNTST_general_error;
	}
	if (op->dom != DOMID)
		return GNTST_bad_domain;
	if (!frame_index(op->host_addr, &i))
		return GNTST_bad_virt_addr;
	if (own[i].kind != OWN_HOLE) {
		hv.violations++; /* mapping over a mapping: the old one would leak */
		return GNTST_general_error;
	}
	if (op->ref >= REFS || !grants[op->ref].granted)
		return GNTST_bad_gntref;
	if (grants[op->ref].fail)
		return grants[op->ref].fail;
	if (!readonly && grants[op->ref].readonly)
		return GNTST_permission_denied;
	alias(i, grants[op->ref].page, readonly);
	own[i].kind = OWN_GRANT;
	own[i].ref = op->ref;
	own[i].handle = op->handle = ++hv.next_handle;
	grants[op->ref].maps++;
	return GNTST_okay;
}

static int16_t grant_unmap_one(struct gnttab_unmap_grant_ref *op)
{
	unsigned int i;

	if (op->dev_bus_addr != 0)
		hv.violations++;
	if (!frame_index(op->host_addr, &i))
		return GNTST_bad_virt_addr;
	if (own[i].kind != OWN_GRANT || own[i].handle != op->handle) {
		hv.violations++;
		return GNTST_bad_handle;
	}
	grants[own[i].ref].maps--;
	unalias(i);
	return GNTST_okay;
}

long hypercall_grant_table_op(unsigned int cmd, void *uop, unsigned int count)
{
	if (hv.rc)
		return hv.rc;
	if (cmd == GNTTABOP_map_grant_ref) {
		struct gnttab_map_grant_ref *ops = uop;

		hv.map_calls++;
		for (unsigned int i = 0; i < count; i++)
			ops[i].status = grant_map_one(&ops[i]);
		return 0;
	}
	if (cmd == GNTTABOP_unmap_grant_ref) {
		struct gnttab_unmap_grant_ref *ops = uop;

		hv.unmap_calls++;
		hv.unmap_ops += count;
		hv.last_unmap_count = count;
		if (hv.unmap_hook)
			hv.unmap_hook(ops, count);
		for (unsigned int i = 0; i < count; i++)
			ops[i].status = grant_unmap_one(&ops[i]);
		return 0;
	}
	hv.violations++;
	return -ENOSYS;
}

long hypercall_memory_op(unsigned int cmd, void *arg)
{
	if (cmd == XENMEM_add_to_physmap_batch) {
		struct xen_add_to_physmap_batch *b = arg;

		if (b->domid != DOMID_SELF || b->space != XENMAPSPACE_gmfn_foreign ||
		    b->u.foreign_domid != DOMID) {
			hv.violations++;
			return -EINVAL;
		}
		for (unsigned int k = 0; k < b->size; k++) {
			uint64_t idx = b->idxs.p[k];
			unsigned int i;

			hv.foreign_maps++;
			b->errs.p[k] = 0;
			if (!frame_index(b->gpfns.p[k] << 12, &i) || own[i].kind != OWN_HOLE) {
				hv.violations++;
				b->errs.p[k] = -EINVAL;
			} else if (idx < GPA_BASE >> 12 || idx - (GPA_BASE >> 12) >= GUEST_PAGES) {
				b->errs.p[k] = -EINVAL; /* not the guest's frame */
			} else {
				alias(i, (unsigned int)(idx - (GPA_BASE >> 12)), false);
				own[i].kind = OWN_FOREIGN;
			}
		}
		return 0;
	}
	if (cmd == XENMEM_remove_from_physmap) {
		struct xen_remove_from_physmap *rm = arg;
		unsigned int i;

		hv.foreign_unmaps++;
		if (hv.foreign_unmap_rc)
			return hv.foreign_unmap_rc;
		if (!frame_index(rm->gpfn << 12, &i) || own[i].kind != OWN_FOREIGN) {
			hv.violations++; /* a grant mapping must go through unmap_grant_ref */
			return -EINVAL;
		}
		unalias(i);
		return 0;
	}
	hv.violations++;
	return -ENOSYS;
}

/* hyp/frames.c's pool, reduced to the one run of frames this test owns. */
static bool frames_taken;

int frames_alloc(unsigned int count, struct own_frame *first)
{
	if (frames_taken || count != GMEM_SLOTS)
		return -ENOMEM;
	frames_taken = true;
	first->n = (uintptr_t)frames_base >> 12;
	return 0;
}

void frames_free(struct own_frame first, unsigned int count)
{
	if (!frames_taken || first.n != (uintptr_t)frames_base >> 12 || count != GMEM_SLOTS)
		hv.violations++;
	frames_taken = false;
}

unsigned int frames_free_count(void)
{
	return frames_taken ? 0 : GMEM_SLOTS;
}

/* ---- the guest ------------------------------------------------------------------- */

/* Lends guest page `page` as reference `ref` (gnttab_grant_foreign_access_ref). */
static void grant(uint32_t ref, unsigned int page, bool readonly)
{
	grants[ref] = (typeof(grants[ref])){.granted = true, .readonly = readonly, .page = page};
}

/* Ends a grant as Linux does: refused while the backend still maps it. */
static bool end_access(uint32_t ref)
{
	if (grants[ref].maps)
		return false;
	grants[ref].granted = false;
	return true;
}

static unsigned int mapped_frames(enum own_kind kind)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < GMEM_SLOTS; i++)
		n += own[i].kind == kind;
	return n;
}

static unsigned int log_lines(void)
{
	unsigned int n = 0;

	for (const char *s = log_text; *s; s++)
		n += *s == '\n';
	return n;
}

/* A map() outside any chain (a ring access, or a buffer mapped for nobody). */
static void *map(gpa_t gpa, uint32_t len, bool writable, enum vq_area area)
{
	return g.mem.ops->map(g.mem.ctx, gpa, len, writable, area, NULL);
}

/* A buffer access of the request (chain) whose hold is given. */
static void *map_for(struct vq_hold *hold, gpa_t gpa, uint32_t len, bool writable)
{
	return g.mem.ops->map(g.mem.ctx, gpa, len, writable, VQ_AREA_BUFFER, hold);
}

/* The request whose hold is given is done (NULL: one that mapped nothing of its own). */
static void release(struct vq_hold *hold)
{
	g.mem.ops->release(g.mem.ctx, hold);
}

/* A fresh guest memory with a pattern per page, no grants, a fresh gmem. */
static void setup(void)
{
	if (memfd < 0) {
		memfd = memfd_create("guest", 0);
		if (memfd < 0 || ftruncate(memfd, GUEST_PAGES * PAGE) != 0)
			abort();
		gm = mmap(NULL, GUEST_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
		frames_base =
		    mmap(NULL, GMEM_SLOTS * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (gm == MAP_FAILED || frames_base == MAP_FAILED)
			abort();
	}
	for (unsigned int i = 0; i < GMEM_SLOTS; i++)
		unalias(i);
	frames_taken = false;
	memset(grants, 0, sizeof(grants));
	memset(&hv, 0, sizeof(hv));
	for (unsigned int p = 0; p < GUEST_PAGES; p++)
		for (unsigned int b = 0; b < PAGE; b++)
			page_of(p)[b] = (uint8_t)(p * 7 + b / 16);
	log_capture_reset();
	if (gmem_init(&g, DOMID) != 0)
		abort();
}

/* ---- decoding and mapping -------------------------------------------------------- */

TEST(gmem, grant_address_gives_reference_and_offset)
{
	const uint8_t *p;

	setup();
	grant(5, 3, false);
	p = map(GADDR(5, 0x123), 16, false, VQ_AREA_BUFFER);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ((uintptr_t)p % PAGE, 0x123);
	EXPECT_MEMEQ(p, page_of(3) + 0x123, 16);
	ASSERT_EQ(hv.map_ops, 1);
	EXPECT_EQ(hv.map_ref[0], 5);
	EXPECT_EQ(hv.foreign_maps, 0);
	/* The guest writes; gmem's pointer sees its page, not a copy. */
	page_of(3)[0x123] = 0xab;
	EXPECT_EQ(p[0], 0xab);
	EXPECT_EQ(hv.violations, 0);
	EXPECT_STREQ(log_text, "");
}

TEST(gmem, pages_of_a_buffer_use_consecutive_references)
{
	struct vq vq;
	struct vq_chain chain;
	uint8_t got[2 * PAGE], want[2 * PAGE];
	uint8_t *desc = page_of(0);

	setup();
	/* Rings in pages 0..2 (refs 0..2); a buffer on pages 20, 9, 33 lent as refs 40..42. */
	grant(0, 0, false);
	grant(1, 1, false);
	grant(2, 2, false);
	grant(40, 20, true);
	grant(41, 9, true);
	grant(42, 33, true);
	memset(desc, 0, 3 * PAGE); /* fresh rings */
	vq_init(&vq, &g.mem, "gmem-test", 0, 0);
	ASSERT_EQ(vq_start(&vq, 8, GADDR(0, 0), GADDR(1, 0), GADDR(2, 0), 0), 0);
	/* One descriptor of 2 pages from 0xf00 in ref 40, so it spans refs 40, 41 and 42. */
	uint64_t addr = GADDR(40, 0xf00);
	for (int b = 0; b < 8; b++)
		desc[b] = (uint8_t)(addr >> (8 * b));
	desc[8] = 0x00;
	desc[9] = 0x20;    /* len 0x2000 */
	page_of(1)[4] = 0; /* avail.ring[0] = 0 */
	page_of(1)[2] = 1; /* avail.idx = 1 */
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	ASSERT_EQ(vq_read(&vq, &chain, 0, got, sizeof(got)), 0);
	memcpy(want, page_of(20) + 0xf00, 0x100);
	memcpy(want + 0x100, page_of(9), PAGE);
	memcpy(want + 0x100 + PAGE, page_of(33), PAGE - 0x100);
	EXPECT_MEMEQ(got, want, sizeof(got));
	/* Refs 40..42 were mapped for the buffer, each once, read-only; nothing else was. */
	unsigned int buffer_maps = 0;
	for (unsigned int i = 0; i < hv.map_ops; i++) {
		EXPECT_TRUE(hv.map_ref[i] <= 2 || (hv.map_ref[i] >= 40 && hv.map_ref[i] <= 42));
		if (hv.map_ref[i] >= 40) {
			buffer_maps++;
			EXPECT_EQ(hv.map_flags[i], GNTMAP_host_map | GNTMAP_readonly);
		}
	}
	EXPECT_EQ(buffer_maps, 3);
	EXPECT_EQ(grants[40].maps + grants[41].maps + grants[42].maps, 3);
	EXPECT_EQ(vq_push(&vq, &chain, 0), 0);
	EXPECT_EQ(grants[40].maps + grants[41].maps + grants[42].maps, 0);
	EXPECT_EQ(hv.violations, 0);
	EXPECT_STREQ(log_text, "");
}

TEST(gmem, access_decides_read_only_or_writable_mapping)
{
	uint8_t *p;

	setup();
	grant(1, 1, false);
	grant(2, 2, false);
	ASSERT_TRUE(map(GADDR(1, 0), 4, false, VQ_AREA_BUFFER) != NULL);
	p = map(GADDR(2, 8), 4, true, VQ_AREA_BUFFER);
	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(hv.map_ops, 2);
	EXPECT_EQ(hv.map_flags[0], GNTMAP_host_map | GNTMAP_readonly);
	EXPECT_EQ(hv.map_flags[1], GNTMAP_host_map);
	p[0] = 0x77;
	EXPECT_EQ(page_of(2)[8], 0x77);
	EXPECT_EQ(hv.violations, 0);
}

TEST(gmem, writing_a_page_first_mapped_read_only_maps_it_again)
{
	uint8_t *p;

	setup();
	grant(3, 5, false);
	ASSERT_TRUE(map(GADDR(3, 0), 4, false, VQ_AREA_RING) != NULL);
	p = map(GADDR(3, 0x40), 4, true, VQ_AREA_RING);
	ASSERT_TRUE(p != NULL);
	p[0] = 0x66; /* would fault on the read-only mapping */
	EXPECT_EQ(page_of(5)[0x40], 0x66);
	EXPECT_EQ(hv.map_ops, 2);
	EXPECT_EQ(hv.unmap_ops, 1);
	EXPECT_EQ(grants[3].maps, 1);
	/* Writable now: reads and writes hit. */
	EXPECT_TRUE(map(GADDR(3, 0), 4, false, VQ_AREA_RING) != NULL);
	EXPECT_TRUE(map(GADDR(3, 0), 4, true, VQ_AREA_RING) != NULL);
	EXPECT_EQ(hv.map_ops, 2);
	EXPECT_EQ(hv.violations, 0);
}

TEST(gmem, read_only_grant_cannot_be_mapped_writable)
{
	setup();
	grant(4, 4, true);
	EXPECT_TRUE(map(GADDR(4, 0), 4, true, VQ_AREA_BUFFER) == NULL);
	EXPECT_CONTAINS(log_text, "grant 4 cannot be mapped writable (GNTST -8");
	EXPECT_EQ(log_lines(), 1);
	EXPECT_TRUE(map(GADDR(4, 0), 4, false, VQ_AREA_BUFFER) != NULL);
	EXPECT_EQ(hv.violations, 0);
}

TEST(gmem, failing_grant_status_gives_null_and_one_log_line)
{
	setup();
	grant(6, 6, false);
	grants[6].fail = GNTST_bad_page;
	EXPECT_TRUE(map(GADDR(6, 0x10), 4, false, VQ_AREA_BUFFER) == NULL);
	EXPECT_CONTAINS(log_text, "gmem: dom7: grant 6 cannot be mapped read-only (GNTST -9, ");
	EXPECT_EQ(log_lines(), 1);
	/* A reference the guest never granted. */
	log_capture_reset();
	EXPECT_TRUE(map(GADDR(99, 0), 4, false, VQ_AREA_BUFFER) == NULL);
	EXPECT_CONTAINS(log_text, "grant 99 cannot be mapped read-only (GNTST -3, ");
	EXPECT_EQ(log_lines(), 1);
	/* The hypercall itself failing. */
	log_capture_reset();
	grant(7, 7, false);
	hv.rc = -EPERM;
	EXPECT_TRUE(map(GADDR(7, 0), 4, false, VQ_AREA_BUFFER) == NULL);
	EXPECT_CONTAINS(log_text, "grant 7 cannot be mapped read-only (GNTST -1, ");
	EXPECT_EQ(log_lines(), 1);
	hv.rc = 0;
	EXPECT_EQ(mapped_frames(OWN_GRANT), 0);
	EXPECT_EQ(hv.violations, 0);
}

TEST(gmem, non_grant_address_with_bits_62_to_48_is_refused)
{
	setup();
	EXPECT_TRUE(map(GPA(1, 0) | 1ull << 48, 4, false, VQ_AREA_BUFFER) == NULL);
	EXPECT_CONTAINS(log_text, "address 0x1000040001000 has bits 62..48 set");
	EXPECT_EQ(log_lines(), 1);
	EXPECT_TRUE(map(GPA(1, 0) | 1ull << 62, 4, false, VQ_AREA_RING) == NULL);
	EXPECT_EQ(hv.foreign_maps + hv.map_ops, 0);
	/* Held to the device's budget, as every line about the guest is. */
	g.limit = &limit;
	log_limit_init(&limit, "dom7");
	log_capture_reset();
	for (int i = 0; i < 40; i++)
		EXPECT_TRUE(map(GPA(1, 0) | 1ull << 50, 4, false, VQ_AREA_BUFFER) == NULL);
	EXPECT_EQ(log_lines(), LOG_LIMIT_LINES);
	EXPECT_EQ(g.refused, 42);
	fake_time_ns += LOG_LIMIT_PERIOD_NS;
	EXPECT_TRUE(map(GPA(1, 0) | 1ull << 50, 4, false, VQ_AREA_BUFFER) == NULL);
	EXPECT_CONTAINS(log_text, "dom7: 30 more line(s) about it were not logged");
	/* A grant address whose reference does not fit in 32 bits. */
	setup();
	EXPECT_TRUE(map(GMEM_GRANT_BIT | 1ull << 44, 4, false, VQ_AREA_BUFFER) == NULL);
	EXPECT_CONTAINS(log_text, "past 32 bits");
	EXPECT_EQ(log_lines(), 1);
	EXPECT_EQ(hv.map_ops, 0);
}

/* ---- when grant mappings go ------------------------------------------------------ */

TEST(gmem, release_unmaps_every_buffer_grant_of_its_request_in_one_call)
{
	struct vq_hold hold = {0};
	const uint8_t *ring;

	setup();
	for (uint32_t r = 10; r < 15; r++)
		grant(r, r, false);
	grant(1, 1, false);
	grant(2, 2, false);
	for (uint32_t r = 10; r < 15; r++)
		ASSERT_TRUE(map_for(&hold, GADDR(r, 0), 8, r & 1) != NULL);
	ASSERT_TRUE(map(GADDR(1, 0), 8, false, VQ_AREA_RING) != NULL);
	ASSERT_TRUE(map(GADDR(2, 0), 8, true, VQ_AREA_RING) != NULL);
	ASSERT_TRUE(map(GPA(30, 0), 8, false, VQ_AREA_BUFFER) != NULL);
	EXPECT_EQ(mapped_frames(OWN_GRANT), 7);

	release(&hold);
	EXPECT_EQ(hold.token, 0);
	EXPECT_EQ(g.holders, 0);
	EXPECT_EQ(hv.unmap_calls, 1);
	EXPECT_EQ(hv.last_unmap_count, 5);
	for (uint32_t r = 10; r < 15; r++)
		EXPECT_TRUE(end_access(r));
	/* Ring grants and foreign mappings stay, and are hits. */
	EXPECT_EQ(grants[1].maps, 1);
	EXPECT_EQ(grants[2].maps, 1);
	EXPECT_EQ(mapped_frames(OWN_FOREIGN), 1);
	ring = map(GADDR(1, 0x20), 8, false, VQ_AREA_RING);
	ASSERT_TRUE(ring != NULL);
	EXPECT_MEMEQ(ring, page_of(1) + 0x20, 8);
	EXPECT_TRUE(map(GPA(30, 0), 8, false, VQ_AREA_BUFFER) != NULL);
	EXPECT_EQ(hv.map_ops, 7);
	EXPECT_EQ(hv.foreign_maps, 1);
	/* Nothing left to release: no hypercall. */
	release(NULL);
	EXPECT_EQ(hv.unmap_calls, 1);
	EXPECT_EQ(hv.violations, 0);
	EXPECT_STREQ(log_text, "");
}

TEST(gmem, released_reference_reused_for_another_page_reads_the_new_page)
{
	const uint8_t *p;

	setup();
	grant(20, 8, false);
	p = map(GADDR(20, 0), 16, false, VQ_AREA_BUFFER);
	ASSERT_TRUE(p != NULL);
	EXPECT_MEMEQ(p, page_of(8), 16);
	release(NULL);
	/* The guest ends the grant and lends another page under the same reference. */
	ASSERT_TRUE(end_access(20));
	grant(20, 11, false);
	p = map(GADDR(20, 0), 16, false, VQ_AREA_BUFFER);
	ASSERT_TRUE(p != NULL);
	EXPECT_MEMEQ(p, page_of(11), 16);
	EXPECT_EQ(hv.map_ops, 2);
	EXPECT_EQ(hv.violations, 0);
}

TEST(gmem, ring_grants_are_kept_across_requests)
{
	setup();
	grant(1, 1, false);
	grant(21, 21, false);
	ASSERT_TRUE(map(GADDR(1, 0), 2, false, VQ_AREA_RING) != NULL);
	for (int req = 0; req < 3; req++) {
		ASSERT_TRUE(map(GADDR(1, 2), 2, false, VQ_AREA_RING) != NULL);
		ASSERT_TRUE(map(GADDR(21, 0), 16, false, VQ_AREA_BUFFER) != NULL);
		release(NULL);
	}
	/* The ring page once; the buffer once per request. */
	EXPECT_EQ(hv.map_ops, 4);
	EXPECT_EQ(hv.unmap_ops, 3);
	EXPECT_EQ(grants[1].maps, 1);
	/* A buffer page the walker then uses as a ring page is kept from then on. */
	ASSERT_TRUE(map(GADDR(21, 0), 16, false, VQ_AREA_BUFFER) != NULL);
	ASSERT_TRUE(map(GADDR(21, 0), 2, false, VQ_AREA_RING) != NULL);
	release(NULL);
	EXPECT_EQ(grants[21].maps, 1);
	EXPECT_EQ(hv.violations, 0);
}

/* Maps two ring grants, two buffer grants and two foreign pages. */
static void map_some(void)
{
	grant(1, 1, false);
	grant(2, 2, false);
	grant(30, 30, false);
	grant(31, 31, true);
	ASSERT_TRUE(map(GADDR(1, 0), 2, false, VQ_AREA_RING) != NULL);
	ASSERT_TRUE(map(GADDR(2, 0), 2, true, VQ_AREA_RING) != NULL);
	ASSERT_TRUE(map(GADDR(30, 0), 2, true, VQ_AREA_BUFFER) != NULL);
	ASSERT_TRUE(map(GADDR(31, 0), 2, false, VQ_AREA_BUFFER) != NULL);
	ASSERT_TRUE(map(GPA(40, 0), 2, false, VQ_AREA_RING) != NULL);
	ASSERT_TRUE(map(GPA(41, 0), 2, true, VQ_AREA_BUFFER) != NULL);
	EXPECT_EQ(mapped_frames(OWN_GRANT), 4);
	EXPECT_EQ(mapped_frames(OWN_FOREIGN), 2);
}

TEST(gmem, queue_reset_unmaps_every_grant_in_one_call_and_keeps_foreign_pages)
{
	struct vq vq;

	setup();
	map_some();
	vq_init(&vq, &g.mem, "gmem-test", 0, 0);
	vq_reset(&vq);
	EXPECT_EQ(hv.unmap_calls, 1);
	EXPECT_EQ(hv.last_unmap_count, 4);
	EXPECT_EQ(mapped_frames(OWN_GRANT), 0);
	EXPECT_TRUE(end_access(1) && end_access(2) && end_access(30) && end_access(31));
	/* Foreign pages are still cached. */
	EXPECT_EQ(mapped_frames(OWN_FOREIGN), 2);
	EXPECT_TRUE(map(GPA(40, 0), 2, false, VQ_AREA_RING) != NULL);
	EXPECT_EQ(hv.foreign_maps, 2);
	EXPECT_EQ(hv.violations, 0);
}

TEST(gmem, invalidate_unmaps_everything)
{
	setup();
	map_some();
	gmem_invalidate(&g);
	EXPECT_EQ(hv.unmap_calls, 1);
	EXPECT_EQ(hv.last_unmap_count, 4);
	EXPECT_EQ(hv.foreign_unmaps, 2);
	EXPECT_EQ(mapped_frames(OWN_GRANT) + mapped_frames(OWN_FOREIGN), 0);
	/* And maps again on the next access. */
	EXPECT_TRUE(map(GPA(40, 0), 2, false, VQ_AREA_RING) != NULL);
	EXPECT_TRUE(map(GADDR(1, 0), 2, false, VQ_AREA_RING) != NULL);
	EXPECT_EQ(hv.foreign_maps, 3);
	EXPECT_EQ(hv.map_ops, 5);
	EXPECT_EQ(hv.violations, 0);
}

TEST(gmem, a_failing_foreign_unmap_is_logged_once_per_frame)
{
	setup();
	ASSERT_TRUE(map(GPA(12, 0), 8, false, VQ_AREA_BUFFER) != NULL);
	ASSERT_TRUE(map(GPA(13, 0), 8, false, VQ_AREA_BUFFER) != NULL);
	hv.foreign_unmap_rc = -EINVAL;
	gmem_invalidate(&g);
	EXPECT_EQ(hv.foreign_unmaps, 2);
	EXPECT_CONTAINS(log_text, "gmem: dom7: unmapping guest frame 0x4000c at frame ");
	EXPECT_CONTAINS(log_text, "failed (-22)");
	EXPECT_EQ(log_lines(), 2);
	/* Forgotten: a second invalidate has nothing left to unmap. */
	gmem_invalidate(&g);
	EXPECT_EQ(hv.foreign_unmaps, 2);
	EXPECT_EQ(log_lines(), 2);
}

TEST(gmem, fini_unmaps_everything_and_gives_the_frames_back)
{
	setup();
	map_some();
	gmem_fini(&g);
	EXPECT_EQ(hv.unmap_calls, 1);
	EXPECT_EQ(hv.foreign_unmaps, 2);
	EXPECT_EQ(mapped_frames(OWN_GRANT) + mapped_frames(OWN_FOREIGN), 0);
	EXPECT_FALSE(frames_taken);
	EXPECT_TRUE(map(GPA(40, 0), 2, false, VQ_AREA_RING) == NULL);
	EXPECT_EQ(hv.violations, 0);
}

TEST(gmem, foreign_mapping_is_cached)
{
	const uint8_t *p;

	setup();
	p = map(GPA(12, 0x80), 8, false, VQ_AREA_BUFFER);
	ASSERT_TRUE(p != NULL);
	EXPECT_MEMEQ(p, page_of(12) + 0x80, 8);
	p = map(GPA(12, 0x100), 8, true, VQ_AREA_BUFFER);
	ASSERT_TRUE(p != NULL);
	EXPECT_MEMEQ(p, page_of(12) + 0x100, 8);
	release(NULL);
	EXPECT_TRUE(map(GPA(12, 0), 8, false, VQ_AREA_BUFFER) != NULL);
	EXPECT_EQ(hv.foreign_maps, 1);
	EXPECT_EQ(hv.foreign_unmaps + hv.map_calls + hv.unmap_calls, 0);
	EXPECT_EQ(g.hits, 2);
	EXPECT_EQ(g.misses, 1);
	/* A page outside the guest: refused by Xen, one line. */
	EXPECT_TRUE(map(GPA(GUEST_PAGES, 0), 8, false, VQ_AREA_BUFFER) == NULL);
	EXPECT_CONTAINS(log_text, "cannot be mapped");
	EXPECT_EQ(log_lines(), 1);
	EXPECT_EQ(hv.violations, 0);
}

TEST(gmem, evicting_a_grant_slot_unmaps_it)
{
	const unsigned int count = GMEM_SLOTS + 44;

	setup();
	for (uint32_t r = 0; r < count; r++)
		grant(r, r % GUEST_PAGES, false);
	for (uint32_t r = 0; r < count; r++) {
		const uint8_t *p = map(GADDR(r, 0x10), 2, false, VQ_AREA_BUFFER);

		ASSERT_TRUE(p != NULL);
		EXPECT_EQ(p[0], page_of(r % GUEST_PAGES)[0x10]);
	}
	/* Each eviction unmapped its grant before the frame took the next one. */
	EXPECT_EQ(hv.unmap_ops, 44);
	EXPECT_EQ(mapped_frames(OWN_GRANT), GMEM_SLOTS);
	release(NULL);
	EXPECT_EQ(hv.unmap_ops, 44 + GMEM_SLOTS);
	for (uint32_t r = 0; r < count; r++)
		EXPECT_EQ(grants[r].maps, 0);
	EXPECT_EQ(hv.violations, 0);
}

/* ---- requests in flight together: each keeps its buffer grants until it is done --- */

/* Whether any slot still counts a user (a request in flight) of its mapping. */
static bool any_users(void)
{
	for (unsigned int i = 0; i < GMEM_SLOTS; i++)
		if (g.slots[i].users)
			return true;
	return false;
}

TEST(gmem, a_release_unmaps_only_the_buffers_of_its_request)
{
	struct vq_hold a = {0}, b = {0};
	unsigned int maps;
	uint8_t *p;

	setup();
	for (uint32_t r = 10; r < 14; r++)
		grant(r, r, false);
	ASSERT_TRUE(map_for(&a, GADDR(10, 0), 8, false) != NULL);
	ASSERT_TRUE(map_for(&a, GADDR(11, 0), 8, true) != NULL);
	ASSERT_TRUE(map_for(&b, GADDR(12, 0), 8, false) != NULL);
	ASSERT_TRUE(map_for(&b, GADDR(13, 0), 8, true) != NULL);
	EXPECT_NE(a.token, b.token);

	/* The request that came second completes first: only its two grants go. */
	release(&b);
	EXPECT_EQ(b.token, 0);
	EXPECT_EQ(hv.unmap_calls, 1);
	EXPECT_EQ(hv.last_unmap_count, 2);
	EXPECT_TRUE(end_access(12) && end_access(13));
	EXPECT_EQ(grants[10].maps, 1);
	EXPECT_EQ(grants[11].maps, 1);
	EXPECT_FALSE(end_access(11));

	/* The other one still reaches its pages through the mappings it had: no map call. */
	maps = hv.map_ops;
	p = map_for(&a, GADDR(11, 0x40), 4, true);
	ASSERT_TRUE(p != NULL);
	p[0] = 0x3c;
	EXPECT_EQ(page_of(11)[0x40], 0x3c);
	EXPECT_EQ(hv.map_ops, maps);

	release(&a);
	EXPECT_EQ(hv.unmap_calls, 2);
	EXPECT_TRUE(end_access(10) && end_access(11));
	EXPECT_EQ(mapped_frames(OWN_GRANT), 0);
	EXPECT_EQ(g.holders, 0);
	EXPECT_FALSE(any_users());
	EXPECT_EQ(hv.violations, 0);
}

TEST(gmem, a_page_in_two_requests_stays_mapped_until_both_are_done)
{
	struct vq_hold a = {0}, b = {0};

	setup();
	grant(20, 20, false);
	grant(21, 21, false);
	/* A hostile driver puts one buffer in two chains: one mapping, two users. */
	ASSERT_TRUE(map_for(&a, GADDR(20, 0), 8, false) != NULL);
	ASSERT_TRUE(map_for(&b, GADDR(20, 0x100), 8, false) != NULL);
	EXPECT_EQ(hv.map_ops, 1);
	release(&a);
	EXPECT_EQ(hv.unmap_calls, 0);
	EXPECT_FALSE(end_access(20));
	EXPECT_TRUE(map_for(&b, GADDR(20, 0), 8, false) != NULL);
	EXPECT_EQ(hv.map_ops, 1);
	release(&b);
	EXPECT_TRUE(end_access(20));

	/* Mapped again writable for the second user: still the first one's too. */
	ASSERT_TRUE(map_for(&a, GADDR(21, 0), 8, false) != NULL);
	ASSERT_TRUE(map_for(&b, GADDR(21, 0), 8, true) != NULL);
	EXPECT_EQ(hv.map_ops, 3);
	EXPECT_EQ(grants[21].maps, 1);
	release(&b);
	EXPECT_FALSE(end_access(21));
	release(&a);
	EXPECT_TRUE(end_access(21));
	EXPECT_EQ(mapped_frames(OWN_GRANT), 0);
	EXPECT_EQ(hv.violations, 0);
}

TEST(gmem, a_reset_forgets_the_requests_in_flight)
{
	struct vq_hold a = {0}, b = {0}, c = {0};

	setup();
	for (uint32_t r = 10; r < 14; r++)
		grant(r, r, false);
	ASSERT_TRUE(map_for(&a, GADDR(10, 0), 8, false) != NULL);
	ASSERT_TRUE(map_for(&b, GADDR(11, 0), 8, false) != NULL);
	g.mem.ops->reset(g.mem.ctx);
	EXPECT_EQ(mapped_frames(OWN_GRANT), 0);
	EXPECT_EQ(g.holders, 0);
	EXPECT_FALSE(any_users());

	/*
	 * A new request gets the number a had. a's old token frees nothing of c's; b, still in
	 * flight from before (on another queue, say), takes a new number at its next access.
	 */
	ASSERT_TRUE(map_for(&c, GADDR(12, 0), 8, false) != NULL);
	release(&a);
	EXPECT_NE(g.holders, 0);
	EXPECT_EQ(grants[12].maps, 1);
	ASSERT_TRUE(map_for(&b, GADDR(13, 0), 8, false) != NULL);
	EXPECT_NE(b.token, c.token);
	release(&b);
	EXPECT_TRUE(end_access(13));
	EXPECT_EQ(grants[12].maps, 1);
	release(&c);
	EXPECT_TRUE(end_access(12));
	EXPECT_EQ(g.holders, 0);
	/* An invalidate forgets them too. */
	ASSERT_TRUE(map_for(&a, GADDR(10, 0), 8, false) != NULL);
	gmem_invalidate(&g);
	EXPECT_EQ(g.holders, 0);
	EXPECT_FALSE(any_users());
	EXPECT_EQ(hv.violations, 0);
}

TEST(gmem, requests_past_the_holders_are_served_and_their_grants_still_go)
{
	static struct vq_hold holds[GMEM_HOLDERS + 1];
	struct vq_hold *extra = &holds[GMEM_HOLDERS];

	setup();
	memset(holds, 0, sizeof(holds));
	for (uint32_t r = 0; r <= GMEM_HOLDERS; r++) {
		grant(100 + r, r, false);
		ASSERT_TRUE(map_for(&holds[r], GADDR(100 + r, 0), 8, false) != NULL);
	}
	/* Every number is taken: the last request's page is mapped for nobody. */
	EXPECT_EQ(g.holders, UINT32_MAX);
	EXPECT_EQ(extra->token, 0);
	EXPECT_EQ(mapped_frames(OWN_GRANT), GMEM_HOLDERS + 1);

	/* Any request's completion drops it with its own: it may be the finished one's. */
	release(&holds[0]);
	EXPECT_TRUE(end_access(100) && end_access(100 + GMEM_HOLDERS));
	EXPECT_EQ(mapped_frames(OWN_GRANT), GMEM_HOLDERS - 1);
	/* Mapped again at its next access, now with the number that came free. */
	grant(100 + GMEM_HOLDERS, GMEM_HOLDERS, false);
	ASSERT_TRUE(map_for(extra, GADDR(100 + GMEM_HOLDERS, 0), 8, false) != NULL);
	EXPECT_NE(extra->token, 0);
	release(extra);
	EXPECT_TRUE(end_access(100 + GMEM_HOLDERS));
	EXPECT_EQ(mapped_frames(OWN_GRANT), GMEM_HOLDERS - 1);
	for (uint32_t r = 1; r < GMEM_HOLDERS; r++)
		release(&holds[r]);
	EXPECT_EQ(mapped_frames(OWN_GRANT), 0);
	EXPECT_EQ(g.holders, 0);
	EXPECT_EQ(hv.violations, 0);
}

/* ---- a grant-DMA frontend driving virtio-blk ------------------------------------- */

/*
 * Guest layout: rings in pages 0..2 (refs 0..2, lent for the queue's life, like Linux's
 * dma_alloc_coherent), request pages from 8 on, lent per request from refs 64 on.
 */
#define QSIZE      16u
#define DISK_BYTES (64u * DISK_SECTOR_SIZE)

static uint8_t disk[DISK_BYTES];
static struct ramdisk rd;
static struct vblk blk;
static uint16_t drv_avail;
static uint16_t used_seen_at_unmap; /* used.idx when the last buffer unmap was issued */
static bool buffers_in_last_unmap;

static uint16_t used_idx(void)
{
	return (uint16_t)(page_of(2)[2] | page_of(2)[3] << 8);
}

static void note_unmap(const struct gnttab_unmap_grant_ref *ops, unsigned int count)
{
	unsigned int i;

	buffers_in_last_unmap = false;
	for (unsigned int k = 0; k < count; k++)
		if (frame_index(ops[k].host_addr, &i) && own[i].ref >= 64)
			buffers_in_last_unmap = true;
	if (buffers_in_last_unmap)
		used_seen_at_unmap = used_idx();
}

static void wr_reg(uint32_t offset, uint32_t v)
{
	vmmio_write(&blk.mmio, offset, 4, v);
}

static uint32_t rd_reg(uint32_t offset)
{
	uint64_t v = 0;

	vmmio_read(&blk.mmio, offset, 4, &v);
	return (uint32_t)v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int b = 0; b < bytes; b++)
		p[b] = (uint8_t)(v >> (8 * b));
}

/* Brings the device up with grant addresses for the rings (virtio 1.2 §3.1.1). */
static bool grant_driver_init(void)
{
	uint64_t features;

	for (uint32_t r = 0; r < 3; r++)
		grant(r, r, false);
	memset(page_of(0), 0, 3 * PAGE);
	drv_avail = 0;
	wr_reg(VMMIO_REG_STATUS, 0);
	wr_reg(VMMIO_REG_STATUS, VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER);
	wr_reg(VMMIO_REG_DEVICE_FEATURES_SEL, 0);
	features = rd_reg(VMMIO_REG_DEVICE_FEATURES);
	wr_reg(VMMIO_REG_DEVICE_FEATURES_SEL, 1);
	features |= (uint64_t)rd_reg(VMMIO_REG_DEVICE_FEATURES) << 32;
	if (!(features & 1ull << VMMIO_F_ACCESS_PLATFORM))
		return false;
	wr_reg(VMMIO_REG_DRIVER_FEATURES_SEL, 0);
	wr_reg(VMMIO_REG_DRIVER_FEATURES, (uint32_t)features);
	wr_reg(VMMIO_REG_DRIVER_FEATURES_SEL, 1);
	wr_reg(VMMIO_REG_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr_reg(VMMIO_REG_STATUS, 11);
	wr_reg(VMMIO_REG_QUEUE_SEL, 0);
	wr_reg(VMMIO_REG_QUEUE_NUM, QSIZE);
	wr_reg(VMMIO_REG_QUEUE_DESC_LOW, (uint32_t)GADDR(0, 0));
	wr_reg(VMMIO_REG_QUEUE_DESC_HIGH, (uint32_t)(GADDR(0, 0) >> 32));
	wr_reg(VMMIO_REG_QUEUE_DRIVER_LOW, (uint32_t)GADDR(1, 0));
	wr_reg(VMMIO_REG_QUEUE_DRIVER_HIGH, (uint32_t)(GADDR(1, 0) >> 32));
	wr_reg(VMMIO_REG_QUEUE_DEVICE_LOW, (uint32_t)GADDR(2, 0));
	wr_reg(VMMIO_REG_QUEUE_DEVICE_HIGH, (uint32_t)(GADDR(2, 0) >> 32));
	wr_reg(VMMIO_REG_QUEUE_READY, 1);
	wr_reg(VMMIO_REG_STATUS, 15);
	return rd_reg(VMMIO_REG_STATUS) == 15;
}

static bool setup_blk(void)
{
	setup();
	hv.unmap_hook = note_unmap;
	for (unsigned int i = 0; i < DISK_BYTES; i++)
		disk[i] = (uint8_t)(i * 3 + i / 512);
	if (ramdisk_init(&rd, disk, DISK_BYTES, false) ||
	    vblk_init(&blk, "vblk-grant", &rd.disk, "serial", 1, &g.mem))
		return false;
	return grant_driver_init();
}

/*
 * One request as Linux's grant-DMA frontend makes it: header (page hdr_page, read-only
 * grant), `data_pages` pages of data from data_page (one buffer, consecutive references,
 * read-only for a write request), status byte (page hdr_page + 1). References are taken
 * from `ref` on. Returns the references used.
 */
static uint32_t submit(uint32_t type, uint64_t sector, unsigned int hdr_page,
                       unsigned int data_page, unsigned int data_pages, uint32_t ref)
{
	uint8_t *desc = page_of(0);
	uint8_t *hdr = page_of(hdr_page);
	uint32_t first = ref;
	bool write = type == VBLK_T_OUT;
	uint16_t head = (uint16_t)((drv_avail * 3) % QSIZE);

	put_le(hdr, type, 4);
	put_le(hdr + 4, 0, 4);
	put_le(hdr + 8, sector, 8);
	grant(ref, hdr_page, true);
	put_le(desc + 16 * head, GADDR(ref, 0), 8);
	put_le(desc + 16 * head + 8, 16, 4);
	put_le(desc + 16 * head + 12, VQ_DESC_F_NEXT, 2);
	put_le(desc + 16 * head + 14, head + 1, 2);
	ref++;
	put_le(desc + 16 * (head + 1), GADDR(ref, 0), 8);
	put_le(desc + 16 * (head + 1) + 8, data_pages * PAGE, 4);
	put_le(desc + 16 * (head + 1) + 12, VQ_DESC_F_NEXT | (write ? 0 : VQ_DESC_F_WRITE), 2);
	put_le(desc + 16 * (head + 1) + 14, head + 2, 2);
	for (unsigned int i = 0; i < data_pages; i++)
		grant(ref++, data_page + i, write);
	grant(ref, hdr_page + 1, false);
	page_of(hdr_page + 1)[0] = 0xee;
	put_le(desc + 16 * (head + 2), GADDR(ref, 0), 8);
	put_le(desc + 16 * (head + 2) + 8, 1, 4);
	put_le(desc + 16 * (head + 2) + 12, VQ_DESC_F_WRITE, 2);
	ref++;
	put_le(page_of(1) + 4 + 2 * (drv_avail % QSIZE), head, 2);
	drv_avail++;
	put_le(page_of(1) + 2, drv_avail, 2);
	wr_reg(VMMIO_REG_QUEUE_NOTIFY, 0);
	return ref - first;
}

/* The driver sees the completion, then ends the request's grants as Linux does. */
static bool complete_and_end(uint32_t first, uint32_t count)
{
	bool ok = true;

	for (uint32_t r = first; r < first + count; r++)
		ok &= end_access(r);
	return ok;
}

TEST(gmem, grant_frontend_requests_release_buffers_before_completion)
{
	uint32_t n;

	ASSERT_TRUE(setup_blk());
	/* Read sectors 8..15 into pages 20..20 + 1: refs 64.. */
	n = submit(VBLK_T_IN, 8, 10, 20, 1, 64);
	ASSERT_EQ(used_idx(), 1);
	EXPECT_EQ(page_of(11)[0], VBLK_S_OK);
	EXPECT_MEMEQ(page_of(20), disk + 8 * 512, PAGE);
	EXPECT_TRUE(buffers_in_last_unmap);
	EXPECT_EQ(used_seen_at_unmap, 0); /* unmapped before used.idx moved */
	EXPECT_TRUE(complete_and_end(64, n));

	/*
	 * The same references lent again for other pages: a write request from pages 30..31.
	 * A stale mapping of refs 64.. would write pages 10 and 20 to the disk instead.
	 */
	memset(page_of(30), 0x5a, 2 * PAGE);
	n = submit(VBLK_T_OUT, 16, 12, 30, 2, 64);
	ASSERT_EQ(used_idx(), 2);
	EXPECT_EQ(page_of(13)[0], VBLK_S_OK);
	EXPECT_MEMEQ(disk + 16 * 512, page_of(30), 2 * PAGE);
	EXPECT_EQ(used_seen_at_unmap, 1);
	EXPECT_TRUE(complete_and_end(64, n));

	/* An unsupported request also releases before it completes. */
	n = submit(99, 0, 14, 32, 1, 64);
	ASSERT_EQ(used_idx(), 3);
	EXPECT_EQ(page_of(15)[0], VBLK_S_UNSUPP);
	EXPECT_EQ(used_seen_at_unmap, 2);
	EXPECT_TRUE(complete_and_end(64, n));

	/* The rings were mapped once, and only they are still mapped. */
	for (uint32_t r = 0; r < 3; r++)
		EXPECT_EQ(grants[r].maps, 1);
	EXPECT_EQ(mapped_frames(OWN_GRANT), 3);
	EXPECT_EQ(hv.foreign_maps, 0);
	EXPECT_EQ(hv.violations, 0);
}

TEST(gmem, device_reset_unmaps_the_rings)
{
	ASSERT_TRUE(setup_blk());
	submit(VBLK_T_IN, 0, 10, 20, 1, 64);
	ASSERT_EQ(used_idx(), 1);
	EXPECT_EQ(mapped_frames(OWN_GRANT), 3);
	wr_reg(VMMIO_REG_STATUS, 0);
	EXPECT_EQ(mapped_frames(OWN_GRANT), 0);
	for (uint32_t r = 0; r < 3; r++)
		EXPECT_TRUE(end_access(r));
	/* The driver comes back with the same rings: served again. */
	ASSERT_TRUE(grant_driver_init());
	submit(VBLK_T_IN, 1, 10, 20, 1, 64);
	EXPECT_EQ(used_idx(), 1);
	EXPECT_EQ(page_of(11)[0], VBLK_S_OK);
	EXPECT_EQ(hv.violations, 0);
}

/*
 * Requests held at a disk that takes DISK_LATENCY_NS each. Request A: read of sector 8 into
 * page 20 (refs 64..66); request B, LATENCY / 2 later: write of pages 30..31 to sector 16
 * (refs 80..83). Returns when both are at the disk.
 */
#define DISK_LATENCY_NS 1000u

static bool two_requests_at_the_disk(void)
{
	if (!setup_blk() || ramdisk_set_latency(&rd, DISK_LATENCY_NS, arch_timer_now_ns))
		return false;
	memset(page_of(30), 0x5a, 2 * PAGE);
	memset(page_of(20), 0, PAGE);
	submit(VBLK_T_IN, 8, 10, 20, 1, 64);
	fake_time_ns += DISK_LATENCY_NS / 2;
	submit(VBLK_T_OUT, 16, 12, 30, 2, 80);
	return vblk_in_flight(&blk) == 2 && used_idx() == 0;
}

TEST(gmem, a_request_done_first_leaves_the_other_requests_buffers_mapped)
{
	unsigned int maps;

	ASSERT_TRUE(two_requests_at_the_disk());
	fake_time_ns += DISK_LATENCY_NS / 2;
	vblk_run(&blk);
	ASSERT_EQ(used_idx(), 1);
	EXPECT_EQ(page_of(11)[0], VBLK_S_OK);
	EXPECT_MEMEQ(page_of(20), disk + 8 * 512, PAGE);
	/* A's grants can be ended; B's are still mapped, so the driver cannot end them. */
	EXPECT_TRUE(complete_and_end(64, 3));
	for (uint32_t r = 80; r < 84; r++)
		EXPECT_EQ(grants[r].maps, 1);
	EXPECT_FALSE(end_access(81));

	/* B's data moves through the mappings it kept, then they go with it. */
	maps = hv.map_ops;
	fake_time_ns += DISK_LATENCY_NS / 2;
	vblk_run(&blk);
	ASSERT_EQ(used_idx(), 2);
	EXPECT_EQ(page_of(13)[0], VBLK_S_OK);
	EXPECT_MEMEQ(disk + 16 * 512, page_of(30), 2 * PAGE);
	EXPECT_EQ(hv.map_ops, maps);
	EXPECT_EQ(used_seen_at_unmap, 1); /* unmapped before used.idx moved */
	EXPECT_TRUE(complete_and_end(80, 4));
	EXPECT_EQ(mapped_frames(OWN_GRANT), 3); /* the rings */
	EXPECT_EQ(g.holders, 0);
	EXPECT_FALSE(any_users());
	EXPECT_EQ(hv.violations, 0);
}

TEST(gmem, a_reset_with_requests_at_the_disk_leaves_no_grant_mapped)
{
	unsigned int maps;

	ASSERT_TRUE(two_requests_at_the_disk());
	/* Cancelled at once, so their buffers go; the rings wait for the disk with Status. */
	wr_reg(VMMIO_REG_STATUS, 0);
	EXPECT_NE(rd_reg(VMMIO_REG_STATUS), 0);
	EXPECT_TRUE(complete_and_end(64, 3) && complete_and_end(80, 4));
	EXPECT_EQ(mapped_frames(OWN_GRANT), 3);
	EXPECT_EQ(g.holders, 0);

	/* The cancelled requests come back from the disk and touch nothing; the reset ends. */
	maps = hv.map_ops;
	fake_time_ns += DISK_LATENCY_NS;
	vblk_run(&blk);
	EXPECT_EQ(vblk_in_flight(&blk), 0);
	EXPECT_EQ(rd_reg(VMMIO_REG_STATUS), 0);
	EXPECT_EQ(hv.map_ops, maps);
	EXPECT_EQ(page_of(11)[0], 0xee);
	EXPECT_EQ(mapped_frames(OWN_GRANT), 0);
	EXPECT_TRUE(complete_and_end(0, 3));
	EXPECT_EQ(g.holders, 0);
	EXPECT_FALSE(any_users());

	/* The driver comes back: served, and nothing is left held after. */
	ASSERT_TRUE(grant_driver_init());
	submit(VBLK_T_IN, 1, 10, 20, 1, 64);
	fake_time_ns += DISK_LATENCY_NS;
	vblk_run(&blk);
	EXPECT_EQ(used_idx(), 1);
	EXPECT_EQ(page_of(11)[0], VBLK_S_OK);
	EXPECT_TRUE(complete_and_end(64, 3));
	EXPECT_EQ(mapped_frames(OWN_GRANT), 3);
	EXPECT_EQ(g.holders, 0);
	EXPECT_EQ(hv.violations, 0);
}

TEST(gmem, a_broken_queue_unmaps_the_buffers_of_requests_at_the_disk)
{
	ASSERT_TRUE(two_requests_at_the_disk());
	/* avail.idx runs more than a queue ahead: broken, and what the disk holds cancelled. */
	put_le(page_of(1) + 2, (uint16_t)(drv_avail + QSIZE + 1), 2);
	wr_reg(VMMIO_REG_QUEUE_NOTIFY, 0);
	EXPECT_TRUE(rd_reg(VMMIO_REG_STATUS) & VMMIO_STATUS_DEVICE_NEEDS_RESET);
	EXPECT_TRUE(complete_and_end(64, 3) && complete_and_end(80, 4));
	EXPECT_EQ(mapped_frames(OWN_GRANT), 3); /* the rings stay until the reset */
	EXPECT_EQ(g.holders, 0);
	fake_time_ns += DISK_LATENCY_NS;
	vblk_run(&blk);
	EXPECT_EQ(vblk_in_flight(&blk), 0);
	EXPECT_EQ(used_idx(), 0);
	EXPECT_EQ(mapped_frames(OWN_GRANT), 3);
	EXPECT_EQ(hv.violations, 0);
}
