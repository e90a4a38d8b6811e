/* Xen PV console ring (io/console.h): what `xl console` shows for a domU. */
#ifndef HYP_CONSOLE_H
#define HYP_CONSOLE_H

#include <stddef.h>

/**
 * Finds and maps the console ring (HVM_PARAM_CONSOLE_PFN/EVTCHN).
 * Returns 0, or -ENODEV when this domain has none (dom0 has Xen's console instead).
 */
int console_init(void);
/** Writes len bytes to the ring, waiting up to a second for room; drops the rest after that. */
void console_write(const char *buf, size_t len);
/** Returns how many bytes could not be written because the ring stayed full. */
size_t console_dropped(void);

#endif
