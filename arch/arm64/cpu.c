/* CPU start-up after head.S, and the small CPU operations behind arch/cpu.h. */
#include <stdint.h>
#include <string.h>

#include "arch/cpu.h"
#include "arch/mmu.h"
#include "arch/sysreg.h"
#include "arch/timer.h"
#include "boot/main.h"

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
