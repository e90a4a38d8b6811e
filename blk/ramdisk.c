/*
 * RAM disk: sectors are bytes of a caller-given buffer. Every op checks its range against
 * the size without overflow, and changes to a read-only disk fail with -EROFS. Discard and
 * write-zeroes both zero the range, so reads after either return zeroes (virtio 1.2
 * §5.2.6.2).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "blk/disk.h"
#include "blk/ramdisk.h"

static struct ramdisk *to_ramdisk(struct disk *disk)
{
	return (struct ramdisk *)disk;
}

static uint8_t *at(struct disk *disk, uint64_t sector)
{
	return to_ramdisk(disk)->data + sector * DISK_SECTOR_SIZE;
}

static int check(const struct disk *disk, uint64_t sector, uint32_t count, bool change)
{
	if (!disk_range_ok(disk, sector, count))
		return -ERANGE;
	if (change && disk->read_only)
		return -EROFS;
	return 0;
}

static int ramdisk_read(struct disk *disk, uint64_t sector, uint32_t count, void *buf)
{
	int rc = check(disk, sector, count, false);

	if (rc)
		return rc;
	memcpy(buf, at(disk, sector), (size_t)count * DISK_SECTOR_SIZE);
	return 0;
}

static int ramdisk_write(struct disk *disk, uint64_t sector, uint32_t count, const void *buf)
{
	int rc = check(disk, sector, count, true);

	if (rc)
		return rc;
	memcpy(at(disk, sector), buf, (size_t)count * DISK_SECTOR_SIZE);
	return 0;
}

static int ramdisk_flush(struct disk *disk)
{
	return 0; /* nothing is cached */
}

static int ramdisk_zero(struct disk *disk, uint64_t sector, uint32_t count)
{
	int rc = check(disk, sector, count, true);

	if (rc)
		return rc;
	memset(at(disk, sector), 0, (size_t)count * DISK_SECTOR_SIZE);
	return 0;
}

static int ramdisk_discard(struct disk *disk, uint64_t sector, uint32_t count)
{
	return ramdisk_zero(disk, sector, count);
}

static int ramdisk_write_zeroes(struct disk *disk, uint64_t sector, uint32_t count, bool unmap)
{
	return ramdisk_zero(disk, sector, count);
}

static const struct disk_ops ramdisk_ops = {
    .read = ramdisk_read,
    .write = ramdisk_write,
    .flush = ramdisk_flush,
    .discard = ramdisk_discard,
    .write_zeroes = ramdisk_write_zeroes,
};

int ramdisk_init(struct ramdisk *rd, void *buf, uint64_t size, bool read_only)
{
	if (!buf || size % DISK_SECTOR_SIZE)
		return -EINVAL;
	rd->disk.ops = &ramdisk_ops;
	rd->disk.sector_count = size / DISK_SECTOR_SIZE;
	rd->disk.read_only = read_only;
	rd->data = buf;
	return 0;
}
