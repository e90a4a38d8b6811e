/*
 * hyp/evtchn.c over a struct shared_info in memory. The hypercall stubs of
 * arch/include/arch/hypercall.h are link seams here: event_channel_op records each call
 * and, for EVTCHNOP_unmask, does what Xen's 2-level ABI does (common/event_2l.c).
 * xen_raise() sets pending bits, selector and upcall flag in Xen's order.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/event_channel.h>

#include "arch/hypercall.h"
#include "hyp/evtchn.h"
#include "lib/log.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/test.h"

#define BITS  64u /* xen_ulong_t is 64 bits on arm64 and on the x86-64 host */
#define PORTS (BITS * BITS)

static struct shared_info shared;
static struct vcpu_info *vcpu = &shared.vcpu_info[0];

/* ---- hypercall seams ----------------------------------------------------------- */

struct evtchn_call {
	int cmd;
	uint32_t port; /* the op's port, or remote_port for bind_interdomain */
	uint16_t dom, remote_dom;
};

static struct {
	struct evtchn_call calls[64];
	unsigned int count;
	long rc;             /* what the next calls return */
	int fail_cmd;        /* this op returns fail_rc instead, when that is not 0 */
	long fail_rc;
	uint32_t alloc_port; /* EVTCHNOP_alloc_unbound's answer */
	uint32_t local_port; /* EVTCHNOP_bind_interdomain's answer */
} hv;

static void xen_2l_unmask(uint32_t port)
{
	unsigned int w = port / BITS;
	xen_ulong_t bit = (xen_ulong_t)1 << (port % BITS);
	xen_ulong_t sel = (xen_ulong_t)1 << w;
	bool was_masked = shared.evtchn_mask[w] & bit;

	shared.evtchn_mask[w] &= ~bit;
	if (was_masked && (shared.evtchn_pending[w] & bit) && !(vcpu->evtchn_pending_sel & sel)) {
		vcpu->evtchn_pending_sel |= sel;
		vcpu->evtchn_upcall_pending = 1;
	}
}

long hypercall_event_channel_op(int cmd, void *arg)
{
	struct evtchn_call *c = &hv.calls[hv.count < 64 ? hv.count : 63];
	long rc = hv.fail_rc && cmd == hv.fail_cmd ? hv.fail_rc : hv.rc;

	hv.count++;
	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	switch (cmd) {
	case EVTCHNOP_alloc_unbound: {
		struct evtchn_alloc_unbound *op = arg;

		c->dom = op->dom;
		c->remote_dom = op->remote_dom;
		if (rc == 0)
			op->port = hv.alloc_port;
		break;
	}
	case EVTCHNOP_bind_interdomain: {
		struct evtchn_bind_interdomain *op = arg;

		c->remote_dom = op->remote_dom;
		c->port = op->remote_port;
		if (rc == 0)
			op->local_port = hv.local_port;
		break;
	}
	case EVTCHNOP_send:
		c->port = ((struct evtchn_send *)arg)->port;
		break;
	case EVTCHNOP_close:
		c->port = ((struct evtchn_close *)arg)->port;
		break;
	case EVTCHNOP_unmask:
		c->port = ((struct evtchn_unmask *)arg)->port;
		if (rc == 0)
			xen_2l_unmask(c->port);
		break;
	}
	return rc;
}

/* hyp/xen.c is linked for xen_errno(); its other hypercalls are not used here. */
/* ---- fixtures ------------------------------------------------------------------ */

/* Xen's evtchn_2l_set_pending: pending bit, then selector and upcall if unmasked. */
static void xen_raise(uint32_t port)
{
	unsigned int w = port / BITS;
	xen_ulong_t bit = (xen_ulong_t)1 << (port % BITS);
	xen_ulong_t sel = (xen_ulong_t)1 << w;

	if (shared.evtchn_pending[w] & bit)
		return;
	shared.evtchn_pending[w] |= bit;
	if (!(shared.evtchn_mask[w] & bit) && !(vcpu->evtchn_pending_sel & sel)) {
		vcpu->evtchn_pending_sel |= sel;
		vcpu->evtchn_upcall_pending = 1;
	}
}

static bool is_pending(uint32_t port)
{
	return shared.evtchn_pending[port / BITS] >> (port % BITS) & 1;
}

static bool is_masked(uint32_t port)
{
	return shared.evtchn_mask[port / BITS] >> (port % BITS) & 1;
}


/* Handler calls in order. */
static struct {
	uint32_t ports[64];
	void *args[64];
	unsigned int count;
} handled;

static void record(uint32_t port, void *arg)
{
	if (handled.count < 64) {
		handled.ports[handled.count] = port;
		handled.args[handled.count] = arg;
	}
	handled.count++;
}

/* Fresh shared_info, no handlers bound, nothing recorded. */
static void setup(void)
{
	evtchn_init(&shared, vcpu);
	for (uint32_t port = 1; port < PORTS; port++)
		evtchn_close(port); /* forgets whatever an earlier test bound */
	memset(&shared, 0, sizeof(shared));
	memset(&hv, 0, sizeof(hv));
	memset(&handled, 0, sizeof(handled));
	log_capture_reset();
}

/* ---- dispatch ------------------------------------------------------------------ */

TEST(evtchn, dispatch_runs_pending_ports_across_words_in_order)
{
	static const uint32_t ports[] = {1, 63, 64, 130, 4095};
	int args[5];

	setup();
	for (int i = 0; i < 5; i++)
		EXPECT_EQ(evtchn_bind(ports[i], record, &args[i]), 0);
	for (int i = 4; i >= 0; i--)
		xen_raise(ports[i]);
	EXPECT_EQ(vcpu->evtchn_pending_sel, (1ull << 0) | (1ull << 1) | (1ull << 2) | (1ull << 63));

	EXPECT_EQ(evtchn_dispatch(), 5);
	ASSERT_EQ(handled.count, 5);
	for (int i = 0; i < 5; i++) {
		EXPECT_EQ(handled.ports[i], ports[i]);
		EXPECT_TRUE(handled.args[i] == &args[i]);
		EXPECT_FALSE(is_pending(ports[i]));
	}
	EXPECT_EQ(vcpu->evtchn_pending_sel, 0);
	EXPECT_EQ(vcpu->evtchn_upcall_pending, 0);
	for (unsigned int w = 0; w < BITS; w++)
		EXPECT_EQ(shared.evtchn_pending[w], 0);

	/* Nothing pending: nothing runs. */
	EXPECT_EQ(evtchn_dispatch(), 0);
	EXPECT_EQ(handled.count, 5);
}

TEST(evtchn, dispatch_of_one_port_leaves_the_others_for_the_next_dispatch)
{
	setup();
	EXPECT_EQ(evtchn_bind(3, record, NULL), 0);
	EXPECT_EQ(evtchn_bind(70, record, NULL), 0);
	EXPECT_EQ(evtchn_bind(9, record, NULL), 0);
	xen_raise(3);
	xen_raise(70);
	/* Waiting for port 9 (xenstore's, say): the others' handlers do not run under it. */
	EXPECT_EQ(evtchn_dispatch_port(9), 0);
	EXPECT_EQ(handled.count, 0);
	EXPECT_TRUE(is_pending(3) && is_pending(70));
	EXPECT_FALSE(evtchn_upcall_pending());
	EXPECT_TRUE(evtchn_deferred());
	xen_raise(9);
	EXPECT_EQ(evtchn_dispatch_port(9), 1);
	ASSERT_EQ(handled.count, 1);
	EXPECT_EQ(handled.ports[0], 9);
	/* The main loop's dispatch runs what was left, with no new upcall from Xen. */
	EXPECT_EQ(evtchn_dispatch(), 2);
	ASSERT_EQ(handled.count, 3);
	EXPECT_EQ(handled.ports[1], 3);
	EXPECT_EQ(handled.ports[2], 70);
	EXPECT_FALSE(evtchn_deferred());
	EXPECT_EQ(evtchn_dispatch_port(PORTS), 0);
}

TEST(evtchn, dispatch_without_upcall_pending_does_nothing)
{
	setup();
	EXPECT_EQ(evtchn_bind(3, record, NULL), 0);
	xen_raise(3);
	vcpu->evtchn_upcall_pending = 0;
	EXPECT_EQ(evtchn_dispatch(), 0);
	EXPECT_EQ(handled.count, 0);
	EXPECT_TRUE(is_pending(3));
}

TEST(evtchn, masked_port_is_skipped_and_stays_pending)
{
	setup();
	EXPECT_EQ(evtchn_bind(5, record, NULL), 0);
	EXPECT_EQ(evtchn_bind(6, record, NULL), 0);
	evtchn_mask(5);
	xen_raise(5); /* masked: pending only, no selector bit */
	xen_raise(6); /* same word: the selector bit makes dispatch look at port 5 too */
	EXPECT_EQ(evtchn_dispatch(), 1);
	ASSERT_EQ(handled.count, 1);
	EXPECT_EQ(handled.ports[0], 6);
	EXPECT_TRUE(is_pending(5));
	EXPECT_TRUE(is_masked(5));
	EXPECT_FALSE(is_pending(6));
	EXPECT_EQ(hv.count, 0);
}

static unsigned int raise_once_left;

/* Handler of port 130: raises port 64 (an earlier word) once more. */
static void raise_64(uint32_t port, void *arg)
{
	record(port, arg);
	if (raise_once_left) {
		raise_once_left--;
		xen_raise(64);
	}
}

TEST(evtchn, dispatch_loops_while_upcall_pending_is_set_again)
{
	setup();
	EXPECT_EQ(evtchn_bind(64, record, NULL), 0);
	EXPECT_EQ(evtchn_bind(130, raise_64, NULL), 0);
	raise_once_left = 1;
	xen_raise(64);
	xen_raise(130);
	EXPECT_EQ(evtchn_dispatch(), 3);
	ASSERT_EQ(handled.count, 3);
	EXPECT_EQ(handled.ports[0], 64);
	EXPECT_EQ(handled.ports[1], 130);
	EXPECT_EQ(handled.ports[2], 64);
	EXPECT_EQ(vcpu->evtchn_upcall_pending, 0);
	EXPECT_EQ(vcpu->evtchn_pending_sel, 0);
}

/* Handler that raises its own port once: the event is not lost. */
static void raise_self(uint32_t port, void *arg)
{
	record(port, arg);
	if (raise_once_left) {
		raise_once_left--;
		xen_raise(port);
	}
}

TEST(evtchn, event_raised_during_its_handler_runs_again)
{
	setup();
	EXPECT_EQ(evtchn_bind(1, raise_self, NULL), 0);
	raise_once_left = 1;
	xen_raise(1);
	EXPECT_EQ(evtchn_dispatch(), 2);
	EXPECT_EQ(handled.count, 2);
	EXPECT_FALSE(is_pending(1));
}

TEST(evtchn, stray_event_is_counted_and_masked)
{
	uint64_t before;

	setup();
	before = evtchn_stray_count();
	EXPECT_EQ(evtchn_bind(78, record, NULL), 0);
	xen_raise(77);
	xen_raise(78);
	EXPECT_EQ(evtchn_dispatch(), 1); /* only port 78 ran a handler */
	EXPECT_EQ(handled.count, 1);
	EXPECT_EQ(evtchn_stray_count(), before + 1);
	EXPECT_TRUE(is_masked(77));
	EXPECT_FALSE(is_masked(78));
	EXPECT_FALSE(is_pending(77));
	EXPECT_CONTAINS(log_text, "event on unbound port 77");

	/* Masked now: another event on it raises no upcall and is not counted. */
	xen_raise(77);
	EXPECT_EQ(vcpu->evtchn_upcall_pending, 0);
	EXPECT_EQ(evtchn_dispatch(), 0);
	EXPECT_EQ(evtchn_stray_count(), before + 1);
}

/* ---- mask, unmask, bind ---------------------------------------------------------- */

TEST(evtchn, unmask_of_pending_port_asks_xen_to_redeliver)
{
	setup();
	EXPECT_EQ(evtchn_bind(100, record, NULL), 0);
	evtchn_mask(100);
	xen_raise(100); /* arrives while masked: no upcall */
	EXPECT_EQ(vcpu->evtchn_upcall_pending, 0);
	hv.count = 0;

	evtchn_unmask(100);
	ASSERT_EQ(hv.count, 1);
	EXPECT_EQ(hv.calls[0].cmd, EVTCHNOP_unmask);
	EXPECT_EQ(hv.calls[0].port, 100);
	/* Xen unmasked it and raised the upcall, so the event now gets handled. */
	EXPECT_FALSE(is_masked(100));
	EXPECT_EQ(vcpu->evtchn_upcall_pending, 1);
	EXPECT_EQ(evtchn_dispatch(), 1);
	EXPECT_EQ(handled.count, 1);
}

TEST(evtchn, unmask_of_idle_port_needs_no_hypercall)
{
	setup();
	evtchn_mask(200);
	EXPECT_TRUE(is_masked(200));
	evtchn_unmask(200);
	EXPECT_FALSE(is_masked(200));
	EXPECT_EQ(hv.count, 0);
	/* Other bits of the word are left alone. */
	evtchn_mask(201);
	evtchn_mask(202);
	evtchn_unmask(201);
	EXPECT_TRUE(is_masked(202));
	EXPECT_EQ(shared.evtchn_mask[3], 1ull << (202 - 192));
}

TEST(evtchn, bind_rejects_port_0_and_ports_past_the_2l_limit)
{
	setup();
	memset(shared.evtchn_mask, 0xff, sizeof(shared.evtchn_mask));
	EXPECT_EQ(evtchn_bind(0, record, NULL), -EINVAL);
	EXPECT_EQ(evtchn_bind(4096, record, NULL), -EINVAL);
	EXPECT_EQ(evtchn_bind(UINT32_MAX, record, NULL), -EINVAL);
	EXPECT_EQ(evtchn_bind(7, NULL, NULL), -EINVAL);
	EXPECT_TRUE(is_masked(0));
	EXPECT_TRUE(is_masked(7));
	EXPECT_EQ(evtchn_bind(4095, record, NULL), 0);
	EXPECT_FALSE(is_masked(4095));
	EXPECT_EQ(shared.evtchn_mask[63], ~(1ull << 63));
}

TEST(evtchn, mask_and_unmask_ignore_ports_past_the_2l_limit)
{
	setup();
	/* ASan would flag a write past evtchn_mask[]; the bitmaps must stay as they were. */
	evtchn_mask(4096);
	evtchn_mask(UINT32_MAX);
	evtchn_unmask(4096);
	evtchn_unmask(UINT32_MAX);
	for (unsigned int w = 0; w < 64; w++)
		EXPECT_EQ(shared.evtchn_mask[w], 0);
	EXPECT_EQ(hv.count, 0);
}

TEST(evtchn, close_forgets_the_handler_and_masks)
{
	setup();
	EXPECT_EQ(evtchn_bind(20, record, NULL), 0);
	EXPECT_EQ(evtchn_close(20), 0);
	ASSERT_EQ(hv.count, 1);
	EXPECT_EQ(hv.calls[0].cmd, EVTCHNOP_close);
	EXPECT_EQ(hv.calls[0].port, 20);
	EXPECT_TRUE(is_masked(20));
	/* An event that slipped through anyway finds no handler: it is a stray. */
	evtchn_unmask(20);
	xen_raise(20);
	EXPECT_EQ(evtchn_dispatch(), 0);
	EXPECT_EQ(handled.count, 0);
	EXPECT_TRUE(is_masked(20));

	/* Out-of-range ports go to Xen only, which will refuse them. */
	hv.rc = -22;
	EXPECT_EQ(evtchn_close(5000), -EINVAL);
}

/* ---- the hypercall wrappers ---------------------------------------------------------- */

TEST(evtchn, alloc_unbound)
{
	setup();
	hv.alloc_port = 17;
	EXPECT_EQ(evtchn_alloc_unbound(3), 17);
	ASSERT_EQ(hv.count, 1);
	EXPECT_EQ(hv.calls[0].cmd, EVTCHNOP_alloc_unbound);
	EXPECT_EQ(hv.calls[0].dom, DOMID_SELF);
	EXPECT_EQ(hv.calls[0].remote_dom, 3);
	hv.rc = -28; /* Xen's ENOSPC */
	EXPECT_EQ(evtchn_alloc_unbound(3), -ENOSPC);
}

TEST(evtchn, bind_interdomain)
{
	setup();
	hv.local_port = 12;
	EXPECT_EQ(evtchn_bind_interdomain(4, 44), 12);
	ASSERT_EQ(hv.count, 1);
	EXPECT_EQ(hv.calls[0].cmd, EVTCHNOP_bind_interdomain);
	EXPECT_EQ(hv.calls[0].remote_dom, 4);
	EXPECT_EQ(hv.calls[0].port, 44);
	hv.rc = -22;
	EXPECT_EQ(evtchn_bind_interdomain(4, 44), -EINVAL);
}

TEST(evtchn, bind_loopback_opens_a_channel_to_ourselves)
{
	uint32_t rx = 0, tx = 0;
	int arg;

	setup();
	hv.alloc_port = 7;
	hv.local_port = 8;
	ASSERT_EQ(evtchn_bind_loopback(2, record, &arg, &rx, &tx), 0);
	EXPECT_EQ(rx, 7);
	EXPECT_EQ(tx, 8);
	ASSERT_EQ(hv.count, 2);
	EXPECT_EQ(hv.calls[0].cmd, EVTCHNOP_alloc_unbound);
	EXPECT_EQ(hv.calls[0].remote_dom, 2);
	EXPECT_EQ(hv.calls[1].cmd, EVTCHNOP_bind_interdomain);
	EXPECT_EQ(hv.calls[1].remote_dom, 2);
	EXPECT_EQ(hv.calls[1].port, 7);
	/* Xen's pending bit on the freshly bound tx runs nothing and is no stray event. */
	xen_raise(8);
	xen_raise(7);
	EXPECT_EQ(evtchn_dispatch(), 2);
	ASSERT_EQ(handled.count, 1);
	EXPECT_EQ(handled.ports[0], 7);
	EXPECT_TRUE(handled.args[0] == &arg);
	EXPECT_STREQ(log_text, "");
}

TEST(evtchn, bind_loopback_leaves_nothing_open_when_it_fails)
{
	uint32_t rx = 0, tx = 0;

	setup();
	hv.fail_cmd = EVTCHNOP_alloc_unbound;
	hv.fail_rc = -28;
	EXPECT_EQ(evtchn_bind_loopback(2, record, NULL, &rx, &tx), -ENOSPC);
	EXPECT_EQ(hv.count, 1);

	setup();
	hv.alloc_port = 7;
	hv.fail_cmd = EVTCHNOP_bind_interdomain;
	hv.fail_rc = -1; /* Xen's EPERM */
	EXPECT_EQ(evtchn_bind_loopback(2, record, NULL, &rx, &tx), -EPERM);
	ASSERT_EQ(hv.count, 3);
	EXPECT_EQ(hv.calls[2].cmd, EVTCHNOP_close);
	EXPECT_EQ(hv.calls[2].port, 7);

	/* A port past the 2-level limit cannot be bound: both are closed. */
	setup();
	hv.alloc_port = 7;
	hv.local_port = PORTS;
	EXPECT_EQ(evtchn_bind_loopback(2, record, NULL, &rx, &tx), -EINVAL);
	ASSERT_EQ(hv.count, 4);
	EXPECT_EQ(hv.calls[2].cmd, EVTCHNOP_close);
	EXPECT_EQ(hv.calls[2].port, PORTS);
	EXPECT_EQ(hv.calls[3].cmd, EVTCHNOP_close);
	EXPECT_EQ(hv.calls[3].port, 7);
	EXPECT_EQ(rx, 0);
	EXPECT_EQ(tx, 0);
	xen_raise(7);
	EXPECT_EQ(evtchn_dispatch(), 0); /* rx closed: masked, no handler */
	EXPECT_EQ(handled.count, 0);
}

TEST(evtchn, send)
{
	setup();
	EXPECT_EQ(evtchn_send(9), 0);
	ASSERT_EQ(hv.count, 1);
	EXPECT_EQ(hv.calls[0].cmd, EVTCHNOP_send);
	EXPECT_EQ(hv.calls[0].port, 9);
	hv.rc = -22;
	EXPECT_EQ(evtchn_send(9), -EINVAL);
}
