/* The guest's virtio-blk driver shared by the unit tests (see fake_driver.h). */
#include <string.h>

#include "blk/vblk.h"
#include "tests/unit/fake_driver.h"
#include "tests/unit/fake_xen.h"
#include "virtio/vmmio.h"
#include "virtio/vq.h"

#define DESC_PAGE  0u
#define AVAIL_PAGE 1u
#define USED_PAGE  2u

static void put_le(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int b = 0; b < bytes; b++)
		p[b] = (uint8_t)(v >> (8 * b));
}

/* The address the device gets for guest page `page`: lent as `ref` with grants. */
static uint64_t lend(const struct drv *d, unsigned int page, uint32_t ref, bool readonly)
{
	if (!d->grants)
		return fx_gpa(page, 0);
	fx_grant(ref, page, readonly);
	return GMEM_GRANT_BIT | (uint64_t)ref << 12;
}

static void write64(const struct drv *d, uint32_t low, uint64_t v)
{
	d->write(low, (uint32_t)v);
	d->write(low + 4, (uint32_t)(v >> 32));
}

bool drv_init(struct drv *d)
{
	uint64_t features;

	if (d->read(VMMIO_REG_MAGIC) != VMMIO_MAGIC ||
	    d->read(VMMIO_REG_VERSION) != VMMIO_VERSION ||
	    d->read(VMMIO_REG_DEVICE_ID) != VBLK_DEVICE_ID)
		return false;
	memset(fx_page(DESC_PAGE), 0, 3 * FX_PAGE);
	d->avail = 0;
	d->write(VMMIO_REG_STATUS, 0);
	d->write(VMMIO_REG_STATUS, VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER);
	d->write(VMMIO_REG_DEVICE_FEATURES_SEL, 0);
	features = d->read(VMMIO_REG_DEVICE_FEATURES);
	d->write(VMMIO_REG_DEVICE_FEATURES_SEL, 1);
	features |= (uint64_t)d->read(VMMIO_REG_DEVICE_FEATURES) << 32;
	if (d->grants && !(features & 1ull << VMMIO_F_ACCESS_PLATFORM))
		return false;
	d->write(VMMIO_REG_DRIVER_FEATURES_SEL, 0);
	d->write(VMMIO_REG_DRIVER_FEATURES, (uint32_t)features);
	d->write(VMMIO_REG_DRIVER_FEATURES_SEL, 1);
	d->write(VMMIO_REG_DRIVER_FEATURES, (uint32_t)(features >> 32));
	d->write(VMMIO_REG_STATUS,
	         VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER | VMMIO_STATUS_FEATURES_OK);
	d->write(VMMIO_REG_QUEUE_SEL, 0);
	d->write(VMMIO_REG_QUEUE_NUM, DRV_QSIZE);
	write64(d, VMMIO_REG_QUEUE_DESC_LOW, lend(d, DESC_PAGE, 0, false));
	write64(d, VMMIO_REG_QUEUE_DRIVER_LOW, lend(d, AVAIL_PAGE, 1, false));
	write64(d, VMMIO_REG_QUEUE_DEVICE_LOW, lend(d, USED_PAGE, 2, false));
	d->write(VMMIO_REG_QUEUE_READY, 1);
	d->write(VMMIO_REG_STATUS, VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER |
	                               VMMIO_STATUS_FEATURES_OK | VMMIO_STATUS_DRIVER_OK);
	return d->read(VMMIO_REG_STATUS) == 15;
}

uint16_t drv_used_idx(void)
{
	return (uint16_t)(fx_page(USED_PAGE)[2] | fx_page(USED_PAGE)[3] << 8);
}

void drv_set_avail_idx(uint16_t idx)
{
	put_le(fx_page(AVAIL_PAGE) + 2, idx, 2);
}

/* Descriptor i of the table. */
static void put_desc(unsigned int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *desc = fx_page(DESC_PAGE) + 16 * i;

	put_le(desc, addr, 8);
	put_le(desc + 8, len, 4);
	put_le(desc + 12, flags, 2);
	put_le(desc + 14, next, 2);
}

uint32_t drv_submit(struct drv *d, uint32_t type, uint64_t sector, unsigned int hdr_page,
                    unsigned int data_page, unsigned int data_pages, uint32_t ref)
{
	uint8_t *hdr = fx_page(hdr_page);
	uint8_t *avail = fx_page(AVAIL_PAGE);
	uint32_t first = ref;
	bool write = type == VBLK_T_OUT;
	uint16_t head = (uint16_t)((d->avail * 3) % (DRV_QSIZE / 3 * 3)); /* whole chains */

	put_le(hdr, type, 4);
	put_le(hdr + 4, 0, 4);
	put_le(hdr + 8, sector, 8);
	put_desc(head, lend(d, hdr_page, ref++, true), VBLK_HEADER_BYTES, VQ_DESC_F_NEXT, head + 1);
	put_desc(head + 1, lend(d, data_page, ref, write), data_pages * FX_PAGE,
	         VQ_DESC_F_NEXT | (write ? 0 : VQ_DESC_F_WRITE), head + 2);
	for (unsigned int i = 1; i < data_pages; i++)
		lend(d, data_page + i, ref + i, write);
	ref += data_pages;
	fx_page(hdr_page + 1)[0] = 0xee;
	put_desc(head + 2, lend(d, hdr_page + 1, ref++, false), 1, VQ_DESC_F_WRITE, 0);
	put_le(avail + 4 + 2 * (d->avail % DRV_QSIZE), head, 2);
	d->avail++;
	/* An interrupt for the next completion (used_event, virtio 1.2 §2.7.10), as Linux asks. */
	put_le(avail + 4 + 2 * DRV_QSIZE, drv_used_idx(), 2);
	put_le(avail + 2, d->avail, 2);
	d->write(VMMIO_REG_QUEUE_NOTIFY, 0);
	return ref - first;
}
