/* Captures what the code under test logs (lib/log.c), for assertions on log lines. */
#ifndef TESTS_UNIT_LOG_CAPTURE_H
#define TESTS_UNIT_LOG_CAPTURE_H

/** Everything logged since the last log_capture_reset(), NUL-terminated (truncated if long). */
extern char log_text[64 * 1024];

/** Empties log_text and makes it the log's sink. */
void log_capture_reset(void);

#endif
