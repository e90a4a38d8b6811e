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

/* The xenstore key backend_check names, as the vdisk.disk= spelling calls it. */
static const char *spec_key(const char *xs_key)
{
	static const struct {
		const char *xs, *spec;
	} names[] = {{"frontend-id", "domain"}, {"params", "target"}, {"mode", "access"}};

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(xs_key, names[i].xs) == 0)
			return names[i].spec;
	return xs_key;
}

int backend_parse_disk(char *spec, uint32_t devid, struct backend_config *out, const char **params,
                       const char **key, const char **value, const char **why)
{
	const char *domain = NULL, *base = NULL, *irq = NULL, *target = NULL, *mode = "w";
	char *p = spec;
	uint64_t id;
	int rc;

	memset(out, 0, sizeof(*out));
	*params = NULL;
	while (*p) {
		char *name = p, *eq = strchr(p, '='), *comma = strchr(p, ',');

		/* target= comes last and keeps the rest, as in xl's disk syntax */
		if (strncmp(name, "target=", 7) == 0) {
			name[6] = '\0';
			*key = name;
			*value = target = name + 7;
			break;
		}
		if (comma)
			*comma = '\0';
		p = comma ? comma + 1 : name + strlen(name);
		*key = name;
		*value = NULL;
		if (!eq || (comma && eq > comma)) {
			*why = "is not KEY=VALUE";
			return -EINVAL;
		}
		*eq = '\0';
		*value = eq + 1;
		if (strcmp(name, "domain") == 0)
			domain = eq + 1;
		else if (strcmp(name, "base") == 0)
			base = eq + 1;
		else if (strcmp(name, "irq") == 0)
			irq = eq + 1;
		else if (strcmp(name, "access") == 0) {
			if (strcmp(eq + 1, "ro") == 0)
				mode = "r";
			else if (strcmp(eq + 1, "rw") == 0)
				mode = "w";
			else {
				*why = "is neither ro nor rw";
				return -EINVAL;
			}
		} else {
			*why = "is not a key of vdisk.disk (domain, base, irq, access, target)";
			return -EINVAL;
		}
	}
	for (unsigned int i = 0; i < 4; i++) {
		static const char *const names[] = {"domain", "base", "irq", "target"};
		const char *v[] = {domain, base, irq, target};

		if (!v[i]) {
			*key = names[i];
			*value = NULL;
			*why = "is missing";
			return -EINVAL;
		}
	}
	/* the domain's own bounds here; backend_check compares it with itself */
	*key = "domain";
	*value = domain;
	if (!backend_parse_u64(domain, 10, 0x7fef, &id) || id == 0) {
		*why = "is not a guest's domain id (1 to 32751)";
		return -EINVAL;
	}
	rc = backend_check(BACKEND_VIRTIO, (uint16_t)id, devid, domain, target, mode, base, irq,
	                   out, key, value, why);
	*key = spec_key(*key);
	if (rc == 0)
		*params = target;
	return rc;
}
