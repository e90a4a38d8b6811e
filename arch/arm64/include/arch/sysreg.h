/* System register access for arm64. Only code under arch/arm64 includes this. */
#ifndef ARCH_SYSREG_H
#define ARCH_SYSREG_H

#include <stdint.h>

#define read_sysreg(reg)                                                                           \
	({                                                                                         \
		uint64_t val_;                                                                     \
		__asm__ volatile("mrs %0, " #reg : "=r"(val_));                                    \
		val_;                                                                              \
	})

#define write_sysreg(reg, val)                                                                     \
	__asm__ volatile("msr " #reg ", %0" ::"r"((uint64_t)(val)) : "memory")

#define isb() __asm__ volatile("isb" ::: "memory")

/* GICv3 CPU interface registers by encoding, so that any assembler accepts them. */
#define ICC_PMR_EL1     S3_0_C4_C6_0
#define ICC_IAR1_EL1    S3_0_C12_C12_0
#define ICC_EOIR1_EL1   S3_0_C12_C12_1
#define ICC_CTLR_EL1    S3_0_C12_C12_4
#define ICC_SRE_EL1     S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7
#define ICC_BPR1_EL1    S3_0_C12_C12_3

#endif
