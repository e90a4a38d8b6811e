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
	unsigned int irq;     /* GIC INTID, 0 = none (poll) */
	/* a bus above it has dma-ranges that move addresses: what the controller reaches is not
	   the CPU's address, so vdisk's own buffer cannot be handed to it (data by PIO) */
	bool dma_translated;
};

#define DT_PCI_INTX_MAX 64 /* interrupt-map rows kept (QEMU's virt has 16) */

/**
 * One row of a PCI host bridge's interrupt-map whose parent is the GIC (devicetree spec v0.4
 * §2.4.3): a child unit address and INTx pin, and the INTID they map to.
 */
struct dt_pci_intx {
	uint32_t child[4]; /* phys.hi (bus, device, function), phys.mid, phys.lo; pin 1..4 */
	unsigned int irq;  /* GIC INTID */
};

/**
 * A generic ECAM PCI host bridge (pci/host-generic-pci.yaml): its first 32-bit memory window
 * and the rows of its interrupt-map that lead to the GIC (none if the map is absent or
 * malformed).
 */
struct dt_pci {
	bool present;
	uint64_t ecam, ecam_size;
	uint64_t mem_cpu, mem_pci, mem_size;
	uint32_t intx_mask[4]; /* interrupt-map-mask, applied to child[] */
	struct dt_pci_intx intx[DT_PCI_INTX_MAX];
	unsigned int intx_count;
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
 * v0.4 §2.3.6) and translates its address to the root's (the CPU's) through each bus's
 * `ranges` (§2.3.8; an empty or missing `ranges` maps one to one); returns 0, -ENOENT past
 * the last entry or -EINVAL for a malformed property or an address no range of a bus maps.
 */
int dt_read_reg(const void *fdt, int node, int index, struct dt_range *out);
/**
 * The GIC INTID that INTx pin `pin` (1 = INTA .. 4 = INTD; PCI 3.0 §6.2.4 Interrupt Pin) of
 * function dev.fn on bus 0 raises, by pci's interrupt-map: the child unit address (phys.hi
 * with dev in bits 15..11, fn in 10..8) and pin are compared with each row in the bits
 * interrupt-map-mask keeps (devicetree spec v0.4 §2.4.3; bits it clears are ignored on both
 * sides, as Linux and Xen compare), the first row that matches wins. Returns 0 if none does,
 * or if pin is not 1..4 (no INTx).
 */
unsigned int dt_pci_intx(const struct dt_pci *pci, unsigned int dev, unsigned int fn,
                         unsigned int pin);

#endif
