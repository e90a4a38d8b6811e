/*
 * virtio/vmmio.c: a hostile driver's MMIO accesses to a virtio-blk device (on a RAM disk,
 * over the fake guest, with 1 to 8 queues from the first input byte, which also makes the
 * disk read-only or not). Each access is 8 bytes of input: kind, offset (16 bits, anywhere in
 * and past the 0x200 window, or far past it), value. Kind bit 0 writes, bits 1-3 pick the
 * width (1, 2, 4, 8, and bad ones), bit 4 puts the offset at 2^56 and up; kind 0xff instead
 * writes the value into guest memory (a ring field) at the offset. Invariants after each:
 * - a refused read reads 0; MagicValue and Version read as the spec says; QueueNumMax is
 *   the device's for each of its queues and 0 for any other;
 * - QueueNum stays a power of two up to QueueNumMax; a ready queue needs FEATURES_OK;
 * - status bits are never cleared but by a write of 0 (which clears all), are set in the
 *   §3.1.1 order, and DEVICE_NEEDS_RESET appears only on a notify;
 * - InterruptStatus holds only the two defined bits; accepted features are the device's.
 */
#include <stdint.h>
#include <string.h>

#include "blk/disk.h"
#include "blk/ramdisk.h"
#include "blk/vblk.h"
#include "lib/log.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_guest.h"
#include "virtio/vmmio.h"
#include "virtio/vq.h"

#define DISK_BYTES (16u * DISK_SECTOR_SIZE)
#define OPS_MAX    1024
#define KIND_GUEST 0xffu

static uint8_t disk_data[DISK_BYTES];
static struct ramdisk rd;
static struct vblk blk;

static void check_state(uint32_t old, bool reset, bool notify)
{
	struct vmmio_dev *dev = &blk.mmio;
	uint32_t st = vmmio_status(dev);

	if (reset)
		FUZZ_CHECK(st == 0, "status 0x%x after a reset", st);
	else
		FUZZ_CHECK(!(old & ~st), "status 0x%x -> 0x%x clears bits without a reset", old,
		           st);
	FUZZ_CHECK(notify || !(st & ~old & VMMIO_STATUS_DEVICE_NEEDS_RESET),
	           "DEVICE_NEEDS_RESET set by a driver access (0x%x -> 0x%x)", old, st);
	FUZZ_CHECK(!(st & VMMIO_STATUS_DRIVER) || (st & VMMIO_STATUS_ACKNOWLEDGE), "status 0x%x",
	           st);
	FUZZ_CHECK(!(st & VMMIO_STATUS_FEATURES_OK) || (st & VMMIO_STATUS_DRIVER), "status 0x%x",
	           st);
	FUZZ_CHECK(!(st & VMMIO_STATUS_DRIVER_OK) || (st & VMMIO_STATUS_FEATURES_OK), "status 0x%x",
	           st);
	FUZZ_CHECK(!(dev->interrupt_status & ~(VMMIO_INT_VRING | VMMIO_INT_CONFIG)),
	           "InterruptStatus 0x%x", dev->interrupt_status);
	FUZZ_CHECK(!(vmmio_features(dev) & ~dev->cfg.features), "features 0x%llx of 0x%llx",
	           (unsigned long long)vmmio_features(dev), (unsigned long long)dev->cfg.features);
	FUZZ_CHECK(vmmio_features(dev) == 0 || (st & VMMIO_STATUS_FEATURES_OK),
	           "features before FEATURES_OK");
	for (uint32_t i = 0; i < dev->cfg.queue_count; i++) {
		const struct vmmio_queue *q = &dev->queue[i];

		FUZZ_CHECK(q->num && !(q->num & (q->num - 1)) && q->num <= dev->cfg.queue_num_max,
		           "queue %u size %u", i, q->num);
		FUZZ_CHECK(!q->ready || (st & VMMIO_STATUS_FEATURES_OK),
		           "queue %u ready with status 0x%x", i, st);
		FUZZ_CHECK(q->ready == q->vq.ready, "queue %u ready %d, ring state %d", i, q->ready,
		           q->vq.ready);
	}
}

static void check_read(uint64_t offset, uint32_t size, int rc, uint64_t val)
{
	struct vmmio_dev *dev = &blk.mmio;

	if (rc) {
		FUZZ_CHECK(val == 0, "refused read at 0x%llx gave 0x%llx",
		           (unsigned long long)offset, (unsigned long long)val);
		return;
	}
	FUZZ_CHECK(offset < VMMIO_WINDOW && offset + size <= VMMIO_WINDOW && offset % size == 0,
	           "%u-byte read at 0x%llx accepted", size, (unsigned long long)offset);
	FUZZ_CHECK(offset >= VMMIO_REG_CONFIG || size == 4, "%u-byte register read accepted", size);
	FUZZ_CHECK(size == 8 || val >> (8 * size) == 0, "%u-byte read of 0x%llx", size,
	           (unsigned long long)val);
	if (offset == VMMIO_REG_MAGIC)
		FUZZ_CHECK(val == VMMIO_MAGIC, "magic 0x%llx", (unsigned long long)val);
	if (offset == VMMIO_REG_VERSION)
		FUZZ_CHECK(val == VMMIO_VERSION, "version %llu", (unsigned long long)val);
	if (offset == VMMIO_REG_QUEUE_NUM_MAX)
		FUZZ_CHECK(
		    val == (dev->queue_sel < dev->cfg.queue_count ? dev->cfg.queue_num_max : 0),
		    "QueueNumMax %llu for queue %u", (unsigned long long)val, dev->queue_sel);
	if (offset == VMMIO_REG_STATUS)
		FUZZ_CHECK(val == vmmio_status(dev), "status read 0x%llx", (unsigned long long)val);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t widths[8] = {4, 1, 2, 8, 4, 0, 3, 16};
	struct fuzz_in in = {data, size};
	static bool once;

	if (!once) {
		once = true;
		log_set_sink(fuzz_log_discard);
		log_set_level(LOG_DEBUG);
	}
	memset(guest, 0, sizeof(guest));
	memset(&fake, 0, sizeof(fake));
	uint8_t flags = fuzz_u8(&in);

	/* Bit 0: read-only; bits 1-3: the queue count less one (VIRTIO_BLK_F_MQ from 2). */
	if (ramdisk_init(&rd, disk_data, DISK_BYTES, flags & 1) ||
	    vblk_init(&blk, "vblk-fuzz", &rd.disk, "fuzz", 1u + (flags >> 1 & 7), &mem))
		abort();
	for (int n = 0; n < OPS_MAX && in.left; n++) {
		uint8_t kind = fuzz_u8(&in);
		uint64_t offset = fuzz_u16(&in);
		uint64_t val = fuzz_u32(&in);
		uint32_t width = widths[(kind >> 1) & 7];
		uint32_t old = vmmio_status(&blk.mmio);
		bool reset, notify;
		int rc;

		if (kind == KIND_GUEST) {
			/* A ring field, e.g. avail.idx: notifies then find work, or break. */
			guest[offset] = (uint8_t)val;
			guest[offset + 1] = (uint8_t)(val >> 8);
			continue;
		}
		if (kind & 0x10)
			offset |= (uint64_t)fuzz_u8(&in) << 56;
		if (width == 8)
			val |= (uint64_t)fuzz_u32(&in) << 32;
		if (!(kind & 1)) {
			uint64_t v = 0xbad;

			rc = vmmio_read(&blk.mmio, offset, width, &v);
			check_read(offset, width, rc, v);
			check_state(old, false, false);
		} else {
			rc = vmmio_write(&blk.mmio, offset, width, val);
			reset = rc == 0 && offset == VMMIO_REG_STATUS && val == 0;
			notify = offset == VMMIO_REG_QUEUE_NOTIFY;
			FUZZ_CHECK(rc != 0 || offset < VMMIO_REG_CONFIG,
			           "config write at 0x%llx accepted", (unsigned long long)offset);
			check_state(old, reset, notify);
		}
	}
	return 0;
}
