/*
 * boot/backend_check.c: a backend directory's keys as any toolstack (or mistake) could write
 * them. Input: layout (1 byte), the directory's frontend id (2), devid (4), which keys exist
 * (1 byte, a bit each), then frontend-id, params, mode, base and irq separated by NULs.
 * Invariants: an accepted directory has every key in range; a refused one names a key and
 * says why.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blk/disk.h"
#include "boot/backend.h"
#include "tests/fuzz/fuzz.h"
#include "virtio/vmmio.h"

#define KEY_COUNT 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[KEY_COUNT] = {"frontend-id", "params", "mode", "base",
	                                             "irq"};
	struct fuzz_in in = {data, size};
	enum backend_layout layout = fuzz_u8(&in) & 1 ? BACKEND_VIRTIO : BACKEND_VIRTIO_DISK;
	uint16_t frontend_dir = fuzz_u16(&in);
	uint32_t devid = fuzz_u32(&in);
	uint8_t present = fuzz_u8(&in);
	char *keys[KEY_COUNT] = {NULL};
	struct backend_config cfg;
	const char *key = NULL, *value = NULL, *why = NULL;
	int rc;

	/* Each value on the heap at its exact size, so a read past its NUL is an ASan report. */
	for (int i = 0; i < KEY_COUNT; i++) {
		size_t len = strnlen((const char *)in.p, in.left);

		if (present & (1u << i)) {
			keys[i] = malloc(len + 1);
			memcpy(keys[i], in.p, len);
			keys[i][len] = '\0';
		}
		in.p += len;
		in.left -= len;
		if (in.left) {
			in.p++;
			in.left--;
		}
	}
	rc = backend_check(layout, frontend_dir, devid, keys[0], keys[1], keys[2], keys[3], keys[4],
	                   &cfg, &key, &value, &why);
	if (rc == 0) {
		FUZZ_CHECK(cfg.frontend == frontend_dir && cfg.devid == devid,
		           "frontend %u, devid %u", cfg.frontend, cfg.devid);
		FUZZ_CHECK(cfg.base && cfg.base % VMMIO_WINDOW == 0 &&
		               cfg.base <= UINT64_MAX - VMMIO_WINDOW,
		           "base 0x%llx", (unsigned long long)cfg.base);
		FUZZ_CHECK(cfg.irq >= 32 && cfg.irq <= 1019, "irq %u", cfg.irq);
		FUZZ_CHECK(keys[2] == NULL || strcmp(keys[2], cfg.read_only ? "r" : "w") == 0,
		           "mode '%s', read_only %d", keys[2], cfg.read_only);
		FUZZ_CHECK(keys[1] && (cfg.target.kind == TARGET_MMC
		                           ? cfg.target.card <= TARGET_MMC_CARD_MAX &&
		                                 cfg.target.part <= TARGET_MMC_PART_MAX
		                           : cfg.target.size >= DISK_SECTOR_SIZE &&
		                                 cfg.target.size % DISK_SECTOR_SIZE == 0),
		           "target kind %d size %llu card %u part %u", cfg.target.kind,
		           (unsigned long long)cfg.target.size, cfg.target.card, cfg.target.part);
	} else {
		int k;

		FUZZ_CHECK(rc == -EINVAL && key && why && *why, "rc %d", rc);
		for (k = 0; k < KEY_COUNT && strcmp(key, names[k]); k++)
			;
		FUZZ_CHECK(k < KEY_COUNT, "bad key name '%s'", key);
		FUZZ_CHECK(value == keys[k], "value of %s is not the key's string", key);
	}
	for (int i = 0; i < KEY_COUNT; i++)
		free(keys[i]);
	return 0;
}
