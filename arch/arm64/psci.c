/* PSCI SYSTEM_OFF (Arm DEN 0022 §5.10), used when no hypervisor is present. */
#include <stdint.h>

#include "arch/psci.h"

#define PSCI_SYSTEM_OFF 0x84000008u

void arch_psci_system_off(enum psci_conduit conduit)
{
	register uint64_t x0 __asm__("x0") = PSCI_SYSTEM_OFF;

	if (conduit == PSCI_HVC)
		__asm__ volatile("hvc #0" : "+r"(x0)::"x1", "x2", "x3", "memory");
	else if (conduit == PSCI_SMC)
		__asm__ volatile("smc #0" : "+r"(x0)::"x1", "x2", "x3", "memory");
}
