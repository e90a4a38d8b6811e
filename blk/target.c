/* Parser for xl's disk target= string as vdisk understands it (see target.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk/disk.h"
#include "blk/target.h"

/* SIZE, the characters from s to end. */
static int parse_size(const char *s, const char *end, uint64_t *out, const char **why)
{
	uint64_t value = 0;
	unsigned int shift = 0;

	if (!isdigit((unsigned char)*s)) {
		*why = "size must start with a digit";
		return -EINVAL;
	}
	for (; s < end && isdigit((unsigned char)*s); s++) {
		value = value * 10 + (uint64_t)(*s - '0');
		if (value > TARGET_RAM_MAX) { /* also keeps the next step from overflowing */
			*why = "size is larger than 1T";
			return -EINVAL;
		}
	}
	switch (s < end ? *s : '\0') {
	case '\0': break;
	case 'K': case 'k': shift = 10; s++; break;
	case 'M': case 'm': shift = 20; s++; break;
	case 'G': case 'g': shift = 30; s++; break;
	default:
		*why = "size suffix must be K, M or G";
		return -EINVAL;
	}
	if (s != end) {
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

/* One TIME of latency=, the characters from s to end: digits, then ns, us, ms or s. */
static int parse_time(const char *s, const char *end, uint64_t *out, const char **why)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};
	uint64_t value = 0;

	if (s == end || !isdigit((unsigned char)*s)) {
		*why = "latency must start with a digit";
		return -EINVAL;
	}
	for (; s < end && isdigit((unsigned char)*s); s++) {
		value = value * 10 + (uint64_t)(*s - '0');
		if (value > TARGET_LATENCY_MAX_NS) {
			*why = "latency is longer than 60 s";
			return -EINVAL;
		}
	}
	for (unsigned int i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t len = strlen(units[i].unit);

		if ((size_t)(end - s) == len && memcmp(s, units[i].unit, len) == 0) {
			if (value > TARGET_LATENCY_MAX_NS / units[i].ns) {
				*why = "latency is longer than 60 s";
				return -EINVAL;
			}
			*out = value * units[i].ns;
			return 0;
		}
	}
	*why = "latency must end in ns, us, ms or s";
	return -EINVAL;
}

/* "TIME" or "MIN-MAX" of latency=, into out's latency_min_ns and latency_max_ns. */
static int parse_latency(const char *s, struct target *out, const char **why)
{
	const char *end = s + strlen(s);
	const char *dash = strchr(s, '-');
	int rc;

	if (!dash) {
		rc = parse_time(s, end, &out->latency_min_ns, why);
		out->latency_max_ns = out->latency_min_ns;
		return rc;
	}
	if (dash + 1 == end) {
		*why = "latency range needs a time after the '-' (MIN-MAX)";
		return -EINVAL;
	}
	rc = parse_time(s, dash, &out->latency_min_ns, why);
	if (rc)
		return rc;
	rc = parse_time(dash + 1, end, &out->latency_max_ns, why);
	if (rc)
		return rc;
	if (out->latency_min_ns > out->latency_max_ns) {
		*why = "latency range must go from the shorter to the longer time";
		return -EINVAL;
	}
	return 0;
}

/* A small decimal number from s up to a ':' or the end; where it stopped in *end. */
static int parse_small(const char *s, unsigned int min, unsigned int max, unsigned int *out,
                       const char **end)
{
	unsigned int v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > max)
			return -EINVAL;
	}
	if (v < min || (*s != '\0' && *s != ':'))
		return -EINVAL;
	*out = v;
	*end = s;
	return 0;
}

/* "CARD[:PART]" after "mmc:". */
static int parse_mmc(const char *s, struct target *out, const char **why)
{
	*out = (struct target){.kind = TARGET_MMC};
	if (parse_small(s, 0, TARGET_MMC_CARD_MAX, &out->card, &s)) {
		*why = "card must be a number from 0 to 7 (mmc:CARD or mmc:CARD:PART)";
		return -EINVAL;
	}
	if (*s == '\0')
		return 0;
	if (parse_small(s + 1, 1, TARGET_MMC_PART_MAX, &out->part, &s) || *s != '\0') {
		*why = "partition must be a number from 1 to 128 (mmc:CARD:PART)";
		return -EINVAL;
	}
	return 0;
}

int target_parse(const char *params, struct target *out, const char **why)
{
	const char *comma;
	int rc;

	if (strncmp(params, "mmc:", 4) == 0)
		return parse_mmc(params + 4, out, why);
	if (strncmp(params, "ram:", 4) != 0) {
		*why = "expected ram:SIZE, mmc:CARD or mmc:CARD:PART";
		return -EINVAL;
	}
	params += 4;
	comma = strchr(params, ',');
	out->kind = TARGET_RAM;
	out->latency_min_ns = 0;
	out->latency_max_ns = 0;
	rc = parse_size(params, comma ? comma : params + strlen(params), &out->size, why);
	if (rc || !comma)
		return rc;
	if (strncmp(comma + 1, "latency=", 8) != 0) {
		*why = "the only option after the size is latency=TIME or latency=MIN-MAX";
		return -EINVAL;
	}
	return parse_latency(comma + 9, out, why);
}
