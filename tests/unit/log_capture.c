/* Log sink for unit tests: appends every line to log_text. */
#include <string.h>

#include "lib/log.h"
#include "tests/unit/log_capture.h"

char log_text[64 * 1024];
static size_t log_len;

static void capture_log(const char *buf, size_t len)
{
	if (len > sizeof(log_text) - 1 - log_len)
		len = sizeof(log_text) - 1 - log_len;
	memcpy(log_text + log_len, buf, len);
	log_len += len;
	log_text[log_len] = '\0';
}

void log_capture_reset(void)
{
	log_len = 0;
	log_text[0] = '\0';
	log_set_sink(capture_log);
}
