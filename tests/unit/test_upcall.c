/*
 * hyp/upcall.c over hyp/evtchn.c and a struct shared_info in memory. The event-channel
 * hypercall is the link seam: it plays Xen's loopback channel (alloc_unbound gives RX,
 * bind_interdomain gives TX and marks it pending, a send on TX takes SEND_NS of the fake clock
 * and marks RX pending, unmask re-raises a pending port) and counts sends and closes.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/event_channel.h>

#include "arch/fake.h"
#include "arch/hypercall.h"
#include "hyp/evtchn.h"
#include "hyp/upcall.h"
#include "lib/log.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/test.h"

#define BITS    64u
#define RX      5u
#define TX      70u
#define SELF    3u
#define MS      1000000ull
#define SEND_NS 3200ull /* 200 ticks of the fake's 62.5 MHz counter */

static struct shared_info shared;
static struct vcpu_info *vcpu = &shared.vcpu_info[0];

static struct {
	unsigned int sends;     /* EVTCHNOP_send on TX */
	unsigned int closes;    /* EVTCHNOP_close, of RX or TX */
	uint16_t remote_dom;    /* of the last alloc_unbound */
	bool lose;              /* a send reaches no one */
	long send_rc, alloc_rc; /* what those calls return */
} xen;

/* Xen's evtchn_2l_set_pending: pending bit, then selector and upcall if unmasked. */
static void xen_raise(uint32_t port)
{
	unsigned int w = port / BITS;
	xen_ulong_t bit = (xen_ulong_t)1 << (port % BITS);

	if (shared.evtchn_pending[w] & bit)
		return;
	shared.evtchn_pending[w] |= bit;
	if (!(shared.evtchn_mask[w] & bit)) {
		vcpu->evtchn_pending_sel |= (xen_ulong_t)1 << w;
		vcpu->evtchn_upcall_pending = 1;
	}
}

/* Xen's evtchn_2l_unmask: clears the mask and raises the upcall for a pending port. */
static void xen_unmask(uint32_t port)
{
	unsigned int w = port / BITS;
	xen_ulong_t bit = (xen_ulong_t)1 << (port % BITS);

	shared.evtchn_mask[w] &= ~bit;
	if (shared.evtchn_pending[w] & bit) {
		vcpu->evtchn_pending_sel |= (xen_ulong_t)1 << w;
		vcpu->evtchn_upcall_pending = 1;
	}
}

long hypercall_event_channel_op(int cmd, void *arg)
{
	switch (cmd) {
	case EVTCHNOP_alloc_unbound:
		if (xen.alloc_rc)
			return xen.alloc_rc;
		xen.remote_dom = ((struct evtchn_alloc_unbound *)arg)->remote_dom;
		((struct evtchn_alloc_unbound *)arg)->port = RX;
		return 0;
	case EVTCHNOP_bind_interdomain:
		((struct evtchn_bind_interdomain *)arg)->local_port = TX;
		xen_raise(TX);
		return 0;
	case EVTCHNOP_send:
		if (((struct evtchn_send *)arg)->port != TX)
			return -22;
		if (xen.send_rc)
			return xen.send_rc;
		xen.sends++;
		fake_time_ns += SEND_NS;
		if (!xen.lose)
			xen_raise(RX);
		return 0;
	case EVTCHNOP_close:
		xen.closes++;
		return 0;
	case EVTCHNOP_unmask:
		xen_unmask(((struct evtchn_unmask *)arg)->port);
		return 0;
	}
	return 0;
}

/* Not sampling, a fresh shared_info, nothing recorded, the clock at `now`. */
static void setup(uint64_t now)
{
	fake_reset();
	evtchn_init(&shared, vcpu);
	upcall_start(SELF, 0); /* closes what the last test opened */
	memset(&shared, 0, sizeof(shared));
	memset(&xen, 0, sizeof(xen));
	log_capture_reset();
	fake_time_ns = now;
}

/* Starts sampling every period_ns at `now`, and dispatches Xen's pending bit on TX. */
static void start(uint64_t now, uint64_t period_ns)
{
	setup(now);
	ASSERT_EQ(upcall_start(SELF, period_ns), 0);
	EXPECT_EQ(xen.remote_dom, SELF);
	EXPECT_EQ(evtchn_dispatch(), 1);
	EXPECT_EQ(upcall_hist()->count, 0);
}

TEST(upcall, off_binds_nothing_and_never_sends)
{
	setup(5 * MS);
	EXPECT_EQ(upcall_start(SELF, 0), 0);
	EXPECT_EQ(upcall_due_ns(), 0);
	EXPECT_FALSE(upcall_idle(10000 * MS));
	EXPECT_EQ(xen.sends, 0);
	EXPECT_EQ(upcall_hist()->count, 0);
}

TEST(upcall, a_sample_goes_when_due_and_counts_send_to_handler)
{
	start(16 * MS, 1000 * MS);
	EXPECT_EQ(upcall_due_ns(), 1016 * MS);
	EXPECT_FALSE(upcall_due());
	EXPECT_FALSE(upcall_idle(1016 * MS - 1));
	EXPECT_EQ(xen.sends, 0);
	fake_time_ns = 1016 * MS - 1000; /* a microsecond short */
	EXPECT_FALSE(upcall_due());

	fake_time_ns = 1016 * MS;
	EXPECT_TRUE(upcall_due());
	EXPECT_TRUE(upcall_idle(fake_time_ns));
	EXPECT_FALSE(upcall_due()); /* in flight: due again only when it would be lost */
	EXPECT_EQ(xen.sends, 1);
	EXPECT_TRUE(evtchn_upcall_pending()); /* the loop's wait dispatches without sleeping */
	EXPECT_EQ(upcall_due_ns(), 1016 * MS + UPCALL_LOST_NS);
	EXPECT_EQ(evtchn_dispatch(), 1);
	EXPECT_EQ(upcall_hist()->count, 1);
	EXPECT_EQ(upcall_hist()->max_ns, SEND_NS);
	/* The next one a period after this send. */
	EXPECT_EQ(upcall_due_ns(), 2016 * MS);
	EXPECT_FALSE(upcall_idle(2016 * MS - 1));
	fake_time_ns = 2016 * MS;
	EXPECT_TRUE(upcall_idle(fake_time_ns));
	fake_time_ns += 5000 * MS; /* the handler runs late: the sample says so */
	EXPECT_EQ(evtchn_dispatch(), 1);
	EXPECT_EQ(upcall_hist()->count, 2);
	EXPECT_EQ(upcall_hist()->max_ns, SEND_NS + 5000 * MS);
	EXPECT_STREQ(log_text, "");
}

TEST(upcall, a_late_idle_moment_sends_once_and_the_period_starts_again_there)
{
	start(0, 10 * MS);
	/* Busy for 35 ms: one sample at the first idle moment, not one per period missed. */
	fake_time_ns = 45 * MS;
	EXPECT_TRUE(upcall_idle(fake_time_ns));
	EXPECT_EQ(evtchn_dispatch(), 1);
	EXPECT_FALSE(upcall_idle(fake_time_ns));
	EXPECT_EQ(xen.sends, 1);
	EXPECT_EQ(upcall_due_ns(), 55 * MS);
}

TEST(upcall, never_two_samples_in_flight)
{
	start(0, 1 * MS);
	fake_time_ns = 1 * MS;
	EXPECT_TRUE(upcall_idle(fake_time_ns));
	/* Not dispatched yet: past the period, still no second send. */
	EXPECT_FALSE(upcall_idle(3 * MS));
	EXPECT_FALSE(upcall_idle(1 * MS + UPCALL_LOST_NS - 1));
	EXPECT_EQ(xen.sends, 1);
	EXPECT_EQ(evtchn_dispatch(), 1);
	EXPECT_EQ(upcall_hist()->count, 1);
	/* An event on RX with no sample in flight is not one. */
	xen_raise(RX);
	EXPECT_EQ(evtchn_dispatch(), 1);
	EXPECT_EQ(upcall_hist()->count, 1);
}

TEST(upcall, a_lost_sample_is_counted_once_logged_and_the_next_goes)
{
	start(0, 1 * MS);
	xen.lose = true;
	fake_time_ns = 1 * MS;
	EXPECT_TRUE(upcall_idle(fake_time_ns));
	EXPECT_EQ(upcall_due_ns(), 1 * MS + UPCALL_LOST_NS);
	EXPECT_FALSE(upcall_idle(1 * MS + UPCALL_LOST_NS - 1));
	EXPECT_STREQ(log_text, "");
	/* A second without it: lost, and the next sample goes at once (it is due). */
	EXPECT_TRUE(upcall_idle(1 * MS + UPCALL_LOST_NS));
	EXPECT_EQ(xen.sends, 2);
	EXPECT_CONTAINS(log_text, "WARNING: upcall: sample on port 70 did not arrive in 1000 ms: "
	                          "lost (said once)\n");
	log_capture_reset();
	EXPECT_TRUE(upcall_idle(1 * MS + 2 * UPCALL_LOST_NS));
	EXPECT_STREQ(log_text, ""); /* the line is not repeated */
	EXPECT_EQ(upcall_hist()->count, 0);
	/* Events come back: sampling goes on. */
	xen.lose = false;
	EXPECT_TRUE(upcall_idle(1 * MS + 3 * UPCALL_LOST_NS));
	EXPECT_EQ(evtchn_dispatch(), 1);
	EXPECT_EQ(upcall_hist()->count, 1);
}

TEST(upcall, a_failed_send_stops_sampling)
{
	start(0, 1 * MS);
	xen.send_rc = -22;
	EXPECT_FALSE(upcall_idle(1 * MS));
	EXPECT_CONTAINS(log_text, "ERROR: upcall: sending a sample on port 70 failed (-22); "
	                          "sampling stopped");
	EXPECT_EQ(upcall_due_ns(), 0);
	xen.send_rc = 0;
	EXPECT_FALSE(upcall_idle(10 * MS));
	EXPECT_EQ(xen.sends, 0);
}

TEST(upcall, no_channel_no_sampling)
{
	setup(0);
	xen.alloc_rc = -28; /* Xen's ENOSPC */
	EXPECT_EQ(upcall_start(SELF, 1 * MS), -ENOSPC);
	EXPECT_EQ(upcall_due_ns(), 0);
	EXPECT_FALSE(upcall_idle(5 * MS));
	EXPECT_EQ(xen.sends, 0);
}

TEST(upcall, starting_again_closes_the_channel_and_empties_the_histogram)
{
	start(0, 1 * MS);
	EXPECT_TRUE(upcall_idle(1 * MS));
	EXPECT_EQ(evtchn_dispatch(), 1);
	EXPECT_EQ(upcall_hist()->count, 1);
	EXPECT_EQ(upcall_start(SELF, 0), 0);
	EXPECT_EQ(xen.closes, 2);
	EXPECT_EQ(upcall_hist()->count, 0);
	EXPECT_EQ(upcall_start(SELF, 0), 0);
	EXPECT_EQ(xen.closes, 2); /* nothing open: nothing closed */
}
