/*
 * blk/target.c: any bytes as a disk's xenstore `params`. Invariants: an accepted target is a
 * RAM disk of whole sectors from 512 bytes to TARGET_RAM_MAX that the string spells, or a
 * card and partition in range; a refused one says why.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blk/disk.h"
#include "blk/target.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly the string's bytes on the heap, so a read past its NUL is an ASan report. */
	char *params = malloc(size + 1);
	struct target t = {.kind = TARGET_RAM, .size = 12345};
	const char *why = NULL;
	int rc;

	memcpy(params, data, size);
	params[size] = '\0';
	rc = target_parse(params, &t, &why);
	if (rc == 0 && t.kind == TARGET_MMC) {
		FUZZ_CHECK(strncmp(params, "mmc:", 4) == 0 && t.card <= TARGET_MMC_CARD_MAX &&
		               t.part <= TARGET_MMC_PART_MAX,
		           "card %u part %u from '%s'", t.card, t.part, params);
	} else if (rc == 0) {
		uint64_t digits = 0, mult = 1;
		const char *s = params + 4;

		FUZZ_CHECK(strncmp(params, "ram:", 4) == 0, "accepted '%s'", params);
		FUZZ_CHECK(t.kind == TARGET_RAM, "kind %d", t.kind);
		FUZZ_CHECK(t.size >= DISK_SECTOR_SIZE && t.size % DISK_SECTOR_SIZE == 0 &&
		               t.size <= TARGET_RAM_MAX,
		           "size %llu from '%s'", (unsigned long long)t.size, params);
		/* The size is what the string says: digits (no overflow, as <= 1T), then K/M/G. */
		for (; *s >= '0' && *s <= '9'; s++)
			digits = digits * 10 + (uint64_t)(*s - '0');
		if (*s == 'K' || *s == 'k')
			mult = 1ull << 10;
		else if (*s == 'M' || *s == 'm')
			mult = 1ull << 20;
		else if (*s == 'G' || *s == 'g')
			mult = 1ull << 30;
		FUZZ_CHECK(t.size == digits * mult, "size %llu from '%s'",
		           (unsigned long long)t.size, params);
	} else {
		FUZZ_CHECK(rc == -EINVAL && why && *why, "rc %d, why %s", rc, why ? why : "(null)");
	}
	free(params);
	return 0;
}
