/*
 * hyp/gmem.c against the fake Xen of tests/unit/fake_xen.h, which maps for real: a pointer
 * gmem hands out reads exactly what the guest has there, a stale mapping reads the wrong page
 * and a use after unmap faults, and the guest can "end access" only to grants nobody maps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/grant_table.h>

#include "arch/fake.h"
#include "arch/timer.h"
#include "blk/disk.h"
#include "blk/ramdisk.h"
#include "blk/vblk.h"
#include "hyp/frames.h"
#include "hyp/gmem.h"
#include "lib/log.h"
#include "tests/unit/fake_driver.h"
#include "tests/unit/fake_xen.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/test.h"
#include "virtio/vmmio.h"
#include "virtio/vq.h"

#define DOMID       7
#define PAGE        FX_PAGE
#define GUEST_PAGES FX_GUEST_PAGES

/* A guest-physical address of guest page p, and a grant-DMA address of reference r. */
#define GPA(p, off)   (FX_GPA_BASE + (uint64_t)(p)*PAGE + (off))
#define GADDR(r, off) (GMEM_GRANT_BIT | (uint64_t)(r) << 12 | (off))

static struct gmem g;
static struct log_limit limit; /* the device's budget of log lines, where a test gives one */

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
	fx_reset(DOMID, 1);
	log_capture_reset();
	if (gmem_init(&g, DOMID) != 0)
		abort();
}

/* ---- decoding and mapping -------------------------------------------------------- */

TEST(gmem, grant_address_gives_reference_and_offset)
{
	const uint8_t *p;

	setup();
	fx_grant(5, 3, false);
	p = map(GADDR(5, 0x123), 16, false, VQ_AREA_BUFFER);
	ASSERT_TRUE(p != NULL);
	EXPECT_EQ((uintptr_t)p % PAGE, 0x123);
	EXPECT_MEMEQ(p, fx_page(3) + 0x123, 16);
	ASSERT_EQ(fx.map_ops, 1);
	EXPECT_EQ(fx.map_ref[0], 5);
	EXPECT_EQ(fx.foreign_maps, 0);
	/* The guest writes; gmem's pointer sees its page, not a copy. */
	fx_page(3)[0x123] = 0xab;
	EXPECT_EQ(p[0], 0xab);
	EXPECT_EQ(fx.violations, 0);
	EXPECT_STREQ(log_text, "");
}

TEST(gmem, pages_of_a_buffer_use_consecutive_references)
{
	struct vq vq;
	struct vq_chain chain;
	uint8_t got[2 * PAGE], want[2 * PAGE];
	uint8_t *desc = fx_page(0);

	setup();
	/* Rings in pages 0..2 (refs 0..2); a buffer on pages 20, 9, 33 lent as refs 40..42. */
	fx_grant(0, 0, false);
	fx_grant(1, 1, false);
	fx_grant(2, 2, false);
	fx_grant(40, 20, true);
	fx_grant(41, 9, true);
	fx_grant(42, 33, true);
	memset(desc, 0, 3 * PAGE); /* fresh rings */
	vq_init(&vq, &g.mem, "gmem-test", 0, 0);
	ASSERT_EQ(vq_start(&vq, 8, GADDR(0, 0), GADDR(1, 0), GADDR(2, 0), 0), 0);
	/* One descriptor of 2 pages from 0xf00 in ref 40, so it spans refs 40, 41 and 42. */
	uint64_t addr = GADDR(40, 0xf00);
	for (int b = 0; b < 8; b++)
		desc[b] = (uint8_t)(addr >> (8 * b));
	desc[8] = 0x00;
	desc[9] = 0x20;    /* len 0x2000 */
	fx_page(1)[4] = 0; /* avail.ring[0] = 0 */
	fx_page(1)[2] = 1; /* avail.idx = 1 */
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	ASSERT_EQ(vq_read(&vq, &chain, 0, got, sizeof(got)), 0);
	memcpy(want, fx_page(20) + 0xf00, 0x100);
	memcpy(want + 0x100, fx_page(9), PAGE);
	memcpy(want + 0x100 + PAGE, fx_page(33), PAGE - 0x100);
	EXPECT_MEMEQ(got, want, sizeof(got));
	/* Refs 40..42 were mapped for the buffer, each once, read-only; nothing else was. */
	unsigned int buffer_maps = 0;
	for (unsigned int i = 0; i < fx.map_ops; i++) {
		EXPECT_TRUE(fx.map_ref[i] <= 2 || (fx.map_ref[i] >= 40 && fx.map_ref[i] <= 42));
		if (fx.map_ref[i] >= 40) {
			buffer_maps++;
			EXPECT_EQ(fx.map_flags[i], GNTMAP_host_map | GNTMAP_readonly);
		}
	}
	EXPECT_EQ(buffer_maps, 3);
	EXPECT_EQ(fx_grants[40].maps + fx_grants[41].maps + fx_grants[42].maps, 3);
	EXPECT_EQ(vq_push(&vq, &chain, 0), 0);
	EXPECT_EQ(fx_grants[40].maps + fx_grants[41].maps + fx_grants[42].maps, 0);
	EXPECT_EQ(fx.violations, 0);
	EXPECT_STREQ(log_text, "");
}

TEST(gmem, access_decides_read_only_or_writable_mapping)
{
	uint8_t *p;

	setup();
	fx_grant(1, 1, false);
	fx_grant(2, 2, false);
	ASSERT_TRUE(map(GADDR(1, 0), 4, false, VQ_AREA_BUFFER) != NULL);
	p = map(GADDR(2, 8), 4, true, VQ_AREA_BUFFER);
	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(fx.map_ops, 2);
	EXPECT_EQ(fx.map_flags[0], GNTMAP_host_map | GNTMAP_readonly);
	EXPECT_EQ(fx.map_flags[1], GNTMAP_host_map);
	p[0] = 0x77;
	EXPECT_EQ(fx_page(2)[8], 0x77);
	EXPECT_EQ(fx.violations, 0);
}

TEST(gmem, writing_a_page_first_mapped_read_only_maps_it_again)
{
	uint8_t *p;

	setup();
	fx_grant(3, 5, false);
	ASSERT_TRUE(map(GADDR(3, 0), 4, false, VQ_AREA_RING) != NULL);
	p = map(GADDR(3, 0x40), 4, true, VQ_AREA_RING);
	ASSERT_TRUE(p != NULL);
	p[0] = 0x66; /* would fault on the read-only mapping */
	EXPECT_EQ(fx_page(5)[0x40], 0x66);
	EXPECT_EQ(fx.map_ops, 2);
	EXPECT_EQ(fx.unmap_ops, 1);
	EXPECT_EQ(fx_grants[3].maps, 1);
	/* Writable now: reads and writes hit. */
	EXPECT_TRUE(map(GADDR(3, 0), 4, false, VQ_AREA_RING) != NULL);
	EXPECT_TRUE(map(GADDR(3, 0), 4, true, VQ_AREA_RING) != NULL);
	EXPECT_EQ(fx.map_ops, 2);
	EXPECT_EQ(fx.violations, 0);
}

TEST(gmem, read_only_grant_cannot_be_mapped_writable)
{
	setup();
	fx_grant(4, 4, true);
	EXPECT_TRUE(map(GADDR(4, 0), 4, true, VQ_AREA_BUFFER) == NULL);
	EXPECT_CONTAINS(log_text, "grant 4 cannot be mapped writable (GNTST -8");
	EXPECT_EQ(log_lines(), 1);
	EXPECT_TRUE(map(GADDR(4, 0), 4, false, VQ_AREA_BUFFER) != NULL);
	EXPECT_EQ(fx.violations, 0);
}

TEST(gmem, failing_grant_status_gives_null_and_one_log_line)
{
	setup();
	fx_grant(6, 6, false);
	fx_grants[6].fail = GNTST_bad_page;
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
	fx_grant(7, 7, false);
	fx.grant_rc = -EPERM;
	EXPECT_TRUE(map(GADDR(7, 0), 4, false, VQ_AREA_BUFFER) == NULL);
	EXPECT_CONTAINS(log_text, "grant 7 cannot be mapped read-only (GNTST -1, ");
	EXPECT_EQ(log_lines(), 1);
	fx.grant_rc = 0;
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 0);
	EXPECT_EQ(fx.violations, 0);
}

TEST(gmem, non_grant_address_with_bits_62_to_48_is_refused)
{
	setup();
	EXPECT_TRUE(map(GPA(1, 0) | 1ull << 48, 4, false, VQ_AREA_BUFFER) == NULL);
	EXPECT_CONTAINS(log_text, "address 0x1000040001000 has bits 62..48 set");
	EXPECT_EQ(log_lines(), 1);
	EXPECT_TRUE(map(GPA(1, 0) | 1ull << 62, 4, false, VQ_AREA_RING) == NULL);
	EXPECT_EQ(fx.foreign_maps + fx.map_ops, 0);
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
	EXPECT_EQ(fx.map_ops, 0);
}

/* ---- when grant mappings go ------------------------------------------------------ */

TEST(gmem, release_unmaps_every_buffer_grant_of_its_request_in_one_call)
{
	struct vq_hold hold = {0};
	const uint8_t *ring;

	setup();
	for (uint32_t r = 10; r < 15; r++)
		fx_grant(r, r, false);
	fx_grant(1, 1, false);
	fx_grant(2, 2, false);
	for (uint32_t r = 10; r < 15; r++)
		ASSERT_TRUE(map_for(&hold, GADDR(r, 0), 8, r & 1) != NULL);
	ASSERT_TRUE(map(GADDR(1, 0), 8, false, VQ_AREA_RING) != NULL);
	ASSERT_TRUE(map(GADDR(2, 0), 8, true, VQ_AREA_RING) != NULL);
	ASSERT_TRUE(map(GPA(30, 0), 8, false, VQ_AREA_BUFFER) != NULL);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 7);

	release(&hold);
	EXPECT_EQ(hold.token, 0);
	EXPECT_EQ(g.holders, 0);
	EXPECT_EQ(fx.unmap_calls, 1);
	EXPECT_EQ(fx.last_unmap_count, 5);
	for (uint32_t r = 10; r < 15; r++)
		EXPECT_TRUE(fx_end_access(r));
	/* Ring grants and foreign mappings stay, and are hits. */
	EXPECT_EQ(fx_grants[1].maps, 1);
	EXPECT_EQ(fx_grants[2].maps, 1);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_FOREIGN), 1);
	ring = map(GADDR(1, 0x20), 8, false, VQ_AREA_RING);
	ASSERT_TRUE(ring != NULL);
	EXPECT_MEMEQ(ring, fx_page(1) + 0x20, 8);
	EXPECT_TRUE(map(GPA(30, 0), 8, false, VQ_AREA_BUFFER) != NULL);
	EXPECT_EQ(fx.map_ops, 7);
	EXPECT_EQ(fx.foreign_maps, 1);
	/* Nothing left to release: no hypercall. */
	release(NULL);
	EXPECT_EQ(fx.unmap_calls, 1);
	EXPECT_EQ(fx.violations, 0);
	EXPECT_STREQ(log_text, "");
}

TEST(gmem, released_reference_reused_for_another_page_reads_the_new_page)
{
	const uint8_t *p;

	setup();
	fx_grant(20, 8, false);
	p = map(GADDR(20, 0), 16, false, VQ_AREA_BUFFER);
	ASSERT_TRUE(p != NULL);
	EXPECT_MEMEQ(p, fx_page(8), 16);
	release(NULL);
	/* The guest ends the grant and lends another page under the same reference. */
	ASSERT_TRUE(fx_end_access(20));
	fx_grant(20, 11, false);
	p = map(GADDR(20, 0), 16, false, VQ_AREA_BUFFER);
	ASSERT_TRUE(p != NULL);
	EXPECT_MEMEQ(p, fx_page(11), 16);
	EXPECT_EQ(fx.map_ops, 2);
	EXPECT_EQ(fx.violations, 0);
}

TEST(gmem, ring_grants_are_kept_across_requests)
{
	setup();
	fx_grant(1, 1, false);
	fx_grant(21, 21, false);
	ASSERT_TRUE(map(GADDR(1, 0), 2, false, VQ_AREA_RING) != NULL);
	for (int req = 0; req < 3; req++) {
		ASSERT_TRUE(map(GADDR(1, 2), 2, false, VQ_AREA_RING) != NULL);
		ASSERT_TRUE(map(GADDR(21, 0), 16, false, VQ_AREA_BUFFER) != NULL);
		release(NULL);
	}
	/* The ring page once; the buffer once per request. */
	EXPECT_EQ(fx.map_ops, 4);
	EXPECT_EQ(fx.unmap_ops, 3);
	EXPECT_EQ(fx_grants[1].maps, 1);
	/* A buffer page the walker then uses as a ring page is kept from then on. */
	ASSERT_TRUE(map(GADDR(21, 0), 16, false, VQ_AREA_BUFFER) != NULL);
	ASSERT_TRUE(map(GADDR(21, 0), 2, false, VQ_AREA_RING) != NULL);
	release(NULL);
	EXPECT_EQ(fx_grants[21].maps, 1);
	EXPECT_EQ(fx.violations, 0);
}

/* Maps two ring grants, two buffer grants and two foreign pages. */
static void map_some(void)
{
	fx_grant(1, 1, false);
	fx_grant(2, 2, false);
	fx_grant(30, 30, false);
	fx_grant(31, 31, true);
	ASSERT_TRUE(map(GADDR(1, 0), 2, false, VQ_AREA_RING) != NULL);
	ASSERT_TRUE(map(GADDR(2, 0), 2, true, VQ_AREA_RING) != NULL);
	ASSERT_TRUE(map(GADDR(30, 0), 2, true, VQ_AREA_BUFFER) != NULL);
	ASSERT_TRUE(map(GADDR(31, 0), 2, false, VQ_AREA_BUFFER) != NULL);
	ASSERT_TRUE(map(GPA(40, 0), 2, false, VQ_AREA_RING) != NULL);
	ASSERT_TRUE(map(GPA(41, 0), 2, true, VQ_AREA_BUFFER) != NULL);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 4);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_FOREIGN), 2);
}

TEST(gmem, queue_reset_unmaps_every_grant_in_one_call_and_keeps_foreign_pages)
{
	struct vq vq;

	setup();
	map_some();
	vq_init(&vq, &g.mem, "gmem-test", 0, 0);
	vq_reset(&vq);
	EXPECT_EQ(fx.unmap_calls, 1);
	EXPECT_EQ(fx.last_unmap_count, 4);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 0);
	EXPECT_TRUE(fx_end_access(1) && fx_end_access(2) && fx_end_access(30) && fx_end_access(31));
	/* Foreign pages are still cached. */
	EXPECT_EQ(fx_mapped_frames(FX_OWN_FOREIGN), 2);
	EXPECT_TRUE(map(GPA(40, 0), 2, false, VQ_AREA_RING) != NULL);
	EXPECT_EQ(fx.foreign_maps, 2);
	EXPECT_EQ(fx.violations, 0);
}

TEST(gmem, invalidate_unmaps_everything)
{
	setup();
	map_some();
	gmem_invalidate(&g);
	EXPECT_EQ(fx.unmap_calls, 1);
	EXPECT_EQ(fx.last_unmap_count, 4);
	EXPECT_EQ(fx.foreign_unmaps, 2);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT) + fx_mapped_frames(FX_OWN_FOREIGN), 0);
	/* And maps again on the next access. */
	EXPECT_TRUE(map(GPA(40, 0), 2, false, VQ_AREA_RING) != NULL);
	EXPECT_TRUE(map(GADDR(1, 0), 2, false, VQ_AREA_RING) != NULL);
	EXPECT_EQ(fx.foreign_maps, 3);
	EXPECT_EQ(fx.map_ops, 5);
	EXPECT_EQ(fx.violations, 0);
}

TEST(gmem, a_failing_foreign_unmap_is_logged_once_per_frame)
{
	setup();
	ASSERT_TRUE(map(GPA(12, 0), 8, false, VQ_AREA_BUFFER) != NULL);
	ASSERT_TRUE(map(GPA(13, 0), 8, false, VQ_AREA_BUFFER) != NULL);
	fx.foreign_unmap_rc = -EINVAL;
	gmem_invalidate(&g);
	EXPECT_EQ(fx.foreign_unmaps, 2);
	EXPECT_CONTAINS(log_text, "gmem: dom7: unmapping guest frame 0x4000c at frame ");
	EXPECT_CONTAINS(log_text, "failed (-22)");
	EXPECT_EQ(log_lines(), 2);
	/* Forgotten: a second invalidate has nothing left to unmap. */
	gmem_invalidate(&g);
	EXPECT_EQ(fx.foreign_unmaps, 2);
	EXPECT_EQ(log_lines(), 2);
}

TEST(gmem, fini_unmaps_everything_and_gives_the_frames_back)
{
	setup();
	map_some();
	gmem_fini(&g);
	EXPECT_EQ(fx.unmap_calls, 1);
	EXPECT_EQ(fx.foreign_unmaps, 2);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT) + fx_mapped_frames(FX_OWN_FOREIGN), 0);
	EXPECT_EQ(frames_free_count(), FX_FRAMES);
	EXPECT_TRUE(map(GPA(40, 0), 2, false, VQ_AREA_RING) == NULL);
	EXPECT_EQ(fx.violations, 0);
}

TEST(gmem, foreign_mapping_is_cached)
{
	const uint8_t *p;

	setup();
	p = map(GPA(12, 0x80), 8, false, VQ_AREA_BUFFER);
	ASSERT_TRUE(p != NULL);
	EXPECT_MEMEQ(p, fx_page(12) + 0x80, 8);
	p = map(GPA(12, 0x100), 8, true, VQ_AREA_BUFFER);
	ASSERT_TRUE(p != NULL);
	EXPECT_MEMEQ(p, fx_page(12) + 0x100, 8);
	release(NULL);
	EXPECT_TRUE(map(GPA(12, 0), 8, false, VQ_AREA_BUFFER) != NULL);
	EXPECT_EQ(fx.foreign_maps, 1);
	EXPECT_EQ(fx.foreign_unmaps + fx.map_calls + fx.unmap_calls, 0);
	EXPECT_EQ(g.hits, 2);
	EXPECT_EQ(g.misses, 1);
	/* A page outside the guest: refused by Xen, one line. */
	EXPECT_TRUE(map(GPA(GUEST_PAGES, 0), 8, false, VQ_AREA_BUFFER) == NULL);
	EXPECT_CONTAINS(log_text, "cannot be mapped");
	EXPECT_EQ(log_lines(), 1);
	EXPECT_EQ(fx.violations, 0);
}

TEST(gmem, evicting_a_grant_slot_unmaps_it)
{
	const unsigned int count = GMEM_SLOTS + 44;

	setup();
	for (uint32_t r = 0; r < count; r++)
		fx_grant(r, r % GUEST_PAGES, false);
	for (uint32_t r = 0; r < count; r++) {
		const uint8_t *p = map(GADDR(r, 0x10), 2, false, VQ_AREA_BUFFER);

		ASSERT_TRUE(p != NULL);
		EXPECT_EQ(p[0], fx_page(r % GUEST_PAGES)[0x10]);
	}
	/* Each eviction unmapped its grant before the frame took the next one. */
	EXPECT_EQ(fx.unmap_ops, 44);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), GMEM_SLOTS);
	release(NULL);
	EXPECT_EQ(fx.unmap_ops, 44 + GMEM_SLOTS);
	for (uint32_t r = 0; r < count; r++)
		EXPECT_EQ(fx_grants[r].maps, 0);
	EXPECT_EQ(fx.violations, 0);
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
		fx_grant(r, r, false);
	ASSERT_TRUE(map_for(&a, GADDR(10, 0), 8, false) != NULL);
	ASSERT_TRUE(map_for(&a, GADDR(11, 0), 8, true) != NULL);
	ASSERT_TRUE(map_for(&b, GADDR(12, 0), 8, false) != NULL);
	ASSERT_TRUE(map_for(&b, GADDR(13, 0), 8, true) != NULL);
	EXPECT_NE(a.token, b.token);

	/* The request that came second completes first: only its two grants go. */
	release(&b);
	EXPECT_EQ(b.token, 0);
	EXPECT_EQ(fx.unmap_calls, 1);
	EXPECT_EQ(fx.last_unmap_count, 2);
	EXPECT_TRUE(fx_end_access(12) && fx_end_access(13));
	EXPECT_EQ(fx_grants[10].maps, 1);
	EXPECT_EQ(fx_grants[11].maps, 1);
	EXPECT_FALSE(fx_end_access(11));

	/* The other one still reaches its pages through the mappings it had: no map call. */
	maps = fx.map_ops;
	p = map_for(&a, GADDR(11, 0x40), 4, true);
	ASSERT_TRUE(p != NULL);
	p[0] = 0x3c;
	EXPECT_EQ(fx_page(11)[0x40], 0x3c);
	EXPECT_EQ(fx.map_ops, maps);

	release(&a);
	EXPECT_EQ(fx.unmap_calls, 2);
	EXPECT_TRUE(fx_end_access(10) && fx_end_access(11));
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 0);
	EXPECT_EQ(g.holders, 0);
	EXPECT_FALSE(any_users());
	EXPECT_EQ(fx.violations, 0);
}

TEST(gmem, a_page_in_two_requests_stays_mapped_until_both_are_done)
{
	struct vq_hold a = {0}, b = {0};

	setup();
	fx_grant(20, 20, false);
	fx_grant(21, 21, false);
	/* A hostile driver puts one buffer in two chains: one mapping, two users. */
	ASSERT_TRUE(map_for(&a, GADDR(20, 0), 8, false) != NULL);
	ASSERT_TRUE(map_for(&b, GADDR(20, 0x100), 8, false) != NULL);
	EXPECT_EQ(fx.map_ops, 1);
	release(&a);
	EXPECT_EQ(fx.unmap_calls, 0);
	EXPECT_FALSE(fx_end_access(20));
	EXPECT_TRUE(map_for(&b, GADDR(20, 0), 8, false) != NULL);
	EXPECT_EQ(fx.map_ops, 1);
	release(&b);
	EXPECT_TRUE(fx_end_access(20));

	/* Mapped again writable for the second user: still the first one's too. */
	ASSERT_TRUE(map_for(&a, GADDR(21, 0), 8, false) != NULL);
	ASSERT_TRUE(map_for(&b, GADDR(21, 0), 8, true) != NULL);
	EXPECT_EQ(fx.map_ops, 3);
	EXPECT_EQ(fx_grants[21].maps, 1);
	release(&b);
	EXPECT_FALSE(fx_end_access(21));
	release(&a);
	EXPECT_TRUE(fx_end_access(21));
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 0);
	EXPECT_EQ(fx.violations, 0);
}

TEST(gmem, a_reset_forgets_the_requests_in_flight)
{
	struct vq_hold a = {0}, b = {0}, c = {0};

	setup();
	for (uint32_t r = 10; r < 14; r++)
		fx_grant(r, r, false);
	ASSERT_TRUE(map_for(&a, GADDR(10, 0), 8, false) != NULL);
	ASSERT_TRUE(map_for(&b, GADDR(11, 0), 8, false) != NULL);
	g.mem.ops->reset(g.mem.ctx);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 0);
	EXPECT_EQ(g.holders, 0);
	EXPECT_FALSE(any_users());

	/*
	 * A new request gets the number a had. a's old token frees nothing of c's; b, still in
	 * flight from before (on another queue, say), takes a new number at its next access.
	 */
	ASSERT_TRUE(map_for(&c, GADDR(12, 0), 8, false) != NULL);
	release(&a);
	EXPECT_NE(g.holders, 0);
	EXPECT_EQ(fx_grants[12].maps, 1);
	ASSERT_TRUE(map_for(&b, GADDR(13, 0), 8, false) != NULL);
	EXPECT_NE(b.token, c.token);
	release(&b);
	EXPECT_TRUE(fx_end_access(13));
	EXPECT_EQ(fx_grants[12].maps, 1);
	release(&c);
	EXPECT_TRUE(fx_end_access(12));
	EXPECT_EQ(g.holders, 0);
	/* An invalidate forgets them too. */
	ASSERT_TRUE(map_for(&a, GADDR(10, 0), 8, false) != NULL);
	gmem_invalidate(&g);
	EXPECT_EQ(g.holders, 0);
	EXPECT_FALSE(any_users());
	EXPECT_EQ(fx.violations, 0);
}

TEST(gmem, requests_past_the_holders_are_served_and_their_grants_still_go)
{
	static struct vq_hold holds[GMEM_HOLDERS + 1];
	struct vq_hold *extra = &holds[GMEM_HOLDERS];

	setup();
	memset(holds, 0, sizeof(holds));
	for (uint32_t r = 0; r <= GMEM_HOLDERS; r++) {
		fx_grant(100 + r, r, false);
		ASSERT_TRUE(map_for(&holds[r], GADDR(100 + r, 0), 8, false) != NULL);
	}
	/* Every number is taken: the last request's page is mapped for nobody. */
	EXPECT_EQ(g.holders, UINT32_MAX);
	EXPECT_EQ(extra->token, 0);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), GMEM_HOLDERS + 1);

	/* Any request's completion drops it with its own: it may be the finished one's. */
	release(&holds[0]);
	EXPECT_TRUE(fx_end_access(100) && fx_end_access(100 + GMEM_HOLDERS));
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), GMEM_HOLDERS - 1);
	/* Mapped again at its next access, now with the number that came free. */
	fx_grant(100 + GMEM_HOLDERS, GMEM_HOLDERS, false);
	ASSERT_TRUE(map_for(extra, GADDR(100 + GMEM_HOLDERS, 0), 8, false) != NULL);
	EXPECT_NE(extra->token, 0);
	release(extra);
	EXPECT_TRUE(fx_end_access(100 + GMEM_HOLDERS));
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), GMEM_HOLDERS - 1);
	for (uint32_t r = 1; r < GMEM_HOLDERS; r++)
		release(&holds[r]);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 0);
	EXPECT_EQ(g.holders, 0);
	EXPECT_EQ(fx.violations, 0);
}

/* ---- a grant-DMA frontend driving virtio-blk ------------------------------------- */

/*
 * Guest layout: rings in pages 0..2 (refs 0..2, lent for the queue's life, like Linux's
 * dma_alloc_coherent), request pages from 8 on, lent per request from refs 64 on.
 */
#define DISK_BYTES (64u * DISK_SECTOR_SIZE)

static uint8_t disk[DISK_BYTES];
static struct ramdisk rd;
static struct vblk blk;
static uint16_t used_seen_at_unmap; /* used.idx when the last buffer unmap was issued */
static bool buffers_in_last_unmap;

static void note_unmap(const struct gnttab_unmap_grant_ref *ops, unsigned int count)
{
	uint32_t ref;

	buffers_in_last_unmap = false;
	for (unsigned int k = 0; k < count; k++)
		if (fx_frame_ref(ops[k].host_addr, &ref) && ref >= 64)
			buffers_in_last_unmap = true;
	if (buffers_in_last_unmap)
		used_seen_at_unmap = drv_used_idx();
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

/* The guest's driver, on the device's registers directly, with grant addresses. */
static struct drv drv = {.read = rd_reg, .write = wr_reg, .grants = true};

static bool setup_blk(void)
{
	setup();
	fx.unmap_hook = note_unmap;
	for (unsigned int i = 0; i < DISK_BYTES; i++)
		disk[i] = (uint8_t)(i * 3 + i / 512);
	if (ramdisk_init(&rd, disk, DISK_BYTES, false) ||
	    vblk_init(&blk, "vblk-grant", &rd.disk, "serial", 1, &g.mem))
		return false;
	return drv_init(&drv);
}

static uint32_t submit(uint32_t type, uint64_t sector, unsigned int hdr_page,
                       unsigned int data_page, unsigned int data_pages, uint32_t ref)
{
	return drv_submit(&drv, type, sector, hdr_page, data_page, data_pages, ref);
}

/* The driver sees the completion, then ends the request's grants as Linux does. */
static bool complete_and_end(uint32_t first, uint32_t count)
{
	bool ok = true;

	for (uint32_t r = first; r < first + count; r++)
		ok &= fx_end_access(r);
	return ok;
}

TEST(gmem, grant_frontend_requests_release_buffers_before_completion)
{
	uint32_t n;

	ASSERT_TRUE(setup_blk());
	/* Read sectors 8..15 into pages 20..20 + 1: refs 64.. */
	n = submit(VBLK_T_IN, 8, 10, 20, 1, 64);
	ASSERT_EQ(drv_used_idx(), 1);
	EXPECT_EQ(fx_page(11)[0], VBLK_S_OK);
	EXPECT_MEMEQ(fx_page(20), disk + 8 * 512, PAGE);
	EXPECT_TRUE(buffers_in_last_unmap);
	EXPECT_EQ(used_seen_at_unmap, 0); /* unmapped before used.idx moved */
	EXPECT_TRUE(complete_and_end(64, n));

	/*
	 * The same references lent again for other pages: a write request from pages 30..31.
	 * A stale mapping of refs 64.. would write pages 10 and 20 to the disk instead.
	 */
	memset(fx_page(30), 0x5a, 2 * PAGE);
	n = submit(VBLK_T_OUT, 16, 12, 30, 2, 64);
	ASSERT_EQ(drv_used_idx(), 2);
	EXPECT_EQ(fx_page(13)[0], VBLK_S_OK);
	EXPECT_MEMEQ(disk + 16 * 512, fx_page(30), 2 * PAGE);
	EXPECT_EQ(used_seen_at_unmap, 1);
	EXPECT_TRUE(complete_and_end(64, n));

	/* An unsupported request also releases before it completes. */
	n = submit(99, 0, 14, 32, 1, 64);
	ASSERT_EQ(drv_used_idx(), 3);
	EXPECT_EQ(fx_page(15)[0], VBLK_S_UNSUPP);
	EXPECT_EQ(used_seen_at_unmap, 2);
	EXPECT_TRUE(complete_and_end(64, n));

	/* The rings were mapped once, and only they are still mapped. */
	for (uint32_t r = 0; r < 3; r++)
		EXPECT_EQ(fx_grants[r].maps, 1);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 3);
	EXPECT_EQ(fx.foreign_maps, 0);
	EXPECT_EQ(fx.violations, 0);
}

TEST(gmem, device_reset_unmaps_the_rings)
{
	ASSERT_TRUE(setup_blk());
	submit(VBLK_T_IN, 0, 10, 20, 1, 64);
	ASSERT_EQ(drv_used_idx(), 1);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 3);
	wr_reg(VMMIO_REG_STATUS, 0);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 0);
	for (uint32_t r = 0; r < 3; r++)
		EXPECT_TRUE(fx_end_access(r));
	/* The driver comes back with the same rings: served again. */
	ASSERT_TRUE(drv_init(&drv));
	submit(VBLK_T_IN, 1, 10, 20, 1, 64);
	EXPECT_EQ(drv_used_idx(), 1);
	EXPECT_EQ(fx_page(11)[0], VBLK_S_OK);
	EXPECT_EQ(fx.violations, 0);
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
	memset(fx_page(30), 0x5a, 2 * PAGE);
	memset(fx_page(20), 0, PAGE);
	submit(VBLK_T_IN, 8, 10, 20, 1, 64);
	fake_time_ns += DISK_LATENCY_NS / 2;
	submit(VBLK_T_OUT, 16, 12, 30, 2, 80);
	return vblk_in_flight(&blk) == 2 && drv_used_idx() == 0;
}

TEST(gmem, a_request_done_first_leaves_the_other_requests_buffers_mapped)
{
	unsigned int maps;

	ASSERT_TRUE(two_requests_at_the_disk());
	fake_time_ns += DISK_LATENCY_NS / 2;
	vblk_run(&blk);
	ASSERT_EQ(drv_used_idx(), 1);
	EXPECT_EQ(fx_page(11)[0], VBLK_S_OK);
	EXPECT_MEMEQ(fx_page(20), disk + 8 * 512, PAGE);
	/* A's grants can be ended; B's are still mapped, so the driver cannot end them. */
	EXPECT_TRUE(complete_and_end(64, 3));
	for (uint32_t r = 80; r < 84; r++)
		EXPECT_EQ(fx_grants[r].maps, 1);
	EXPECT_FALSE(fx_end_access(81));

	/* B's data moves through the mappings it kept, then they go with it. */
	maps = fx.map_ops;
	fake_time_ns += DISK_LATENCY_NS / 2;
	vblk_run(&blk);
	ASSERT_EQ(drv_used_idx(), 2);
	EXPECT_EQ(fx_page(13)[0], VBLK_S_OK);
	EXPECT_MEMEQ(disk + 16 * 512, fx_page(30), 2 * PAGE);
	EXPECT_EQ(fx.map_ops, maps);
	EXPECT_EQ(used_seen_at_unmap, 1); /* unmapped before used.idx moved */
	EXPECT_TRUE(complete_and_end(80, 4));
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 3); /* the rings */
	EXPECT_EQ(g.holders, 0);
	EXPECT_FALSE(any_users());
	EXPECT_EQ(fx.violations, 0);
}

TEST(gmem, a_reset_with_requests_at_the_disk_leaves_no_grant_mapped)
{
	unsigned int maps;

	ASSERT_TRUE(two_requests_at_the_disk());
	/* Cancelled at once, so their buffers go; the rings wait for the disk with Status. */
	wr_reg(VMMIO_REG_STATUS, 0);
	EXPECT_NE(rd_reg(VMMIO_REG_STATUS), 0);
	EXPECT_TRUE(complete_and_end(64, 3) && complete_and_end(80, 4));
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 3);
	EXPECT_EQ(g.holders, 0);

	/* The cancelled requests come back from the disk and touch nothing; the reset ends. */
	maps = fx.map_ops;
	fake_time_ns += DISK_LATENCY_NS;
	vblk_run(&blk);
	EXPECT_EQ(vblk_in_flight(&blk), 0);
	EXPECT_EQ(rd_reg(VMMIO_REG_STATUS), 0);
	EXPECT_EQ(fx.map_ops, maps);
	EXPECT_EQ(fx_page(11)[0], 0xee);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 0);
	EXPECT_TRUE(complete_and_end(0, 3));
	EXPECT_EQ(g.holders, 0);
	EXPECT_FALSE(any_users());

	/* The driver comes back: served, and nothing is left held after. */
	ASSERT_TRUE(drv_init(&drv));
	submit(VBLK_T_IN, 1, 10, 20, 1, 64);
	fake_time_ns += DISK_LATENCY_NS;
	vblk_run(&blk);
	EXPECT_EQ(drv_used_idx(), 1);
	EXPECT_EQ(fx_page(11)[0], VBLK_S_OK);
	EXPECT_TRUE(complete_and_end(64, 3));
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 3);
	EXPECT_EQ(g.holders, 0);
	EXPECT_EQ(fx.violations, 0);
}

TEST(gmem, a_broken_queue_unmaps_the_buffers_of_requests_at_the_disk)
{
	ASSERT_TRUE(two_requests_at_the_disk());
	/* avail.idx runs more than a queue ahead: broken, and what the disk holds cancelled. */
	drv_set_avail_idx((uint16_t)(drv.avail + DRV_QSIZE + 1));
	wr_reg(VMMIO_REG_QUEUE_NOTIFY, 0);
	EXPECT_TRUE(rd_reg(VMMIO_REG_STATUS) & VMMIO_STATUS_DEVICE_NEEDS_RESET);
	EXPECT_TRUE(complete_and_end(64, 3) && complete_and_end(80, 4));
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 3); /* the rings stay until the reset */
	EXPECT_EQ(g.holders, 0);
	fake_time_ns += DISK_LATENCY_NS;
	vblk_run(&blk);
	EXPECT_EQ(vblk_in_flight(&blk), 0);
	EXPECT_EQ(drv_used_idx(), 0);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_GRANT), 3);
	EXPECT_EQ(fx.violations, 0);
}
