/* PSCI calls (Arm DEN 0022): power-off without a hypervisor, starting another CPU. */
#ifndef ARCH_PSCI_H
#define ARCH_PSCI_H

#include <stdint.h>

/** Conduits named by the device tree's /psci "method" property. */
enum psci_conduit {
	PSCI_NONE,
	PSCI_HVC,
	PSCI_SMC,
};

/** Asks firmware to power the system off; returns only if that failed. */
void arch_psci_system_off(enum psci_conduit conduit);
/**
 * CPU_ON (Arm DEN 0022 §5.6): starts the CPU with affinity `mpidr` at physical address
 * `entry`, MMU off, with `context` in x0. Returns 0, or the PSCI error as -errno (-EINVAL,
 * -EPERM, -EALREADY, -EBUSY, -ENODEV without a conduit, -EIO otherwise).
 */
int arch_psci_cpu_on(enum psci_conduit conduit, uint64_t mpidr, uint64_t entry, uint64_t context);

#endif
