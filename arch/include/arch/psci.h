/* PSCI calls (Arm DEN 0022), for power-off when running without a hypervisor. */
#ifndef ARCH_PSCI_H
#define ARCH_PSCI_H

/** Conduits named by the device tree's /psci "method" property. */
enum psci_conduit {
	PSCI_NONE,
	PSCI_HVC,
	PSCI_SMC,
};

/** Asks firmware to power the system off; returns only if that failed. */
void arch_psci_system_off(enum psci_conduit conduit);

#endif
