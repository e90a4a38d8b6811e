/*
 * boot/config.c: any bytes as /chosen/bootargs. Invariants: every setting ends in its range,
 * and the count of bad words is at most the count of words.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/config.h"
#include "lib/log.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *args = malloc(size + 1);
	struct config cfg;
	int errors, words = 0;

	log_set_sink(fuzz_log_discard);
	log_set_level(LOG_DEBUG);
	/* The device tree's string ends at its first NUL: so does the parser's input. */
	memcpy(args, data, size);
	args[size] = '\0';
	errors = config_parse(args, &cfg);
	for (const char *p = args; *p;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p && !strchr(" \t\n\r", *p))
			words++;
		p += strcspn(p, " \t\n\r");
	}
	FUZZ_CHECK(errors >= 0 && errors <= words, "%d errors in %d words", errors, words);
	FUZZ_CHECK(cfg.loglevel <= LOG_DEBUG, "loglevel %d", cfg.loglevel);
	FUZZ_CHECK(cfg.evtchn_bench <= CONFIG_EVTCHN_BENCH_MAX, "evtchn_bench %u",
	           cfg.evtchn_bench);
	FUZZ_CHECK(cfg.upcall_sample_ms <= CONFIG_UPCALL_SAMPLE_MS_MAX, "upcall_sample_ms %u",
	           cfg.upcall_sample_ms);
	FUZZ_CHECK(cfg.latency_period <= CONFIG_LATENCY_PERIOD_MAX, "latency_period %u",
	           cfg.latency_period);
	FUZZ_CHECK(cfg.debug_fault == CONFIG_FAULT_NONE ||
	               cfg.debug_fault == CONFIG_FAULT_DATA_ABORT ||
	               cfg.debug_fault == CONFIG_FAULT_UNDEFINED,
	           "debug_fault %d", cfg.debug_fault);
	free(args);
	return 0;
}
