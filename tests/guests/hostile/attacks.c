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

#include "arch/barrier.h"
#include "arch/timer.h"
#include "blk/disk.h"
#include "blk/vblk.h"
#include "boot/log.h"
#include "tests/guests/hostile/attacks.h"
#include "tests/guests/hostile/grant.h"
#include "tests/guests/hostile/vdrv.h"
#include "virtio/vq.h"

#define CHUNK       (32u * 1024u)
#define WAIT_MS     1000u
#define NO_STATUS   0xffu
#define FAR_ADDRESS 0x100000000000ull /* 16 TiB: no guest has RAM there */

static uint8_t iobuf[CHUNK] __attribute__((aligned(4096)));
static uint8_t hdr_buf[64] __attribute__((aligned(16)));
static volatile uint8_t status_buf[16] __attribute__((aligned(16)));
static struct vdrv_desc table1[VQ_CHAIN_MAX + 2] __attribute__((aligned(16)));
static struct vdrv_desc table2[4] __attribute__((aligned(16)));
/* reset_with_requests_in_flight: one indirect table of 1 MiB of reads, for every chain. */
#define FLIGHT_BUFS 8u
static uint8_t flight_buf[VBLK_SIZE_MAX] __attribute__((aligned(4096)));
static struct vdrv_desc flight_table[FLIGHT_BUFS + 2] __attribute__((aligned(16)));

static int failures;
static uint64_t rw_hash, ro_hash;

static void report(const char *name, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * One GUEST-TEST line (tests/rig/lib/guest.sh turns it into rig test hostile.NAME), and on a
 * pass a line with what was observed.
 */
static void report(const char *name, bool ok, const char *fmt, ...)
{
	char why[160];
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

static struct vdrv_desc desc(uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	return (struct vdrv_desc){addr, len, flags, next};
}

#define HDR(next)    desc((uintptr_t)hdr_buf, 16, VQ_DESC_F_NEXT, next)
#define STATUS       desc((uintptr_t)status_buf, 1, VQ_DESC_F_WRITE, 0)
#define DATA_R(next) desc((uintptr_t)iobuf, 512, VQ_DESC_F_NEXT, next)
#define DATA_W(next) desc((uintptr_t)iobuf, 512, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, next)

/*
 * Descriptor-chain attacks: each publishes one chain at head 0 and notifies. Every attack
 * writes all the descriptors it uses: after() reads the disk with vdrv_request, which
 * rewrites descriptors 0..2.
 */
static void ring_attacks(struct vdrv *d)
{
	struct vdrv_desc *t = d->rings->desc;

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
	set_hdr(VBLK_T_IN, 0);
	t[0] = HDR(1);
	t[1] = DATA_W(2);
	t[2] = STATUS;
	refused(d, d->qsize, "head_out_of_range", false);

	/* avail.idx runs ahead by more than the queue size (§2.7.13.3). */
	set_hdr(VBLK_T_IN, 0);
	t[0] = HDR(1);
	t[1] = DATA_W(2);
	t[2] = STATUS;
	for (uint16_t i = 0; i < d->qsize; i++)
		d->rings->avail[2 + i] = 0;
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
	set_hdr(VBLK_T_IN, 0);
	table1[0] = HDR(1);
	table1[1] = DATA_W(2);
	table1[2] = STATUS;
	t[0] = desc((uintptr_t)table1, 3 * 16, VQ_DESC_F_INDIRECT, 0);
	refused(d, 0, "indirect_not_negotiated", false);
}

/* Sets the device up with VIRTIO_F_INDIRECT_DESC; a failure is test `name`'s. */
static bool setup_indirect(struct vdrv *d, const char *name, uint16_t qsize)
{
	int rc = vdrv_setup(d, 1ull << VQ_F_INDIRECT_DESC, qsize);

	if (rc || !(d->features & (1ull << VQ_F_INDIRECT_DESC))) {
		report(name, false, "setup %d, features %#llx", rc,
		       (unsigned long long)d->features);
		return false;
	}
	return true;
}

/* Attacks with VIRTIO_F_INDIRECT_DESC negotiated (§2.7.5.3). */
static void indirect_attacks(struct vdrv *d)
{
	struct vdrv_desc *t = d->rings->desc;

	if (!setup_indirect(d, "indirect_setup", VDRV_QSIZE))
		return;
	/* First a good indirect read, so the failures below are about the attack. */
	set_hdr(VBLK_T_IN, 0);
	table1[0] = HDR(1);
	table1[1] = DATA_W(2);
	table1[2] = STATUS;
	t[0] = desc((uintptr_t)table1, 3 * 16, VQ_DESC_F_INDIRECT, 0);
	vdrv_publish(d, 0);
	expect_answer("indirect_read", d, 513, VBLK_S_OK);

	set_hdr(VBLK_T_IN, 0);
	table2[0] = HDR(1);
	table2[1] = DATA_W(2);
	table2[2] = STATUS;
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
	struct vdrv_desc *t = d->rings->desc;

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
	/* A queue that does not exist: QueueNumMax 0, and it cannot be made ready. */
	vdrv_write32(d, VMMIO_REG_QUEUE_SEL, 1);
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
	       "QueueNumMax %u, queue 1: max %u ready %u; queue 0 ready %u, read with %u entries: "
	       "status %d",
	       max, max1, ready1, ready0, max, io);
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
	d->rings->desc[0] = HDR(1);
	d->rings->desc[1] = DATA_R(2);
	d->rings->desc[2] = STATUS;
	vdrv_publish(d, 0);
	vdrv_reset(d);
	vdrv_notify(d); /* after the reset: must not run the old ring */
	report("reset_with_request_published", status_buf[0] == NO_STATUS,
	       "the published write got status %#x after the reset", status_buf[0]);
	after("reset_with_request_published", d, true);
}

static uint16_t used_idx_now(const struct vdrv *d)
{
	smp_rmb();
	return __atomic_load_n((volatile uint16_t *)&d->rings->used[0] + 1, __ATOMIC_RELAXED);
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

	if (!setup_indirect(d, "reset_with_requests_in_flight", VDRV_QSIZE_MAX))
		return;
	set_hdr(VBLK_T_IN, 0);
	flight_table[0] = HDR(1);
	for (uint16_t i = 1; i <= FLIGHT_BUFS; i++)
		flight_table[i] = desc((uintptr_t)flight_buf, sizeof(flight_buf),
		                       VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, (uint16_t)(i + 1));
	flight_table[FLIGHT_BUFS + 1] = STATUS;
	for (uint16_t i = 0; i < VDRV_QSIZE_MAX; i++) {
		d->rings->desc[i] =
		    desc((uintptr_t)flight_table, sizeof(flight_table), VQ_DESC_F_INDIRECT, 0);
		vdrv_publish(d, i);
	}
	vdrv_notify(d);
	vdrv_reset(d);
	at_reset = used_idx_now(d);
	served_status = status_buf[0];
	deadline = arch_timer_now_ns() + 500ull * 1000000u;
	while (arch_timer_now_ns() < deadline)
		;
	later = used_idx_now(d);
	report("reset_with_requests_in_flight",
	       at_reset >= 1 && at_reset < VDRV_QSIZE_MAX && later == at_reset &&
	           served_status == VBLK_S_OK,
	       "%u of %u 1 MiB reads answered before the reset (status %#x), %u half a second "
	       "after it: expected some, not all, and no change",
	       at_reset, VDRV_QSIZE_MAX, served_status, later);
	after("reset_with_requests_in_flight", d, true);
}

static void readonly_attacks(struct vdrv *d)
{
	struct vdrv_desc *t = d->rings->desc;

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

/*
 * A 512-byte read into `data` (an address as the descriptor carries it), with header and
 * status on granted pages, that the device must refuse with DEVICE_NEEDS_RESET.
 */
static void grant_read_refused(const char *name, struct vdrv *d, uint64_t data)
{
	struct vdrv_desc *t = d->rings->desc;

	set_hdr(VBLK_T_IN, 0);
	t[0] = desc(grant_addr(hdr_buf), 16, VQ_DESC_F_NEXT, 1);
	t[1] = desc(data, 512, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	t[2] = desc(grant_addr((const void *)status_buf), 1, VQ_DESC_F_WRITE, 0);
	vdrv_publish(d, 0);
	expect_needs_reset(name, d);
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
out:
	d->grants = false;
}

int attacks_run(struct vdrv *rw, struct vdrv *ro, int backend, uint64_t grant_table_gpa)
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
	setup_attacks(rw);
	indirect_attacks(rw);
	inflight_attack(rw);
	if (ro)
		readonly_attacks(ro);
	if (backend >= 0)
		grant_attacks(rw, (uint16_t)backend, grant_table_gpa);
	else
		report("grant_backend_domid", false,
		       "no iommus = <&xen_grant_dma DOMID> in the DT");
	/* The last word: the device still serves and the disk is the pattern. */
	after("final", rw, true);
	return failures;
}
