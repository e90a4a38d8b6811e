/*
 * Partition tables, read from a disk's first (and, for GPT's backup, last) sectors: GPT (UEFI
 * 2.10 §5.3), else MBR (primary partitions 1-4, logical ones from 5 in the extended
 * partition's chain), numbered as Linux numbers them (GPT: the entry's index + 1). Every
 * field is checked before use; a table that does not hold together is refused with a
 * reason, never half-believed.
 */
#ifndef BLK_PART_H
#define BLK_PART_H

#include <stdint.h>

/** Reads 512-byte sector `sector` into buf; 0 or -errno. */
typedef int (*part_read_fn)(void *ctx, uint64_t sector, void *buf);

/** A partition: sectors [first, first + count) of the disk. */
struct part {
	uint64_t first;
	uint64_t count;
};

/** Highest partition number looked for (GPT's usual 128 entries; MBR logicals too). */
#define PART_MAX 128u

/**
 * Finds partition `number` (1..PART_MAX) on a disk of `sector_count` sectors. Returns 0 with
 * *out filled, -ENOENT when the table has no such partition (or there is no table), -EINVAL
 * for a table that is corrupt (reason in *why), or the read's error.
 */
int part_find(part_read_fn read, void *ctx, uint64_t sector_count, unsigned int number,
              struct part *out, const char **why);

/** CRC-32 (IEEE 802.3, as GPT uses) of len bytes, continuing from crc (0 to start). */
uint32_t part_crc32(uint32_t crc, const void *buf, uint32_t len);

#endif
