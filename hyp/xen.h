/*
 * Typed wrappers for Xen's basic hypercalls: version, features, HVM params, memory, grant
 * mapping, shutdown.
 */
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

/** A grant reference in another domain's grant table (public/grant_table.h grant_ref_t). */
struct grant_ref {
	uint32_t n;
};

/** Most grant operations one xen_grant_map/xen_grant_unmap call hands to Xen in one batch. */
#define XEN_GRANT_BATCH_MAX 256

/** One grant to map (GNTTABOP_map_grant_ref): what to map where, and what Xen answered. */
struct xen_grant_map {
	struct grant_ref ref; /* in: the granting domain's reference */
	struct own_frame at;  /* in: our frame to map it at (a hole, not RAM) */
	bool readonly;        /* in: GNTMAP_readonly; Xen refuses write mappings of r/o grants */
	uint32_t handle;      /* out: what xen_grant_unmap needs */
	int16_t status;       /* out: GNTST_*, for log lines */
	int err;              /* out: 0 or the status as -errno */
};

/** One grant mapping to remove (GNTTABOP_unmap_grant_ref), and what Xen answered. */
struct xen_grant_unmap {
	struct own_frame at; /* in: where it is mapped */
	uint32_t handle;     /* in: from xen_grant_map */
	int16_t status;      /* out: GNTST_* */
	int err;             /* out: 0 or the status as -errno */
};

/** What Xen told us about itself at boot. */
struct xen_info {
	unsigned int major;
	unsigned int minor;
	char extra[16];  /* XENVER_extraversion, e.g. ".5" */
	bool dom0;       /* XENFEAT_dom0: we are the hardware domain */
	bool direct_mapped; /* XENFEAT_direct_mapped: our guest-physical addresses are physical */
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
/** Translates a GNTST_* status (public/grant_table.h) to 0 or a negative errno. */
int xen_gntst_errno(int16_t status);
/**
 * GNTTABOP_map_grant_ref: maps `count` grants of domain `domid` at our frames, in one
 * hypercall per XEN_GRANT_BATCH_MAX (on Arm host_addr is our frame's guest-physical address,
 * flags GNTMAP_host_map [| GNTMAP_readonly]). Each op gets its status, err and handle.
 * Returns 0, or -errno when a hypercall failed: then that batch's ops and the ones after
 * it carry that error and are not mapped.
 */
int xen_grant_map(uint16_t domid, struct xen_grant_map *maps, unsigned int count);
/**
 * GNTTABOP_unmap_grant_ref of `count` mappings, in one hypercall per XEN_GRANT_BATCH_MAX,
 * every batch tried; each op gets its status and err. Returns 0, or the -errno of the first
 * hypercall that failed (its batch's ops carry that error and are still mapped).
 */
int xen_grant_unmap(struct xen_grant_unmap *unmaps, unsigned int count);
/**
 * XENMEM_add_to_physmap (XENMAPSPACE_grant_table): puts frame `idx` of our own grant table
 * (version 1) at our frame `at`, where we write the entries that offer pages to other
 * domains. Returns 0 or -errno.
 */
int xen_map_grant_table(unsigned int idx, struct own_frame at);
/** Gives the CPU to other vCPUs for a moment (SCHEDOP_yield). */
void xen_yield(void);
/** Shuts this domain down with a SHUTDOWN_* reason (SCHEDOP_shutdown); returns -errno on failure. */
int xen_shutdown(unsigned int reason);

#endif
