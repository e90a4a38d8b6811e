/*
 * What a disk's xenstore `params` (xl's target=) names: "ram:SIZE", optionally
 * ",latency=TIME" or ",latency=MIN-MAX" (a RAM disk standing in for a slow medium; a range
 * completes requests out of order), or "mmc:CARD" (a whole SD card) and "mmc:CARD:PART"
 * (one partition of its GPT or MBR).
 */
#ifndef BLK_TARGET_H
#define BLK_TARGET_H

#include <stdint.h>

/** Kinds of disk a target can name. */
enum target_kind {
	TARGET_RAM,
	TARGET_MMC,
};

/** A parsed target. */
struct target {
	enum target_kind kind;
	uint64_t size;           /* RAM: bytes, a multiple of 512 */
	uint64_t latency_min_ns; /* RAM: each request is served at least this long after arriving */
	uint64_t latency_max_ns; /* RAM: and at most this long (0: at once; no range: the same) */
	unsigned int card;       /* MMC: which card, in the order vdisk found them (0 first) */
	unsigned int part;       /* MMC: partition number, 0 for the whole card */
};

/** Highest card number accepted in "mmc:CARD". */
#define TARGET_MMC_CARD_MAX 7u
/** Highest partition number accepted in "mmc:CARD:PART" (PART_MAX). */
#define TARGET_MMC_PART_MAX 128u

/** Longest latency= accepted (60 s, RAMDISK_LATENCY_MAX_NS). */
#define TARGET_LATENCY_MAX_NS 60000000000ull

/** Largest RAM disk accepted, whatever memory the domain has (1 TiB). */
#define TARGET_RAM_MAX (1ull << 40)

/**
 * Parses "ram:SIZE" (SIZE in bytes, or with a K, M or G suffix, binary units; a multiple of
 * 512 bytes, at least 512), optionally followed by ",latency=TIME" (a number with ns, us,
 * ms or s, at most 60 s: QEMU's null-co latency-ns, for testing and measuring) or
 * ",latency=MIN-MAX" (two TIMEs, MIN <= MAX: each request a pseudo-random time between).
 * Returns 0, or -EINVAL with a reason in *why.
 */
int target_parse(const char *params, struct target *out, const char **why);

/* "mmc:CARD[:PART]" is parsed by target_parse too: CARD 0..7, PART 1..128 (decimal). */

#endif
