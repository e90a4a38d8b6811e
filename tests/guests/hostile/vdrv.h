/*
 * A tiny virtio-mmio (version 2) block driver for the hostile test guest: device
 * initialisation (virtio 1.2 §3.1.1, §4.2.3), one split virtqueue in the guest's own RAM
 * (§2.7) and synchronous requests that poll used.idx. It also exposes the raw pieces
 * (registers, descriptors, available ring) so that attacks can break every rule.
 */
#ifndef TESTS_GUESTS_HOSTILE_VDRV_H
#define TESTS_GUESTS_HOSTILE_VDRV_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/vmmio.h"

/** The largest queue this driver sets up (vdisk's QueueNumMax). */
#define VDRV_QSIZE_MAX 256u
/** The queue size used for ordinary requests. */
#define VDRV_QSIZE 16u

/** A split-virtqueue descriptor as the driver writes it (virtio 1.2 §2.7.5). */
struct vdrv_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/** The three ring areas of one queue, each in its own page (virtio 1.2 §2.7). */
struct vdrv_rings {
	struct vdrv_desc desc[VDRV_QSIZE_MAX];
	/* flags, idx, ring[VDRV_QSIZE_MAX], used_event */
	uint16_t avail[2048] __attribute__((aligned(4096)));
	/* flags, idx, then {id, len} pairs as 32-bit words, then avail_event */
	uint32_t used[1024] __attribute__((aligned(4096)));
};

/**
 * Where a queue's three parts are (virtio 1.2 §2.7): our pointers to them, and the addresses
 * the device is given, which may differ (a grant alias of the same page).
 */
struct vdrv_layout {
	struct vdrv_desc *desc;
	uint16_t *avail; /* flags, idx, ring[qsize], used_event */
	uint32_t *used;  /* flags and idx, then {id, len} pairs, then avail_event */
	uint64_t desc_dma, avail_dma, used_dma;
};

/** One virtio-blk device as the hostile guest drives it. */
struct vdrv {
	const char *name;         /* "xvda", for log lines */
	uintptr_t base;           /* the virtio-mmio window (mapped as device memory) */
	struct vdrv_rings *rings; /* page-aligned, in our RAM (identity-mapped: VA == GPA) */
	struct vdrv_layout q; /* the rings in use: `rings` unless vdrv_setup_layout moved them */
	uint64_t device_features;
	uint64_t features; /* what vdrv_setup negotiated */
	uint64_t capacity; /* sectors */
	uint32_t queue_num_max;
	uint16_t qsize;
	uint16_t avail_idx; /* the next avail.idx we publish */
	uint16_t used_idx;  /* the used.idx we have consumed up to */
	bool grants;        /* give the device grant-DMA addresses (grant.c), not GPAs */
	unsigned int irq;   /* its interrupt's GIC INTID (an SPI), 0 if unknown */
};

/** The INTIDs vdrv_irq_wait and vdrv_irq_drain can record (SPIs up to 63 and below). */
#define VDRV_IRQ_RECORDED 64u

/** What the device did with a published chain. */
struct vdrv_answer {
	bool used;       /* a used element came back */
	uint32_t id;     /* its id */
	uint32_t len;    /* its len */
	uint32_t status; /* the Status register afterwards */
};

/** The address the device gets for p: its GPA, or its grant-DMA address in grant mode. */
uint64_t vdrv_dma(const struct vdrv *d, const void *p);
/** Reads a 32-bit register of the window (one ldr). */
uint32_t vdrv_read32(const struct vdrv *d, uint32_t offset);
/** Writes a 32-bit register of the window (one str). */
void vdrv_write32(const struct vdrv *d, uint32_t offset, uint32_t val);
/** Reads 1, 2, 4 or 8 bytes at offset with one load of that width. */
uint64_t vdrv_read_sized(const struct vdrv *d, uint32_t offset, unsigned int size);
/** Writes 1, 2, 4 or 8 bytes at offset with one store of that width. */
void vdrv_write_sized(const struct vdrv *d, uint32_t offset, unsigned int size, uint64_t val);

/**
 * Binds d to the window at base and checks MagicValue, Version and DeviceID (virtio 1.2
 * §4.2.3.1.1); returns 0 or -ENODEV (logged).
 */
int vdrv_probe(struct vdrv *d, const char *name, uintptr_t base, struct vdrv_rings *rings);
/** Writes Status 0 and checks that it reads back 0 (virtio 1.2 §2.4); returns 0 or -EIO. */
int vdrv_reset(struct vdrv *d);
/**
 * Full initialisation (virtio 1.2 §3.1.1): reset, ACKNOWLEDGE, DRIVER, features (VERSION_1,
 * ACCESS_PLATFORM in grant mode, and those of `want` the device offers), FEATURES_OK, queue 0 with
 * qsize entries, DRIVER_OK. Returns 0 or -errno (logged).
 */
int vdrv_setup(struct vdrv *d, uint64_t want, uint16_t qsize);
/**
 * vdrv_setup with the rings where `q` says, zeroed first (descriptors, then the available
 * ring, then the used ring). Returns 0, -ENXIO if QueueReady stayed 0 (the device refused
 * the rings; logged as information), or -errno as vdrv_setup.
 */
int vdrv_setup_layout(struct vdrv *d, uint64_t want, uint16_t qsize, const struct vdrv_layout *q);
/** The default layout: the three pages of d->rings, at vdrv_dma addresses. */
struct vdrv_layout vdrv_default_layout(const struct vdrv *d);
/** The used_event field (virtio 1.2 §2.7.10) at the end of the available ring. */
volatile uint16_t *vdrv_used_event(const struct vdrv *d);
/** The avail_event field (virtio 1.2 §2.7.10) at the end of the used ring. */
volatile uint16_t *vdrv_avail_event(const struct vdrv *d);
/** Puts `head` in the next available ring slot and publishes avail.idx (virtio 1.2 §2.7.13). */
void vdrv_publish(struct vdrv *d, uint16_t head);
/** Writes avail.idx as is (for attacks), without touching the ring entries. */
void vdrv_set_avail_idx(struct vdrv *d, uint16_t idx);
/** QueueNotify for queue 0 (virtio 1.2 §4.2.3.3). */
void vdrv_notify(struct vdrv *d);
/** The device's used.idx as it is now (the elements before it may then be read). */
uint16_t vdrv_used_idx(const struct vdrv *d);
/**
 * Notifies and waits up to timeout_ms for a used element (virtio 1.2 §2.7.14) or
 * DEVICE_NEEDS_RESET; fills *ans either way.
 */
void vdrv_wait(struct vdrv *d, uint32_t timeout_ms, struct vdrv_answer *ans);
/**
 * Notifies and waits up to timeout_ms until `count` used elements came (or
 * DEVICE_NEEDS_RESET); consumes them and returns how many came, their ids in ids[] if not NULL.
 */
unsigned int vdrv_wait_count(struct vdrv *d, unsigned int count, uint32_t timeout_ms,
                             uint32_t *ids);
/**
 * A well-formed request (virtio 1.2 §5.2.6) in descriptors 0..2: header, `len` bytes of data
 * at buf (none if len is 0; device-readable for OUT, DISCARD and WRITE_ZEROES), status.
 * Returns the status byte (0xff if none came back).
 */
int vdrv_request(struct vdrv *d, uint32_t type, uint64_t sector, void *buf, uint32_t len);
/** vdrv_request in descriptors head..head + 2 (head + 1 without data). */
int vdrv_request_at(struct vdrv *d, uint16_t head, uint32_t type, uint64_t sector, void *buf,
                    uint32_t len);

/**
 * Acknowledges and ends (EOI) every interrupt the GIC holds for us, polling for wait_us
 * microseconds (PSTATE.I stays masked: nothing is taken as an exception), and forgets what
 * earlier calls recorded. Returns how many were acknowledged.
 */
unsigned int vdrv_irq_drain(uint32_t wait_us);
/**
 * Polls the GIC for up to wait_us microseconds until d's interrupt is acknowledged (each
 * interrupt acknowledged on the way is ended and recorded); returns whether it was.
 */
bool vdrv_irq_wait(const struct vdrv *d, uint32_t wait_us);
/** The INTIDs below VDRV_IRQ_RECORDED acknowledged since the last vdrv_irq_drain, a bit each. */
uint64_t vdrv_irq_recorded(void);

#endif
