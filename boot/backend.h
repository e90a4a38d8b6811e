/*
 * virtio disks vdisk serves, found in xenstore where libxl puts them: 4.17's
 * backend/virtio_disk/<frontend>/<devid>/ and the generic backend/virtio/<frontend>/<devid>/
 * of later versions, under vdisk's own domain path.
 */
#ifndef BOOT_BACKEND_H
#define BOOT_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "blk/target.h"
#include "blk/vblk.h"

/** Where libxl wrote a device (the layouts differ in how `base` is written). */
enum backend_layout {
	BACKEND_VIRTIO_DISK, /* libxl 4.17: base in decimal */
	BACKEND_VIRTIO,      /* libxl 4.18+: base in hex */
};

/** A device's settings from its backend directory, checked. */
struct backend_config {
	uint16_t frontend;   /* frontend-id */
	uint32_t devid;
	uint64_t base;       /* virtio-mmio window, VMMIO size at this address */
	uint32_t irq;        /* SPI the guest's virtio-mmio node uses */
	bool read_only;      /* mode "r" */
	struct target target;
};

/** xenbus states (io/xenbus.h) that vdisk writes to a backend's `state`. */
enum backend_state {
	BACKEND_INITIALISING = 1,
	BACKEND_INIT_WAIT = 2,
	BACKEND_CONNECTED = 4,
	BACKEND_CLOSED = 6,
};

/**
 * Checks the keys of one backend directory, as read from xenstore (NULL where a key is
 * missing). Returns 0, or -EINVAL with *key naming the bad key, *value its value (NULL if
 * missing) and *why saying what is wrong.
 */
int backend_check(enum backend_layout layout, uint16_t frontend_dir, uint32_t devid,
		  const char *frontend_id, const char *params, const char *mode, const char *base,
		  const char *irq, struct backend_config *out, const char **key, const char **value,
		  const char **why);
/** Parses a whole unsigned number in `base` up to `max` (no sign, no blanks); false if not. */
bool backend_parse_u64(const char *s, int base, uint64_t max, uint64_t *out);

/**
 * Watches both backend layouts and serves the devices found there, notified queues as
 * `policy` says. Returns 0 or -errno.
 */
int backend_start(enum vblk_policy policy);

/**
 * Writes each device's latency histograms (lib/hist.h's text) to
 * data/vdisk/latency/domFE-DEVID/service (request service time: taken from the available ring
 * to put in the used ring) and .../ioreq (IOREQ turnaround: read to answered), replacing what
 * the last call wrote: devices gone since are gone there too.
 */
void backend_publish_latency(void);

#endif
