/* vdisk's settings from the kernel command line (/chosen/bootargs, set by xl's extra=). */
#ifndef BOOT_CONFIG_H
#define BOOT_CONFIG_H

#include "blk/vblk.h"
#include "lib/log.h"

/** Upper bound of evtchn_bench, so that a typo cannot stall start-up for minutes. */
#define CONFIG_EVTCHN_BENCH_MAX 10000u
/** Upper bound of upcall_sample_ms: an hour. */
#define CONFIG_UPCALL_SAMPLE_MS_MAX 3600000u
/** Upper bound of latency_period: a day. */
#define CONFIG_LATENCY_PERIOD_MAX 86400u

/** Most vdisk.disk= settings, and the longest (a bootarg word less "vdisk.disk="). */
#define CONFIG_DISK_MAX 8
#define CONFIG_DISK_LEN 116

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
	unsigned int upcall_sample_ms; /* upcall_sample_ms=N: an upcall latency sample every N ms
	                                  while serving, 0 = off */
	unsigned int latency_period;   /* latency_period=S: the latency histograms on the console
	                                  every S seconds, 0 = off */
	enum config_fault debug_fault; /* debug_fault=none|data-abort|undefined */
	enum vblk_policy serve;        /* serve=adaptive|inline|defer: when notified queues are served */
	uint64_t sd_selftest; /* sd_selftest=SECTOR: bare metal, write and read back card 0's
	                         SECTOR; CONFIG_SD_SELFTEST_OFF = off */
	/* vdisk.disk=domain=ID,base=ADDR,irq=SPI[,access=ro|rw],target=T, once per disk: the
	   disks of a domain with no xenstore (vdisk as dom0 of a dom0less system), checked
	   when they are added (backend_parse_disk) */
	unsigned int disk_count;
	char disks[CONFIG_DISK_MAX][CONFIG_DISK_LEN];
};

/** config.sd_selftest when no self-test is asked for. */
#define CONFIG_SD_SELFTEST_OFF UINT64_MAX

/**
 * Parses space-separated key=value words into cfg (defaults first). Each bad word is
 * logged with its key and value and skipped; returns the number of bad words.
 */
int config_parse(const char *bootargs, struct config *cfg);

#endif
