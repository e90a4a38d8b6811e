/* What vdisk reads from the device tree it was booted with (libfdt). */
#ifndef BOOT_DT_H
#define BOOT_DT_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/gic.h"
#include "arch/psci.h"

#define DT_MEMORY_MAX 8
#define DT_XEN_REGIONS_MAX 8

/** An address range from a reg property. */
struct dt_range {
	uint64_t base;
	uint64_t size;
};

#define DT_SDHCI_MAX 2

/** An SD host controller node (mmc/sdhci bindings): where, what, and its clock. */
struct dt_sdhci {
	struct dt_range reg;
	char compatible[40];  /* the first compatible string blk/sdhci.c knows */
	uint32_t clock_hz;    /* clock-frequency, 0 if absent */
};

/** A generic ECAM PCI host bridge (pci/host-generic-pci.yaml), its first 32-bit memory window. */
struct dt_pci {
	bool present;
	uint64_t ecam, ecam_size;
	uint64_t mem_cpu, mem_pci, mem_size;
};

/** The facts vdisk needs, gathered in one pass over the tree. */
struct dt_info {
	struct dt_range memory[DT_MEMORY_MAX];
	unsigned int memory_count;
	struct gic_config gic;
	unsigned int timer_irq;       /* EL1 virtual timer PPI */

	bool xen;                     /* /hypervisor compatible "xen,xen" */
	char xen_compatible[32];      /* e.g. "xen,xen-4.17" */
	struct dt_range xen_regions[DT_XEN_REGIONS_MAX]; /* grant table, then extended regions */
	unsigned int xen_region_count;
	unsigned int upcall_irq;      /* event channel upcall PPI */

	uint64_t uart_base;           /* PL011 for output without Xen, 0 if none */
	uint64_t uart_size;
	enum psci_conduit psci;
	const char *bootargs;         /* /chosen/bootargs, "" if absent */
	struct dt_sdhci sdhci[DT_SDHCI_MAX]; /* enabled SD controllers, in tree order */
	unsigned int sdhci_count;
	struct dt_pci pci; /* the first "pci-host-ecam-generic" node with a memory window */
};

/**
 * Parses the tree at fdt into info. Returns 0, or -EINVAL after logging the node and
 * property that is missing or malformed.
 */
int dt_parse(const void *fdt, struct dt_info *info);
/**
 * Reads entry `index` of node's reg property with its parent's cell sizes (devicetree spec
 * v0.4 §2.3.6); returns 0, -ENOENT past the last entry or -EINVAL for a malformed property.
 */
int dt_read_reg(const void *fdt, int node, int index, struct dt_range *out);

#endif
