/* vdisk's free RAM (what the domain's memory= leaves after the image), for RAM disks. */
#ifndef BOOT_RAM_H
#define BOOT_RAM_H

#include <stdint.h>

/** Hands out [start, end) (already mapped); page-aligns both ends. */
void ram_init(uint64_t start, uint64_t end);
/** Allocates size bytes, page aligned, for the life of vdisk; NULL when it does not fit. */
void *ram_alloc(uint64_t size);
/** Bytes still free. */
uint64_t ram_free(void);

#endif
