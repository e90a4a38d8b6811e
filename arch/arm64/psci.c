/* PSCI SYSTEM_OFF (Arm DEN 0022 §5.10) and CPU_ON (§5.6). */
#include <errno.h>
#include <stdint.h>

#include "arch/psci.h"

#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_CPU_ON_64  0xc4000003u

/* PSCI return codes (§5.2.2). */
#define PSCI_INVALID_PARAMETERS -2
#define PSCI_DENIED             -3
#define PSCI_ALREADY_ON         -4
#define PSCI_ON_PENDING         -5

void arch_psci_system_off(enum psci_conduit conduit)
{
	register uint64_t x0 __asm__("x0") = PSCI_SYSTEM_OFF;

	if (conduit == PSCI_HVC)
		__asm__ volatile("hvc #0" : "+r"(x0)::"x1", "x2", "x3", "memory");
	else if (conduit == PSCI_SMC)
		__asm__ volatile("smc #0" : "+r"(x0)::"x1", "x2", "x3", "memory");
}

int arch_psci_cpu_on(enum psci_conduit conduit, uint64_t mpidr, uint64_t entry, uint64_t context)
{
	register int64_t x0 __asm__("x0") = PSCI_CPU_ON_64;
	register uint64_t x1 __asm__("x1") = mpidr;
	register uint64_t x2 __asm__("x2") = entry;
	register uint64_t x3 __asm__("x3") = context;

	if (conduit == PSCI_HVC)
		__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"memory");
	else if (conduit == PSCI_SMC)
		__asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"memory");
	else
		return -ENODEV;
	switch (x0) {
	case 0:
		return 0;
	case PSCI_INVALID_PARAMETERS:
		return -EINVAL;
	case PSCI_DENIED:
		return -EPERM;
	case PSCI_ALREADY_ON:
		return -EALREADY;
	case PSCI_ON_PENDING:
		return -EBUSY;
	default:
		return -EIO;
	}
}
