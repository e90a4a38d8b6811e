/*
 * RAM disk: sectors are bytes of a caller-given buffer, and every request completes inside
 * submit. Data is copied once, between the buffer and the request's pages. Every request
 * checks its range against the size without overflow, and changes to a read-only disk fail
 * with -EROFS. Discard and write-zeroes both zero the range, so reads after either return
 * zeroes (virtio 1.2 §5.2.6.2). Nothing is cached, so there is nothing to flush.
 *
 * With a latency, submit only queues the request with its due time; poll serves those that
 * are due, in order (one latency for all, so the queue is in due order). A held request's
 * data moves when it is served, as a DMA engine's would at the end of a transfer.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "blk/disk.h"
#include "blk/ramdisk.h"

/* One copy a piece: the guest's buffers are pages, so a piece never needs to be larger. */
#define PIECE 4096u

static struct ramdisk *to_ramdisk(struct disk *disk)
{
	return (struct ramdisk *)disk;
}

static uint8_t *at(struct disk *disk, uint64_t sector)
{
	return to_ramdisk(disk)->data + sector * DISK_SECTOR_SIZE;
}

static int check(const struct disk *disk, uint64_t sector, uint32_t count, bool change)
{
	if (!disk_range_ok(disk, sector, count))
		return -ERANGE;
	if (change && disk->read_only)
		return -EROFS;
	return 0;
}

/* A read puts the disk's bytes in the buffers; a write gets them from there. */
static int copy(struct disk *disk, struct disk_req *req)
{
	uint8_t *p = at(disk, req->sector);
	uint32_t len = req->count * DISK_SECTOR_SIZE;

	for (uint32_t off = 0; off < len; off += PIECE) {
		uint32_t n = len - off < PIECE ? len - off : PIECE;
		int rc = req->op == DISK_READ ? req->buf->put(req, off, p + off, n)
		                              : req->buf->get(req, off, p + off, n);

		if (rc)
			return rc;
	}
	return 0;
}

static int serve(struct disk *disk, struct disk_req *req)
{
	int rc;

	switch (req->op) {
	case DISK_READ:
	case DISK_WRITE:
		rc = check(disk, req->sector, req->count, req->op == DISK_WRITE);
		if (rc)
			return rc;
		if ((uint64_t)req->count * DISK_SECTOR_SIZE > UINT32_MAX)
			return -ERANGE;
		return copy(disk, req);
	case DISK_FLUSH:
		return 0; /* nothing is cached */
	case DISK_DISCARD:
	case DISK_WRITE_ZEROES:
		rc = check(disk, req->sector, req->count, true);
		if (rc)
			return rc;
		memset(at(disk, req->sector), 0, (size_t)req->count * DISK_SECTOR_SIZE);
		return 0;
	}
	return -EOPNOTSUPP;
}

static void ramdisk_submit(struct disk *disk, struct disk_req *req)
{
	struct ramdisk *rd = to_ramdisk(disk);

	if (rd->latency_ns == 0) {
		req->done(req, serve(disk, req));
		return;
	}
	req->due_ns = rd->now() + rd->latency_ns;
	disk_queue_push(&rd->held, req);
}

static unsigned int ramdisk_poll(struct disk *disk)
{
	struct ramdisk *rd = to_ramdisk(disk);
	uint64_t now = rd->held.count ? rd->now() : 0;

	/* done() may submit again (the next segment): that one is due a latency from now. */
	while (rd->held.first && rd->held.first->due_ns <= now) {
		struct disk_req *req = disk_queue_pop(&rd->held);

		req->done(req, serve(disk, req));
	}
	return rd->held.count;
}

static uint64_t ramdisk_due(const struct disk *disk)
{
	const struct ramdisk *rd = (const struct ramdisk *)disk;

	return rd->held.first ? rd->held.first->due_ns : DISK_DUE_NEVER;
}

static const struct disk_ops ramdisk_ops = {
    .submit = ramdisk_submit,
    .poll = ramdisk_poll,
    .due = ramdisk_due,
};

int ramdisk_init(struct ramdisk *rd, void *buf, uint64_t size, bool read_only)
{
	if (!buf || size % DISK_SECTOR_SIZE)
		return -EINVAL;
	rd->disk = (struct disk){
	    .ops = &ramdisk_ops,
	    .sector_count = size / DISK_SECTOR_SIZE,
	    .read_only = read_only,
	    .block_size = DISK_SECTOR_SIZE,
	    .discard_max = UINT32_MAX,
	    .write_zeroes_max = UINT32_MAX,
	    /* Zeroes are stored, never deallocated: unmap buys nothing here. */
	    .write_zeroes_unmap = false,
	};
	rd->data = buf;
	rd->latency_ns = 0;
	rd->held = (struct disk_queue){0};
	return 0;
}

int ramdisk_set_latency(struct ramdisk *rd, uint64_t latency_ns, uint64_t (*now)(void))
{
	if (latency_ns > RAMDISK_LATENCY_MAX_NS || (latency_ns && !now))
		return -EINVAL;
	rd->latency_ns = latency_ns;
	rd->now = now;
	return 0;
}
