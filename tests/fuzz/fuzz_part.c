/*
 * blk/part.c: any bytes as a disk's sectors (the input, 512 bytes a sector, zeroes past it,
 * up to a disk size taken from its first two bytes) and any partition number. Invariants: no
 * read outside the disk; a partition found lies inside the disk and is not empty; a refusal
 * says why.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "blk/part.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct disk_img {
	const uint8_t *p;
	size_t len;
	uint64_t sectors;
};

static int read_img(void *ctx, uint64_t sector, void *buf)
{
	const struct disk_img *d = ctx;
	uint64_t off = sector * 512;

	FUZZ_CHECK(sector < d->sectors, "read of sector %llu of %llu", (unsigned long long)sector,
	           (unsigned long long)d->sectors);
	memset(buf, 0, 512);
	if (off < d->len)
		memcpy(buf, d->p + off, d->len - off < 512 ? d->len - off : 512);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct disk_img d;
	struct part p = {0, 0};
	const char *why = NULL;
	unsigned int number;
	int rc;

	if (size < 3)
		return 0;
	number = data[0];
	d.sectors = (uint64_t)data[1] << 8 | data[2];
	d.p = data + 3;
	d.len = size - 3;
	rc = part_find(read_img, &d, d.sectors, number, &p, &why);
	if (rc == 0)
		FUZZ_CHECK(p.count > 0 && p.first < d.sectors && p.count <= d.sectors - p.first &&
		               number >= 1 && number <= PART_MAX,
		           "partition %u: %llu+%llu on %llu sectors", number,
		           (unsigned long long)p.first, (unsigned long long)p.count,
		           (unsigned long long)d.sectors);
	else if (rc == -EINVAL)
		FUZZ_CHECK(why && *why, "refused without a reason");
	else
		FUZZ_CHECK(rc == -ENOENT, "rc %d", rc);
	return 0;
}
