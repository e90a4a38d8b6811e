/* Parser for xl's disk target= string as vdisk understands it (see target.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk/disk.h"
#include "blk/target.h"

static int parse_size(const char *s, uint64_t *out, const char **why)
{
	uint64_t value = 0;
	unsigned int shift = 0;

	if (!isdigit((unsigned char)*s)) {
		*why = "size must start with a digit";
		return -EINVAL;
	}
	for (; isdigit((unsigned char)*s); s++) {
		value = value * 10 + (uint64_t)(*s - '0');
		if (value > TARGET_RAM_MAX) { /* also keeps the next step from overflowing */
			*why = "size is larger than 1T";
			return -EINVAL;
		}
	}
	switch (*s) {
	case '\0': break;
	case 'K': case 'k': shift = 10; s++; break;
	case 'M': case 'm': shift = 20; s++; break;
	case 'G': case 'g': shift = 30; s++; break;
	default:
		*why = "size suffix must be K, M or G";
		return -EINVAL;
	}
	if (*s != '\0') {
		*why = "unexpected characters after the size";
		return -EINVAL;
	}
	if (value > (TARGET_RAM_MAX >> shift)) {
		*why = "size is larger than 1T";
		return -EINVAL;
	}
	value <<= shift;
	if (value < DISK_SECTOR_SIZE || value % DISK_SECTOR_SIZE) {
		*why = "size must be a non-zero multiple of 512 bytes";
		return -EINVAL;
	}
	*out = value;
	return 0;
}

int target_parse(const char *params, struct target *out, const char **why)
{
	if (strncmp(params, "ram:", 4) == 0) {
		out->kind = TARGET_RAM;
		return parse_size(params + 4, &out->size, why);
	}
	*why = "expected ram:SIZE";
	return -EINVAL;
}
