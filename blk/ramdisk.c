/*
 * RAM disk: sectors are bytes of a caller-given buffer, and every request completes inside
 * submit. Data is copied once, between the buffer and the request's pages. Every request
 * checks its range against the size without overflow, and changes to a read-only disk fail
 * with -EROFS. Discard and write-zeroes both zero the range, so reads after either return
 * zeroes (virtio 1.2 §5.2.6.2). Nothing is cached, so there is nothing to flush.
 *
 * With a latency, submit only queues the request with its due time; poll serves those that
 * are due, first due first. With one latency for all, dues come in submission order; with a
 * range, each request's time is drawn from a PRNG seeded the same way at every init (runs
 * repeat), so requests complete out of order and the queue is kept sorted by due time, equal
 * dues in submission order. A held request's data moves when it is served, as a DMA engine's
 * would at the end of a transfer.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "blk/disk.h"
#include "blk/ramdisk.h"

/* One copy a piece: the guest's buffers are pages, so a piece never needs to be larger. */
#define PIECE 4096u

/* Any non-zero xorshift64 seed will do; a fixed one makes every run draw the same times. */
#define RAND_SEED 0x9e3779b97f4a7c15ull

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

/* xorshift64 (Marsaglia, "Xorshift RNGs", 2003): cheap, and good enough to spread times. */
static uint64_t next_rand(struct ramdisk *rd)
{
	uint64_t x = rd->rand;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rd->rand = x;
	return x;
}

/* Queues req after every held request due at or before it, so the first is the first due. */
static void hold(struct disk_queue *q, struct disk_req *req)
{
	struct disk_req *prev = q->last;

	/* Most often due last (one latency for all: always), so that case walks nothing. */
	if (prev && prev->due_ns > req->due_ns) {
		prev = NULL;
		for (struct disk_req *r = q->first; r->due_ns <= req->due_ns; r = r->next)
			prev = r;
	}
	disk_queue_insert_after(q, prev, req);
}

static void ramdisk_submit(struct disk *disk, struct disk_req *req)
{
	struct ramdisk *rd = to_ramdisk(disk);
	uint64_t spread = rd->latency_max_ns - rd->latency_min_ns;

	if (rd->latency_max_ns == 0) {
		req->done(req, serve(disk, req));
		return;
	}
	req->due_ns = rd->now() + rd->latency_min_ns;
	if (spread)
		req->due_ns += next_rand(rd) % (spread + 1);
	hold(&rd->held, req);
}

static unsigned int ramdisk_poll(struct disk *disk)
{
	struct ramdisk *rd = to_ramdisk(disk);
	uint64_t now = rd->held.count ? rd->now() : 0;

	/* done() may submit again (the next segment): that one is due a latency from now. The
	 * queue is in due order, so the due ones are at its head. */
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
	rd->latency_min_ns = 0;
	rd->latency_max_ns = 0;
	rd->rand = RAND_SEED;
	rd->held = (struct disk_queue){0};
	return 0;
}

int ramdisk_set_latency_range(struct ramdisk *rd, uint64_t min_ns, uint64_t max_ns,
                              uint64_t (*now)(void))
{
	if (max_ns > RAMDISK_LATENCY_MAX_NS || min_ns > max_ns || (max_ns && !now))
		return -EINVAL;
	rd->latency_min_ns = min_ns;
	rd->latency_max_ns = max_ns;
	rd->now = now;
	return 0;
}
