/* Unit tests for boot/stats.c: the counters' text in data/vdisk/stats. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>

#include "boot/stats.h"
#include "tests/unit/test.h"

TEST(stats, totals_then_each_hypercall_called)
{
	struct stats s;
	char buf[256];

	memset(&s, 0, sizeof(s));
	s.hypercall_counts[__HYPERVISOR_event_channel_op] = 7;
	s.hypercall_counts[__HYPERVISOR_dm_op] = 2;
	s.hypercall_counts[__HYPERVISOR_sched_op] = 1;
	s.ioreq_count = 30;
	s.request_count = 10;
	EXPECT_EQ(stats_format(&s, buf, sizeof(buf)), (int)strlen(buf));
	s.yield_count = 3;
	s.ioreq_ns = 4000;
	s.idle_ns = 5000;
	s.now_ns = 9000;
	s.mapped = 12;
	s.frames_free = 3840;
	s.out_of_order = 4;
	EXPECT_EQ(stats_format(&s, buf, sizeof(buf)), (int)strlen(buf));
	EXPECT_STREQ(buf, "hypercalls=10 ioreqs=30 requests=10 yields=3 ioreq_ns=4000 idle_ns=5000 "
	                  "now_ns=9000 mapped=12 frames_free=3840 out_of_order=4 hc_sched_op=1 "
	                  "hc_event_channel_op=7 hc_dm_op=2");
}

TEST(stats, nothing_yet)
{
	struct stats s;
	char buf[128];

	memset(&s, 0, sizeof(s));
	EXPECT_EQ(stats_format(&s, buf, sizeof(buf)), 109);
	EXPECT_STREQ(buf, "hypercalls=0 ioreqs=0 requests=0 yields=0 ioreq_ns=0 idle_ns=0 now_ns=0 "
	                  "mapped=0 frames_free=0 out_of_order=0");
}

TEST(stats, unnamed_numbers_and_large_counts)
{
	struct stats s;
	char buf[192];

	memset(&s, 0, sizeof(s));
	s.hypercall_counts[63] = 18446744073709551615ull;
	s.request_count = 18446744073709551615ull;
	EXPECT_TRUE(stats_format(&s, buf, sizeof(buf)) > 0);
	EXPECT_STREQ(buf, "hypercalls=18446744073709551615 ioreqs=0 requests=18446744073709551615 "
	                  "yields=0 ioreq_ns=0 idle_ns=0 now_ns=0 mapped=0 frames_free=0 "
	                  "out_of_order=0 hc_63=18446744073709551615");
}

TEST(stats, too_small_says_so)
{
	struct stats s;
	char buf[20];

	memset(&s, 0, sizeof(s));
	s.hypercall_counts[__HYPERVISOR_memory_op] = 1;
	EXPECT_EQ(stats_format(&s, buf, sizeof(buf)), -ENOSPC);
	EXPECT_STREQ(buf, "hypercalls=1");
	EXPECT_EQ(stats_format(&s, buf, 0), -ENOSPC);
}
