/*
 * virtio-blk device (virtio 1.2 §5.2) over a struct disk, behind a virtio-mmio transport.
 * The IOREQ side drives blk->mmio with vmmio_read/vmmio_write. A QueueNotify
 * marks its queue; the queue is served inline or from the main loop (enum vblk_policy),
 * each pass taking at most VBLK_BUDGET requests or VBLK_BYTE_BUDGET bytes: a guest that
 * keeps its queue full, or fills it with the largest requests, must not keep vdisk from its
 * other guests. Requests go to the disk as struct disk_req and come back, in any order,
 * through their done(); completions of one pass share one interrupt.
 */
#ifndef BLK_VBLK_H
#define BLK_VBLK_H

#include <stdbool.h>
#include <stdint.h>

#include "blk/disk.h"
#include "lib/hist.h"
#include "virtio/vmmio.h"
#include "virtio/vq.h"

/** DeviceID of a block device (virtio 1.2 §5.2.1). */
#define VBLK_DEVICE_ID 2u

/* Feature bits (virtio 1.2 §5.2.3). */
#define VBLK_F_SIZE_MAX     1
#define VBLK_F_SEG_MAX      2
#define VBLK_F_RO           5
#define VBLK_F_BLK_SIZE     6
#define VBLK_F_FLUSH        9
#define VBLK_F_MQ           12
#define VBLK_F_DISCARD      13
#define VBLK_F_WRITE_ZEROES 14

/* Request types and status values (virtio 1.2 §5.2.6). */
#define VBLK_T_IN           0u
#define VBLK_T_OUT          1u
#define VBLK_T_FLUSH        4u
#define VBLK_T_GET_ID       8u
#define VBLK_T_DISCARD      11u
#define VBLK_T_WRITE_ZEROES 13u
#define VBLK_S_OK           0u
#define VBLK_S_IOERR        1u
#define VBLK_S_UNSUPP       2u
/** The unmap flag of a discard/write-zeroes segment (virtio 1.2 §5.2.6). */
#define VBLK_DWZ_F_UNMAP 1u

/** Bytes of the request header (type, reserved, sector) and of the GET_ID answer (§5.2.6). */
#define VBLK_HEADER_BYTES 16u
#define VBLK_ID_BYTES     20u
/** Bytes of one discard/write-zeroes segment (§5.2.6). */
#define VBLK_DWZ_SEG_BYTES 16u

/* Limits offered in the config space (§5.2.4). */
#define VBLK_QUEUE_SIZE      VQ_SIZE_MAX
#define VBLK_SEG_MAX         (VQ_CHAIN_MAX - 2u) /* data buffers, besides header and status */
#define VBLK_SIZE_MAX        (128u * 1024u)
#define VBLK_DWZ_SEG_MAX     32u
#define VBLK_DWZ_SECTORS_MAX (1u << 14) /* 8 MiB a segment: 256 MiB a request at most */
/** Disk geometry (virtio 1.2 §5.2.4); not offered, so zero. */
struct vblk_geometry {
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
};

/** I/O topology (virtio 1.2 §5.2.4); not offered, so zero. */
struct vblk_topology {
	uint8_t physical_block_exp;
	uint8_t alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
};

/** Device configuration layout (virtio 1.2 §5.2.4), little-endian as the driver reads it. */
struct vblk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	struct vblk_geometry geometry;
	uint32_t blk_size;
	struct vblk_topology topology;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
	uint32_t max_secure_erase_sectors;
	uint32_t max_secure_erase_seg;
	uint32_t secure_erase_sector_alignment;
};

/** Requests one device holds at once: at its disk, or being answered. */
#define VBLK_REQ_MAX 8

struct vblk;

/**
 * One request from its chain to its used element: the disk request it became, the header
 * and discard/write-zeroes segments as read once, and what was written back.
 */
struct vblk_req {
	struct disk_req disk; /* first: a completion finds its request */
	struct vblk *blk;
	bool busy;
	bool cancelled; /* the device was reset (or went away) while the disk had it */
	uint16_t queue;
	uint32_t type;
	uint32_t written;     /* bytes of data put in the device-writable part */
	uint64_t picked_ns;   /* when it was taken from the available ring */
	uint64_t seq;         /* its place in the order requests went to the disk; 0: not there */
	uint8_t seg_next;     /* discard/write-zeroes: the next segment to submit */
	uint8_t seg_count;
	uint8_t seg[VBLK_DWZ_SEG_MAX][VBLK_DWZ_SEG_BYTES];
	struct vq_chain chain;
};

/**
 * When a notified queue is served. INLINE: inside the QueueNotify write, before the IOREQ is
 * answered (the guest's vCPU waits). DEFER: the notify only marks the queue; the owner's
 * kick() serves it from the main loop after giving the CPU away once, so that a driver
 * adding requests can add more before they are taken (and, with EVENT_IDX, without another
 * notify). ADAPTIVE: inline while the deferred passes find one request at a time, deferred
 * while they find more; now and then an inline notify is deferred to look again. A polled
 * queue (VBLK_POLLED_PASSES) is always served inline.
 */
enum vblk_policy {
	VBLK_SERVE_ADAPTIVE,
	VBLK_SERVE_INLINE,
	VBLK_SERVE_DEFER,
};

/**
 * Inline notifies between two deferred ones under VBLK_SERVE_ADAPTIVE. (Backing off while
 * probes find one request was tried: after a QD1 job, a QD32 one then ran inline for its
 * first thousand requests, and the QD1 tail did not move: make bench.)
 */
#define VBLK_PROBE_EVERY 16u

/** What a device asks of its owner. */
struct vblk_host {
	/*
	 * Queues have requests to take, or the disk has some in flight: call vblk_run from
	 * the main loop, after other work (and, for `yield`, after giving the CPU away once).
	 */
	void (*kick)(void *ctx, bool yield);
	/*
	 * May be NULL (kick is called instead). Only the disk has requests in flight and it next
	 * needs polling at due_ns (disk_due): call vblk_run then, or earlier.
	 */
	void (*kick_at)(void *ctx, uint64_t due_ns);
	void *ctx;
};

/** How one queue has been served lately (VBLK_SERVE_ADAPTIVE). */
struct vblk_queue_stats {
	bool defer;            /* the last deferred pass found more than one request */
	uint8_t single_passes; /* deferred passes in a row that found one request or none */
	uint8_t since_probe;   /* inline notifies since the last deferred one */
	uint8_t quiet_passes;  /* passes in a row that wanted no interrupt, used_event still */
	uint16_t used_event;   /* used_event at the last of them */
};

/**
 * Passes in a row whose completions the driver wanted no interrupt for, with used_event
 * never moving, after which a queue counts as polled (Linux's virtio_blk.poll_queues: its
 * used_event stays where the ring was allocated) and is served inline whatever the policy:
 * its driver spins on the used ring and never gives the CPU back, so a deferred notify would
 * wait for a whole Xen time slice. Fewer than VBLK_PROBE_EVERY, so that no probe comes
 * first. A driver that takes interrupts moves used_event each time it handles one; one
 * taken for polling is only served inline (correct, and it turns back at its next request
 * for an interrupt).
 */
#define VBLK_POLLED_PASSES 8u

/** A virtio-blk device (virtio 1.2 §5.2): its transport, disk, config and requests. */
struct vblk {
	struct vmmio_dev mmio;
	struct disk *disk;
	struct vblk_config config;
	char serial[VBLK_ID_BYTES];
	enum vblk_policy policy;
	struct vblk_host host;
	uint32_t pending;     /* queues with requests perhaps left to take, a bit each */
	uint32_t completed;   /* queues with used elements not yet considered for an interrupt */
	unsigned int in_flight; /* requests handed to the disk and not yet done */
	bool in_pass;         /* inside vblk_run or a notify: interrupts wait for its end */
	uint64_t pass_bytes;  /* what the requests of this pass moved or cleared */
	struct vblk_queue_stats qstats[VMMIO_QUEUE_MAX];
	struct vblk_req req[VBLK_REQ_MAX];
	/* Service time: taken from the available ring to put in the used ring (not reset). */
	struct hist service;
	uint64_t disk_seq; /* the seq of the last request sent to the disk */
	bool read_logged; /* the first read was logged: the end of a boot-timing run */
};

/** The most requests one pass over a queue takes (a full queue of the largest size). */
#define VBLK_BUDGET VQ_SIZE_MAX
/**
 * The bytes after which one pass over a queue stops: each request counts its buffers, and a
 * discard or write-zeroes the sectors it clears, so the time one pass takes is bounded by
 * this plus one request (32 MiB of buffers, or 32 segments of VBLK_DWZ_SECTORS_MAX).
 */
#define VBLK_BYTE_BUDGET (8u * 1024u * 1024u)

/**
 * Sets up a device serving `disk` to the guest whose memory is `mem` (virtio 1.2 §5.2.5),
 * named `name` (kept) in log lines, with `serial` cut to 20 bytes for GET_ID and
 * `queue_count` request queues (1 .. VMMIO_QUEUE_MAX; more than one is offered as
 * VIRTIO_BLK_F_MQ, §5.2.3); features and config space follow what the disk can do. It
 * serves inline until vblk_set_host; returns 0 or -EINVAL.
 */
int vblk_init(struct vblk *blk, const char *name, struct disk *disk, const char *serial,
              uint32_t queue_count, const struct vq_mem *mem);
/** Chooses when notified queues are served; `host` (copied) is how the device asks for it. */
void vblk_set_host(struct vblk *blk, enum vblk_policy policy, const struct vblk_host *host);
/**
 * Serves the device from the main loop: moves the disk's requests on, takes what pending
 * queues hold (VBLK_BUDGET or VBLK_BYTE_BUDGET a queue), then raises one interrupt if the
 * driver wants one (virtio 1.2 §2.7.7). Kicks the host again while work is left.
 */
void vblk_run(struct vblk *blk);
/** Whether a queue may hold requests not yet taken (a budget ran out, or a deferred notify). */
bool vblk_pending(const struct vblk *blk);
/** Requests at the disk and not yet done. */
unsigned int vblk_in_flight(const struct vblk *blk);
/**
 * The device goes away: requests still at the disk are cancelled (their completions touch
 * nothing); the caller keeps *blk until vblk_in_flight is 0.
 */
void vblk_stop(struct vblk *blk);
/** Requests returned to a used ring since boot, by every device (for dom0's statistics). */
uint64_t vblk_completed_count(void);
/**
 * Requests a disk completed while one that went to it earlier from the same device was still
 * there, by every device since boot: how often completions overtook each other (dom0's
 * statistics).
 */
uint64_t vblk_out_of_order_count(void);

#endif
