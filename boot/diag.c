/*
 * Diagnostics. dom0 can check on vdisk without a virtio guest: it reads data/vdisk/status,
 * writes data/vdisk/ping and gets the value back in data/vdisk/pong, and can bind to the
 * port in data/vdisk/evtchn-port: every event it sends there is sent straight back.
 * For benchmarks, dom0 writes an id to data/vdisk/stats-request and gets the counters
 * (boot/stats.h) in data/vdisk/stats as "id=ID hypercalls=N ioreqs=N requests=N hc_...=N".
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/hypercall.h"
#include "arch/timer.h"
#include "blk/vblk.h"
#include "boot/config.h"
#include "boot/diag.h"
#include "boot/latency.h"
#include "boot/loop.h"
#include "boot/stats.h"
#include "hyp/evtchn.h"
#include "hyp/frames.h"
#include "hyp/gmem.h"
#include "hyp/ioreq.h"
#include "hyp/xs.h"
#include "lib/log.h"

#define ECHO_REMOTE_DOM 0 /* dom0 */
#define SAMPLE_TIMEOUT_NS 1000000000ull

static struct {
	uint32_t port;
	uint64_t count;
} echo;

static struct {
	bool arrived;
	uint64_t at;
} loopback;

static uint64_t samples_buf[CONFIG_EVTCHN_BENCH_MAX];

static const struct diag_latency *published_latency;

static void loopback_event(uint32_t port, void *arg)
{
	loopback.at = arch_timer_counter();
	loopback.arrived = true;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int diag_evtchn_latency(uint16_t self, unsigned int samples, struct diag_latency *out)
{
	uint32_t rx, tx;
	int rc;
	unsigned int n;

	if (samples == 0 || samples > CONFIG_EVTCHN_BENCH_MAX)
		return -EINVAL;
	rc = evtchn_bind_loopback(self, loopback_event, NULL, &rx, &tx);
	if (rc)
		return rc;
	for (n = 0; n < samples && rc == 0; n++) {
		uint64_t deadline = arch_timer_now_ns() + SAMPLE_TIMEOUT_NS;
		uint64_t sent;

		loopback.arrived = false;
		sent = arch_timer_counter();
		rc = evtchn_send(tx);
		while (rc == 0 && !loopback.arrived)
			rc = loop_wait(deadline);
		samples_buf[n] = loopback.at - sent;
	}
	evtchn_close(tx);
	evtchn_close(rx);
	if (rc) {
		log_error("evtchn: loopback event %u of %u lost (%d)", n, samples, rc);
		return rc;
	}

	qsort(samples_buf, samples, sizeof(samples_buf[0]), compare_u64);
	out->sample_count = samples;
	out->min_ns = arch_timer_ticks_to_ns(samples_buf[0]);
	out->median_ns = arch_timer_ticks_to_ns(samples_buf[samples / 2]);
	out->p99_ns = arch_timer_ticks_to_ns(samples_buf[(samples * 99) / 100]);
	out->max_ns = arch_timer_ticks_to_ns(samples_buf[samples - 1]);
	return 0;
}

static void echo_event(uint32_t port, void *arg)
{
	if (echo.count++ == 0)
		log_info("diag: first event from dom0 on port %u, echoing events back", port);
	evtchn_send(port);
}

static void ping_changed(const char *path, void *arg)
{
	char value[128];
	char count[24];
	int rc = xs_read(XS_TXN_NONE, "data/vdisk/ping", value, sizeof(value));

	if (rc == -ENOENT || rc == 0)
		return; /* the watch's first firing, or the key removed */
	if (rc < 0) {
		log_warn("diag: reading data/vdisk/ping failed (%d)", rc);
		return;
	}
	log_info("diag: ping '%s'", value);
	snprintf(count, sizeof(count), "%llu", (unsigned long long)echo.count);
	if ((rc = xs_write(XS_TXN_NONE, "data/vdisk/evtchn-echoed", count)) ||
	    (rc = xs_write(XS_TXN_NONE, "data/vdisk/pong", value)))
		log_warn("diag: writing the pong failed (%d)", rc);
}

_Static_assert(STATS_HYPERCALL_NR_MAX == HYPERCALL_NR_MAX, "one hypercall counter per number");

static void stats_requested(const char *path, void *arg)
{
	char id[64];
	char buf[512];
	struct stats s;
	int len, rc = xs_read(XS_TXN_NONE, "data/vdisk/stats-request", id, sizeof(id));

	if (rc == -ENOENT || rc == 0)
		return; /* the watch's first firing, or the key removed */
	if (rc < 0) {
		log_warn("diag: reading data/vdisk/stats-request failed (%d)", rc);
		return;
	}
	/* The snapshot comes before the xenstore traffic that answers it. */
	memcpy(s.hypercall_counts, hypercall_counts, sizeof(s.hypercall_counts));
	s.ioreq_count = ioreq_answered_count();
	s.request_count = vblk_completed_count();
	s.yield_count = loop_yield_count();
	s.ioreq_ns = ioreq_busy_ns();
	s.idle_ns = loop_idle_ns();
	s.now_ns = arch_timer_now_ns();
	s.mapped = gmem_mapped_count();
	s.frames_free = frames_free_count();
	s.out_of_order = vblk_out_of_order_count();
	/* The histograms first: dom0 reads them once the stats say this id. */
	latency_publish();
	len = snprintf(buf, sizeof(buf), "id=%s ", id); /* at most 67 of the 512 bytes */
	if ((rc = stats_format(&s, buf + len, sizeof(buf) - (size_t)len)) < 0)
		log_warn("diag: data/vdisk/stats cut short (%d)", rc);
	if ((rc = xs_write(XS_TXN_NONE, "data/vdisk/stats", buf)))
		log_warn("diag: writing data/vdisk/stats failed (%d)", rc);
}

static int publish(xs_txn_t tx, void *arg)
{
	char buf[96];
	int rc;

	snprintf(buf, sizeof(buf), "%u", echo.port);
	if ((rc = xs_write(tx, "data/vdisk/version", VDISK_VERSION)) ||
	    (rc = xs_write(tx, "data/vdisk/evtchn-port", buf)))
		return rc;
	if (published_latency) {
		snprintf(buf, sizeof(buf), "min=%llu median=%llu p99=%llu max=%llu samples=%u",
			 (unsigned long long)published_latency->min_ns,
			 (unsigned long long)published_latency->median_ns,
			 (unsigned long long)published_latency->p99_ns,
			 (unsigned long long)published_latency->max_ns,
			 published_latency->sample_count);
		if ((rc = xs_write(tx, "data/vdisk/evtchn-latency-ns", buf)))
			return rc;
	}
	return xs_write(tx, "data/vdisk/status", "ready");
}

int diag_start(const struct diag_latency *latency)
{
	int port = evtchn_alloc_unbound(ECHO_REMOTE_DOM);
	int rc;

	if (port < 0) {
		log_error("diag: cannot allocate the echo port for dom0 (%d)", port);
		return port;
	}
	echo.port = (uint32_t)port;
	evtchn_bind(echo.port, echo_event, NULL);
	published_latency = latency;
	rc = xs_transaction(publish, NULL);
	if (rc) {
		log_error("diag: publishing data/vdisk/ failed (%d)", rc);
		return rc;
	}
	rc = xs_watch("data/vdisk/ping", ping_changed, NULL);
	if (rc < 0) {
		log_error("diag: watching data/vdisk/ping failed (%d)", rc);
		return rc;
	}
	rc = xs_watch("data/vdisk/stats-request", stats_requested, NULL);
	if (rc < 0) {
		log_error("diag: watching data/vdisk/stats-request failed (%d)", rc);
		return rc;
	}
	log_info("diag: data/vdisk/ published, echo port %u for dom0", echo.port);
	return 0;
}
