/*
 * Raw Xen hypercall stubs (arch/arm64/hypercall.S): x16 = number, hvc #0xEA1.
 * Only hyp/ calls these; everything else uses hyp/'s typed wrappers.
 */
#ifndef ARCH_HYPERCALL_H
#define ARCH_HYPERCALL_H

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
