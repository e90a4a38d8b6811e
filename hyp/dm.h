/*
 * Device-model operations on a guest domain (public/hvm/dm_op.h, HYPERVISOR_dm_op): the
 * IOREQ server and interrupt lines. Xen allows them to the control domain, to a domain
 * whose target is the guest (XEN_DOMCTL_set_target), or as a FLASK policy says.
 */
#ifndef HYP_DM_H
#define HYP_DM_H

#include <stdbool.h>
#include <stdint.h>

/** XEN_DMOP_create_ioreq_server without buffered ioreqs; *id gets the server id. 0 or -errno. */
int dm_create_ioreq_server(uint16_t domid, uint16_t *id);
/** XEN_DMOP_map_io_range_to_ioreq_server for MMIO [start, end] (end inclusive); 0 or -errno. */
int dm_map_mmio_range(uint16_t domid, uint16_t id, uint64_t start, uint64_t end);
/** XEN_DMOP_set_ioreq_server_state; 0 or -errno. */
int dm_set_ioreq_server_state(uint16_t domid, uint16_t id, bool enabled);
/** XEN_DMOP_destroy_ioreq_server; 0 or -errno. */
int dm_destroy_ioreq_server(uint16_t domid, uint16_t id);
/** XEN_DMOP_set_irq_level of an SPI (>= 32) of the guest; 0 or -errno. */
int dm_set_irq_level(uint16_t domid, uint32_t irq, bool level);
/** XEN_DMOP_nr_vcpus: how many vCPUs the guest has; 0 or -errno. */
int dm_nr_vcpus(uint16_t domid, uint32_t *count);

#endif
