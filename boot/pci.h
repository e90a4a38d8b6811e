/*
 * Functions behind a generic ECAM PCI host bridge (devicetree binding
 * pci/host-generic-pci.yaml, "pci-host-ecam-generic"; PCI Express Base spec §7.2.2 ECAM) on
 * bus 0: what vdisk needs when nobody placed the BARs for it (bare metal; later as Xen's
 * dom0). It finds functions by class, places BAR 0 in the bridge's 32-bit memory window,
 * turns memory decoding and bus mastering on and reads which INTx pin the function uses (the
 * GIC interrupt it reaches comes from the bridge's interrupt-map: dt_pci_intx). Nothing else:
 * no bridges behind bus 0, no MSI; a function's DMA addresses are taken to be CPU physical
 * addresses (no dma-ranges translation, as on QEMU's virt machine).
 */
#ifndef BOOT_PCI_H
#define BOOT_PCI_H

#include <stdint.h>

/** A host bridge: its configuration space and 32-bit memory window (from the DT). */
struct pci_bridge {
	uint64_t ecam; /* CPU address of bus 0's configuration space */
	uint64_t ecam_size;
	uint64_t mem_cpu;  /* the memory window: CPU address, */
	uint64_t mem_pci;  /* PCI bus address, */
	uint64_t mem_size; /* and size */
	uint64_t mem_used; /* bytes of the window given out so far */
};

/** One function found and set up. */
struct pci_function {
	uint16_t vendor, device;
	unsigned int dev, fn; /* on bus 0 */
	uint64_t bar0;        /* CPU address of BAR 0, decoding on */
	uint64_t bar0_size;
	uint8_t pin; /* Interrupt Pin (0x3d): 1 = INTA .. 4 = INTD, 0 none */
};

/** Class code (base class, subclass) of an SD host controller (PCI code and ID assignment). */
#define PCI_CLASS_SD_HOST 0x0805u

/** Bytes of configuration space of bus 0 (32 devices, 8 functions, 4 KiB each). */
#define PCI_BUS0_ECAM_SIZE (1u << 20)

/**
 * Finds up to `max` functions on bus 0 whose class code (base class, subclass: bits 31..16
 * of the register at 0x08) is `class_sub`, places each one's BAR 0 (a memory BAR) in the
 * bridge's window, enables memory decoding and bus mastering, and records its interrupt pin.
 * The ECAM must be mapped as device memory.
 * Returns how many were set up; one that cannot be (an I/O BAR, no room) is logged and
 * skipped.
 */
unsigned int pci_setup_class(struct pci_bridge *b, uint16_t class_sub, struct pci_function *out,
                             unsigned int max);

#endif
