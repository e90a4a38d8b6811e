/*
 * Every hypercall stub of arch/include/arch/hypercall.h, answering -ENOSYS, as weak symbols:
 * a test that fakes some hypercalls defines just those, and a call it did not expect fails
 * the way Xen fails an unknown hypercall.
 */
#include <errno.h>

#include "arch/hypercall.h"

#define WEAK __attribute__((weak))

WEAK long hypercall_memory_op(unsigned int cmd, void *arg)
{
	return -ENOSYS;
}

WEAK long hypercall_xen_version(int cmd, void *arg)
{
	return -ENOSYS;
}

WEAK long hypercall_console_io(int cmd, int count, const char *str)
{
	return -ENOSYS;
}

WEAK long hypercall_grant_table_op(unsigned int cmd, void *uop, unsigned int count)
{
	return -ENOSYS;
}

WEAK long hypercall_vcpu_op(int cmd, unsigned int vcpuid, void *extra_args)
{
	return -ENOSYS;
}

WEAK long hypercall_sched_op(int cmd, void *arg)
{
	return -ENOSYS;
}

WEAK long hypercall_event_channel_op(int cmd, void *arg)
{
	return -ENOSYS;
}

WEAK long hypercall_hvm_op(unsigned long op, void *arg)
{
	return -ENOSYS;
}

WEAK long hypercall_dm_op(unsigned int domid, unsigned int nr_bufs, void *bufs)
{
	return -ENOSYS;
}
