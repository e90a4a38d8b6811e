/* vdisk's log: timestamped lines to the console, buffered until a console exists. */
#ifndef BOOT_LOG_H
#define BOOT_LOG_H

#include <stddef.h>

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
/** Sets the console backend and flushes what was logged before there was one. */
void log_set_sink(log_sink_fn sink);
/** Sets the most verbose level that is printed. */
void log_set_level(enum log_level level);
/** Returns the number of bytes written before any console existed and lost for lack of room. */
size_t log_lost_bytes(void);

#define log_error(...) log_printf(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_printf(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_printf(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_printf(LOG_DEBUG, __VA_ARGS__)

#endif
