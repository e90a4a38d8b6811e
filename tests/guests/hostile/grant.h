/*
 * The hostile guest's own grant table (public/grant_table.h, version 1): every page of its
 * image is offered to the backend domain, so that any buffer it owns has a Xen grant-DMA
 * address (bit 63 | reference << 12 | offset, as Linux's grant-dma-ops.c makes them).
 */
#ifndef TESTS_GUESTS_HOSTILE_GRANT_H
#define TESTS_GUESTS_HOSTILE_GRANT_H

#include <stdbool.h>
#include <stdint.h>

/** The grant-DMA address bit (Linux XEN_GRANT_DMA_ADDR_OFF). */
#define GRANT_DMA_BIT (1ull << 63)

/**
 * Maps frame 0 of our grant table at table_gpa (the /hypervisor grant-table region) and
 * grants every page of the image to domain `backend`, writable. Returns 0 or -errno (logged).
 */
int grant_init(uint64_t table_gpa, uint16_t backend);
/** The grant-DMA address of p (which must be in the image). */
uint64_t grant_addr(const void *p);
/** The reference that grants p's page. */
uint32_t grant_ref_of(const void *p);
/** Re-offers p's page writable, read-only, or (revoke) not at all. */
void grant_set(const void *p, bool offered, bool readonly);

#endif
