/*
 * blk/vblk.c end to end: a driver written here brings the device up through its MMIO
 * registers, builds real requests in a fake guest memory (descriptors, available ring,
 * headers, data, status bytes) and notifies; the device serves them from a RAM disk. Each
 * test checks the status byte, used.len, the log line and that nothing outside the request
 * changed, on the disk or in the guest.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "arch/fake.h"
#include "blk/disk.h"
#include "blk/ramdisk.h"
#include "blk/vblk.h"
#include "tests/unit/fake_guest.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/irq_line.h"
#include "tests/unit/test.h"
#include "virtio/vmmio.h"
#include "virtio/vq.h"

#define DESC       (GUEST_BASE + 0x0000)
#define AVAIL      (GUEST_BASE + 0x1000)
#define USED       (GUEST_BASE + 0x2000)
#define IND        (GUEST_BASE + 0x3000)
#define HDR        (GUEST_BASE + 0x4000) /* request headers, 0x20 apart */
#define STATUS     (GUEST_BASE + 0x5000) /* status bytes, 0x10 apart */
#define DATA       (GUEST_BASE + 0x8000)

#define DISK_SECTORS 128u
#define DISK_BYTES   (DISK_SECTORS * DISK_SECTOR_SIZE)
#define SERIAL       "vdisk-serial-0001"
#define SENTINEL     0xee

static uint8_t disk[DISK_BYTES];
static uint8_t disk_want[DISK_BYTES];


static struct ramdisk rd;
static struct vblk blk;
static uint16_t num;       /* queue size */
static uint16_t drv_avail; /* the driver's avail.idx */
static uint16_t next_desc; /* next free descriptor */

/* vblk_init, then the interrupt callback the owner sets (counted, not raised). */
static int init_blk(struct vblk *b, const char *name, struct disk *d, const char *serial,
                    uint32_t queues, const struct vq_mem *m)
{
	int rc = vblk_init(b, name, d, serial, queues, m);

	irq_count = 0;
	if (rc == 0)
		vmmio_set_irq(&b->mmio, irq_line_raise, NULL);
	b->read_logged = true; /* the first-read line has a test of its own */
	return rc;
}

/* ---- guest memory as the driver writes it ---------------------------------- */

static uint64_t rd_cfg(uint32_t offset, uint32_t size)
{
	uint64_t v = 0xdead;

	vmmio_read(&blk.mmio, VMMIO_REG_CONFIG + offset, size, &v);
	return v;
}

static uint32_t rd_reg(uint32_t offset)
{
	uint64_t v = 0xdead;

	vmmio_read(&blk.mmio, offset, 4, &v);
	return (uint32_t)v;
}

static void wr_reg(uint32_t offset, uint32_t v)
{
	vmmio_write(&blk.mmio, offset, 4, v);
}

static uint64_t device_features(void)
{
	wr_reg(VMMIO_REG_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = rd_reg(VMMIO_REG_DEVICE_FEATURES);
	wr_reg(VMMIO_REG_DEVICE_FEATURES_SEL, 1);
	return lo | (uint64_t)rd_reg(VMMIO_REG_DEVICE_FEATURES) << 32;
}

/* Initializes the device as Linux's virtio-mmio and virtio-blk drivers do (§3.1.1). */
static bool driver_init(uint64_t drop_features, uint16_t queue_size)
{
	uint64_t features = device_features() & ~drop_features;

	memset(guest, 0, 0x3000); /* fresh rings */
	num = queue_size;
	drv_avail = 0;
	next_desc = 0;
	wr_reg(VMMIO_REG_STATUS, 0);
	wr_reg(VMMIO_REG_STATUS, VMMIO_STATUS_ACKNOWLEDGE);
	wr_reg(VMMIO_REG_STATUS, VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER);
	wr_reg(VMMIO_REG_DRIVER_FEATURES_SEL, 0);
	wr_reg(VMMIO_REG_DRIVER_FEATURES, (uint32_t)features);
	wr_reg(VMMIO_REG_DRIVER_FEATURES_SEL, 1);
	wr_reg(VMMIO_REG_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr_reg(VMMIO_REG_STATUS, 11);
	if (rd_reg(VMMIO_REG_STATUS) != 11)
		return false;
	wr_reg(VMMIO_REG_QUEUE_SEL, 0);
	wr_reg(VMMIO_REG_QUEUE_NUM, queue_size);
	wr_reg(VMMIO_REG_QUEUE_DESC_LOW, (uint32_t)DESC);
	wr_reg(VMMIO_REG_QUEUE_DESC_HIGH, 0);
	wr_reg(VMMIO_REG_QUEUE_DRIVER_LOW, (uint32_t)AVAIL);
	wr_reg(VMMIO_REG_QUEUE_DRIVER_HIGH, 0);
	wr_reg(VMMIO_REG_QUEUE_DEVICE_LOW, (uint32_t)USED);
	wr_reg(VMMIO_REG_QUEUE_DEVICE_HIGH, 0);
	wr_reg(VMMIO_REG_QUEUE_READY, 1);
	wr_reg(VMMIO_REG_STATUS, 15);
	return rd_reg(VMMIO_REG_STATUS) == 15 && rd_reg(VMMIO_REG_QUEUE_READY) == 1;
}

/* A disk of DISK_SECTORS with a pattern, a device on it, a driver that accepted features. */
static bool setup_full(bool read_only, const char *serial, uint64_t drop_features,
                       uint16_t queue_size)
{
	memset(guest, 0, sizeof(guest));
	memset(&fake, 0, sizeof(fake));
	for (uint32_t i = 0; i < DISK_BYTES; i++)
		disk[i] = disk_want[i] = (uint8_t)(i * 13 + i / 512);
	if (ramdisk_init(&rd, disk, DISK_BYTES, read_only) ||
	    init_blk(&blk, "vblk-test", &rd.disk, serial, 1, &mem))
		return false;
	if (!driver_init(drop_features, queue_size))
		return false;
	log_capture_reset();
	return true;
}

static bool setup(void)
{
	return setup_full(false, SERIAL, 0, 64);
}

struct buf {
	gpa_t gpa;
	uint32_t len;
	bool writable;
};

/* Writes one chain of descriptors for bufs and makes it available; returns its head. */
static uint16_t submit(const struct buf *bufs, unsigned int count)
{
	uint16_t head = next_desc;

	for (unsigned int i = 0; i < count; i++) {
		uint16_t d = (uint16_t)((next_desc + i) % num);
		uint16_t flags = (uint16_t)((bufs[i].writable ? VQ_DESC_F_WRITE : 0) |
		                            (i + 1 < count ? VQ_DESC_F_NEXT : 0));
		gpa_t at = DESC + 16u * d;

		put64(at, bufs[i].gpa);
		put32(at + 8, bufs[i].len);
		put16(at + 12, flags);
		put16(at + 14, (uint16_t)((d + 1) % num));
	}
	next_desc = (uint16_t)((next_desc + count) % num);
	put16(AVAIL + 4 + 2u * (drv_avail % num), head);
	drv_avail++;
	put16(AVAIL + 2, drv_avail);
	return head;
}

static void header(gpa_t at, uint32_t type, uint64_t sector)
{
	put32(at, type);
	put32(at + 4, 0);
	put64(at + 8, sector);
}

static void kick(void)
{
	wr_reg(VMMIO_REG_QUEUE_NOTIFY, 0);
}

static uint16_t used_idx(void)
{
	return get16(USED + 2);
}

static uint32_t used_id(uint16_t n)
{
	return get32(USED + 4 + 8u * (n % num));
}

static uint32_t used_len(uint16_t n)
{
	return get32(USED + 4 + 8u * (n % num) + 4);
}

static unsigned int log_lines(void)
{
	unsigned int n = 0;

	for (const char *s = log_text; *s; s++)
		n += *s == '\n';
	return n;
}

/* A simple request: header at HDR + 0x20*slot, one data buffer, status at STATUS + 0x10*slot. */
static uint16_t simple(unsigned int slot, uint32_t type, uint64_t sector, gpa_t data, uint32_t len,
                       bool data_writable)
{
	struct buf b[3];
	unsigned int n = 0;

	header(HDR + 0x20u * slot, type, sector);
	gp(STATUS + 0x10u * slot)[0] = SENTINEL;
	b[n++] = (struct buf){HDR + 0x20u * slot, 16, false};
	if (len)
		b[n++] = (struct buf){data, len, data_writable};
	b[n++] = (struct buf){STATUS + 0x10u * slot, 1, true};
	return submit(b, n);
}

static uint8_t status_of(unsigned int slot)
{
	return gp(STATUS + 0x10u * slot)[0];
}

static void fill(gpa_t at, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		gp(at)[i] = (uint8_t)(seed + i * 7);
}

/* ---- configuration ---------------------------------------------------------- */

TEST(vblk, config_space_describes_the_disk)
{
	uint64_t f;
	uint64_t v;

	ASSERT_TRUE(setup());
	EXPECT_EQ(rd_reg(VMMIO_REG_DEVICE_ID), 2);
	EXPECT_EQ(rd_cfg(0, 8), DISK_SECTORS);
	EXPECT_EQ(rd_cfg(0, 4), DISK_SECTORS);
	EXPECT_EQ(rd_cfg(8, 4), VBLK_SIZE_MAX);
	EXPECT_EQ(rd_cfg(12, 4), 254);
	EXPECT_EQ(rd_cfg(20, 4), 512);
	EXPECT_EQ(rd_cfg(36, 4), VBLK_DWZ_SECTORS_MAX);
	EXPECT_EQ(rd_cfg(40, 4), VBLK_DWZ_SEG_MAX);
	EXPECT_EQ(rd_cfg(44, 4), 1);
	EXPECT_EQ(rd_cfg(48, 4), VBLK_DWZ_SECTORS_MAX);
	EXPECT_EQ(rd_cfg(52, 4), VBLK_DWZ_SEG_MAX);
	EXPECT_EQ(rd_cfg(56, 1), 0);
	EXPECT_EQ(rd_cfg(68, 4), 0);
	EXPECT_EQ(vmmio_read(&blk.mmio, VMMIO_REG_CONFIG + 72, 1, &v), -ERANGE);
	EXPECT_EQ(rd_reg(VMMIO_REG_QUEUE_NUM_MAX), 256);

	f = device_features();
	/* A RAM disk has no cache: no FLUSH (Linux then sends none). */
	EXPECT_EQ(f, 1ull << 32 | 1ull << 33 | 1ull << 28 | 1ull << 29 | 1u << 1 | 1u << 2 |
	                 1u << 6 | 1u << 13 | 1u << 14);

	ASSERT_TRUE(setup_full(true, SERIAL, 0, 64));
	f = device_features();
	EXPECT_TRUE(f & 1u << VBLK_F_RO);
	EXPECT_FALSE(f & 1u << VBLK_F_DISCARD);
	EXPECT_FALSE(f & 1u << VBLK_F_WRITE_ZEROES);
	EXPECT_STREQ(log_text, "");
}

/* ---- requests that work --------------------------------------------------- */

TEST(vblk, write_then_read_round_trip)
{
	ASSERT_TRUE(setup());
	fill(DATA, 1024, 0x40);
	simple(0, VBLK_T_OUT, 5, DATA, 1024, false);
	kick();
	EXPECT_EQ(used_idx(), 1);
	EXPECT_EQ(used_id(0), 0);
	EXPECT_EQ(used_len(0), 1);
	EXPECT_EQ(status_of(0), VBLK_S_OK);
	memcpy(disk_want + 5 * 512, gp(DATA), 1024);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
	EXPECT_EQ(rd_reg(VMMIO_REG_INTERRUPT_STATUS), VMMIO_INT_VRING);
	EXPECT_TRUE(irq_take());
	wr_reg(VMMIO_REG_INTERRUPT_ACK, VMMIO_INT_VRING);

	memset(gp(DATA + 0x1000), 0, 1024);
	simple(1, VBLK_T_IN, 5, DATA + 0x1000, 1024, true);
	kick();
	EXPECT_EQ(used_idx(), 2);
	EXPECT_EQ(used_id(1), 3);
	EXPECT_EQ(used_len(1), 1025);
	EXPECT_EQ(status_of(1), VBLK_S_OK);
	EXPECT_MEMEQ(gp(DATA + 0x1000), gp(DATA), 1024);
	EXPECT_STREQ(log_text, "");
	EXPECT_EQ(fake.contract_violations, 0);
}

TEST(vblk, request_split_across_buffers_and_pages)
{
	struct buf out[] = {
	    {HDR, 10, false},
	    {HDR + 0x100, 6, false},
	    {DATA + 4096 - 50, 100, false}, /* crosses a page */
	    {DATA + 0x2000, 412, false},
	    {DATA + 0x3000, 512, false},
	    {STATUS, 1, true},
	};
	struct buf in[] = {
	    {HDR + 0x200, 16, false},
	    {DATA + 0x5000 - 100, 300, true}, /* crosses a page */
	    {DATA + 0x6000, 213, true},       /* 212 data bytes, then the status */
	};
	uint8_t want[1024];

	ASSERT_TRUE(setup());
	put32(HDR, VBLK_T_OUT);
	put32(HDR + 4, 0);
	put16(HDR + 8, 9); /* sector 9, split: 2 bytes here, 6 in the next buffer */
	put16(HDR + 0x100, 0);
	put32(HDR + 0x102, 0);
	fill(DATA + 4096 - 50, 100, 1);
	fill(DATA + 0x2000, 412, 2);
	fill(DATA + 0x3000, 512, 3);
	memcpy(want, gp(DATA + 4096 - 50), 100);
	memcpy(want + 100, gp(DATA + 0x2000), 412);
	memcpy(want + 512, gp(DATA + 0x3000), 512);
	gp(STATUS)[0] = SENTINEL;
	submit(out, 6);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_OK);
	EXPECT_EQ(used_len(0), 1);
	memcpy(disk_want + 9 * 512, want, 1024);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);

	header(HDR + 0x200, VBLK_T_IN, 10);
	gp(DATA + 0x6000)[212] = SENTINEL;
	submit(in, 3);
	kick();
	EXPECT_EQ(used_len(1), 513);
	EXPECT_EQ(gp(DATA + 0x6000)[212], VBLK_S_OK);
	EXPECT_MEMEQ(gp(DATA + 0x5000 - 100), want + 512, 300);
	EXPECT_MEMEQ(gp(DATA + 0x6000), want + 812, 212);
	EXPECT_STREQ(log_text, "");
	EXPECT_EQ(fake.contract_violations, 0);
}

TEST(vblk, indirect_request)
{
	ASSERT_TRUE(setup());
	header(HDR, VBLK_T_IN, 2);
	gp(STATUS)[0] = SENTINEL;
	/* One descriptor in the ring pointing at a table of three. */
	put64(IND, HDR);
	put32(IND + 8, 16);
	put16(IND + 12, VQ_DESC_F_NEXT);
	put16(IND + 14, 1);
	put64(IND + 16, DATA);
	put32(IND + 24, 512);
	put16(IND + 28, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE);
	put16(IND + 30, 2);
	put64(IND + 32, STATUS);
	put32(IND + 40, 1);
	put16(IND + 44, VQ_DESC_F_WRITE);
	submit(&(struct buf){IND, 48, false}, 1);
	put16(DESC + 12, VQ_DESC_F_INDIRECT);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_OK);
	EXPECT_EQ(used_len(0), 513);
	EXPECT_MEMEQ(gp(DATA), disk_want + 2 * 512, 512);
	EXPECT_STREQ(log_text, "");
}

TEST(vblk, flush)
{
	ASSERT_TRUE(setup());
	simple(0, VBLK_T_FLUSH, 0, 0, 0, false);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_OK);
	EXPECT_EQ(used_len(0), 1);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
	EXPECT_STREQ(log_text, "");
}

/* A driver on another vCPU that makes a new request available each time one completes. */
static unsigned int refills_left;

static void refill_on_used_idx(gpa_t gpa, uint32_t len, bool writable)
{
	if (writable && gpa == USED + 2 && refills_left) {
		refills_left--;
		simple(0, VBLK_T_FLUSH, 0, 0, 0, false);
	}
}

TEST(vblk, a_queue_kept_full_is_served_one_budget_at_a_time)
{
	ASSERT_TRUE(setup());
	simple(0, VBLK_T_FLUSH, 0, 0, 0, false);
	refills_left = VBLK_BUDGET + 9;
	fake.hook = refill_on_used_idx;
	kick();
	/* The notify returns after one budget, with the queue marked for more. */
	EXPECT_EQ(used_idx(), VBLK_BUDGET);
	EXPECT_TRUE(vblk_pending(&blk));
	vblk_run(&blk);
	EXPECT_EQ(used_idx(), VBLK_BUDGET + 10);
	EXPECT_FALSE(vblk_pending(&blk));
	fake.hook = NULL;
	EXPECT_EQ(status_of(0), VBLK_S_OK);
	EXPECT_STREQ(log_text, "");
}

TEST(vblk, a_reset_forgets_the_pending_queue)
{
	ASSERT_TRUE(setup());
	simple(0, VBLK_T_FLUSH, 0, 0, 0, false);
	refills_left = VBLK_BUDGET;
	fake.hook = refill_on_used_idx;
	kick();
	fake.hook = NULL;
	EXPECT_TRUE(vblk_pending(&blk));
	wr_reg(VMMIO_REG_STATUS, 0);
	EXPECT_FALSE(vblk_pending(&blk));
	vblk_run(&blk);
	EXPECT_EQ(used_idx(), VBLK_BUDGET);
}

TEST(vblk, get_id_returns_the_nul_padded_serial)
{
	ASSERT_TRUE(setup());
	memset(gp(DATA), SENTINEL, 32);
	simple(0, VBLK_T_GET_ID, 0, DATA, 20, true);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_OK);
	EXPECT_EQ(used_len(0), 21);
	EXPECT_MEMEQ(gp(DATA), SERIAL "\0\0\0", 20);
	EXPECT_EQ(gp(DATA)[20], SENTINEL);

	/* A 20-byte serial has no terminator; a longer one is cut. */
	ASSERT_TRUE(setup_full(false, "0123456789abcdefghijKLMN", 0, 64));
	memset(gp(DATA), SENTINEL, 32);
	simple(0, VBLK_T_GET_ID, 0, DATA, 20, true);
	kick();
	EXPECT_MEMEQ(gp(DATA), "0123456789abcdefghij", 20);
	EXPECT_EQ(gp(DATA)[20], SENTINEL);

	/* Too short a buffer: an error, and nothing written but the status. */
	memset(gp(DATA), SENTINEL, 32);
	simple(1, VBLK_T_GET_ID, 0, DATA, 10, true);
	kick();
	EXPECT_EQ(status_of(1), VBLK_S_IOERR);
	EXPECT_EQ(used_len(1), 1);
	EXPECT_EQ(gp(DATA)[0], SENTINEL);
	EXPECT_CONTAINS(log_text,
	                "vblk-test: request 3: GET_ID buffer of 10 bytes is shorter than 20");
	EXPECT_EQ(log_lines(), 1);
}

/* Writes discard/write-zeroes segments {sector, count, flags} at DATA. */
static void segments(const uint64_t (*seg)[3], unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		put64(DATA + 16u * i, seg[i][0]);
		put32(DATA + 16u * i + 8, (uint32_t)seg[i][1]);
		put32(DATA + 16u * i + 12, (uint32_t)seg[i][2]);
	}
}

TEST(vblk, discard_zeroes_its_segments)
{
	static const uint64_t seg[][3] = {{2, 3, 0}, {10, 1, 0}};

	ASSERT_TRUE(setup());
	segments(seg, 2);
	simple(0, VBLK_T_DISCARD, 0, DATA, 32, false);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_OK);
	EXPECT_EQ(used_len(0), 1);
	memset(disk_want + 2 * 512, 0, 3 * 512);
	memset(disk_want + 10 * 512, 0, 512);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
	EXPECT_STREQ(log_text, "");
}

/*
 * Requests that ask for much work each are served VBLK_BYTE_BUDGET at a time: write-zeroes of
 * 32 segments that each clear the whole disk count 32 disk sizes a request.
 */
TEST(vblk, large_requests_are_served_one_byte_budget_at_a_time)
{
	uint64_t seg[VBLK_DWZ_SEG_MAX][3];
	uint64_t request_bytes = VBLK_DWZ_SEG_MAX * (uint64_t)DISK_BYTES;
	unsigned int per_pass =
	    (unsigned int)((VBLK_BYTE_BUDGET + request_bytes - 1) / request_bytes);

	ASSERT_TRUE(setup());
	for (unsigned int i = 0; i < VBLK_DWZ_SEG_MAX; i++) {
		seg[i][0] = 0;
		seg[i][1] = DISK_SECTORS;
		seg[i][2] = 0;
	}
	segments(seg, VBLK_DWZ_SEG_MAX);
	for (unsigned int i = 0; i < 2 * per_pass + 1; i++)
		simple(i, VBLK_T_WRITE_ZEROES, 0, DATA, 16 * VBLK_DWZ_SEG_MAX, false);
	kick();
	EXPECT_EQ(used_idx(), per_pass);
	EXPECT_TRUE(vblk_pending(&blk));
	vblk_run(&blk);
	EXPECT_EQ(used_idx(), 2 * per_pass);
	EXPECT_TRUE(vblk_pending(&blk));
	vblk_run(&blk);
	EXPECT_EQ(used_idx(), 2 * per_pass + 1);
	EXPECT_FALSE(vblk_pending(&blk));
	for (unsigned int i = 0; i < 2 * per_pass + 1; i++)
		EXPECT_EQ(status_of(i), VBLK_S_OK);
	memset(disk_want, 0, DISK_BYTES);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
	EXPECT_STREQ(log_text, "");
}

TEST(vblk, write_zeroes_with_and_without_unmap)
{
	static const uint64_t seg[][3] = {{0, 1, 0}, {127, 1, VBLK_DWZ_F_UNMAP}};

	ASSERT_TRUE(setup());
	segments(seg, 2);
	simple(0, VBLK_T_WRITE_ZEROES, 0, DATA, 32, false);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_OK);
	EXPECT_EQ(used_len(0), 1);
	memset(disk_want, 0, 512);
	memset(disk_want + 127 * 512, 0, 512);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
	EXPECT_STREQ(log_text, "");
}

TEST(vblk, unmap_on_discard_and_unknown_flags_are_unsupported)
{
	static const uint64_t unmap[][3] = {{2, 3, 0}, {10, 1, VBLK_DWZ_F_UNMAP}};
	static const uint64_t unknown[][3] = {{4, 1, 2}};

	ASSERT_TRUE(setup());
	segments(unmap, 2);
	simple(0, VBLK_T_DISCARD, 0, DATA, 32, false);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_UNSUPP);
	EXPECT_EQ(used_len(0), 1);
	EXPECT_CONTAINS(log_text, "request 0: discard segment 1 has flags 0x1; unsupported");
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES); /* segment 0 was not applied either */

	segments(unknown, 1);
	simple(1, VBLK_T_WRITE_ZEROES, 0, DATA, 16, false);
	kick();
	EXPECT_EQ(status_of(1), VBLK_S_UNSUPP);
	EXPECT_CONTAINS(log_text, "write-zeroes segment 0 has flags 0x2; unsupported");
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
	EXPECT_EQ(log_lines(), 2);
}

TEST(vblk, bad_discard_segments_are_io_errors)
{
	static const uint64_t past_end[][3] = {{1, 1, 0}, {127, 2, 0}};
	static const uint64_t huge[][3] = {{0, VBLK_DWZ_SECTORS_MAX + 1ull, 0}};
	static const uint64_t wraps[][3] = {{UINT64_MAX, 2, 0}};

	ASSERT_TRUE(setup());
	segments(past_end, 2);
	simple(0, VBLK_T_DISCARD, 0, DATA, 32, false);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_IOERR);
	EXPECT_EQ(used_len(0), 1);
	EXPECT_CONTAINS(log_text, "discard segment 1 of sectors 127+2 is past the end of the disk "
	                          "(128 sectors)");
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES); /* checked before anything is applied */

	log_capture_reset();
	segments(huge, 1);
	simple(1, VBLK_T_WRITE_ZEROES, 0, DATA, 16, false);
	segments(wraps, 1);
	kick();
	EXPECT_EQ(status_of(1), VBLK_S_IOERR);

	log_capture_reset();
	simple(2, VBLK_T_DISCARD, 0, DATA, 24, false); /* not whole segments */
	simple(3, VBLK_T_DISCARD, 0, DATA, 0, false);  /* no segment at all */
	simple(4, VBLK_T_DISCARD, 0, DATA, 16 * (VBLK_DWZ_SEG_MAX + 1), false);
	kick();
	EXPECT_EQ(status_of(2), VBLK_S_IOERR);
	EXPECT_EQ(status_of(3), VBLK_S_IOERR);
	EXPECT_EQ(status_of(4), VBLK_S_IOERR);
	EXPECT_CONTAINS(log_text, "discard data of 24 bytes is not whole 16-byte segments");
	EXPECT_CONTAINS(log_text, "discard of 33 segments, more than 32");
	EXPECT_EQ(log_lines(), 3);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
}

TEST(vblk, discard_without_the_feature_is_unsupported)
{
	static const uint64_t seg[][3] = {{2, 3, 0}};

	ASSERT_TRUE(setup_full(false, SERIAL, 1ull << VBLK_F_DISCARD, 64));
	segments(seg, 1);
	simple(0, VBLK_T_DISCARD, 0, DATA, 16, false);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_UNSUPP);
	EXPECT_EQ(used_len(0), 1);
	EXPECT_CONTAINS(log_text, "discard without its feature negotiated; unsupported");
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
}

TEST(vblk, unknown_types_are_unsupported)
{
	ASSERT_TRUE(setup());
	simple(0, 99, 0, DATA, 512, false);
	simple(1, 14, 0, DATA, 16, false); /* SECURE_ERASE, not offered */
	simple(2, VBLK_T_IN | 0x80000000u, 0, DATA, 512, true);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_UNSUPP);
	EXPECT_EQ(status_of(1), VBLK_S_UNSUPP);
	EXPECT_EQ(status_of(2), VBLK_S_UNSUPP);
	EXPECT_EQ(used_len(0), 1);
	EXPECT_EQ(used_len(2), 1);
	EXPECT_CONTAINS(log_text, "request 0: type 99 is not supported");
	EXPECT_EQ(log_lines(), 3);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
}

/* ---- requests that must fail ---------------------------------------------- */

/* A ring full of the same bad request gets every answer but only a burst of log lines. */
TEST(vblk, repeated_bad_requests_do_not_flood_the_log)
{
	ASSERT_TRUE(setup());
	for (unsigned int i = 0; i < 21; i++)
		simple(i, VBLK_T_IN, DISK_SECTORS, DATA, 512, true);
	kick();
	for (unsigned int i = 0; i < 21; i++)
		EXPECT_EQ(status_of(i), VBLK_S_IOERR);
	EXPECT_EQ(used_idx(), 21);
	EXPECT_EQ(log_lines(), VMMIO_WARN_BURST);
	simple(0, 0x7f, 0, 0, 0, false);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_UNSUPP);
	EXPECT_CONTAINS(log_text, "the last warning repeated 11 more time(s)");
	EXPECT_CONTAINS(log_text, "type 127 is not supported");
}

/*
 * A driver that breaks its queue and resets the device, in a loop, made three lines a cycle
 * (the complaint, "device needs reset", "reset by the driver"): each format now gets
 * LOG_LIMIT_LINES a period, and the next period starts with the count of the rest.
 */
TEST(vblk, a_break_and_reset_loop_does_not_flood_the_log)
{
	ASSERT_TRUE(setup());
	for (unsigned int i = 0; i < 100; i++) {
		put16(AVAIL + 2, 1000); /* avail.idx jumps by more than the queue size */
		kick();
		ASSERT_TRUE(rd_reg(VMMIO_REG_STATUS) & VMMIO_STATUS_DEVICE_NEEDS_RESET);
		ASSERT_TRUE(driver_init(0, 64));
	}
	EXPECT_EQ(log_lines(), 3 * LOG_LIMIT_LINES);
	EXPECT_CONTAINS(log_text, "available index jumped from 0 to 1000");
	EXPECT_CONTAINS(log_text, "vblk-test: device needs reset");
	EXPECT_CONTAINS(log_text, "vblk-test: reset by the driver (status was 0x4f)");
	/* The device still serves a driver that behaves. */
	simple(0, VBLK_T_IN, 0, DATA, 512, true);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_OK);
	fake_time_ns += LOG_LIMIT_PERIOD_NS;
	log_capture_reset();
	put16(AVAIL + 2, 1000);
	kick();
	EXPECT_CONTAINS(log_text,
	                "vblk-test: 270 more line(s) about it were not logged in the last 10 s");
	EXPECT_CONTAINS(log_text, "available index jumped from 1 to 1000");
	EXPECT_EQ(log_lines(), 3);
}

TEST(vblk, read_past_the_end_is_an_io_error)
{
	ASSERT_TRUE(setup());
	memset(gp(DATA), SENTINEL, 1024);
	simple(0, VBLK_T_IN, DISK_SECTORS - 1, DATA, 1024, true);
	simple(1, VBLK_T_IN, UINT64_MAX, DATA, 512, true);
	simple(2, VBLK_T_IN, UINT64_MAX - 1, DATA, 1024, true); /* sector + count wraps */
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_IOERR);
	EXPECT_EQ(status_of(1), VBLK_S_IOERR);
	EXPECT_EQ(status_of(2), VBLK_S_IOERR);
	EXPECT_EQ(used_len(0), 1);
	EXPECT_EQ(used_len(2), 1);
	EXPECT_CONTAINS(log_text, "request 0: read of sectors 127+2 is past the end of the disk "
	                          "(128 sectors)");
	EXPECT_EQ(log_lines(), 3);
	for (int i = 0; i < 1024; i++)
		if (gp(DATA)[i] != SENTINEL) {
			test_fail(__FILE__, __LINE__, "guest byte %d written", i);
			break;
		}
	/* The last sector itself is readable. */
	simple(3, VBLK_T_IN, DISK_SECTORS - 1, DATA, 512, true);
	kick();
	EXPECT_EQ(status_of(3), VBLK_S_OK);
	EXPECT_MEMEQ(gp(DATA), disk_want + (DISK_SECTORS - 1) * 512, 512);
}

/* The first read served is logged once (where boot timing stops); a failed one is not it. */
TEST(vblk, the_first_good_read_is_logged_once)
{
	ASSERT_TRUE(setup());
	blk.read_logged = false;
	simple(0, VBLK_T_IN, DISK_SECTORS, DATA, 512, true);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_IOERR);
	EXPECT_NOT_CONTAINS(log_text, "first read");
	simple(1, VBLK_T_OUT, 3, DATA, 512, true);
	simple(2, VBLK_T_IN, 3, DATA, 512, true);
	simple(3, VBLK_T_IN, 4, DATA, 512, true);
	kick();
	EXPECT_EQ(status_of(2), VBLK_S_OK);
	EXPECT_CONTAINS(log_text, "vblk-test: first read completed\n");
	EXPECT_EQ(log_lines(), 2);
}

TEST(vblk, write_past_the_end_is_an_io_error)
{
	ASSERT_TRUE(setup());
	fill(DATA, 1024, 9);
	simple(0, VBLK_T_OUT, DISK_SECTORS - 1, DATA, 1024, false);
	simple(1, VBLK_T_OUT, UINT64_MAX, DATA, 512, false);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_IOERR);
	EXPECT_EQ(status_of(1), VBLK_S_IOERR);
	EXPECT_EQ(used_len(0), 1);
	EXPECT_CONTAINS(log_text, "request 0: write of sectors 127+2 is past the end of the disk");
	EXPECT_EQ(log_lines(), 2);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
}

TEST(vblk, lengths_not_whole_sectors_are_io_errors)
{
	ASSERT_TRUE(setup());
	memset(gp(DATA), SENTINEL, 1024);
	simple(0, VBLK_T_IN, 0, DATA, 500, true);
	simple(1, VBLK_T_OUT, 0, DATA, 513, false);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_IOERR);
	EXPECT_EQ(status_of(1), VBLK_S_IOERR);
	EXPECT_EQ(used_len(0), 1);
	EXPECT_CONTAINS(log_text, "request 0: read of 500 bytes at sector 0 is not whole sectors");
	EXPECT_CONTAINS(log_text, "request 3: write of 513 bytes at sector 0 is not whole sectors");
	EXPECT_EQ(gp(DATA)[0], SENTINEL);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
}

TEST(vblk, write_to_a_read_only_disk_is_an_io_error)
{
	ASSERT_TRUE(setup_full(true, SERIAL, 0, 64));
	fill(DATA, 512, 5);
	simple(0, VBLK_T_OUT, 3, DATA, 512, false);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_IOERR);
	EXPECT_EQ(used_len(0), 1);
	EXPECT_CONTAINS(log_text, "request 0: write of 512 bytes at sector 3 to a read-only disk");
	EXPECT_EQ(log_lines(), 1);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
	/* Reads still work. */
	simple(1, VBLK_T_IN, 3, DATA + 0x1000, 512, true);
	kick();
	EXPECT_EQ(status_of(1), VBLK_S_OK);
	EXPECT_MEMEQ(gp(DATA + 0x1000), disk_want + 3 * 512, 512);
}

TEST(vblk, header_shorter_than_16_bytes_gets_length_0)
{
	struct buf b[] = {{HDR, 12, false}, {STATUS, 1, true}};

	ASSERT_TRUE(setup());
	header(HDR, VBLK_T_OUT, 0);
	gp(STATUS)[0] = SENTINEL;
	submit(b, 2);
	kick();
	EXPECT_EQ(used_idx(), 1);
	EXPECT_EQ(used_len(0), 0);
	EXPECT_EQ(status_of(0), SENTINEL);
	EXPECT_CONTAINS(log_text, "request 0: header of 12 device-readable bytes, not 16; returned "
	                          "with length 0");
	EXPECT_EQ(log_lines(), 1);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
}

TEST(vblk, missing_status_byte_gets_length_0)
{
	struct buf b[] = {{HDR, 16, false}, {DATA, 512, false}};

	ASSERT_TRUE(setup());
	header(HDR, VBLK_T_OUT, 0);
	fill(DATA, 512, 77);
	submit(b, 2);
	kick();
	EXPECT_EQ(used_idx(), 1);
	EXPECT_EQ(used_len(0), 0);
	EXPECT_CONTAINS(log_text,
	                "request 0: no device-writable byte for the status (528 bytes, all "
	                "device-readable); returned with length 0");
	EXPECT_EQ(log_lines(), 1);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES); /* the write was not done */
}

TEST(vblk, only_the_last_writable_byte_is_the_status)
{
	struct buf b[] = {{HDR, 16, false}, {DATA, 512, false}, {STATUS, 4, true}};

	ASSERT_TRUE(setup());
	header(HDR, VBLK_T_OUT, 1);
	fill(DATA, 512, 3);
	memset(gp(STATUS), SENTINEL, 4);
	submit(b, 3);
	kick();
	EXPECT_EQ(used_len(0), 1);
	EXPECT_MEMEQ(gp(STATUS), "\xee\xee\xee\x00", 4);
	memcpy(disk_want + 512, gp(DATA), 512);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
}

/* Makes the data buffer vanish after the walker's check (the first map), before the copy. */
static gpa_t vanish_at;
static unsigned int vanish_seen;

static void vanish_after_check(gpa_t gpa, uint32_t len, bool writable)
{
	if (gpa == vanish_at && ++vanish_seen == 2) {
		fake.hole_start = vanish_at;
		fake.hole_end = vanish_at + 0x1000;
	}
}

TEST(vblk, buffer_lost_during_the_copy_is_an_io_error)
{
	ASSERT_TRUE(setup());
	memset(gp(DATA + 0x1000), SENTINEL, 512);
	simple(0, VBLK_T_IN, 0, DATA + 0x1000, 512, true);
	vanish_at = DATA + 0x1000;
	vanish_seen = 0;
	fake.hook = vanish_after_check;
	kick();
	fake.hook = NULL;
	EXPECT_EQ(status_of(0), VBLK_S_IOERR);
	EXPECT_EQ(used_len(0), 1);
	EXPECT_CONTAINS(log_text, "buffer 0x40009000+512 is no longer in guest memory");
	EXPECT_EQ(gp(DATA + 0x1000)[0], SENTINEL);
	/* The queue is fine: the next request works. */
	fake.hole_end = 0;
	simple(1, VBLK_T_FLUSH, 0, 0, 0, false);
	kick();
	EXPECT_EQ(status_of(1), VBLK_S_OK);
}

/* ---- interrupts ---------------------------------------------------------- */

TEST(vblk, event_idx_suppresses_interrupts)
{
	ASSERT_TRUE(setup());
	put16(AVAIL + 4 + 2u * num, 1); /* used_event: interrupt when used.idx passes 1 */
	simple(0, VBLK_T_FLUSH, 0, 0, 0, false);
	kick();
	EXPECT_EQ(used_idx(), 1);
	EXPECT_FALSE(irq_take());
	EXPECT_EQ(rd_reg(VMMIO_REG_INTERRUPT_STATUS), 0);
	/* The device asked to be notified from avail index 1 on. */
	EXPECT_EQ(get16(USED + 4 + 8u * num), 1);
	simple(1, VBLK_T_FLUSH, 0, 0, 0, false);
	kick();
	EXPECT_TRUE(irq_take());
	EXPECT_EQ(rd_reg(VMMIO_REG_INTERRUPT_STATUS), VMMIO_INT_VRING);
}

TEST(vblk, no_interrupt_flag_without_event_idx)
{
	ASSERT_TRUE(setup_full(false, SERIAL, 1ull << VQ_F_EVENT_IDX, 64));
	put16(AVAIL, VQ_AVAIL_F_NO_INTERRUPT);
	simple(0, VBLK_T_FLUSH, 0, 0, 0, false);
	kick();
	EXPECT_EQ(status_of(0), VBLK_S_OK);
	EXPECT_FALSE(irq_take());
	EXPECT_EQ(get16(USED + 4 + 8u * num), 0); /* avail_event untouched */
	put16(AVAIL, 0);
	simple(1, VBLK_T_FLUSH, 0, 0, 0, false);
	kick();
	EXPECT_TRUE(irq_take());
}

/* ---- broken queues and resets ----------------------------------------------- */

TEST(vblk, broken_queue_needs_reset)
{
	ASSERT_TRUE(setup());
	simple(0, VBLK_T_FLUSH, 0, 0, 0, false);
	/* A chain whose second descriptor points back at the first. */
	simple(1, VBLK_T_IN, 0, DATA, 512, true);
	put16(DESC + 16u * 4 + 14, 3);
	put16(DESC + 16u * 4 + 12, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE);
	kick();
	/* The request before the bad one was answered... */
	EXPECT_EQ(used_idx(), 1);
	EXPECT_EQ(status_of(0), VBLK_S_OK);
	/* ...then the device gave up and said so. */
	EXPECT_EQ(rd_reg(VMMIO_REG_STATUS), 15 | VMMIO_STATUS_DEVICE_NEEDS_RESET);
	EXPECT_EQ(rd_reg(VMMIO_REG_INTERRUPT_STATUS), VMMIO_INT_VRING | VMMIO_INT_CONFIG);
	EXPECT_TRUE(irq_take());
	EXPECT_CONTAINS(log_text, "vblk-test: queue 0: chain 2: longer than the 64 descriptors of "
	                          "its queue (a loop); queue broken");
	EXPECT_CONTAINS(log_text, "vblk-test: device needs reset (status 0x4f)");
	EXPECT_EQ(log_lines(), 2);

	/* Nothing more is served until a reset. */
	simple(2, VBLK_T_FLUSH, 0, 0, 0, false);
	kick();
	EXPECT_EQ(used_idx(), 1);
	EXPECT_EQ(status_of(2), SENTINEL);
	EXPECT_EQ(log_lines(), 2);

	ASSERT_TRUE(driver_init(0, 64));
	simple(0, VBLK_T_FLUSH, 0, 0, 0, false);
	kick();
	EXPECT_EQ(used_idx(), 1);
	EXPECT_EQ(status_of(0), VBLK_S_OK);
}

TEST(vblk, buffer_outside_guest_memory_needs_reset)
{
	ASSERT_TRUE(setup());
	simple(0, VBLK_T_OUT, 0, GUEST_BASE + GUEST_SIZE - 256, 512, false);
	kick();
	EXPECT_EQ(used_idx(), 0);
	EXPECT_TRUE(rd_reg(VMMIO_REG_STATUS) & VMMIO_STATUS_DEVICE_NEEDS_RESET);
	EXPECT_CONTAINS(log_text, "device-readable buffer 0x4003ff00+512 is not in guest memory");
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
	EXPECT_EQ(status_of(0), SENTINEL);
}

TEST(vblk, reset_with_requests_in_flight)
{
	ASSERT_TRUE(setup());
	fill(DATA, 512, 1);
	simple(0, VBLK_T_OUT, 0, DATA, 512, false);
	simple(1, VBLK_T_OUT, 1, DATA, 512, false);
	/* The driver resets before notifying: the device must forget them. */
	wr_reg(VMMIO_REG_STATUS, 0);
	kick();
	EXPECT_CONTAINS(log_text, "notify of queue 0 with status 0x0; ignored");
	EXPECT_EQ(used_idx(), 0);
	EXPECT_EQ(status_of(0), SENTINEL);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);

	/* Brought up again on fresh rings, the old requests are gone for good. */
	ASSERT_TRUE(driver_init(0, 64));
	kick();
	EXPECT_EQ(used_idx(), 0);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
	EXPECT_FALSE(irq_take());
	simple(0, VBLK_T_FLUSH, 0, 0, 0, false);
	kick();
	EXPECT_EQ(used_idx(), 1);
	EXPECT_EQ(status_of(0), VBLK_S_OK);
}

TEST(vblk, indexes_wrap_at_65536)
{
	unsigned int bad = 0;

	ASSERT_TRUE(setup_full(false, SERIAL, 0, 16));
	for (uint32_t batch = 0; batch < 8200 && !bad; batch++) {
		for (unsigned int i = 0; i < 8; i++)
			simple(i, VBLK_T_FLUSH, 0, 0, 0, false);
		kick();
		if (used_idx() != (uint16_t)(8 * (batch + 1)))
			bad++;
		for (unsigned int i = 0; i < 8; i++)
			if (status_of(i) != VBLK_S_OK || used_len((uint16_t)(8 * batch + i)) != 1 ||
			    used_id((uint16_t)(8 * batch + i)) != 2 * i)
				bad++;
	}
	EXPECT_EQ(bad, 0);
	EXPECT_EQ(used_idx(), (uint16_t)(8 * 8200));
	EXPECT_STREQ(log_text, "");
	EXPECT_EQ(rd_reg(VMMIO_REG_STATUS), 15);
}

/* ---- the request engine: a disk that takes its time --------------------------- */

/*
 * A disk that holds every request until the test lets it go: poll() completes the ones
 * marked ready, in the order marked, through the RAM disk (data and all).
 */
static struct {
	struct disk disk;
	struct disk_req *held[2 * VBLK_REQ_MAX];
	unsigned int held_count;
	unsigned int order[2 * VBLK_REQ_MAX]; /* indexes into held, to complete in this order */
	unsigned int ready_count;
	unsigned int polls;
	enum disk_op last_op;
} slow;

static void slow_submit(struct disk *d, struct disk_req *req)
{
	slow.last_op = req->op;
	slow.held[slow.held_count++] = req;
}

static unsigned int slow_poll(struct disk *d)
{
	struct disk_req *go[2 * VBLK_REQ_MAX];
	unsigned int n = slow.ready_count, left = 0;

	slow.polls++;
	for (unsigned int i = 0; i < n; i++) {
		go[i] = slow.held[slow.order[i]];
		slow.held[slow.order[i]] = NULL;
	}
	for (unsigned int i = 0; i < slow.held_count; i++)
		if (slow.held[i])
			slow.held[left++] = slow.held[i];
	slow.held_count = left;
	slow.ready_count = 0;
	for (unsigned int i = 0; i < n; i++)
		rd.disk.ops->submit(&rd.disk, go[i]);
	return slow.held_count;
}

static const struct disk_ops slow_ops = {.submit = slow_submit, .poll = slow_poll};

/* The owner's side: kick() only counts, the test calls vblk_run itself. */
static unsigned int kicks, yield_kicks;

static void count_kick(void *ctx, bool yield)
{
	kicks++;
	yield_kicks += yield;
}

/* vblk_out_of_order_count when setup_engine made the device (the counter is since boot). */
static uint64_t out_of_order_at_setup;

static uint64_t out_of_order(void)
{
	return vblk_out_of_order_count() - out_of_order_at_setup;
}

static bool setup_engine(enum vblk_policy policy, bool slow_disk)
{
	struct vblk_host host = {.kick = count_kick};

	memset(guest, 0, sizeof(guest));
	memset(&fake, 0, sizeof(fake));
	memset(&slow, 0, sizeof(slow));
	kicks = yield_kicks = 0;
	for (uint32_t i = 0; i < DISK_BYTES; i++)
		disk[i] = disk_want[i] = (uint8_t)(i * 13 + i / 512);
	if (ramdisk_init(&rd, disk, DISK_BYTES, false))
		return false;
	slow.disk = rd.disk;
	slow.disk.ops = &slow_ops;
	if (init_blk(&blk, "vblk-test", slow_disk ? &slow.disk : &rd.disk, SERIAL, 1, &mem))
		return false;
	vblk_set_host(&blk, policy, &host);
	if (!driver_init(0, 64))
		return false;
	log_capture_reset();
	out_of_order_at_setup = vblk_out_of_order_count();
	return true;
}

static void complete_in_order(const unsigned int *order, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++)
		slow.order[i] = order[i];
	slow.ready_count = count;
}

TEST(vblk, requests_complete_out_of_order_under_one_interrupt)
{
	static const unsigned int third_then_first[] = {2, 0};

	ASSERT_TRUE(setup_engine(VBLK_SERVE_INLINE, true));
	for (unsigned int i = 0; i < 3; i++)
		simple(i, VBLK_T_IN, 10 * i, DATA + 0x1000 * i, 1024, true);
	kick();
	/* All three went to the disk; nothing is back, nothing is signalled. */
	EXPECT_EQ(slow.held_count, 3);
	EXPECT_EQ(vblk_in_flight(&blk), 3);
	EXPECT_EQ(used_idx(), 0);
	EXPECT_FALSE(irq_take());
	EXPECT_TRUE(kicks >= 1); /* the owner must come back for the disk */

	complete_in_order(third_then_first, 2);
	vblk_run(&blk);
	EXPECT_EQ(used_idx(), 2);
	EXPECT_EQ(used_id(0), 6); /* the third chain (descriptors 6..8) first */
	EXPECT_EQ(used_id(1), 0);
	EXPECT_EQ(used_len(0), 1025);
	EXPECT_EQ(status_of(2), VBLK_S_OK);
	EXPECT_EQ(status_of(0), VBLK_S_OK);
	EXPECT_EQ(status_of(1), SENTINEL);
	EXPECT_MEMEQ(gp(DATA), disk + 0, 1024);
	EXPECT_MEMEQ(gp(DATA + 0x2000), disk + 20 * 512, 1024);
	/* The third overtook the first two; the first, back next, had nothing older left. */
	EXPECT_EQ(out_of_order(), 1);
	/* Two completions in one pass, one interrupt. */
	EXPECT_TRUE(irq_take());
	EXPECT_FALSE(irq_take());

	complete_in_order((const unsigned int[]){0}, 1);
	vblk_run(&blk);
	EXPECT_EQ(used_idx(), 3);
	EXPECT_EQ(status_of(1), VBLK_S_OK);
	EXPECT_MEMEQ(gp(DATA + 0x1000), disk + 10 * 512, 1024);
	EXPECT_EQ(vblk_in_flight(&blk), 0);
	EXPECT_EQ(out_of_order(), 1); /* the second was the oldest left */
	EXPECT_STREQ(log_text, "");
	EXPECT_EQ(fake.contract_violations, 0);
}

/* A discard's later segments go to the disk after newer requests, but it stays the older. */
TEST(vblk, a_request_keeps_its_age_across_its_segments)
{
	static const uint64_t seg[][3] = {{2, 1, 0}, {10, 1, 0}};

	ASSERT_TRUE(setup_engine(VBLK_SERVE_INLINE, true));
	segments(seg, 2);
	simple(0, VBLK_T_DISCARD, 0, DATA, 32, false);
	simple(1, VBLK_T_IN, 20, DATA + 0x1000, 512, true);
	kick();
	ASSERT_EQ(slow.held_count, 2);
	complete_in_order((const unsigned int[]){0}, 1); /* the first segment: the second goes */
	vblk_run(&blk);
	ASSERT_EQ(slow.held_count, 2);
	EXPECT_EQ(used_idx(), 0);
	complete_in_order((const unsigned int[]){0}, 1); /* the read, before the discard */
	vblk_run(&blk);
	EXPECT_EQ(used_idx(), 1);
	EXPECT_EQ(used_id(0), 3);
	EXPECT_EQ(out_of_order(), 1);
	complete_in_order((const unsigned int[]){0}, 1);
	vblk_run(&blk);
	EXPECT_EQ(used_idx(), 2);
	EXPECT_EQ(used_id(1), 0);
	EXPECT_EQ(status_of(0), VBLK_S_OK);
	EXPECT_EQ(status_of(1), VBLK_S_OK);
	EXPECT_EQ(out_of_order(), 1);
	memset(disk_want + 2 * 512, 0, 512);
	memset(disk_want + 10 * 512, 0, 512);
	EXPECT_MEMEQ(disk, disk_want, DISK_BYTES);
	EXPECT_MEMEQ(gp(DATA + 0x1000), disk + 20 * 512, 512);
}

TEST(vblk, a_reset_waits_for_the_disk_and_touches_nothing_after)
{
	unsigned int changed = 0;

	ASSERT_TRUE(setup_engine(VBLK_SERVE_INLINE, true));
	memset(gp(DATA), 0x5a, 0x2000);
	simple(0, VBLK_T_IN, 0, DATA, 1024, true);
	simple(1, VBLK_T_IN, 8, DATA + 0x1000, 1024, true);
	kick();
	ASSERT_EQ(vblk_in_flight(&blk), 2);
	wr_reg(VMMIO_REG_STATUS, 0);
	/* virtio 1.2 §2.4.1: not reset until the disk gave the requests back. */
	EXPECT_EQ(rd_reg(VMMIO_REG_STATUS), 15);
	kick();
	EXPECT_EQ(slow.held_count, 2);

	complete_in_order((const unsigned int[]){1}, 1);
	vblk_run(&blk);
	EXPECT_EQ(rd_reg(VMMIO_REG_STATUS), 15);
	complete_in_order((const unsigned int[]){0}, 1);
	vblk_run(&blk);
	EXPECT_EQ(rd_reg(VMMIO_REG_STATUS), 0);
	/* The data the disk read went nowhere: no buffer, status or used element changed. */
	for (unsigned int i = 0; i < 0x2000; i++)
		changed += gp(DATA)[i] != 0x5a;
	EXPECT_EQ(changed, 0);
	EXPECT_EQ(status_of(0), SENTINEL);
	EXPECT_EQ(status_of(1), SENTINEL);
	EXPECT_EQ(used_idx(), 0);
	EXPECT_EQ(out_of_order(), 0); /* cancelled: nothing came back to the guest */
	EXPECT_FALSE(irq_take());
	EXPECT_CONTAINS(log_text, "reset done");

	/* And the device serves again. */
	ASSERT_TRUE(driver_init(0, 64));
	simple(0, VBLK_T_FLUSH, 0, 0, 0, false);
	kick();
	EXPECT_EQ(used_idx(), 1);
	EXPECT_EQ(status_of(0), VBLK_S_OK);
}

/* The owner's kick_at: when the disk said it has news. */
static uint64_t kick_at_due;
static unsigned int kick_at_count;

static void record_kick_at(void *ctx, uint64_t due_ns)
{
	kick_at_due = due_ns;
	kick_at_count++;
}

static uint64_t test_now;

static uint64_t test_clock(void)
{
	return test_now;
}

/*
 * A disk that says when it has news (the RAM disk with a latency): the owner is asked to
 * come back then, not at once, and a reset waits for that time too.
 */
TEST(vblk, a_disk_with_a_due_time_is_run_again_then)
{
	struct vblk_host host = {.kick = count_kick, .kick_at = record_kick_at};

	ASSERT_TRUE(setup_engine(VBLK_SERVE_INLINE, false));
	vblk_set_host(&blk, VBLK_SERVE_INLINE, &host);
	ASSERT_EQ(ramdisk_set_latency(&rd, 2000000, test_clock), 0);
	test_now = 5000;
	kick_at_count = 0;
	kicks = 0;
	simple(0, VBLK_T_IN, 0, DATA, 1024, true);
	kick();
	EXPECT_EQ(vblk_in_flight(&blk), 1);
	EXPECT_EQ(kick_at_count, 1);
	EXPECT_EQ(kick_at_due, 2005000);
	EXPECT_EQ(kicks, 0); /* not "at once": the loop may sleep until then */

	test_now = 2004999; /* early: nothing moves, asked again for the same time */
	vblk_run(&blk);
	EXPECT_EQ(used_idx(), 0);
	EXPECT_EQ(kick_at_count, 2);
	EXPECT_EQ(kick_at_due, 2005000);
	test_now = 2005000;
	vblk_run(&blk);
	EXPECT_EQ(used_idx(), 1);
	EXPECT_EQ(status_of(0), VBLK_S_OK);
	EXPECT_MEMEQ(gp(DATA), disk_want, 1024);
	EXPECT_TRUE(irq_take());
	EXPECT_EQ(kick_at_count, 2); /* nothing left: no more asking */

	/* A reset with the request at the disk: Status stays until the due time has passed. */
	memset(gp(DATA), 0x5a, 1024);
	simple(0, VBLK_T_IN, 0, DATA, 1024, true);
	kick();
	wr_reg(VMMIO_REG_STATUS, 0);
	EXPECT_EQ(rd_reg(VMMIO_REG_STATUS), 15);
	EXPECT_EQ(kick_at_due, 2005000 + 2000000);
	vblk_run(&blk);
	EXPECT_EQ(rd_reg(VMMIO_REG_STATUS), 15);
	test_now = 2005000 + 2000000;
	vblk_run(&blk);
	EXPECT_EQ(rd_reg(VMMIO_REG_STATUS), 0);
	EXPECT_EQ(gp(DATA)[0], 0x5a);
	EXPECT_EQ(used_idx(), 1);
	ramdisk_set_latency(&rd, 0, NULL);
}

static uint64_t arch_clock(void)
{
	return fake_time_ns;
}

/* Service time: from taking the chain off the available ring to putting it in the used one. */
TEST(vblk, service_time_is_counted_from_pick_up_to_the_used_ring)
{
	ASSERT_TRUE(setup_engine(VBLK_SERVE_INLINE, false));
	ASSERT_EQ(ramdisk_set_latency(&rd, 2000000, arch_clock), 0);
	fake_time_ns = 1000;
	simple(0, VBLK_T_IN, 0, DATA, 1024, true);
	kick();
	EXPECT_EQ(blk.service.count, 0); /* at the disk */
	fake_time_ns += 2000000;
	vblk_run(&blk);
	EXPECT_EQ(used_idx(), 1);
	EXPECT_EQ(blk.service.count, 1);
	EXPECT_EQ(blk.service.max_ns, 2000000);
	EXPECT_EQ(hist_quantile(&blk.service, 50000), 2000000);
	/* A request cancelled by a reset is not served: not counted. */
	simple(0, VBLK_T_IN, 0, DATA, 1024, true);
	kick();
	wr_reg(VMMIO_REG_STATUS, 0);
	fake_time_ns += 2000000;
	vblk_run(&blk);
	EXPECT_EQ(rd_reg(VMMIO_REG_STATUS), 0);
	EXPECT_EQ(blk.service.count, 1);
	ramdisk_set_latency(&rd, 0, NULL);
}

/*
 * VBLK_REQ_MAX requests in one notify to the RAM disk, which holds them for its latency:
 * writes of a pattern (even slots) and reads (odd ones), 4 sectors each, none overlapping.
 * Runs the device at each time the disk is due until all are back; returns how many checks
 * failed (status, data, used.len, a chain returned other than once) and in *moved how many
 * came back at another place than their submission's.
 */
static unsigned int run_batch(unsigned int *moved)
{
	bool seen[VBLK_REQ_MAX] = {false};
	unsigned int bad = 0, runs = 0;

	test_now = 10000;
	for (unsigned int i = 0; i < VBLK_REQ_MAX; i++) {
		gpa_t data = DATA + 0x1000u * i;

		if (i % 2) {
			memset(gp(data), 0x5a, 2048);
			simple(i, VBLK_T_IN, 4 * i, data, 2048, true);
			continue;
		}
		fill(data, 2048, (uint8_t)(0x30 + i));
		memcpy(disk_want + 4 * i * 512, gp(data), 2048);
		simple(i, VBLK_T_OUT, 4 * i, data, 2048, false);
	}
	kick();
	bad += vblk_in_flight(&blk) != VBLK_REQ_MAX;
	while (used_idx() < VBLK_REQ_MAX && runs++ < 2 * VBLK_REQ_MAX) {
		test_now = disk_due(&rd.disk);
		vblk_run(&blk);
	}
	bad += used_idx() != VBLK_REQ_MAX || vblk_in_flight(&blk) != 0;
	*moved = 0;
	for (unsigned int n = 0; n < VBLK_REQ_MAX; n++) {
		uint32_t id = used_id((uint16_t)n), i = id / 3;

		if (id % 3 || i >= VBLK_REQ_MAX || seen[i]) {
			bad++;
			continue;
		}
		seen[i] = true;
		*moved += i != n;
		bad += used_len((uint16_t)n) != (i % 2 ? 2049u : 1u);
	}
	for (unsigned int i = 0; i < VBLK_REQ_MAX; i++) {
		bad += status_of(i) != VBLK_S_OK;
		if (i % 2)
			bad += memcmp(gp(DATA + 0x1000u * i), disk_want + 4 * i * 512, 2048) != 0;
	}
	bad += memcmp(disk, disk_want, DISK_BYTES) != 0;
	return bad;
}

/* A latency range (ram:SIZE,latency=MIN-MAX) returns a batch out of order, all of it right. */
TEST(vblk, a_ram_disk_latency_range_completes_out_of_order)
{
	unsigned int moved;

	ASSERT_TRUE(setup_engine(VBLK_SERVE_INLINE, false));
	ASSERT_EQ(ramdisk_set_latency_range(&rd, 1000, 1000000, test_clock), 0);
	EXPECT_EQ(run_batch(&moved), 0);
	EXPECT_GT(moved, 0);
	EXPECT_GT(out_of_order(), 0);
	EXPECT_LE(out_of_order(), VBLK_REQ_MAX - 1); /* the last back had none older */
	EXPECT_STREQ(log_text, "");
	ramdisk_set_latency(&rd, 0, NULL);
}

TEST(vblk, one_ram_disk_latency_completes_in_order)
{
	unsigned int moved;

	ASSERT_TRUE(setup_engine(VBLK_SERVE_INLINE, false));
	ASSERT_EQ(ramdisk_set_latency(&rd, 500000, test_clock), 0);
	EXPECT_EQ(run_batch(&moved), 0);
	EXPECT_EQ(moved, 0);
	EXPECT_EQ(out_of_order(), 0);
	EXPECT_STREQ(log_text, "");
	ramdisk_set_latency(&rd, 0, NULL);
}

TEST(vblk, a_deferred_notify_is_served_after_the_driver_added_more)
{
	ASSERT_TRUE(setup_engine(VBLK_SERVE_DEFER, false));
	put16(USED + 4 + 8 * 64, 0xffff); /* avail_event, as a driver would find it */
	simple(0, VBLK_T_FLUSH, 0, 0, 0, false);
	kick();
	/* The notify only marked the queue and asked to be run after a yield. */
	EXPECT_EQ(used_idx(), 0);
	EXPECT_EQ(yield_kicks, 1);
	EXPECT_TRUE(vblk_pending(&blk));
	/* Meanwhile the driver adds two more (with EVENT_IDX it need not notify again). */
	simple(1, VBLK_T_FLUSH, 0, 0, 0, false);
	simple(2, VBLK_T_FLUSH, 0, 0, 0, false);
	vblk_run(&blk);
	EXPECT_EQ(used_idx(), 3);
	EXPECT_FALSE(vblk_pending(&blk));
	/* One interrupt for the three; avail_event asks for the next notify at 3. */
	EXPECT_TRUE(irq_take());
	EXPECT_FALSE(irq_take());
	EXPECT_EQ(get16(USED + 4 + 8 * 64), 3);
}

/* One notify of one flush; returns whether it was served inside the notify. */
static bool notify_one(unsigned int slot)
{
	uint16_t before = used_idx();

	/* As Linux's virtqueue_enable_cb: an interrupt for the next completion, please. */
	put16(AVAIL + 4 + 2 * 64, before);
	simple(slot, VBLK_T_FLUSH, 0, 0, 0, false);
	kick();
	return used_idx() != before;
}

TEST(vblk, adaptive_serves_inline_until_a_deferred_pass_finds_more)
{
	unsigned int inline_count = 0;

	ASSERT_TRUE(setup_engine(VBLK_SERVE_ADAPTIVE, false));
	/* One request a notify: inline, but every VBLK_PROBE_EVERY-th is deferred to look. */
	for (unsigned int i = 0; i < VBLK_PROBE_EVERY - 1; i++)
		inline_count += notify_one(i % 8);
	EXPECT_EQ(inline_count, VBLK_PROBE_EVERY - 1);
	EXPECT_FALSE(notify_one(0));
	EXPECT_EQ(yield_kicks, 1);
	/* The driver queued more meanwhile: the deferred pass finds 3, and stays deferred. */
	simple(1, VBLK_T_FLUSH, 0, 0, 0, false);
	simple(2, VBLK_T_FLUSH, 0, 0, 0, false);
	vblk_run(&blk);
	EXPECT_EQ(used_idx(), VBLK_PROBE_EVERY + 2);
	EXPECT_FALSE(notify_one(3));
	vblk_run(&blk);
	/* Two deferred passes of one request each: back to inline. */
	EXPECT_FALSE(notify_one(4));
	vblk_run(&blk);
	EXPECT_TRUE(notify_one(5));
	EXPECT_STREQ(log_text, "");
}

TEST(vblk, a_full_request_table_leaves_the_queue_for_a_completion)
{
	unsigned int first[VBLK_REQ_MAX];
	unsigned int bad = 0;

	ASSERT_TRUE(setup_engine(VBLK_SERVE_INLINE, true));
	for (unsigned int i = 0; i < VBLK_REQ_MAX + 2; i++)
		simple(i, VBLK_T_IN, i, DATA + 0x200 * i, 512, true);
	kick();
	EXPECT_EQ(vblk_in_flight(&blk), VBLK_REQ_MAX);
	EXPECT_TRUE(vblk_pending(&blk));
	for (unsigned int i = 0; i < VBLK_REQ_MAX; i++)
		first[i] = i;
	complete_in_order(first, VBLK_REQ_MAX);
	vblk_run(&blk);
	/* The freed requests took the last two in the same pass. */
	EXPECT_EQ(used_idx(), VBLK_REQ_MAX);
	EXPECT_EQ(vblk_in_flight(&blk), 2);
	complete_in_order(first, 2);
	vblk_run(&blk);
	EXPECT_EQ(used_idx(), VBLK_REQ_MAX + 2);
	EXPECT_FALSE(vblk_pending(&blk));
	for (unsigned int i = 0; i < VBLK_REQ_MAX + 2; i++)
		bad += status_of(i) != VBLK_S_OK || memcmp(gp(DATA + 0x200 * i), disk + 512 * i, 512);
	EXPECT_EQ(bad, 0);
}

TEST(vblk, a_stopped_device_cancels_what_the_disk_holds)
{
	ASSERT_TRUE(setup_engine(VBLK_SERVE_INLINE, true));
	memset(gp(DATA), 0x5a, 512);
	simple(0, VBLK_T_IN, 3, DATA, 512, true);
	kick();
	vblk_stop(&blk);
	EXPECT_EQ(vblk_in_flight(&blk), 1);
	complete_in_order((const unsigned int[]){0}, 1);
	disk_poll(&slow.disk);
	EXPECT_EQ(vblk_in_flight(&blk), 0);
	EXPECT_EQ(gp(DATA)[0], 0x5a);
	EXPECT_EQ(used_idx(), 0);
}

TEST(vblk, what_the_disk_can_do_decides_features_and_config)
{
	uint64_t f;

	ASSERT_TRUE(setup_engine(VBLK_SERVE_INLINE, true));
	slow.disk.volatile_cache = true;
	slow.disk.block_size = 4096;
	slow.disk.max_transfer = 64; /* 32 KiB */
	slow.disk.discard_max = 0;
	slow.disk.write_zeroes_max = 100;
	slow.disk.write_zeroes_unmap = true;
	ASSERT_EQ(init_blk(&blk, "vblk-test", &slow.disk, SERIAL, 1, &mem), 0);
	ASSERT_TRUE(driver_init(0, 64));
	f = device_features();
	EXPECT_TRUE(f & 1u << VBLK_F_FLUSH);
	EXPECT_FALSE(f & 1u << VBLK_F_DISCARD);
	EXPECT_TRUE(f & 1u << VBLK_F_WRITE_ZEROES);
	EXPECT_EQ(rd_cfg(8, 4), 32768); /* size_max */
	EXPECT_EQ(rd_cfg(12, 4), 1);    /* seg_max: one 32 KiB buffer fills a transfer */
	EXPECT_EQ(rd_cfg(20, 4), 4096); /* blk_size */
	EXPECT_EQ(rd_cfg(36, 4), 0);    /* max_discard_sectors */
	EXPECT_EQ(rd_cfg(48, 4), 100);  /* max_write_zeroes_sectors */
	EXPECT_EQ(rd_cfg(56, 1), 1);    /* write_zeroes_may_unmap */

	/* A flush now reaches the disk; a read past max_transfer does not. */
	simple(0, VBLK_T_FLUSH, 0, 0, 0, false);
	kick();
	EXPECT_EQ(slow.last_op, DISK_FLUSH);
	EXPECT_EQ(vblk_in_flight(&blk), 1);
	header(HDR + 0x20, VBLK_T_IN, 0);
	gp(STATUS + 0x10)[0] = SENTINEL;
	submit((const struct buf[]){{HDR + 0x20, 16, false},
	                            {DATA, 32768, true},
	                            {DATA + 32768, 512, true},
	                            {STATUS + 0x10, 1, true}},
	       4);
	kick();
	EXPECT_EQ(status_of(1), VBLK_S_IOERR);
	EXPECT_CONTAINS(log_text, "read of 65 sectors is more than the disk's 64 at once");

	/* A block size that is not a power of two, or a transfer under one block, is refused. */
	slow.disk.block_size = 1536;
	EXPECT_EQ(init_blk(&blk, "vblk-test", &slow.disk, SERIAL, 1, &mem), -EINVAL);
	slow.disk.block_size = 4096;
	slow.disk.max_transfer = 4;
	EXPECT_EQ(init_blk(&blk, "vblk-test", &slow.disk, SERIAL, 1, &mem), -EINVAL);
}

TEST(vblk, one_queue_per_vcpu_is_offered_as_mq)
{
	uint64_t f;

	ASSERT_TRUE(setup());
	EXPECT_FALSE(device_features() & 1u << VBLK_F_MQ);
	EXPECT_EQ(rd_cfg(34, 2), 1);
	ASSERT_EQ(init_blk(&blk, "vblk-test", &rd.disk, SERIAL, 4, &mem), 0);
	f = device_features();
	EXPECT_TRUE(f & 1u << VBLK_F_MQ);
	EXPECT_EQ(rd_cfg(34, 2), 4); /* num_queues (virtio 1.2 §5.2.4) */
	wr_reg(VMMIO_REG_QUEUE_SEL, 3);
	EXPECT_EQ(rd_reg(VMMIO_REG_QUEUE_NUM_MAX), 256);
	wr_reg(VMMIO_REG_QUEUE_SEL, 4);
	EXPECT_EQ(rd_reg(VMMIO_REG_QUEUE_NUM_MAX), 0);
	EXPECT_EQ(init_blk(&blk, "vblk-test", &rd.disk, SERIAL, 0, &mem), -EINVAL);
	EXPECT_EQ(init_blk(&blk, "vblk-test", &rd.disk, SERIAL, VMMIO_QUEUE_MAX + 1, &mem), -EINVAL);
}

TEST(vblk, each_queue_is_served_and_signalled_on_its_own)
{
	ASSERT_TRUE(setup());
	ASSERT_EQ(init_blk(&blk, "vblk-test", &rd.disk, SERIAL, 2, &mem), 0);
	ASSERT_TRUE(driver_init(0, 64));
	/* Queue 1 on rings of its own, 0x800 past queue 0's. */
	wr_reg(VMMIO_REG_QUEUE_SEL, 1);
	wr_reg(VMMIO_REG_QUEUE_NUM, 8);
	wr_reg(VMMIO_REG_QUEUE_DESC_LOW, (uint32_t)(DESC + 0x800));
	wr_reg(VMMIO_REG_QUEUE_DRIVER_LOW, (uint32_t)(AVAIL + 0x800));
	wr_reg(VMMIO_REG_QUEUE_DEVICE_LOW, (uint32_t)(USED + 0x800));
	wr_reg(VMMIO_REG_QUEUE_READY, 1);
	ASSERT_EQ(rd_reg(VMMIO_REG_QUEUE_READY), 1);
	log_capture_reset();
	/* One flush on queue 1: descriptor 0 of its table, status byte at STATUS. */
	put64(DESC + 0x800, HDR);
	put32(DESC + 0x808, 16);
	put16(DESC + 0x80c, VQ_DESC_F_NEXT);
	put16(DESC + 0x80e, 1);
	put64(DESC + 0x810, STATUS);
	put32(DESC + 0x818, 1);
	put16(DESC + 0x81c, VQ_DESC_F_WRITE);
	header(HDR, VBLK_T_FLUSH, 0);
	gp(STATUS)[0] = SENTINEL;
	put16(AVAIL + 0x804, 0);
	put16(AVAIL + 0x802, 1);
	wr_reg(VMMIO_REG_QUEUE_NOTIFY, 1);
	EXPECT_EQ(get16(USED + 0x802), 1);
	EXPECT_EQ(status_of(0), VBLK_S_OK);
	EXPECT_EQ(used_idx(), 0); /* queue 0 untouched */
	EXPECT_TRUE(irq_take());
	EXPECT_STREQ(log_text, "");
}

TEST(vblk, a_queue_that_wants_no_interrupts_is_polled_and_served_inline)
{
	ASSERT_TRUE(setup_engine(VBLK_SERVE_DEFER, false));
	/* A polling driver: EVENT_IDX with used_event never moving (Linux's poll queues). */
	put16(AVAIL + 4 + 2 * 64, 0xfff0);
	/* (The first pass only learns where used_event stands.) */
	for (unsigned int i = 0; i <= VBLK_POLLED_PASSES; i++) {
		simple(i % 8, VBLK_T_FLUSH, 0, 0, 0, false);
		kick();
		EXPECT_EQ(used_idx(), i);
		vblk_run(&blk);
	}
	EXPECT_FALSE(irq_take());
	/* Now it counts as polled: served inside the notify, deferred or not. */
	for (unsigned int i = VBLK_POLLED_PASSES + 1; i < VBLK_POLLED_PASSES + 3; i++) {
		simple(i % 8, VBLK_T_FLUSH, 0, 0, 0, false);
		kick();
		EXPECT_EQ(used_idx(), i + 1);
	}
	EXPECT_EQ(yield_kicks, VBLK_POLLED_PASSES + 1);
	/* It asks for an interrupt again: back to the policy. */
	EXPECT_TRUE(notify_one(7));
	EXPECT_TRUE(irq_take());
	EXPECT_FALSE(notify_one(0));
}

TEST(vblk, a_busy_driver_that_moves_used_event_is_not_taken_for_polling)
{
	ASSERT_TRUE(setup_engine(VBLK_SERVE_DEFER, false));
	/*
	 * No interrupt wanted for many passes in a row (the driver still busy with earlier
	 * completions), but used_event moves between them: it takes interrupts, not polled.
	 */
	for (unsigned int i = 0; i < 2 * VBLK_POLLED_PASSES; i++) {
		put16(AVAIL + 4 + 2 * 64, (uint16_t)(used_idx() + 5));
		simple(i % 8, VBLK_T_FLUSH, 0, 0, 0, false);
		kick();
		vblk_run(&blk);
	}
	EXPECT_FALSE(notify_one(0));
	EXPECT_EQ(yield_kicks, 2 * VBLK_POLLED_PASSES + 1);
}
