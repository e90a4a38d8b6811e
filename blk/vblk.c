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

#include "blk/disk.h"
#include "blk/vblk.h"
#include "boot/log.h"
#include "virtio/vmmio.h"
#include "virtio/vq.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "struct vblk_config is served as is: byte-swap it for a big-endian host");
_Static_assert(sizeof(struct vblk_config) == 72, "virtio 1.2 §5.2.4 layout");
_Static_assert(offsetof(struct vblk_config, blk_size) == 20, "virtio 1.2 §5.2.4 layout");
_Static_assert(offsetof(struct vblk_config, max_discard_sectors) == 36, "virtio 1.2 §5.2.4 layout");
_Static_assert(offsetof(struct vblk_config, write_zeroes_may_unmap) == 56,
               "virtio 1.2 §5.2.4 layout");
_Static_assert(VBLK_BOUNCE_SIZE % DISK_SECTOR_SIZE == 0, "whole sectors per bounce");

/* Requests returned to a used ring, by every device since boot (vblk_completed_count). */
static uint64_t completed_count;

/* At most one line per burst of the same complaint (vmmio_warn_allowed): a ring full of bad
 * requests, notified again and again, must not flood the console. */
#define req_warn(blk, c, fmt, ...)                                                                 \
	do {                                                                                       \
		if (vmmio_warn_allowed(&(blk)->mmio, fmt))                                         \
			log_warn("%s: request %u: " fmt, (blk)->mmio.cfg.name, (c)->head,          \
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

/* Whether a read or write of len bytes at sector is whole sectors inside the disk. */
static bool rw_ok(struct vblk *blk, const struct vq_chain *c, const char *what, uint64_t sector,
                  uint32_t len)
{
	if (len % DISK_SECTOR_SIZE) {
		req_warn(blk, c, "%s of %u bytes at sector %llu is not whole sectors", what, len,
		         (unsigned long long)sector);
		return false;
	}
	if (!disk_range_ok(blk->disk, sector, len / DISK_SECTOR_SIZE)) {
		req_warn(blk, c, "%s of sectors %llu+%u is past the end of the disk (%llu sectors)",
		         what, (unsigned long long)sector, len / DISK_SECTOR_SIZE,
		         (unsigned long long)blk->disk->sector_count);
		return false;
	}
	return true;
}

/* VIRTIO_BLK_T_IN: disk to the device-writable buffers before the status byte. */
static uint8_t do_in(struct vblk *blk, struct vq *vq, const struct vq_chain *c, uint64_t sector,
                     uint32_t *written)
{
	struct disk *disk = blk->disk;
	uint32_t len = c->writable_len - 1;

	if (!rw_ok(blk, c, "read", sector, len))
		return VBLK_S_IOERR;
	for (uint32_t off = 0; off < len;) {
		uint32_t n = min_u32(len - off, VBLK_BOUNCE_SIZE);
		uint64_t at = sector + off / DISK_SECTOR_SIZE;
		int rc = disk->ops->read(disk, at, n / DISK_SECTOR_SIZE, blk->bounce);

		if (rc) {
			req_warn(blk, c, "disk read of sectors %llu+%u failed (%d)",
			         (unsigned long long)at, n / DISK_SECTOR_SIZE, rc);
			return VBLK_S_IOERR;
		}
		if (vq_write(vq, c, off, blk->bounce, n))
			return VBLK_S_IOERR;
		off += n;
		*written = off;
	}
	return VBLK_S_OK;
}

/* VIRTIO_BLK_T_OUT: the device-readable buffers after the header to the disk. */
static uint8_t do_out(struct vblk *blk, struct vq *vq, const struct vq_chain *c, uint64_t sector)
{
	struct disk *disk = blk->disk;
	uint32_t len = c->readable_len - VBLK_HEADER_BYTES;

	if (disk->read_only) {
		/* §5.2.6.2: IOERR, and no data written. */
		req_warn(blk, c, "write of %u bytes at sector %llu to a read-only disk", len,
		         (unsigned long long)sector);
		return VBLK_S_IOERR;
	}
	if (!rw_ok(blk, c, "write", sector, len))
		return VBLK_S_IOERR;
	for (uint32_t off = 0; off < len;) {
		uint32_t n = min_u32(len - off, VBLK_BOUNCE_SIZE);
		uint64_t at = sector + off / DISK_SECTOR_SIZE;
		int rc;

		if (vq_read(vq, c, VBLK_HEADER_BYTES + off, blk->bounce, n))
			return VBLK_S_IOERR;
		rc = disk->ops->write(disk, at, n / DISK_SECTOR_SIZE, blk->bounce);
		if (rc) {
			req_warn(blk, c, "disk write of sectors %llu+%u failed (%d)",
			         (unsigned long long)at, n / DISK_SECTOR_SIZE, rc);
			return VBLK_S_IOERR;
		}
		off += n;
	}
	return VBLK_S_OK;
}

static uint8_t do_flush(struct vblk *blk, const struct vq_chain *c)
{
	int rc = blk->disk->ops->flush(blk->disk);

	if (rc) {
		req_warn(blk, c, "disk flush failed (%d)", rc);
		return VBLK_S_IOERR;
	}
	return VBLK_S_OK;
}

/* VIRTIO_BLK_T_GET_ID: the 20-byte NUL-padded serial. */
static uint8_t do_get_id(struct vblk *blk, struct vq *vq, const struct vq_chain *c,
                         uint32_t *written)
{
	uint32_t len = c->writable_len - 1;

	if (len < VBLK_ID_BYTES) {
		req_warn(blk, c, "GET_ID buffer of %u bytes is shorter than %u", len,
		         VBLK_ID_BYTES);
		return VBLK_S_IOERR;
	}
	if (vq_write(vq, c, 0, blk->serial, VBLK_ID_BYTES))
		return VBLK_S_IOERR;
	*written = VBLK_ID_BYTES;
	return VBLK_S_OK;
}

/* VIRTIO_BLK_T_DISCARD and _WRITE_ZEROES: every segment is checked before any is applied. */
static uint8_t do_discard_write_zeroes(struct vblk *blk, struct vq *vq, const struct vq_chain *c,
                                       bool discard)
{
	struct disk *disk = blk->disk;
	const char *what = discard ? "discard" : "write-zeroes";
	int feature = discard ? VBLK_F_DISCARD : VBLK_F_WRITE_ZEROES;
	uint32_t seg_max = discard ? blk->config.max_discard_seg : blk->config.max_write_zeroes_seg;
	uint32_t sectors_max =
	    discard ? blk->config.max_discard_sectors : blk->config.max_write_zeroes_sectors;
	uint32_t len = c->readable_len - VBLK_HEADER_BYTES;
	uint8_t raw[VBLK_DWZ_SEG_MAX][VBLK_DWZ_SEG_BYTES];
	uint32_t count;

	if (!(vmmio_features(&blk->mmio) & (1ull << feature))) {
		req_warn(blk, c, "%s without its feature negotiated; unsupported", what);
		return VBLK_S_UNSUPP;
	}
	if (disk->read_only) {
		req_warn(blk, c, "%s on a read-only disk", what);
		return VBLK_S_IOERR;
	}
	if (len == 0 || len % VBLK_DWZ_SEG_BYTES) {
		req_warn(blk, c, "%s data of %u bytes is not whole 16-byte segments", what, len);
		return VBLK_S_IOERR;
	}
	count = len / VBLK_DWZ_SEG_BYTES;
	if (count > seg_max || count > VBLK_DWZ_SEG_MAX) {
		req_warn(blk, c, "%s of %u segments, more than %u", what, count, seg_max);
		return VBLK_S_IOERR;
	}
	if (vq_read(vq, c, VBLK_HEADER_BYTES, raw, len))
		return VBLK_S_IOERR;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t flags = get_le32(raw[i] + 12);

		/* §5.2.6.2: unknown flags, or unmap on a discard, are unsupported. */
		if ((flags & ~VBLK_DWZ_F_UNMAP) || (discard && (flags & VBLK_DWZ_F_UNMAP))) {
			req_warn(blk, c, "%s segment %u has flags 0x%x; unsupported", what, i,
			         flags);
			return VBLK_S_UNSUPP;
		}
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t sector = get_le64(raw[i]);
		uint32_t n = get_le32(raw[i] + 8);

		if (n > sectors_max || !disk_range_ok(disk, sector, n)) {
			req_warn(blk, c,
			         "%s segment %u of sectors %llu+%u is past the end of the disk "
			         "(%llu sectors) or over %u sectors",
			         what, i, (unsigned long long)sector, n,
			         (unsigned long long)disk->sector_count, sectors_max);
			return VBLK_S_IOERR;
		}
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t sector = get_le64(raw[i]);
		uint32_t n = get_le32(raw[i] + 8);
		bool unmap = get_le32(raw[i] + 12) & VBLK_DWZ_F_UNMAP;
		int rc = discard ? disk->ops->discard(disk, sector, n)
		                 : disk->ops->write_zeroes(disk, sector, n, unmap);

		blk->pass_bytes += (uint64_t)n * DISK_SECTOR_SIZE;
		if (rc) {
			req_warn(blk, c, "disk %s of sectors %llu+%u failed (%d)", what,
			         (unsigned long long)sector, n, rc);
			return VBLK_S_IOERR;
		}
	}
	return VBLK_S_OK;
}

/*
 * Answers one chain and returns it to the used ring. Every path ends in vq_push, which
 * drops the chain's buffer mappings (grants) before the used element tells the driver.
 */
static int handle(struct vblk *blk, struct vq *vq, const struct vq_chain *c)
{
	uint8_t hdr[VBLK_HEADER_BYTES];
	uint32_t written = 0;
	uint32_t type;
	uint64_t sector;
	uint8_t status;

	if (c->writable_len == 0) {
		req_warn(blk, c,
		         "no device-writable byte for the status (%u bytes, all device-readable); "
		         "returned with length 0",
		         c->readable_len);
		return vq_push(vq, c->head, 0);
	}
	if (c->readable_len < VBLK_HEADER_BYTES) {
		req_warn(blk, c,
		         "header of %u device-readable bytes, not %u; returned with length 0",
		         c->readable_len, VBLK_HEADER_BYTES);
		return vq_push(vq, c->head, 0);
	}
	if (vq_read(vq, c, 0, hdr, sizeof(hdr)))
		return vq_push(vq, c->head, 0);
	type = get_le32(hdr);
	sector = get_le64(hdr + 8);

	switch (type) {
	case VBLK_T_IN:
		status = do_in(blk, vq, c, sector, &written);
		break;
	case VBLK_T_OUT:
		status = do_out(blk, vq, c, sector);
		break;
	case VBLK_T_FLUSH:
		status = do_flush(blk, c);
		break;
	case VBLK_T_GET_ID:
		status = do_get_id(blk, vq, c, &written);
		break;
	case VBLK_T_DISCARD:
	case VBLK_T_WRITE_ZEROES:
		status = do_discard_write_zeroes(blk, vq, c, type == VBLK_T_DISCARD);
		break;
	default:
		req_warn(blk, c, "type %u is not supported", type);
		status = VBLK_S_UNSUPP;
		break;
	}
	if (vq_write(vq, c, c->writable_len - 1, &status, 1))
		return vq_push(vq, c->head, 0);
	return vq_push(vq, c->head, written + 1);
}

uint64_t vblk_completed_count(void)
{
	return completed_count;
}

int vblk_process(struct vblk *blk, struct vq *vq, bool *interrupt)
{
	unsigned int served = 0;
	int rc;

	blk->pass_bytes = 0;
	while ((rc = vq_pop(vq, &blk->chain)) == 0) {
		blk->pass_bytes += (uint64_t)blk->chain.readable_len + blk->chain.writable_len;
		rc = handle(blk, vq, &blk->chain);
		if (rc)
			break;
		completed_count++;
		if (++served == VBLK_BUDGET || blk->pass_bytes >= VBLK_BYTE_BUDGET) {
			rc = VBLK_MORE;
			break;
		}
	}
	/* Completions pushed before a queue broke still deserve their notification. */
	*interrupt = vq_need_interrupt(vq);
	return rc == -EAGAIN ? 0 : rc;
}

/* Serves one queue for one budget; marks it pending when requests may be left. */
static void serve(struct vblk *blk, uint32_t queue)
{
	bool interrupt;
	int rc = vblk_process(blk, vmmio_vq(&blk->mmio, queue), &interrupt);

	if (rc == VBLK_MORE)
		blk->pending |= 1u << queue;
	else
		blk->pending &= ~(1u << queue);
	if (interrupt)
		vmmio_interrupt(&blk->mmio, VMMIO_INT_VRING);
	if (rc == VQ_BROKEN)
		vmmio_needs_reset(&blk->mmio);
}

static void vblk_notify(void *ctx, uint32_t queue)
{
	serve(ctx, queue);
}

bool vblk_pending(const struct vblk *blk)
{
	return blk->pending != 0;
}

void vblk_serve_pending(struct vblk *blk)
{
	uint32_t pending = blk->pending;

	for (uint32_t q = 0; q < VMMIO_QUEUE_MAX; q++) {
		if (pending & 1u << q)
			serve(blk, q);
	}
}

static void vblk_reset(void *ctx)
{
	struct vblk *blk = ctx;

	blk->pending = 0;
}

static void vblk_config_read(void *ctx, uint32_t offset, void *buf, uint32_t size)
{
	struct vblk *blk = ctx;

	memcpy(buf, (const uint8_t *)&blk->config + offset, size);
}

static const struct vmmio_ops vblk_ops = {
    .notify = vblk_notify,
    .reset = vblk_reset, /* requests complete inside a call: none are in flight at a reset */
    .config_read = vblk_config_read,
};

int vblk_init(struct vblk *blk, const char *name, struct disk *disk, const char *serial,
              const struct vq_mem *mem)
{
	/*
	 * ACCESS_PLATFORM: a frontend whose backend is not dom0 gets xen,grant-dma from libxl,
	 * and Linux then refuses a device without it; map() decodes either kind of address.
	 */
	uint64_t features = 1ull << VMMIO_F_VERSION_1 | 1ull << VMMIO_F_ACCESS_PLATFORM |
	                    1ull << VQ_F_INDIRECT_DESC | 1ull << VQ_F_EVENT_IDX |
	                    1ull << VBLK_F_SIZE_MAX | 1ull << VBLK_F_SEG_MAX |
	                    1ull << VBLK_F_BLK_SIZE | 1ull << VBLK_F_FLUSH;
	struct vmmio_config cfg;
	struct vblk_config *bc = &blk->config;

	if (!name || !disk || !disk->ops || !mem)
		return -EINVAL;
	if (disk->read_only)
		features |= 1ull << VBLK_F_RO;
	else
		features |= 1ull << VBLK_F_DISCARD | 1ull << VBLK_F_WRITE_ZEROES;

	memset(blk, 0, sizeof(*blk));
	blk->disk = disk;
	for (size_t i = 0; serial && i < VBLK_ID_BYTES && serial[i]; i++)
		blk->serial[i] = serial[i];

	bc->capacity = disk->sector_count;
	bc->size_max = VBLK_SIZE_MAX;
	bc->seg_max = VBLK_SEG_MAX;
	bc->blk_size = DISK_SECTOR_SIZE;
	bc->max_discard_sectors = VBLK_DWZ_SECTORS_MAX;
	bc->max_discard_seg = VBLK_DWZ_SEG_MAX;
	bc->discard_sector_alignment = 1;
	bc->max_write_zeroes_sectors = VBLK_DWZ_SECTORS_MAX;
	bc->max_write_zeroes_seg = VBLK_DWZ_SEG_MAX;
	/* Zeroes may not be unmapped: this backend cannot deallocate (§5.2.6.2). */
	bc->write_zeroes_may_unmap = 0;

	cfg = (struct vmmio_config){
	    .name = name,
	    .device_id = VBLK_DEVICE_ID,
	    .vendor_id = 0,
	    .features = features,
	    .queue_count = 1,
	    .queue_num_max = VBLK_QUEUE_SIZE,
	    .seg_len_max = VBLK_SIZE_MAX,
	    .config_size = sizeof(*bc),
	    .ops = &vblk_ops,
	    .ctx = blk,
	    .mem = mem,
	};
	return vmmio_init(&blk->mmio, &cfg);
}
