/* Xen PV console ring (io/console.h): what `xl console` shows for a domU. */
#ifndef HYP_CONSOLE_H
#define HYP_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

/**
 * Finds and maps the console ring (HVM_PARAM_CONSOLE_PFN/EVTCHN).
 * Returns 0, or -ENODEV when this domain has none (dom0 has Xen's console instead).
 */
int console_init(void);
/** Writes len bytes to the ring, waiting up to a second for room; drops the rest after that. */
void console_write(const char *buf, size_t len);
/**
 * Waits until the console daemon has consumed everything written (out_cons reaches out_prod),
 * for at most timeout_ns; returns 0 or -ETIMEDOUT. For a domain about to shut down.
 */
int console_drain(uint64_t timeout_ns);
/** Returns how many bytes could not be written because the ring stayed full. */
size_t console_dropped(void);

#endif
