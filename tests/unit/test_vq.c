/*
 * virtio/vq.c against a fake guest: a byte array reached through a map() that checks the
 * walker's contract (never across a page, never outside the array, writes only where
 * allowed) and records each call. Tests play the driver: they write descriptors and ring
 * entries into the array as Linux would, or as a hostile driver would.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/fake_guest.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/test.h"
#include "virtio/vq.h"

#define DESC       (GUEST_BASE + 0x0000)
#define AVAIL      (GUEST_BASE + 0x1000)
#define USED       (GUEST_BASE + 0x2000)
#define IND        (GUEST_BASE + 0x3000) /* indirect tables */
#define DATA       (GUEST_BASE + 0x8000) /* buffers */


static struct vq vq;
static struct vq_chain chain;
static uint16_t ring_num;  /* the driver's idea of the queue size */
static uint16_t drv_avail; /* the driver's avail.idx */

static void desc(gpa_t table, uint16_t i, gpa_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	gpa_t d = table + 16u * i;

	put64(d, addr);
	put32(d + 8, len);
	put16(d + 12, flags);
	put16(d + 14, next);
}

/* The driver makes chain `head` available and publishes avail.idx. */
static void offer(uint16_t head)
{
	put16(AVAIL + 4 + 2u * (drv_avail % ring_num), head);
	drv_avail++;
	put16(AVAIL + 2, drv_avail);
}

static uint16_t used_idx(void)
{
	return get16(USED + 2);
}

static uint32_t used_id(uint16_t slot)
{
	return get32(USED + 4 + 8u * slot);
}

static uint32_t used_len(uint16_t slot)
{
	return get32(USED + 4 + 8u * slot + 4);
}

/* Returns chain `head` through a chain of its own (popped or not: vq_push needs only the head). */
static int push(uint16_t head, uint32_t len)
{
	static struct vq_chain c;

	c = (struct vq_chain){.head = head};
	return vq_push(&vq, &c, len);
}

static gpa_t used_event_addr(void)
{
	return AVAIL + 4 + 2u * ring_num;
}

static gpa_t avail_event_addr(void)
{
	return USED + 4 + 8u * ring_num;
}

static unsigned int log_lines(void)
{
	unsigned int n = 0;

	for (const char *s = log_text; *s; s++)
		n += *s == '\n';
	return n;
}

/* How many map() calls so far touched [gpa, gpa + len). */
static unsigned int calls_at(gpa_t gpa, uint32_t len)
{
	unsigned int n = 0;

	for (unsigned long i = 0; i < fake.calls && i < CALL_LOG; i++)
		if (fake.log[i].gpa < gpa + len && fake.log[i].gpa + fake.log[i].len > gpa)
			n++;
	return n;
}

static int setup_limit(uint16_t num, uint64_t features, uint32_t seg_len_max)
{
	memset(guest, 0, sizeof(guest));
	memset(&fake, 0, sizeof(fake));
	ring_num = num;
	drv_avail = 0;
	log_capture_reset();
	vq_init(&vq, &mem, "vq-test", 0, seg_len_max);
	return vq_start(&vq, num, DESC, AVAIL, USED, features);
}

static int setup(uint16_t num, uint64_t features)
{
	return setup_limit(num, features, 0);
}

#define F_INDIRECT (1ull << VQ_F_INDIRECT_DESC)
#define F_EVENT    (1ull << VQ_F_EVENT_IDX)

/* A broken queue: one log line naming the cause, sticky, no more guest accesses. */
static void expect_broken(const char *why)
{
	unsigned long calls;

	EXPECT_EQ(vq_pop(&vq, &chain), VQ_BROKEN);
	EXPECT_CONTAINS(log_text, why);
	EXPECT_CONTAINS(log_text, "queue broken");
	EXPECT_EQ(log_lines(), 1);
	EXPECT_FALSE(vq_ready(&vq));
	calls = fake.calls;
	EXPECT_EQ(vq_pop(&vq, &chain), VQ_BROKEN);
	EXPECT_EQ(push(0, 1), VQ_BROKEN);
	EXPECT_EQ(fake.calls, calls);
	EXPECT_EQ(log_lines(), 1);
	EXPECT_EQ(used_idx(), 0);
	EXPECT_EQ(fake.contract_violations, 0);
}

/* ---- normal operation ---------------------------------------------------- */

TEST(vq, empty_queue_has_nothing_to_pop)
{
	ASSERT_EQ(setup(8, 0), 0);
	EXPECT_TRUE(vq_ready(&vq));
	EXPECT_EQ(vq_pop(&vq, &chain), -EAGAIN);
	EXPECT_FALSE(vq_need_interrupt(&vq));
	EXPECT_STREQ(log_text, "");
}

TEST(vq, pop_gives_readable_then_writable_buffers_and_push_publishes)
{
	ASSERT_EQ(setup(8, 0), 0);
	desc(DESC, 5, DATA, 16, VQ_DESC_F_NEXT, 2);
	desc(DESC, 2, DATA + 0x100, 100, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 7);
	desc(DESC, 7, DATA + 0x200, 1, VQ_DESC_F_WRITE, 0);
	offer(5);

	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	EXPECT_EQ(chain.head, 5);
	EXPECT_EQ(chain.seg_count, 3);
	EXPECT_EQ(chain.readable_count, 1);
	EXPECT_EQ(chain.readable_len, 16);
	EXPECT_EQ(chain.writable_len, 101);
	EXPECT_EQ(chain.seg[0].gpa, DATA);
	EXPECT_FALSE(chain.seg[0].writable);
	EXPECT_EQ(chain.seg[1].gpa, DATA + 0x100);
	EXPECT_EQ(chain.seg[1].len, 100);
	EXPECT_TRUE(chain.seg[1].writable);
	EXPECT_EQ(chain.seg[2].gpa, DATA + 0x200);
	EXPECT_EQ(vq_pop(&vq, &chain), -EAGAIN);

	EXPECT_EQ(used_idx(), 0);
	EXPECT_EQ(push(5, 42), 0);
	EXPECT_EQ(used_idx(), 1);
	EXPECT_EQ(used_id(0), 5);
	EXPECT_EQ(used_len(0), 42);
	EXPECT_TRUE(vq_need_interrupt(&vq));
	EXPECT_FALSE(vq_need_interrupt(&vq)); /* nothing new since */
	EXPECT_STREQ(log_text, "");
	EXPECT_EQ(fake.contract_violations, 0);
}

TEST(vq, each_driver_field_is_read_once)
{
	ASSERT_EQ(setup(8, 0), 0);
	desc(DESC, 0, DATA, 16, VQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA + 0x100, 8, VQ_DESC_F_WRITE, 0);
	offer(0);
	fake.calls = 0; /* forget vq_start's check of the rings */

	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	EXPECT_EQ(calls_at(AVAIL + 2, 2), 1); /* avail.idx */
	EXPECT_EQ(calls_at(AVAIL + 4, 2), 1); /* ring[0] */
	EXPECT_EQ(calls_at(DESC, 16), 1);
	EXPECT_EQ(calls_at(DESC + 16, 16), 1);
	/* Each buffer handed out was checked with map(), with its direction. */
	EXPECT_EQ(calls_at(DATA, 16), 1);
	EXPECT_EQ(calls_at(DATA + 0x100, 8), 1);
	for (unsigned long i = 0; i < fake.calls; i++)
		if (fake.log[i].gpa == DATA + 0x100)
			EXPECT_TRUE(fake.log[i].writable);
}

TEST(vq, chains_come_in_available_order)
{
	ASSERT_EQ(setup(4, 0), 0);
	for (uint16_t i = 0; i < 4; i++)
		desc(DESC, i, DATA + 0x100u * i, 1, VQ_DESC_F_WRITE, 0);
	offer(3);
	offer(1);
	offer(2);
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	EXPECT_EQ(chain.head, 3);
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	EXPECT_EQ(chain.head, 1);
	/* Completions may come out of order. */
	EXPECT_EQ(push(1, 10), 0);
	EXPECT_EQ(push(3, 30), 0);
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	EXPECT_EQ(chain.head, 2);
	EXPECT_EQ(vq_pop(&vq, &chain), -EAGAIN);
	EXPECT_EQ(used_id(0), 1);
	EXPECT_EQ(used_len(0), 10);
	EXPECT_EQ(used_id(1), 3);
	EXPECT_EQ(used_len(1), 30);
	EXPECT_EQ(used_idx(), 2);
}

TEST(vq, read_and_write_span_buffers_and_pages)
{
	uint8_t in[24], out[24], want[24];

	ASSERT_EQ(setup(8, 0), 0);
	/* Readable: 10 bytes across a page boundary, then 14 more elsewhere. */
	desc(DESC, 0, DATA + 4090, 10, VQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA + 0x3000, 14, VQ_DESC_F_NEXT, 2);
	/* Writable: 5 bytes across another page boundary, then 19. */
	desc(DESC, 2, DATA + 0x5000 - 3, 5, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 3);
	desc(DESC, 3, DATA + 0x6000, 19, VQ_DESC_F_WRITE, 0);
	for (int i = 0; i < 24; i++)
		want[i] = (uint8_t)(0x30 + i);
	memcpy(gp(DATA + 4090), want, 10);
	memcpy(gp(DATA + 0x3000), want + 10, 14);
	offer(0);
	ASSERT_EQ(vq_pop(&vq, &chain), 0);

	EXPECT_EQ(vq_read(&vq, &chain, 0, in, 24), 0);
	EXPECT_MEMEQ(in, want, 24);
	EXPECT_EQ(vq_read(&vq, &chain, 8, in, 4), 0);
	EXPECT_MEMEQ(in, want + 8, 4);
	EXPECT_EQ(vq_read(&vq, &chain, 20, in, 5), -EINVAL);
	EXPECT_EQ(vq_read(&vq, &chain, 25, in, 0), -EINVAL);

	for (int i = 0; i < 24; i++)
		out[i] = (uint8_t)(0xa0 + i);
	EXPECT_EQ(vq_write(&vq, &chain, 0, out, 24), 0);
	EXPECT_MEMEQ(gp(DATA + 0x5000 - 3), out, 5);
	EXPECT_MEMEQ(gp(DATA + 0x6000), out + 5, 19);
	EXPECT_EQ(vq_write(&vq, &chain, 23, "Z", 1), 0);
	EXPECT_EQ(gp(DATA + 0x6000 + 18)[0], 'Z');
	EXPECT_EQ(vq_write(&vq, &chain, 23, out, 2), -EINVAL);
	/* The readable buffers were never written. */
	EXPECT_MEMEQ(gp(DATA + 4090), want, 10);
	EXPECT_EQ(fake.contract_violations, 0);
}

TEST(vq, zero_length_descriptors_are_dropped)
{
	ASSERT_EQ(setup(8, 0), 0);
	desc(DESC, 0, 0xdead0000, 0, VQ_DESC_F_NEXT, 1); /* never mapped: no bytes */
	desc(DESC, 1, DATA, 16, VQ_DESC_F_NEXT, 2);
	desc(DESC, 2, 0, 0, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 3);
	desc(DESC, 3, DATA + 0x100, 1, VQ_DESC_F_WRITE, 0);
	offer(0);
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	EXPECT_EQ(chain.seg_count, 2);
	EXPECT_EQ(chain.readable_len, 16);
	EXPECT_EQ(chain.writable_len, 1);
	EXPECT_STREQ(log_text, "");
}

TEST(vq, indirect_table)
{
	ASSERT_EQ(setup(8, F_INDIRECT), 0);
	/* WRITE on the descriptor naming a table is ignored (§2.7.5.3.2). */
	desc(DESC, 4, IND, 48, VQ_DESC_F_INDIRECT | VQ_DESC_F_WRITE, 0);
	desc(IND, 0, DATA, 16, VQ_DESC_F_NEXT, 2);
	desc(IND, 2, DATA + 0x1000, 512, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 1);
	desc(IND, 1, DATA + 0x2000, 1, VQ_DESC_F_WRITE, 0);
	offer(4);
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	EXPECT_EQ(chain.head, 4);
	EXPECT_EQ(chain.seg_count, 3);
	EXPECT_EQ(chain.readable_count, 1);
	EXPECT_EQ(chain.readable_len, 16);
	EXPECT_EQ(chain.writable_len, 513);
	EXPECT_EQ(chain.seg[1].gpa, DATA + 0x1000);
	EXPECT_EQ(chain.seg[2].gpa, DATA + 0x2000);
	EXPECT_STREQ(log_text, "");
}

TEST(vq, direct_descriptors_then_an_indirect_table)
{
	ASSERT_EQ(setup(8, F_INDIRECT), 0);
	desc(DESC, 0, DATA, 16, VQ_DESC_F_NEXT, 1);
	desc(DESC, 1, IND + 8, 32, VQ_DESC_F_INDIRECT, 0); /* a table need not be aligned */
	desc(IND + 8, 0, DATA + 0x100, 512, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 1);
	desc(IND + 8, 1, DATA + 0x400, 1, VQ_DESC_F_WRITE, 0);
	offer(0);
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	EXPECT_EQ(chain.seg_count, 3);
	EXPECT_EQ(chain.readable_len, 16);
	EXPECT_EQ(chain.writable_len, 513);
}

TEST(vq, indexes_wrap_at_65536)
{
	unsigned int bad = 0;

	ASSERT_EQ(setup(4, 0), 0);
	for (uint16_t i = 0; i < 4; i++)
		desc(DESC, i, DATA + 0x100u * i, 1, VQ_DESC_F_WRITE, 0);
	for (uint32_t n = 0; n < 65536 + 8; n++) {
		uint16_t head = (uint16_t)((n * 3) & 3);

		offer(head);
		if (vq_pop(&vq, &chain) != 0 || chain.head != head ||
		    vq_push(&vq, &chain, n) != 0 || used_idx() != (uint16_t)(n + 1) ||
		    used_id((uint16_t)(n & 3)) != head || used_len((uint16_t)(n & 3)) != n) {
			bad++;
			break;
		}
	}
	EXPECT_EQ(bad, 0);
	EXPECT_EQ(used_idx(), 8);
	EXPECT_EQ(get16(AVAIL + 2), 8);
	EXPECT_EQ(vq_pop(&vq, &chain), -EAGAIN);
	EXPECT_STREQ(log_text, "");
}

/* ---- notification suppression (§2.7.7, §2.7.10) -------------------------- */

/* Takes and returns one single-buffer chain. */
static void complete_one(void)
{
	desc(DESC, 0, DATA, 1, VQ_DESC_F_WRITE, 0);
	offer(0);
	if (vq_pop(&vq, &chain) == 0)
		vq_push(&vq, &chain, 1);
}

TEST(vq, event_idx_interrupts_when_used_idx_passes_used_event)
{
	ASSERT_EQ(setup(4, F_EVENT), 0);
	put16(used_event_addr(), 0);
	EXPECT_FALSE(vq_need_interrupt(&vq)); /* nothing used */
	complete_one();                       /* used.idx 1 passes used_event 0 */
	EXPECT_TRUE(vq_need_interrupt(&vq));
	complete_one(); /* 2: already past 0 */
	EXPECT_FALSE(vq_need_interrupt(&vq));

	put16(used_event_addr(), 4);
	complete_one(); /* 3 */
	EXPECT_FALSE(vq_need_interrupt(&vq));
	complete_one(); /* 4: the driver asked for the entry at index 4, i.e. idx 5 */
	EXPECT_FALSE(vq_need_interrupt(&vq));
	complete_one(); /* 5 */
	EXPECT_TRUE(vq_need_interrupt(&vq));

	/* Several completions in one batch: one decision over the whole range. */
	put16(used_event_addr(), 6);
	complete_one();
	complete_one();
	complete_one(); /* 6, 7, 8: passes 6 + 1 */
	EXPECT_TRUE(vq_need_interrupt(&vq));
	EXPECT_STREQ(log_text, "");
}

TEST(vq, event_idx_decisions_across_the_index_wrap)
{
	ASSERT_EQ(setup(4, F_EVENT), 0);
	put16(used_event_addr(), 0xffff);
	for (uint32_t n = 0; n < 65534; n++)
		complete_one();
	EXPECT_EQ(used_idx(), 65534);
	EXPECT_FALSE(vq_need_interrupt(&vq));
	complete_one(); /* 65535 */
	EXPECT_FALSE(vq_need_interrupt(&vq));
	complete_one(); /* 0: passed used_event 65535 */
	EXPECT_EQ(used_idx(), 0);
	EXPECT_TRUE(vq_need_interrupt(&vq));
	put16(used_event_addr(), 1);
	complete_one(); /* 1 */
	EXPECT_FALSE(vq_need_interrupt(&vq));
	complete_one(); /* 2 */
	EXPECT_TRUE(vq_need_interrupt(&vq));
}

TEST(vq, without_event_idx_no_interrupt_flag_is_honoured)
{
	ASSERT_EQ(setup(4, 0), 0);
	put16(used_event_addr(), 0x1234); /* ignored without the feature */
	put16(AVAIL, VQ_AVAIL_F_NO_INTERRUPT);
	complete_one();
	EXPECT_FALSE(vq_need_interrupt(&vq));
	put16(AVAIL, 0);
	complete_one();
	EXPECT_TRUE(vq_need_interrupt(&vq));
	EXPECT_FALSE(vq_need_interrupt(&vq));
}

TEST(vq, avail_event_is_written_when_the_ring_runs_dry)
{
	ASSERT_EQ(setup(4, F_EVENT), 0);
	put16(avail_event_addr(), 0xbeef);
	EXPECT_EQ(vq_pop(&vq, &chain), -EAGAIN);
	EXPECT_EQ(get16(avail_event_addr()), 0);
	complete_one();
	complete_one();
	EXPECT_EQ(get16(avail_event_addr()), 0); /* not rewritten while work was there */
	EXPECT_EQ(vq_pop(&vq, &chain), -EAGAIN);
	EXPECT_EQ(get16(avail_event_addr()), 2);

	/* Without the feature the device never writes it. */
	ASSERT_EQ(setup(4, 0), 0);
	put16(avail_event_addr(), 0xbeef);
	EXPECT_EQ(vq_pop(&vq, &chain), -EAGAIN);
	EXPECT_EQ(get16(avail_event_addr()), 0xbeef);
}

/* The driver adds a chain just as the device writes avail_event. */
static void add_during_avail_event_write(gpa_t gpa, uint32_t len, bool writable)
{
	if (writable && gpa == avail_event_addr() && drv_avail == 0) {
		desc(DESC, 1, DATA, 1, VQ_DESC_F_WRITE, 0);
		offer(1);
	}
}

TEST(vq, avail_is_checked_again_after_writing_avail_event)
{
	ASSERT_EQ(setup(4, F_EVENT), 0);
	fake.hook = add_during_avail_event_write;
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	EXPECT_EQ(chain.head, 1);
	fake.hook = NULL;
}

/* ---- queue setup ----------------------------------------------------------- */

TEST(vq, start_checks_size)
{
	EXPECT_EQ(setup(0, 0), -EINVAL);
	EXPECT_CONTAINS(log_text, "size 0 is not a power of two from 1 to 256");
	EXPECT_EQ(setup(3, 0), -EINVAL);
	EXPECT_EQ(setup(512, 0), -EINVAL);
	EXPECT_FALSE(vq_ready(&vq));
	EXPECT_EQ(vq_pop(&vq, &chain), -ENODEV);
	EXPECT_EQ(push(0, 0), -ENODEV);
	EXPECT_EQ(setup(1, 0), 0);
	EXPECT_EQ(setup(256, 0), 0);
}

TEST(vq, start_checks_alignment)
{
	setup(8, 0);
	log_capture_reset();
	EXPECT_EQ(vq_start(&vq, 8, DESC + 8, AVAIL, USED, 0), -EINVAL);
	EXPECT_CONTAINS(log_text, "misaligned rings: descriptors 0x40000008 (needs 16)");
	EXPECT_EQ(vq_start(&vq, 8, DESC, AVAIL + 1, USED, 0), -EINVAL);
	EXPECT_EQ(vq_start(&vq, 8, DESC, AVAIL, USED + 2, 0), -EINVAL);
	EXPECT_EQ(log_lines(), 3);
	EXPECT_FALSE(vq_ready(&vq));
	EXPECT_EQ(vq_start(&vq, 8, DESC + 16, AVAIL + 2, USED + 4, 0), 0);
}

TEST(vq, start_checks_the_rings_are_guest_memory)
{
	setup(8, 0);
	log_capture_reset();
	fake.ro_start = USED;
	fake.ro_end = USED + 1;
	EXPECT_EQ(vq_start(&vq, 8, DESC, AVAIL, USED, 0), -EFAULT);
	EXPECT_CONTAINS(log_text, "rings not in guest memory");
	fake.ro_end = 0;
	EXPECT_EQ(vq_start(&vq, 8, DESC, GUEST_BASE + GUEST_SIZE - 16, USED, 0), -EFAULT);
	EXPECT_EQ(vq_start(&vq, 8, UINT64_MAX - 15, AVAIL, USED, 0), -EFAULT);
	EXPECT_FALSE(vq_ready(&vq));
}

/* Used on the descriptors, available on used, or one byte shared: refused unmapped. */
TEST(vq, start_refuses_overlapping_rings)
{
	static const struct {
		gpa_t desc, avail, used;
	} bad[] = {
	    {DESC, AVAIL, DESC},              /* used ring on the descriptor table */
	    {DESC, USED, USED},               /* available ring on the used ring */
	    {DESC, DESC + 8 * 16 - 2, USED},  /* available ring on the last descriptor's end */
	    {DESC, AVAIL, AVAIL + 4 + 2 * 8}, /* used ring on used_event */
	    {USED + 16, AVAIL, USED},         /* descriptor table inside the used ring */
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup(8, 0);
		memset(&fake, 0, sizeof(fake));
		log_capture_reset();
		EXPECT_EQ(vq_start(&vq, 8, bad[i].desc, bad[i].avail, bad[i].used, F_EVENT),
		          -EINVAL);
		EXPECT_CONTAINS(log_text, "rings overlap: descriptors 0x");
		EXPECT_CONTAINS(log_text, "; not started");
		EXPECT_EQ(log_lines(), 1);
		EXPECT_EQ(fake.calls, 0);
		EXPECT_FALSE(vq_ready(&vq));
		EXPECT_EQ(vq_pop(&vq, &chain), -ENODEV);
	}
	/* Back to back, as the legacy layout has them (§2.7.2), is fine. */
	setup(8, 0);
	log_capture_reset();
	EXPECT_EQ(vq_start(&vq, 8, DESC, DESC + 128, DESC + 128 + 6 + 16 + 2, F_EVENT), 0);
	EXPECT_EQ(log_lines(), 0);
	EXPECT_TRUE(vq_ready(&vq));
}

TEST(vq, reset_stops_the_queue)
{
	ASSERT_EQ(setup(4, 0), 0);
	complete_one();
	vq_reset(&vq);
	EXPECT_FALSE(vq_ready(&vq));
	EXPECT_EQ(vq_pop(&vq, &chain), -ENODEV);
	EXPECT_FALSE(vq_need_interrupt(&vq));
	/* Restarted, indexes begin at 0 again. */
	memset(guest, 0, sizeof(guest));
	drv_avail = 0;
	ASSERT_EQ(vq_start(&vq, 4, DESC, AVAIL, USED, 0), 0);
	complete_one();
	EXPECT_EQ(used_idx(), 1);
}

/* ---- what the memory layer is told (grant mappings depend on it) ---------- */

/* Whether gpa lies in one of the queue's three rings (event fields included). */
static bool in_rings(gpa_t gpa)
{
	return (gpa >= DESC && gpa < DESC + 16u * ring_num) ||
	       (gpa >= AVAIL && gpa < AVAIL + 6 + 2u * ring_num) ||
	       (gpa >= USED && gpa < USED + 6 + 8u * ring_num);
}

TEST(vq, ring_and_buffer_accesses_are_told_apart)
{
	uint8_t byte = 0x5a;
	unsigned int rings = 0, buffers = 0;

	ASSERT_EQ(setup(8, F_INDIRECT | F_EVENT), 0);
	desc(DESC, 0, DATA, 16, VQ_DESC_F_NEXT, 1);
	desc(DESC, 1, IND, 32, VQ_DESC_F_INDIRECT, 0);
	desc(IND, 0, DATA + 0x1000, 512, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 1);
	desc(IND, 1, DATA + 0x2000, 1, VQ_DESC_F_WRITE, 0);
	offer(0);
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	EXPECT_EQ(vq_pop(&vq, &chain), -EAGAIN); /* writes avail_event */
	ASSERT_EQ(vq_pop(&vq, &chain), -EAGAIN);
	offer(0);
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	EXPECT_EQ(vq_write(&vq, &chain, 512, &byte, 1), 0);
	EXPECT_EQ(vq_push(&vq, &chain, 1), 0);
	vq_need_interrupt(&vq);
	ASSERT_TRUE(fake.calls < CALL_LOG);
	for (unsigned long i = 0; i < fake.calls; i++) {
		const struct map_call *c = &fake.log[i];

		/*
		 * The indirect table at IND is a buffer: the driver frees it with the request.
		 * A buffer access names its chain's hold, so that release() knows whose it was.
		 */
		if (in_rings(c->gpa)) {
			EXPECT_EQ(c->area, VQ_AREA_RING);
			EXPECT_TRUE(c->hold == NULL);
			rings++;
		} else {
			EXPECT_EQ(c->area, VQ_AREA_BUFFER);
			EXPECT_TRUE(c->hold == &chain.hold);
			buffers++;
		}
	}
	EXPECT_GT(rings, 0);
	EXPECT_GT(buffers, 0);
}

TEST(vq, push_releases_the_buffers_before_writing_the_used_ring)
{
	unsigned long before;

	ASSERT_EQ(setup(8, 0), 0);
	desc(DESC, 0, DATA, 16, VQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA + 0x100, 1, VQ_DESC_F_WRITE, 0);
	offer(0);
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	EXPECT_EQ(fake.releases, 0);
	before = fake.calls;
	EXPECT_EQ(vq_push(&vq, &chain, 1), 0);
	EXPECT_EQ(fake.releases, 1);
	EXPECT_TRUE(fake.released == &chain.hold);
	/* Released before the push's first guest access, the used element. */
	EXPECT_EQ(fake.calls_at_release, before);
	EXPECT_GT(fake.calls, before);
	EXPECT_EQ(fake.log[before].gpa, USED + 4);
}

TEST(vq, broken_chain_releases_what_it_mapped)
{
	ASSERT_EQ(setup(8, 0), 0);
	desc(DESC, 0, DATA, 16, VQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA + 0x1000, 16, VQ_DESC_F_NEXT, 9);
	offer(0);
	EXPECT_EQ(vq_pop(&vq, &chain), VQ_BROKEN);
	EXPECT_EQ(fake.releases, 1);
	EXPECT_TRUE(fake.released == &chain.hold);
	EXPECT_EQ(fake.calls_at_release, fake.calls);
}

TEST(vq, a_dropped_chain_releases_its_hold_and_touches_no_ring)
{
	unsigned long before;

	ASSERT_EQ(setup(8, 0), 0);
	desc(DESC, 0, DATA, 16, 0, 0);
	offer(0);
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	before = fake.calls;
	vq_drop(&vq, &chain);
	EXPECT_EQ(fake.releases, 1);
	EXPECT_TRUE(fake.released == &chain.hold);
	EXPECT_EQ(fake.calls, before);
	EXPECT_EQ(used_idx(), 0);
}

TEST(vq, reset_tells_the_memory)
{
	ASSERT_EQ(setup(8, 0), 0);
	fake.resets = 0;
	vq_reset(&vq);
	EXPECT_EQ(fake.resets, 1);
}

TEST(vq, push_checks_the_head)
{
	ASSERT_EQ(setup(4, 0), 0);
	EXPECT_EQ(push(4, 0), -EINVAL);
	EXPECT_EQ(used_idx(), 0);
}

/* ---- hostile drivers ------------------------------------------------------ */

TEST(vq, indirect_without_the_feature_breaks_the_queue)
{
	ASSERT_EQ(setup(8, 0), 0);
	desc(DESC, 0, IND, 16, VQ_DESC_F_INDIRECT, 0);
	desc(IND, 0, DATA, 1, VQ_DESC_F_WRITE, 0);
	offer(0);
	expect_broken("indirect descriptor without VIRTIO_F_INDIRECT_DESC");
}

TEST(vq, nested_indirect_breaks_the_queue)
{
	ASSERT_EQ(setup(8, F_INDIRECT), 0);
	desc(DESC, 0, IND, 32, VQ_DESC_F_INDIRECT, 0);
	desc(IND, 0, DATA, 16, VQ_DESC_F_NEXT, 1);
	desc(IND, 1, IND + 0x100, 16, VQ_DESC_F_INDIRECT, 0);
	offer(0);
	expect_broken("chain 0: indirect descriptor inside an indirect table");
}

TEST(vq, indirect_length_not_a_multiple_of_16_breaks_the_queue)
{
	ASSERT_EQ(setup(8, F_INDIRECT), 0);
	desc(DESC, 0, IND, 40, VQ_DESC_F_INDIRECT, 0);
	offer(0);
	expect_broken("indirect table length is not a positive multiple of 16 (table 0x40003000, "
	              "40 bytes");

	ASSERT_EQ(setup(8, F_INDIRECT), 0);
	desc(DESC, 0, IND, 0, VQ_DESC_F_INDIRECT, 0);
	offer(0);
	expect_broken("indirect table length is not a positive multiple of 16");
}

TEST(vq, indirect_with_next_breaks_the_queue)
{
	ASSERT_EQ(setup(8, F_INDIRECT), 0);
	desc(DESC, 0, IND, 16, VQ_DESC_F_INDIRECT | VQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA, 1, VQ_DESC_F_WRITE, 0);
	desc(IND, 0, DATA, 1, VQ_DESC_F_WRITE, 0);
	offer(0);
	expect_broken("indirect descriptor with NEXT set");
}

TEST(vq, oversized_indirect_table_breaks_the_queue)
{
	ASSERT_EQ(setup(8, F_INDIRECT), 0);
	desc(DESC, 0, IND, 16 * (VQ_CHAIN_MAX + 1), VQ_DESC_F_INDIRECT, 0);
	offer(0);
	expect_broken("indirect table has too many descriptors (table 0x40003000, 4112 bytes, "
	              "limit 4096)");
}

TEST(vq, loop_breaks_the_queue)
{
	ASSERT_EQ(setup(8, 0), 0);
	desc(DESC, 0, DATA, 16, VQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA + 0x100, 16, VQ_DESC_F_NEXT, 0);
	offer(0);
	expect_broken("chain 0: longer than the 8 descriptors of its queue (a loop)");
}

TEST(vq, self_pointing_next_breaks_the_queue)
{
	ASSERT_EQ(setup(4, 0), 0);
	desc(DESC, 3, DATA, 1, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 3);
	offer(3);
	fake.calls = 0;
	expect_broken("chain 3: longer than the 4 descriptors of its queue (a loop)");
	/* Every descriptor was read once before giving up. */
	EXPECT_EQ(calls_at(DESC + 48, 16), 4);
}

TEST(vq, loop_inside_an_indirect_table_breaks_the_queue)
{
	ASSERT_EQ(setup(8, F_INDIRECT), 0);
	desc(DESC, 0, IND, 64, VQ_DESC_F_INDIRECT, 0);
	desc(IND, 0, DATA, 16, VQ_DESC_F_NEXT, 1);
	desc(IND, 1, DATA, 16, VQ_DESC_F_NEXT, 2);
	desc(IND, 2, DATA, 16, VQ_DESC_F_NEXT, 3);
	desc(IND, 3, DATA, 16, VQ_DESC_F_NEXT, 1);
	offer(0);
	expect_broken("longer than the 4 descriptors of its indirect table (a loop)");
}

TEST(vq, next_out_of_range_breaks_the_queue)
{
	ASSERT_EQ(setup(8, 0), 0);
	desc(DESC, 0, DATA, 16, VQ_DESC_F_NEXT, 8);
	offer(0);
	expect_broken("chain 0: next index 8 is outside the descriptor table of 8");

	ASSERT_EQ(setup(8, F_INDIRECT), 0);
	desc(DESC, 0, IND, 48, VQ_DESC_F_INDIRECT, 0);
	desc(IND, 0, DATA, 16, VQ_DESC_F_NEXT, 3);
	offer(0);
	expect_broken("chain 0: next index 3 is outside the indirect table of 3");
}

TEST(vq, head_out_of_range_breaks_the_queue)
{
	ASSERT_EQ(setup(8, 0), 0);
	offer(8);
	expect_broken("available entry 0 names descriptor 8 of 8");
}

TEST(vq, avail_idx_jumping_past_the_queue_size_breaks_the_queue)
{
	ASSERT_EQ(setup(8, 0), 0);
	put16(AVAIL + 2, 9);
	expect_broken("available index jumped from 0 to 9, more than the queue size 8");

	/* Exactly a full ring is fine. */
	ASSERT_EQ(setup(8, 0), 0);
	for (uint16_t i = 0; i < 8; i++) {
		desc(DESC, i, DATA, 1, VQ_DESC_F_WRITE, 0);
		offer(i);
	}
	for (uint16_t i = 0; i < 8; i++)
		EXPECT_EQ(vq_pop(&vq, &chain), 0);
	EXPECT_EQ(vq_pop(&vq, &chain), -EAGAIN);

	/* Going backwards is a jump of almost 65536. */
	put16(AVAIL + 2, 7);
	expect_broken("available index jumped from 8 to 7");
}

TEST(vq, buffer_outside_guest_memory_breaks_the_queue)
{
	ASSERT_EQ(setup(8, 0), 0);
	desc(DESC, 0, GUEST_BASE + GUEST_SIZE - 8, 16, 0, 0);
	offer(0);
	expect_broken("chain 0: device-readable buffer 0x4003fff8+16 is not in guest memory");

	ASSERT_EQ(setup(8, 0), 0);
	desc(DESC, 0, UINT64_MAX - 3, 8, VQ_DESC_F_WRITE, 0); /* wraps */
	offer(0);
	expect_broken("device-writable buffer 0xfffffffffffffffc+8 is not in guest memory");

	/* A page the guest may not hand out, in the middle of a buffer. */
	ASSERT_EQ(setup(8, 0), 0);
	fake.hole_start = DATA + 0x2000;
	fake.hole_end = DATA + 0x3000;
	desc(DESC, 0, DATA + 0x1800, 0x2000, 0, 0);
	offer(0);
	expect_broken("buffer 0x40009800+8192 is not in guest memory");

	/* Memory the device may read but not write, given as device-writable. */
	ASSERT_EQ(setup(8, 0), 0);
	fake.ro_start = DATA;
	fake.ro_end = DATA + 0x1000;
	desc(DESC, 0, DATA, 16, 0, 1);
	desc(DESC, 0, DATA, 16, VQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA + 0x10, 1, VQ_DESC_F_WRITE, 0);
	offer(0);
	expect_broken("device-writable buffer 0x40008010+1 is not in guest memory");
}

TEST(vq, unmapped_descriptor_table_breaks_the_queue)
{
	ASSERT_EQ(setup(8, 0), 0);
	offer(2);
	fake.hole_start = DESC;
	fake.hole_end = DESC + 0x1000;
	expect_broken("chain 2: descriptor 2 of the descriptor table at 0x40000000 is not in guest "
	              "memory");

	ASSERT_EQ(setup(8, F_INDIRECT), 0);
	desc(DESC, 0, GUEST_BASE + GUEST_SIZE - 16, 32, VQ_DESC_F_INDIRECT, 0);
	desc(GUEST_BASE + GUEST_SIZE - 16, 0, DATA, 16, VQ_DESC_F_NEXT, 1);
	offer(0);
	expect_broken("descriptor 1 of the indirect table at 0x4003fff0 is not in guest memory");
}

TEST(vq, lengths_adding_up_past_4_gib_break_the_queue)
{
	ASSERT_EQ(setup(8, 0), 0);
	desc(DESC, 0, BIG_BASE, 0xfffff000u, VQ_DESC_F_NEXT, 1);
	desc(DESC, 1, BIG_BASE, 0xfffu, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	desc(DESC, 2, BIG_BASE, 1, VQ_DESC_F_WRITE, 0);
	offer(0);
	expect_broken("chain 0: buffers add up to more than 4 GiB");

	/* One byte less is exactly the most a chain may hold. */
	ASSERT_EQ(setup(8, 0), 0);
	desc(DESC, 0, BIG_BASE, 0xfffff000u, VQ_DESC_F_NEXT, 1);
	desc(DESC, 1, BIG_BASE, 0xfffu, VQ_DESC_F_WRITE, 0);
	offer(0);
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	EXPECT_EQ((uint64_t)chain.readable_len + chain.writable_len, UINT32_MAX);
	EXPECT_EQ(fake.contract_violations, 0);
}

TEST(vq, buffer_larger_than_the_limit_breaks_the_queue)
{
	ASSERT_EQ(setup_limit(8, 0, 4096), 0);
	desc(DESC, 0, DATA, 4096, VQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA, 4097, VQ_DESC_F_WRITE, 0);
	offer(0);
	expect_broken("chain 0: buffer of 4097 bytes is larger than 4096");
}

TEST(vq, readable_after_writable_breaks_the_queue)
{
	ASSERT_EQ(setup(8, 0), 0);
	desc(DESC, 0, DATA, 16, VQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA + 0x100, 1, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 2);
	desc(DESC, 2, DATA + 0x200, 16, 0, 0);
	offer(0);
	expect_broken("chain 0: device-readable buffer after a device-writable one");
}

TEST(vq, more_buffers_than_a_chain_holds_break_the_queue)
{
	ASSERT_EQ(setup(256, F_INDIRECT), 0);
	/* 255 direct buffers, then a table of 2: 257 buffers. */
	for (uint16_t i = 0; i < 255; i++)
		desc(DESC, i, DATA, 1, VQ_DESC_F_NEXT, (uint16_t)(i + 1));
	desc(DESC, 255, IND, 32, VQ_DESC_F_INDIRECT, 0);
	desc(IND, 0, DATA, 1, VQ_DESC_F_NEXT, 1);
	desc(IND, 1, DATA, 1, VQ_DESC_F_WRITE, 0);
	offer(0);
	expect_broken("chain 0: more than 256 buffers");
}

TEST(vq, used_ring_lost_at_push_breaks_the_queue)
{
	ASSERT_EQ(setup(4, 0), 0);
	desc(DESC, 0, DATA, 1, VQ_DESC_F_WRITE, 0);
	offer(0);
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	fake.hole_start = USED;
	fake.hole_end = USED + 0x1000;
	EXPECT_EQ(push(0, 1), VQ_BROKEN);
	EXPECT_CONTAINS(log_text, "used ring 0x40002000 is no longer mapped; queue broken");
	EXPECT_EQ(vq_pop(&vq, &chain), VQ_BROKEN);
	EXPECT_EQ(log_lines(), 1);
}

TEST(vq, buffer_lost_after_pop_fails_the_copy)
{
	uint8_t b[4] = {1, 2, 3, 4};

	ASSERT_EQ(setup(4, 0), 0);
	desc(DESC, 0, DATA, 4, VQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA + 0x1000, 4, VQ_DESC_F_WRITE, 0);
	offer(0);
	ASSERT_EQ(vq_pop(&vq, &chain), 0);
	fake.hole_start = DATA;
	fake.hole_end = DATA + 0x2000;
	EXPECT_EQ(vq_read(&vq, &chain, 0, b, 4), -EFAULT);
	EXPECT_EQ(vq_write(&vq, &chain, 0, b, 4), -EFAULT);
	EXPECT_CONTAINS(log_text, "buffer 0x40009000+4 is no longer in guest memory");
	/* Not a ring problem: the queue goes on. */
	EXPECT_TRUE(vq_ready(&vq));
	EXPECT_EQ(push(0, 0), 0);
}
