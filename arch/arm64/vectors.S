/*
 * EL1 exception vectors (Arm ARM D1.10.2). vdisk runs with interrupts masked and polls
 * the GIC from its main loop, so every exception that arrives here is unexpected: save
 * all registers in a struct exception_frame and let arch_exception_report() print them
 * and stop. It returns only for a data abort a test guest armed for (arch_fault_expect);
 * then the registers come back and the guest resumes where ELR now points.
 */

#define FRAME_SIZE 288 /* struct exception_frame in exception.c */

	.macro VECTOR kind
	.balign	0x80
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #0]
	mov	x0, #\kind
	b	exception_common
	.endm

	.section .text.vectors, "ax"
	.balign	0x800
	.globl	arm64_vectors
arm64_vectors:
	/* Current EL with SP_EL0 (where vdisk runs), then SP_ELx, lower EL64, lower EL32. */
	VECTOR 0
	VECTOR 1
	VECTOR 2
	VECTOR 3
	VECTOR 4
	VECTOR 5
	VECTOR 6
	VECTOR 7
	VECTOR 8
	VECTOR 9
	VECTOR 10
	VECTOR 11
	VECTOR 12
	VECTOR 13
	VECTOR 14
	VECTOR 15

exception_common:
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	mrs	x1, sp_el0
	stp	x30, x1, [sp, #240]
	mrs	x1, elr_el1
	mrs	x2, spsr_el1
	stp	x1, x2, [sp, #256]
	mrs	x1, esr_el1
	mrs	x2, far_el1
	stp	x1, x2, [sp, #272]
	mov	x1, x0			/* kind */
	mov	x0, sp			/* frame */
	bl	arch_exception_report
	/* It returned: an expected data abort, to be resumed at the ELR it set. */
	ldr	x1, [sp, #256]
	msr	elr_el1, x1
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	ldr	x30, [sp, #240]
	ldp	x0, x1, [sp, #0]
	add	sp, sp, #FRAME_SIZE
	eret
