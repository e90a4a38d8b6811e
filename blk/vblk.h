/*
 * virtio-blk device (virtio 1.2 §5.2) over a struct disk, behind a virtio-mmio transport.
 * The IOREQ side drives blk->mmio with vmmio_read/vmmio_write/vmmio_irq_take; a write to
 * QueueNotify runs vblk_process on that queue before the write returns, for at most
 * VBLK_BUDGET requests or VBLK_BYTE_BUDGET bytes: a guest that keeps its queue full, or fills
 * it with the largest requests, must not keep vdisk from its other guests. What is left is
 * vblk_pending; the caller runs vblk_serve_pending when the others have had their turn.
 */
#ifndef BLK_VBLK_H
#define BLK_VBLK_H

#include <stdbool.h>
#include <stdint.h>

#include "blk/disk.h"
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
/** Data moves between the guest and the disk through a buffer of this size. */
#define VBLK_BOUNCE_SIZE 4096u

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

/** A virtio-blk device (virtio 1.2 §5.2): its transport, disk, config and scratch space. */
struct vblk {
	struct vmmio_dev mmio;
	struct disk *disk;
	struct vblk_config config;
	char serial[VBLK_ID_BYTES];
	struct vq_chain chain;
	uint32_t pending;    /* queues left with requests at the end of a budget, a bit each */
	uint64_t pass_bytes; /* what the requests of this vblk_process call moved or cleared */
	uint8_t bounce[VBLK_BOUNCE_SIZE];
};

/** The most requests one vblk_process call answers (a full queue of the largest size). */
#define VBLK_BUDGET VQ_SIZE_MAX
/**
 * The bytes after which one vblk_process call stops: each request counts its buffers, and a
 * discard or write-zeroes the sectors it clears, so the time one call takes is bounded by
 * this plus one request (32 MiB of buffers, or 32 segments of VBLK_DWZ_SECTORS_MAX).
 */
#define VBLK_BYTE_BUDGET (8u * 1024u * 1024u)
/** What vblk_process returns when it stopped at a budget with requests perhaps left. */
#define VBLK_MORE 1

/**
 * Sets up a device serving `disk` to the guest whose memory is `mem` (virtio 1.2 §5.2.5),
 * named `name` (kept) in log lines, with `serial` cut to 20 bytes for GET_ID; returns 0 or
 * -EINVAL.
 */
int vblk_init(struct vblk *blk, const char *name, struct disk *disk, const char *serial,
              const struct vq_mem *mem);
/**
 * Answers the requests available on `vq` (virtio 1.2 §5.2.6), within VBLK_BUDGET and
 * VBLK_BYTE_BUDGET,
 * setting *interrupt if the driver wants a used buffer notification (§2.7.7); returns 0 when
 * the queue is empty, VBLK_MORE at the budget, -ENODEV, or VQ_BROKEN when the driver broke
 * the queue and the device must set DEVICE_NEEDS_RESET (§2.1.2).
 */
int vblk_process(struct vblk *blk, struct vq *vq, bool *interrupt);
/** Whether a queue was left with requests at the end of its budget. */
bool vblk_pending(const struct vblk *blk);
/** Serves each pending queue for one more budget (raising the interrupt as vblk_process says). */
void vblk_serve_pending(struct vblk *blk);
/** Requests returned to a used ring since boot, by every device (for dom0's statistics). */
uint64_t vblk_completed_count(void);

#endif
