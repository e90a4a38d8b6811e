/*
 * hyp/ioreq.c over the real hyp/evtchn.c, hyp/dm.c and hyp/xen.c and the fake Xen of
 * tests/unit/fake_xen.h: the test posts requests into the server's page as Xen would and
 * raises the vCPU's event channel; the MMIO model records what reaches it.
 */
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/hvm/ioreq.h>

#include "hyp/frames.h"
#include "hyp/ioreq.h"
#include "lib/log.h"
#include "tests/unit/fake_xen.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/test.h"

#define DOMID     5
#define VCPUS     2
#define BASE      0x02000000ull
#define WINDOW    0x200ull
#define PORT_BASE FX_PORT_BASE /* vCPU v's local port is PORT_BASE + v */

static struct ioreq_server srv;

/* The MMIO model. */
static struct {
	unsigned int reads, writes;
	uint64_t offset;
	unsigned int size;
	uint64_t value; /* what reads return */
	uint64_t written;
} model;

static uint64_t model_read(void *ctx, uint64_t offset, unsigned int size)
{
	model.reads++;
	model.offset = offset;
	model.size = size;
	return model.value;
}

static void model_write(void *ctx, uint64_t offset, unsigned int size, uint64_t value)
{
	model.writes++;
	model.offset = offset;
	model.size = size;
	model.written = value;
}

static const struct ioreq_ops model_ops = {model_read, model_write, NULL};

/* ---- fixtures ---------------------------------------------------------------------- */

/* A fresh fake Xen and model, and a server on a window of `size` bytes at BASE. */
static int setup(uint64_t size)
{
	fx_reset(DOMID, VCPUS);
	memset(&model, 0, sizeof(model));
	log_capture_reset();
	return ioreq_server_start(&srv, DOMID, BASE, size, &model_ops, NULL);
}

/* ---- tests ------------------------------------------------------------------------- */

TEST(ioreq, start_binds_every_vcpu_and_stop_undoes_it)
{
	ASSERT_EQ(setup(WINDOW), 0);
	EXPECT_EQ(srv.port_count, VCPUS);
	EXPECT_EQ(srv.ports[1], PORT_BASE + 1);
	EXPECT_TRUE(fx.acquired);
	ioreq_server_stop(&srv);
	EXPECT_EQ(fx.closes, VCPUS);
	EXPECT_EQ(fx.ioreq_unmaps, 1);
	EXPECT_EQ(fx.destroys, 1);
	EXPECT_EQ(frames_free_count(), FX_FRAMES);
}

TEST(ioreq, read_answers_the_models_value_masked_to_its_size)
{
	ASSERT_EQ(setup(WINDOW), 0);
	model.value = 0x1122334455667788ull;
	fx_mmio(1, true, BASE + 0x70, 2, 0);
	EXPECT_EQ(model.reads, 1);
	EXPECT_EQ(model.offset, 0x70);
	EXPECT_EQ(model.size, 2);
	EXPECT_EQ(fx_ioreq(1)->data, 0x7788);
	EXPECT_EQ(fx_ioreq(1)->state, STATE_IORESP_READY);
	EXPECT_EQ(fx.sends[1], 1);
	EXPECT_EQ(fx.sends[0], 0);
	ioreq_server_stop(&srv);
}

TEST(ioreq, write_gives_the_model_the_data_masked_to_its_size)
{
	ASSERT_EQ(setup(WINDOW), 0);
	fx_mmio(0, false, BASE + 0x30, 1, 0xabcdef);
	EXPECT_EQ(model.writes, 1);
	EXPECT_EQ(model.written, 0xef);
	EXPECT_EQ(fx.sends[0], 1);
	ioreq_server_stop(&srv);
}

/* Found by fuzz_ioreq: refused reads answered ~0 whatever their size. */
TEST(ioreq, refused_read_answers_all_ones_of_its_size_only)
{
	static const struct {
		uint32_t size;
		uint64_t want;
	} cases[] = {{1, 0xff}, {2, 0xffff}, {4, 0xffffffff}, {8, ~0ull}};

	ASSERT_EQ(setup(WINDOW), 0);
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Past the window: refused, and the guest's register must not get stray bits. */
		fx_mmio(0, true, BASE + WINDOW, cases[i].size, 0);
		EXPECT_EQ(fx_ioreq(0)->data, cases[i].want);
		EXPECT_EQ(fx_ioreq(0)->state, STATE_IORESP_READY);
	}
	EXPECT_EQ(fx.sends[0], 4);
	EXPECT_EQ(model.reads, 0);
	EXPECT_EQ(srv.rejected, 4);
	EXPECT_CONTAINS(log_text, "rejected type 1 read of 1 x 4 bytes at 0x2000200");
	ioreq_server_stop(&srv);
}

/* A guest poking outside its window gets lines from the device's budget, not a flood. */
TEST(ioreq, rejected_accesses_are_held_to_the_devices_log_budget)
{
	static struct log_limit limit;
	unsigned int lines = 0;

	ASSERT_EQ(setup(WINDOW), 0);
	log_limit_init(&limit, "dom3/51712");
	srv.limit = &limit;
	log_capture_reset();
	for (unsigned int i = 0; i < 100; i++)
		fx_mmio(0, true, BASE + WINDOW, 4, 0);
	EXPECT_EQ(srv.rejected, 100);
	EXPECT_EQ(srv.turnaround.count, 100); /* refused ones are answered too */
	for (const char *p = log_text; (p = strstr(p, "rejected type")); p++)
		lines++;
	EXPECT_EQ(lines, LOG_LIMIT_LINES);
	ioreq_server_stop(&srv);
}

/* Found by fuzz_ioreq: a window smaller than the access wrapped the bounds check. */
TEST(ioreq, access_wider_than_the_window_is_refused)
{
	ASSERT_EQ(setup(2), 0);
	fx_mmio(0, true, BASE + 0x100, 4, 0);
	fx_mmio(1, false, BASE, 4, 1);
	EXPECT_EQ(model.reads + model.writes, 0);
	EXPECT_EQ(srv.rejected, 2);
	EXPECT_EQ(fx_ioreq(0)->data, 0xffffffff);
	fx_mmio(0, true, BASE, 2, 0);
	EXPECT_EQ(model.reads, 1);
	EXPECT_EQ(fx.sends[0] + fx.sends[1], 3);
	ioreq_server_stop(&srv);
}
