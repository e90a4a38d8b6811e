/*
 * vdisk's activity counters as dom0 reads them (data/vdisk/stats, boot/diag.c): hypercalls by
 * number, IOREQs answered and virtio-blk requests completed since boot, and where vdisk's time
 * went (so that a benchmark can tell vdisk's own share from the exits').
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
	uint64_t yield_count; /* the loop gave the CPU away: deferred notify, idle after IOREQ */
	uint64_t ioreq_ns;    /* time from reading an IOREQ to answering it, summed */
	uint64_t idle_ns;     /* time asleep in WFI or yielded, summed */
	uint64_t now_ns;      /* the clock these are read on (arch_timer_now_ns) */
	uint64_t mapped;      /* guest pages mapped now (gmem_mapped_count) */
	uint64_t frames_free; /* of vdisk's frames for mappings (frames_free_count) */
	uint64_t out_of_order; /* requests the disks gave back before an older one */
};

/**
 * Writes `s` as "hypercalls=TOTAL ioreqs=N requests=N yields=N ioreq_ns=N idle_ns=N
 * now_ns=N mapped=N frames_free=N out_of_order=N" followed by "hc_NAME=N" for each
 * hypercall number called at least once (NAME from public/xen.h, e.g. hc_event_channel_op, or
 * the number for others), NUL-terminated. Returns the length, or -ENOSPC when `size` is too
 * small (buf then holds the whole fields that fitted).
 */
int stats_format(const struct stats *s, char *buf, size_t size);

#endif
