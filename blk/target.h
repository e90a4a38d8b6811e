/*
 * What a disk's xenstore `params` (xl's target=) names. Today "ram:SIZE"; the syntax
 * leaves room for "mmc:..." later.
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
	uint64_t size; /* bytes, a multiple of 512 */
};

/** Largest RAM disk accepted, whatever memory the domain has (1 TiB). */
#define TARGET_RAM_MAX (1ull << 40)

/**
 * Parses "ram:SIZE" (SIZE in bytes, or with a K, M or G suffix, binary units; a multiple of
 * 512 bytes, at least 512). Returns 0, or -EINVAL with a reason in *why.
 */
int target_parse(const char *params, struct target *out, const char **why);

#endif
