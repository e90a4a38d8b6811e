/*
 * hyp/ioreq.c over the real hyp/evtchn.c, hyp/dm.c and hyp/xen.c and a small fake Xen: the
 * hypercall stubs this test needs (the rest: tests/unit/fake_hypercalls.c) and hyp/frames.h
 * are link seams. The ioreq page is a page of host memory the test writes requests into as
 * Xen would; the MMIO model records what reaches it.
 */
#define __XEN_TOOLS__ 1 /* dm_op.h's ioreq-server operations */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/hvm/dm_op.h>
#include <xen/hvm/ioreq.h>
#include <xen/memory.h>

#include "arch/hypercall.h"
#include "hyp/evtchn.h"
#include "hyp/frames.h"
#include "hyp/ioreq.h"
#include "lib/log.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/test.h"

#define DOMID     5
#define VCPUS     2
#define BASE      0x02000000ull
#define WINDOW    0x200ull
#define PORT_BASE 40u /* vCPU v's local port is PORT_BASE + v */

static uint8_t *page_mem;
static struct shared_info shared;
static struct ioreq_server srv;

/* The fake Xen: what it answers and what it saw. */
static struct {
	uint32_t vcpus;
	bool acquired, frame_taken;
	unsigned int binds, closes, unmaps, destroys;
	unsigned int sends[VCPUS];
} hv;

/* The MMIO model. */
static struct {
	unsigned int reads, writes;
	uint64_t offset;
	unsigned int size;
	uint64_t value; /* what reads return */
	uint64_t written;
} model;

/* ---- link seams -------------------------------------------------------------------- */

int frames_alloc(unsigned int count, struct own_frame *first)
{
	if (hv.frame_taken || count != 1)
		return -ENOMEM;
	hv.frame_taken = true;
	first->n = (uintptr_t)page_mem >> 12;
	return 0;
}

void frames_free(struct own_frame first, unsigned int count)
{
	hv.frame_taken = false;
}

unsigned int frames_free_count(void)
{
	return hv.frame_taken ? 0 : 1;
}

long hypercall_dm_op(unsigned int domid, unsigned int nr_bufs, void *bufs)
{
	struct xen_dm_op *op = ((struct xen_dm_op_buf *)bufs)->h.p;

	switch (op->op) {
	case XEN_DMOP_nr_vcpus:
		op->u.nr_vcpus.vcpus = hv.vcpus;
		return 0;
	case XEN_DMOP_create_ioreq_server:
		op->u.create_ioreq_server.id = 1;
		return 0;
	case XEN_DMOP_destroy_ioreq_server:
		hv.destroys++;
		return 0;
	case XEN_DMOP_map_io_range_to_ioreq_server:
	case XEN_DMOP_set_ioreq_server_state:
		return 0;
	}
	return -ENOSYS;
}

long hypercall_memory_op(unsigned int cmd, void *arg)
{
	if (cmd == XENMEM_acquire_resource) {
		hv.acquired = true;
		return 0;
	}
	if (cmd == XENMEM_remove_from_physmap) {
		hv.acquired = false;
		hv.unmaps++;
		return 0;
	}
	return -ENOSYS;
}

long hypercall_event_channel_op(int cmd, void *arg)
{
	switch (cmd) {
	case EVTCHNOP_bind_interdomain:
		((struct evtchn_bind_interdomain *)arg)->local_port = PORT_BASE + hv.binds++;
		return 0;
	case EVTCHNOP_send: {
		uint32_t port = ((struct evtchn_send *)arg)->port;

		if (port >= PORT_BASE && port < PORT_BASE + VCPUS)
			hv.sends[port - PORT_BASE]++;
		return 0;
	}
	case EVTCHNOP_close:
		hv.closes++;
		return 0;
	case EVTCHNOP_unmask:
		return 0;
	}
	return -ENOSYS;
}

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

static struct ioreq *slot(unsigned int v)
{
	return (struct ioreq *)page_mem + v;
}

/* A fresh page, fake Xen and model, and a server on a window of `size` bytes at BASE. */
static int setup(uint64_t size)
{
	if (!page_mem)
		page_mem = aligned_alloc(4096, 4096);
	memset(page_mem, 0, 4096);
	memset(&shared, 0, sizeof(shared));
	memset(&hv, 0, sizeof(hv));
	memset(&model, 0, sizeof(model));
	hv.vcpus = VCPUS;
	for (unsigned int v = 0; v < VCPUS; v++)
		slot(v)->vp_eport = 10 + v;
	evtchn_init(&shared, &shared.vcpu_info[0]);
	log_capture_reset();
	return ioreq_server_start(&srv, DOMID, BASE, size, &model_ops, NULL);
}

/* Xen posts an MMIO access of vCPU `v`; the server then polls. */
static void post(unsigned int v, bool read, uint64_t addr, uint32_t size, uint64_t data)
{
	struct ioreq *r = slot(v);

	r->addr = addr;
	r->data = data;
	r->size = size;
	r->count = 1;
	r->dir = read ? IOREQ_READ : IOREQ_WRITE;
	r->data_is_ptr = 0;
	r->type = IOREQ_TYPE_COPY;
	r->state = STATE_IOREQ_READY;
	ioreq_server_poll(&srv);
}

/* ---- tests ------------------------------------------------------------------------- */

TEST(ioreq, start_binds_every_vcpu_and_stop_undoes_it)
{
	ASSERT_EQ(setup(WINDOW), 0);
	EXPECT_EQ(srv.port_count, VCPUS);
	EXPECT_EQ(srv.ports[1], PORT_BASE + 1);
	EXPECT_TRUE(hv.acquired);
	ioreq_server_stop(&srv);
	EXPECT_EQ(hv.closes, VCPUS);
	EXPECT_EQ(hv.unmaps, 1);
	EXPECT_EQ(hv.destroys, 1);
	EXPECT_FALSE(hv.frame_taken);
}

TEST(ioreq, read_answers_the_models_value_masked_to_its_size)
{
	ASSERT_EQ(setup(WINDOW), 0);
	model.value = 0x1122334455667788ull;
	post(1, true, BASE + 0x70, 2, 0);
	EXPECT_EQ(model.reads, 1);
	EXPECT_EQ(model.offset, 0x70);
	EXPECT_EQ(model.size, 2);
	EXPECT_EQ(slot(1)->data, 0x7788);
	EXPECT_EQ(slot(1)->state, STATE_IORESP_READY);
	EXPECT_EQ(hv.sends[1], 1);
	EXPECT_EQ(hv.sends[0], 0);
	ioreq_server_stop(&srv);
}

TEST(ioreq, write_gives_the_model_the_data_masked_to_its_size)
{
	ASSERT_EQ(setup(WINDOW), 0);
	post(0, false, BASE + 0x30, 1, 0xabcdef);
	EXPECT_EQ(model.writes, 1);
	EXPECT_EQ(model.written, 0xef);
	EXPECT_EQ(hv.sends[0], 1);
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
		post(0, true, BASE + WINDOW, cases[i].size, 0);
		EXPECT_EQ(slot(0)->data, cases[i].want);
		EXPECT_EQ(slot(0)->state, STATE_IORESP_READY);
	}
	EXPECT_EQ(hv.sends[0], 4);
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
		post(0, true, BASE + WINDOW, 4, 0);
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
	post(0, true, BASE + 0x100, 4, 0);
	post(1, false, BASE, 4, 1);
	EXPECT_EQ(model.reads + model.writes, 0);
	EXPECT_EQ(srv.rejected, 2);
	EXPECT_EQ(slot(0)->data, 0xffffffff);
	post(0, true, BASE, 2, 0);
	EXPECT_EQ(model.reads, 1);
	EXPECT_EQ(hv.sends[0] + hv.sends[1], 3);
	ioreq_server_stop(&srv);
}
