/* blk/ramdisk.c: reads, writes, zeroing, range checks without overflow, read-only. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "blk/disk.h"
#include "blk/ramdisk.h"
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

TEST(ramdisk, init_checks_size_and_buffer)
{
	struct ramdisk rd;

	EXPECT_EQ(ramdisk_init(&rd, buf, sizeof(buf), false), 0);
	EXPECT_EQ(rd.disk.sector_count, SECTORS);
	EXPECT_FALSE(rd.disk.read_only);
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
	EXPECT_EQ(d->ops->read(d, 3, 2, io), 0);
	EXPECT_MEMEQ(io, want + 3 * DISK_SECTOR_SIZE, sizeof(io));

	memset(io, 0xab, sizeof(io));
	EXPECT_EQ(d->ops->write(d, SECTORS - 2, 2, io), 0);
	memset(want + (SECTORS - 2) * DISK_SECTOR_SIZE, 0xab, sizeof(io));
	EXPECT_MEMEQ(buf, want, sizeof(buf));
	EXPECT_EQ(d->ops->flush(d), 0);
	/* Zero sectors at the very end is in range. */
	EXPECT_EQ(d->ops->read(d, SECTORS, 0, io), 0);
}

TEST(ramdisk, out_of_range_is_refused_without_overflow)
{
	struct ramdisk rd;
	struct disk *d = make(&rd, false);
	uint8_t io[DISK_SECTOR_SIZE] = {0};

	ASSERT_TRUE(d);
	EXPECT_EQ(d->ops->read(d, SECTORS, 1, io), -ERANGE);
	EXPECT_EQ(d->ops->read(d, SECTORS - 1, 2, io), -ERANGE);
	EXPECT_EQ(d->ops->read(d, SECTORS + 1, 0, io), -ERANGE);
	EXPECT_EQ(d->ops->write(d, UINT64_MAX, 1, io), -ERANGE);
	/* sector + count wraps to a small number: still refused. */
	EXPECT_EQ(d->ops->write(d, UINT64_MAX - 1, 3, io), -ERANGE);
	EXPECT_EQ(d->ops->discard(d, 1, UINT32_MAX), -ERANGE);
	EXPECT_EQ(d->ops->write_zeroes(d, UINT64_MAX, 2, false), -ERANGE);
	EXPECT_MEMEQ(buf, want, sizeof(buf));
	EXPECT_FALSE(disk_range_ok(d, UINT64_MAX - 1, 3));
	EXPECT_TRUE(disk_range_ok(d, 0, SECTORS));
}

TEST(ramdisk, discard_and_write_zeroes_zero_only_their_range)
{
	struct ramdisk rd;
	struct disk *d = make(&rd, false);

	ASSERT_TRUE(d);
	EXPECT_EQ(d->ops->discard(d, 2, 3), 0);
	memset(want + 2 * DISK_SECTOR_SIZE, 0, 3 * DISK_SECTOR_SIZE);
	EXPECT_MEMEQ(buf, want, sizeof(buf));
	EXPECT_EQ(d->ops->write_zeroes(d, 9, 1, true), 0);
	EXPECT_EQ(d->ops->write_zeroes(d, 12, 2, false), 0);
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
	EXPECT_EQ(d->ops->write(d, 0, 1, io), -EROFS);
	EXPECT_EQ(d->ops->discard(d, 0, 1), -EROFS);
	EXPECT_EQ(d->ops->write_zeroes(d, 0, 1, false), -EROFS);
	EXPECT_EQ(d->ops->read(d, 0, 1, io), 0);
	EXPECT_MEMEQ(io, want, sizeof(io));
	EXPECT_EQ(d->ops->flush(d), 0);
	EXPECT_MEMEQ(buf, want, sizeof(buf));
}
