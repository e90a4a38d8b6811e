/*
 * Where vdisk's latency histograms go out: to xenstore when dom0 asks for the counters
 * (data/vdisk/latency/), and to the console every latency_period seconds, which needs no
 * xenstore (vdisk as Xen's dom0 has none).
 */
#ifndef BOOT_LATENCY_H
#define BOOT_LATENCY_H

/**
 * Writes the histograms (lib/hist.h's text) to data/vdisk/latency/: `upcall` (the
 * event-channel upcall, hyp/upcall.h) and, for each device, domFE-DEVID/service and
 * domFE-DEVID/ioreq (boot/backend.h), replacing what the last call wrote: devices gone since
 * are gone there too.
 */
void latency_publish(void);
/**
 * Logs the same histograms at LOG_INFO, one log_long each: "latency: upcall TEXT", then
 * "latency: domFE-DEVID service TEXT" and "latency: domFE-DEVID ioreq TEXT" for each device
 * served, whatever its counts.
 */
void latency_log(void);
/** Has the main loop run latency_log every period_s seconds, from period_s from now; 0: never. */
void latency_log_every(unsigned int period_s);

#endif
