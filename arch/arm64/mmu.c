/*
 * Stage-1 identity map at EL1: 4 KiB granule, 48-bit VA, four levels (Arm ARM D8.2).
 * RAM is normal write-back cacheable, devices Device-nGnRE. Blocks of 1 GiB and 2 MiB are
 * used where a range allows; tables come from a static pool.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "arch/mmu.h"
#include "arch/sysreg.h"

#define PTE_VALID     (1ull << 0)
#define PTE_TABLE     (1ull << 1) /* table at levels 0-2, page at level 3 */
#define PTE_ATTR(i)   ((uint64_t)(i) << 2)
#define PTE_SH_INNER  (3ull << 8)
#define PTE_AF        (1ull << 10)
#define PTE_PXN       (1ull << 53)
#define PTE_UXN       (1ull << 54)
#define PTE_ADDR_MASK 0x0000fffffffff000ull
#define PTE_ATTR_MASK (PTE_ATTR(7) | PTE_SH_INNER | PTE_AF | PTE_PXN | PTE_UXN)

/* MAIR_EL1 slots: 0 normal write-back read/write-allocate, 1 Device-nGnRE. */
#define MAIR_VALUE 0x04ffull

/* TCR_EL1: T0SZ=16, inner/outer WBWA walks, inner shareable, 4K, TTBR1 walks disabled. */
#define TCR_T0SZ  16ull
#define TCR_WALK  ((1ull << 8) | (1ull << 10) | (3ull << 12))
#define TCR_EPD1  (1ull << 23)
#define TCR_IPS_SHIFT 32

#define SCTLR_M (1ull << 0)
#define SCTLR_C (1ull << 2)
#define SCTLR_I (1ull << 12)

#define TABLE_ENTRIES 512
#define TABLE_POOL    64

static uint64_t tables[TABLE_POOL][TABLE_ENTRIES] __attribute__((aligned(4096)));
static unsigned int tables_used = 1; /* tables[0] is the level-0 root */
static bool mmu_on;

extern char _text[], _end[];

static uint64_t level_shift(unsigned int level)
{
	return 39 - 9 * level;
}

static uint64_t leaf_bits(enum mmu_attr attr, unsigned int level)
{
	uint64_t bits = PTE_VALID | PTE_AF | PTE_UXN | (level == 3 ? PTE_TABLE : 0);

	if (attr == MMU_DEVICE)
		return bits | PTE_ATTR(1) | PTE_PXN;
	return bits | PTE_ATTR(0) | PTE_SH_INNER;
}

static void publish(void)
{
	/* New entries replace invalid ones only, so no TLB maintenance is needed. */
	if (mmu_on)
		__asm__ volatile("dsb ishst\n\tisb" ::: "memory");
}

/* Maps one block or page at the deepest level needed; *step receives the size covered. */
static int map_one(uint64_t pa, uint64_t remaining, enum mmu_attr attr, uint64_t *step)
{
	uint64_t *table = tables[0];

	for (unsigned int level = 0; level <= 3; level++) {
		uint64_t shift = level_shift(level);
		uint64_t size = 1ull << shift;
		uint64_t *pte = &table[(pa >> shift) & (TABLE_ENTRIES - 1)];
		bool block_ok = level >= 1 && (pa & (size - 1)) == 0 && remaining >= size;

		if (*pte & PTE_VALID) {
			bool is_table = level < 3 && (*pte & PTE_TABLE);

			if (!is_table) {
				/* Already mapped as a block or page: fine if it is the same kind. */
				if ((*pte & PTE_ATTR_MASK) != (leaf_bits(attr, level) & PTE_ATTR_MASK))
					return -EBUSY;
				*step = size - (pa & (size - 1));
				return 0;
			}
			table = (uint64_t *)(uintptr_t)(*pte & PTE_ADDR_MASK);
			continue;
		}
		if (block_ok || level == 3) {
			*pte = (pa & ~(size - 1)) | leaf_bits(attr, level);
			*step = size;
			publish();
			return 0;
		}
		if (tables_used == TABLE_POOL)
			return -ENOMEM;
		uint64_t *next = tables[tables_used++];
		*pte = (uintptr_t)next | PTE_VALID | PTE_TABLE;
		publish();
		table = next;
	}
	return -EINVAL;
}

int arch_mmu_map(uint64_t pa, uint64_t size, enum mmu_attr attr)
{
	uint64_t end = pa + size;

	if (size == 0 || end < pa || end > (1ull << 48))
		return -EINVAL;
	end = (end + 4095) & ~4095ull;
	for (pa &= ~4095ull; pa < end;) {
		uint64_t step;
		int rc = map_one(pa, end - pa, attr, &step);

		if (rc)
			return rc;
		pa += step;
	}
	return 0;
}

/* The level-3 entry mapping pa, or NULL if pa is unmapped or inside a block. */
static uint64_t *page_entry(uint64_t pa)
{
	uint64_t *table = tables[0];

	for (unsigned int level = 0; level < 3; level++) {
		uint64_t pte = table[(pa >> level_shift(level)) & (TABLE_ENTRIES - 1)];

		if (!(pte & PTE_VALID) || !(pte & PTE_TABLE))
			return NULL;
		table = (uint64_t *)(uintptr_t)(pte & PTE_ADDR_MASK);
	}
	return &table[(pa >> level_shift(3)) & (TABLE_ENTRIES - 1)];
}

int arch_mmu_set_attr(uint64_t pa, uint64_t size, enum mmu_attr attr)
{
	uint64_t start = pa & ~4095ull, end = pa + size;

	if (size == 0 || end < pa)
		return -EINVAL;
	for (pa = start; pa < end; pa += 4096) {
		const uint64_t *pte = page_entry(pa);

		if (!pte || !(*pte & PTE_VALID))
			return -EINVAL;
	}
	for (pa = start; pa < end; pa += 4096) {
		uint64_t *pte = page_entry(pa);

		/* Break-before-make (Arm ARM D8.16.1): invalid entry, TLBs cleaned, new entry. */
		*pte = 0;
		__asm__ volatile("dsb ishst\n\ttlbi vaae1is, %0\n\tdsb ish\n\tisb" ::"r"(pa >> 12)
		                 : "memory");
		*pte = (pa & PTE_ADDR_MASK) | leaf_bits(attr, 3);
		publish();
	}
	return 0;
}

void arch_mmu_image_bounds(uint64_t *start, uint64_t *end)
{
	*start = (uintptr_t)_text;
	*end = (uintptr_t)_end;
}

void arch_mmu_enable(uint64_t dtb_pa, uint64_t dtb_size)
{
	uint64_t parange = read_sysreg(id_aa64mmfr0_el1) & 0xf;
	uint64_t sctlr;

	/* Runs with the MMU off: only aligned accesses and no C library calls here. */
	arch_mmu_map((uintptr_t)_text, (uintptr_t)(_end - _text), MMU_NORMAL);
	if (dtb_size)
		arch_mmu_map(dtb_pa, dtb_size, MMU_NORMAL);

	/*
	 * What we wrote with caches off (relocations, BSS, these tables) is in memory; drop
	 * any stale lines a previous boot stage left before the caches come on.
	 */
	arch_cpu_dcache_clean_inval(_text, (uintptr_t)(_end - _text));

	write_sysreg(mair_el1, MAIR_VALUE);
	write_sysreg(tcr_el1, TCR_T0SZ | TCR_WALK | TCR_EPD1 |
				      ((parange > 5 ? 5 : parange) << TCR_IPS_SHIFT));
	write_sysreg(ttbr0_el1, (uintptr_t)tables[0]);
	isb();
	__asm__ volatile("tlbi vmalle1\n\tdsb nsh\n\tisb" ::: "memory");
	__asm__ volatile("ic iallu\n\tdsb nsh\n\tisb" ::: "memory");
	sctlr = read_sysreg(sctlr_el1) | SCTLR_M | SCTLR_C | SCTLR_I;
	write_sysreg(sctlr_el1, sctlr);
	isb();
	mmu_on = true;
}
