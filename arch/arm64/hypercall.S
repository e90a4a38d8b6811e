/*
 * Xen hypercall stubs (public/arch-arm.h): the number in x16, arguments in x0..x4,
 * "hvc #0xEA1", result in x0. Xen clobbers the argument registers it uses and x16,
 * all of which are caller-saved in the AAPCS64, so a stub needs nothing more.
 * The only hvc instructions in vdisk are the ones this macro emits.
 */
#include <xen/xen.h>

#include "arch/hypercall.h"

/*
 * Every stub first counts itself in hypercall_counts[nr]. x16 and x17 (IP0/IP1) are
 * caller-saved scratch registers, and x16 gets the number only after; vdisk takes no
 * interrupts as exceptions (boot/loop.c), so the load-add-store is never interleaved.
 */
	.macro HYPERCALL name, nr
	.if \nr >= HYPERCALL_NR_MAX
	.error "hypercall number beyond hypercall_counts"
	.endif
	.section .text.hypercall_\name, "ax"
	.globl	hypercall_\name
	.type	hypercall_\name, %function
hypercall_\name:
	adrp	x17, hypercall_counts
	add	x17, x17, :lo12:hypercall_counts
	ldr	x16, [x17, #(\nr * 8)]
	add	x16, x16, #1
	str	x16, [x17, #(\nr * 8)]
	mov	x16, #\nr
	hvc	#XEN_HYPERCALL_TAG
	ret
	.size	hypercall_\name, . - hypercall_\name
	.endm

	HYPERCALL memory_op, __HYPERVISOR_memory_op
	HYPERCALL xen_version, __HYPERVISOR_xen_version
	HYPERCALL console_io, __HYPERVISOR_console_io
	HYPERCALL grant_table_op, __HYPERVISOR_grant_table_op
	HYPERCALL vcpu_op, __HYPERVISOR_vcpu_op
	HYPERCALL sched_op, __HYPERVISOR_sched_op
	HYPERCALL event_channel_op, __HYPERVISOR_event_channel_op
	HYPERCALL hvm_op, __HYPERVISOR_hvm_op
	HYPERCALL dm_op, __HYPERVISOR_dm_op

	.section .bss.hypercall_counts, "aw", %nobits
	.balign	8
	.globl	hypercall_counts
	.type	hypercall_counts, %object
hypercall_counts:
	.zero	HYPERCALL_NR_MAX * 8
	.size	hypercall_counts, . - hypercall_counts
