/*
 * vdisk's activity counters as dom0 reads them (data/vdisk/stats, boot/diag.c): hypercalls by
 * number, IOREQs answered and virtio-blk requests completed since boot.
 */
#ifndef BOOT_STATS_H
#define BOOT_STATS_H

#include <stddef.h>
#include <stdint.h>

/** Hypercall numbers below this are counted (the size of arch hypercall_counts). */
#define STATS_HYPERCALL_NR_MAX 64

/** A snapshot of the counters. */
struct stats {
	uint64_t hypercall_counts[STATS_HYPERCALL_NR_MAX]; /* by hypercall number */
	uint64_t ioreq_count;
	uint64_t request_count;
};

/**
 * Writes `s` as "hypercalls=TOTAL ioreqs=N requests=N" followed by "hc_NAME=N" for each
 * hypercall number called at least once (NAME from public/xen.h, e.g. hc_event_channel_op, or
 * the number for others), NUL-terminated. Returns the length, or -ENOSPC when `size` is too
 * small (buf then holds the whole fields that fitted).
 */
int stats_format(const struct stats *s, char *buf, size_t size);

#endif
