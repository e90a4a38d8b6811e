/*
 * Diagnostics a dom0 operator can use: status keys under the domain's data/vdisk/,
 * a ping watch, an event-channel echo port for dom0, and the upcall latency measurement.
 */
#ifndef BOOT_DIAG_H
#define BOOT_DIAG_H

#include <stdint.h>

/** Upcall latency summary in nanoseconds. */
struct diag_latency {
	unsigned int sample_count;
	uint64_t min_ns;
	uint64_t median_ns;
	uint64_t p99_ns;
	uint64_t max_ns;
};

/**
 * Measures send-to-handler latency of `samples` events on a loopback interdomain
 * channel from domain `self` to itself. Returns 0 or -errno.
 */
int diag_evtchn_latency(uint16_t self, unsigned int samples, struct diag_latency *out);
/**
 * Publishes data/vdisk/{version,evtchn-port,status} (and the latency figures, if any) in
 * one transaction, and watches data/vdisk/ping. Returns 0 or -errno.
 */
int diag_start(const struct diag_latency *latency);

#endif
