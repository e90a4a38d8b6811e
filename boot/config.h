/* vdisk's settings from the kernel command line (/chosen/bootargs, set by xl's extra=). */
#ifndef BOOT_CONFIG_H
#define BOOT_CONFIG_H

#include "blk/vblk.h"
#include "lib/log.h"

/** Upper bound of evtchn_bench, so that a typo cannot stall start-up for minutes. */
#define CONFIG_EVTCHN_BENCH_MAX 10000u

/** Faults vdisk can be asked to raise once started, to check the crash path on a board. */
enum config_fault {
	CONFIG_FAULT_NONE,
	CONFIG_FAULT_DATA_ABORT, /* load from an unmapped address */
	CONFIG_FAULT_UNDEFINED,  /* execute a permanently undefined instruction */
};

/** Every setting, with its default filled in by config_parse. */
struct config {
	enum log_level loglevel;   /* loglevel=error|warn|info|debug (or 0-3) */
	unsigned int evtchn_bench; /* evtchn_bench=N: upcall latency samples at start, 0 = off */
	enum config_fault debug_fault; /* debug_fault=none|data-abort|undefined */
	enum vblk_policy serve;        /* serve=adaptive|inline|defer: when notified queues are served */
	uint64_t sd_selftest; /* sd_selftest=SECTOR: bare metal, write and read back card 0's
	                         SECTOR; CONFIG_SD_SELFTEST_OFF = off */
};

/** config.sd_selftest when no self-test is asked for. */
#define CONFIG_SD_SELFTEST_OFF UINT64_MAX

/**
 * Parses space-separated key=value words into cfg (defaults first). Each bad word is
 * logged with its key and value and skipped; returns the number of bad words.
 */
int config_parse(const char *bootargs, struct config *cfg);

#endif
