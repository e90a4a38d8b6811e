/*
 * Xen's basic hypercalls behind typed functions (public/version.h, hvm/hvm_op.h, memory.h,
 * grant_table.h).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/features.h>
#include <xen/grant_table.h>
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
	info->direct_mapped = (features.submap >> XENFEAT_direct_mapped) & 1;
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

int xen_map_grant_table(unsigned int idx, struct own_frame at)
{
	struct xen_add_to_physmap xatp = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_grant_table,
		.idx = idx,
		.gpfn = at.n,
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

int xen_acquire_ioreq_page(uint16_t domid, uint16_t id, struct own_frame at)
{
	xen_pfn_t gfn = at.n;
	struct xen_mem_acquire_resource res = {
		.domid = domid,
		.type = XENMEM_resource_ioreq_server,
		.id = id,
		.nr_frames = 1,
		.frame = XENMEM_resource_ioreq_server_frame_ioreq(0),
	};

	set_xen_guest_handle(res.frame_list, &gfn);
	return xen_errno(hypercall_memory_op(XENMEM_acquire_resource, &res));
}

int xen_map_foreign(uint16_t domid, const struct guest_frame *frames, const struct own_frame *at,
		    int *errs, uint16_t count)
{
	/* The frame structs are single 64-bit numbers: exactly Xen's xen_ulong_t/xen_pfn_t arrays. */
	_Static_assert(sizeof(struct guest_frame) == sizeof(xen_ulong_t), "guest_frame layout");
	_Static_assert(sizeof(struct own_frame) == sizeof(xen_pfn_t), "own_frame layout");
	struct xen_add_to_physmap_batch batch = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_gmfn_foreign,
		.size = count,
		.u.foreign_domid = domid,
	};

	set_xen_guest_handle(batch.idxs, (xen_ulong_t *)frames);
	set_xen_guest_handle(batch.gpfns, (xen_pfn_t *)at);
	set_xen_guest_handle(batch.errs, errs);
	return xen_errno(hypercall_memory_op(XENMEM_add_to_physmap_batch, &batch));
}

int xen_unmap_frame(struct own_frame frame)
{
	struct xen_remove_from_physmap rm = {.domid = DOMID_SELF, .gpfn = frame.n};

	return xen_errno(hypercall_memory_op(XENMEM_remove_from_physmap, &rm));
}

int xen_gntst_errno(int16_t status)
{
	switch (status) {
	case GNTST_okay:
		return 0;
	case GNTST_bad_domain:
		return -ESRCH;
	case GNTST_bad_gntref:
		return -ENOENT;
	case GNTST_bad_handle:
		return -EBADF;
	case GNTST_bad_virt_addr:
	case GNTST_bad_dev_addr:
	case GNTST_bad_page:
	case GNTST_address_too_big:
		return -EFAULT;
	case GNTST_no_device_space:
	case GNTST_no_space:
		return -ENOSPC;
	case GNTST_permission_denied:
		return -EACCES;
	case GNTST_bad_copy_arg:
		return -EINVAL;
	case GNTST_eagain:
		return -EAGAIN; /* paging: x86 only, so not retried */
	default:
		return -EIO; /* GNTST_general_error and anything newer */
	}
}

/*
 * Xen's op arrays for one batch. vdisk is single-threaded and grant operations run from
 * its main loop only, so one static copy serves, and keeps 8 KiB off the stack.
 */
static struct gnttab_map_grant_ref map_ops[XEN_GRANT_BATCH_MAX];
static struct gnttab_unmap_grant_ref unmap_ops[XEN_GRANT_BATCH_MAX];

int xen_grant_map(uint16_t domid, struct xen_grant_map *maps, unsigned int count)
{
	while (count) {
		unsigned int n = count < XEN_GRANT_BATCH_MAX ? count : XEN_GRANT_BATCH_MAX;
		long rc;

		for (unsigned int i = 0; i < n; i++) {
			map_ops[i] = (struct gnttab_map_grant_ref){
			    .host_addr = maps[i].at.n << XEN_PAGE_SHIFT,
			    .flags = GNTMAP_host_map | (maps[i].readonly ? GNTMAP_readonly : 0),
			    .ref = maps[i].ref.n,
			    .dom = domid,
			};
		}
		rc = hypercall_grant_table_op(GNTTABOP_map_grant_ref, map_ops, n);
		if (rc < 0) {
			/* Xen did none of this batch: say so in each op left, for the caller. */
			for (unsigned int i = 0; i < count; i++) {
				maps[i].status = GNTST_general_error;
				maps[i].err = xen_errno(rc);
			}
			return xen_errno(rc);
		}
		for (unsigned int i = 0; i < n; i++) {
			maps[i].status = map_ops[i].status;
			maps[i].err = xen_gntst_errno(map_ops[i].status);
			maps[i].handle = map_ops[i].handle;
		}
		maps += n;
		count -= n;
	}
	return 0;
}

int xen_grant_unmap(struct xen_grant_unmap *unmaps, unsigned int count)
{
	int first_err = 0;

	while (count) {
		unsigned int n = count < XEN_GRANT_BATCH_MAX ? count : XEN_GRANT_BATCH_MAX;
		long rc;

		for (unsigned int i = 0; i < n; i++) {
			unmap_ops[i] = (struct gnttab_unmap_grant_ref){
			    .host_addr = unmaps[i].at.n << XEN_PAGE_SHIFT,
			    .dev_bus_addr = 0,
			    .handle = unmaps[i].handle,
			};
		}
		rc = hypercall_grant_table_op(GNTTABOP_unmap_grant_ref, unmap_ops, n);
		/*
		 * A failed call did none of its batch: say so in each of its ops. The next batch is
		 * still tried: ops never sent would otherwise look failed to a caller that forgets
		 * failed unmaps, and stay mapped for good.
		 */
		for (unsigned int i = 0; i < n; i++) {
			unmaps[i].status = rc < 0 ? GNTST_general_error : unmap_ops[i].status;
			unmaps[i].err =
			    rc < 0 ? xen_errno(rc) : xen_gntst_errno(unmap_ops[i].status);
		}
		if (rc < 0 && first_err == 0)
			first_err = xen_errno(rc);
		unmaps += n;
		count -= n;
	}
	return first_err;
}
