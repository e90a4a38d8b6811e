/*
 * boot/latency.c: the xenstore keys and the console lines of the latency histograms, and the
 * period of those lines. Its neighbours are link seams here: backend_latency lists the
 * devices a test sets, upcall_hist gives the test's histogram, xs_rm and xs_write record the
 * keys, loop_defer_until records the work the main loop would run.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arch/fake.h"
#include "boot/backend.h"
#include "boot/latency.h"
#include "boot/loop.h"
#include "hyp/upcall.h"
#include "hyp/xs.h"
#include "lib/hist.h"
#include "lib/log.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/test.h"

#define S 1000000000ull

static struct hist upcall, service[BACKEND_DEV_MAX], ioreq[BACKEND_DEV_MAX];
static unsigned int dev_count;

static struct {
	char text[8192]; /* "rm PATH\n" and "PATH=VALUE\n", in order */
	size_t len;
} xs;

static struct {
	loop_work_fn fn;
	uint64_t due_ns;
	unsigned int count;
} deferred;

/* ---- link seams ------------------------------------------------------------------- */

unsigned int backend_latency(struct backend_latency *out)
{
	for (unsigned int i = 0; i < dev_count; i++) {
		snprintf(out[i].name, sizeof(out[i].name), "dom%u-%u", i + 2, 51712 + 16 * i);
		out[i].service = &service[i];
		out[i].ioreq = &ioreq[i];
	}
	return dev_count;
}

const struct hist *upcall_hist(void)
{
	return &upcall;
}

int xs_rm(xs_txn_t tx, const char *path)
{
	xs.len += (size_t)snprintf(xs.text + xs.len, sizeof(xs.text) - xs.len, "rm %s\n", path);
	return 0;
}

int xs_write(xs_txn_t tx, const char *path, const char *value)
{
	xs.len +=
	    (size_t)snprintf(xs.text + xs.len, sizeof(xs.text) - xs.len, "%s=%s\n", path, value);
	return 0;
}

int loop_defer_until(loop_work_fn fn, void *arg, uint64_t due_ns)
{
	deferred.fn = fn;
	deferred.due_ns = due_ns;
	deferred.count++;
	return 0;
}

/* ---- fixtures --------------------------------------------------------------------- */

/* Two devices, an upcall histogram with two samples, nothing recorded, time `now`. */
static void setup(uint64_t now)
{
	fake_reset();
	fake_time_ns = now;
	memset(&upcall, 0, sizeof(upcall));
	memset(service, 0, sizeof(service));
	memset(ioreq, 0, sizeof(ioreq));
	memset(&xs, 0, sizeof(xs));
	memset(&deferred, 0, sizeof(deferred));
	hist_add(&upcall, 3000);
	hist_add(&upcall, 5000);
	hist_add(&service[0], 20000);
	hist_add(&ioreq[1], 7000);
	dev_count = 2;
	log_capture_reset();
}

/* Runs what the loop would, at its due time. */
static void run_deferred(void)
{
	loop_work_fn fn = deferred.fn;

	fake_time_ns = deferred.due_ns;
	deferred.fn = NULL;
	fn(NULL);
}

TEST(latency, xenstore_gets_the_upcall_then_each_device_after_a_clean_slate)
{
	setup(0);
	latency_publish();
	EXPECT_STREQ(xs.text,
	             "rm data/vdisk/latency\n"
	             "data/vdisk/latency/upcall=count=2 mean_ns=4000 p50_ns=3071 p90_ns=5000 "
	             "p99_ns=5000 p999_ns=5000 max_ns=5000 buckets=3071:1,5119:1\n"
	             "data/vdisk/latency/dom2-51712/service=count=1 mean_ns=20000 p50_ns=20000 "
	             "p90_ns=20000 p99_ns=20000 p999_ns=20000 max_ns=20000 buckets=20479:1\n"
	             "data/vdisk/latency/dom2-51712/ioreq=count=0 mean_ns=0 p50_ns=0 p90_ns=0 "
	             "p99_ns=0 p999_ns=0 max_ns=0 buckets=\n"
	             "data/vdisk/latency/dom3-51728/service=count=0 mean_ns=0 p50_ns=0 p90_ns=0 "
	             "p99_ns=0 p999_ns=0 max_ns=0 buckets=\n"
	             "data/vdisk/latency/dom3-51728/ioreq=count=1 mean_ns=7000 p50_ns=7000 "
	             "p90_ns=7000 p99_ns=7000 p999_ns=7000 max_ns=7000 buckets=7167:1\n");
	EXPECT_STREQ(log_text, "");
}

TEST(latency, the_console_gets_a_line_per_histogram_keyed_as_a_script_cuts_it)
{
	setup(2 * S);
	latency_log();
	EXPECT_STREQ(log_text,
	             "[    2.000000] latency: upcall count=2 mean_ns=4000 p50_ns=3071 p90_ns=5000 "
	             "p99_ns=5000 p999_ns=5000 max_ns=5000 buckets=3071:1,5119:1\n"
	             "[    2.000000] latency: dom2-51712 service count=1 mean_ns=20000 "
	             "p50_ns=20000 p90_ns=20000 p99_ns=20000 p999_ns=20000 max_ns=20000 "
	             "buckets=20479:1\n"
	             "[    2.000000] latency: dom2-51712 ioreq count=0 mean_ns=0 p50_ns=0 p90_ns=0 "
	             "p99_ns=0 p999_ns=0 max_ns=0 buckets=\n"
	             "[    2.000000] latency: dom3-51728 service count=0 mean_ns=0 p50_ns=0 "
	             "p90_ns=0 p99_ns=0 p999_ns=0 max_ns=0 buckets=\n"
	             "[    2.000000] latency: dom3-51728 ioreq count=1 mean_ns=7000 p50_ns=7000 "
	             "p90_ns=7000 p99_ns=7000 p999_ns=7000 max_ns=7000 buckets=7167:1\n");

	/* No device (vdisk as dom0 before any disk): the upcall's line alone. */
	setup(0);
	dev_count = 0;
	latency_log();
	EXPECT_CONTAINS(log_text, "] latency: upcall count=2 ");
	EXPECT_NOT_CONTAINS(log_text, "service");
}

TEST(latency, a_long_text_continues_on_lines_of_the_same_key)
{
	setup(0);
	for (uint64_t v = 1000; v < 1000000000; v = v * 21 / 20)
		hist_add(&service[1], v);
	latency_log();
	EXPECT_CONTAINS(log_text, "] latency: dom3-51728 service count=");
	EXPECT_CONTAINS(log_text, "] latency: dom3-51728 service +,");
	/* ...and the ioreq line after the service's last one, not in between. */
	ASSERT_TRUE(strstr(log_text, "dom3-51728 ioreq"));
	EXPECT_NOT_CONTAINS(strstr(log_text, "dom3-51728 ioreq"), "service");
}

TEST(latency, the_lines_come_every_period_and_a_late_pass_does_not_bring_a_burst)
{
	setup(5 * S);
	latency_log_every(0);
	EXPECT_EQ(deferred.count, 0);

	latency_log_every(10);
	EXPECT_CONTAINS(log_text, "diag: latency histograms on this console every 10 s\n");
	ASSERT_EQ(deferred.count, 1);
	EXPECT_EQ(deferred.due_ns, 15 * S);
	EXPECT_NOT_CONTAINS(log_text, "latency: upcall");

	run_deferred();
	EXPECT_CONTAINS(log_text, "[   15.000000] latency: upcall count=2 ");
	EXPECT_EQ(deferred.due_ns, 25 * S);
	/* The loop ran it 3 s late: the next is still due at 35 s. */
	deferred.due_ns = 28 * S;
	log_capture_reset();
	run_deferred();
	EXPECT_CONTAINS(log_text, "[   28.000000] latency: upcall count=2 ");
	EXPECT_EQ(deferred.due_ns, 35 * S);
	/* 25 s late: the next one a period from now, not four at once. */
	deferred.due_ns = 60 * S;
	run_deferred();
	EXPECT_EQ(deferred.due_ns, 70 * S);
	EXPECT_EQ(deferred.count, 4);
}
