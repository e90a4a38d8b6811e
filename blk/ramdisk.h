/*
 * A RAM disk over a buffer the caller owns, behind struct disk_ops (blk/disk.h). It can also
 * stand in for a slow medium: with a latency, each request is held that long before it is
 * served, from disk_poll, so that requests stay in flight across a guest's notifies.
 */
#ifndef BLK_RAMDISK_H
#define BLK_RAMDISK_H

#include <stdbool.h>
#include <stdint.h>

#include "blk/disk.h"

/** A RAM disk; hand &rd->disk to a device (virtio 1.2 §5.2). */
struct ramdisk {
	struct disk disk; /* first, so the ops can find the ramdisk */
	uint8_t *data;
	uint64_t latency_ns;
	uint64_t (*now)(void);         /* the clock latency is counted on */
	struct disk_queue held;        /* held for their latency, oldest first */
};

/** Longest latency a RAM disk takes (60 s). */
#define RAMDISK_LATENCY_MAX_NS 60000000000ull

/**
 * Serves `size` bytes at `buf` as a disk (virtio 1.2 §5.2.4 capacity in sectors), read-only
 * if asked; returns 0, or -EINVAL for a NULL buffer or a size that is not whole sectors.
 */
int ramdisk_init(struct ramdisk *rd, void *buf, uint64_t size, bool read_only);

/**
 * Serves each request latency_ns (at most RAMDISK_LATENCY_MAX_NS) after its submission, on
 * the clock `now`, from disk_poll; 0 serves inside submit again. Requests already held keep
 * their time. Returns 0, or -EINVAL for a latency too long or without a clock.
 */
int ramdisk_set_latency(struct ramdisk *rd, uint64_t latency_ns, uint64_t (*now)(void));

#endif
