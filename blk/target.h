/*
 * What a disk's xenstore `params` (xl's target=) names. Today "ram:SIZE", optionally
 * ",latency=TIME" (a RAM disk standing in for a slow medium); the syntax leaves room for
 * "mmc:..." later.
 */
#ifndef BLK_TARGET_H
#define BLK_TARGET_H

#include <stdint.h>

/** Kinds of disk a target can name. */
enum target_kind {
	TARGET_RAM,
};

/** A parsed target. */
struct target {
	enum target_kind kind;
	uint64_t size;       /* bytes, a multiple of 512 */
	uint64_t latency_ns; /* each request is served this long after it arrives (0: at once) */
};

/** Longest latency= accepted (10 s, RAMDISK_LATENCY_MAX_NS). */
#define TARGET_LATENCY_MAX_NS 10000000000ull

/** Largest RAM disk accepted, whatever memory the domain has (1 TiB). */
#define TARGET_RAM_MAX (1ull << 40)

/**
 * Parses "ram:SIZE" (SIZE in bytes, or with a K, M or G suffix, binary units; a multiple of
 * 512 bytes, at least 512), optionally followed by ",latency=TIME" (a number with ns, us,
 * ms or s, at most 10 s: QEMU's null-co latency-ns, for testing and measuring). Returns 0, or
 * -EINVAL with a reason in *why.
 */
int target_parse(const char *params, struct target *out, const char **why);

#endif
