/* boot/config.c: boot argument parsing, defaults and the log line for each bad word. */
#include <stdio.h>
#include <string.h>

#include "boot/config.h"
#include "lib/log.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/test.h"


/* Parses args into a config that starts out as garbage, capturing the log. */
static int parse(const char *args, struct config *cfg)
{
	memset(cfg, 0x5a, sizeof(*cfg));
	log_capture_reset();
	return config_parse(args, cfg);
}

static unsigned int count_lines(const char *s)
{
	unsigned int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

TEST(config, defaults)
{
	struct config cfg;

	EXPECT_EQ(parse("", &cfg), 0);
	EXPECT_EQ(cfg.loglevel, LOG_INFO);
	EXPECT_EQ(cfg.evtchn_bench, 200);
	EXPECT_EQ(cfg.sd_selftest, CONFIG_SD_SELFTEST_OFF);
	EXPECT_EQ(cfg.upcall_sample_ms, 1000);
	EXPECT_EQ(cfg.latency_period, 0);
	EXPECT_STREQ(log_text, "");

	EXPECT_EQ(parse(" \t \n", &cfg), 0);
	EXPECT_EQ(cfg.loglevel, LOG_INFO);
	EXPECT_EQ(cfg.evtchn_bench, 200);
}

TEST(config, named_loglevel_and_bench)
{
	struct config cfg;

	EXPECT_EQ(parse("loglevel=debug evtchn_bench=50", &cfg), 0);
	EXPECT_EQ(cfg.loglevel, LOG_DEBUG);
	EXPECT_EQ(cfg.evtchn_bench, 50);
	EXPECT_STREQ(log_text, "");

	EXPECT_EQ(parse("loglevel=error", &cfg), 0);
	EXPECT_EQ(cfg.loglevel, LOG_ERROR);
	EXPECT_EQ(parse("loglevel=warn", &cfg), 0);
	EXPECT_EQ(cfg.loglevel, LOG_WARN);
	EXPECT_EQ(parse("loglevel=info evtchn_bench=0", &cfg), 0);
	EXPECT_EQ(cfg.loglevel, LOG_INFO);
	EXPECT_EQ(cfg.evtchn_bench, 0);
	EXPECT_EQ(parse("evtchn_bench=10000", &cfg), 0);
	EXPECT_EQ(cfg.evtchn_bench, CONFIG_EVTCHN_BENCH_MAX);
}

TEST(config, debug_fault)
{
	struct config cfg;

	EXPECT_EQ(parse("", &cfg), 0);
	EXPECT_EQ(cfg.debug_fault, CONFIG_FAULT_NONE);
	EXPECT_EQ(parse("debug_fault=data-abort", &cfg), 0);
	EXPECT_EQ(cfg.debug_fault, CONFIG_FAULT_DATA_ABORT);
	EXPECT_EQ(parse("debug_fault=undefined", &cfg), 0);
	EXPECT_EQ(cfg.debug_fault, CONFIG_FAULT_UNDEFINED);
	EXPECT_EQ(parse("debug_fault=undefined debug_fault=none", &cfg), 0);
	EXPECT_EQ(cfg.debug_fault, CONFIG_FAULT_NONE);
	EXPECT_STREQ(log_text, "");

	EXPECT_EQ(parse("debug_fault=segv", &cfg), 1);
	EXPECT_EQ(cfg.debug_fault, CONFIG_FAULT_NONE);
	EXPECT_CONTAINS(log_text, "ERROR: bootargs: debug_fault='segv' is not one of none, "
				  "data-abort, undefined");
}

TEST(config, numeric_loglevel)
{
	struct config cfg;

	EXPECT_EQ(parse("loglevel=0", &cfg), 0);
	EXPECT_EQ(cfg.loglevel, LOG_ERROR);
	EXPECT_EQ(parse("loglevel=1", &cfg), 0);
	EXPECT_EQ(cfg.loglevel, LOG_WARN);
	EXPECT_EQ(parse("loglevel=3", &cfg), 0);
	EXPECT_EQ(cfg.loglevel, LOG_DEBUG);
	EXPECT_EQ(parse("loglevel=4", &cfg), 1);
	EXPECT_EQ(cfg.loglevel, LOG_INFO);
	EXPECT_CONTAINS(log_text, "loglevel='4'");
}

TEST(config, later_word_wins)
{
	struct config cfg;

	EXPECT_EQ(parse("loglevel=debug evtchn_bench=5 loglevel=warn evtchn_bench=6", &cfg), 0);
	EXPECT_EQ(cfg.loglevel, LOG_WARN);
	EXPECT_EQ(cfg.evtchn_bench, 6);
}

TEST(config, bad_loglevel_keeps_default_and_names_key_and_value)
{
	struct config cfg;

	EXPECT_EQ(parse("loglevel=loud evtchn_bench=7", &cfg), 1);
	EXPECT_EQ(cfg.loglevel, LOG_INFO);
	EXPECT_EQ(cfg.evtchn_bench, 7);
	EXPECT_CONTAINS(log_text, "ERROR: bootargs: loglevel='loud' is not one of");
	EXPECT_EQ(count_lines(log_text), 1);

	EXPECT_EQ(parse("loglevel=", &cfg), 1);
	EXPECT_CONTAINS(log_text, "loglevel=''");
	EXPECT_EQ(parse("loglevel=DEBUG", &cfg), 1);
	EXPECT_EQ(cfg.loglevel, LOG_INFO);
}

TEST(config, bad_bench_values)
{
	static const char *const bad[] = {
	    "-1", "99999999", "12abc", "10001", "", "+5", "0x10", "99999999999999999999999999",
	};
	struct config cfg;
	char args[64];
	char expect[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(args, sizeof(args), "evtchn_bench=%s", bad[i]);
		EXPECT_EQ(parse(args, &cfg), 1);
		EXPECT_EQ(cfg.evtchn_bench, 200);
		snprintf(expect, sizeof(expect),
		         "evtchn_bench='%s' is not a number from 0 to 10000", bad[i]);
		EXPECT_CONTAINS(log_text, expect);
	}
}

TEST(config, unknown_key_is_reported_with_its_value)
{
	struct config cfg;

	EXPECT_EQ(parse("console=hvc0 loglevel=warn", &cfg), 1);
	EXPECT_EQ(cfg.loglevel, LOG_WARN);
	EXPECT_CONTAINS(log_text, "unknown key 'console' (value 'hvc0') ignored");

	/* Only the first '=' splits: the rest belongs to the value. */
	EXPECT_EQ(parse("a=b=c", &cfg), 1);
	EXPECT_CONTAINS(log_text, "unknown key 'a' (value 'b=c')");
	EXPECT_EQ(parse("=x", &cfg), 1);
	EXPECT_CONTAINS(log_text, "unknown key '' (value 'x')");
}

TEST(config, word_without_equals)
{
	struct config cfg;

	EXPECT_EQ(parse("quiet evtchn_bench=3 ro", &cfg), 2);
	EXPECT_EQ(cfg.evtchn_bench, 3);
	EXPECT_CONTAINS(log_text, "'quiet' has no value (expected key=value)");
	EXPECT_CONTAINS(log_text, "'ro' has no value");
	EXPECT_EQ(count_lines(log_text), 2);
}

TEST(config, over_long_word_is_skipped_and_parsing_goes_on)
{
	struct config cfg;
	char args[400];
	char word[300];

	memset(word, 'k', 200);
	word[200] = '\0';
	snprintf(args, sizeof(args), "%s loglevel=debug", word);
	EXPECT_EQ(parse(args, &cfg), 1);
	EXPECT_EQ(cfg.loglevel, LOG_DEBUG);
	EXPECT_CONTAINS(log_text,
	                "word 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...' is longer than 127 bytes");

	/* 127 bytes is the longest word kept: it is judged by its content. */
	memset(word, 'v', 127);
	memcpy(word, "loglevel=", 9);
	word[127] = '\0';
	EXPECT_EQ(parse(word, &cfg), 1);
	EXPECT_CONTAINS(log_text, "loglevel='vvv");
	EXPECT_NOT_CONTAINS(log_text, "longer than");
	/* 128 bytes is too long. */
	memset(word, 'v', 128);
	memcpy(word, "loglevel=", 9);
	word[128] = '\0';
	EXPECT_EQ(parse(word, &cfg), 1);
	EXPECT_CONTAINS(log_text, "longer than 127 bytes");
}

TEST(config, blanks_of_all_kinds_separate_words)
{
	struct config cfg;

	EXPECT_EQ(parse("  \tloglevel=warn\t\t evtchn_bench=7  \n", &cfg), 0);
	EXPECT_EQ(cfg.loglevel, LOG_WARN);
	EXPECT_EQ(cfg.evtchn_bench, 7);
	EXPECT_EQ(parse("loglevel=error\r\nevtchn_bench=8\r\n", &cfg), 0);
	EXPECT_EQ(cfg.loglevel, LOG_ERROR);
	EXPECT_EQ(cfg.evtchn_bench, 8);
}

TEST(config, return_value_counts_every_bad_word)
{
	struct config cfg;

	EXPECT_EQ(parse("a loglevel=x evtchn_bench=1 b=2 evtchn_bench=-3 loglevel=warn", &cfg), 4);
	EXPECT_EQ(cfg.loglevel, LOG_WARN);
	EXPECT_EQ(cfg.evtchn_bench, 1);
	EXPECT_EQ(count_lines(log_text), 4);
	EXPECT_CONTAINS(log_text, "'a' has no value");
	EXPECT_CONTAINS(log_text, "loglevel='x'");
	EXPECT_CONTAINS(log_text, "unknown key 'b' (value '2')");
	EXPECT_CONTAINS(log_text, "evtchn_bench='-3'");
}

TEST(config, sd_selftest_takes_a_sector)
{
	struct config cfg;

	EXPECT_EQ(parse("sd_selftest=100", &cfg), 0);
	EXPECT_EQ(cfg.sd_selftest, 100);
	EXPECT_EQ(parse("sd_selftest=0", &cfg), 0);
	EXPECT_EQ(cfg.sd_selftest, 0);
	EXPECT_EQ(parse("sd_selftest=4294967296", &cfg), 1);
	EXPECT_EQ(cfg.sd_selftest, CONFIG_SD_SELFTEST_OFF);
	EXPECT_CONTAINS(log_text, "sd_selftest='4294967296' is not a sector number");
	EXPECT_EQ(parse("sd_selftest=-1", &cfg), 1);
}

TEST(config, vdisk_disk_once_per_disk_kept_as_written)
{
	struct config cfg;
	char args[1024] = "";

	EXPECT_EQ(parse("loglevel=debug", &cfg), 0);
	EXPECT_EQ(cfg.disk_count, 0);
	EXPECT_EQ(parse("vdisk.disk=domain=1,base=0x2000000,irq=33,target=ram:16M "
	                "vdisk.disk=domain=2,base=0x2000000,irq=33,access=ro,target=mmc:0:2",
	                &cfg),
	          0);
	EXPECT_EQ(cfg.disk_count, 2);
	EXPECT_STREQ(cfg.disks[0], "domain=1,base=0x2000000,irq=33,target=ram:16M");
	EXPECT_STREQ(cfg.disks[1], "domain=2,base=0x2000000,irq=33,access=ro,target=mmc:0:2");

	/* a ninth is refused by name and value, the eight stay */
	for (unsigned int i = 0; i <= CONFIG_DISK_MAX; i++)
		snprintf(args + strlen(args), sizeof(args) - strlen(args),
		         "vdisk.disk=domain=%u,base=0x2000000,irq=33,target=ram:1M ", i + 1);
	EXPECT_EQ(parse(args, &cfg), 1);
	EXPECT_EQ(cfg.disk_count, CONFIG_DISK_MAX);
	EXPECT_STREQ(cfg.disks[CONFIG_DISK_MAX - 1],
	             "domain=8,base=0x2000000,irq=33,target=ram:1M");
	EXPECT_CONTAINS(log_text, "ERROR: bootargs: vdisk.disk='domain=9,base=0x2000000,irq=33,"
	                          "target=ram:1M': more than 8 disks");
	EXPECT_EQ(count_lines(log_text), 1);
}

TEST(config, upcall_sample_ms_and_latency_period)
{
	struct config cfg;

	EXPECT_EQ(parse("upcall_sample_ms=250 latency_period=10", &cfg), 0);
	EXPECT_EQ(cfg.upcall_sample_ms, 250);
	EXPECT_EQ(cfg.latency_period, 10);
	EXPECT_EQ(parse("upcall_sample_ms=0 latency_period=0", &cfg), 0);
	EXPECT_EQ(cfg.upcall_sample_ms, 0);
	EXPECT_EQ(cfg.latency_period, 0);
	EXPECT_EQ(parse("upcall_sample_ms=3600000 latency_period=86400", &cfg), 0);
	EXPECT_EQ(cfg.upcall_sample_ms, CONFIG_UPCALL_SAMPLE_MS_MAX);
	EXPECT_EQ(cfg.latency_period, CONFIG_LATENCY_PERIOD_MAX);
	EXPECT_STREQ(log_text, "");
}

TEST(config, bad_upcall_sample_ms_and_latency_period_keep_the_defaults)
{
	static const char *const bad[] = {"-1", "3600001", "1s", "", "+5", "0x10", "9999999999999"};
	struct config cfg;
	char args[128];
	char expect[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* one past each maximum */
		const char *period = strcmp(bad[i], "3600001") == 0 ? "86401" : bad[i];

		snprintf(args, sizeof(args), "upcall_sample_ms=%s latency_period=%s", bad[i],
		         period);
		EXPECT_EQ(parse(args, &cfg), 2);
		EXPECT_EQ(cfg.upcall_sample_ms, 1000);
		EXPECT_EQ(cfg.latency_period, 0);
		EXPECT_EQ(count_lines(log_text), 2);
		snprintf(expect, sizeof(expect),
		         "ERROR: bootargs: upcall_sample_ms='%s' "
		         "is not a number of milliseconds from 0 to 3600000\n",
		         bad[i]);
		EXPECT_CONTAINS(log_text, expect);
		snprintf(expect, sizeof(expect),
		         "ERROR: bootargs: latency_period='%s' "
		         "is not a number of seconds from 0 to 86400\n",
		         period);
		EXPECT_CONTAINS(log_text, expect);
	}
}
