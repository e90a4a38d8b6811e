/* vdisk's log: timestamped lines to the console, buffered until a console exists. */
#ifndef LIB_LOG_H
#define LIB_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Severities, lowest number most severe; lines above the current level are dropped. */
enum log_level {
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

/** A console backend: writes len bytes of text (lines end in "\n"). */
typedef void (*log_sink_fn)(const char *buf, size_t len);

/** Formats one line "[seconds.micros] message" and sends it to the console. */
void log_printf(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/**
 * Logs "KEY TEXT" at `level`, over as many lines as the console's line length needs: the first
 * "KEY TEXT1", each further one "KEY +TEXTn", where TEXT1 TEXT2 ... joined as they are give
 * `text` back. Each piece but the last ends just before a space or a comma of `text` (at the
 * line's end if it has none), so the pieces after the first start with one.
 */
void log_long(enum log_level level, const char *key, const char *text);
/** Sets the console backend and flushes what was logged before there was one. */
void log_set_sink(log_sink_fn sink);
/** Sets the most verbose level that is printed. */
void log_set_level(enum log_level level);
/** Returns the number of bytes written before any console existed and lost for lack of room. */
size_t log_lost_bytes(void);

/** How many lines of one format a log_limit lets through in each period. */
#define LOG_LIMIT_LINES     10u
#define LOG_LIMIT_PERIOD_NS (10ull * 1000000000ull)
/**
 * How many formats a log_limit tells apart; the rest share one count. More than a guest can
 * reach (about 65 in virtio/vmmio.c, virtio/vq.c and blk/vblk.c): with 16, a hostile guest
 * going through its attacks within one period had first-of-a-kind complaints held back.
 */
#define LOG_LIMIT_FORMATS 128u

/**
 * A budget of log lines for one source an untrusted party controls (a guest's device), per
 * format as printk_ratelimited is per call site: each format gets LOG_LIMIT_LINES lines per
 * LOG_LIMIT_PERIOD_NS, so a driver that breaks and resets its device in a loop cannot flood
 * the console, while each different complaint still gets its line. Fields are private to
 * log.c.
 */
struct log_limit {
	const char *who; /* names the source in the "not logged" line */
	uint64_t start_ns;
	bool started;
	uint32_t missed;
	uint32_t other_lines; /* formats past the table */
	struct {
		const char *fmt;
		uint32_t lines;
	} format[LOG_LIMIT_FORMATS];
};

/** Starts a budget for lines about `who` (kept by pointer: it must outlive the limit). */
void log_limit_init(struct log_limit *limit, const char *who);
/**
 * Whether one more line with format `fmt` (a string literal: compared by address) may be
 * logged under `limit` (NULL: no limit). When a new period begins, first logs how many lines
 * the last one held back.
 */
bool log_limit_allow(struct log_limit *limit, const char *fmt);
/**
 * Logs how many lines `limit` held back in its current period, if any, and forgets them (the
 * period goes on): for when the source goes away before its next line would have said it.
 */
void log_limit_flush(struct log_limit *limit);
/** Logs a line at `level` unless `limit` holds it back (log_limit_allow). */
#define log_limited(limit, level, fmt, ...)                                                        \
	do {                                                                                       \
		if (log_limit_allow(limit, fmt))                                                   \
			log_printf(level, fmt, ##__VA_ARGS__);                                     \
	} while (0)

#define log_error(...) log_printf(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_printf(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_printf(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_printf(LOG_DEBUG, __VA_ARGS__)

#endif
