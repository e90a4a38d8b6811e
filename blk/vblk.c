/*
 * virtio-blk device (virtio 1.2 §5.2.6). A request is a chain whose device-readable part
 * starts with the 16-byte header (it may be split across buffers) and whose last
 * device-writable byte is the status. What the driver wrote is read once into locals and
 * checked before the disk is touched; a bad request gets IOERR or UNSUPP and one log line.
 * used.len counts the bytes written into the chain, status included.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arch/timer.h"
#include "blk/disk.h"
#include "blk/vblk.h"
#include "lib/log.h"
#include "virtio/vmmio.h"
#include "virtio/vq.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "struct vblk_config is served as is: byte-swap it for a big-endian host");
_Static_assert(sizeof(struct vblk_config) == 72, "virtio 1.2 §5.2.4 layout");
_Static_assert(offsetof(struct vblk_config, blk_size) == 20, "virtio 1.2 §5.2.4 layout");
_Static_assert(offsetof(struct vblk_config, max_discard_sectors) == 36, "virtio 1.2 §5.2.4 layout");
_Static_assert(offsetof(struct vblk_config, write_zeroes_may_unmap) == 56,
               "virtio 1.2 §5.2.4 layout");
_Static_assert(VMMIO_QUEUE_MAX <= 32, "a bit per queue in pending and completed");
_Static_assert(VBLK_DWZ_SEG_MAX <= UINT8_MAX, "segment counts fit a uint8_t");
_Static_assert(VBLK_POLLED_PASSES < VBLK_PROBE_EVERY, "a polled queue is found before a probe");

/* Requests returned to a used ring, by every device since boot (vblk_completed_count). */
static uint64_t completed_count;
/* Of those, completed while an older one of their device was at the disk. */
static uint64_t out_of_order_count;

/* At most one line per burst of the same complaint (vmmio_warn_allowed): a ring full of bad
 * requests, notified again and again, must not flood the console. */
#define req_warn(blk, r, fmt, ...)                                                                 \
	do {                                                                                       \
		if (vmmio_warn_allowed(&(blk)->mmio, fmt))                                         \
			log_warn("%s: request %u: " fmt, (blk)->mmio.cfg.name, (r)->chain.head,    \
			         ##__VA_ARGS__);                                                   \
	} while (0)

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static struct vq *req_vq(const struct vblk_req *r)
{
	return vmmio_vq(&r->blk->mmio, r->queue);
}

static const char *type_name(uint32_t type)
{
	switch (type) {
	case VBLK_T_IN:
		return "read";
	case VBLK_T_OUT:
		return "write";
	case VBLK_T_FLUSH:
		return "flush";
	case VBLK_T_DISCARD:
		return "discard";
	}
	return "write-zeroes";
}

/* ---- data between the disk and the chain's buffers (struct disk_buf_ops) ---- */

static int buf_get(struct disk_req *dr, uint32_t offset, void *dst, uint32_t len)
{
	struct vblk_req *r = (struct vblk_req *)dr;

	if (r->cancelled)
		return -ECANCELED;
	if (offset > UINT32_MAX - VBLK_HEADER_BYTES)
		return -EINVAL;
	return vq_read(req_vq(r), &r->chain, VBLK_HEADER_BYTES + offset, dst, len);
}

static int buf_put(struct disk_req *dr, uint32_t offset, const void *src, uint32_t len)
{
	struct vblk_req *r = (struct vblk_req *)dr;
	int rc;

	if (r->cancelled)
		return -ECANCELED;
	/* The last writable byte is the status: data stops before it. */
	if (r->chain.writable_len == 0 || offset > r->chain.writable_len - 1 ||
	    len > r->chain.writable_len - 1 - offset)
		return -EINVAL;
	rc = vq_write(req_vq(r), &r->chain, offset, src, len);
	if (rc == 0 && offset + len > r->written)
		r->written = offset + len;
	return rc;
}

static const struct disk_buf_ops buf_ops = {
    .get = buf_get,
    .put = buf_put,
};

/* ---- completion ---- */

/*
 * Raises one interrupt for the queues that completed requests since the last call, if the
 * driver wants one (§2.7.7); inside a pass this waits for the pass's end.
 */
static void signal_completions(struct vblk *blk)
{
	uint32_t completed = blk->completed;
	bool interrupt = false;

	if (blk->in_pass || !completed)
		return;
	blk->completed = 0;
	for (uint32_t q = 0; q < VMMIO_QUEUE_MAX; q++) {
		struct vblk_queue_stats *st = &blk->qstats[q];
		struct vq *vq = vmmio_vq(&blk->mmio, q);
		bool want;

		if (!(completed & 1u << q))
			continue;
		want = vq_need_interrupt(vq);
		interrupt |= want;
		if (want || vq_used_event(vq) != st->used_event)
			st->quiet_passes = 0;
		else if (st->quiet_passes < VBLK_POLLED_PASSES)
			st->quiet_passes++;
		st->used_event = vq_used_event(vq);
	}
	if (interrupt)
		vmmio_interrupt(&blk->mmio, VMMIO_INT_VRING);
}

/*
 * No queue is to be served, and what the disk holds is cancelled: its completions write
 * nothing into the guest, so the buffer mappings of its chains go now. Returns how many
 * requests the disk still holds.
 */
static unsigned int cancel_all(struct vblk *blk)
{
	blk->pending = 0;
	for (unsigned int i = 0; i < VBLK_REQ_MAX; i++) {
		struct vblk_req *r = &blk->req[i];

		if (!r->busy || r->cancelled)
			continue;
		r->cancelled = true;
		vq_drop(req_vq(r), &r->chain);
	}
	return blk->in_flight;
}

/*
 * The driver broke a queue (§2.1.2): DEVICE_NEEDS_RESET, and a request that will never be
 * returned is cancelled. Completions already pushed keep their interrupt.
 */
static void needs_reset(struct vblk *blk)
{
	vmmio_needs_reset(&blk->mmio);
	cancel_all(blk);
}

/*
 * Writes the status byte and returns the chain (§5.2.6). vq_push drops the chain's buffer
 * mappings (grants) before the used element tells the driver. A cancelled request touches
 * nothing of the guest: its queue was reset under it.
 */
static void finish(struct vblk_req *r, uint8_t status)
{
	struct vblk *blk = r->blk;
	struct vq *vq = req_vq(r);
	uint32_t len = 0;

	r->busy = false;
	if (r->cancelled) {
		if (blk->in_flight == 0)
			vmmio_reset_done(&blk->mmio); /* a reset waited for it, if any */
		return;
	}
	if (r->chain.writable_len &&
	    vq_write(vq, &r->chain, r->chain.writable_len - 1, &status, 1) == 0)
		len = r->written + 1;
	if (vq_push(vq, &r->chain, len) == VQ_BROKEN) {
		needs_reset(blk);
		return;
	}
	completed_count++;
	hist_add(&blk->service, arch_timer_now_ns() - r->picked_ns);
	if (!blk->read_logged && r->type == VBLK_T_IN && status == VBLK_S_OK) {
		blk->read_logged = true;
		log_info("%s: first read completed", blk->mmio.cfg.name);
	}
	blk->completed |= 1u << r->queue;
	/* A pass stopped for want of a free request goes on now. */
	if ((blk->pending & 1u << r->queue) && !blk->in_pass && blk->host.kick)
		blk->host.kick(blk->host.ctx, false);
	signal_completions(blk);
}

static void submit_segment(struct vblk_req *r);

/* Whether a request sent to the disk before r (by seq) is still there. */
static bool older_at_disk(const struct vblk *blk, const struct vblk_req *r)
{
	for (unsigned int i = 0; i < VBLK_REQ_MAX; i++)
		if (blk->req[i].seq && blk->req[i].seq < r->seq)
			return true;
	return false;
}

/* The disk's answer to one disk request of r (struct disk_req's done). */
static void req_done(struct disk_req *dr, int rc)
{
	struct vblk_req *r = (struct vblk_req *)dr;
	struct vblk *blk = r->blk;

	blk->in_flight--;
	if (rc == 0 && r->seg_next < r->seg_count && !r->cancelled) {
		submit_segment(r);
		return;
	}
	/* Nothing else in flight (the common case at queue depth 1) is nothing older. */
	if (blk->in_flight && !r->cancelled && older_at_disk(blk, r))
		out_of_order_count++;
	r->seq = 0;
	/* A buffer the guest took back was logged by the walker; -ECANCELED needs no line. */
	if (rc && rc != -EFAULT && rc != -ECANCELED && !r->cancelled)
		req_warn(blk, r, "disk %s of sectors %llu+%u failed (%d)", type_name(r->type),
		         (unsigned long long)dr->sector, dr->count, rc);
	finish(r, rc ? VBLK_S_IOERR : VBLK_S_OK);
}

static void submit(struct vblk_req *r, enum disk_op op, uint64_t sector, uint32_t count, bool unmap)
{
	r->disk = (struct disk_req){
	    .op = op,
	    .sector = sector,
	    .count = count,
	    .unmap = unmap,
	    .buf = &buf_ops,
	    .done = req_done,
	};
	/* A request's order is when its first disk request went: its later segments keep it. */
	if (!r->seq)
		r->seq = ++r->blk->disk_seq;
	r->blk->in_flight++;
	disk_submit(r->blk->disk, &r->disk);
}

/* The next discard/write-zeroes segment (all were checked before the first went out). */
static void submit_segment(struct vblk_req *r)
{
	const uint8_t *seg = r->seg[r->seg_next++];
	bool unmap = get_le32(seg + 12) & VBLK_DWZ_F_UNMAP;

	r->blk->pass_bytes += (uint64_t)get_le32(seg + 8) * DISK_SECTOR_SIZE;
	submit(r, r->type == VBLK_T_DISCARD ? DISK_DISCARD : DISK_WRITE_ZEROES, get_le64(seg),
	       get_le32(seg + 8), unmap);
}

/* ---- taking a request apart: every check before the disk sees it ---- */

/* Whether a read or write of len bytes at sector is whole sectors inside the disk. */
static bool rw_ok(struct vblk *blk, const struct vblk_req *r, const char *what, uint64_t sector,
                  uint32_t len)
{
	uint32_t max = blk->disk->max_transfer;

	if (len % DISK_SECTOR_SIZE) {
		req_warn(blk, r, "%s of %u bytes at sector %llu is not whole sectors", what, len,
		         (unsigned long long)sector);
		return false;
	}
	if (!disk_range_ok(blk->disk, sector, len / DISK_SECTOR_SIZE)) {
		req_warn(blk, r, "%s of sectors %llu+%u is past the end of the disk (%llu sectors)",
		         what, (unsigned long long)sector, len / DISK_SECTOR_SIZE,
		         (unsigned long long)blk->disk->sector_count);
		return false;
	}
	if (max && len / DISK_SECTOR_SIZE > max) {
		req_warn(blk, r, "%s of %u sectors is more than the disk's %u at once", what,
		         len / DISK_SECTOR_SIZE, max);
		return false;
	}
	return true;
}

/* VIRTIO_BLK_T_IN: disk to the device-writable buffers before the status byte. */
static int start_in(struct vblk *blk, struct vblk_req *r, uint64_t sector)
{
	uint32_t len = r->chain.writable_len - 1;

	if (!rw_ok(blk, r, "read", sector, len))
		return VBLK_S_IOERR;
	submit(r, DISK_READ, sector, len / DISK_SECTOR_SIZE, false);
	return -1;
}

/* VIRTIO_BLK_T_OUT: the device-readable buffers after the header to the disk. */
static int start_out(struct vblk *blk, struct vblk_req *r, uint64_t sector)
{
	uint32_t len = r->chain.readable_len - VBLK_HEADER_BYTES;

	if (blk->disk->read_only) {
		/* §5.2.6.2: IOERR, and no data written. */
		req_warn(blk, r, "write of %u bytes at sector %llu to a read-only disk", len,
		         (unsigned long long)sector);
		return VBLK_S_IOERR;
	}
	if (!rw_ok(blk, r, "write", sector, len))
		return VBLK_S_IOERR;
	submit(r, DISK_WRITE, sector, len / DISK_SECTOR_SIZE, false);
	return -1;
}

/* VIRTIO_BLK_T_FLUSH: only a disk with a volatile cache has anything to do. */
static int start_flush(struct vblk *blk, struct vblk_req *r)
{
	if (!blk->disk->volatile_cache)
		return VBLK_S_OK;
	submit(r, DISK_FLUSH, 0, 0, false);
	return -1;
}

/* VIRTIO_BLK_T_GET_ID: the 20-byte NUL-padded serial. */
static int start_get_id(struct vblk *blk, struct vblk_req *r)
{
	uint32_t len = r->chain.writable_len - 1;

	if (len < VBLK_ID_BYTES) {
		req_warn(blk, r, "GET_ID buffer of %u bytes is shorter than %u", len,
		         VBLK_ID_BYTES);
		return VBLK_S_IOERR;
	}
	if (buf_put(&r->disk, 0, blk->serial, VBLK_ID_BYTES))
		return VBLK_S_IOERR;
	return VBLK_S_OK;
}

/* VIRTIO_BLK_T_DISCARD and _WRITE_ZEROES: every segment is checked before any is applied. */
static int start_discard_write_zeroes(struct vblk *blk, struct vblk_req *r, bool discard)
{
	struct disk *disk = blk->disk;
	const char *what = discard ? "discard" : "write-zeroes";
	int feature = discard ? VBLK_F_DISCARD : VBLK_F_WRITE_ZEROES;
	uint32_t seg_max = discard ? blk->config.max_discard_seg : blk->config.max_write_zeroes_seg;
	uint32_t sectors_max =
	    discard ? blk->config.max_discard_sectors : blk->config.max_write_zeroes_sectors;
	uint32_t len = r->chain.readable_len - VBLK_HEADER_BYTES;
	uint32_t count;

	if (!(vmmio_features(&blk->mmio) & (1ull << feature))) {
		req_warn(blk, r, "%s without its feature negotiated; unsupported", what);
		return VBLK_S_UNSUPP;
	}
	if (disk->read_only) {
		req_warn(blk, r, "%s on a read-only disk", what);
		return VBLK_S_IOERR;
	}
	if (len == 0 || len % VBLK_DWZ_SEG_BYTES) {
		req_warn(blk, r, "%s data of %u bytes is not whole 16-byte segments", what, len);
		return VBLK_S_IOERR;
	}
	count = len / VBLK_DWZ_SEG_BYTES;
	if (count > seg_max || count > VBLK_DWZ_SEG_MAX) {
		req_warn(blk, r, "%s of %u segments, more than %u", what, count, seg_max);
		return VBLK_S_IOERR;
	}
	if (vq_read(req_vq(r), &r->chain, VBLK_HEADER_BYTES, r->seg, len))
		return VBLK_S_IOERR;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t flags = get_le32(r->seg[i] + 12);

		/* §5.2.6.2: unknown flags, or unmap on a discard, are unsupported. */
		if ((flags & ~VBLK_DWZ_F_UNMAP) || (discard && (flags & VBLK_DWZ_F_UNMAP))) {
			req_warn(blk, r, "%s segment %u has flags 0x%x; unsupported", what, i,
			         flags);
			return VBLK_S_UNSUPP;
		}
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t sector = get_le64(r->seg[i]);
		uint32_t n = get_le32(r->seg[i] + 8);

		if (n > sectors_max || !disk_range_ok(disk, sector, n)) {
			req_warn(blk, r,
			         "%s segment %u of sectors %llu+%u is past the end of the disk "
			         "(%llu sectors) or over %u sectors",
			         what, i, (unsigned long long)sector, n,
			         (unsigned long long)disk->sector_count, sectors_max);
			return VBLK_S_IOERR;
		}
	}
	r->seg_next = 0;
	r->seg_count = (uint8_t)count;
	submit_segment(r);
	return -1;
}

/*
 * Starts one chain: the header is read once, checked with the rest, and the request either
 * goes to the disk (its done() finishes it) or is answered at once.
 */
static void start(struct vblk *blk, struct vblk_req *r)
{
	uint8_t hdr[VBLK_HEADER_BYTES];
	uint64_t sector;
	int status;

	r->busy = true;
	r->cancelled = false;
	r->written = 0;
	r->seg_next = r->seg_count = 0;
	if (r->chain.writable_len == 0) {
		req_warn(blk, r,
		         "no device-writable byte for the status (%u bytes, all device-readable); "
		         "returned with length 0",
		         r->chain.readable_len);
		finish(r, 0);
		return;
	}
	if (r->chain.readable_len < VBLK_HEADER_BYTES) {
		req_warn(blk, r,
		         "header of %u device-readable bytes, not %u; returned with length 0",
		         r->chain.readable_len, VBLK_HEADER_BYTES);
		r->chain.writable_len = 0; /* no status byte either */
		finish(r, 0);
		return;
	}
	if (vq_read(req_vq(r), &r->chain, 0, hdr, sizeof(hdr))) {
		r->chain.writable_len = 0;
		finish(r, 0);
		return;
	}
	r->type = get_le32(hdr);
	sector = get_le64(hdr + 8);

	switch (r->type) {
	case VBLK_T_IN:
		status = start_in(blk, r, sector);
		break;
	case VBLK_T_OUT:
		status = start_out(blk, r, sector);
		break;
	case VBLK_T_FLUSH:
		status = start_flush(blk, r);
		break;
	case VBLK_T_GET_ID:
		status = start_get_id(blk, r);
		break;
	case VBLK_T_DISCARD:
	case VBLK_T_WRITE_ZEROES:
		status = start_discard_write_zeroes(blk, r, r->type == VBLK_T_DISCARD);
		break;
	default:
		req_warn(blk, r, "type %u is not supported", r->type);
		status = VBLK_S_UNSUPP;
		break;
	}
	if (status >= 0)
		finish(r, (uint8_t)status);
}

/* ---- serving queues ---- */

static struct vblk_req *free_req(struct vblk *blk)
{
	for (unsigned int i = 0; i < VBLK_REQ_MAX; i++)
		if (!blk->req[i].busy)
			return &blk->req[i];
	return NULL;
}

/*
 * Takes what queue q holds, for one budget, while a request slot is free; returns how many
 * chains it took. The queue stays pending when it may hold more.
 */
static unsigned int serve_queue(struct vblk *blk, uint32_t q)
{
	struct vq *vq = vmmio_vq(&blk->mmio, q);
	unsigned int taken = 0;
	int rc = 0;

	blk->pass_bytes = 0;
	for (;;) {
		struct vblk_req *r = free_req(blk);

		if (!r)
			return taken; /* still pending: a completion kicks the host */
		rc = vq_pop(vq, &r->chain);
		if (rc)
			break;
		r->blk = blk;
		r->queue = (uint16_t)q;
		r->picked_ns = arch_timer_now_ns();
		blk->pass_bytes += (uint64_t)r->chain.readable_len + r->chain.writable_len;
		taken++;
		start(blk, r);
		if (taken == VBLK_BUDGET || blk->pass_bytes >= VBLK_BYTE_BUDGET)
			return taken;
		if (vmmio_status(&blk->mmio) & VMMIO_STATUS_DEVICE_NEEDS_RESET)
			break;
	}
	blk->pending &= ~(1u << q);
	if (rc == VQ_BROKEN)
		needs_reset(blk);
	return taken;
}

/* What a deferred pass over queue q found says how to serve its next notify. */
static void learn(struct vblk *blk, uint32_t q, unsigned int taken)
{
	struct vblk_queue_stats *st = &blk->qstats[q];

	if (taken > 1) {
		st->defer = true;
		st->single_passes = 0;
	} else if (st->defer && ++st->single_passes >= 2) {
		st->defer = false;
		st->since_probe = 0;
	}
}

/* Whether a notify of queue q is served now, inside the guest's register write. */
static bool serve_inline(struct vblk *blk, uint32_t q)
{
	struct vblk_queue_stats *st = &blk->qstats[q];

	if (!blk->host.kick || blk->policy == VBLK_SERVE_INLINE ||
	    st->quiet_passes >= VBLK_POLLED_PASSES)
		return true;
	if (blk->policy == VBLK_SERVE_DEFER || st->defer)
		return false;
	if (++st->since_probe >= VBLK_PROBE_EVERY) {
		st->since_probe = 0;
		return false;
	}
	return true;
}

/* Only the disk holds requests: run again when it says it will have news. */
static void kick_for_disk(struct vblk *blk)
{
	uint64_t due = disk_due(blk->disk);

	if (due == DISK_DUE_NEVER || !blk->host.kick)
		return;
	if (due != DISK_DUE_NOW && blk->host.kick_at)
		blk->host.kick_at(blk->host.ctx, due);
	else
		blk->host.kick(blk->host.ctx, false);
}

/* Serves the pending queues once, then signals what completed. */
static void pass(struct vblk *blk, uint32_t queues, bool deferred)
{
	blk->in_pass = true;
	if (blk->in_flight)
		disk_poll(blk->disk);
	for (uint32_t q = 0; q < blk->mmio.cfg.queue_count; q++) {
		unsigned int taken;

		if (!(queues & blk->pending & 1u << q))
			continue;
		taken = serve_queue(blk, q);
		if (deferred)
			learn(blk, q, taken);
	}
	blk->in_pass = false;
	signal_completions(blk);
	if (blk->pending && blk->host.kick)
		blk->host.kick(blk->host.ctx, false);
	else if (blk->in_flight)
		kick_for_disk(blk);
}

static void vblk_notify(void *ctx, uint32_t queue)
{
	struct vblk *blk = ctx;

	blk->pending |= 1u << queue;
	if (serve_inline(blk, queue))
		pass(blk, 1u << queue, false);
	else
		blk->host.kick(blk->host.ctx, true);
}

void vblk_run(struct vblk *blk)
{
	if (!vmmio_resetting(&blk->mmio)) {
		pass(blk, blk->pending, true);
		return;
	}
	if (blk->in_flight && disk_poll(blk->disk))
		kick_for_disk(blk);
}

bool vblk_pending(const struct vblk *blk)
{
	return blk->pending != 0;
}

unsigned int vblk_in_flight(const struct vblk *blk)
{
	return blk->in_flight;
}

uint64_t vblk_completed_count(void)
{
	return completed_count;
}

uint64_t vblk_out_of_order_count(void)
{
	return out_of_order_count;
}

/*
 * A reset (§2.4) with requests at the disk waits for them: the transport keeps Status
 * non-zero until vmmio_reset_done, and their completions touch nothing.
 */
static int vblk_reset(void *ctx)
{
	struct vblk *blk = ctx;

	memset(blk->qstats, 0, sizeof(blk->qstats));
	blk->completed = 0;
	if (cancel_all(blk) == 0)
		return 0;
	kick_for_disk(blk);
	return -EBUSY;
}

void vblk_stop(struct vblk *blk)
{
	blk->completed = 0;
	cancel_all(blk);
	blk->host.kick = NULL;
}

static void vblk_config_read(void *ctx, uint32_t offset, void *buf, uint32_t size)
{
	struct vblk *blk = ctx;

	memcpy(buf, (const uint8_t *)&blk->config + offset, size);
}

static const struct vmmio_ops vblk_ops = {
    .notify = vblk_notify,
    .reset = vblk_reset,
    .config_read = vblk_config_read,
};

void vblk_set_host(struct vblk *blk, enum vblk_policy policy, const struct vblk_host *host)
{
	blk->policy = policy;
	blk->host = *host;
}

int vblk_init(struct vblk *blk, const char *name, struct disk *disk, const char *serial,
              uint32_t queue_count, const struct vq_mem *mem)
{
	/*
	 * ACCESS_PLATFORM: a frontend whose backend is not dom0 gets xen,grant-dma from libxl,
	 * and Linux then refuses a device without it; map() decodes either kind of address.
	 */
	uint64_t features = 1ull << VMMIO_F_VERSION_1 | 1ull << VMMIO_F_ACCESS_PLATFORM |
	                    1ull << VQ_F_INDIRECT_DESC | 1ull << VQ_F_EVENT_IDX |
	                    1ull << VBLK_F_SIZE_MAX | 1ull << VBLK_F_SEG_MAX |
	                    1ull << VBLK_F_BLK_SIZE;
	uint32_t size_max = VBLK_SIZE_MAX, seg_max = VBLK_SEG_MAX;
	struct vmmio_config cfg;
	struct vblk_config *bc = &blk->config;

	if (!name || !disk || !disk->ops || !disk->ops->submit || !mem || queue_count == 0 ||
	    queue_count > VMMIO_QUEUE_MAX)
		return -EINVAL;
	if (queue_count > 1)
		features |= 1ull << VBLK_F_MQ;
	if (disk->block_size < DISK_SECTOR_SIZE || (disk->block_size & (disk->block_size - 1)))
		return -EINVAL;
	/* A driver keeps to seg_max buffers of size_max bytes: so much fits one transfer. */
	if (disk->max_transfer) {
		uint64_t max_bytes = (uint64_t)disk->max_transfer * DISK_SECTOR_SIZE;

		if (max_bytes < disk->block_size)
			return -EINVAL;
		size_max = (uint32_t)(max_bytes < size_max ? max_bytes : size_max);
		seg_max =
		    (uint32_t)(max_bytes / size_max < seg_max ? max_bytes / size_max : seg_max);
	}
	if (disk->volatile_cache)
		features |= 1ull << VBLK_F_FLUSH;
	if (disk->read_only) {
		features |= 1ull << VBLK_F_RO;
	} else {
		if (disk->discard_max)
			features |= 1ull << VBLK_F_DISCARD;
		if (disk->write_zeroes_max)
			features |= 1ull << VBLK_F_WRITE_ZEROES;
	}

	memset(blk, 0, sizeof(*blk));
	blk->disk = disk;
	blk->policy = VBLK_SERVE_INLINE;
	for (size_t i = 0; serial && i < VBLK_ID_BYTES && serial[i]; i++)
		blk->serial[i] = serial[i];

	bc->capacity = disk->sector_count;
	bc->num_queues = (uint16_t)queue_count;
	bc->size_max = size_max;
	bc->seg_max = seg_max;
	bc->blk_size = disk->block_size;
	if (disk->discard_max) {
		bc->max_discard_sectors = min_u32(disk->discard_max, VBLK_DWZ_SECTORS_MAX);
		bc->max_discard_seg = VBLK_DWZ_SEG_MAX;
		bc->discard_sector_alignment = disk->discard_align ? disk->discard_align : 1;
	}
	if (disk->write_zeroes_max) {
		bc->max_write_zeroes_sectors =
		    min_u32(disk->write_zeroes_max, VBLK_DWZ_SECTORS_MAX);
		bc->max_write_zeroes_seg = VBLK_DWZ_SEG_MAX;
		bc->write_zeroes_may_unmap = disk->write_zeroes_unmap;
	}

	cfg = (struct vmmio_config){
	    .name = name,
	    .device_id = VBLK_DEVICE_ID,
	    .vendor_id = 0,
	    .features = features,
	    .queue_count = queue_count,
	    .queue_num_max = VBLK_QUEUE_SIZE,
	    .seg_len_max = size_max,
	    .config_size = sizeof(*bc),
	    .ops = &vblk_ops,
	    .ctx = blk,
	    .mem = mem,
	};
	return vmmio_init(&blk->mmio, &cfg);
}
