/*
 * One virtio disk served to one guest: the guest's memory (hyp/gmem.h), the IOREQ server on
 * its virtio-mmio window (hyp/ioreq.h) and the virtio-blk device behind it (blk/vblk.h) over
 * a disk, tied together and served from the main loop (boot/loop.h). It knows nothing of
 * xenstore: what its owner (boot/backend.c) must hear comes back through struct dev_ops.
 */
#ifndef BOOT_DEV_H
#define BOOT_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "blk/disk.h"
#include "blk/vblk.h"
#include "hyp/gmem.h"
#include "hyp/ioreq.h"

/**
 * How long a device keeps asking for an IOREQ server that Xen refuses for want of
 * device-model rights (less than libxl's wait for InitWait) before it fails.
 */
#define DEV_RIGHTS_WAIT_NS (8ull * 1000000000ull)

/** What a device tells its owner; each gets the ctx given to dev_start. */
struct dev_ops {
	/* The IOREQ server runs on the guest's window: the guest may come. */
	void (*serving)(void *ctx);
	/* The device cannot serve; `msg` says why (naming the guest). It holds no mapping. */
	void (*failed)(void *ctx, const char *msg);
	/* The guest's driver set DRIVER_OK (virtio 1.2 §3.1.1); once, from the main loop. */
	void (*connected)(void *ctx);
	/* The disk gave back the last request dev_stop left with it; from the main loop. */
	void (*drained)(void *ctx);
};

/** Which disk a device serves to which guest, and where. */
struct dev_config {
	const char *name; /* "dom3/51712", for log lines; kept, as it must outlive the device */
	uint16_t domid;   /* the guest */
	uint64_t base;    /* the guest's virtio-mmio window, VMMIO_WINDOW bytes */
	uint32_t irq;     /* the window's SPI */
	enum vblk_policy policy; /* when notified queues are served */
	struct disk *disk;
};

/** One device: its settings, where it stands, and the parts it ties together. */
struct dev {
	struct dev_config cfg;
	const struct dev_ops *ops;
	void *ctx;
	bool active; /* from dev_start to dev_stop: deferred work finds out when it is not */
	bool connected;
	bool waiting_for_rights;
	uint64_t rights_deadline;
	uint64_t serving_ns; /* when the IOREQ server started: the guest's first access is timed */
	bool accessed;
	struct gmem gmem;
	struct ioreq_server ioreq;
	struct vblk blk;
};

/**
 * Serves cfg->disk to guest cfg->domid: maps its memory, sets up a virtio-blk device with a
 * queue per guest vCPU and starts an IOREQ server on its window. Without device-model rights
 * over the guest yet, it keeps trying for DEV_RIGHTS_WAIT_NS from the main loop. The outcome
 * comes back through `ops` (with `ctx`), perhaps before dev_start returns: serving, or failed.
 */
void dev_start(struct dev *d, const struct dev_config *cfg, const struct dev_ops *ops, void *ctx);
/**
 * Stops serving: the IOREQ server goes, guest memory is unmapped, and the requests the disk
 * still holds are cancelled (they touch no guest memory). Returns how many those are; if any,
 * ops->drained comes once the disk has given them all back, and *d must be kept until then.
 * Also for a device that failed, or a zeroed one that never started (nothing to undo).
 */
unsigned int dev_stop(struct dev *d);
/** Something happened at the device's disk (an SD card's interrupt): serves it from the loop. */
void dev_disk_event(struct dev *d);

#endif
