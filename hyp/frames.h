/*
 * Frames of vdisk's own guest-physical space that hold no RAM, for Xen to map foreign
 * guest pages and ioreq pages into. They come from an extended region Xen lists in the
 * device tree's /hypervisor node (reg[1..]: IPA space free for such mappings).
 */
#ifndef HYP_FRAMES_H
#define HYP_FRAMES_H

#include <stdint.h>

#include "hyp/xen.h"

/** Most frames vdisk manages (32 MiB of mapping space). */
#define FRAMES_MAX 8192

/**
 * Takes up to FRAMES_MAX frames from the free region [base, base + size) and maps them
 * into the MMU as normal memory. Returns the number of frames, or -errno.
 */
int frames_init(uint64_t base, uint64_t size);
/** Allocates `count` consecutive frames into *first; 0, or -ENOMEM when none are left. */
int frames_alloc(unsigned int count, struct own_frame *first);
/** Returns `count` frames starting at `first` to the pool. */
void frames_free(struct own_frame first, unsigned int count);
/** Returns how many frames are free. */
unsigned int frames_free_count(void);
/** The address at which vdisk reaches one of its frames (identity map). */
static inline void *frames_ptr(struct own_frame f)
{
	return (void *)(uintptr_t)(f.n << XEN_PAGE_SHIFT);
}

#endif
