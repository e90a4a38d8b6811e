/*
 * Boot arguments: "key=value" words separated by blanks, as in xl's extra= string.
 * A bad word names its key and value in one log line and leaves the default in place.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "boot/config.h"
#include "lib/log.h"

#define WORD_MAX 128

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

static bool set_loglevel(const char *value, struct config *cfg)
{
	unsigned long n;

	for (unsigned int i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(value, level_names[i]) == 0) {
			cfg->loglevel = (enum log_level)i;
			return true;
		}
	}
	if (!parse_uint(value, LOG_DEBUG, &n)) {
		log_error("bootargs: loglevel='%s' is not one of error, warn, info, debug, 0-3",
			  value);
		return false;
	}
	cfg->loglevel = (enum log_level)n;
	return true;
}

/* A number from 0 to max for `key`; a bad one is logged as not being `what` ("a number"). */
static bool set_uint(const char *key, const char *value, unsigned long max, const char *what,
                     unsigned long *out)
{
	if (!parse_uint(value, max, out)) {
		log_error("bootargs: %s='%s' is not %s from 0 to %lu", key, value, what, max);
		return false;
	}
	return true;
}

static bool set_evtchn_bench(const char *value, struct config *cfg)
{
	unsigned long n;

	if (!set_uint("evtchn_bench", value, CONFIG_EVTCHN_BENCH_MAX, "a number", &n))
		return false;
	cfg->evtchn_bench = (unsigned int)n;
	return true;
}

static bool set_upcall_sample_ms(const char *value, struct config *cfg)
{
	unsigned long n;

	if (!set_uint("upcall_sample_ms", value, CONFIG_UPCALL_SAMPLE_MS_MAX,
	              "a number of milliseconds", &n))
		return false;
	cfg->upcall_sample_ms = (unsigned int)n;
	return true;
}

static bool set_latency_period(const char *value, struct config *cfg)
{
	unsigned long n;

	if (!set_uint("latency_period", value, CONFIG_LATENCY_PERIOD_MAX, "a number of seconds",
	              &n))
		return false;
	cfg->latency_period = (unsigned int)n;
	return true;
}

static bool set_debug_fault(const char *value, struct config *cfg)
{
	if (strcmp(value, "none") == 0)
		cfg->debug_fault = CONFIG_FAULT_NONE;
	else if (strcmp(value, "data-abort") == 0)
		cfg->debug_fault = CONFIG_FAULT_DATA_ABORT;
	else if (strcmp(value, "undefined") == 0)
		cfg->debug_fault = CONFIG_FAULT_UNDEFINED;
	else {
		log_error("bootargs: debug_fault='%s' is not one of none, data-abort, undefined",
			  value);
		return false;
	}
	return true;
}

static const char *const serve_names[] = {
    [VBLK_SERVE_ADAPTIVE] = "adaptive",
    [VBLK_SERVE_INLINE] = "inline",
    [VBLK_SERVE_DEFER] = "defer",
};

static bool set_serve(const char *value, struct config *cfg)
{
	for (unsigned int i = 0; i < sizeof(serve_names) / sizeof(serve_names[0]); i++) {
		if (strcmp(value, serve_names[i]) == 0) {
			cfg->serve = (enum vblk_policy)i;
			return true;
		}
	}
	log_error("bootargs: serve='%s' is not one of adaptive, inline, defer", value);
	return false;
}

static bool set_sd_selftest(const char *value, struct config *cfg)
{
	unsigned long n;

	if (!set_uint("sd_selftest", value, 0xffffffffu, "a sector number", &n))
		return false;
	cfg->sd_selftest = n;
	return true;
}

static bool add_disk(const char *value, struct config *cfg)
{
	if (cfg->disk_count == CONFIG_DISK_MAX) {
		log_error("bootargs: vdisk.disk='%s': more than %u disks", value, CONFIG_DISK_MAX);
		return false;
	}
	if (strlen(value) >= CONFIG_DISK_LEN) {
		log_error("bootargs: vdisk.disk='%s' is longer than %u bytes", value,
		          CONFIG_DISK_LEN - 1);
		return false;
	}
	strcpy(cfg->disks[cfg->disk_count++], value);
	return true;
}

static bool apply(char *word, struct config *cfg)
{
	char *eq = strchr(word, '=');
	const char *value;

	if (!eq) {
		log_error("bootargs: '%s' has no value (expected key=value)", word);
		return false;
	}
	*eq = '\0';
	value = eq + 1;
	if (strcmp(word, "loglevel") == 0)
		return set_loglevel(value, cfg);
	if (strcmp(word, "evtchn_bench") == 0)
		return set_evtchn_bench(value, cfg);
	if (strcmp(word, "upcall_sample_ms") == 0)
		return set_upcall_sample_ms(value, cfg);
	if (strcmp(word, "latency_period") == 0)
		return set_latency_period(value, cfg);
	if (strcmp(word, "debug_fault") == 0)
		return set_debug_fault(value, cfg);
	if (strcmp(word, "serve") == 0)
		return set_serve(value, cfg);
	if (strcmp(word, "sd_selftest") == 0)
		return set_sd_selftest(value, cfg);
	if (strcmp(word, "vdisk.disk") == 0)
		return add_disk(value, cfg);
	log_error("bootargs: unknown key '%s' (value '%s') ignored", word, value);
	return false;
}

int config_parse(const char *bootargs, struct config *cfg)
{
	int errors = 0;

	cfg->loglevel = LOG_INFO;
	cfg->evtchn_bench = 200;
	cfg->upcall_sample_ms = 1000;
	cfg->latency_period = 0;
	cfg->debug_fault = CONFIG_FAULT_NONE;
	cfg->serve = VBLK_SERVE_ADAPTIVE;
	cfg->sd_selftest = CONFIG_SD_SELFTEST_OFF;
	cfg->disk_count = 0;
	while (*bootargs) {
		char word[WORD_MAX];
		size_t len;

		while (isspace((unsigned char)*bootargs))
			bootargs++;
		len = strcspn(bootargs, " \t\n\r");
		if (len == 0)
			break;
		if (len >= sizeof(word)) {
			log_error("bootargs: word '%.32s...' is longer than %d bytes", bootargs,
				  WORD_MAX - 1);
			errors++;
		} else {
			memcpy(word, bootargs, len);
			word[len] = '\0';
			errors += !apply(word, cfg);
		}
		bootargs += len;
	}
	return errors;
}
