/*
 * blk/ramdisk.c: reads, writes, zeroing, range checks without overflow, read-only, and the
 * latency (one, or a range) that holds requests until a poll finds them due.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "blk/disk.h"
#include "blk/ramdisk.h"
#include "tests/unit/disk_io.h"
#include "tests/unit/test.h"

#define SECTORS 16

static uint8_t buf[SECTORS * DISK_SECTOR_SIZE];
static uint8_t want[sizeof(buf)];

/* A disk whose byte i is (i * 7 + 3), and the same pattern in `want`. */
static struct disk *make(struct ramdisk *rd, bool read_only)
{
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = want[i] = (uint8_t)(i * 7 + 3);
	if (ramdisk_init(rd, buf, sizeof(buf), read_only))
		return NULL;
	return &rd->disk;
}

/* Submits one request and returns what done() said; the RAM disk answers inside submit. */
static int run(struct disk *d, enum disk_op op, uint64_t sector, uint32_t count, void *data)
{
	struct disk_io io;

	disk_io_init(&io, op, sector, count, data);
	disk_submit(d, &io.req);
	if (io.done_count != 1)
		return -1000 - (int)io.done_count;
	return io.rc;
}

TEST(ramdisk, init_checks_size_and_buffer)
{
	struct ramdisk rd;

	EXPECT_EQ(ramdisk_init(&rd, buf, sizeof(buf), false), 0);
	EXPECT_EQ(rd.disk.sector_count, SECTORS);
	EXPECT_FALSE(rd.disk.read_only);
	/* What a RAM disk can do: no cache to flush, no transfer limit, zeroes stored. */
	EXPECT_FALSE(rd.disk.volatile_cache);
	EXPECT_EQ(rd.disk.block_size, DISK_SECTOR_SIZE);
	EXPECT_EQ(rd.disk.max_transfer, 0);
	EXPECT_TRUE(rd.disk.discard_max > 0);
	EXPECT_TRUE(rd.disk.write_zeroes_max > 0);
	EXPECT_FALSE(rd.disk.write_zeroes_unmap);
	/* Without a latency everything completes inside submit: nothing to poll for. */
	EXPECT_EQ(disk_poll(&rd.disk), 0);
	EXPECT_EQ(disk_due(&rd.disk), DISK_DUE_NEVER);
	EXPECT_EQ(ramdisk_init(&rd, buf, 511, false), -EINVAL);
	EXPECT_EQ(ramdisk_init(&rd, buf, sizeof(buf) + 1, false), -EINVAL);
	EXPECT_EQ(ramdisk_init(&rd, NULL, 512, false), -EINVAL);
	EXPECT_EQ(ramdisk_init(&rd, buf, 0, true), 0);
	EXPECT_EQ(rd.disk.sector_count, 0);
	EXPECT_TRUE(rd.disk.read_only);
}

TEST(ramdisk, read_and_write_whole_sectors)
{
	struct ramdisk rd;
	struct disk *d = make(&rd, false);
	uint8_t io[2 * DISK_SECTOR_SIZE];

	ASSERT_TRUE(d);
	EXPECT_EQ(run(d, DISK_READ, 3, 2, io), 0);
	EXPECT_MEMEQ(io, want + 3 * DISK_SECTOR_SIZE, sizeof(io));

	memset(io, 0xab, sizeof(io));
	EXPECT_EQ(run(d, DISK_WRITE, SECTORS - 2, 2, io), 0);
	memset(want + (SECTORS - 2) * DISK_SECTOR_SIZE, 0xab, sizeof(io));
	EXPECT_MEMEQ(buf, want, sizeof(buf));
	EXPECT_EQ(run(d, DISK_FLUSH, 0, 0, NULL), 0);
	/* Zero sectors at the very end is in range. */
	EXPECT_EQ(run(d, DISK_READ, SECTORS, 0, io), 0);
}

TEST(ramdisk, out_of_range_is_refused_without_overflow)
{
	struct ramdisk rd;
	struct disk *d = make(&rd, false);
	uint8_t io[DISK_SECTOR_SIZE] = {0};

	ASSERT_TRUE(d);
	EXPECT_EQ(run(d, DISK_READ, SECTORS, 1, io), -ERANGE);
	EXPECT_EQ(run(d, DISK_READ, SECTORS - 1, 2, io), -ERANGE);
	EXPECT_EQ(run(d, DISK_READ, SECTORS + 1, 0, io), -ERANGE);
	EXPECT_EQ(run(d, DISK_WRITE, UINT64_MAX, 1, io), -ERANGE);
	/* sector + count wraps to a small number: still refused. */
	EXPECT_EQ(run(d, DISK_WRITE, UINT64_MAX - 1, 3, io), -ERANGE);
	EXPECT_EQ(run(d, DISK_DISCARD, 1, UINT32_MAX, NULL), -ERANGE);
	EXPECT_EQ(run(d, DISK_WRITE_ZEROES, UINT64_MAX, 2, NULL), -ERANGE);
	EXPECT_MEMEQ(buf, want, sizeof(buf));
	EXPECT_FALSE(disk_range_ok(d, UINT64_MAX - 1, 3));
	EXPECT_TRUE(disk_range_ok(d, 0, SECTORS));
}

TEST(ramdisk, discard_and_write_zeroes_zero_only_their_range)
{
	struct ramdisk rd;
	struct disk *d = make(&rd, false);

	ASSERT_TRUE(d);
	EXPECT_EQ(run(d, DISK_DISCARD, 2, 3, NULL), 0);
	memset(want + 2 * DISK_SECTOR_SIZE, 0, 3 * DISK_SECTOR_SIZE);
	EXPECT_MEMEQ(buf, want, sizeof(buf));
	EXPECT_EQ(run(d, DISK_WRITE_ZEROES, 9, 1, NULL), 0);
	EXPECT_EQ(run(d, DISK_WRITE_ZEROES, 12, 2, NULL), 0);
	memset(want + 9 * DISK_SECTOR_SIZE, 0, DISK_SECTOR_SIZE);
	memset(want + 12 * DISK_SECTOR_SIZE, 0, 2 * DISK_SECTOR_SIZE);
	EXPECT_MEMEQ(buf, want, sizeof(buf));
}

TEST(ramdisk, read_only_refuses_every_change)
{
	struct ramdisk rd;
	struct disk *d = make(&rd, true);
	uint8_t io[DISK_SECTOR_SIZE];

	ASSERT_TRUE(d);
	memset(io, 0x55, sizeof(io));
	EXPECT_EQ(run(d, DISK_WRITE, 0, 1, io), -EROFS);
	EXPECT_EQ(run(d, DISK_DISCARD, 0, 1, NULL), -EROFS);
	EXPECT_EQ(run(d, DISK_WRITE_ZEROES, 0, 1, NULL), -EROFS);
	EXPECT_EQ(run(d, DISK_READ, 0, 1, io), 0);
	EXPECT_MEMEQ(io, want, sizeof(io));
	EXPECT_EQ(run(d, DISK_FLUSH, 0, 0, NULL), 0);
	EXPECT_MEMEQ(buf, want, sizeof(buf));
}

TEST(ramdisk, a_buffer_that_fails_fails_the_request)
{
	struct ramdisk rd;
	struct disk *d = make(&rd, false);
	uint8_t io[DISK_SECTOR_SIZE];
	struct disk_io bad = {
	    .req = {.op = DISK_WRITE,
	            .sector = 0,
	            .count = 2,
	            .buf = &disk_io_ops,
	            .done = disk_io_done},
	    .data = io,
	    .len = sizeof(io), /* one sector of the two asked for */
	    .rc = 1,
	};

	ASSERT_TRUE(d);
	disk_submit(d, &bad.req);
	EXPECT_EQ(bad.done_count, 1);
	EXPECT_EQ(bad.rc, -EFAULT);
	bad.req.op = DISK_READ;
	bad.done_count = 0;
	disk_submit(d, &bad.req);
	EXPECT_EQ(bad.done_count, 1);
	EXPECT_EQ(bad.rc, -EFAULT);
}

static uint64_t fake_now;

static uint64_t clock_now(void)
{
	return fake_now;
}

TEST(ramdisk, latency_holds_requests_until_due)
{
	struct ramdisk rd;
	struct disk *d = make(&rd, false);
	uint8_t a[DISK_SECTOR_SIZE], b[DISK_SECTOR_SIZE];
	struct disk_io ra = {
	    .req = {.op = DISK_READ,
	            .sector = 1,
	            .count = 1,
	            .buf = &disk_io_ops,
	            .done = disk_io_done},
	    .data = a,
	    .len = sizeof(a),
	};
	struct disk_io wb = {
	    .req = {.op = DISK_WRITE,
	            .sector = 2,
	            .count = 1,
	            .buf = &disk_io_ops,
	            .done = disk_io_done},
	    .data = b,
	    .len = sizeof(b),
	};

	ASSERT_TRUE(d);
	EXPECT_EQ(ramdisk_set_latency(&rd, 500000, clock_now), 0);
	fake_now = 1000;
	memset(a, 0, sizeof(a));
	disk_submit(d, &ra.req);
	fake_now = 2000;
	memset(b, 0x77, sizeof(b));
	disk_submit(d, &wb.req);
	/* Held: no data moved, the due time is the oldest's. */
	EXPECT_EQ(ra.done_count + wb.done_count, 0);
	EXPECT_EQ(disk_due(d), 501000);
	fake_now = 500999;
	EXPECT_EQ(disk_poll(d), 2);
	EXPECT_EQ(ra.done_count, 0);
	EXPECT_MEMEQ(buf, want, sizeof(buf));
	/* Data moves when the request is served, not when it was submitted. */
	memset(want + 1 * DISK_SECTOR_SIZE, 0x11, DISK_SECTOR_SIZE);
	memcpy(buf + 1 * DISK_SECTOR_SIZE, want + 1 * DISK_SECTOR_SIZE, DISK_SECTOR_SIZE);
	fake_now = 501000;
	EXPECT_EQ(disk_poll(d), 1);
	EXPECT_EQ(ra.done_count, 1);
	EXPECT_EQ(ra.rc, 0);
	EXPECT_MEMEQ(a, want + DISK_SECTOR_SIZE, sizeof(a));
	EXPECT_EQ(wb.done_count, 0);
	EXPECT_EQ(disk_due(d), 502000);
	fake_now = 10000000;
	EXPECT_EQ(disk_poll(d), 0);
	EXPECT_EQ(wb.done_count, 1);
	EXPECT_EQ(wb.rc, 0);
	memset(want + 2 * DISK_SECTOR_SIZE, 0x77, DISK_SECTOR_SIZE);
	EXPECT_MEMEQ(buf, want, sizeof(buf));
	EXPECT_EQ(disk_due(d), DISK_DUE_NEVER);
}

/* A done() that submits again (vblk's next discard segment) gets a latency of its own. */
static struct ramdisk chain_rd;
static unsigned int chain_left;

static void chain_done(struct disk_req *req, int rc)
{
	disk_io_done(req, rc);
	if (rc == 0 && chain_left && chain_left--) {
		req->sector++;
		disk_submit(&chain_rd.disk, req);
	}
}

TEST(ramdisk, latency_applies_to_what_done_submits)
{
	struct disk *d = make(&chain_rd, false);
	struct disk_io z = {
	    .req = {.op = DISK_DISCARD, .sector = 0, .count = 1, .done = chain_done},
	};

	ASSERT_TRUE(d);
	EXPECT_EQ(ramdisk_set_latency(&chain_rd, 1000, clock_now), 0);
	fake_now = 0;
	chain_left = 2;
	disk_submit(d, &z.req);
	fake_now = 1000;
	EXPECT_EQ(disk_poll(d), 1); /* the first served, the second held */
	EXPECT_EQ(z.done_count, 1);
	EXPECT_EQ(disk_due(d), 2000);
	fake_now = 5000;
	EXPECT_EQ(disk_poll(d), 1); /* one a poll: each was submitted at the poll before */
	fake_now = 6000;
	EXPECT_EQ(disk_poll(d), 0);
	EXPECT_EQ(z.done_count, 3);
	memset(want, 0, 3 * DISK_SECTOR_SIZE);
	EXPECT_MEMEQ(buf, want, sizeof(buf));
}

TEST(ramdisk, latency_is_bounded_and_needs_a_clock)
{
	struct ramdisk rd;

	ASSERT_TRUE(make(&rd, false));
	EXPECT_EQ(ramdisk_set_latency(&rd, RAMDISK_LATENCY_MAX_NS + 1, clock_now), -EINVAL);
	EXPECT_EQ(ramdisk_set_latency(&rd, 1000, NULL), -EINVAL);
	EXPECT_EQ(ramdisk_set_latency(&rd, RAMDISK_LATENCY_MAX_NS, clock_now), 0);
	EXPECT_EQ(ramdisk_set_latency(&rd, 0, NULL), 0);
	/* A range: the same bound on its longer end, and from the shorter time to the longer. */
	EXPECT_EQ(ramdisk_set_latency_range(&rd, 0, RAMDISK_LATENCY_MAX_NS + 1, clock_now),
	          -EINVAL);
	EXPECT_EQ(ramdisk_set_latency_range(&rd, 2000, 1999, clock_now), -EINVAL);
	EXPECT_EQ(ramdisk_set_latency_range(&rd, 1, 0, clock_now), -EINVAL);
	EXPECT_EQ(ramdisk_set_latency_range(&rd, 0, 1, NULL), -EINVAL);
	EXPECT_EQ(ramdisk_set_latency_range(&rd, 0, RAMDISK_LATENCY_MAX_NS, clock_now), 0);
	EXPECT_EQ(ramdisk_set_latency_range(&rd, 1000, 1000, clock_now), 0);
	EXPECT_EQ(ramdisk_set_latency_range(&rd, 0, 0, NULL), 0);
}

/* Requests of a latency test, each reading its own sector, and the order done() came in. */
#define RANGE_REQS 8

static struct disk_io range_io[RANGE_REQS];
static uint8_t range_data[RANGE_REQS][DISK_SECTOR_SIZE];
static unsigned int served[RANGE_REQS], served_count;
static uint64_t served_at[RANGE_REQS];

static void range_done(struct disk_req *req, int rc)
{
	unsigned int i = (unsigned int)((struct disk_io *)req - range_io);

	disk_io_done(req, rc);
	served_at[i] = fake_now;
	if (served_count < RANGE_REQS)
		served[served_count] = i;
	served_count++;
}

/* Submits range_io[i], a read of sector i, at time `at`. */
static void range_submit(struct disk *d, unsigned int i, uint64_t at)
{
	disk_io_init(&range_io[i], DISK_READ, i, 1, range_data[i]);
	range_io[i].req.done = range_done;
	fake_now = at;
	disk_submit(d, &range_io[i].req);
}

/* The earliest due time of the requests not served yet (DISK_DUE_NEVER: none). */
static uint64_t earliest_due(unsigned int count)
{
	uint64_t due = DISK_DUE_NEVER;

	for (unsigned int i = 0; i < count; i++)
		if (range_io[i].done_count == 0 && range_io[i].req.due_ns < due)
			due = range_io[i].req.due_ns;
	return due;
}

TEST(ramdisk, a_latency_range_serves_first_due_first)
{
	const uint64_t min = 1000, max = 100000;
	struct ramdisk rd;
	struct disk *d = make(&rd, false);
	uint64_t submitted[RANGE_REQS], due[RANGE_REQS];
	unsigned int inversions = 0, moved = 0, polls = 0;

	ASSERT_TRUE(d);
	ASSERT_EQ(ramdisk_set_latency_range(&rd, min, max, clock_now), 0);
	served_count = 0;
	for (unsigned int i = 0; i < RANGE_REQS; i++) {
		submitted[i] = 5000 + 10 * i;
		range_submit(d, i, submitted[i]);
		due[i] = range_io[i].req.due_ns;
		EXPECT_GE(due[i], submitted[i] + min);
		EXPECT_LE(due[i], submitted[i] + max);
		EXPECT_EQ(disk_due(d), earliest_due(i + 1));
	}
	EXPECT_EQ(range_io[0].done_count, 0); /* all held */
	/* Submitted in order, due out of it: the range spread them. */
	for (unsigned int i = 0; i + 1 < RANGE_REQS; i++)
		inversions += due[i] > due[i + 1];
	EXPECT_GT(inversions, 0);

	while (disk_due(d) != DISK_DUE_NEVER && polls++ < 2 * RANGE_REQS) {
		uint64_t next = disk_due(d);
		unsigned int before = served_count;

		EXPECT_EQ(next, earliest_due(RANGE_REQS));
		fake_now = next - 1; /* none early */
		disk_poll(d);
		EXPECT_EQ(served_count, before);
		fake_now = next;
		disk_poll(d);
		EXPECT_GT(served_count, before);
	}
	ASSERT_EQ(served_count, RANGE_REQS);
	for (unsigned int k = 0; k < RANGE_REQS; k++) {
		unsigned int i = served[k];

		EXPECT_EQ(range_io[i].done_count, 1);
		EXPECT_EQ(range_io[i].rc, 0);
		EXPECT_MEMEQ(range_data[i], want + i * DISK_SECTOR_SIZE, DISK_SECTOR_SIZE);
		/* Served when due: not before MIN, not after MAX. */
		EXPECT_EQ(served_at[i], due[i]);
		EXPECT_LE(served_at[i], submitted[i] + max);
		/* In due order, equal dues in submission order. */
		if (k > 0)
			EXPECT_TRUE(due[served[k - 1]] < due[i] ||
			            (due[served[k - 1]] == due[i] && served[k - 1] < i));
	}
	for (unsigned int k = 0; k < RANGE_REQS; k++)
		moved += served[k] != k;
	EXPECT_GT(moved, 0); /* not in submission order */
	/* The same draws on every init: a rig run repeats. */
	ASSERT_TRUE(make(&rd, false));
	ASSERT_EQ(ramdisk_set_latency_range(&rd, min, max, clock_now), 0);
	for (unsigned int i = 0; i < RANGE_REQS; i++) {
		range_submit(d, i, submitted[i]);
		EXPECT_EQ(range_io[i].req.due_ns, due[i]);
	}
	fake_now = submitted[RANGE_REQS - 1] + max;
	EXPECT_EQ(disk_poll(d), 0);
}

/* Each end of a range is drawn, nothing outside it; a range from 0 still holds requests. */
TEST(ramdisk, a_narrow_range_reaches_both_ends_and_no_further)
{
	struct ramdisk rd;
	struct disk *d = make(&rd, false);
	struct disk_io io[16];
	unsigned int at_min = 0, at_max = 0, outside = 0, done = 0;

	ASSERT_TRUE(d);
	ASSERT_EQ(ramdisk_set_latency_range(&rd, 1000, 1001, clock_now), 0);
	fake_now = 0;
	for (unsigned int i = 0; i < 16; i++) {
		disk_io_init(&io[i], DISK_FLUSH, 0, 0, NULL);
		disk_submit(d, &io[i].req);
		at_min += io[i].req.due_ns == 1000;
		at_max += io[i].req.due_ns == 1001;
	}
	EXPECT_GT(at_min, 0);
	EXPECT_GT(at_max, 0);
	EXPECT_EQ(at_min + at_max, 16);
	fake_now = 1001;
	EXPECT_EQ(disk_poll(d), 0);

	ASSERT_EQ(ramdisk_set_latency_range(&rd, 0, 1, clock_now), 0);
	fake_now = 5000;
	for (unsigned int i = 0; i < 16; i++) {
		disk_io_init(&io[i], DISK_FLUSH, 0, 0, NULL);
		disk_submit(d, &io[i].req);
		outside += io[i].req.due_ns != 5000 && io[i].req.due_ns != 5001;
		done += io[i].done_count;
	}
	EXPECT_EQ(outside, 0);
	EXPECT_EQ(done, 0); /* held even when due at once: served by the next poll */
	EXPECT_TRUE(disk_poll(d) < 16);
	fake_now = 5001;
	EXPECT_EQ(disk_poll(d), 0);
}

TEST(ramdisk, one_latency_serves_in_submission_order)
{
	struct ramdisk rd;
	struct disk *d = make(&rd, false);

	ASSERT_TRUE(d);
	ASSERT_EQ(ramdisk_set_latency_range(&rd, 3000, 3000, clock_now), 0);
	served_count = 0;
	for (unsigned int i = 0; i < RANGE_REQS; i++)
		range_submit(d, i, 100 * (i / 2)); /* two at each time: equal dues */
	EXPECT_EQ(disk_due(d), 3000);
	fake_now = 3000 + 100 * (RANGE_REQS / 2);
	EXPECT_EQ(disk_poll(d), 0);
	ASSERT_EQ(served_count, RANGE_REQS);
	for (unsigned int k = 0; k < RANGE_REQS; k++)
		EXPECT_EQ(served[k], k);
}

/* A request due as early as one already held, but behind a later one, goes after the first. */
TEST(ramdisk, equal_dues_keep_submission_order_inside_the_queue)
{
	struct ramdisk rd;
	struct disk *d = make(&rd, false);

	ASSERT_TRUE(d);
	served_count = 0;
	ASSERT_EQ(ramdisk_set_latency(&rd, 5000, clock_now), 0);
	range_submit(d, 0, 0); /* due 5000 */
	ASSERT_EQ(ramdisk_set_latency(&rd, 1000, clock_now), 0);
	range_submit(d, 1, 0); /* due 1000: first */
	range_submit(d, 2, 0); /* due 1000: after 1, before 0 */
	ASSERT_EQ(ramdisk_set_latency(&rd, 3000, clock_now), 0);
	range_submit(d, 3, 0); /* due 3000: between */
	EXPECT_EQ(disk_due(d), 1000);
	fake_now = 1000;
	EXPECT_EQ(disk_poll(d), 2);
	EXPECT_EQ(disk_due(d), 3000);
	fake_now = 5000;
	EXPECT_EQ(disk_poll(d), 0);
	ASSERT_EQ(served_count, 4);
	EXPECT_EQ(served[0], 1);
	EXPECT_EQ(served[1], 2);
	EXPECT_EQ(served[2], 3);
	EXPECT_EQ(served[3], 0);
}
