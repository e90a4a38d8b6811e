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
/**
 * Parses one disk of the vdisk.disk= bootarg (a domain with no xenstore: vdisk as dom0 of a
 * dom0less system), "domain=ID,base=ADDR,irq=SPI[,access=ro|rw],target=TARGET": the
 * guest's domain id, its virtio-mmio window (hex, 0x prefix allowed), the window's SPI, and
 * the target as in xl's disk syntax, last (it keeps the rest of the string). `spec` is split
 * in place; *params points at the target in it. Returns 0, or -EINVAL with *key (the
 * vdisk.disk key), *value (NULL if missing) and *why, as backend_check.
 */
int backend_parse_disk(char *spec, uint32_t devid, struct backend_config *out, const char **params,
                       const char **key, const char **value, const char **why);
/** Parses a whole unsigned number in `base` up to `max` (no sign, no blanks); false if not. */
bool backend_parse_u64(const char *s, int base, uint64_t max, uint64_t *out);

/**
 * Watches both backend layouts and serves the devices found there, notified queues as
 * `policy` says. Returns 0 or -errno.
 */
int backend_start(enum vblk_policy policy);

/**
 * Serves one disk of the vdisk.disk= bootarg (see backend_parse_disk) as device `devid`, for
 * a domain with no xenstore: no directory, no states, the guest's window served from now on.
 * A bad setting is logged with its key and value. Returns 0 or -errno.
 */
int backend_add_fixed(enum vblk_policy policy, const char *spec, uint32_t devid);

/**
 * Something happened on SD card `card` (its controller's interrupt, boot/cards.c): the
 * devices whose disks are on it are served from the loop at once.
 */
void backend_card_event(unsigned int card);

/** Most devices vdisk serves at once. */
#define BACKEND_DEV_MAX 8

struct hist;

/** One device's latency histograms (lib/hist.h), as backend_latency lists them. */
struct backend_latency {
	char name[24];              /* "domFE-DEVID" */
	const struct hist *service; /* request service time: from the available to the used ring */
	const struct hist *ioreq;   /* IOREQ turnaround: read to answered */
};

/**
 * Lists the histograms of each device served now (not those removed) in out[], which has room
 * for BACKEND_DEV_MAX; returns how many.
 */
unsigned int backend_latency(struct backend_latency *out);

#endif
