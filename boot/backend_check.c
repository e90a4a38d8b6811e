/*
 * Checks of a backend directory's keys (see backend.h), apart from the xenstore traffic so
 * that host unit tests can feed them anything a toolstack (or a mistake) could write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/backend.h"
#include "virtio/vmmio.h"

bool backend_parse_u64(const char *s, int base, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

int backend_check(enum backend_layout layout, uint16_t frontend_dir, uint32_t devid,
		  const char *frontend_id, const char *params, const char *mode, const char *base,
		  const char *irq, struct backend_config *out, const char **key, const char **value,
		  const char **why)
{
	uint64_t v;

	memset(out, 0, sizeof(*out));
	out->devid = devid;
	*key = "frontend-id";
	*value = frontend_id;
	if (!backend_parse_u64(frontend_id, 10, 0x7fef, &v) || v != frontend_dir) {
		*why = "is not the domain id in the directory name";
		return -EINVAL;
	}
	out->frontend = (uint16_t)v;
	/* 4.17 writes base in decimal, later versions in hex with 0x: accept what each writes. */
	*key = "base";
	*value = base;
	if (!backend_parse_u64(base, layout == BACKEND_VIRTIO_DISK ? 10 : 16, UINT64_MAX - VMMIO_WINDOW,
		       &v) || v == 0 || v % VMMIO_WINDOW) {
		*why = layout == BACKEND_VIRTIO_DISK
			       ? "is not a decimal address aligned to 0x200"
			       : "is not a hex address aligned to 0x200";
		return -EINVAL;
	}
	out->base = v;
	*key = "irq";
	*value = irq;
	if (!backend_parse_u64(irq, 10, 987 + 32, &v) || v < 32) {
		*why = "is not an SPI (32 to 1019)";
		return -EINVAL;
	}
	out->irq = (uint32_t)v;
	*key = "mode";
	*value = mode;
	if (mode && strcmp(mode, "r") == 0)
		out->read_only = true;
	else if (mode && strcmp(mode, "w") != 0) {
		*why = "is neither \"r\" nor \"w\"";
		return -EINVAL;
	}
	*key = "params";
	*value = params;
	if (!params) {
		*why = "is missing";
		return -EINVAL;
	}
	return target_parse(params, &out->target, why);
}

