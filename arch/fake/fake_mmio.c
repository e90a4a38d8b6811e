/*
 * Host implementation of device MMIO (see arch/fake_mmio.h): a small table of mapped
 * register models, and a loud abort for any access that would fault on the real machine.
 */
#include <stdio.h>
#include <stdlib.h>

#include "arch/fake.h"
#include "arch/fake_mmio.h"

/** One register model mapped into the fake address space. */
struct fake_mmio_region {
	uintptr_t base;
	uint32_t size; /* 0 = slot free */
	const struct fake_mmio_ops *ops;
	void *ctx;
};

/* One device address space per test process, as there is one per machine. */
static struct fake_mmio_region regions[FAKE_MMIO_REGIONS];

/* Prints what went wrong and stops the test program, as a fault would stop the firmware. */
static void fake_mmio_die(const char *what, uintptr_t addr, unsigned int size)
{
	fprintf(stderr, "fake_mmio: %s: %u-byte access at 0x%llx\n", what, size,
	        (unsigned long long)addr);
	abort();
}

void fake_mmio_map(uintptr_t base, uint32_t size, const struct fake_mmio_ops *ops, void *ctx)
{
	struct fake_mmio_region *free_slot = NULL;

	if (size == 0 || base + size < base)
		fake_mmio_die("map of an empty or wrapping region", base, size);
	for (unsigned int i = 0; i < FAKE_MMIO_REGIONS; i++) {
		struct fake_mmio_region *r = &regions[i];

		if (r->size == 0) {
			if (!free_slot)
				free_slot = r;
			continue;
		}
		if (base < r->base + r->size && r->base < base + size)
			fake_mmio_die("map overlaps a mapped region", base, size);
	}
	if (!free_slot)
		fake_mmio_die("map with every region slot in use", base, size);
	*free_slot = (struct fake_mmio_region){base, size, ops, ctx};
}

void fake_mmio_unmap(uintptr_t base)
{
	for (unsigned int i = 0; i < FAKE_MMIO_REGIONS; i++) {
		if (regions[i].size != 0 && regions[i].base == base) {
			regions[i].size = 0;
			return;
		}
	}
	fake_mmio_die("unmap of a region that is not mapped", base, 0);
}

void fake_mmio_unmap_all(void)
{
	for (unsigned int i = 0; i < FAKE_MMIO_REGIONS; i++)
		regions[i].size = 0;
}

uint64_t fake_mmio_access(uintptr_t addr, unsigned int size, bool write, uint64_t val)
{
	fake_time_ns += 1000;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		fake_mmio_die("bad access size", addr, size);
	if (addr % size != 0)
		fake_mmio_die("unaligned access", addr, size);
	for (unsigned int i = 0; i < FAKE_MMIO_REGIONS; i++) {
		struct fake_mmio_region *r = &regions[i];
		uint32_t offset;

		if (r->size == 0 || addr < r->base || addr - r->base >= r->size)
			continue;
		offset = (uint32_t)(addr - r->base);
		if (size > r->size - offset)
			fake_mmio_die("access runs past the end of its region", addr, size);
		if (write) {
			r->ops->write(r->ctx, offset, size, val);
			return 0;
		}
		return r->ops->read(r->ctx, offset, size);
	}
	fake_mmio_die(write ? "write outside every mapped region"
	                    : "read outside every mapped region",
	              addr, size);
	return 0;
}
