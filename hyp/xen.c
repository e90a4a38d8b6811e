/* Xen's basic hypercalls behind typed functions (public/version.h, hvm/hvm_op.h, memory.h). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/features.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/version.h>
#include <xen/hvm/hvm_op.h>

#include "arch/hypercall.h"
#include "hyp/xen.h"

/* Xen's error numbers are Linux's; our libc's may differ, so translate by name. */
#ifndef EDEADLOCK
#define EDEADLOCK EDEADLK /* Xen lists both names; newlib-style libcs only the first */
#endif
static const struct {
	int xen;
	int ours;
} errno_map[] = {
#define XEN_ERRNO(name, value) {value, name},
#include <xen/errno.h>
#undef XEN_ERRNO
};

int xen_errno(long xen_rc)
{
	if (xen_rc >= 0)
		return (int)xen_rc;
	for (size_t i = 0; i < sizeof(errno_map) / sizeof(errno_map[0]); i++)
		if (errno_map[i].xen == -xen_rc)
			return -errno_map[i].ours;
	return -EIO;
}

int xen_probe(struct xen_info *info)
{
	xen_extraversion_t extra;
	struct xen_feature_info features = {.submap_idx = 0};
	long ver = hypercall_xen_version(XENVER_version, NULL);
	long rc;

	if (ver < 0)
		return xen_errno(ver);
	info->major = (unsigned int)(ver >> 16);
	info->minor = (unsigned int)(ver & 0xffff);

	memset(extra, 0, sizeof(extra));
	rc = hypercall_xen_version(XENVER_extraversion, extra);
	if (rc < 0)
		return xen_errno(rc);
	memcpy(info->extra, extra, sizeof(info->extra) - 1);
	info->extra[sizeof(info->extra) - 1] = '\0';

	rc = hypercall_xen_version(XENVER_get_features, &features);
	if (rc < 0)
		return xen_errno(rc);
	info->dom0 = (features.submap >> XENFEAT_dom0) & 1;
	return 0;
}

int xen_hvm_param_get(unsigned int index, uint64_t *value)
{
	struct xen_hvm_param param = {.domid = DOMID_SELF, .index = index};
	long rc = hypercall_hvm_op(HVMOP_get_param, &param);

	if (rc < 0)
		return xen_errno(rc);
	*value = param.value;
	return 0;
}

int xen_map_shared_info(struct shared_info *page)
{
	struct xen_add_to_physmap xatp = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_shared_info,
		.idx = 0,
		.gpfn = (uintptr_t)page >> XEN_PAGE_SHIFT,
	};

	return xen_errno(hypercall_memory_op(XENMEM_add_to_physmap, &xatp));
}

int xen_console_io_write(const char *buf, size_t len)
{
	while (len) {
		int chunk = len > 1024 ? 1024 : (int)len;
		long rc = hypercall_console_io(CONSOLEIO_write, chunk, buf);

		if (rc < 0)
			return xen_errno(rc);
		buf += chunk;
		len -= (size_t)chunk;
	}
	return 0;
}

int xen_shutdown(unsigned int reason)
{
	struct sched_shutdown arg = {.reason = reason};

	return xen_errno(hypercall_sched_op(SCHEDOP_shutdown, &arg));
}

void xen_yield(void)
{
	hypercall_sched_op(SCHEDOP_yield, NULL);
}
