/*
 * lib/log.c: line format and timestamps from the fake clock, level filtering, truncation,
 * and the early buffer that holds lines until there is a console. log.c keeps its state in
 * statics; log_set_sink(NULL) returns it to buffering, and lost bytes are compared as deltas.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arch/fake.h"
#include "lib/fields.h"
#include "lib/log.h"
#include "tests/unit/test.h"

static char out[16384];
static size_t out_len;
static unsigned int sink_calls;

static void capture(const char *buf, size_t len)
{
	sink_calls++;
	if (len > sizeof(out) - 1 - out_len)
		len = sizeof(out) - 1 - out_len;
	memcpy(out + out_len, buf, len);
	out_len += len;
	out[out_len] = '\0';
}

static void clear_output(void)
{
	out_len = 0;
	out[0] = '\0';
	sink_calls = 0;
}

/* A console that captures, the default level, time zero. */
static void setup(void)
{
	fake_reset();
	log_set_level(LOG_INFO);
	log_set_sink(capture);
	clear_output();
}

TEST(log, lines_before_a_sink_are_buffered_and_replayed)
{
	setup();
	log_set_sink(NULL);
	fake_time_ns = 5000000000ull;
	log_info("first %d", 1);
	log_warn("second");
	EXPECT_EQ(sink_calls, 0);

	fake_time_ns = 9000000000ull;
	log_set_sink(capture);
	/* Replayed in order, with the time each line was logged. */
	EXPECT_STREQ(out, "[    5.000000] first 1\n[    5.000000] WARNING: second\n");

	log_info("third");
	EXPECT_STREQ(out, "[    5.000000] first 1\n[    5.000000] WARNING: second\n"
	                  "[    9.000000] third\n");

	/* Once replayed, the buffer is empty: a new sink gets nothing old. */
	clear_output();
	log_set_sink(capture);
	EXPECT_EQ(sink_calls, 0);
}

TEST(log, early_buffer_overflow_counts_and_reports_lost_bytes)
{
	size_t lost_before;
	char expect[128];

	setup();
	log_set_sink(NULL);
	lost_before = log_lost_bytes();
	/* 64-byte lines: "[    0.000000] " (15) + 48 characters + "\n". 128 fill 8 KiB exactly. */
	for (int i = 0; i < 130; i++)
		log_info("%s%08d", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i);
	EXPECT_EQ(log_lost_bytes() - lost_before, 128);
	EXPECT_EQ(sink_calls, 0);

	log_set_sink(capture);
	snprintf(expect, sizeof(expect),
	         "[    0.000000] WARNING: log: %zu bytes of early log did not fit in the buffer\n",
	         log_lost_bytes());
	EXPECT_EQ(out_len, 8192 + strlen(expect));
	EXPECT_MEMEQ(out, "[    0.000000] xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx00000000\n", 64);
	EXPECT_MEMEQ(out + 127 * 64,
	             "[    0.000000] xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx00000127\n", 64);
	EXPECT_NOT_CONTAINS(out, "00000128");
	EXPECT_STREQ(out + 8192, expect);
	EXPECT_CONTAINS(out + 8192, "128 bytes");
}

TEST(log, level_filtering_and_prefixes)
{
	setup();
	log_debug("hidden");
	EXPECT_EQ(sink_calls, 0);
	log_info("shown");
	log_warn("careful");
	log_error("broken");
	EXPECT_STREQ(out, "[    0.000000] shown\n[    0.000000] WARNING: careful\n"
	                  "[    0.000000] ERROR: broken\n");

	clear_output();
	log_set_level(LOG_DEBUG);
	log_debug("detail %u", 7u);
	EXPECT_STREQ(out, "[    0.000000] debug: detail 7\n");

	clear_output();
	log_set_level(LOG_ERROR);
	log_info("no");
	log_warn("no");
	log_error("yes");
	EXPECT_STREQ(out, "[    0.000000] ERROR: yes\n");

	/* Filtered lines are not buffered either. */
	clear_output();
	log_set_sink(NULL);
	log_warn("dropped before any console");
	log_set_sink(capture);
	EXPECT_EQ(sink_calls, 0);
	log_set_level(LOG_INFO);
}

TEST(log, over_long_line_is_truncated_with_ellipsis)
{
	char msg[400];
	char expect[512];

	setup();
	memset(msg, 'a', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	log_info("%s", msg);
	EXPECT_EQ(out_len, 255);
	EXPECT_STREQ(out + out_len - 4, "...\n");
	EXPECT_EQ(strncmp(out, "[    0.000000] aaaa", 19), 0);

	/* The longest line that fits: 15 + 239 + "\n" = 255 bytes, no ellipsis. */
	clear_output();
	msg[239] = '\0';
	log_info("%s", msg);
	snprintf(expect, sizeof(expect), "[    0.000000] %s\n", msg);
	EXPECT_EQ(out_len, 255);
	EXPECT_STREQ(out, expect);

	/* One more character and the end gives way to "...". */
	clear_output();
	msg[239] = 'a';
	msg[240] = '\0';
	log_info("%s", msg);
	EXPECT_EQ(out_len, 255);
	msg[236] = '\0';
	snprintf(expect, sizeof(expect), "[    0.000000] %s...\n", msg);
	EXPECT_STREQ(out, expect);
}

TEST(log, timestamp_is_seconds_and_microseconds_of_the_clock)
{
	setup();
	fake_time_ns = 1234567891234ull;
	log_info("t");
	EXPECT_STREQ(out, "[ 1234.567891] t\n");

	clear_output();
	fake_time_ns = 999999999ull; /* truncated, not rounded */
	log_info("t");
	EXPECT_STREQ(out, "[    0.999999] t\n");

	clear_output();
	fake_time_ns = 100000ull * 1000000000ull + 1000ull; /* wider than the field */
	log_info("t");
	EXPECT_STREQ(out, "[100000.000001] t\n");
}

TEST(log, each_line_is_one_sink_call)
{
	setup();
	log_info("a");
	log_info("b");
	EXPECT_EQ(sink_calls, 2);
}

/*
 * Takes log_long's lines back apart, as a script would: each line must hold at most 255 bytes
 * with its newline, have no "..." of a cut line, and read "STAMP PREFIXKEY PIECE" for the first
 * and "STAMP PREFIXKEY +PIECE" for the others. Puts the pieces joined in `text`; returns the
 * count of lines, or 0 (after a failed check) when one is not like that.
 */
static unsigned int rejoin(const char *prefix, const char *key, char *text, size_t size)
{
	unsigned int lines = 0;
	size_t len = 0;

	text[0] = '\0';
	for (const char *line = out; *line;) {
		const char *end = strchr(line, '\n');
		const char *p = strstr(line, "] ");
		size_t n;

		if (!end || !p || p > end) {
			test_fail(__FILE__, __LINE__, "line %u has no stamp or no newline", lines);
			return 0;
		}
		EXPECT_LE(end + 1 - line, 255);
		p += 2;
		EXPECT_EQ(strncmp(p, prefix, strlen(prefix)), 0);
		p += strlen(prefix);
		if (strncmp(p, key, strlen(key)) != 0 || p[strlen(key)] != ' ') {
			test_fail(__FILE__, __LINE__, "line %u is not of key '%s': %.*s", lines,
			          key, (int)(end - line), line);
			return 0;
		}
		p += strlen(key) + 1;
		EXPECT_EQ(*p == '+', lines > 0);
		p += lines > 0;
		n = (size_t)(end - p);
		EXPECT_FALSE(n >= 3 && memcmp(end - 3, "...", 3) == 0);
		if (len + n >= size) {
			test_fail(__FILE__, __LINE__, "more text than %zu bytes", size);
			return 0;
		}
		memcpy(text + len, p, n);
		len += n;
		text[len] = '\0';
		lines++;
		line = end + 1;
	}
	return lines;
}

TEST(log, a_long_text_goes_over_lines_that_join_back_into_it)
{
	static char text[4096], joined[4096];
	struct fields f;
	unsigned int lines;

	/* A histogram's text: fields, then buckets by the hundred. */
	fields_start(&f, text, sizeof(text));
	fields_add(&f, "count=123456 mean_ns=4567 p50_ns=4095 p90_ns=8191 p99_ns=16383 "
	               "p999_ns=32767 max_ns=40000 buckets=");
	for (unsigned int i = 0; i < 150; i++)
		fields_add(&f, i ? ",%u:%u" : "%u:%u", 1000 * i + 999, 7 * i);
	ASSERT_TRUE(!f.full);

	setup();
	log_long(LOG_INFO, "latency: dom32751-4294967295 service", text);
	lines = rejoin("", "latency: dom32751-4294967295 service", joined, sizeof(joined));
	EXPECT_GT(lines, 8);
	EXPECT_STREQ(joined, text);
	/* Cut before a comma: each line but the first starts with one, no bucket is split. */
	EXPECT_CONTAINS(out, "service count=123456 mean_ns=4567 ");
	EXPECT_CONTAINS(out, "service +,");
	EXPECT_NOT_CONTAINS(out, "service +9");
	EXPECT_EQ(sink_calls, lines);

	/* At the widest stamp and as a warning, the lines still fit. */
	clear_output();
	fake_time_ns = UINT64_MAX;
	log_long(LOG_WARN, "latency: upcall", text);
	EXPECT_CONTAINS(out, "[18446744073.709551] WARNING: latency: upcall count=");
	EXPECT_GT(rejoin("WARNING: ", "latency: upcall", joined, sizeof(joined)), 8);
	EXPECT_STREQ(joined, text);
}

TEST(log, a_short_text_is_one_line_and_a_text_without_separators_is_cut_anywhere)
{
	static char text[1024], joined[1024];

	setup();
	log_long(LOG_INFO, "latency: upcall", "count=0 mean_ns=0 buckets=");
	EXPECT_STREQ(out, "[    0.000000] latency: upcall count=0 mean_ns=0 buckets=\n");

	clear_output();
	memset(text, 'x', 600);
	text[600] = '\0';
	log_long(LOG_INFO, "k", text);
	EXPECT_EQ(rejoin("", "k", joined, sizeof(joined)), 3);
	EXPECT_STREQ(joined, text);

	/* Filtered out by level: no line at all. */
	clear_output();
	log_set_level(LOG_WARN);
	log_long(LOG_INFO, "k", text);
	EXPECT_EQ(sink_calls, 0);
	log_set_level(LOG_INFO);
}

/* Distinct format pointers for the log_limit tests (compared by address, never printed). */
static const char formats[256][8];
_Static_assert(LOG_LIMIT_FORMATS + 1 <= 256, "formats[] covers the table and one past it");

/*
 * Found by the hostile rig guest once it ran fast: its attacks make some 40 kinds of complaint
 * within one period, and with a 16-format table the first lines of the later kinds were held
 * back. Every kind a guest can reach gets its line.
 */
TEST(log, a_limit_lets_the_first_line_of_each_of_many_formats_through)
{
	struct log_limit limit;
	unsigned int allowed = 0;

	setup();
	log_limit_init(&limit, "dom7/51712");
	for (unsigned int i = 0; i < 100; i++)
		allowed += log_limit_allow(&limit, formats[i]);
	EXPECT_EQ(allowed, 100);
	EXPECT_EQ(out_len, 0u);
}

/* Each format has its own budget per period; formats past the table share one. */
TEST(log, a_limit_counts_each_format_and_reports_what_it_held_back)
{
	struct log_limit limit;
	unsigned int allowed = 0;

	setup();
	log_limit_init(&limit, "dom7/51712");
	for (unsigned int i = 0; i < 3 * LOG_LIMIT_LINES; i++)
		allowed += log_limit_allow(&limit, "a");
	EXPECT_EQ(allowed, LOG_LIMIT_LINES);
	EXPECT_TRUE(log_limit_allow(&limit, "b"));
	/* LOG_LIMIT_FORMATS - 2 more formats fill the table; three more share one count past it. */
	allowed = 0;
	for (unsigned int round = 0; round < LOG_LIMIT_LINES; round++)
		for (unsigned int i = 0; i < LOG_LIMIT_FORMATS + 1; i++)
			allowed += log_limit_allow(&limit, formats[i]);
	EXPECT_EQ(allowed, (LOG_LIMIT_FORMATS - 2) * LOG_LIMIT_LINES + LOG_LIMIT_LINES);
	EXPECT_EQ(out_len, 0u); /* the limit logs nothing itself within a period */
	fake_time_ns += LOG_LIMIT_PERIOD_NS - 1;
	EXPECT_FALSE(log_limit_allow(&limit, "a"));
	fake_time_ns += 1;
	EXPECT_TRUE(log_limit_allow(&limit, "a"));
	EXPECT_CONTAINS(out, "WARNING: dom7/51712: 41 more line(s) about it were not logged in the "
	                     "last 10 s\n");
	clear_output();
	/* A flush says at once what this period held back so far, and only once. */
	for (unsigned int i = 0; i < LOG_LIMIT_LINES + 2; i++)
		log_limit_allow(&limit, "a");
	clear_output();
	fake_time_ns += 3000000000ull;
	log_limit_flush(&limit);
	EXPECT_CONTAINS(out, "WARNING: dom7/51712: 3 more line(s) about it were not logged in the "
	                     "last 3 s\n");
	clear_output();
	log_limit_flush(&limit);
	EXPECT_EQ(out_len, 0u);
	fake_time_ns += LOG_LIMIT_PERIOD_NS;
	EXPECT_TRUE(log_limit_allow(&limit, "a"));
	EXPECT_EQ(out_len, 0u);
	/* A period with nothing held back ends without a line. */
	fake_time_ns += LOG_LIMIT_PERIOD_NS;
	EXPECT_TRUE(log_limit_allow(&limit, "a"));
	EXPECT_EQ(out_len, 0u);
}
