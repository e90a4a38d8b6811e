/*
 * virtio-mmio version 2 register model (virtio 1.2 §4.2.2) over a plain struct: the IOREQ
 * side feeds it the frontend's accesses with vmmio_read/vmmio_write, and the model raises
 * the interrupt line through the callback its owner set (vmmio_set_irq); the device behind
 * it (e.g. vblk) is reached through struct vmmio_ops. It knows nothing of Xen.
 * Single-threaded.
 */
#ifndef VIRTIO_VMMIO_H
#define VIRTIO_VMMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/log.h"
#include "virtio/vq.h"

/* Register offsets (virtio 1.2 §4.2.2). */
#define VMMIO_REG_MAGIC               0x000
#define VMMIO_REG_VERSION             0x004
#define VMMIO_REG_DEVICE_ID           0x008
#define VMMIO_REG_VENDOR_ID           0x00c
#define VMMIO_REG_DEVICE_FEATURES     0x010
#define VMMIO_REG_DEVICE_FEATURES_SEL 0x014
#define VMMIO_REG_DRIVER_FEATURES     0x020
#define VMMIO_REG_DRIVER_FEATURES_SEL 0x024
#define VMMIO_REG_QUEUE_SEL           0x030
#define VMMIO_REG_QUEUE_NUM_MAX       0x034
#define VMMIO_REG_QUEUE_NUM           0x038
#define VMMIO_REG_QUEUE_READY         0x044
#define VMMIO_REG_QUEUE_NOTIFY        0x050
#define VMMIO_REG_INTERRUPT_STATUS    0x060
#define VMMIO_REG_INTERRUPT_ACK       0x064
#define VMMIO_REG_STATUS              0x070
#define VMMIO_REG_QUEUE_DESC_LOW      0x080
#define VMMIO_REG_QUEUE_DESC_HIGH     0x084
#define VMMIO_REG_QUEUE_DRIVER_LOW    0x090
#define VMMIO_REG_QUEUE_DRIVER_HIGH   0x094
#define VMMIO_REG_QUEUE_DEVICE_LOW    0x0a0
#define VMMIO_REG_QUEUE_DEVICE_HIGH   0x0a4
#define VMMIO_REG_SHM_SEL             0x0ac
#define VMMIO_REG_SHM_LEN_LOW         0x0b0
#define VMMIO_REG_SHM_LEN_HIGH        0x0b4
#define VMMIO_REG_SHM_BASE_LOW        0x0b8
#define VMMIO_REG_SHM_BASE_HIGH       0x0bc
#define VMMIO_REG_CONFIG_GENERATION   0x0fc
#define VMMIO_REG_CONFIG              0x100
/** The size of one device's window (libxl places devices 0x200 apart). */
#define VMMIO_WINDOW 0x200

#define VMMIO_MAGIC   0x74726976u /* "virt" */
#define VMMIO_VERSION 2u
/** The most queues one device has. */
#define VMMIO_QUEUE_MAX 8u

/* InterruptStatus bits (§4.2.2). */
#define VMMIO_INT_VRING  1u
#define VMMIO_INT_CONFIG 2u

/* Device status bits (virtio 1.2 §2.1). */
#define VMMIO_STATUS_ACKNOWLEDGE        1u
#define VMMIO_STATUS_DRIVER             2u
#define VMMIO_STATUS_DRIVER_OK          4u
#define VMMIO_STATUS_FEATURES_OK        8u
#define VMMIO_STATUS_DEVICE_NEEDS_RESET 64u
#define VMMIO_STATUS_FAILED             128u

/** VIRTIO_F_VERSION_1 (virtio 1.2 §6): a version 2 device must offer it and the driver accept it.
 */
#define VMMIO_F_VERSION_1 32
/** VIRTIO_F_ACCESS_PLATFORM (virtio 1.2 §6): buffer addresses go through the platform (Xen grants).
 */
#define VMMIO_F_ACCESS_PLATFORM 33

/** What the transport asks of the device behind it (virtio 1.2 §4.2.3). */
struct vmmio_ops {
	/* The driver notified queue `queue`, which is ready, with DRIVER_OK set (§4.2.3.3). */
	void (*notify)(void *ctx, uint32_t queue);
	/*
	 * The driver reset the device (§2.4); may be NULL. Returns 0, or -EBUSY while the
	 * device still has requests at its medium: the queues then stay as they are (the
	 * device touches them no more), Status keeps reading non-zero and every other write
	 * is ignored until the device calls vmmio_reset_done (§2.4.1).
	 */
	int (*reset)(void *ctx);
	/* Copies config bytes [offset, offset + size) into buf; the range is checked (§4.2.2). */
	void (*config_read)(void *ctx, uint32_t offset, void *buf, uint32_t size);
};

/** What a device is (virtio 1.2 §4.2.2: DeviceID, VendorID, DeviceFeatures, QueueNumMax). */
struct vmmio_config {
	const char *name; /* for log lines, e.g. "vblk dom3/51712" */
	uint32_t device_id;
	uint32_t vendor_id;
	uint64_t features;      /* must include VMMIO_F_VERSION_1 */
	uint32_t queue_count;   /* 1 .. VMMIO_QUEUE_MAX */
	uint32_t queue_num_max; /* power of two, 1 .. VQ_SIZE_MAX */
	uint32_t seg_len_max;   /* largest buffer a chain may hold (0: no limit) */
	uint32_t config_size;   /* bytes of device config space, at most 0x100 */
	const struct vmmio_ops *ops;
	void *ctx;
	const struct vq_mem *mem; /* the frontend's memory */
};

/** One queue's registers (§4.2.2, §4.2.3.2) and its ring state. */
struct vmmio_queue {
	uint32_t num;
	bool ready;
	gpa_t desc, driver, device;
	struct vq vq;
};

/** A virtio-mmio device's register state; fields are private to vmmio.c. */
struct vmmio_dev {
	struct vmmio_config cfg;
	uint64_t driver_features;
	bool driver_features_high; /* the driver set a feature bit above 63 */
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	uint32_t shm_sel;
	uint32_t status;
	uint32_t interrupt_status;
	uint32_t config_generation;
	void (*irq)(void *ctx); /* raises the interrupt line (vmmio_set_irq), or NULL */
	void *irq_ctx;
	bool resetting; /* a reset waits for the device (vmmio_reset_done) */
	const char *warn_last; /* format of the last warning (vmmio_warn_allowed) */
	uint32_t warn_count;   /* how many times in a row it came */
	uint32_t warn_repeats; /* how many of those were not logged */
	struct log_limit limit; /* every line about the driver, per format; kept across resets */
	struct vmmio_queue queue[VMMIO_QUEUE_MAX];
};

/** Sets up a device in the reset state (virtio 1.2 §2.4); returns 0, or -EINVAL for a bad cfg. */
int vmmio_init(struct vmmio_dev *dev, const struct vmmio_config *cfg);

/**
 * A driver's read of `size` bytes at `offset` in the window (virtio 1.2 §4.2.2), into *val (0
 * if bad); returns 0, -EINVAL (logged) for a bad width, alignment or register, or -ERANGE
 * (logged) past the window or the config space.
 */
int vmmio_read(struct vmmio_dev *dev, uint64_t offset, uint32_t size, uint64_t *val);
/**
 * A driver's write (virtio 1.2 §4.2.2, §4.2.3); returns 0, or ignores it with one log line
 * and returns -EINVAL (bad width, alignment, register, value or state) or -ERANGE (outside).
 */
int vmmio_write(struct vmmio_dev *dev, uint64_t offset, uint32_t size, uint64_t val);

/**
 * Sets how the model raises its interrupt line (virtio 1.2 §4.2.3.4): `irq(ctx)` once for
 * every vmmio_interrupt, from inside the call that caused it (a register access, or the
 * device's own work); the line is edge-triggered, so each call is one interrupt.
 */
void vmmio_set_irq(struct vmmio_dev *dev, void (*irq)(void *ctx), void *ctx);
/** Whether a reset waits for the device (its reset op returned -EBUSY, virtio 1.2 §2.4.1). */
bool vmmio_resetting(const struct vmmio_dev *dev);
/**
 * The device has no request left at its medium: the reset it held back, if any, completes
 * (§2.4.1).
 */
void vmmio_reset_done(struct vmmio_dev *dev);
/** Sets InterruptStatus bits and raises the interrupt (virtio 1.2 §4.2.3.4). */
void vmmio_interrupt(struct vmmio_dev *dev, uint32_t bits);
/** The device changed its config: new ConfigGeneration, config interrupt (virtio 1.2 §2.5). */
void vmmio_config_changed(struct vmmio_dev *dev);
/** The device found a broken queue: sets DEVICE_NEEDS_RESET and notifies (virtio 1.2 §2.1.2). */
void vmmio_needs_reset(struct vmmio_dev *dev);

/** How many times in a row the same warning about a driver is logged before it is counted. */
#define VMMIO_WARN_BURST 10u

/**
 * Whether to log a warning about the driver with format `fmt` (a string literal: compared by
 * address): not when it is the same as the last VMMIO_WARN_BURST ones for this device, which
 * is then only counted. A driver repeating a mistake in a loop (a notify storm) gets a few
 * lines, and "the last warning repeated N more time(s)" before the next different warning
 * or reset. A reset logs the count so far but does not start a new burst: a driver that
 * resets between its mistakes is still counted, not logged.
 */
bool vmmio_warn_allowed(struct vmmio_dev *dev, const char *fmt);
/* (Then the device's log_limit, which also holds back its queues' and reset lines.) */
/** Logs how often the last warning repeated, if it did, and forgets it. */
void vmmio_warn_flush(struct vmmio_dev *dev);

/**
 * Logs what the device still holds back about its driver (the last warning's repeats, lines
 * the log limit kept out): for when the device goes away.
 */
void vmmio_log_flush(struct vmmio_dev *dev);

/** Queue `queue`'s ring state, or NULL if there is no such queue. */
struct vq *vmmio_vq(struct vmmio_dev *dev, uint32_t queue);
/** The features the driver accepted, once FEATURES_OK is set; 0 before (virtio 1.2 §2.2). */
uint64_t vmmio_features(const struct vmmio_dev *dev);
/** The device status register (virtio 1.2 §2.1). */
uint32_t vmmio_status(const struct vmmio_dev *dev);

#endif
