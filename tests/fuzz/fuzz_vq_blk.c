/*
 * virtio/vq.c + blk/vblk.c: a hostile driver. The fuzz bytes are a script of driver actions
 * over the fake guest's first 16 pages (raw writes, descriptors with any address, length,
 * flags and next, available entries, any avail.idx), notifies, device and queue resets,
 * and "flips": a guest byte changed at the N-th map() from now, as a driver racing with the
 * device would. The device runs on a small RAM disk, read-only or not.
 *
 * map() hands out a page-sized slot that holds a copy of just the mapped range, the rest
 * poisoned for ASan and written back at the next map(): an access outside what was mapped,
 * or through a pointer kept past the next map(), is an ASan report. Invariants checked:
 * - map() is asked only for guest memory, within a page, ring accesses within the rings and
 *   ring writes within the used ring (fake_guest refuses the rest), a buffer access with
 *   the hold of a request's chain and a ring access with none;
 * - the disk is only asked for ranges on it, and never to change a read-only disk;
 * - used.idx moves by one, after a used element that returns the chain just popped;
 * - a chain returned with a length wrote its status byte last, and it is OK, IOERR or UNSUPP;
 * - a broken queue sets DEVICE_NEEDS_RESET, and after that no notify touches guest memory
 *   until the driver resets the device.
 *
 * With a disk that holds requests until the script lets one go (any of them), chains
 * complete out of order: every used element must return a chain that is out, and a device
 * reset with requests at the disk must keep Status non-zero until they are back and let
 * none of them touch guest memory. The notify may be served inline or left for a run.
 *
 * Input: one byte of flags (read-only, slow disk, policy), one of device set-up, then
 * actions (see the OP_* list).
 */
#include <sanitizer/asan_interface.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk/disk.h"
#include "blk/ramdisk.h"
#include "blk/vblk.h"
#include "lib/log.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_guest.h"
#include "virtio/vmmio.h"
#include "virtio/vq.h"

#define DESC  (GUEST_BASE + 0x0000)
#define AVAIL (GUEST_BASE + 0x1000)
#define USED  (GUEST_BASE + 0x2000)
/* What the script can write: 16 pages, any u16 offset. */
#define SCRIPT_BYTES 0x10000u

#define DISK_SECTORS 64u
#define DISK_BYTES   (DISK_SECTORS * DISK_SECTOR_SIZE)
#define OPS_MAX      512
#define FLIPS_MAX    8

/* Set-up byte: log2 of the queue size (mod 9), features the driver drops, reset only. */
#define SETUP_NO_INDIRECT 0x10u
#define SETUP_NO_EVENT    0x20u
#define SETUP_NO_DWZ      0x40u
#define SETUP_RESET_ONLY  0x80u

enum op {
	OP_WRITE,  /* u16 offset, u8 length, bytes: raw guest memory */
	OP_DESC,   /* u16 slot, u8 mode, address (u16 or u64), u32 len, u16 flags, u16 next */
	OP_AVAIL,  /* u16 head: the next available entry, avail.idx bumped */
	OP_IDX,    /* u16: avail.idx as is */
	OP_NOTIFY, /* u8: queue (bit 0) */
	OP_FLIP,   /* u8 maps from now, u16 offset, u8 xor */
	OP_SETUP,  /* u8 set-up: reset the device and initialize it as a driver does */
	OP_QRESET, /* queue reset (QueueReady 0) and restart */
	OP_COMPLETE, /* u8: the disk finishes that one of the requests it holds, then a run */
	OP_RUN,      /* the main loop serves the device (a deferred notify, a budget left) */
	OP_COUNT,
};

static uint8_t disk_data[DISK_BYTES];
static uint8_t disk_before[DISK_BYTES]; /* the pattern every run starts from */
static struct ramdisk rd;
static struct disk checked; /* the device's disk: checks each call, then asks rd */
static struct vblk blk;

/* The mapping slot. */
static uint8_t *slot;
static struct {
	bool live;
	gpa_t gpa;
	uint32_t len;
	bool writable;
	enum vq_area area;
	uint8_t *host;
} cur;

/* The driver's side and what the checks expect of the device. */
static struct {
	uint16_t num;
	uint16_t avail_idx;
	bool ready;
	bool needs_reset;  /* DEVICE_NEEDS_RESET seen: no guest access until a reset */
	uint16_t popped[VQ_SIZE_MAX]; /* times each head was taken and not yet returned */
	unsigned int popped_count;
	uint16_t used_idx; /* the device's used.idx as last written */
	bool elem_written; /* a used element was written since used.idx last moved */
	uint32_t elem_id, elem_len;
	uint32_t status_len; /* the last buffer write before the used element: its size */
	uint8_t status;      /* and its last byte */
	struct {
		unsigned long at; /* fake.calls value it fires at */
		uint32_t off;
		uint8_t xor ;
	} flips[FLIPS_MAX];
	unsigned int flip_count;
} drv;

/* ---- the disk the device sees ---------------------------------------------------- */

static void check_range(const char *what, uint64_t sector, uint64_t count, bool change)
{
	FUZZ_CHECK(disk_range_ok(&rd.disk, sector, count), "%s of sectors %llu+%llu", what,
	           (unsigned long long)sector, (unsigned long long)count);
	FUZZ_CHECK(!change || !rd.disk.read_only, "%s of sectors %llu+%llu on a read-only disk",
	           what, (unsigned long long)sector, (unsigned long long)count);
}

/* A disk that holds requests (flags bit 1) until OP_COMPLETE lets one go, in any order. */
static struct {
	bool slow;
	struct disk_req *held[VBLK_REQ_MAX];
	unsigned int count;
	int ready; /* the one poll() completes next, or -1 */
} held;

static void checked_submit(struct disk *d, struct disk_req *req)
{
	switch (req->op) {
	case DISK_READ:
		check_range("read", req->sector, req->count, false);
		break;
	case DISK_WRITE:
		check_range("write", req->sector, req->count, true);
		break;
	case DISK_DISCARD:
		check_range("discard", req->sector, req->count, true);
		break;
	case DISK_WRITE_ZEROES:
		check_range("write-zeroes", req->sector, req->count, true);
		break;
	case DISK_FLUSH:
		break;
	}
	if (!held.slow) {
		disk_submit(&rd.disk, req);
		return;
	}
	FUZZ_CHECK(held.count < VBLK_REQ_MAX, "more than %u requests at the disk", VBLK_REQ_MAX);
	held.held[held.count++] = req;
}

static unsigned int checked_poll(struct disk *d)
{
	struct disk_req *req;

	if (held.ready < 0 || (unsigned int)held.ready >= held.count)
		return held.count;
	req = held.held[held.ready];
	held.held[held.ready] = held.held[--held.count];
	held.ready = -1;
	disk_submit(&rd.disk, req);
	return held.count;
}

static const struct disk_ops checked_ops = {
    .submit = checked_submit,
    .poll = checked_poll,
};

static void no_kick(void *ctx, bool yield)
{
}

/* ---- guest memory as the device sees it ------------------------------------------ */

static bool within(gpa_t gpa, uint32_t len, gpa_t start, uint64_t size)
{
	return gpa >= start && gpa - start + len <= size;
}

/*
 * What the device wrote through the slot (`changed`: it differs from the guest's bytes):
 * checks the used ring protocol as it happens. Mappings that only check a range (vq_start,
 * add_seg) are writable too, and write nothing.
 */
static void observe_write(bool changed)
{
	const uint8_t *p = slot + (cur.gpa & (VQ_PAGE_SIZE - 1));
	gpa_t elem0 = USED + 4 + 8u * (drv.used_idx & (drv.num - 1u));

	if (cur.area == VQ_AREA_BUFFER) {
		drv.status_len = cur.len;
		drv.status = p[cur.len - 1];
		return;
	}
	if (cur.gpa == USED + 2 && cur.len == 2) {
		uint16_t idx = (uint16_t)(p[0] | p[1] << 8);

		FUZZ_CHECK(idx == (uint16_t)(drv.used_idx + 1), "used.idx %u after %u", idx,
		           drv.used_idx);
		FUZZ_CHECK(drv.elem_written, "used.idx %u without a used element", idx);
		drv.used_idx = idx;
		drv.elem_written = false;
		return;
	}
	if (cur.gpa == elem0 && cur.len == 8) {
		uint32_t id = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
		uint32_t len = p[4] | p[5] << 8 | p[6] << 16 | (uint32_t)p[7] << 24;

		FUZZ_CHECK(id < VQ_SIZE_MAX && drv.popped[id], "used element for %u, not out", id);
		FUZZ_CHECK(!drv.elem_written, "two used elements for one used.idx");
		if (len) {
			FUZZ_CHECK(drv.status_len == 1,
			           "chain %u: last write before used was %u bytes", id,
			           drv.status_len);
			FUZZ_CHECK(drv.status <= VBLK_S_UNSUPP, "chain %u: status %u", id,
			           drv.status);
		}
		if (id < VQ_SIZE_MAX && drv.popped[id]) {
			drv.popped[id]--;
			drv.popped_count--;
		}
		drv.elem_written = true;
		drv.status_len = 0;
		return;
	}
	/* avail_event (§2.7.10) is the only other field the device may write. */
	FUZZ_CHECK(!changed || cur.gpa == USED + 4 + 8u * drv.num && cur.len == 2,
	           "ring write at 0x%llx+%u (used.idx %u)", (unsigned long long)cur.gpa, cur.len,
	           drv.used_idx);
}

/* Ends the current mapping: copies what the device wrote back and poisons the slot. */
static void slot_flush(void)
{
	if (cur.live && cur.writable) {
		const uint8_t *p = slot + (cur.gpa & (VQ_PAGE_SIZE - 1));
		bool changed = memcmp(cur.host, p, cur.len) != 0;

		memcpy(cur.host, p, cur.len);
		observe_write(changed);
	}
	cur.live = false;
	ASAN_POISON_MEMORY_REGION(slot, VQ_PAGE_SIZE);
}

/* Whether hold is the hold of one of the device's request chains. */
static bool held_by_a_request(const struct vq_hold *hold)
{
	for (unsigned int i = 0; i < VBLK_REQ_MAX; i++)
		if (hold == &blk.req[i].chain.hold)
			return true;
	return false;
}

static void *strict_map(void *ctx, gpa_t gpa, uint32_t len, bool writable, enum vq_area area,
                        struct vq_hold *hold)
{
	uint32_t off = (uint32_t)(gpa & (VQ_PAGE_SIZE - 1));
	uint8_t *host;

	slot_flush();
	/* fake_guest checks the page contract, refuses what is not guest memory, runs flips. */
	host = mem.ops->map(mem.ctx, gpa, len, writable, area, hold);
	FUZZ_CHECK(fake.contract_violations == 0, "map of 0x%llx+%u crosses a page or is empty",
	           (unsigned long long)gpa, len);
	FUZZ_CHECK(area == VQ_AREA_RING ? !hold : held_by_a_request(hold),
	           "map of 0x%llx+%u (%s) with hold %p, not its chain's", (unsigned long long)gpa,
	           len, area == VQ_AREA_RING ? "ring" : "buffer", (void *)hold);
	if (!host)
		return NULL;
	if (area == VQ_AREA_RING) {
		FUZZ_CHECK(within(gpa, len, DESC, 16u * drv.num) ||
		               within(gpa, len, AVAIL, 6u + 2u * drv.num) ||
		               within(gpa, len, USED, 6u + 8u * drv.num),
		           "ring access 0x%llx+%u outside the rings of size %u",
		           (unsigned long long)gpa, len, drv.num);
		FUZZ_CHECK(!writable || within(gpa, len, USED, 6u + 8u * drv.num),
		           "ring write 0x%llx+%u outside the used ring", (unsigned long long)gpa,
		           len);
		/* A 2-byte read of an available entry is vq_pop taking a head. */
		if (!writable && len == 2 && within(gpa, len, AVAIL + 4, 2u * drv.num)) {
			uint16_t head = (uint16_t)(host[0] | host[1] << 8);

			/* A head the walker refuses (past the queue) is never returned. */
			/*
			 * A head the walker refuses (past the queue) is never returned; one the
			 * driver made available twice is out twice (two requests on one chain).
			 */
			if (head < drv.num) {
				drv.popped[head]++;
				drv.popped_count++;
			}
		}
	}
	ASAN_UNPOISON_MEMORY_REGION(slot + off, len);
	memcpy(slot + off, host, len);
	cur = (typeof(cur)){true, gpa, len, writable, area, host};
	return slot + off;
}

static void strict_release(void *ctx, struct vq_hold *hold)
{
	slot_flush();
	mem.ops->release(mem.ctx, hold);
}

static void strict_reset(void *ctx)
{
	slot_flush();
	mem.ops->reset(mem.ctx);
}

static const struct vq_mem_ops strict_ops = {
    .map = strict_map, .release = strict_release, .reset = strict_reset};
static const struct vq_mem strict_mem = {.ops = &strict_ops, .ctx = NULL};

/* A driver changing ring or buffer bytes while the device reads them. */
static void flip_hook(gpa_t gpa, uint32_t len, bool writable)
{
	for (unsigned int i = 0; i < drv.flip_count; i++)
		if (drv.flips[i].at == fake.calls)
			guest[drv.flips[i].off] ^= drv.flips[i].xor ;
}

/* ---- the driver ------------------------------------------------------------------ */

static uint32_t rd_reg(uint32_t offset)
{
	uint64_t v = 0;

	vmmio_read(&blk.mmio, offset, 4, &v);
	return (uint32_t)v;
}

static void wr_reg(uint32_t offset, uint32_t v)
{
	vmmio_write(&blk.mmio, offset, 4, v);
	slot_flush();
}

/* After a reset nothing is popped or pushed; the guest's used ring keeps what it had. */
static void queue_started(void)
{
	memset(drv.popped, 0, sizeof(drv.popped));
	drv.popped_count = 0;
	drv.used_idx = 0;
	drv.elem_written = false;
	drv.status_len = 0;
}

static void queue_setup(void)
{
	wr_reg(VMMIO_REG_QUEUE_SEL, 0);
	wr_reg(VMMIO_REG_QUEUE_NUM, drv.num);
	wr_reg(VMMIO_REG_QUEUE_DESC_LOW, (uint32_t)DESC);
	wr_reg(VMMIO_REG_QUEUE_DESC_HIGH, (uint32_t)(DESC >> 32));
	wr_reg(VMMIO_REG_QUEUE_DRIVER_LOW, (uint32_t)AVAIL);
	wr_reg(VMMIO_REG_QUEUE_DRIVER_HIGH, (uint32_t)(AVAIL >> 32));
	wr_reg(VMMIO_REG_QUEUE_DEVICE_LOW, (uint32_t)USED);
	wr_reg(VMMIO_REG_QUEUE_DEVICE_HIGH, (uint32_t)(USED >> 32));
	queue_started();
	wr_reg(VMMIO_REG_QUEUE_READY, 1);
	FUZZ_CHECK(rd_reg(VMMIO_REG_QUEUE_READY) == 1, "queue of %u not ready", drv.num);
}

/* The virtio 1.2 §3.1.1 sequence, as Linux runs it, with the features the set-up keeps. */
static void driver_setup(uint8_t setup)
{
	uint64_t features;

	wr_reg(VMMIO_REG_STATUS, 0);
	/*
	 * Requests at the disk hold the reset back (Status stays non-zero); once the disk gives
	 * them back it completes, and nothing of theirs reaches guest memory.
	 */
	if (held.count) {
		unsigned long calls = fake.calls;

		FUZZ_CHECK(vmmio_status(&blk.mmio) != 0, "status 0 with %u requests at the disk",
		           held.count);
		while (held.count) {
			held.ready = (int)(held.count - 1);
			vblk_run(&blk);
		}
		slot_flush();
		FUZZ_CHECK(fake.calls == calls, "a request finished after a reset touched guest "
		           "memory (%lu maps)", fake.calls - calls);
	}
	drv.ready = false;
	drv.needs_reset = false;
	queue_started();
	FUZZ_CHECK(vmmio_status(&blk.mmio) == 0, "status 0x%x after a reset",
	           vmmio_status(&blk.mmio));
	if (setup & SETUP_RESET_ONLY)
		return;
	wr_reg(VMMIO_REG_STATUS, VMMIO_STATUS_ACKNOWLEDGE);
	wr_reg(VMMIO_REG_STATUS, VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER);
	wr_reg(VMMIO_REG_DEVICE_FEATURES_SEL, 0);
	features = rd_reg(VMMIO_REG_DEVICE_FEATURES);
	wr_reg(VMMIO_REG_DEVICE_FEATURES_SEL, 1);
	features |= (uint64_t)rd_reg(VMMIO_REG_DEVICE_FEATURES) << 32;
	if (setup & SETUP_NO_INDIRECT)
		features &= ~(1ull << VQ_F_INDIRECT_DESC);
	if (setup & SETUP_NO_EVENT)
		features &= ~(1ull << VQ_F_EVENT_IDX);
	if (setup & SETUP_NO_DWZ)
		features &= ~(1ull << VBLK_F_DISCARD | 1ull << VBLK_F_WRITE_ZEROES);
	wr_reg(VMMIO_REG_DRIVER_FEATURES_SEL, 0);
	wr_reg(VMMIO_REG_DRIVER_FEATURES, (uint32_t)features);
	wr_reg(VMMIO_REG_DRIVER_FEATURES_SEL, 1);
	wr_reg(VMMIO_REG_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr_reg(VMMIO_REG_STATUS, 11);
	FUZZ_CHECK(rd_reg(VMMIO_REG_STATUS) == 11, "FEATURES_OK refused for 0x%llx",
	           (unsigned long long)features);
	drv.num = (uint16_t)(1u << ((setup & 0xf) % 9));
	drv.avail_idx = 0;
	queue_setup();
	wr_reg(VMMIO_REG_STATUS, 15);
	FUZZ_CHECK(rd_reg(VMMIO_REG_STATUS) == 15, "DRIVER_OK refused");
	drv.ready = true;
}

static void put(uint32_t off, const void *src, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		guest[(off + i) % SCRIPT_BYTES] = ((const uint8_t *)src)[i];
}

static void put16_at(uint32_t off, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	put(off, b, 2);
}

/* After the device ran (a notify served, a deferred run, a completion): check its state. */
static void observe_device(void)
{
	/* A queue the driver broke makes the device need a reset; it stays so. */
	if (blk.mmio.queue[0].vq.broken) {
		FUZZ_CHECK(vmmio_status(&blk.mmio) & VMMIO_STATUS_DEVICE_NEEDS_RESET,
		           "queue broken, status 0x%x", vmmio_status(&blk.mmio));
		drv.needs_reset = true;
	} else if (!drv.needs_reset) {
		FUZZ_CHECK(!(vmmio_status(&blk.mmio) & VMMIO_STATUS_DEVICE_NEEDS_RESET),
		           "status 0x%x with a working queue", vmmio_status(&blk.mmio));
		/* Every chain popped without breaking the queue was returned or is at the disk. */
		FUZZ_CHECK(!drv.elem_written, "a used element without used.idx");
		FUZZ_CHECK(drv.popped_count == held.count, "%u chains out, %u requests at the disk",
		           drv.popped_count, held.count);
	}
}

static void notify(uint32_t queue)
{
	unsigned long calls = fake.calls;
	bool was_ready = drv.ready && !drv.needs_reset;

	wr_reg(VMMIO_REG_QUEUE_NOTIFY, queue);
	if (!was_ready) {
		FUZZ_CHECK(!drv.needs_reset ||
		               (vmmio_status(&blk.mmio) & VMMIO_STATUS_DEVICE_NEEDS_RESET),
		           "DEVICE_NEEDS_RESET cleared without a reset (status 0x%x)",
		           vmmio_status(&blk.mmio));
		FUZZ_CHECK(fake.calls == calls, "notify touched guest memory with the device %s",
		           drv.ready ? "needing a reset" : "not ready");
		return;
	}
	observe_device();
}

/* The main loop's turn: a deferred notify, a budget left, requests back from the disk. */
static void run(void)
{
	unsigned long calls = fake.calls;
	bool was_ready = drv.ready && !drv.needs_reset;

	vblk_run(&blk);
	slot_flush();
	/* Requests at the disk were cancelled when the queue broke: they touch nothing. */
	if (!was_ready)
		FUZZ_CHECK(fake.calls == calls, "a run touched guest memory with the device %s",
		           drv.ready ? "needing a reset" : "not ready");
	if (drv.ready)
		observe_device();
}

/* FUZZ_LOG=1 in the environment: vdisk's lines on stderr, for replaying an artifact. */
static void fuzz_log_stderr(const char *buf, size_t len)
{
	fwrite(buf, 1, len, stderr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t flags = fuzz_u8(&in);

	if (!slot) {
		slot = aligned_alloc(VQ_PAGE_SIZE, VQ_PAGE_SIZE);
		for (uint32_t i = 0; i < DISK_BYTES; i++)
			disk_before[i] = (uint8_t)(i * 13 + i / 512);
		log_set_sink(getenv("FUZZ_LOG") ? fuzz_log_stderr : fuzz_log_discard);
		log_set_level(LOG_DEBUG);
	}
	memset(guest, 0, sizeof(guest));
	memset(&fake, 0, sizeof(fake));
	memset(&drv, 0, sizeof(drv));
	memset(&cur, 0, sizeof(cur));
	fake.hook = flip_hook;
	memcpy(disk_data, disk_before, DISK_BYTES);
	if (ramdisk_init(&rd, disk_data, DISK_BYTES, flags & 1))
		abort();
	memset(&held, 0, sizeof(held));
	held.slow = flags & 2;
	held.ready = -1;
	checked = rd.disk;
	checked.ops = &checked_ops;
	if (vblk_init(&blk, "vblk-fuzz", &checked, "fuzz-serial", 1, &strict_mem))
		abort();
	/* Bits 2-3: the serving policy (inline, deferred, adaptive). */
	if (flags & 12)
		vblk_set_host(&blk, (flags >> 2 & 3) == 1 ? VBLK_SERVE_DEFER : VBLK_SERVE_ADAPTIVE,
		              &(struct vblk_host){.kick = no_kick});
	driver_setup(fuzz_u8(&in));

	for (int n = 0; n < OPS_MAX && in.left; n++) {
		switch (fuzz_u8(&in) % OP_COUNT) {
		case OP_WRITE: {
			uint16_t off = fuzz_u16(&in);
			uint8_t len = fuzz_u8(&in);

			if (len > in.left)
				len = (uint8_t)in.left;
			put(off, in.p, len);
			in.p += len;
			in.left -= len;
			break;
		}
		case OP_DESC: {
			uint32_t off = 16u * fuzz_u16(&in) % SCRIPT_BYTES;
			uint8_t mode = fuzz_u8(&in);
			uint64_t addr = mode & 1 ? fuzz_u64(&in) : GUEST_BASE + fuzz_u16(&in);
			uint8_t raw[16];
			uint32_t len = fuzz_u32(&in);
			uint16_t dflags = fuzz_u16(&in), next = fuzz_u16(&in);

			for (int i = 0; i < 8; i++)
				raw[i] = (uint8_t)(addr >> 8 * i);
			for (int i = 0; i < 4; i++)
				raw[8 + i] = (uint8_t)(len >> 8 * i);
			raw[12] = (uint8_t)dflags;
			raw[13] = (uint8_t)(dflags >> 8);
			raw[14] = (uint8_t)next;
			raw[15] = (uint8_t)(next >> 8);
			put(off, raw, sizeof(raw));
			break;
		}
		case OP_AVAIL: {
			uint16_t head = fuzz_u16(&in);

			if (drv.num)
				put16_at(AVAIL - GUEST_BASE + 4 + 2u * (drv.avail_idx % drv.num),
				         head);
			drv.avail_idx++;
			put16_at(AVAIL - GUEST_BASE + 2, drv.avail_idx);
			break;
		}
		case OP_IDX:
			drv.avail_idx = fuzz_u16(&in);
			put16_at(AVAIL - GUEST_BASE + 2, drv.avail_idx);
			break;
		case OP_NOTIFY:
			notify(fuzz_u8(&in) & 1);
			break;
		case OP_FLIP: {
			uint8_t after = fuzz_u8(&in);
			uint16_t off = fuzz_u16(&in);
			uint8_t x = fuzz_u8(&in);

			if (drv.flip_count < FLIPS_MAX)
				drv.flips[drv.flip_count++] =
				    (typeof(drv.flips[0])){fake.calls + 1 + after, off, x};
			break;
		}
		case OP_SETUP:
			driver_setup(fuzz_u8(&in));
			break;
		case OP_COMPLETE: {
			uint8_t which = fuzz_u8(&in);

			held.ready = held.count ? (int)(which % held.count) : -1;
			run();
			break;
		}
		case OP_RUN:
			run();
			break;
		case OP_QRESET:
			if (!drv.ready || held.count)
				break; /* a queue reset under requests at the disk: the driver's bug */
			wr_reg(VMMIO_REG_QUEUE_READY, 0);
			FUZZ_CHECK(rd_reg(VMMIO_REG_QUEUE_READY) == 0, "queue still ready");
			queue_setup();
			break;
		}
	}
	slot_flush();
	if (rd.disk.read_only)
		FUZZ_CHECK(memcmp(disk_data, disk_before, DISK_BYTES) == 0,
		           "read-only disk changed");
	return 0;
}
