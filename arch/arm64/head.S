/*
 * Entry point with the arm64 Linux Image header (Documentation/arm64/booting.rst), so that
 * xl's kernel=, Xen's dom0/dom0less loader and U-Boot's booti all accept vdisk.img.
 *
 * Entered with the MMU off, x0 = physical address of the device tree, at EL2 (e.g. from
 * U-Boot or QEMU without Xen) or EL1 (as a Xen guest). At EL2 we drop to EL1.
 * The image is position independent: it applies its own R_AARCH64_RELATIVE relocations.
 */

#define R_AARCH64_RELATIVE 1027

/* SCTLR_EL1: RES1 bits, MMU/caches/alignment checks off; the MMU code turns them on. */
#define SCTLR_EL1_RES1 ((3 << 28) | (3 << 22) | (1 << 20) | (1 << 11))
/* SPSR for the first eret: EL1h with D, A, I and F masked. */
#define SPSR_EL1H_MASKED 0x3c5

	.section .head.text, "ax"
	.globl	_start
_start:
	b	primary_entry		/* code0 */
	.long	0			/* code1 */
	.quad	0			/* text_offset */
	.long	_image_size_lo		/* image_size: file plus BSS, stacks and tables */
	.long	_image_size_hi
	.quad	0xa			/* flags: little endian, 4K pages, placement anywhere */
	.quad	0			/* res2 */
	.quad	0			/* res3 */
	.quad	0			/* res4 */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* res5 */

primary_entry:
	mov	x19, x0			/* device tree */
	mrs	x20, CurrentEL
	lsr	x20, x20, #2
	cmp	x20, #2
	b.ne	el1_entry

	/* EL2: make EL1 AArch64, give it the counters and, with a GICv3, its system registers. */
	mov	x1, #(1 << 31)		/* HCR_EL2.RW */
	msr	hcr_el2, x1
	mrs	x1, cnthctl_el2
	orr	x1, x1, #3		/* EL1PCTEN | EL1PCEN */
	msr	cnthctl_el2, x1
	msr	cntvoff_el2, xzr
	mov	x1, #0x33ff		/* CPTR_EL2 RES1 bits; no FP/SIMD traps */
	msr	cptr_el2, x1
	msr	hstr_el2, xzr
	mrs	x1, midr_el1
	msr	vpidr_el2, x1
	mrs	x1, mpidr_el1
	msr	vmpidr_el2, x1
	mrs	x1, id_aa64pfr0_el1
	ubfx	x1, x1, #24, #4		/* GIC system register interface */
	cbz	x1, 1f
	mrs	x1, S3_4_C12_C9_5	/* ICC_SRE_EL2 */
	mov	x2, #0x9		/* SRE | Enable (EL1 may use ICC_SRE_EL1) */
	orr	x1, x1, x2
	msr	S3_4_C12_C9_5, x1
	isb
	msr	S3_4_C12_C11_0, xzr	/* ICH_HCR_EL2: no virtual interrupts */
1:	ldr	x1, =SCTLR_EL1_RES1
	msr	sctlr_el1, x1
	mov	x1, #SPSR_EL1H_MASKED
	msr	spsr_el2, x1
	adr	x1, el1_entry
	msr	elr_el2, x1
	eret

el1_entry:
	msr	daifset, #0xf
	ldr	x1, =SCTLR_EL1_RES1
	msr	sctlr_el1, x1
	mov	x1, #(3 << 20)		/* CPACR_EL1.FPEN: the C library may use FP/SIMD */
	msr	cpacr_el1, x1
	isb

	/* Apply our relocations: the image is linked at 0, so each target gets our base added. */
	adr	x2, _start
	adrp	x3, __rela_start
	add	x3, x3, :lo12:__rela_start
	adrp	x4, __rela_end
	add	x4, x4, :lo12:__rela_end
2:	cmp	x3, x4
	b.hs	3f
	ldp	x5, x6, [x3], #16	/* r_offset, r_info */
	ldr	x7, [x3], #8		/* r_addend */
	cmp	x6, #R_AARCH64_RELATIVE
	b.ne	.			/* only relative relocations are expected (tools/check-elf.sh) */
	add	x7, x7, x2
	str	x7, [x2, x5]
	b	2b

	/* Zero BSS (16-byte aligned bounds from the linker script). */
3:	adrp	x1, __bss_start
	add	x1, x1, :lo12:__bss_start
	adrp	x2, __bss_end
	add	x2, x2, :lo12:__bss_end
4:	cmp	x1, x2
	b.hs	5f
	stp	xzr, xzr, [x1], #16
	b	4b

	/* Exceptions run on their own stack (SP_EL1); everything else on SP_EL0. */
5:	adrp	x1, exception_stack_top
	add	x1, x1, :lo12:exception_stack_top
	mov	sp, x1
	msr	spsel, #0
	adrp	x1, boot_stack_top
	add	x1, x1, :lo12:boot_stack_top
	mov	sp, x1
	adr	x1, arm64_vectors
	msr	vbar_el1, x1
	isb

	mov	x0, x19
	mov	x1, x20
	bl	arch_cpu_start
	b	arch_cpu_halt

/*
 * A CPU started by arch_cpu_start_secondary (PSCI CPU_ON): EL1, MMU off, x0 = its struct
 * secondary_boot (cpu.c), cleaned to memory. It takes the first CPU's MMU settings and
 * vectors, then runs fn(arg) on its own stacks.
 */
	.text
	.globl	secondary_entry
secondary_entry:
	msr	daifset, #0xf
	ldr	x1, =SCTLR_EL1_RES1
	msr	sctlr_el1, x1
	mov	x1, #(3 << 20)		/* CPACR_EL1.FPEN */
	msr	cpacr_el1, x1
	isb
	ldp	x1, x2, [x0, #0]	/* mair, tcr */
	ldp	x3, x4, [x0, #16]	/* ttbr0, sctlr */
	ldp	x5, x6, [x0, #32]	/* sp, exception_sp */
	ldp	x7, x8, [x0, #48]	/* vbar, tpidr */
	ldp	x9, x10, [x0, #64]	/* fn, arg */
	msr	mair_el1, x1
	msr	tcr_el1, x2
	msr	ttbr0_el1, x3
	isb
	tlbi	vmalle1
	dsb	nsh
	isb
	ic	iallu
	dsb	nsh
	isb
	msr	sctlr_el1, x4
	isb
	mov	sp, x6			/* SP_EL1: exceptions */
	msr	spsel, #0
	mov	sp, x5
	msr	vbar_el1, x7
	msr	tpidr_el0, x8
	isb
	mov	x0, x10
	blr	x9
	b	arch_cpu_halt

	.section .bss.stacks, "aw", %nobits
	.balign	16
	.space	0x10000
boot_stack_top:
	.space	0x2000
exception_stack_top:
