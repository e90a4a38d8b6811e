/*
 * A frontend guest's memory as virtio/ reaches it (struct vq_mem), in vdisk's own frames.
 * An address is decoded on its own, whatever the queue's other addresses were:
 *
 * - Bit 63 clear: a guest-physical address, mapped by foreign mapping
 *   (XENMAPSPACE_gmfn_foreign) behind a cache with clock replacement, so that in the steady
 *   state a request costs no map or unmap hypercall. Bits 62..48 set are refused with a
 *   log line (Xen 4.17's stage-2 tables cover at most 48 bits of guest address).
 * - Bit 63 set: a Xen grant-DMA address (Linux drivers/xen/grant-dma-ops.c), grant reference
 *   (addr & ~bit 63) >> 12 and offset addr & 0xfff; the pages of one buffer have consecutive
 *   references. It is mapped with GNTTABOP_map_grant_ref, read-only unless the access writes.
 *
 * Xen checks every mapping: a foreign frame must belong to the guest, a grant must exist,
 * be granted to us, and allow writing when we map it writable.
 *
 * The driver ends a buffer's grants as soon as it sees the request completed and reuses the
 * references at once; ending a grant fails while it is still mapped (Linux's grant-DMA then
 * disables the device), and a stale mapping of a reused reference would be another page:
 * so a buffer's grant mapping must not outlive its request. Nor need it die sooner: a
 * device holds several requests at once (at its disk, completed in any order), and each
 * keeps its buffer grants mapped until it completes. A request gets a holder number (one of
 * GMEM_HOLDERS) at its first buffer grant map, kept in the token of its chain's struct
 * vq_hold, and each buffer grant mapping has a bit per holder that uses it (a hostile
 * driver may put one page in two requests). release(), called by vq_push before it
 * publishes the used element (and by vq_pop or vq_drop for a chain that will not be
 * returned), clears the request's bit and unmaps, in one batched hypercall, the buffer
 * grants no request in flight uses any more, including any mapped for nobody (a request
 * past GMEM_HOLDERS, a map() without a hold). The clock may still evict a mapping that a
 * request in flight uses; the request maps it again at its next access.
 *
 * The rings, though, stay granted while the queue runs and are touched by every request.
 * Hence two kinds of grant mapping, told apart by the walker's enum vq_area: ring mappings
 * stay in the cache (like foreign ones) until the queue or the device is reset (reset():
 * any queue stopping drops every grant mapping of the guest, which is simple and costs only
 * a remap of the other queues' rings), an IOREQ invalidate, or gmem_fini. Each of these also
 * forgets every holder; a token carries the epoch it was given in, so a chain still in
 * flight from before (cancelled, or on another queue) takes a new number at its next access
 * rather than share one. A page used both ways is kept as a ring page: ending that grant
 * then fails, which only harms the driver that misused it. Foreign mappings need none of
 * this: Xen holds a reference to each mapped page, and an IOREQ invalidate tells us when the
 * guest's memory map changed.
 */
#ifndef HYP_GMEM_H
#define HYP_GMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "hyp/xen.h"
#include "virtio/vq.h"

struct log_limit;

/** Pages of one guest kept mapped at once (also the guest's share of vdisk's frames). */
#define GMEM_SLOTS 512
/** Bit 63 of an address marks a grant-DMA address (Linux XEN_GRANT_DMA_ADDR_OFF). */
#define GMEM_GRANT_BIT (1ull << 63)
/** Bits that a guest-physical (non-grant) address must not have. */
#define GMEM_GPA_RESERVED (0x7fffull << 48)

/** One mapped page: which guest frame or grant sits in which of our frames. */
struct gmem_slot {
	struct own_frame own;
	bool mapped;
	bool referenced;          /* for the clock replacement */
	bool grant;               /* a grant mapping; else a foreign one */
	bool readonly;            /* grant: mapped with GNTMAP_readonly */
	bool ring;                /* grant: of a ring page, kept until a reset */
	struct guest_frame guest; /* foreign: the guest's frame */
	struct grant_ref ref;     /* grant: the guest's reference */
	uint32_t handle;          /* grant: for the unmap */
	uint32_t users;           /* buffer grant: the holders (requests in flight) using it */
};

/** Requests in flight of one guest whose buffer grant mappings are told apart (a bit each). */
#define GMEM_HOLDERS 32

/** Buckets of the index from a guest frame or grant to the slot that last held it. */
#define GMEM_HINTS 512

/** The mappings of one frontend domain. */
struct gmem {
	uint16_t domid;
	struct own_frame first; /* GMEM_SLOTS consecutive frames of ours */
	bool have_frames;
	unsigned int hand; /* clock hand */
	unsigned int buffer_grants; /* grant mappings of buffers: what release() may unmap */
	uint32_t holders;           /* holder numbers given to requests in flight, a bit each */
	uint32_t epoch;             /* of the holders: a token of an earlier one names nothing */
	uint16_t hint[GMEM_HINTS];  /* slot to look at first, by hash of frame or reference */
	struct gmem_slot slots[GMEM_SLOTS];
	uint64_t hits, misses, refused;
	struct log_limit *limit; /* lines about this guest: its device's budget (NULL: none) */
	struct vq_mem mem; /* what virtio/ uses: ops + this cache */
};

/** Sets up the mappings of domain `domid`, taking GMEM_SLOTS of vdisk's frames; 0 or -errno. */
int gmem_init(struct gmem *g, uint16_t domid);
/** Unmaps everything, foreign and grant (IOREQ_TYPE_INVALIDATE: the guest's memory map changed). */
void gmem_invalidate(struct gmem *g);
/** Unmaps everything and gives the frames back. */
void gmem_fini(struct gmem *g);
/** Pages of all guests mapped now (dom0's statistics: 0 once no guest is served). */
unsigned int gmem_mapped_count(void);

#endif
