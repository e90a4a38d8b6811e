/*
 * A RAM disk over a buffer the caller owns, behind struct disk_ops (blk/disk.h). It can also
 * stand in for a slow medium: with a latency, each request is held that long before it is
 * served, from disk_poll, so that requests stay in flight across a guest's notifies; with a
 * latency range, each is held a pseudo-random time in it, so that they complete out of order.
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
	uint64_t latency_min_ns;
	uint64_t latency_max_ns; /* 0: every request is served inside submit */
	uint64_t rand;           /* xorshift64 state: the same times in every run */
	uint64_t (*now)(void);   /* the clock latency is counted on */
	struct disk_queue held;  /* held for their latency, first due first */
};

/** Longest latency a RAM disk takes (60 s). */
#define RAMDISK_LATENCY_MAX_NS 60000000000ull

/**
 * Serves `size` bytes at `buf` as a disk (virtio 1.2 §5.2.4 capacity in sectors), read-only
 * if asked; returns 0, or -EINVAL for a NULL buffer or a size that is not whole sectors.
 */
int ramdisk_init(struct ramdisk *rd, void *buf, uint64_t size, bool read_only);

/**
 * Serves each request a pseudo-random time from min_ns to max_ns (at most
 * RAMDISK_LATENCY_MAX_NS) after its submission, on the clock `now`, from disk_poll; max_ns 0
 * serves inside submit again. Requests already held keep their time. Returns 0, or -EINVAL
 * for a latency too long, min_ns over max_ns, or a latency without a clock.
 */
int ramdisk_set_latency_range(struct ramdisk *rd, uint64_t min_ns, uint64_t max_ns,
                              uint64_t (*now)(void));

/** ramdisk_set_latency_range with one latency for every request (they complete in order). */
static inline int ramdisk_set_latency(struct ramdisk *rd, uint64_t latency_ns,
                                      uint64_t (*now)(void))
{
	return ramdisk_set_latency_range(rd, latency_ns, latency_ns, now);
}

#endif
