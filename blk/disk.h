/*
 * A block device backend behind one const ops table (RAM disk now, MMC later), in
 * 512-byte sectors, the unit of virtio-blk (virtio 1.2 §5.2.4). Callers check ranges with
 * disk_range_ok before calling; every backend checks them again.
 */
#ifndef BLK_DISK_H
#define BLK_DISK_H

#include <stdbool.h>
#include <stdint.h>

/** Bytes per sector in every disk_ops call (virtio 1.2 §5.2.4: capacity is in 512-byte units). */
#define DISK_SECTOR_SIZE 512u

struct disk;

/**
 * What a backend does for virtio-blk requests (virtio 1.2 §5.2.6); each op returns 0, -ERANGE
 * outside the disk, -EROFS for a change to a read-only disk, or -EIO.
 */
struct disk_ops {
	/*
	 * Calls cover `count` sectors from `sector`; buf holds count * DISK_SECTOR_SIZE bytes.
	 * After write_zeroes reads return zeroes; `unmap` allows deallocating them (§5.2.6.2).
	 */
	int (*read)(struct disk *disk, uint64_t sector, uint32_t count, void *buf);
	int (*write)(struct disk *disk, uint64_t sector, uint32_t count, const void *buf);
	int (*flush)(struct disk *disk);
	int (*discard)(struct disk *disk, uint64_t sector, uint32_t count);
	int (*write_zeroes)(struct disk *disk, uint64_t sector, uint32_t count, bool unmap);
};

/** A disk: its ops, its size in sectors (virtio 1.2 §5.2.4 capacity) and whether it is read-only.
 */
struct disk {
	const struct disk_ops *ops;
	uint64_t sector_count;
	bool read_only;
};

/** Whether sectors [sector, sector + count) are on the disk (virtio 1.2 §5.2.6.1), without
 * overflow. */
static inline bool disk_range_ok(const struct disk *disk, uint64_t sector, uint64_t count)
{
	return count <= disk->sector_count && sector <= disk->sector_count - count;
}

#endif
