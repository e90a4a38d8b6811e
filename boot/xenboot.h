/* The first steps of any domain built from this tree under Xen: probe, shared_info, console. */
#ifndef BOOT_XENBOOT_H
#define BOOT_XENBOOT_H

#include <stdbool.h>

#include "hyp/xen.h"

/**
 * Probes Xen (XENVER_*), maps shared_info into a page of our image and starts the event
 * channel layer on it (vCPU 0). Returns 0, or -errno after logging what failed.
 */
int xenboot_init(struct xen_info *xen);
/**
 * Sends the log to the PV console ring, or to Xen's own console (CONSOLEIO_write) for the
 * hardware domain; returns false when neither exists (the log stays buffered).
 */
bool xenboot_attach_console(const struct xen_info *xen);

#endif
