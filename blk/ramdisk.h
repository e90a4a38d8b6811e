/* A RAM disk over a buffer the caller owns, behind struct disk_ops (blk/disk.h). */
#ifndef BLK_RAMDISK_H
#define BLK_RAMDISK_H

#include <stdbool.h>
#include <stdint.h>

#include "blk/disk.h"

/** A RAM disk; hand &rd->disk to a device (virtio 1.2 §5.2). */
struct ramdisk {
	struct disk disk; /* first, so the ops can find the ramdisk */
	uint8_t *data;
};

/**
 * Serves `size` bytes at `buf` as a disk (virtio 1.2 §5.2.4 capacity in sectors), read-only
 * if asked; returns 0, or -EINVAL for a NULL buffer or a size that is not whole sectors.
 */
int ramdisk_init(struct ramdisk *rd, void *buf, uint64_t size, bool read_only);

#endif
