/* Stage-1 identity map at EL1: 4 KiB granule, 39-bit VA (Arm ARM D8). */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <stdint.h>

/** Memory types for arch_mmu_map. */
enum mmu_attr {
	MMU_NORMAL, /* normal, inner/outer write-back, inner shareable */
	MMU_DEVICE, /* Device-nGnRE, never executable */
};

/** Maps the image and the device tree and turns on the MMU and caches (runs with MMU off). */
void arch_mmu_enable(uint64_t dtb_pa, uint64_t dtb_size);
/** Identity-maps [pa, pa + size) with attr; returns 0, -EINVAL or -ENOMEM. */
int arch_mmu_map(uint64_t pa, uint64_t size, enum mmu_attr attr);
/**
 * Changes the memory type of the pages of [pa, pa + size), each already mapped by its own
 * page entry (break-before-make); returns 0, or -EINVAL (nothing changed) if one is not.
 * For test guests that access device windows as normal memory; not safe while another CPU
 * uses those pages.
 */
int arch_mmu_set_attr(uint64_t pa, uint64_t size, enum mmu_attr attr);
/** Returns the image's runtime bounds [start, end). */
void arch_mmu_image_bounds(uint64_t *start, uint64_t *end);

#endif
