/* Bus 0 of an ECAM host bridge (see pci.h). PCI = PCI Local Bus spec 3.0 §6 (configuration). */
#include <errno.h>

#include "arch/mmio.h"
#include "boot/pci.h"
#include "lib/log.h"

#define CFG_ID      0x00
#define CFG_COMMAND 0x04
#define CFG_CLASS   0x08
#define CFG_HEADER  0x0c /* header type in bits 23..16 */
#define CFG_BAR0    0x10
#define CFG_INTR     0x3c /* interrupt line in bits 7..0, interrupt pin in 15..8 (PCI §6.2.4) */
#define CMD_MEMORY  (1u << 1)
#define CMD_MASTER  (1u << 2)
#define CMD_INTX_OFF (1u << 10) /* Interrupt Disable: INTx not asserted (PCI §6.2.2) */
#define BAR_IO      (1u << 0)
#define BAR_64      (2u << 1)
#define BAR_TYPE    (3u << 1)
#define BAR_MIN     4096u /* each BAR in a page of its own, so that it can be mapped alone */

static uintptr_t cfg(const struct pci_bridge *b, unsigned int dev, unsigned int fn,
                     unsigned int reg)
{
	return (uintptr_t)(b->ecam + ((uint64_t)dev << 15 | (uint64_t)fn << 12 | reg));
}

static uint32_t rd(const struct pci_bridge *b, unsigned int dev, unsigned int fn, unsigned int reg)
{
	return mmio_read_32(cfg(b, dev, fn, reg));
}

static void wr(const struct pci_bridge *b, unsigned int dev, unsigned int fn, unsigned int reg,
               uint32_t v)
{
	mmio_write_32(cfg(b, dev, fn, reg), v);
}

/*
 * Sizes BAR 0 (PCI §6.2.5.1), places it in the window and turns decoding on, and bus
 * mastering, which the function's DMA needs (the SD host's ADMA2).
 */
static int place_bar0(struct pci_bridge *b, struct pci_function *f)
{
	uint32_t orig = rd(b, f->dev, f->fn, CFG_BAR0), mask;
	uint64_t size, at;

	if (orig & BAR_IO)
		return -ENOTSUP;
	wr(b, f->dev, f->fn, CFG_COMMAND, rd(b, f->dev, f->fn, CFG_COMMAND) & ~CMD_MEMORY);
	wr(b, f->dev, f->fn, CFG_BAR0, 0xffffffffu);
	mask = rd(b, f->dev, f->fn, CFG_BAR0) & ~0xfu;
	if ((orig & BAR_TYPE) == BAR_64) /* the upper half must be sized too; 4 GiB is plenty */
		wr(b, f->dev, f->fn, CFG_BAR0 + 4, 0);
	if (mask == 0)
		return -ENOTSUP;
	size = (uint64_t)(~mask) + 1;
	if (size < BAR_MIN)
		size = BAR_MIN;
	at = (b->mem_used + size - 1) & ~(size - 1);
	if (at > b->mem_size || size > b->mem_size - at ||
	    b->mem_pci + at + size > (1ull << 32)) /* a 32-bit BAR must stay below 4 GiB */
		return -ENOSPC;
	b->mem_used = at + size;
	wr(b, f->dev, f->fn, CFG_BAR0, (uint32_t)(b->mem_pci + at));
	/* Firmware may have left INTx disabled: vdisk may take the interrupt (boot/cards.c). */
	wr(b, f->dev, f->fn, CFG_COMMAND,
	   (rd(b, f->dev, f->fn, CFG_COMMAND) | CMD_MEMORY | CMD_MASTER) & ~CMD_INTX_OFF);
	f->bar0 = b->mem_cpu + at;
	f->bar0_size = (uint64_t)(~mask) + 1;
	return 0;
}

unsigned int pci_setup_class(struct pci_bridge *b, uint16_t class_sub, struct pci_function *out,
                             unsigned int max)
{
	unsigned int count = 0;

	for (unsigned int dev = 0; dev < 32 && count < max; dev++) {
		for (unsigned int fn = 0; fn < 8 && count < max; fn++) {
			uint32_t id = rd(b, dev, fn, CFG_ID);
			struct pci_function *f = &out[count];
			int rc;

			if ((id & 0xffffu) == 0xffffu) {
				if (fn == 0)
					break; /* no device here */
				continue;
			}
			if (rd(b, dev, fn, CFG_CLASS) >> 16 == class_sub) {
				uint32_t pin = rd(b, dev, fn, CFG_INTR) >> 8 & 0xffu;

				*f = (struct pci_function){.vendor = (uint16_t)id,
				                           .device = (uint16_t)(id >> 16),
				                           .dev = dev,
				                           .fn = fn,
				                           /* 5..255 are reserved: no INTx */
				                           .pin = pin <= 4 ? (uint8_t)pin : 0};
				rc = place_bar0(b, f);
				if (rc)
					log_error(
					    "pci: 00:%02x.%u (%04x:%04x): BAR 0 not placed (%d)",
					    dev, fn, f->vendor, f->device, rc);
				else
					count++;
			}
			/* Functions 1..7 exist only on a multi-function device (header bit 7). */
			if (fn == 0 && !(rd(b, dev, 0, CFG_HEADER) >> 16 & 0x80))
				break;
		}
	}
	return count;
}
