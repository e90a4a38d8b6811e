/*
 * A block device behind one const ops table (RAM disk now, MMC next), in 512-byte sectors,
 * the unit of virtio-blk (virtio 1.2 §5.2.4). The interface is request-based: the caller
 * fills a struct disk_req and submits it; the disk calls its done() exactly once, inside
 * submit (a RAM disk) or later from poll (a medium that takes time), so a disk may hold many
 * requests and complete them in any order. Data moves through the request's buffer ops,
 * which copy straight between the disk and the guest's pages: the disk never keeps a
 * pointer into guest memory. What the medium can do (struct disk fields) is for the device
 * above to offer, not to assume. Callers check ranges with disk_range_ok before submitting;
 * every disk checks them again.
 */
#ifndef BLK_DISK_H
#define BLK_DISK_H

#include <stdbool.h>
#include <stdint.h>

/** Bytes per sector in every request (virtio 1.2 §5.2.4: capacity is in 512-byte units). */
#define DISK_SECTOR_SIZE 512u

struct disk;
struct disk_req;

/** What a request asks of the disk (virtio 1.2 §5.2.6: IN, OUT, FLUSH, DISCARD, WRITE_ZEROES). */
enum disk_op {
	DISK_READ,
	DISK_WRITE,
	DISK_FLUSH,
	DISK_DISCARD,
	DISK_WRITE_ZEROES,
};

/**
 * How a disk reaches the data of a read or write: the submitter copies between the disk's
 * memory and its buffers (guest pages). Each returns 0, or -errno when the buffer is gone
 * (the guest took it back, or the request was cancelled): the disk then fails the request.
 */
struct disk_buf_ops {
	/* Copies `len` bytes at `offset` of the data to write into dst. */
	int (*get)(struct disk_req *req, uint32_t offset, void *dst, uint32_t len);
	/* Copies `len` bytes read from the disk to `offset` of the request's buffers. */
	int (*put)(struct disk_req *req, uint32_t offset, const void *src, uint32_t len);
};

/** One request to a disk; the submitter owns it and must keep it until done() is called. */
struct disk_req {
	enum disk_op op;
	uint64_t sector;
	uint32_t count; /* sectors; 0 for a flush */
	bool unmap;     /* write-zeroes: the sectors may be deallocated (§5.2.6.2) */
	const struct disk_buf_ops *buf; /* read and write */
	/* Called once with 0, -ERANGE outside the disk, -EROFS, -EOPNOTSUPP or -EIO. */
	void (*done)(struct disk_req *req, int rc);
	struct disk_req *next; /* the disk's, while the request is in flight */
	uint64_t due_ns;       /* the disk's, while the request is in flight */
};

/**
 * Requests a disk holds, chained through their `next`, in the order the disk keeps them
 * (disk_queue_push: oldest first; the RAM disk with a latency range: first due first).
 */
struct disk_queue {
	struct disk_req *first, *last;
	unsigned int count;
};

/** Puts req into q right after `prev`, a request q holds, or first if prev is NULL. */
static inline void disk_queue_insert_after(struct disk_queue *q, struct disk_req *prev,
                                           struct disk_req *req)
{
	struct disk_req **at = prev ? &prev->next : &q->first;

	req->next = *at;
	*at = req;
	if (!req->next)
		q->last = req;
	q->count++;
}

/** Appends req to q. */
static inline void disk_queue_push(struct disk_queue *q, struct disk_req *req)
{
	disk_queue_insert_after(q, q->last, req);
}

/** Takes the oldest request off q (which must hold one) and returns it. */
static inline struct disk_req *disk_queue_pop(struct disk_queue *q)
{
	struct disk_req *req = q->first;

	q->first = req->next;
	if (!q->first)
		q->last = NULL;
	q->count--;
	return req;
}

/** disk_due: poll at once (a medium whose progress is found by polling). */
#define DISK_DUE_NOW 0ull
/** disk_due: nothing in flight, no poll needed. */
#define DISK_DUE_NEVER UINT64_MAX

/** A disk's operations (blk/ramdisk.c, a fake slow disk in tests). */
struct disk_ops {
	/* Starts req; done() comes inside this call or from a later poll(). */
	void (*submit)(struct disk *disk, struct disk_req *req);
	/*
	 * May be NULL (every request completes inside submit). Moves requests in flight on,
	 * calling done() for those that finished; returns how many are still in flight.
	 */
	unsigned int (*poll)(struct disk *disk);
	/*
	 * May be NULL (DISK_DUE_NOW while requests are in flight). When poll next has work: an
	 * absolute time on the disk's clock (the caller may sleep until then), DISK_DUE_NOW, or
	 * DISK_DUE_NEVER with nothing in flight.
	 */
	uint64_t (*due)(const struct disk *disk);
};

/**
 * A disk: its ops, size (virtio 1.2 §5.2.4 capacity), and what the medium can do, which the
 * device offers to its driver (§5.2.3 features, §5.2.4 config). A zero limit means "none".
 */
struct disk {
	const struct disk_ops *ops;
	uint64_t sector_count;
	bool read_only;
	bool volatile_cache;       /* writes may sit in a cache until a flush */
	uint32_t block_size;       /* bytes the medium writes at once: 512 or a power of two */
	uint32_t max_transfer;     /* sectors one read or write may cover (0: no limit) */
	uint32_t discard_max;      /* sectors one discard may cover (0: no discard) */
	uint32_t discard_align;    /* sectors a discard should be aligned to (0: 1) */
	uint32_t write_zeroes_max; /* sectors one write-zeroes may cover (0: none) */
	bool write_zeroes_unmap;   /* write-zeroes with unmap may deallocate */
};

/** Whether sectors [sector, sector + count) are on the disk (virtio 1.2 §5.2.6.1), without
 * overflow. */
static inline bool disk_range_ok(const struct disk *disk, uint64_t sector, uint64_t count)
{
	return count <= disk->sector_count && sector <= disk->sector_count - count;
}

/** Hands req to the disk; done() follows, maybe before this returns. */
static inline void disk_submit(struct disk *disk, struct disk_req *req)
{
	disk->ops->submit(disk, req);
}

/** Moves the disk's requests on; returns how many are still in flight (0 without poll). */
static inline unsigned int disk_poll(struct disk *disk)
{
	return disk->ops->poll ? disk->ops->poll(disk) : 0;
}

/** When the disk next needs a disk_poll (see disk_ops.due). */
static inline uint64_t disk_due(const struct disk *disk)
{
	return disk->ops->due ? disk->ops->due(disk) : DISK_DUE_NOW;
}

#endif
