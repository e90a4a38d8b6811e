/*
 * Our grant table, version 1 (public/grant_table.h): entry `ref` = {flags, domid, frame}.
 * An entry is written frame and domid first, then flags, after a barrier, so that the backend
 * never sees permission for a half-written entry.
 */
#include <errno.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/grant_table.h>

#include "arch/barrier.h"
#include "arch/mmu.h"
#include "hyp/xen.h"
#include "lib/log.h"
#include "tests/guests/hostile/grant.h"

#define FIRST_REF   GNTTAB_NR_RESERVED_ENTRIES
#define ENTRY_COUNT (XEN_PAGE_SIZE / sizeof(struct grant_entry_v1))
#define ALIAS_REF   (ENTRY_COUNT - 1) /* grant_alias: past the image's references */

static struct grant_entry_v1 *table;
static uint64_t image_start, image_end;
static uint16_t backend_domid;

uint32_t grant_ref_of(const void *p)
{
	return (uint32_t)(FIRST_REF + (((uintptr_t)p - image_start) >> XEN_PAGE_SHIFT));
}

uint64_t grant_addr(const void *p)
{
	return GRANT_DMA_BIT | (uint64_t)grant_ref_of(p) << XEN_PAGE_SHIFT |
	       ((uintptr_t)p & (XEN_PAGE_SIZE - 1));
}

void grant_entry_set(uint32_t ref, uint64_t frame, uint16_t domid, uint16_t flags)
{
	struct grant_entry_v1 *e = &table[ref];

	__atomic_store_n(&e->flags, 0, __ATOMIC_RELAXED);
	smp_wmb();
	e->domid = domid;
	e->frame = (uint32_t)frame;
	smp_wmb();
	__atomic_store_n(&e->flags, flags, __ATOMIC_RELAXED);
}

void grant_set(const void *p, bool offered, bool readonly)
{
	uint16_t flags =
	    offered ? (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)) : 0;

	grant_entry_set(grant_ref_of(p), (uintptr_t)p >> XEN_PAGE_SHIFT, backend_domid, flags);
}

uint16_t grant_flags(const void *p)
{
	return __atomic_load_n(&table[grant_ref_of(p)].flags, __ATOMIC_RELAXED);
}

bool grant_end(const void *p)
{
	uint16_t *flags = &table[grant_ref_of(p)].flags;
	uint16_t old = __atomic_load_n(flags, __ATOMIC_RELAXED);

	do {
		if (old & (GTF_reading | GTF_writing))
			return false;
	} while (!__atomic_compare_exchange_n(flags, &old, 0, false, __ATOMIC_SEQ_CST,
	                                      __ATOMIC_RELAXED));
	return true;
}

uint64_t grant_alias(const void *p)
{
	grant_entry_set(ALIAS_REF, (uintptr_t)p >> XEN_PAGE_SHIFT, backend_domid,
	                GTF_permit_access);
	return GRANT_DMA_BIT | (uint64_t)ALIAS_REF << XEN_PAGE_SHIFT;
}

void grant_alias_end(void)
{
	grant_entry_set(ALIAS_REF, 0, backend_domid, 0);
}

int grant_init(uint64_t table_gpa, uint16_t backend)
{
	struct own_frame at = {.n = table_gpa >> XEN_PAGE_SHIFT};
	int rc;

	arch_mmu_image_bounds(&image_start, &image_end);
	if (((image_end - image_start) >> XEN_PAGE_SHIFT) > ALIAS_REF - FIRST_REF) {
		log_error("grant: image of %#llx bytes needs more than one grant-table frame",
		          (unsigned long long)(image_end - image_start));
		return -E2BIG;
	}
	rc = xen_map_grant_table(0, at);
	if (rc == 0)
		rc = arch_mmu_map(table_gpa, XEN_PAGE_SIZE, MMU_NORMAL);
	if (rc) {
		log_error("grant: cannot map our grant table at %#llx (%d)",
		          (unsigned long long)table_gpa, rc);
		return rc;
	}
	table = (struct grant_entry_v1 *)(uintptr_t)table_gpa;
	backend_domid = backend;
	for (uint64_t p = image_start; p < image_end; p += XEN_PAGE_SIZE)
		grant_set((const void *)(uintptr_t)p, true, false);
	return 0;
}
