/*
 * Split virtqueue walker (virtio 1.2 §2.7), device side. It knows nothing of Xen: guest
 * memory is reached only through struct vq_mem_ops, one page at a time. Everything the
 * driver wrote (indexes, ring entries, descriptors) is read once into a local, checked and
 * then used. A queue that breaks the rules is marked broken: every call then returns
 * VQ_BROKEN until vq_start or vq_reset, and the device should set DEVICE_NEEDS_RESET.
 *
 * Single-threaded: one caller at a time per queue (the firmware's main loop).
 */
#ifndef VIRTIO_VQ_H
#define VIRTIO_VQ_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

struct log_limit;

/**
 * An address as the frontend's driver wrote it in a ring (virtio 1.2 §2.7.5): guest-physical,
 * or a Xen grant-DMA address (bit 63 set) when the frontend uses grants; map() decodes it.
 */
typedef uint64_t gpa_t;

/** map() is never asked for a range that crosses a boundary of this size. */
#define VQ_PAGE_SIZE 4096u
/** The largest queue size this walker supports (a power of two). */
#define VQ_SIZE_MAX 256u
/** The most buffers in one chain, and the most entries in one indirect table. */
#define VQ_CHAIN_MAX 256u
/** What every vq_* call returns once the driver has broken the queue. */
#define VQ_BROKEN (-EPROTO)

/* Descriptor flags (virtio 1.2 §2.7.5). */
#define VQ_DESC_F_NEXT     1u
#define VQ_DESC_F_WRITE    2u
#define VQ_DESC_F_INDIRECT 4u
/* Available ring flags (§2.7.7) and used ring flags (§2.7.10). */
#define VQ_AVAIL_F_NO_INTERRUPT 1u
#define VQ_USED_F_NO_NOTIFY     1u
/* Ring feature bits (virtio 1.2 §6). */
#define VQ_F_INDIRECT_DESC 28
#define VQ_F_EVENT_IDX     29

/**
 * What an access is for. The driver keeps its rings (descriptor table, available and used
 * ring) shared while the queue runs; a buffer, indirect tables included, only until its
 * chain is returned (Linux's xen grant-DMA ends a buffer's grants when the request completes).
 */
enum vq_area {
	VQ_AREA_BUFFER,
	VQ_AREA_RING,
};

/**
 * What the guest-memory layer notes about the mappings one chain's buffers use, so that
 * release() drops those and no other chain's; the walker only carries it. Zero in a chain
 * vq_pop has just filled; after release() it names nothing.
 */
struct vq_hold {
	uint32_t token;
};

/** How the walker reaches the guest memory that rings and buffers live in (virtio 1.2 §2.7). */
struct vq_mem_ops {
	/*
	 * Returns a host pointer through which [gpa, gpa + len) may be read, or also written
	 * when `writable`, or NULL if the guest may not hand out that range. The walker asks
	 * for 1 <= len bytes that do not cross a VQ_PAGE_SIZE boundary. The pointer must keep
	 * gpa's offset in its page (aligned ring fields stay aligned); the walker uses it only
	 * until its next map() call, so a one-slot mapping cache is enough. `area` says whether
	 * the range is part of the queue's rings or of a buffer; a buffer access comes with the
	 * hold of the chain it is for (several chains may be in flight at once), a ring access
	 * with NULL.
	 */
	void *(*map)(void *ctx, gpa_t gpa, uint32_t len, bool writable, enum vq_area area,
	             struct vq_hold *hold);
	/*
	 * May be NULL. The chain of `hold` is done with (returned, broken or given up): the
	 * buffer mappings it used that no chain still in flight uses may, and for memory the
	 * driver lends per request (grants) must, be dropped now; `hold` names nothing after.
	 * The walker calls it in vq_push before it writes the used element, in vq_pop when a
	 * chain turns out broken and in vq_drop, so a driver never sees a buffer returned while
	 * it is still mapped, and a request's completion leaves the others' buffers mapped.
	 */
	void (*release)(void *ctx, struct vq_hold *hold);
	/*
	 * May be NULL. A queue stopped (queue or device reset, virtio 1.2 §2.4): the rings may go
	 * away, so every mapping that depends on the driver keeping memory shared must be dropped.
	 */
	void (*reset)(void *ctx);
};

/** A guest's memory: its ops and their context (e.g. the frontend domain). */
struct vq_mem {
	const struct vq_mem_ops *ops;
	void *ctx;
};

/** One guest buffer of a chain (virtio 1.2 §2.7.5), already checked with map(). */
struct vq_seg {
	gpa_t gpa;
	uint32_t len;
	bool writable;
};

/**
 * A popped descriptor chain (virtio 1.2 §2.7.4): device-readable buffers, then device-writable
 * ones, without zero-length descriptors, at most UINT32_MAX bytes in all.
 */
struct vq_chain {
	uint16_t head; /* the id to give back to vq_push */
	uint16_t seg_count;
	uint16_t readable_count; /* seg[0 .. readable_count) are device-readable */
	uint32_t readable_len;
	uint32_t writable_len;
	struct vq_hold hold; /* what the chain's buffer accesses hold mapped, for release() */
	struct vq_seg seg[VQ_CHAIN_MAX];
};

/** One split virtqueue as the device sees it (virtio 1.2 §2.7); fields are private. */
struct vq {
	const struct vq_mem *mem;
	const char *name; /* the device, for log lines */
	struct log_limit *limit; /* the device's budget of log lines, or NULL */
	uint16_t index;
	uint32_t seg_len_max;

	bool ready;
	bool broken;
	bool event_idx;
	bool indirect;
	uint16_t num;
	gpa_t desc, avail, used;
	uint16_t last_avail;     /* the next available ring entry to take */
	uint16_t avail_idx;      /* avail.idx as last read */
	uint16_t used_idx;       /* the next used ring entry to fill */
	uint16_t signalled_used; /* used_idx when an interrupt was last decided */
	uint16_t used_event;     /* used_event as vq_need_interrupt last read it (EVENT_IDX) */
};

/**
 * Binds a stopped queue to guest memory, with `name` and `index` for its log lines and
 * `seg_len_max` (0: none) as the largest buffer accepted, like size_max (virtio 1.2 §5.2.4).
 */
void vq_init(struct vq *vq, const struct vq_mem *mem, const char *name, uint16_t index,
             uint32_t seg_len_max);
/**
 * Starts the queue at index 0 with `num` entries, its three areas and the negotiated VQ_F_*
 * features (virtio 1.2 §2.7); returns 0, -EINVAL for a size that is not a power of two up to
 * VQ_SIZE_MAX, misaligned areas (16/2/4) or areas that overlap, or -EFAULT if a ring is not
 * guest memory.
 */
int vq_start(struct vq *vq, uint32_t num, gpa_t desc, gpa_t avail, gpa_t used, uint64_t features);
/**
 * Stops the queue and forgets its indexes (virtio 1.2 §2.4: no ring access after a reset);
 * calls the memory's reset().
 */
void vq_reset(struct vq *vq);
/** Whether the queue was started and the driver has not broken it (virtio 1.2 §2.7). */
bool vq_ready(const struct vq *vq);

/**
 * Takes the next available chain into *chain (virtio 1.2 §2.7.5, §2.7.13), whose previous
 * chain, if any, was pushed or dropped; returns 0, -EAGAIN if there is none (then writes
 * avail_event with EVENT_IDX, §2.7.10), -ENODEV if stopped, or VQ_BROKEN (logged) when the
 * driver broke a rule (the chain's mappings are released).
 */
int vq_pop(struct vq *vq, struct vq_chain *chain);
/**
 * Returns `chain` with `len` bytes written into it and publishes used.idx (virtio 1.2
 * §2.7.8), after the memory's release() drops the chain's buffer mappings; returns 0,
 * -EINVAL for a head past the queue, -ENODEV, or VQ_BROKEN.
 */
int vq_push(struct vq *vq, struct vq_chain *chain, uint32_t len);
/**
 * Gives up a popped chain that will not be returned (its request was cancelled): the
 * memory's release() drops its buffer mappings; the rings are not touched.
 */
void vq_drop(struct vq *vq, struct vq_chain *chain);
/**
 * Whether the driver wants a used buffer notification for what was pushed since the last call
 * (virtio 1.2 §2.7.7: used_event with VIRTIO_F_EVENT_IDX, else avail.flags).
 */
bool vq_need_interrupt(struct vq *vq);
/** used_event as vq_need_interrupt last read it (virtio 1.2 §2.7.10); 0 before, or without
 * EVENT_IDX. */
uint16_t vq_used_event(const struct vq *vq);

/**
 * Copies `len` bytes at `offset` of the chain's device-readable part into buf (virtio 1.2
 * §2.7.4), through the chain's hold; returns 0, -EINVAL past that part, or -EFAULT (logged)
 * if map() fails.
 */
int vq_read(const struct vq *vq, struct vq_chain *chain, uint32_t offset, void *buf, uint32_t len);
/**
 * Copies `len` bytes from buf to `offset` of the chain's device-writable part (virtio 1.2
 * §2.7.4), through the chain's hold; returns 0, -EINVAL past that part, or -EFAULT (logged)
 * if map() fails.
 */
int vq_write(const struct vq *vq, struct vq_chain *chain, uint32_t offset, const void *buf,
             uint32_t len);

#endif
