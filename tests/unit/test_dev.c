/*
 * boot/dev.c end to end on the host: one device on a RAM disk, over the real hyp/ (IOREQ
 * server, event channels, dm_op, guest memory) and the fake Xen of tests/unit/fake_xen.h.
 * The guest's driver (tests/unit/fake_driver.h) reaches the device only through IOREQs that
 * its vCPU posts as Xen would, with guest-physical addresses. boot/loop.h's deferrals are a
 * link seam: a queue the test runs on the fake clock, as the main loop would.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/fake.h"
#include "arch/timer.h"
#include "blk/disk.h"
#include "blk/ramdisk.h"
#include "blk/vblk.h"
#include "boot/dev.h"
#include "boot/loop.h"
#include "hyp/frames.h"
#include "hyp/gmem.h"
#include "lib/log.h"
#include "tests/unit/fake_driver.h"
#include "tests/unit/fake_xen.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/test.h"
#include "virtio/vmmio.h"

#define DOMID      5
#define VCPUS      2
#define BASE       0x02000000ull
#define SPI        33u
#define NAME       "dom5/51712"
#define DISK_BYTES (64u * DISK_SECTOR_SIZE)
#define MS         1000000ull

/* ---- the main loop's deferred work ------------------------------------------------- */

static struct {
	loop_work_fn fn;
	void *arg;
	uint64_t due_ns;
} work[32];
static unsigned int work_count;

/* As boot/loop.c: the same fn and arg are queued once, at the earlier time. */
static int defer(loop_work_fn fn, void *arg, uint64_t due_ns)
{
	for (unsigned int i = 0; i < work_count; i++) {
		if (work[i].fn == fn && work[i].arg == arg) {
			if (due_ns < work[i].due_ns)
				work[i].due_ns = due_ns;
			return 0;
		}
	}
	if (work_count == sizeof(work) / sizeof(work[0]))
		abort();
	work[work_count].fn = fn;
	work[work_count].arg = arg;
	work[work_count].due_ns = due_ns;
	work_count++;
	return 0;
}

int loop_defer(loop_work_fn fn, void *arg)
{
	return defer(fn, arg, 0);
}

int loop_defer_until(loop_work_fn fn, void *arg, uint64_t due_ns)
{
	return defer(fn, arg, due_ns);
}

int loop_defer_next_pass(loop_work_fn fn, void *arg)
{
	return defer(fn, arg, 0);
}

int loop_defer_after_yield(loop_work_fn fn, void *arg)
{
	return defer(fn, arg, 0);
}

/*
 * The loop until the fake clock reads `until`: runs the work that is due, earliest first,
 * sleeping (moving the clock) to the next due time while there is one by then.
 */
static void run_loop(uint64_t until)
{
	for (unsigned int runs = 0; runs < 10000; runs++) {
		unsigned int next = 0;
		loop_work_fn fn;
		void *arg;

		for (unsigned int i = 1; i < work_count; i++)
			if (work[i].due_ns < work[next].due_ns)
				next = i;
		if (work_count == 0 || work[next].due_ns > until)
			break;
		if (work[next].due_ns > fake_time_ns)
			fake_time_ns = work[next].due_ns;
		fn = work[next].fn;
		arg = work[next].arg;
		work[next] = work[--work_count];
		fn(arg);
	}
	if (fake_time_ns < until)
		fake_time_ns = until;
}

/* ---- the owner, the disk and the guest --------------------------------------------- */

static struct {
	unsigned int serving, failed, connected, drained;
	char msg[160]; /* the last failure's */
} owner;

static void on_serving(void *ctx)
{
	owner.serving++;
}

static void on_failed(void *ctx, const char *msg)
{
	owner.failed++;
	snprintf(owner.msg, sizeof(owner.msg), "%s", msg);
}

static void on_connected(void *ctx)
{
	owner.connected++;
}

static void on_drained(void *ctx)
{
	owner.drained++;
}

static const struct dev_ops owner_ops = {
    .serving = on_serving,
    .failed = on_failed,
    .connected = on_connected,
    .drained = on_drained,
};

static uint8_t disk[DISK_BYTES];
static struct ramdisk rd;
static struct dev d;

/* vCPU 0's 4-byte accesses to the device's window. */
static uint32_t reg_read(uint32_t offset)
{
	return (uint32_t)fx_mmio(0, true, BASE + offset, 4, 0);
}

static void reg_write(uint32_t offset, uint32_t value)
{
	fx_mmio(0, false, BASE + offset, 4, value);
}

static struct drv drv = {.read = reg_read, .write = reg_write};

/* A fresh fake Xen, loop, owner and RAM disk, which serves each request `latency_ns` late. */
static void prepare(uint64_t latency_ns)
{
	fake_reset();
	fx_reset(DOMID, VCPUS);
	log_capture_reset();
	work_count = 0;
	memset(&owner, 0, sizeof(owner));
	for (unsigned int i = 0; i < DISK_BYTES; i++)
		disk[i] = (uint8_t)(i * 3 + i / 512);
	if (ramdisk_init(&rd, disk, DISK_BYTES, false) ||
	    ramdisk_set_latency(&rd, latency_ns, arch_timer_now_ns))
		abort();
}

/* The device on the RAM disk, for the guest's window at BASE. */
static void begin(void)
{
	dev_start(&d,
	          &(struct dev_config){.name = NAME,
	                               .domid = DOMID,
	                               .base = BASE,
	                               .irq = SPI,
	                               .policy = VBLK_SERVE_DEFER,
	                               .disk = &rd.disk},
	          &owner_ops, NULL);
}

static void start(uint64_t latency_ns)
{
	prepare(latency_ns);
	begin();
}

/* start(), and the guest's driver brings the device up. */
static bool start_connected(uint64_t latency_ns)
{
	start(latency_ns);
	if (!drv_init(&drv))
		return false;
	run_loop(fake_time_ns);
	return owner.connected == 1;
}

/* One request and what the loop makes of it, the clock left where it was. */
static void request(uint32_t type, uint64_t sector, unsigned int hdr_page, unsigned int data_page,
                    unsigned int data_pages)
{
	drv_submit(&drv, type, sector, hdr_page, data_page, data_pages, 0);
	run_loop(fake_time_ns);
}

static unsigned int count_of(const char *text, const char *needle)
{
	unsigned int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* ---- tests ------------------------------------------------------------------------- */

TEST(dev, guest_driver_init_through_ioreqs_reports_connected_once)
{
	start(0);
	EXPECT_EQ(owner.serving, 1);
	EXPECT_EQ(owner.failed, 0);
	EXPECT_TRUE(fx.enabled);
	EXPECT_EQ(fx.io_start, BASE);
	EXPECT_EQ(fx.io_end, BASE + VMMIO_WINDOW - 1);
	EXPECT_EQ(fx.binds, VCPUS);
	ASSERT_TRUE(drv_init(&drv));
	/* DRIVER_OK came inside an IOREQ: the owner hears it from the loop, once. */
	EXPECT_EQ(owner.connected, 0);
	run_loop(fake_time_ns);
	EXPECT_EQ(owner.connected, 1);
	reg_write(VMMIO_REG_STATUS, 15);
	EXPECT_EQ(reg_read(VMMIO_REG_STATUS), 15);
	run_loop(fake_time_ns);
	EXPECT_EQ(owner.connected, 1);
	/* Every access was answered on its vCPU's channel. */
	EXPECT_EQ(fx.sends[0], fx.posts);
	EXPECT_EQ(count_of(log_text, "backend: " NAME ": first access by the guest, 0 us after "
	                             "serving began"),
	          1);
	EXPECT_EQ(dev_stop(&d), 0);
	EXPECT_EQ(fx.destroys, 1);
	EXPECT_EQ(frames_free_count(), FX_FRAMES);
	EXPECT_EQ(owner.drained, 0);
	EXPECT_EQ(fx.violations, 0);
}

TEST(dev, read_and_write_reach_the_ram_disk_and_raise_the_guests_spi)
{
	ASSERT_TRUE(start_connected(0));
	EXPECT_EQ(fx.irq_calls, 0);

	/* Sectors 8.. into guest page 20; header in page 10, status in page 11. */
	request(VBLK_T_IN, 8, 10, 20, 1);
	ASSERT_EQ(drv_used_idx(), 1);
	EXPECT_EQ(fx_page(11)[0], VBLK_S_OK);
	EXPECT_MEMEQ(fx_page(20), disk + 8 * 512, FX_PAGE);
	/* used.ring[0]: the chain's head (0) and the bytes written (data and status). */
	EXPECT_EQ(fx_page(2)[4], 0);
	EXPECT_EQ(fx_page(2)[8] | fx_page(2)[9] << 8, FX_PAGE + 1);
	EXPECT_EQ(fx.irq_calls, 1);
	EXPECT_EQ(fx.irq, SPI);
	EXPECT_TRUE(fx.irq_level);

	/* Guest pages 30..31 onto sectors 16..31. */
	memset(fx_page(30), 0x5a, 2 * FX_PAGE);
	request(VBLK_T_OUT, 16, 12, 30, 2);
	ASSERT_EQ(drv_used_idx(), 2);
	EXPECT_EQ(fx_page(13)[0], VBLK_S_OK);
	EXPECT_MEMEQ(disk + 16 * 512, fx_page(30), 2 * FX_PAGE);
	EXPECT_EQ(fx.irq_calls, 2);
	EXPECT_EQ(fx.violations, 0);
	dev_stop(&d);
}

TEST(dev, without_device_model_rights_it_retries_until_they_come)
{
	prepare(0);
	fx.create_rc = -1; /* Xen's -EPERM, until dom0 gives the rights */
	begin();
	EXPECT_EQ(owner.serving + owner.failed, 0);
	EXPECT_CONTAINS(log_text, "backend: " NAME
	                          ": no device-model rights over dom5 yet, retrying for 8 s");
	run_loop(fake_time_ns + 2000 * MS);
	EXPECT_GT(fx.create_calls, 4);
	EXPECT_EQ(owner.serving + owner.failed, 0);
	fx.create_rc = 0;
	run_loop(fake_time_ns + 1000 * MS);
	EXPECT_EQ(owner.serving, 1);
	EXPECT_EQ(owner.failed, 0);
	EXPECT_EQ(count_of(log_text, "no device-model rights"), 1);
	/* And it serves. */
	ASSERT_TRUE(drv_init(&drv));
	run_loop(fake_time_ns);
	EXPECT_EQ(owner.connected, 1);
	dev_stop(&d);
	EXPECT_EQ(fx.violations, 0);
}

TEST(dev, without_device_model_rights_by_the_deadline_it_fails_naming_the_guest)
{
	uint64_t t0;

	prepare(0);
	t0 = fake_time_ns;
	fx.create_rc = -1;
	begin();
	run_loop(t0 + DEV_RIGHTS_WAIT_NS - MS);
	EXPECT_EQ(owner.failed, 0);
	run_loop(t0 + DEV_RIGHTS_WAIT_NS + 1000 * MS);
	EXPECT_EQ(owner.serving, 0);
	ASSERT_EQ(owner.failed, 1);
	EXPECT_STREQ(owner.msg, "cannot start an IOREQ server for dom5 (-1): vdisk needs "
	                        "device-model rights over it (FLASK policy or set_target)");
	/* It gave up: no retry left, no server, no frame kept. */
	EXPECT_EQ(work_count, 0);
	EXPECT_FALSE(fx.created);
	EXPECT_EQ(frames_free_count(), FX_FRAMES);
	EXPECT_EQ(dev_stop(&d), 0);
	EXPECT_EQ(fx.violations, 0);
}

TEST(dev, stop_with_requests_at_a_slow_disk_drains_before_the_owner_hears)
{
	static uint8_t before[FX_GUEST_PAGES * FX_PAGE];
	uint64_t t0;

	ASSERT_TRUE(start_connected(10 * MS));
	request(VBLK_T_IN, 8, 10, 20, 1);
	ASSERT_EQ(rd.held.count, 1);
	EXPECT_EQ(drv_used_idx(), 0);
	memcpy(before, fx_page(0), sizeof(before));
	t0 = fake_time_ns;

	EXPECT_EQ(dev_stop(&d), 1);
	EXPECT_EQ(fx.destroys, 1);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_FOREIGN), 0);
	run_loop(t0 + 5 * MS);
	EXPECT_EQ(owner.drained, 0);
	run_loop(t0 + 20 * MS);
	EXPECT_EQ(owner.drained, 1);
	EXPECT_EQ(rd.held.count, 0);
	/* The disk's answer was dropped: no data, status or used element in the guest. */
	EXPECT_MEMEQ(fx_page(0), before, sizeof(before));
	EXPECT_EQ(fx.irq_calls, 0);
	EXPECT_EQ(frames_free_count(), FX_FRAMES);
	EXPECT_EQ(work_count, 0);
	EXPECT_EQ(fx.violations, 0);
}

TEST(dev, ioreq_invalidate_drops_the_guests_mappings)
{
	unsigned int idle = gmem_mapped_count(), mapped;

	ASSERT_TRUE(start_connected(0));
	request(VBLK_T_IN, 8, 10, 20, 1);
	ASSERT_EQ(drv_used_idx(), 1);
	mapped = gmem_mapped_count() - idle;
	EXPECT_GT(mapped, 0);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_FOREIGN), mapped);
	fx_invalidate(1);
	EXPECT_EQ(fx_ioreq(1)->state, STATE_IORESP_READY);
	EXPECT_EQ(fx.sends[1], 1);
	EXPECT_EQ(gmem_mapped_count(), idle);
	EXPECT_EQ(fx.foreign_unmaps, mapped);
	EXPECT_EQ(fx_mapped_frames(FX_OWN_FOREIGN), 0);
	/* The next request maps what it needs again. */
	request(VBLK_T_IN, 0, 10, 21, 1);
	ASSERT_EQ(drv_used_idx(), 2);
	EXPECT_MEMEQ(fx_page(21), disk, FX_PAGE);
	EXPECT_GT(gmem_mapped_count(), idle);
	dev_stop(&d);
	EXPECT_EQ(gmem_mapped_count(), idle);
	EXPECT_EQ(fx.violations, 0);
}

TEST(dev, failing_interrupt_is_logged_once_and_serving_goes_on)
{
	const char *line = "backend: " NAME ": raising interrupt 33 of dom5 failed (-22); the "
	                   "driver sees completions at its next interrupt or poll";

	ASSERT_TRUE(start_connected(0));
	fx.irq_rc = -22; /* Xen's -EINVAL */
	request(VBLK_T_IN, 8, 10, 20, 1);
	ASSERT_EQ(drv_used_idx(), 1);
	EXPECT_EQ(fx_page(11)[0], VBLK_S_OK);
	EXPECT_EQ(fx.irq_calls, 1);
	EXPECT_EQ(count_of(log_text, line), 1);
	EXPECT_EQ(count_of(log_text, "raising interrupt"), 1);
	/* Not fatal: the next request is served and its interrupt raised. */
	fx.irq_rc = 0;
	request(VBLK_T_OUT, 16, 12, 30, 1);
	ASSERT_EQ(drv_used_idx(), 2);
	EXPECT_EQ(fx_page(13)[0], VBLK_S_OK);
	EXPECT_EQ(fx.irq_calls, 2);
	EXPECT_EQ(count_of(log_text, "raising interrupt"), 1);
	/* A guest whose line keeps failing gets the device's budget of lines, not a flood. */
	fx.irq_rc = -22;
	for (unsigned int i = 0; i < 2 * LOG_LIMIT_LINES; i++)
		request(VBLK_T_IN, i, 10, 20, 1);
	EXPECT_EQ(drv_used_idx(), 2 + 2 * LOG_LIMIT_LINES);
	EXPECT_EQ(count_of(log_text, "raising interrupt"), LOG_LIMIT_LINES);
	dev_stop(&d);
	EXPECT_EQ(fx.violations, 0);
}
