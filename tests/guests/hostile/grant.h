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
/** Re-offers p's page writable, read-only, or (revoke) not at all, whatever the entry shows. */
void grant_set(const void *p, bool offered, bool readonly);
/** Rewrites entry `ref` as is: flags 0 first, then frame and domid, then flags. */
void grant_entry_set(uint32_t ref, uint64_t frame, uint16_t domid, uint16_t flags);
/** The flags of p's entry, GTF_reading and GTF_writing included (Xen sets them while mapped). */
uint16_t grant_flags(const void *p);
/**
 * Ends access to p's page as Linux's gnttab_end_foreign_access_ref does for version 1: clears
 * the flags only if neither GTF_reading nor GTF_writing is set. Returns whether it did.
 */
bool grant_end(const void *p);
/**
 * Offers p's page writable under the last reference of the table as well (an alias), and
 * returns that reference's grant-DMA address for the page's start.
 */
uint64_t grant_alias(const void *p);
/** Withdraws the alias grant_alias made. */
void grant_alias_end(void);

#endif
