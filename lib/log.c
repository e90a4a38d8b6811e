/*
 * The log. Lines written before a console backend is known (early boot, before Xen's
 * console ring is found) are kept in a buffer and replayed when log_set_sink() is called.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arch/timer.h"
#include "lib/log.h"

#define LINE_MAX_LEN 256
#define EARLY_SIZE   8192
/* "[%5llu.%06llu] " at its widest: 2^64 ns is 18446744073 s */
#define STAMP_MAX_LEN 21
/* The least of a piece log_long puts on a line, whatever the key's length. */
#define PIECE_MIN_LEN 16

static log_sink_fn sink;
static enum log_level max_level = LOG_INFO;
static char early[EARLY_SIZE];
static size_t early_len;
static size_t early_lost;

static const char *const prefixes[] = {
	[LOG_ERROR] = "ERROR: ",
	[LOG_WARN] = "WARNING: ",
	[LOG_INFO] = "",
	[LOG_DEBUG] = "debug: ",
};

void log_printf(enum log_level level, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	uint64_t ns = arch_timer_now_ns();
	va_list ap;
	int len;
	int n;

	if (level > max_level)
		return;
	len = snprintf(line, sizeof(line), "[%5llu.%06llu] %s", (unsigned long long)(ns / 1000000000u),
		       (unsigned long long)(ns % 1000000000u / 1000u), prefixes[level]);
	va_start(ap, fmt);
	n = vsnprintf(line + len, sizeof(line) - (size_t)len, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	len += n;
	if ((size_t)len > sizeof(line) - 2) {
		/* Truncated by vsnprintf: mark it, and keep room for the newline. */
		len = sizeof(line) - 2;
		memcpy(line + len - 3, "...", 3);
	}
	line[len++] = '\n';
	line[len] = '\0';

	if (sink) {
		sink(line, (size_t)len);
		return;
	}
	if (early_len + (size_t)len > sizeof(early)) {
		early_lost += (size_t)len;
		return;
	}
	memcpy(early + early_len, line, (size_t)len);
	early_len += (size_t)len;
}

/* Where log_long cuts a text of `len` bytes for a piece of at most `room`: before a separator. */
static size_t long_cut(const char *text, size_t len, size_t room)
{
	if (len <= room)
		return len;
	for (size_t i = room; i > 0; i--)
		if (text[i] == ' ' || text[i] == ',')
			return i;
	return room;
}

void log_long(enum log_level level, const char *key, const char *text)
{
	/* A line: stamp, level prefix, key, " +", piece, "\n" and the NUL. */
	size_t fixed = STAMP_MAX_LEN + strlen(prefixes[level]) + strlen(key) + 2 + 2;
	size_t room = fixed + PIECE_MIN_LEN < LINE_MAX_LEN ? LINE_MAX_LEN - fixed : PIECE_MIN_LEN;
	size_t len = strlen(text);
	const char *mark = "";

	do {
		size_t n = long_cut(text, len, room);

		log_printf(level, "%s %s%.*s", key, mark, (int)n, text);
		text += n;
		len -= n;
		mark = "+";
	} while (len);
}

void log_set_sink(log_sink_fn fn)
{
	sink = fn;
	if (!sink || early_len == 0)
		return;
	sink(early, early_len);
	early_len = 0;
	if (early_lost)
		log_warn("log: %zu bytes of early log did not fit in the buffer", early_lost);
}

void log_set_level(enum log_level level)
{
	max_level = level;
}

size_t log_lost_bytes(void)
{
	return early_lost;
}

void log_limit_init(struct log_limit *limit, const char *who)
{
	memset(limit, 0, sizeof(*limit));
	limit->who = who;
}

void log_limit_flush(struct log_limit *limit)
{
	if (!limit->missed)
		return;
	log_warn("%s: %u more line(s) about it were not logged in the last %llu s", limit->who,
	         limit->missed,
	         (unsigned long long)((arch_timer_now_ns() - limit->start_ns) / 1000000000u));
	limit->missed = 0;
}

bool log_limit_allow(struct log_limit *limit, const char *fmt)
{
	uint64_t now;
	uint32_t *lines;

	if (!limit)
		return true;
	now = arch_timer_now_ns();
	lines = &limit->other_lines;
	if (!limit->started || now - limit->start_ns >= LOG_LIMIT_PERIOD_NS) {
		log_limit_flush(limit);
		log_limit_init(limit, limit->who);
		limit->started = true;
		limit->start_ns = now;
	}
	for (unsigned int i = 0; i < LOG_LIMIT_FORMATS; i++) {
		if (limit->format[i].fmt == fmt || !limit->format[i].fmt) {
			limit->format[i].fmt = fmt;
			lines = &limit->format[i].lines;
			break;
		}
	}
	if (*lines < LOG_LIMIT_LINES) {
		(*lines)++;
		return true;
	}
	limit->missed++;
	return false;
}
