/*
 * Raw Xen hypercall stubs (arch/arm64/hypercall.S): x16 = number, hvc #0xEA1.
 * Only hyp/ calls these; everything else uses hyp/'s typed wrappers. Each stub counts its
 * calls in hypercall_counts.
 */
#ifndef ARCH_HYPERCALL_H
#define ARCH_HYPERCALL_H

/** Hypercall numbers below this are counted in hypercall_counts (Xen 4.17's highest is 42). */
#define HYPERCALL_NR_MAX 64

#ifndef __ASSEMBLY__
#include <stdint.h>

/** Calls made so far through each stub, by hypercall number (for dom0's statistics). */
extern uint64_t hypercall_counts[HYPERCALL_NR_MAX];


long hypercall_memory_op(unsigned int cmd, void *arg);
long hypercall_xen_version(int cmd, void *arg);
long hypercall_console_io(int cmd, int count, const char *str);
long hypercall_grant_table_op(unsigned int cmd, void *uop, unsigned int count);
long hypercall_vcpu_op(int cmd, unsigned int vcpuid, void *extra_args);
long hypercall_sched_op(int cmd, void *arg);
long hypercall_event_channel_op(int cmd, void *arg);
long hypercall_hvm_op(unsigned long op, void *arg);
long hypercall_dm_op(unsigned int domid, unsigned int nr_bufs, void *bufs);
#endif

#endif
