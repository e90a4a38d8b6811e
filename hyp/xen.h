/* Typed wrappers for Xen's basic hypercalls: version, features, HVM params, memory, shutdown. */
#ifndef HYP_XEN_H
#define HYP_XEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct shared_info;

/** Xen on Arm shares memory in 4 KiB frames whatever the guest page size. */
#define XEN_PAGE_SHIFT 12
#define XEN_PAGE_SIZE  (1ul << XEN_PAGE_SHIFT)

/** The oldest Xen vdisk is written against (the 4.17 ABI). */
#define XEN_MIN_MAJOR 4
#define XEN_MIN_MINOR 17

/** A frame number in another (frontend) domain's guest-physical address space. */
struct guest_frame {
	uint64_t n;
};

/** A frame number in vdisk's own guest-physical address space. */
struct own_frame {
	uint64_t n;
};

/** What Xen told us about itself at boot. */
struct xen_info {
	unsigned int major;
	unsigned int minor;
	char extra[16];  /* XENVER_extraversion, e.g. ".5" */
	bool dom0;       /* XENFEAT_dom0: we are the hardware domain */
};

/** Translates a negative Xen error code (public/errno.h) to a negative errno of our libc. */
int xen_errno(long xen_rc);
/** Reads version, extraversion and features (XENVER_*); returns 0 or -errno. */
int xen_probe(struct xen_info *info);
/** Reads an HVM parameter of our own domain (HVMOP_get_param); returns 0 or -errno. */
int xen_hvm_param_get(unsigned int index, uint64_t *value);
/** Maps shared_info at the page-aligned frame `page` (XENMEM_add_to_physmap); 0 or -errno. */
int xen_map_shared_info(struct shared_info *page);
/** Writes to Xen's own console (CONSOLEIO_write); allowed for dom0. Returns 0 or -errno. */
int xen_console_io_write(const char *buf, size_t len);
/**
 * XENMEM_acquire_resource of IOREQ server `id`'s synchronous ioreq page (created by us for
 * domain `domid`), mapped at our frame `at`. Returns 0 or -errno.
 */
int xen_acquire_ioreq_page(uint16_t domid, uint16_t id, struct own_frame at);
/**
 * XENMEM_add_to_physmap_batch (XENMAPSPACE_gmfn_foreign): maps `count` frames of domain
 * `domid` at our frames `at`; errs[i] gets each frame's result. Returns 0 or -errno
 * for the call as a whole.
 */
int xen_map_foreign(uint16_t domid, const struct guest_frame *frames, const struct own_frame *at,
		    int *errs, uint16_t count);
/** XENMEM_remove_from_physmap of one of our frames (drops a foreign or resource mapping). */
int xen_unmap_frame(struct own_frame frame);
/** Gives the CPU to other vCPUs for a moment (SCHEDOP_yield). */
void xen_yield(void);
/** Shuts this domain down with a SHUTDOWN_* reason (SCHEDOP_shutdown); returns -errno on failure. */
int xen_shutdown(unsigned int reason);

#endif
