/*
 * Xen hypercall stubs (public/arch-arm.h): the number in x16, arguments in x0..x4,
 * "hvc #0xEA1", result in x0. Xen clobbers the argument registers it uses and x16,
 * all of which are caller-saved in the AAPCS64, so a stub needs nothing more.
 * The only hvc instructions in vdisk are the ones this macro emits.
 */
#include <xen/xen.h>


	.macro HYPERCALL name, nr
	.section .text.hypercall_\name, "ax"
	.globl	hypercall_\name
	.type	hypercall_\name, %function
hypercall_\name:
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
