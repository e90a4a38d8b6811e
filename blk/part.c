/* GPT and MBR partition tables (see part.h). UEFI = UEFI Specification 2.10. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "blk/part.h"

#define SECTOR 512u
/* The most sectors of GPT entries read (UEFI §5.3.2 asks for at least 16 KiB; 1 MiB is plenty). */
#define GPT_ENTRY_SECTORS_MAX 2048u
/* Logical partitions followed in an extended partition's chain, at most. */
#define MBR_LOGICAL_MAX (PART_MAX - 4u)

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

uint32_t part_crc32(uint32_t crc, const void *buf, uint32_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (unsigned int i = 0; i < 8; i++)
			crc = crc >> 1 ^ (0xedb88320u & -(crc & 1u));
	}
	return ~crc;
}

/* ---- GPT (UEFI §5.3) ---- */

struct gpt {
	uint64_t entries_lba;
	uint32_t entry_count;
	uint32_t entry_size;
	uint32_t entries_crc;
	uint64_t first_usable, last_usable;
};

/* Checks the header at `lba` (UEFI §5.3.2); 0, -ENOENT (no signature) or -EINVAL. */
static int gpt_header(part_read_fn read, void *ctx, uint64_t sector_count, uint64_t lba,
                      struct gpt *g, const char **why)
{
	uint8_t h[SECTOR];
	uint32_t size, crc;
	int rc = read(ctx, lba, h);

	if (rc)
		return rc;
	if (memcmp(h, "EFI PART", 8) != 0)
		return -ENOENT;
	size = le32(h + 12);
	if (size < 92 || size > SECTOR) {
		*why = "GPT header size is not 92 to 512 bytes";
		return -EINVAL;
	}
	crc = le32(h + 16);
	memset(h + 16, 0, 4);
	if (part_crc32(0, h, size) != crc) {
		*why = "GPT header CRC does not match";
		return -EINVAL;
	}
	g->first_usable = le64(h + 40);
	g->last_usable = le64(h + 48);
	g->entries_lba = le64(h + 72);
	g->entry_count = le32(h + 80);
	g->entry_size = le32(h + 84);
	g->entries_crc = le32(h + 88);
	if (le64(h + 24) != lba) {
		*why = "GPT header is not where it says it is (MyLBA)";
		return -EINVAL;
	}
	if (g->entry_size < 128 || g->entry_size > SECTOR || g->entry_size & (g->entry_size - 1)) {
		*why = "GPT entry size is not a power of two from 128 to 512";
		return -EINVAL;
	}
	if (g->entry_count == 0 ||
	    g->entry_count > GPT_ENTRY_SECTORS_MAX * (SECTOR / g->entry_size)) {
		*why = "GPT entry count is 0 or more than 1 MiB of entries";
		return -EINVAL;
	}
	if (g->first_usable > g->last_usable || g->last_usable >= sector_count ||
	    g->entries_lba < 1 || g->entries_lba >= sector_count ||
	    ((uint64_t)g->entry_count * g->entry_size + SECTOR - 1) / SECTOR >
	        sector_count - g->entries_lba) {
		*why = "GPT usable range or entry array is not on the disk";
		return -EINVAL;
	}
	return 0;
}

/*
 * Reads the whole entry array (to check its CRC) and picks entry `number`. Returns 0,
 * -ENOENT for an unused entry or one past the array, -EINVAL, or the read's error.
 */
static int gpt_entry(part_read_fn read, void *ctx, const struct gpt *g, unsigned int number,
                     struct part *out, const char **why)
{
	uint32_t per_sector = SECTOR / g->entry_size, crc = 0;
	uint64_t sectors = ((uint64_t)g->entry_count + per_sector - 1) / per_sector;
	uint8_t s[SECTOR], entry[SECTOR];
	bool found = false;

	for (uint64_t i = 0; i < sectors; i++) {
		uint32_t in_sector = per_sector;
		int rc = read(ctx, g->entries_lba + i, s);

		if (rc)
			return rc;
		if (i == sectors - 1 && g->entry_count % per_sector)
			in_sector = g->entry_count % per_sector;
		crc = part_crc32(crc, s, in_sector * g->entry_size);
		if (number - 1 >= i * per_sector && number - 1 < i * per_sector + in_sector) {
			memcpy(entry, s + (number - 1 - i * per_sector) * g->entry_size,
			       g->entry_size);
			found = true;
		}
	}
	if (crc != g->entries_crc) {
		*why = "GPT entry array CRC does not match";
		return -EINVAL;
	}
	if (!found)
		return -ENOENT;
	for (unsigned int i = 0; i < 16; i++) /* type GUID all zero: unused */
		if (entry[i])
			goto used;
	return -ENOENT;
used:
	out->first = le64(entry + 32);
	if (le64(entry + 40) < out->first || out->first < g->first_usable ||
	    le64(entry + 40) > g->last_usable) {
		*why = "GPT partition is not inside the usable range";
		return -EINVAL;
	}
	out->count = le64(entry + 40) - out->first + 1;
	return 0;
}

/* GPT: the primary header, else the backup at the disk's last sector (UEFI §5.3.2). */
static int gpt_find(part_read_fn read, void *ctx, uint64_t sector_count, unsigned int number,
                    struct part *out, const char **why)
{
	const char *primary = "no GPT header at sector 1";
	struct gpt g;
	int rc = gpt_header(read, ctx, sector_count, 1, &g, why);

	if (rc == 0) {
		rc = gpt_entry(read, ctx, &g, number, out, why);
		if (rc != -EINVAL)
			return rc;
	} else if (rc != -EINVAL && rc != -ENOENT) {
		return rc; /* a read failed */
	}
	if (rc == -EINVAL)
		primary = *why;
	rc = gpt_header(read, ctx, sector_count, sector_count - 1, &g, why);
	if (rc == 0)
		return gpt_entry(read, ctx, &g, number, out, why);
	if (rc == -EINVAL || rc == -ENOENT) {
		*why = primary; /* the backup did not help: the primary's fault is the news */
		return -EINVAL;
	}
	return rc;
}

/* ---- MBR ---- */

static bool extended(uint8_t type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

/* Entry i (0..3) of an MBR or EBR sector: type, start (relative), count. */
static uint8_t mbr_entry(const uint8_t *s, unsigned int i, uint64_t *start, uint64_t *count)
{
	const uint8_t *e = s + 446 + 16 * i;

	*start = le32(e + 8);
	*count = le32(e + 12);
	return e[4];
}

static int in_disk(uint64_t sector_count, const struct part *p, const char **why)
{
	if (p->count == 0 || p->first == 0 || p->first >= sector_count ||
	    p->count > sector_count - p->first) {
		*why = "MBR partition is not on the disk";
		return -EINVAL;
	}
	return 0;
}

/* Logical partition `number` (5..): the chain of EBRs inside the extended partition. */
static int mbr_logical(part_read_fn read, void *ctx, uint64_t sector_count, const struct part *ext,
                       unsigned int number, struct part *out, const char **why)
{
	uint64_t ebr = ext->first;
	uint8_t s[SECTOR];

	for (unsigned int n = 5; n < 5 + MBR_LOGICAL_MAX; n++) {
		uint64_t start, count, next_start, next_count;
		uint8_t type, next_type;
		int rc = read(ctx, ebr, s);

		if (rc)
			return rc;
		if (s[510] != 0x55 || s[511] != 0xaa) {
			*why = "MBR extended partition's chain has a sector without 55 aa";
			return -EINVAL;
		}
		type = mbr_entry(s, 0, &start, &count);
		next_type = mbr_entry(s, 1, &next_start, &next_count);
		if (type == 0)
			return -ENOENT;
		if (n == number) {
			*out = (struct part){ebr + start, count};
			if (start > sector_count || out->first < ebr || out->first < ext->first ||
			    out->count > ext->count ||
			    out->first - ext->first > ext->count - out->count) {
				*why = "MBR logical partition is not inside its extended partition";
				return -EINVAL;
			}
			return in_disk(sector_count, out, why);
		}
		/* The next EBR is relative to the extended partition; it must move forward. */
		if (!extended(next_type) || next_start == 0)
			return -ENOENT;
		if (next_start >= ext->count || ext->first + next_start <= ebr) {
			*why = "MBR extended partition's chain goes backwards or leaves it";
			return -EINVAL;
		}
		ebr = ext->first + next_start;
	}
	return -ENOENT;
}

static int mbr_find(part_read_fn read, void *ctx, uint64_t sector_count, const uint8_t *s,
                    unsigned int number, struct part *out, const char **why)
{
	for (unsigned int i = 0; i < 4; i++) {
		struct part p;
		uint8_t type = mbr_entry(s, i, &p.first, &p.count);

		if (number == i + 1) {
			if (type == 0)
				return -ENOENT;
			if (extended(type)) {
				*why = "that MBR partition is the extended one, a container of "
				       "logical "
				       "partitions (5 and up)";
				return -EINVAL;
			}
			*out = p;
			return in_disk(sector_count, out, why);
		}
		if (number > 4 && extended(type)) {
			int rc = in_disk(sector_count, &p, why);

			return rc ? rc : mbr_logical(read, ctx, sector_count, &p, number, out, why);
		}
	}
	return -ENOENT;
}

int part_find(part_read_fn read, void *ctx, uint64_t sector_count, unsigned int number,
              struct part *out, const char **why)
{
	uint8_t s[SECTOR];
	int rc;

	*why = NULL;
	if (number < 1 || number > PART_MAX || sector_count < 2)
		return -ENOENT;
	if ((rc = read(ctx, 0, s)))
		return rc;
	if (s[510] != 0x55 || s[511] != 0xaa)
		return -ENOENT;
	/* A protective MBR (type 0xee) says GPT (UEFI §5.2.3). */
	for (unsigned int i = 0; i < 4; i++)
		if (s[446 + 16 * i + 4] == 0xee)
			return gpt_find(read, ctx, sector_count, number, out, why);
	return mbr_find(read, ctx, sector_count, s, number, out, why);
}
