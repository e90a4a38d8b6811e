/* CPU start-up after head.S, and the small CPU operations behind arch/cpu.h. */
#include <stdint.h>
#include <string.h>

#include "arch/cpu.h"
#include "arch/mmu.h"
#include "arch/psci.h"
#include "arch/sysreg.h"
#include "arch/timer.h"
#include "arch/entry.h"

/* Linker-script symbols for the C library's thread-local block (errno). */
extern char __tls_base[], __tdata_end[], __tbss_end[];

/* AArch64 TLS variant 1: TPIDR_EL0 points 16 bytes (the TCB) below the TLS block. */
#define TLS_TCB_SIZE 16

static unsigned int entry_el;

/* Reads the device tree's totalsize with aligned 32-bit loads (the MMU is still off). */
static uint64_t fdt_total_size(uint64_t dtb_pa)
{
	const volatile uint32_t *hdr = (const volatile uint32_t *)(uintptr_t)dtb_pa;

	if (dtb_pa == 0 || (dtb_pa & 7) || __builtin_bswap32(hdr[0]) != 0xd00dfeed)
		return 0;
	return __builtin_bswap32(hdr[1]);
}

void arch_cpu_start(uint64_t dtb_pa, uint64_t el);

/** Called by head.S with relocations applied and BSS zeroed; never returns. */
void arch_cpu_start(uint64_t dtb_pa, uint64_t el)
{
	entry_el = (unsigned int)el;
	arch_mmu_enable(dtb_pa, fdt_total_size(dtb_pa));

	/* The C library keeps errno in TLS: one block for our one thread; .tdata is in place. */
	memset(__tdata_end, 0, (size_t)(__tbss_end - __tdata_end));
	write_sysreg(tpidr_el0, (uintptr_t)__tls_base - TLS_TCB_SIZE);

	arch_timer_init();
	main_start(dtb_pa);
}

void arch_cpu_wait_for_interrupt(void)
{
	__asm__ volatile("dsb sy\n\twfi" ::: "memory");
}

unsigned int arch_cpu_entry_el(void)
{
	return entry_el;
}

void arch_cpu_dcache_clean_inval(const void *addr, size_t size)
{
	uint64_t ctr = read_sysreg(ctr_el0);
	uintptr_t line = 4u << ((ctr >> 16) & 0xf); /* CTR_EL0.DminLine, in words */
	uintptr_t p = (uintptr_t)addr & ~(line - 1);

	for (; p < (uintptr_t)addr + size; p += line)
		__asm__ volatile("dc civac, %0" ::"r"(p) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
}

void arch_cpu_halt(void)
{
	__asm__ volatile("msr daifset, #0xf");
	for (;;)
		__asm__ volatile("wfi");
}

/*
 * What head.S's secondary_entry loads, with the MMU still off, before it turns the MMU on:
 * the field order is its ldp order.
 */
struct secondary_boot {
	uint64_t mair, tcr;
	uint64_t ttbr0, sctlr;
	uint64_t sp, exception_sp;
	uint64_t vbar, tpidr;
	uint64_t fn, arg;
};

_Static_assert(sizeof(struct secondary_boot) == 80, "head.S secondary_entry offsets");

/* Cache-line aligned and alone on its lines: cleaned to memory for a CPU with caches off. */
static struct secondary_boot secondary_boot __attribute__((aligned(128)));

void secondary_entry(void);

int arch_cpu_start_secondary(enum psci_conduit conduit, uint64_t mpidr, void (*fn)(void *),
                             void *arg, void *stack_top, void *exception_stack_top)
{
	secondary_boot = (struct secondary_boot){
	    .mair = read_sysreg(mair_el1),
	    .tcr = read_sysreg(tcr_el1),
	    .ttbr0 = read_sysreg(ttbr0_el1),
	    .sctlr = read_sysreg(sctlr_el1),
	    .sp = (uintptr_t)stack_top,
	    .exception_sp = (uintptr_t)exception_stack_top,
	    .vbar = read_sysreg(vbar_el1),
	    .tpidr = read_sysreg(tpidr_el0),
	    .fn = (uintptr_t)fn,
	    .arg = (uintptr_t)arg,
	};
	arch_cpu_dcache_clean_inval(&secondary_boot, sizeof(secondary_boot));
	return arch_psci_cpu_on(conduit, mpidr, (uintptr_t)secondary_entry,
	                        (uintptr_t)&secondary_boot);
}
