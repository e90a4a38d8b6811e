/*
 * What the hostile guest does to vdisk. First well-behaved I/O (the whole writable disk is
 * filled with a pattern and read back), then attacks, each checked twice:
 *   NAME        the device answered as virtio 1.2 says: a status byte (IOERR/UNSUPP), a
 *               used element of length 0 for a request it cannot answer, DEVICE_NEEDS_RESET
 *               (§2.1.2) for a broken ring, or a register that kept its value;
 *   NAME_after  the device still serves (after a reset and re-initialisation where it asked
 *               for one) and the disk still hashes to the pattern: nothing outside the
 *               attacked request changed (and attacks never write, so nothing at all).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/grant_table.h>

#include "arch/barrier.h"
#include "arch/cpu.h"
#include "arch/mmio.h"
#include "arch/mmu.h"
#include "arch/timer.h"
#include "blk/disk.h"
#include "blk/vblk.h"
#include "boot/main.h"
#include "hyp/xen.h"
#include "lib/log.h"
#include "tests/guests/hostile/attacks.h"
#include "tests/guests/hostile/grant.h"
#include "tests/guests/hostile/vdrv.h"
#include "virtio/vq.h"

#define CHUNK       (32u * 1024u)
#define WAIT_MS     1000u
#define NO_STATUS   0xffu
#define FAR_ADDRESS 0x100000000000ull /* 16 TiB: no guest has RAM there */
/* vdisk raises the interrupt inside the notify's IOREQ: a margin, not a wait it needs. */
#define IRQ_WAIT_US 50000u
/* How long an interrupt that must not come is looked for. */
#define IRQ_QUIET_US 20000u

static uint8_t iobuf[CHUNK] __attribute__((aligned(4096)));
static uint8_t hdr_buf[64] __attribute__((aligned(16)));
static volatile uint8_t status_buf[128] __attribute__((aligned(16))); /* flush_batch: one each */
static struct vdrv_desc table1[VQ_CHAIN_MAX + 2] __attribute__((aligned(16)));
static struct vdrv_desc table2[4] __attribute__((aligned(16)));
/* reset_with_requests_in_flight: one indirect table of 1 MiB of reads, for every chain. */
#define FLIGHT_BUFS 8u
static uint8_t flight_buf[VBLK_SIZE_MAX] __attribute__((aligned(4096)));
static struct vdrv_desc flight_table[FLIGHT_BUFS + 2] __attribute__((aligned(16)));

static int failures;
static uint64_t rw_hash, ro_hash, slow_hash;
static const struct vdrv *slow_dev; /* its disk hashes to slow_hash */

static void report(const char *name, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * One GUEST-TEST line (tests/rig/lib/guest.sh turns it into rig test hostile.NAME), and on a
 * pass a line with what was observed.
 */
static void report(const char *name, bool ok, const char *fmt, ...)
{
	char why[240];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (ok) {
		log_info("GUEST-TEST: PASS %s", name);
		/* What was seen, for the record (the issue note lists each attack's outcome). */
		log_info("hostile: %s: %s", name, why);
	} else {
		failures++;
		log_info("GUEST-TEST: FAIL %s: %s", name, why);
	}
}

static uint8_t pattern(uint64_t byte)
{
	uint64_t sector = byte / DISK_SECTOR_SIZE;

	return (uint8_t)(sector * 7u + (byte % DISK_SECTOR_SIZE) * 13u + 0x5a);
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t len)
{
	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ull

/* Reads the whole disk and hashes it; returns 0, or the first bad status. */
static int disk_hash(struct vdrv *d, uint64_t *hash)
{
	uint64_t h = FNV_INIT;

	for (uint64_t s = 0; s < d->capacity; s += CHUNK / DISK_SECTOR_SIZE) {
		uint64_t left = (d->capacity - s) * DISK_SECTOR_SIZE;
		uint32_t n = left < CHUNK ? (uint32_t)left : CHUNK;
		int st = vdrv_request(d, VBLK_T_IN, s, iobuf, n);

		if (st != VBLK_S_OK) {
			log_warn("%s: read of sectors %llu+%u: status %d", d->name,
			         (unsigned long long)s, n / DISK_SECTOR_SIZE, st);
			return st ? st : -EIO;
		}
		h = fnv1a(h, iobuf, n);
	}
	*hash = h;
	return 0;
}

/* The hash the whole writable disk has once filled with the pattern. */
static uint64_t pattern_hash(uint64_t capacity)
{
	uint64_t h = FNV_INIT;

	for (uint64_t b = 0; b < capacity * DISK_SECTOR_SIZE; b++) {
		uint8_t v = pattern(b);

		h = fnv1a(h, &v, 1);
	}
	return h;
}

/* Well-behaved I/O: pattern in, read back and compared, then the GET_ID and flush requests. */
static bool fill_and_verify(struct vdrv *d)
{
	uint64_t chunk_sectors = CHUNK / DISK_SECTOR_SIZE;
	bool ok = true;
	int st;

	for (uint64_t s = 0; s < d->capacity && ok; s += chunk_sectors) {
		for (uint32_t i = 0; i < CHUNK; i++)
			iobuf[i] = pattern(s * DISK_SECTOR_SIZE + i);
		st = vdrv_request(d, VBLK_T_OUT, s, iobuf, CHUNK);
		if (st != VBLK_S_OK) {
			report("pattern_write", false, "write of sectors %llu+%llu: status %d",
			       (unsigned long long)s, (unsigned long long)chunk_sectors, st);
			ok = false;
		}
	}
	if (ok)
		report("pattern_write", true, "ok");
	for (uint64_t s = 0; s < d->capacity && ok; s += chunk_sectors) {
		st = vdrv_request(d, VBLK_T_IN, s, iobuf, CHUNK);
		for (uint32_t i = 0; i < CHUNK && st == VBLK_S_OK; i++) {
			if (iobuf[i] != pattern(s * DISK_SECTOR_SIZE + i)) {
				report("pattern_read", false, "byte %llu differs",
				       (unsigned long long)(s * DISK_SECTOR_SIZE + i));
				return false;
			}
		}
		if (st != VBLK_S_OK) {
			report("pattern_read", false, "read of sector %llu: status %d",
			       (unsigned long long)s, st);
			return false;
		}
	}
	if (ok)
		report("pattern_read", true, "ok");
	st = vdrv_request(d, VBLK_T_GET_ID, 0, iobuf, VBLK_ID_BYTES);
	report("get_id", st == VBLK_S_OK, "status %d", st);
	st = vdrv_request(d, VBLK_T_FLUSH, 0, NULL, 0);
	report("flush", st == VBLK_S_OK, "status %d", st);
	return ok;
}

/*
 * The check after an attack: re-initialise the device if it asked for a reset (or always,
 * with `reinit`), then the whole disk must still hash as before.
 */
static void after(const char *attack, struct vdrv *d, bool reinit)
{
	char name[64];
	uint32_t st = vdrv_read32(d, VMMIO_REG_STATUS);
	uint64_t h = 0, want = d->device_features & (1ull << VBLK_F_RO) ? ro_hash : rw_hash;
	int rc = 0;

	if (d == slow_dev)
		want = slow_hash;
	snprintf(name, sizeof(name), "%s_after", attack);
	if (reinit || (st & VMMIO_STATUS_DEVICE_NEEDS_RESET) ||
	    st != (VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER | VMMIO_STATUS_FEATURES_OK |
	           VMMIO_STATUS_DRIVER_OK))
		rc = vdrv_setup(d, 0, VDRV_QSIZE);
	if (rc) {
		report(name, false, "re-initialisation failed (%d), status was %#x", rc, st);
		return;
	}
	rc = disk_hash(d, &h);
	if (rc) {
		report(name, false, "reading the disk back failed (status %d)", rc);
		return;
	}
	report(name, h == want, "disk hash %016llx, expected %016llx", (unsigned long long)h,
	       (unsigned long long)want);
}

/* A broken ring: no used element, DEVICE_NEEDS_RESET set (virtio 1.2 §2.1.2). */
static void expect_needs_reset(const char *name, struct vdrv *d)
{
	struct vdrv_answer a;

	vdrv_wait(d, WAIT_MS, &a);
	report(name, !a.used && (a.status & VMMIO_STATUS_DEVICE_NEEDS_RESET),
	       "used %d (len %u), status %#x: expected no used element and DEVICE_NEEDS_RESET",
	       a.used, a.len, a.status);
}

/*
 * Publishes chain `head` of an attack the device must refuse as a broken ring
 * (DEVICE_NEEDS_RESET, test NAME), then checks it recovers and the disk is intact (NAME_after;
 * `reinit` as for after()).
 */
static void refused(struct vdrv *d, uint16_t head, const char *name, bool reinit)
{
	vdrv_publish(d, head);
	expect_needs_reset(name, d);
	after(name, d, reinit);
}

/* A request the device answers: used element for head 0 with len, and this status byte. */
static void expect_answer(const char *name, struct vdrv *d, uint32_t len, unsigned int status)
{
	struct vdrv_answer a;

	vdrv_wait(d, WAIT_MS, &a);
	report(name,
	       a.used && a.id == 0 && a.len == len && status_buf[0] == status &&
	           !(a.status & VMMIO_STATUS_DEVICE_NEEDS_RESET),
	       "used %d id %u len %u, status byte %#x, device status %#x: expected len %u, "
	       "status byte %#x",
	       a.used, a.id, a.len, status_buf[0], a.status, len, status);
}

static void set_hdr(uint32_t type, uint64_t sector)
{
	memset(hdr_buf, 0, sizeof(hdr_buf));
	memcpy(hdr_buf, &type, 4);
	memcpy(hdr_buf + 8, &sector, 8);
	status_buf[0] = NO_STATUS;
}

static void delay_us(uint32_t us)
{
	uint64_t end = arch_timer_now_ns() + (uint64_t)us * 1000u;

	while (arch_timer_now_ns() < end)
		;
}

static struct vdrv_desc desc(uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	return (struct vdrv_desc){addr, len, flags, next};
}

#define HDR(next)    desc((uintptr_t)hdr_buf, 16, VQ_DESC_F_NEXT, next)
#define STATUS       desc((uintptr_t)status_buf, 1, VQ_DESC_F_WRITE, 0)
#define DATA_R(next) desc((uintptr_t)iobuf, 512, VQ_DESC_F_NEXT, next)
#define DATA_W(next) desc((uintptr_t)iobuf, 512, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, next)

/* A good read of sector 0 into iobuf as descriptors 0..2 of `t` (a ring or an indirect table). */
static void good_read(struct vdrv_desc *t)
{
	set_hdr(VBLK_T_IN, 0);
	t[0] = HDR(1);
	t[1] = DATA_W(2);
	t[2] = STATUS;
}

/*
 * Descriptor-chain attacks: each publishes one chain at head 0 and notifies. Every attack
 * writes all the descriptors it uses: after() reads the disk with vdrv_request, which
 * rewrites descriptors 0..2.
 */
static void ring_attacks(struct vdrv *d)
{
	struct vdrv_desc *t = d->q.desc;

	/* A write whose chain loops: 0 -> 1 -> 2 -> 1 ... (§2.7.5.2: no loops). */
	set_hdr(VBLK_T_OUT, 0);
	t[0] = HDR(1);
	t[1] = DATA_R(2);
	t[2] = DATA_R(1);
	refused(d, 0, "desc_loop", false);

	set_hdr(VBLK_T_OUT, 0);
	t[0] = HDR(0);
	refused(d, 0, "next_self", false);

	/* Every descriptor of the queue chained, and around again: longer than the queue. */
	set_hdr(VBLK_T_OUT, 0);
	for (uint16_t i = 0; i < d->qsize; i++)
		t[i] = DATA_R((uint16_t)((i + 1) % d->qsize));
	t[0] = HDR(1);
	refused(d, 0, "chain_longer_than_queue", false);

	set_hdr(VBLK_T_IN, 0);
	t[0] = HDR(d->qsize);
	refused(d, 0, "next_out_of_range", false);

	set_hdr(VBLK_T_IN, 0);
	t[0] = HDR(1);
	t[1] = DATA_W(0xffff);
	refused(d, 0, "next_ffff", false);

	/* The available ring names a descriptor past the queue. */
	good_read(t);
	refused(d, d->qsize, "head_out_of_range", false);

	/* avail.idx runs ahead by more than the queue size (§2.7.13.3). */
	good_read(t);
	for (uint16_t i = 0; i < d->qsize; i++)
		d->q.avail[2 + i] = 0;
	vdrv_set_avail_idx(d, (uint16_t)(d->avail_idx + d->qsize + 1));
	expect_needs_reset("avail_idx_jump", d);
	after("avail_idx_jump", d, false);

	/* A read into a buffer nowhere near our RAM. */
	set_hdr(VBLK_T_IN, 0);
	t[0] = HDR(1);
	t[1] = desc(FAR_ADDRESS, 512, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	t[2] = STATUS;
	refused(d, 0, "buffer_outside_ram", false);

	/* The same for a write's source: nothing may reach the disk. */
	set_hdr(VBLK_T_OUT, 0);
	t[0] = HDR(1);
	t[1] = desc(FAR_ADDRESS, 4096, VQ_DESC_F_NEXT, 2);
	t[2] = STATUS;
	refused(d, 0, "write_from_outside_ram", false);

	/* The header itself outside RAM. */
	t[0] = desc(FAR_ADDRESS, 16, VQ_DESC_F_NEXT, 1);
	t[1] = STATUS;
	refused(d, 0, "header_outside_ram", false);

	/* Buffers of 2 GiB each: past size_max, and together past 32 bits. */
	set_hdr(VBLK_T_OUT, 0);
	t[0] = HDR(1);
	t[1] = desc((uintptr_t)iobuf, 0x80000000u, VQ_DESC_F_NEXT, 2);
	t[2] = desc((uintptr_t)iobuf, 0x80000000u, VQ_DESC_F_NEXT, 3);
	t[3] = STATUS;
	refused(d, 0, "length_overflow", false);

	/* A device-readable buffer after a device-writable one (§2.7.4.2). */
	set_hdr(VBLK_T_OUT, 0);
	t[0] = HDR(1);
	t[1] = desc((uintptr_t)status_buf, 1, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	t[2] = DATA_R(0);
	t[2].flags = 0;
	refused(d, 0, "readable_after_writable", false);

	/* An indirect descriptor when VIRTIO_F_INDIRECT_DESC was not negotiated. */
	good_read(table1);
	t[0] = desc((uintptr_t)table1, 3 * 16, VQ_DESC_F_INDIRECT, 0);
	refused(d, 0, "indirect_not_negotiated", false);
}

/* Sets the device up with the features `want`, all of them; a failure is test `name`'s. */
static bool setup_with(struct vdrv *d, const char *name, uint64_t want, uint16_t qsize)
{
	int rc = vdrv_setup(d, want, qsize);

	if (rc || (want & ~d->features)) {
		report(name, false, "setup %d, features %#llx (offered %#llx)", rc,
		       (unsigned long long)d->features, (unsigned long long)d->device_features);
		return false;
	}
	return true;
}

/* Writes queue `q`'s ring addresses (virtio 1.2 §4.2.2) and QueueReady 1; returns QueueReady. */
static uint32_t queue_on(struct vdrv *d, uint32_t q, const struct vdrv_layout *l)
{
	uint32_t ready;

	vdrv_write32(d, VMMIO_REG_QUEUE_SEL, q);
	vdrv_write32(d, VMMIO_REG_QUEUE_NUM, d->qsize);
	vdrv_write32(d, VMMIO_REG_QUEUE_DESC_LOW, (uint32_t)l->desc_dma);
	vdrv_write32(d, VMMIO_REG_QUEUE_DESC_HIGH, (uint32_t)(l->desc_dma >> 32));
	vdrv_write32(d, VMMIO_REG_QUEUE_DRIVER_LOW, (uint32_t)l->avail_dma);
	vdrv_write32(d, VMMIO_REG_QUEUE_DRIVER_HIGH, (uint32_t)(l->avail_dma >> 32));
	vdrv_write32(d, VMMIO_REG_QUEUE_DEVICE_LOW, (uint32_t)l->used_dma);
	vdrv_write32(d, VMMIO_REG_QUEUE_DEVICE_HIGH, (uint32_t)(l->used_dma >> 32));
	vdrv_write32(d, VMMIO_REG_QUEUE_READY, 1);
	ready = vdrv_read32(d, VMMIO_REG_QUEUE_READY);
	vdrv_write32(d, VMMIO_REG_QUEUE_SEL, 0);
	return ready;
}

/*
 * Multi-queue (VIRTIO_BLK_F_MQ, virtio 1.2 §5.2.2): vdisk gives this 2-vCPU guest a queue per
 * vCPU. Queue 1 is set up on queue 0's very rings, so that one published chain is taken by
 * both queues: each answers it (two used elements for one head are the driver's own doing),
 * nothing else is touched and the device needs no reset. Then notifies of queues past
 * num_queues, which must be ignored. The device serves on after a reset (mq_after).
 */
static void mq_attacks(struct vdrv *d)
{
	uint32_t count, ready1, st;
	uint16_t used = 0;
	uint64_t deadline;

	count = d->device_features & (1ull << VBLK_F_MQ)
	            ? (uint32_t)vdrv_read_sized(d, VMMIO_REG_CONFIG + 34, 2)
	            : 1;
	report("mq_offered", count == 2, "features %#llx, num_queues %u: expected a queue per vCPU",
	       (unsigned long long)d->device_features, count);
	if (count < 2 || !setup_with(d, "mq_setup", 1ull << VBLK_F_MQ, VDRV_QSIZE))
		return;
	ready1 = queue_on(d, 1, &d->q);
	good_read(d->q.desc);
	memset(iobuf, 0, 512);
	vdrv_publish(d, 0);
	vdrv_write32(d, VMMIO_REG_QUEUE_NOTIFY, 1);
	vdrv_write32(d, VMMIO_REG_QUEUE_NOTIFY, 0);
	deadline = arch_timer_now_ns() + (uint64_t)WAIT_MS * 1000000u;
	while ((used = vdrv_used_idx(d)) == 0 && arch_timer_now_ns() < deadline)
		;
	st = vdrv_read32(d, VMMIO_REG_STATUS);
	report("mq_shared_rings",
	       ready1 == 1 && used >= 1 && status_buf[0] == VBLK_S_OK && iobuf[0] == pattern(0) &&
	           !(st & VMMIO_STATUS_DEVICE_NEEDS_RESET),
	       "queue 1 ready %u, used.idx %u, status byte %#x, byte 0 %#x, device status %#x",
	       ready1, used, status_buf[0], iobuf[0], st);
	/* Queues that do not exist: num_queues and far past it. */
	vdrv_write32(d, VMMIO_REG_QUEUE_NOTIFY, count);
	vdrv_write32(d, VMMIO_REG_QUEUE_NOTIFY, 0xffff);
	st = vdrv_read32(d, VMMIO_REG_STATUS);
	report("mq_missing_queue_notify", !(st & VMMIO_STATUS_DEVICE_NEEDS_RESET),
	       "device status %#x after notifies of queues %u and 65535", st, count);
	after("mq", d, true);
}

/* Attacks with VIRTIO_F_INDIRECT_DESC negotiated (§2.7.5.3). */
static void indirect_attacks(struct vdrv *d)
{
	struct vdrv_desc *t = d->q.desc;

	if (!setup_with(d, "indirect_setup", 1ull << VQ_F_INDIRECT_DESC, VDRV_QSIZE))
		return;
	/* First a good indirect read, so the failures below are about the attack. */
	good_read(table1);
	t[0] = desc((uintptr_t)table1, 3 * 16, VQ_DESC_F_INDIRECT, 0);
	vdrv_publish(d, 0);
	expect_answer("indirect_read", d, 513, VBLK_S_OK);

	good_read(table2);
	table1[0] = desc((uintptr_t)table2, 3 * 16, VQ_DESC_F_INDIRECT, 0);
	t[0] = desc((uintptr_t)table1, 16, VQ_DESC_F_INDIRECT, 0);
	refused(d, 0, "indirect_in_indirect", true);
	vdrv_setup(d, 1ull << VQ_F_INDIRECT_DESC, VDRV_QSIZE);

	/* A loop inside an indirect table. */
	set_hdr(VBLK_T_OUT, 0);
	table1[0] = HDR(1);
	table1[1] = DATA_R(2);
	table1[2] = DATA_R(1);
	t[0] = desc((uintptr_t)table1, 3 * 16, VQ_DESC_F_INDIRECT, 0);
	refused(d, 0, "indirect_loop", true);
	vdrv_setup(d, 1ull << VQ_F_INDIRECT_DESC, VDRV_QSIZE);

	/* A table of 257 descriptors, more than vdisk's 256 per chain. */
	set_hdr(VBLK_T_IN, 0);
	for (unsigned int i = 0; i < VQ_CHAIN_MAX + 1; i++)
		table1[i] = DATA_W((uint16_t)(i + 1));
	table1[0] = HDR(1);
	table1[VQ_CHAIN_MAX] = STATUS;
	t[0] = desc((uintptr_t)table1, (VQ_CHAIN_MAX + 1) * 16, VQ_DESC_F_INDIRECT, 0);
	refused(d, 0, "indirect_too_long", true);
	vdrv_setup(d, 1ull << VQ_F_INDIRECT_DESC, VDRV_QSIZE);

	/* A length that is not whole descriptors. */
	t[0] = desc((uintptr_t)table1, 20, VQ_DESC_F_INDIRECT, 0);
	refused(d, 0, "indirect_bad_length", true);
}

/* Requests the device can answer with a status byte, or only with a used length of 0. */
static void request_attacks(struct vdrv *d)
{
	struct vdrv_desc *t = d->q.desc;

	/* Past the end of the disk (§5.2.6.1: IOERR). */
	set_hdr(VBLK_T_IN, d->capacity - 1);
	t[0] = HDR(1);
	t[1] = desc((uintptr_t)iobuf, 1024, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	t[2] = STATUS;
	vdrv_publish(d, 0);
	expect_answer("read_past_end", d, 1, VBLK_S_IOERR);
	after("read_past_end", d, false);

	set_hdr(VBLK_T_OUT, d->capacity);
	t[0] = HDR(1);
	t[1] = DATA_R(2);
	t[2] = STATUS;
	vdrv_publish(d, 0);
	expect_answer("write_past_end", d, 1, VBLK_S_IOERR);
	after("write_past_end", d, false);

	/* sector + count wraps past 2^64. */
	set_hdr(VBLK_T_OUT, UINT64_MAX);
	t[0] = HDR(1);
	t[1] = DATA_R(2);
	t[2] = STATUS;
	vdrv_publish(d, 0);
	expect_answer("write_sector_wraps", d, 1, VBLK_S_IOERR);
	after("write_sector_wraps", d, false);

	/* Not whole sectors. */
	set_hdr(VBLK_T_OUT, 0);
	t[0] = HDR(1);
	t[1] = desc((uintptr_t)iobuf, 100, VQ_DESC_F_NEXT, 2);
	t[2] = STATUS;
	vdrv_publish(d, 0);
	expect_answer("write_partial_sector", d, 1, VBLK_S_IOERR);
	after("write_partial_sector", d, false);

	set_hdr(0x7f, 0);
	t[0] = HDR(1);
	t[1] = STATUS;
	vdrv_publish(d, 0);
	expect_answer("unknown_type", d, 1, VBLK_S_UNSUPP);
	after("unknown_type", d, false);

	/* A header of 8 bytes: no room for the status answer to mean anything; used.len 0. */
	set_hdr(VBLK_T_OUT, 0);
	t[0] = desc((uintptr_t)hdr_buf, 8, VQ_DESC_F_NEXT, 1);
	t[1] = STATUS;
	vdrv_publish(d, 0);
	expect_answer("short_header", d, 0, NO_STATUS);
	after("short_header", d, false);

	/* A write with no device-writable byte for the status: returned unused, not written. */
	set_hdr(VBLK_T_OUT, 0);
	memset(iobuf, 0xee, 512);
	t[0] = HDR(1);
	t[1] = DATA_R(0);
	t[1].flags = 0;
	vdrv_publish(d, 0);
	expect_answer("missing_status", d, 0, NO_STATUS);
	after("missing_status", d, false);

	/* A header split over two buffers is fine (§2.6.4: no framing assumptions). */
	set_hdr(VBLK_T_IN, 3);
	t[0] = desc((uintptr_t)hdr_buf, 8, VQ_DESC_F_NEXT, 1);
	t[1] = desc((uintptr_t)hdr_buf + 8, 8, VQ_DESC_F_NEXT, 2);
	t[2] = DATA_W(3);
	t[3] = STATUS;
	vdrv_publish(d, 0);
	expect_answer("split_header", d, 513, VBLK_S_OK);
	report("split_header_data", iobuf[0] == pattern(3 * DISK_SECTOR_SIZE),
	       "byte 0 of sector 3 is %#x", iobuf[0]);
}

/* Register-level attacks on a running device. */
static void register_attacks(struct vdrv *d)
{
	static const uint32_t ro_regs[] = {
	    VMMIO_REG_MAGIC,
	    VMMIO_REG_VERSION,
	    VMMIO_REG_DEVICE_ID,
	    VMMIO_REG_VENDOR_ID,
	    VMMIO_REG_DEVICE_FEATURES,
	    VMMIO_REG_QUEUE_NUM_MAX,
	    VMMIO_REG_INTERRUPT_STATUS,
	    VMMIO_REG_CONFIG_GENERATION,
	};
	uint32_t before[sizeof(ro_regs) / sizeof(ro_regs[0])];
	uint64_t cap;
	uint32_t st, bad = 0, bad_reg = 0;
	int io;

	vdrv_write32(d, VMMIO_REG_DEVICE_FEATURES_SEL, 0);
	for (unsigned int i = 0; i < sizeof(ro_regs) / sizeof(ro_regs[0]); i++)
		before[i] = vdrv_read32(d, ro_regs[i]);
	for (unsigned int i = 0; i < sizeof(ro_regs) / sizeof(ro_regs[0]); i++)
		vdrv_write32(d, ro_regs[i], 0xdeadbeef);
	vdrv_write32(d, VMMIO_REG_CONFIG, 0xdeadbeef); /* capacity: config space is read-only */
	for (unsigned int i = 0; i < sizeof(ro_regs) / sizeof(ro_regs[0]); i++) {
		uint32_t v = vdrv_read32(d, ro_regs[i]);

		if (v != before[i] && !bad) {
			bad = v;
			bad_reg = ro_regs[i];
		}
	}
	cap = vdrv_read32(d, VMMIO_REG_CONFIG) | (uint64_t)vdrv_read32(d, VMMIO_REG_CONFIG + 4)
	                                             << 32;
	report("write_read_only_registers", !bad && cap == d->capacity,
	       "register %#x reads %#x after the write; capacity %llu", bad_reg, bad,
	       (unsigned long long)cap);
	after("write_read_only_registers", d, false);

	/* Wrong widths (§4.2.2.2: registers are 32-bit): ignored, reads give 0. */
	uint64_t m1 = vdrv_read_sized(d, VMMIO_REG_MAGIC, 1);
	uint64_t m2 = vdrv_read_sized(d, VMMIO_REG_MAGIC, 2);
	uint64_t m8 = vdrv_read_sized(d, VMMIO_REG_MAGIC, 8);
	vdrv_write_sized(d, VMMIO_REG_STATUS, 1, 0); /* a byte-wide reset must not reset */
	vdrv_write_sized(d, VMMIO_REG_STATUS, 8, 0);
	vdrv_write_sized(d, VMMIO_REG_QUEUE_NOTIFY, 2, 0);
	st = vdrv_read32(d, VMMIO_REG_STATUS);
	report("register_wrong_width", m1 == 0 && m2 == 0 && m8 == 0 && st == 0xf,
	       "1/2/8-byte reads of MagicValue gave %#llx/%#llx/%#llx, status %#x after narrow "
	       "and wide zero writes",
	       (unsigned long long)m1, (unsigned long long)m2, (unsigned long long)m8, st);
	after("register_wrong_width", d, false);

	/* The config space allows any width (§4.2.2.2), but nothing past its end. */
	uint64_t c1 = vdrv_read_sized(d, VMMIO_REG_CONFIG, 1);
	uint64_t c8 = vdrv_read_sized(d, VMMIO_REG_CONFIG, 8);
	uint32_t past = vdrv_read32(d, VMMIO_REG_CONFIG + sizeof(struct vblk_config));
	uint32_t last = vdrv_read32(d, VMMIO_WINDOW - 4);
	uint32_t unknown = vdrv_read32(d, 0x0f0);
	report("config_widths_and_bounds",
	       c1 == (d->capacity & 0xff) && c8 == d->capacity && past == 0 && last == 0 &&
	           unknown == 0,
	       "1-byte capacity %#llx, 8-byte %#llx (capacity %#llx); past config %#x, at 0x1fc "
	       "%#x, unknown register 0x0f0 %#x",
	       (unsigned long long)c1, (unsigned long long)c8, (unsigned long long)d->capacity,
	       past, last, unknown);

	/* Queue registers written while the queue is ready: ignored (§4.2.3.2). */
	vdrv_write32(d, VMMIO_REG_QUEUE_DESC_LOW, 0x1000);
	vdrv_write32(d, VMMIO_REG_QUEUE_DRIVER_HIGH, 0x10);
	vdrv_write32(d, VMMIO_REG_QUEUE_NUM, 2);
	io = vdrv_request(d, VBLK_T_IN, 0, iobuf, 512);
	report("queue_change_while_ready", io == VBLK_S_OK && iobuf[0] == pattern(0),
	       "read after the writes: status %d", io);
	after("queue_change_while_ready", d, false);

	/* A notify storm: nothing new in the ring, then notifies of a queue that does not exist. */
	for (unsigned int i = 0; i < 2000; i++)
		vdrv_notify(d);
	for (unsigned int i = 0; i < 50; i++)
		vdrv_write32(d, VMMIO_REG_QUEUE_NOTIFY, 3);
	st = vdrv_read32(d, VMMIO_REG_STATUS);
	io = vdrv_request(d, VBLK_T_IN, 0, iobuf, 512);
	report("notify_storm", st == 0xf && io == VBLK_S_OK, "status %#x, read %d", st, io);
	after("notify_storm", d, false);
}

/* ---- MMIO accesses no driver makes: unaligned, straddling, past the windows ------------ */

/* What one access that may fault gave: the value read, or the data abort taken instead. */
struct probe {
	uint64_t val;
	uint64_t esr; /* ESR_EL1 of the data abort Xen injected, 0 if none */
};

static struct probe probe_read(const struct vdrv *d, uint32_t offset, unsigned int size)
{
	struct probe p;

	arch_fault_expect();
	p.val = vdrv_read_sized(d, offset, size);
	p.esr = arch_fault_taken();
	return p;
}

static uint64_t probe_write(const struct vdrv *d, uint32_t offset, unsigned int size, uint64_t val)
{
	arch_fault_expect();
	vdrv_write_sized(d, offset, size, val);
	return arch_fault_taken();
}

/* An access either faulted or read `quiet` (what vdisk answers a refused access with). */
static bool refused_read(struct probe p, uint64_t quiet)
{
	return p.esr ? ((p.esr >> 26) & 0x3f) == 0x25 : p.val == quiet; /* EC: data abort */
}

static void describe(char *buf, size_t size, const char *what, struct probe p)
{
	if (p.esr)
		snprintf(buf, size, "%s: data abort (ESR %#llx)", what, (unsigned long long)p.esr);
	else
		snprintf(buf, size, "%s: read %#llx", what, (unsigned long long)p.val);
}

/*
 * MMIO accesses no driver makes. With the window mapped as normal memory (device memory
 * faults an unaligned access in the guest itself, so it never reaches Xen): unaligned ones
 * inside the window, two straddling its end, a load pair (no syndrome for Xen to forward).
 * Then aligned ones past the last window. Whatever Xen makes of each (forward it to vdisk, or
 * inject a data abort), no register may be read or changed through it, and the device keeps
 * serving.
 */
static void mmio_shape_attacks(struct vdrv *d, struct vdrv *other, const struct vdrv *last)
{
	uint32_t other_status = other ? vdrv_read32(other, VMMIO_REG_STATUS) : 0;
	char seen[3][64];
	struct probe u4, u2, u8, straddle, pair = {0}, past;
	uint64_t w4, w2, wstraddle, wpast;
	uint32_t st, ready, other_after;
	uint32_t lo = 0, hi = 0;
	int rc, io;

	rc = arch_mmu_set_attr(d->base, VMMIO_WINDOW, MMU_NORMAL);
	if (rc) {
		report("mmio_unaligned", false, "cannot map the window as normal memory (%d)", rc);
		return;
	}
	u4 = probe_read(d, VMMIO_REG_STATUS + 1, 4);
	u2 = probe_read(d, VMMIO_REG_MAGIC + 1, 2);
	u8 = probe_read(d, VMMIO_REG_CONFIG + 4, 8);     /* config space: any width, if aligned */
	w4 = probe_write(d, VMMIO_REG_STATUS + 1, 4, 0); /* Status 0 would be a reset */
	w2 = probe_write(d, VMMIO_REG_QUEUE_READY + 1, 2, 0);
	straddle = probe_read(d, VMMIO_WINDOW - 4, 8);
	wstraddle = probe_write(d, VMMIO_WINDOW - 2, 4, 0);
	arch_fault_expect();
	__asm__ volatile("ldp %w0, %w1, [%2]"
	                 : "=r"(lo), "=r"(hi)
	                 : "r"(d->base + VMMIO_REG_STATUS)
	                 : "memory");
	pair.esr = arch_fault_taken();
	pair.val = lo | (uint64_t)hi << 32;
	rc = arch_mmu_set_attr(d->base, VMMIO_WINDOW, MMU_DEVICE);
	if (rc)
		main_crash("cannot map the window back as device memory");

	st = vdrv_read32(d, VMMIO_REG_STATUS);
	ready = vdrv_read32(d, VMMIO_REG_QUEUE_READY);
	io = vdrv_request(d, VBLK_T_IN, 0, iobuf, 512);
	describe(seen[0], sizeof(seen[0]), "4 at 0x71", u4);
	describe(seen[1], sizeof(seen[1]), "2 at 0x01", u2);
	describe(seen[2], sizeof(seen[2]), "8 at 0x104", u8);
	report("mmio_unaligned",
	       refused_read(u4, 0) && refused_read(u2, 0) && refused_read(u8, 0) && st == 0xf &&
	           ready == 1 && io == VBLK_S_OK,
	       "%s; %s; %s; zero writes at 0x71/0x45 %s/%s; then status %#x, QueueReady %u, "
	       "read %d",
	       seen[0], seen[1], seen[2], w4 ? "aborted" : "taken", w2 ? "aborted" : "taken", st,
	       ready, io);
	after("mmio_unaligned", d, false);

	/* Straddling this window's end (into the next window or nothing); a load pair. */
	other_after = other ? vdrv_read32(other, VMMIO_REG_STATUS) : 0;
	st = vdrv_read32(d, VMMIO_REG_STATUS);
	describe(seen[0], sizeof(seen[0]), "8 at 0x1fc", straddle);
	describe(seen[1], sizeof(seen[1]), "ldp at 0x70", pair);
	report("mmio_straddling_and_pair",
	       refused_read(straddle, ~0ull) && refused_read(pair, 0) && st == 0xf &&
	           other_after == other_status,
	       "%s; zero write at 0x1fe %s; %s; status %#x, the other device's %#x (was %#x)",
	       seen[0], wstraddle ? "aborted" : "taken", seen[1], st, other_after, other_status);
	after("mmio_straddling_and_pair", d, false);

	/* Aligned accesses past the last window: no device there, nothing to forward them to. */
	past = probe_read(last, VMMIO_WINDOW, 4);
	wpast = probe_write(last, VMMIO_WINDOW, 4, 0);
	st = vdrv_read32(d, VMMIO_REG_STATUS);
	describe(seen[0], sizeof(seen[0]), "4 past the last window", past);
	report("mmio_past_window", refused_read(past, 0xffffffff) && st == 0xf,
	       "%s (window at %#llx); zero write %s; status %#x", seen[0],
	       (unsigned long long)last->base, wpast ? "aborted" : "taken", st);
	after("mmio_past_window", d, false);
}

/* Set-up attacks: status order, features and QueueNum (§3.1.1, §2.2, §4.2.3.2). */
static void setup_attacks(struct vdrv *d)
{
	uint32_t s[8];
	int io;

	vdrv_reset(d);
	vdrv_write32(d, VMMIO_REG_STATUS, VMMIO_STATUS_DRIVER); /* without ACKNOWLEDGE */
	s[0] = vdrv_read32(d, VMMIO_REG_STATUS);
	vdrv_write32(d, VMMIO_REG_STATUS, VMMIO_STATUS_ACKNOWLEDGE);
	vdrv_write32(d, VMMIO_REG_STATUS, 0x7); /* DRIVER_OK before FEATURES_OK */
	s[1] = vdrv_read32(d, VMMIO_REG_STATUS);
	vdrv_write32(d, VMMIO_REG_STATUS, 0x3);
	vdrv_write32(d, VMMIO_REG_DRIVER_FEATURES_SEL, 0);
	vdrv_write32(d, VMMIO_REG_DRIVER_FEATURES, 0);
	vdrv_write32(d, VMMIO_REG_DRIVER_FEATURES_SEL, 1);
	vdrv_write32(d, VMMIO_REG_DRIVER_FEATURES, 0); /* no VERSION_1 */
	vdrv_write32(d, VMMIO_REG_STATUS, 0xb);
	s[2] = vdrv_read32(d, VMMIO_REG_STATUS); /* §3.1.1: FEATURES_OK must not stick */
	vdrv_write32(d, VMMIO_REG_DRIVER_FEATURES, 1u | 1u << 30); /* a bit not offered */
	vdrv_write32(d, VMMIO_REG_STATUS, 0xb);
	s[3] = vdrv_read32(d, VMMIO_REG_STATUS);
	vdrv_write32(d, VMMIO_REG_DRIVER_FEATURES, 1); /* VERSION_1 only */
	vdrv_write32(d, VMMIO_REG_STATUS, 0xb);
	s[4] = vdrv_read32(d, VMMIO_REG_STATUS);
	vdrv_write32(d, VMMIO_REG_STATUS, 0x1); /* clearing bits without a reset */
	s[5] = vdrv_read32(d, VMMIO_REG_STATUS);
	vdrv_write32(d, VMMIO_REG_STATUS, 0x4b); /* DEVICE_NEEDS_RESET is the device's */
	s[6] = vdrv_read32(d, VMMIO_REG_STATUS);
	report("status_out_of_order",
	       s[0] == 0 && s[1] == 1 && s[2] == 3 && s[3] == 3 && s[4] == 0xb && s[5] == 0xb &&
	           s[6] == 0xb,
	       "status read %#x %#x %#x %#x %#x %#x %#x, expected 0 1 3 3 0xb 0xb 0xb", s[0], s[1],
	       s[2], s[3], s[4], s[5], s[6]);

	/* QueueNum: not a power of two, over QueueNumMax, 0: ignored, the default stays. */
	vdrv_write32(d, VMMIO_REG_QUEUE_SEL, 0);
	uint32_t max = vdrv_read32(d, VMMIO_REG_QUEUE_NUM_MAX);
	vdrv_write32(d, VMMIO_REG_QUEUE_NUM, 12);
	vdrv_write32(d, VMMIO_REG_QUEUE_NUM, max * 2);
	vdrv_write32(d, VMMIO_REG_QUEUE_NUM, 0);
	/*
	 * A queue that does not exist: QueueNumMax 0, and it cannot be made ready. The device has
	 * a queue per vCPU of this guest: num_queues (config offset 34) says how many.
	 */
	uint32_t missing = d->device_features & (1ull << VBLK_F_MQ)
	                       ? (uint32_t)vdrv_read_sized(d, VMMIO_REG_CONFIG + 34, 2)
	                       : 1;
	vdrv_write32(d, VMMIO_REG_QUEUE_SEL, missing);
	uint32_t max1 = vdrv_read32(d, VMMIO_REG_QUEUE_NUM_MAX);
	vdrv_write32(d, VMMIO_REG_QUEUE_READY, 1);
	uint32_t ready1 = vdrv_read32(d, VMMIO_REG_QUEUE_READY);
	vdrv_write32(d, VMMIO_REG_QUEUE_SEL, 0);
	memset(d->rings, 0, sizeof(*d->rings));
	vdrv_write32(d, VMMIO_REG_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)d->rings->desc);
	vdrv_write32(d, VMMIO_REG_QUEUE_DESC_HIGH, (uint32_t)((uintptr_t)d->rings->desc >> 32));
	vdrv_write32(d, VMMIO_REG_QUEUE_DRIVER_LOW, (uint32_t)(uintptr_t)d->rings->avail);
	vdrv_write32(d, VMMIO_REG_QUEUE_DRIVER_HIGH, (uint32_t)((uintptr_t)d->rings->avail >> 32));
	vdrv_write32(d, VMMIO_REG_QUEUE_DEVICE_LOW, (uint32_t)(uintptr_t)d->rings->used);
	vdrv_write32(d, VMMIO_REG_QUEUE_DEVICE_HIGH, (uint32_t)((uintptr_t)d->rings->used >> 32));
	vdrv_write32(d, VMMIO_REG_QUEUE_READY, 1);
	uint32_t ready0 = vdrv_read32(d, VMMIO_REG_QUEUE_READY);
	vdrv_write32(d, VMMIO_REG_STATUS, 0xf);
	d->qsize = (uint16_t)max; /* what the device must still use: the default, QueueNumMax */
	d->avail_idx = d->used_idx = 0;
	io = vdrv_request(d, VBLK_T_IN, 0, iobuf, 512);
	report("queue_num_invalid",
	       max == VDRV_QSIZE_MAX && max1 == 0 && ready1 == 0 && ready0 == 1 && io == VBLK_S_OK,
	       "QueueNumMax %u, queue %u: max %u ready %u; queue 0 ready %u, read with %u entries: "
	       "status %d",
	       max, missing, max1, ready1, ready0, max, io);
	after("queue_num_invalid", d, true);

	/* Rings outside our RAM, or misaligned (§2.7: 16/2/4): QueueReady must stay 0. */
	uint32_t ready_far, ready_misaligned;
	vdrv_reset(d);
	vdrv_write32(d, VMMIO_REG_STATUS, 0x3);
	vdrv_write32(d, VMMIO_REG_DRIVER_FEATURES_SEL, 1);
	vdrv_write32(d, VMMIO_REG_DRIVER_FEATURES, 1);
	vdrv_write32(d, VMMIO_REG_STATUS, 0xb);
	vdrv_write32(d, VMMIO_REG_QUEUE_SEL, 0);
	vdrv_write32(d, VMMIO_REG_QUEUE_NUM, VDRV_QSIZE);
	vdrv_write32(d, VMMIO_REG_QUEUE_DESC_LOW, 0);
	vdrv_write32(d, VMMIO_REG_QUEUE_DESC_HIGH, (uint32_t)(FAR_ADDRESS >> 32));
	vdrv_write32(d, VMMIO_REG_QUEUE_DRIVER_LOW, (uint32_t)(uintptr_t)d->rings->avail);
	vdrv_write32(d, VMMIO_REG_QUEUE_DRIVER_HIGH, 0);
	vdrv_write32(d, VMMIO_REG_QUEUE_DEVICE_LOW, (uint32_t)(uintptr_t)d->rings->used);
	vdrv_write32(d, VMMIO_REG_QUEUE_DEVICE_HIGH, 0);
	vdrv_write32(d, VMMIO_REG_QUEUE_READY, 1);
	ready_far = vdrv_read32(d, VMMIO_REG_QUEUE_READY);
	vdrv_write32(d, VMMIO_REG_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)d->rings->desc + 8);
	vdrv_write32(d, VMMIO_REG_QUEUE_DESC_HIGH, 0);
	vdrv_write32(d, VMMIO_REG_QUEUE_READY, 1);
	ready_misaligned = vdrv_read32(d, VMMIO_REG_QUEUE_READY);
	report("queue_rings_invalid", ready_far == 0 && ready_misaligned == 0,
	       "QueueReady reads %u with the descriptor table at %#llx, %u at +8 bytes", ready_far,
	       (unsigned long long)FAR_ADDRESS, ready_misaligned);
	after("queue_rings_invalid", d, true);

	/* A notify before DRIVER_OK, then a reset with a write published but not notified. */
	vdrv_reset(d);
	vdrv_notify(d);
	vdrv_setup(d, 0, VDRV_QSIZE);
	set_hdr(VBLK_T_OUT, 0);
	memset(iobuf, 0xee, 512);
	d->q.desc[0] = HDR(1);
	d->q.desc[1] = DATA_R(2);
	d->q.desc[2] = STATUS;
	vdrv_publish(d, 0);
	vdrv_reset(d);
	vdrv_notify(d); /* after the reset: must not run the old ring */
	report("reset_with_request_published", status_buf[0] == NO_STATUS,
	       "the published write got status %#x after the reset", status_buf[0]);
	after("reset_with_request_published", d, true);
}

/*
 * A reset while vdisk still holds requests: a full queue of 1 MiB reads is more than one
 * notify's byte budget (VBLK_BYTE_BUDGET), so vdisk answers the first ones in the notify and
 * keeps the queue pending for its next passes; the reset comes right after the notify. Every
 * request is then answered or untouched, and nothing is answered after the reset.
 */
static void inflight_attack(struct vdrv *d)
{
	uint64_t deadline;
	uint16_t at_reset, later;
	uint32_t served_status;

	if (!setup_with(d, "reset_with_requests_in_flight", 1ull << VQ_F_INDIRECT_DESC,
	                VDRV_QSIZE_MAX))
		return;
	set_hdr(VBLK_T_IN, 0);
	flight_table[0] = HDR(1);
	for (uint16_t i = 1; i <= FLIGHT_BUFS; i++)
		flight_table[i] = desc((uintptr_t)flight_buf, sizeof(flight_buf),
		                       VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, (uint16_t)(i + 1));
	flight_table[FLIGHT_BUFS + 1] = STATUS;
	for (uint16_t i = 0; i < VDRV_QSIZE_MAX; i++) {
		d->q.desc[i] =
		    desc((uintptr_t)flight_table, sizeof(flight_table), VQ_DESC_F_INDIRECT, 0);
		vdrv_publish(d, i);
	}
	vdrv_notify(d);
	vdrv_reset(d);
	at_reset = vdrv_used_idx(d);
	served_status = status_buf[0];
	deadline = arch_timer_now_ns() + 500ull * 1000000u;
	while (arch_timer_now_ns() < deadline)
		;
	later = vdrv_used_idx(d);
	report("reset_with_requests_in_flight",
	       at_reset >= 1 && at_reset < VDRV_QSIZE_MAX && later == at_reset &&
	           served_status == VBLK_S_OK,
	       "%u of %u 1 MiB reads answered before the reset (status %#x), %u half a second "
	       "after it: expected some, not all, and no change",
	       at_reset, VDRV_QSIZE_MAX, served_status, later);
	after("reset_with_requests_in_flight", d, true);
}

/*
 * ---- a disk that holds each request (target=ram:256K,latency=100ms) ----
 * The RAM disk's latency keeps requests at the disk across the guest's register accesses,
 * as a real medium would: what happens to them when the driver resets, storms the notify
 * register or hands one buffer to two requests.
 */
#define SLOW_MAX    12u /* reads published at once: more than vdisk's VBLK_REQ_MAX at the disk */
#define SLOW_QSIZE  64u
#define SLOW_CANARY 0xa5u
static uint8_t slow_data[SLOW_MAX][DISK_SECTOR_SIZE] __attribute__((aligned(4096)));

/*
 * Publishes `count` reads of sector i (chain 3i..3i+2, data slow_data[i] filled with the
 * canary, status in status_buf[i]) without notifying.
 */
static void slow_reads(struct vdrv *d, unsigned int count)
{
	struct vdrv_desc *t = d->q.desc;

	set_hdr(VBLK_T_IN, 0);
	for (uint16_t i = 0; i < count; i++) {
		memset(slow_data[i], SLOW_CANARY, DISK_SECTOR_SIZE);
		status_buf[i] = NO_STATUS;
		t[3 * i] = HDR((uint16_t)(3 * i + 1));
		t[3 * i + 1] = desc((uintptr_t)slow_data[i], DISK_SECTOR_SIZE,
		                    VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, (uint16_t)(3 * i + 2));
		t[3 * i + 2] = desc((uintptr_t)&status_buf[i], 1, VQ_DESC_F_WRITE, 0);
		vdrv_publish(d, (uint16_t)(3 * i));
	}
}

/* Bytes of slow_data[0..count) and status_buf[0..count) that are not `data` and `status`. */
static unsigned int slow_changed(unsigned int count, uint8_t data, uint8_t status)
{
	unsigned int changed = 0;

	for (unsigned int i = 0; i < count; i++) {
		changed += status_buf[i] != status;
		for (unsigned int b = 0; b < DISK_SECTOR_SIZE; b++)
			changed += slow_data[i][b] != data;
	}
	return changed;
}

/*
 * A reset while the disk holds requests (virtio 1.2 §2.4.1): Status must read back non-zero
 * until the device really is reset, i.e. the disk gave the reads back, and afterwards not one
 * byte of the guest may change: no data, no status byte, no used element.
 */
static void slow_reset_attack(struct vdrv *d)
{
	uint64_t start, waited_us, deadline;
	uint32_t right_after, st;
	unsigned int changed;
	uint16_t used;

	if (!setup_with(d, "slow_reset_at_disk", 0, SLOW_QSIZE))
		return;
	slow_reads(d, 4);
	vdrv_notify(d);
	vdrv_write32(d, VMMIO_REG_STATUS, 0);
	start = arch_timer_now_ns();
	right_after = vdrv_read32(d, VMMIO_REG_STATUS);
	deadline = start + 2000ull * 1000000u;
	while ((st = vdrv_read32(d, VMMIO_REG_STATUS)) != 0 && arch_timer_now_ns() < deadline)
		;
	waited_us = (arch_timer_now_ns() - start) / 1000u;
	delay_us(50000); /* the disk's answers, had they gone anywhere, would be there by now */
	used = vdrv_used_idx(d);
	changed = slow_changed(4, SLOW_CANARY, NO_STATUS);
	report("slow_reset_at_disk", right_after == 0xf && st == 0 && used == 0 && changed == 0,
	       "Status %#x right after the reset, %#x after %llu us; then used.idx %u and %u "
	       "bytes of the 4 reads' buffers and status changed: expected Status 0xf until the "
	       "disk gave the reads back, then 0, and nothing touched",
	       right_after, st, (unsigned long long)waited_us, used, changed);
	after("slow_reset_at_disk", d, true);
}

/*
 * A notify storm while requests wait: 12 reads published (8 go to the disk, the rest wait
 * for a free slot), then 2000 notifies. Every read is answered once, with the disk's data.
 */
static void slow_storm_attack(struct vdrv *d)
{
	unsigned int got, changed;
	uint32_t st;

	if (!setup_with(d, "slow_notify_storm", 0, SLOW_QSIZE))
		return;
	slow_reads(d, SLOW_MAX);
	for (unsigned int i = 0; i < 2000; i++)
		vdrv_notify(d);
	got = vdrv_wait_count(d, SLOW_MAX, 5000, NULL);
	changed = slow_changed(SLOW_MAX, 0, VBLK_S_OK); /* the slow disk holds zeroes */
	st = vdrv_read32(d, VMMIO_REG_STATUS);
	report("slow_notify_storm", got == SLOW_MAX && changed == 0 && st == 0xf,
	       "%u of %u reads answered after 2000 notifies, %u bytes not as read, status %#x", got,
	       SLOW_MAX, changed, st);
	after("slow_notify_storm", d, false);
}

/*
 * One buffer in two requests at the disk at once: chain 0 made available twice. Both are
 * answered (two used elements for head 0 are the driver's own doing) and nothing else moves.
 */
static void slow_same_buffer_attack(struct vdrv *d)
{
	uint32_t ids[2] = {99, 99};
	unsigned int got, changed;
	uint32_t st;

	if (!setup_with(d, "slow_one_buffer_two_requests", 0, SLOW_QSIZE))
		return;
	slow_reads(d, 1);
	vdrv_publish(d, 0);
	got = vdrv_wait_count(d, 2, 2000, ids);
	changed = slow_changed(1, 0, VBLK_S_OK);
	st = vdrv_read32(d, VMMIO_REG_STATUS);
	report("slow_one_buffer_two_requests",
	       got == 2 && ids[0] == 0 && ids[1] == 0 && changed == 0 && st == 0xf,
	       "%u answers (ids %u, %u), %u bytes not as read, status %#x: expected two for head 0",
	       got, ids[0], ids[1], changed, st);
	after("slow_one_buffer_two_requests", d, false);
}

static void slow_attacks(struct vdrv *d)
{
	uint64_t h;
	int rc;

	slow_dev = d;
	rc = vdrv_setup(d, 0, VDRV_QSIZE);
	if (rc == 0)
		rc = disk_hash(d, &h);
	report("slow_setup", rc == 0, "setup or read: %d", rc);
	if (rc)
		return;
	slow_hash = h;
	slow_reset_attack(d);
	slow_storm_attack(d);
	slow_same_buffer_attack(d);
}

/* ---- a partition of an SD card (target=mmc:0:1) ---- */

static unsigned int flush_batch(struct vdrv *d, unsigned int count);

/* A discard of `count` sectors at `sector` (virtio 1.2 §5.2.6.2: one segment). */
static int discard(struct vdrv *d, uint64_t sector, uint32_t count)
{
	static uint8_t seg[16] __attribute__((aligned(16)));

	memset(seg, 0, sizeof(seg));
	memcpy(seg, &sector, 8);
	memcpy(seg + 8, &count, 4);
	return vdrv_request(d, VBLK_T_DISCARD, 0, seg, sizeof(seg));
}

static void expect_status(const char *name, int got, int want)
{
	report(name, got == want, "status %d, expected %d", got, want);
}

int attacks_card(struct vdrv *d)
{
	uint64_t cap;
	unsigned int ok = 0;
	int rc;

	failures = 0;
	rc = vdrv_setup(d, 1ull << VBLK_F_DISCARD, VDRV_QSIZE_MAX); /* 64 flushes at once */
	report("card_setup", rc == 0 && (d->features & (1ull << VBLK_F_DISCARD)),
	       "setup %d, features %#llx", rc, (unsigned long long)d->features);
	if (rc)
		return failures;
	cap = d->capacity;
	rc = disk_hash(d, &rw_hash);
	report("card_hash", rc == 0, "reading the partition: %d", rc);
	if (rc)
		return failures;
	memset(iobuf, 0x77, 2 * DISK_SECTOR_SIZE);
	expect_status("card_write_across_end", vdrv_request(d, VBLK_T_OUT, cap - 1, iobuf, 1024),
	              VBLK_S_IOERR);
	expect_status("card_write_past_end", vdrv_request(d, VBLK_T_OUT, cap + 100, iobuf, 512),
	              VBLK_S_IOERR);
	expect_status("card_write_far_past_end",
	              vdrv_request(d, VBLK_T_OUT, UINT64_MAX - 1, iobuf, 1024), VBLK_S_IOERR);
	expect_status("card_read_across_end", vdrv_request(d, VBLK_T_IN, cap - 1, iobuf, 1024),
	              VBLK_S_IOERR);
	/* The card is 128 Ki sectors: a discard of all of it, and one across the end. */
	expect_status("card_discard_whole_card", discard(d, 0, 131072), VBLK_S_IOERR);
	expect_status("card_discard_across_end", discard(d, cap - 8, 16), VBLK_S_IOERR);
	expect_status("card_discard_past_end", discard(d, cap, 8), VBLK_S_IOERR);
	expect_status("card_write_zeroes_not_offered",
	              vdrv_request(d, VBLK_T_WRITE_ZEROES, 0, iobuf, 16), VBLK_S_UNSUPP);
	for (unsigned int i = 0; i < 20; i++)
		ok += flush_batch(d, 64);
	report("card_flush_storm", ok == 20 * 64, "%u of %u flushes OK", ok, 20 * 64);
	after("card", d, false); /* card_after: the partition hashes as before */
	return failures;
}

void attacks_leave_in_flight(struct vdrv *d)
{
	if (vdrv_setup(d, 0, SLOW_QSIZE)) {
		log_warn("hostile: %s: setup failed: no requests left in flight", d->name);
		return;
	}
	slow_reads(d, SLOW_MAX);
	vdrv_notify(d);
	log_info("hostile: %s: %u reads published and notified; waiting to be destroyed", d->name,
	         SLOW_MAX);
}

static void readonly_attacks(struct vdrv *d)
{
	struct vdrv_desc *t = d->q.desc;

	report("ro_feature", d->device_features & (1ull << VBLK_F_RO), "features %#llx",
	       (unsigned long long)d->device_features);
	set_hdr(VBLK_T_OUT, 0);
	memset(iobuf, 0xee, 512);
	t[0] = HDR(1);
	t[1] = DATA_R(2);
	t[2] = STATUS;
	vdrv_publish(d, 0);
	expect_answer("write_read_only_disk", d, 1, VBLK_S_IOERR);
	after("write_read_only_disk", d, false);

	/* Write-zeroes was not offered: UNSUPP, and still nothing written. */
	set_hdr(VBLK_T_WRITE_ZEROES, 0);
	memset(iobuf, 0, 16);
	iobuf[8] = 8;
	t[0] = HDR(1);
	t[1] = desc((uintptr_t)iobuf, 16, VQ_DESC_F_NEXT, 2);
	t[2] = STATUS;
	vdrv_publish(d, 0);
	expect_answer("write_zeroes_read_only_disk", d, 1, VBLK_S_UNSUPP);
	after("write_zeroes_read_only_disk", d, false);
}

/* ---- interrupts (virtio 1.2 §4.2.3.4, §2.7.7) -------------------------------------------- */

/* What the interrupt side showed after a notify. */
struct irq_seen {
	bool irq;           /* the device's SPI was acknowledged at the GIC */
	uint32_t isr;       /* InterruptStatus */
	uint32_t isr_after; /* InterruptStatus after InterruptACK of isr */
};

/* Nothing pending: InterruptStatus acknowledged, the GIC drained. */
static void irq_quiet(struct vdrv *d)
{
	vdrv_write32(d, VMMIO_REG_INTERRUPT_ACK, VMMIO_INT_VRING | VMMIO_INT_CONFIG);
	vdrv_irq_drain(1000);
}

/* Looks for d's interrupt (briefly when it must not come), then acknowledges InterruptStatus. */
static struct irq_seen irq_check(struct vdrv *d, bool expected)
{
	struct irq_seen s;

	s.irq = vdrv_irq_wait(d, expected ? IRQ_WAIT_US : IRQ_QUIET_US);
	s.isr = vdrv_read32(d, VMMIO_REG_INTERRUPT_STATUS);
	vdrv_write32(d, VMMIO_REG_INTERRUPT_ACK, s.isr);
	s.isr_after = vdrv_read32(d, VMMIO_REG_INTERRUPT_STATUS);
	return s;
}

/*
 * The device's interrupt as the guest sees it: its SPI from the device tree, acknowledged at
 * the GIC's CPU interface with PSTATE.I masked; InterruptStatus and InterruptACK; the used
 * buffer notification's suppression by avail.flags without VIRTIO_F_EVENT_IDX (§2.7.7.2); the
 * configuration change notification that comes with DEVICE_NEEDS_RESET (§2.1.2).
 */
static void interrupt_checks(struct vdrv *d, struct vdrv *ro)
{
	struct vdrv_desc *t;
	struct vdrv_answer a;
	struct irq_seen s;
	uint32_t isr, isr_reset;
	int st;

	if (!d->irq) {
		report("irq_found", false, "no interrupt for %s in the device tree, or no GIC",
		       d->name);
		return;
	}
	if (!setup_with(d, "irq_setup", 0, VDRV_QSIZE))
		return;
	t = d->q.desc;

	irq_quiet(d);
	st = vdrv_request(d, VBLK_T_IN, 1, iobuf, 512);
	s = irq_check(d, true);
	report("irq_used_buffer",
	       st == VBLK_S_OK && s.irq && s.isr == VMMIO_INT_VRING && s.isr_after == 0,
	       "read status %d; interrupt %u acknowledged %d; InterruptStatus %#x, %#x after "
	       "InterruptACK",
	       st, d->irq, s.irq, s.isr, s.isr_after);

	irq_quiet(d);
	d->q.avail[0] = VQ_AVAIL_F_NO_INTERRUPT;
	st = vdrv_request(d, VBLK_T_IN, 1, iobuf, 512);
	s = irq_check(d, false);
	report("irq_suppressed_by_avail_flags", st == VBLK_S_OK && !s.irq && s.isr == 0,
	       "read status %d; with VIRTQ_AVAIL_F_NO_INTERRUPT: interrupt %d, InterruptStatus "
	       "%#x",
	       st, s.irq, s.isr);

	/* Only bit 0 of avail.flags means anything: with it clear the device MUST notify. */
	irq_quiet(d);
	d->q.avail[0] = 0xfffe;
	st = vdrv_request(d, VBLK_T_IN, 1, iobuf, 512);
	s = irq_check(d, true);
	d->q.avail[0] = 0;
	report("irq_avail_flags_other_bits", st == VBLK_S_OK && s.irq && s.isr == VMMIO_INT_VRING,
	       "read status %d; avail.flags 0xfffe: interrupt %d, InterruptStatus %#x", st, s.irq,
	       s.isr);

	/* A broken ring: DEVICE_NEEDS_RESET and a configuration change notification. */
	irq_quiet(d);
	good_read(t);
	vdrv_publish(d, d->qsize);
	vdrv_wait(d, WAIT_MS, &a);
	s = irq_check(d, true);
	report("irq_config_change_needs_reset",
	       !a.used && (a.status & VMMIO_STATUS_DEVICE_NEEDS_RESET) && s.irq &&
	           s.isr == VMMIO_INT_CONFIG && s.isr_after == 0,
	       "used %d, status %#x; interrupt %d, InterruptStatus %#x, %#x after InterruptACK: "
	       "expected DEVICE_NEEDS_RESET with InterruptStatus 0x2",
	       a.used, a.status, s.irq, s.isr, s.isr_after);
	after("irq_config_change_needs_reset", d, false);

	/* Each device raises its own line, and only its own. */
	if (ro && ro->irq) {
		irq_quiet(d);
		irq_quiet(ro);
		st = vdrv_request(ro, VBLK_T_IN, 0, iobuf, 512);
		s = irq_check(ro, true);
		vdrv_irq_wait(d, IRQ_QUIET_US);
		report("irq_per_device",
		       st == VBLK_S_OK && s.irq && ro->irq != d->irq &&
		           !(vdrv_irq_recorded() & (1ull << d->irq)),
		       "read from %s: status %d, its interrupt %u acknowledged %d; interrupts seen "
		       "%#llx (%s's is %u)",
		       ro->name, st, ro->irq, s.irq, (unsigned long long)vdrv_irq_recorded(),
		       d->name, d->irq);
	}

	/* A reset clears InterruptStatus (§2.4, §4.2.2.1). */
	vdrv_setup(d, 0, VDRV_QSIZE);
	irq_quiet(d);
	st = vdrv_request(d, VBLK_T_IN, 1, iobuf, 512);
	isr = vdrv_read32(d, VMMIO_REG_INTERRUPT_STATUS);
	vdrv_reset(d);
	isr_reset = vdrv_read32(d, VMMIO_REG_INTERRUPT_STATUS);
	report("irq_status_cleared_by_reset",
	       st == VBLK_S_OK && isr == VMMIO_INT_VRING && isr_reset == 0,
	       "read status %d; InterruptStatus %#x, %#x after the reset", st, isr, isr_reset);
	after("irq", d, true);
}

/* vring_need_event (virtio 1.2 §2.7.10): did the used index pass event + 1 going old -> now? */
static bool need_event(uint16_t event, uint16_t now, uint16_t old)
{
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

/*
 * Publishes `count` flush requests (chain 2i -> 2i + 1, status in status_buf[i]) and
 * notifies once; returns how many came back with status OK.
 */
static unsigned int flush_batch(struct vdrv *d, unsigned int count)
{
	struct vdrv_desc *t = d->q.desc;
	unsigned int ok = 0, got;

	set_hdr(VBLK_T_FLUSH, 0);
	for (unsigned int i = 0; i < count; i++) {
		status_buf[i] = NO_STATUS;
		t[2 * i] = HDR((uint16_t)(2 * i + 1));
		t[2 * i + 1] = desc((uintptr_t)&status_buf[i], 1, VQ_DESC_F_WRITE, 0);
		vdrv_publish(d, (uint16_t)(2 * i));
	}
	got = vdrv_wait_count(d, count, WAIT_MS, NULL);
	for (unsigned int i = 0; i < got; i++)
		ok += status_buf[i] == VBLK_S_OK;
	return ok;
}

/*
 * One used_event value (virtio 1.2 §2.7.10), then `count` flushes with one notify: all must
 * complete, the queue stay usable, and the interrupt come exactly when vring_need_event says.
 */
static void event_case(const char *name, struct vdrv *d, uint16_t event, unsigned int count)
{
	uint16_t old = d->used_idx;
	bool want = need_event(event, (uint16_t)(old + count), old);
	struct irq_seen s;
	unsigned int ok;
	uint32_t st;

	irq_quiet(d);
	*vdrv_used_event(d) = event;
	ok = flush_batch(d, count);
	s = irq_check(d, want);
	st = vdrv_read32(d, VMMIO_REG_STATUS);
	report(name,
	       ok == count && s.irq == want && (s.isr == VMMIO_INT_VRING) == want && st == 0xf,
	       "used_event %u, used.idx %u -> %u: %u of %u flushes OK, interrupt %d "
	       "(InterruptStatus %#x), status %#x: expected interrupt %d",
	       event, old, (uint16_t)(old + count), ok, count, s.irq, s.isr, st, want);
}

/*
 * VIRTIO_F_EVENT_IDX with used_event values a driver would not write (behind, far ahead,
 * 0xffff) and avail.flags and avail_event garbage: requests still complete, the device never
 * breaks the queue over them, and interrupts follow vring_need_event.
 */
static void event_idx_attacks(struct vdrv *d)
{
	uint16_t avail_event;
	unsigned int ok;

	if (!setup_with(d, "event_idx_setup", 1ull << VQ_F_EVENT_IDX, VDRV_QSIZE))
		return;
	event_case("event_idx_used_event_now", d, d->used_idx, 1);
	event_case("event_idx_used_event_behind", d, (uint16_t)(d->used_idx - 1), 1);
	event_case("event_idx_used_event_far_ahead", d, (uint16_t)(d->used_idx + 0x4000), 1);
	event_case("event_idx_used_event_ffff", d, 0xffff, 1);
	event_case("event_idx_batch_crosses_used_event", d, (uint16_t)(d->used_idx + 2), 4);
	event_case("event_idx_batch_stops_before_used_event", d, (uint16_t)(d->used_idx + 4), 4);
	/* With EVENT_IDX the device MUST ignore avail.flags (§2.7.7.2). */
	d->q.avail[0] = VQ_AVAIL_F_NO_INTERRUPT;
	event_case("event_idx_ignores_avail_flags", d, d->used_idx, 1);
	d->q.avail[0] = 0;

	/* avail_event is the device's to write: garbage there is overwritten, never obeyed. */
	*vdrv_avail_event(d) = 0xbeef;
	*vdrv_used_event(d) = (uint16_t)(d->used_idx + 0x4000);
	ok = flush_batch(d, 1);
	avail_event = *vdrv_avail_event(d);
	report("event_idx_avail_event_rewritten", ok == 1 && avail_event == d->avail_idx,
	       "flush %s; avail_event %#x after the driver wrote 0xbeef, avail.idx %#x",
	       ok ? "OK" : "failed", avail_event, d->avail_idx);
	after("event_idx", d, false);
}

/*
 * The ring indices are free-running 16-bit counters (virtio 1.2 §2.7.6, §2.7.8): 65,536
 * requests and more take avail.idx and used.idx through 0xffff to 0. Every one must complete,
 * and with VIRTIO_F_EVENT_IDX the interrupt across the wrap must follow vring_need_event.
 */
static void index_wrap(struct vdrv *d)
{
	const unsigned int batch = 128, stop = 0xfffc; /* 128 chains of 2 in a queue of 256 */
	unsigned int ok = 0, sent = 0;

	if (!setup_with(d, "index_wrap_setup", 1ull << VQ_F_EVENT_IDX, VDRV_QSIZE_MAX))
		return;
	while (sent < stop) {
		unsigned int n = stop - sent < batch ? stop - sent : batch;
		unsigned int done = flush_batch(d, n);

		ok += done;
		sent += n;
		if (done != n)
			break;
	}
	report("index_wrap_to_fffc", ok == stop && d->used_idx == stop && vdrv_used_idx(d) == stop,
	       "%u of %u flushes OK in batches of %u; used.idx %#x", ok, sent, batch,
	       vdrv_used_idx(d));
	if (ok != stop) {
		after("index_wrap", d, true);
		return;
	}
	event_case("index_wrap_used_event_fffe", d, 0xfffe, 4); /* 0xfffc -> 0: interrupt */
	event_case("index_wrap_used_event_5_ahead", d, 5, 4);   /* 0 -> 4: none */
	event_case("index_wrap_used_event_5_crossed", d, 5, 4); /* 4 -> 8: interrupt */
	after("index_wrap", d, false);
}

/* ---- overlapping rings (virtio 1.2 §2.7) ------------------------------------------------ */

/* Rings at desc_p, avail_p, used_p (our pages, at their GPAs): vdisk must refuse them. */
static void overlap_refused(const char *name, struct vdrv *d, uint8_t *desc_p, uint8_t *avail_p,
                            uint8_t *used_p)
{
	struct vdrv_layout q = {
	    .desc = (struct vdrv_desc *)desc_p,
	    .avail = (uint16_t *)avail_p,
	    .used = (uint32_t *)used_p,
	    .desc_dma = (uintptr_t)desc_p,
	    .avail_dma = (uintptr_t)avail_p,
	    .used_dma = (uintptr_t)used_p,
	};
	int rc = vdrv_setup_layout(d, 0, VDRV_QSIZE, &q);
	uint32_t ready = vdrv_read32(d, VMMIO_REG_QUEUE_READY);
	uint32_t st;

	/* A driver that goes on regardless: DRIVER_OK and a notify must reach no ring. */
	vdrv_write32(d, VMMIO_REG_STATUS, 0xf);
	vdrv_notify(d);
	st = vdrv_read32(d, VMMIO_REG_STATUS);
	report(name, rc == -ENXIO && ready == 0 && st == 0xf,
	       "setup %d, QueueReady %u, status %#x after a notify: expected the rings refused", rc,
	       ready, st);
}

/*
 * Rings that overlap, by address: refused at QueueReady, with a line in vdisk's log. The same
 * parts back to back (the legacy layout) are accepted and serve.
 */
static void overlap_attacks(struct vdrv *d)
{
	uint8_t *p0 = (uint8_t *)d->rings, *p1 = p0 + 4096, *p2 = p0 + 8192;
	struct vdrv_layout q;
	int rc, st = -1;

	overlap_refused("rings_overlap_used_on_desc", d, p0, p1, p0);
	overlap_refused("rings_overlap_avail_on_used", d, p0, p2, p2);
	/* The available ring's flags on the last descriptor's `next` field. */
	overlap_refused("rings_overlap_avail_on_desc_end", d, p0, p0 + 16 * VDRV_QSIZE - 2, p2);
	overlap_refused("rings_overlap_desc_in_used", d, p2 + 128, p1, p2);

	/* Descriptors, then available ring (6 + 2n bytes), then used ring 4-aligned. */
	q = (struct vdrv_layout){
	    .desc = (struct vdrv_desc *)p0,
	    .avail = (uint16_t *)(p0 + 16 * VDRV_QSIZE),
	    .used = (uint32_t *)(p0 + 16 * VDRV_QSIZE + 40),
	};
	q.desc_dma = (uintptr_t)q.desc;
	q.avail_dma = (uintptr_t)q.avail;
	q.used_dma = (uintptr_t)q.used;
	rc = vdrv_setup_layout(d, 0, VDRV_QSIZE, &q);
	if (rc == 0)
		st = vdrv_request(d, VBLK_T_IN, 2, iobuf, 512);
	report("rings_back_to_back",
	       rc == 0 && st == VBLK_S_OK && iobuf[0] == pattern(2 * DISK_SECTOR_SIZE),
	       "setup %d, read status %d, byte 0 %#x", rc, st, iobuf[0]);
	after("rings_overlap", d, true);
}

/*
 * A 512-byte read into `data` (an address as the descriptor carries it), with header and
 * status on granted pages, that the device must refuse with DEVICE_NEEDS_RESET.
 */
static void grant_read_refused(const char *name, struct vdrv *d, uint64_t data)
{
	struct vdrv_desc *t = d->q.desc;

	set_hdr(VBLK_T_IN, 0);
	t[0] = desc(grant_addr(hdr_buf), 16, VQ_DESC_F_NEXT, 1);
	t[1] = desc(data, 512, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	t[2] = desc(grant_addr((const void *)status_buf), 1, VQ_DESC_F_WRITE, 0);
	vdrv_publish(d, 0);
	expect_needs_reset(name, d);
}

/*
 * The used ring on the descriptor table through a second grant of the same page: the
 * addresses do not show the overlap, so vdisk takes the rings. It must still answer each
 * request from what it read before it wrote the used element (descriptors 4..6 serve, the
 * used elements land on descriptors 0..1).
 */
static void grant_alias_attack(struct vdrv *d)
{
	struct vdrv_layout q = vdrv_default_layout(d);
	uint32_t ready;
	unsigned int i = 0;
	bool ok = true;
	int rc, st = -1;

	q.used = (uint32_t *)d->rings->desc;
	q.used_dma = grant_alias(d->rings->desc);
	rc = vdrv_setup_layout(d, 0, VDRV_QSIZE, &q);
	ready = vdrv_read32(d, VMMIO_REG_QUEUE_READY);
	for (; rc == 0 && ok && i < 3; i++) {
		memset(iobuf, 0, 512);
		st = vdrv_request_at(d, 4, VBLK_T_IN, 10 + i, iobuf, 512);
		ok = st == VBLK_S_OK && iobuf[0] == pattern((10 + i) * DISK_SECTOR_SIZE);
	}
	report("rings_alias_grant_used_on_desc", rc == 0 && ok,
	       "setup %d (QueueReady %u); request %u: status %d, byte 0 %#x", rc, ready, i, st,
	       iobuf[0]);
	vdrv_reset(d); /* vdisk drops both mappings of the page: the alias can go */
	grant_alias_end();
	after("rings_alias_grant_used_on_desc", d, true);
}

/*
 * A ring page's grant revoked while vdisk has it mapped (it keeps ring pages mapped until the
 * queue or the device is reset, hyp/gmem.h). Ending it as Linux does fails then (Xen shows
 * GTF_reading/GTF_writing); a hostile guest rewrites the entries anyway: the used ring
 * revoked, the descriptor table offered to another domain, the available ring another frame.
 * vdisk may go on through the mappings Xen still holds (the pages stay pinned) or ask for a
 * reset; after a queue reset it must have let go of all three, so that ending them succeeds,
 * and it must refuse them from then on.
 */
static void grant_ring_attacks(struct vdrv *d, uint16_t backend)
{
	struct vdrv_rings *r = d->rings;
	uint16_t fd, fa, fu;
	uint32_t ready, status;
	bool ended, ed, ea, eu, served;
	int rc, st = -1;

	rc = vdrv_setup(d, 0, VDRV_QSIZE);
	if (rc == 0)
		st = vdrv_request(d, VBLK_T_IN, 6, iobuf, 512);
	fd = grant_flags(r->desc);
	fa = grant_flags(r->avail);
	fu = grant_flags(r->used);
	ended = grant_end(r->used);
	log_info("hostile: ring grants while vdisk serves the queue: flags %#x %#x %#x "
	         "(descriptors, available, used); ending the used ring's grant %s",
	         fd, fa, fu, ended ? "succeeded" : "failed");
	report("grant_ring_end_while_mapped",
	       st == VBLK_S_OK && !ended && (fd & GTF_reading) && (fa & GTF_reading) &&
	           (fu & GTF_writing),
	       "setup %d, read status %d; flags %#x %#x %#x; end %s: expected GTF_reading on "
	       "all three, GTF_writing on the used ring and the end refused",
	       rc, st, fd, fa, fu, ended ? "succeeded" : "failed");

	grant_set(r->used, false, false);
	grant_entry_set(grant_ref_of(r->desc), (uintptr_t)r->desc >> XEN_PAGE_SHIFT, 0,
	                GTF_permit_access);
	grant_entry_set(grant_ref_of(r->avail), (uintptr_t)iobuf >> XEN_PAGE_SHIFT, backend,
	                GTF_permit_access);
	memset(iobuf + 4096, 0, 512);
	st = vdrv_request(d, VBLK_T_IN, 7, iobuf + 4096, 512);
	status = vdrv_read32(d, VMMIO_REG_STATUS);
	served = st == VBLK_S_OK && iobuf[4096] == pattern(7 * DISK_SECTOR_SIZE);
	log_info("hostile: a request after rewriting the ring grants under vdisk's mappings: %s "
	         "(status byte %d, device status %#x)",
	         served ? "served through the mappings vdisk holds"
	         : status & VMMIO_STATUS_DEVICE_NEEDS_RESET ? "DEVICE_NEEDS_RESET"
	                                                    : "no answer",
	         st, status);
	report("grant_ring_revoked_live", served || (status & VMMIO_STATUS_DEVICE_NEEDS_RESET),
	       "read status %d, device status %#x: expected an answer or DEVICE_NEEDS_RESET", st,
	       status);

	vdrv_write32(d, VMMIO_REG_QUEUE_SEL, 0);
	vdrv_write32(d, VMMIO_REG_QUEUE_READY, 0);
	ready = vdrv_read32(d, VMMIO_REG_QUEUE_READY);
	fd = grant_flags(r->desc);
	fa = grant_flags(r->avail);
	fu = grant_flags(r->used);
	ed = grant_end(r->desc);
	ea = grant_end(r->avail);
	eu = grant_end(r->used);
	report("grant_ring_released_at_queue_reset",
	       ready == 0 && !((fd | fa | fu) & (GTF_reading | GTF_writing)) && ed && ea && eu,
	       "QueueReady %u; flags %#x %#x %#x; ends %d %d %d: expected no GTF_reading or "
	       "GTF_writing left and every end to succeed",
	       ready, fd, fa, fu, ed, ea, eu);

	/* Revoked for good: a queue on those pages must be refused, and nothing mapped. */
	rc = vdrv_setup(d, 0, VDRV_QSIZE);
	ready = vdrv_read32(d, VMMIO_REG_QUEUE_READY);
	fd = grant_flags(r->desc);
	fa = grant_flags(r->avail);
	fu = grant_flags(r->used);
	report("grant_ring_revoked_setup", rc == -ENXIO && ready == 0 && !(fd | fa | fu),
	       "setup %d, QueueReady %u, flags %#x %#x %#x: expected the rings refused", rc, ready,
	       fd, fa, fu);
	grant_set(r->desc, true, false);
	grant_set(r->avail, true, false);
	grant_set(r->used, true, false);
	after("grant_ring_revoked", d, true);
}

/*
 * Grant mode (VIRTIO_F_ACCESS_PLATFORM, Xen grant-DMA addresses): rings and buffers are pages
 * we really grant to vdisk's domain. Then buffers whose grant was revoked, is read-only for
 * a device-writable buffer, or does not exist.
 */
static void grant_attacks(struct vdrv *d, uint16_t backend, uint64_t table_gpa)
{
	int rc = grant_init(table_gpa, backend);
	int st;

	report("grant_table", rc == 0, "grant_init: %d", rc);
	if (rc)
		return;
	d->grants = true;
	rc = vdrv_setup(d, 0, VDRV_QSIZE);
	report("grant_setup", rc == 0 && (d->features & (1ull << VMMIO_F_ACCESS_PLATFORM)),
	       "setup %d, features %#llx", rc, (unsigned long long)d->features);
	if (rc)
		goto out;
	st = vdrv_request(d, VBLK_T_IN, 5, iobuf, 4096);
	report("grant_read",
	       st == VBLK_S_OK && iobuf[0] == pattern(5 * DISK_SECTOR_SIZE) &&
	           iobuf[4095] == pattern(5 * DISK_SECTOR_SIZE + 4095),
	       "status %d, byte 0 %#x", st, iobuf[0]);
	/* The same bytes back: a real write through grants that leaves the pattern intact. */
	st = vdrv_request(d, VBLK_T_OUT, 5, iobuf, 4096);
	report("grant_write", st == VBLK_S_OK, "status %d", st);
	after("grant_write", d, false);

	/* Revoked after being offered (and used above): vdisk must not still have it mapped. */
	grant_set(iobuf, false, false);
	grant_read_refused("grant_revoked", d, grant_addr(iobuf));
	grant_set(iobuf, true, false);
	after("grant_revoked", d, false);

	/* A read-only grant for a buffer the device must write. */
	grant_set(iobuf, true, true);
	grant_read_refused("grant_read_only_written", d, grant_addr(iobuf));
	grant_set(iobuf, true, false);
	after("grant_read_only_written", d, false);

	/* A reference past our table, and an address with bits 62..48 set. */
	grant_read_refused("grant_bad_ref", d, GRANT_DMA_BIT | 100000ull << 12);
	after("grant_bad_ref", d, false);

	grant_read_refused("address_reserved_bits", d, 0x4000000000000000ull | (uintptr_t)iobuf);
	after("address_reserved_bits", d, false);

	grant_alias_attack(d);
	grant_ring_attacks(d, backend);
out:
	d->grants = false;
}

/* ---- a reset while a second vCPU keeps notifying (virtio 1.2 §2.4) ----------------------- */

#define RACE_RESETS 10

enum race_phase { RACE_WAIT, RACE_RUN, RACE_STOP, RACE_STOPPED };

/* vCPU 1's side of the race: where to publish, what it is told, what it did. */
static struct {
	uintptr_t base; /* the device's window */
	struct vdrv_desc *desc;
	uint16_t *avail;
	uint16_t *used;
	uint32_t phase;     /* enum race_phase, atomics only */
	uint32_t notifies;  /* written by vCPU 1 only */
	uint32_t used_seen; /* used.idx changes it saw, vCPU 1 only */
} race;

static uint8_t race_stack[16384] __attribute__((aligned(16)));
static uint8_t race_exception_stack[4096] __attribute__((aligned(16)));
static uint8_t race_buf[512] __attribute__((aligned(512)));
static uint8_t race_hdr[16] __attribute__((aligned(16)));
static volatile uint8_t race_status;

static uint32_t race_phase(void)
{
	return __atomic_load_n(&race.phase, __ATOMIC_ACQUIRE);
}

/*
 * vCPU 1: publishes a read in descriptors 8..10 and notifies, again and again, never waiting
 * for an answer, whatever state vCPU 0 has just put the device in. It logs nothing (the log
 * is vCPU 0's) and halts when told to stop.
 */
static void race_cpu1(void *arg)
{
	volatile uint16_t *used_idx = &race.used[1];
	uint16_t last_used = *used_idx;

	(void)arg;
	while (race_phase() == RACE_WAIT)
		;
	while (race_phase() == RACE_RUN) {
		uint16_t idx = __atomic_load_n(&race.avail[1], __ATOMIC_RELAXED);

		race.desc[8] = desc((uintptr_t)race_hdr, 16, VQ_DESC_F_NEXT, 9);
		race.desc[9] = desc((uintptr_t)race_buf, 512, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 10);
		race.desc[10] = desc((uintptr_t)&race_status, 1, VQ_DESC_F_WRITE, 0);
		race.avail[2 + idx % VDRV_QSIZE] = 8;
		__atomic_store_n(&race.avail[1], (uint16_t)(idx + 1), __ATOMIC_RELEASE);
		io_mb();
		mmio_write_32(race.base + VMMIO_REG_QUEUE_NOTIFY, 0);
		race.notifies++;
		if (*used_idx != last_used) {
			last_used = *used_idx;
			race.used_seen++;
		}
	}
	__atomic_store_n(&race.phase, RACE_STOPPED, __ATOMIC_RELEASE);
	arch_cpu_halt();
}

/*
 * Resets and re-initialises the device again and again while vCPU 1 publishes and notifies
 * (so vdisk gets both vCPUs' IOREQs, notifies of a queue being reset, rings rewritten under
 * it). Every reset must read back 0, the device must serve afterwards and the disk be intact.
 */
static void reset_race(struct vdrv *d, const struct attacks_env *env)
{
	unsigned int bad_resets = 0, refused_setups = 0;
	uint64_t deadline;
	bool stopped;
	int rc;

	if (env->cpu1_mpidr < 0) {
		report("reset_race_second_vcpu", false, "no second vCPU in the device tree");
		return;
	}
	if (!setup_with(d, "reset_race_second_vcpu", 0, VDRV_QSIZE))
		return;
	memset(race_hdr, 0, sizeof(race_hdr)); /* VIRTIO_BLK_T_IN of sector 0 */
	race.base = d->base;
	race.desc = d->rings->desc;
	race.avail = d->rings->avail;
	race.used = (uint16_t *)d->rings->used;
	__atomic_store_n(&race.phase, RACE_WAIT, __ATOMIC_RELEASE);
	rc = arch_cpu_start_secondary(env->psci, (uint64_t)env->cpu1_mpidr, race_cpu1, NULL,
	                              race_stack + sizeof(race_stack),
	                              race_exception_stack + sizeof(race_exception_stack));
	report("second_vcpu_started", rc == 0, "PSCI CPU_ON of affinity %#llx: %d",
	       (unsigned long long)env->cpu1_mpidr, rc);
	if (rc)
		return;
	__atomic_store_n(&race.phase, RACE_RUN, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < RACE_RESETS; i++) {
		delay_us(2000);
		if (vdrv_reset(d))
			bad_resets++;
		delay_us(1000);
		if (vdrv_setup(d, 0, VDRV_QSIZE))
			refused_setups++;
	}
	__atomic_store_n(&race.phase, RACE_STOP, __ATOMIC_RELEASE);
	deadline = arch_timer_now_ns() + 1000000000ull;
	while (race_phase() != RACE_STOPPED && arch_timer_now_ns() < deadline)
		;
	stopped = race_phase() == RACE_STOPPED;
	log_info("hostile: reset race: %u resets, %u re-initialisations refused, vCPU 1 %u "
	         "notifies, %u used.idx changes seen",
	         RACE_RESETS, refused_setups, race.notifies, race.used_seen);
	report("reset_race_second_vcpu", stopped && race.notifies > 0 && bad_resets == 0,
	       "vCPU 1 %s after %u notifies; %u of %u resets did not read back status 0",
	       stopped ? "stopped" : "did not stop", race.notifies, bad_resets, RACE_RESETS);
	after("reset_race_second_vcpu", d, true);
}

int attacks_run(struct vdrv *rw, struct vdrv *ro, struct vdrv *slow, const struct attacks_env *env)
{
	int rc;

	failures = 0;
	rc = vdrv_setup(rw, 0, VDRV_QSIZE);
	report("setup", rc == 0, "vdrv_setup: %d", rc);
	if (rc)
		return failures;
	log_info("hostile: %s: %llu sectors, features %#llx", rw->name,
	         (unsigned long long)rw->capacity, (unsigned long long)rw->device_features);
	if (!fill_and_verify(rw))
		return failures;
	rw_hash = pattern_hash(rw->capacity);
	if (ro) {
		rc = vdrv_setup(ro, 0, VDRV_QSIZE);
		if (rc == 0)
			rc = disk_hash(ro, &ro_hash);
		report("ro_setup", rc == 0, "setup or read: %d", rc);
		if (rc)
			ro = NULL;
	}

	ring_attacks(rw);
	request_attacks(rw);
	register_attacks(rw);
	mmio_shape_attacks(rw, ro, env->last ? env->last : rw);
	setup_attacks(rw);
	overlap_attacks(rw);
	indirect_attacks(rw);
	mq_attacks(rw);
	inflight_attack(rw);
	interrupt_checks(rw, ro);
	event_idx_attacks(rw);
	index_wrap(rw);
	if (ro)
		readonly_attacks(ro);
	if (slow)
		slow_attacks(slow);
	else
		report("slow_device", false,
		       "no disk of %u sectors (target=ram:256K,latency=100ms)",
		       ATTACKS_SLOW_SECTORS);
	if (env->backend >= 0)
		grant_attacks(rw, (uint16_t)env->backend, env->grant_table_gpa);
	else
		report("grant_backend_domid", false,
		       "no iommus = <&xen_grant_dma DOMID> in the DT");
	reset_race(rw, env);
	/* The last word: the device still serves and the disk is the pattern. */
	after("final", rw, true);
	return failures;
}
