/*
 * A frontend guest's memory, reached by foreign mapping (XENMAPSPACE_gmfn_foreign) into
 * vdisk's own frames, behind a cache: in the steady state a request costs no map or unmap
 * hypercall. Xen refuses frames the guest does not own, so every address is checked there.
 */
#ifndef HYP_GMEM_H
#define HYP_GMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "hyp/xen.h"
#include "virtio/vq.h"

/** Pages of one guest kept mapped at once (also the guest's share of vdisk's frames). */
#define GMEM_SLOTS 256

/** One cached page: which guest frame sits in which of our frames. */
struct gmem_slot {
	struct guest_frame guest;
	struct own_frame own;
	bool mapped;
	bool referenced; /* for the clock replacement */
};

/** The mapping cache of one frontend domain. */
struct gmem {
	uint16_t domid;
	struct own_frame first;   /* GMEM_SLOTS consecutive frames of ours */
	bool have_frames;
	unsigned int hand;        /* clock hand */
	struct gmem_slot slots[GMEM_SLOTS];
	uint64_t hits, misses, refused;
	struct vq_mem mem;        /* what virtio/ uses: ops + this cache */
};

/** Sets up the cache for domain `domid`, taking GMEM_SLOTS of vdisk's frames; 0 or -errno. */
int gmem_init(struct gmem *g, uint16_t domid);
/** Unmaps everything (IOREQ_TYPE_INVALIDATE: the guest's memory map changed). */
void gmem_invalidate(struct gmem *g);
/** Unmaps everything and gives the frames back. */
void gmem_fini(struct gmem *g);

#endif
