/* HYPERVISOR_dm_op wrappers (public/hvm/dm_op.h): one struct xen_dm_op in one buffer. */
/* The ioreq-server constants are in the "tools" part of hvm_op.h: vdisk is a device model. */
#define __XEN_TOOLS__ 1

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/hvm/dm_op.h>
#include <xen/hvm/hvm_op.h>

#include "arch/hypercall.h"
#include "hyp/dm.h"
#include "hyp/xen.h"

/* Issues one operation; Xen copies OUT fields back into *op. */
static int dm_op(uint16_t domid, struct xen_dm_op *op)
{
	struct xen_dm_op_buf buf = {.size = sizeof(*op)};

	set_xen_guest_handle(buf.h, op);
	return xen_errno(hypercall_dm_op(domid, 1, &buf));
}

int dm_create_ioreq_server(uint16_t domid, uint16_t *id)
{
	struct xen_dm_op op = {.op = XEN_DMOP_create_ioreq_server};
	int rc;

	op.u.create_ioreq_server.handle_bufioreq = HVM_IOREQSRV_BUFIOREQ_OFF;
	rc = dm_op(domid, &op);
	if (rc == 0)
		*id = op.u.create_ioreq_server.id;
	return rc;
}

int dm_map_mmio_range(uint16_t domid, uint16_t id, uint64_t start, uint64_t end)
{
	struct xen_dm_op op = {.op = XEN_DMOP_map_io_range_to_ioreq_server};

	op.u.map_io_range_to_ioreq_server.id = id;
	op.u.map_io_range_to_ioreq_server.type = XEN_DMOP_IO_RANGE_MEMORY;
	op.u.map_io_range_to_ioreq_server.start = start;
	op.u.map_io_range_to_ioreq_server.end = end;
	return dm_op(domid, &op);
}

int dm_set_ioreq_server_state(uint16_t domid, uint16_t id, bool enabled)
{
	struct xen_dm_op op = {.op = XEN_DMOP_set_ioreq_server_state};

	op.u.set_ioreq_server_state.id = id;
	op.u.set_ioreq_server_state.enabled = enabled;
	return dm_op(domid, &op);
}

int dm_destroy_ioreq_server(uint16_t domid, uint16_t id)
{
	struct xen_dm_op op = {.op = XEN_DMOP_destroy_ioreq_server};

	op.u.destroy_ioreq_server.id = id;
	return dm_op(domid, &op);
}

int dm_set_irq_level(uint16_t domid, uint32_t irq, bool level)
{
	struct xen_dm_op op = {.op = XEN_DMOP_set_irq_level};

	op.u.set_irq_level.irq = irq;
	op.u.set_irq_level.level = level;
	return dm_op(domid, &op);
}

int dm_nr_vcpus(uint16_t domid, uint32_t *count)
{
	struct xen_dm_op op = {.op = XEN_DMOP_nr_vcpus};
	int rc = dm_op(domid, &op);

	if (rc == 0)
		*count = op.u.nr_vcpus.vcpus;
	return rc;
}
