/*
 * blk/ramdisk.c: reads, writes, zeroing, range checks without overflow, read-only, and the
 * latency that holds requests until a poll finds them due.
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
}
