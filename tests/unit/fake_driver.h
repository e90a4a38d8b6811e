/*
 * A guest's virtio-blk driver over the fake Xen's guest memory (tests/unit/fake_xen.h), as
 * Linux's virtio_mmio and virtio_blk set up and use queue 0: rings in guest pages 0..2,
 * requests of a header, one data buffer and a status byte. It gives the device either grant
 * addresses (Linux's grant-DMA, bit 63: pages lent per request, rings for the queue's life)
 * or guest-physical ones.
 */
#ifndef TESTS_UNIT_FAKE_DRIVER_H
#define TESTS_UNIT_FAKE_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

/** Descriptors in the driver's queue. */
#define DRV_QSIZE 16u

/** One driver: how it reaches the device's registers, and its queue's state. */
struct drv {
	uint32_t (*read)(uint32_t offset); /* a 4-byte register read */
	void (*write)(uint32_t offset, uint32_t value);
	bool grants;    /* grant addresses (references 0..2 for the rings), else guest-physical */
	uint16_t avail; /* requests made available so far */
};

/**
 * Brings the device up (virtio 1.2 §3.1.1): checks MagicValue, Version and DeviceID, accepts
 * every feature offered (ACCESS_PLATFORM is required with grants), sets up queue 0 on fresh
 * rings and sets DRIVER_OK. Returns whether the device took it all.
 */
bool drv_init(struct drv *d);
/**
 * One request as Linux's virtio_blk makes it: header (page hdr_page), `data_pages` pages of
 * data from data_page (one buffer; read-only for a write request), status byte (page
 * hdr_page + 1, set to 0xee first), then a QueueNotify. With grants, the pages are lent from
 * reference `ref` on, the data's consecutive. Returns the references used.
 */
uint32_t drv_submit(struct drv *d, uint32_t type, uint64_t sector, unsigned int hdr_page,
                    unsigned int data_page, unsigned int data_pages, uint32_t ref);
/** The used ring's idx, as the device last wrote it. */
uint16_t drv_used_idx(void);
/**
 * The available ring's idx set to `idx` as a broken or hostile driver might, with no
 * request behind it and no QueueNotify.
 */
void drv_set_avail_idx(uint16_t idx);

#endif
