/*
 * Report of an unexpected exception: class, syndrome and all registers (Arm ARM D17.2.37);
 * and the one expected data abort a test guest can ask to survive.
 */
#include <stdbool.h>
#include <stdint.h>

#include "arch/cpu.h"
#include "arch/entry.h"
#include "arch/mmu.h"
#include "arch/sysreg.h"
#include "lib/log.h"

/** Registers saved by vectors.S, in this order (FRAME_SIZE there is its size). */
struct exception_frame {
	uint64_t x[31];
	uint64_t sp;
	uint64_t elr;
	uint64_t spsr;
	uint64_t esr;
	uint64_t far;
};

_Static_assert(sizeof(struct exception_frame) == 288, "vectors.S FRAME_SIZE");

static const char *const kinds[4] = {"synchronous", "IRQ", "FIQ", "SError"};
static const char *const origins[4] = {"EL1 with SP_EL0", "EL1 with SP_EL1", "EL0 AArch64",
				       "EL0 AArch32"};

static const char *class_name(unsigned int ec)
{
	switch (ec) {
	case 0x00: return "unknown reason";
	case 0x01: return "WFI/WFE trap";
	case 0x07: return "FP/SIMD access trap";
	case 0x0e: return "illegal execution state";
	case 0x15: return "SVC";
	case 0x16: return "HVC";
	case 0x17: return "SMC";
	case 0x18: return "system register trap";
	case 0x20: return "instruction abort from lower EL";
	case 0x21: return "instruction abort";
	case 0x22: return "PC alignment fault";
	case 0x24: return "data abort from lower EL";
	case 0x25: return "data abort";
	case 0x26: return "SP alignment fault";
	case 0x2f: return "SError";
	case 0x3c: return "BRK";
	default: return "other";
	}
}

/* The one data abort a test guest said it expects (arch_fault_expect); vdisk never arms it. */
static struct {
	bool armed;
	uint64_t mpidr; /* of the CPU that armed it */
	uint64_t esr;
} expected;

void arch_fault_expect(void)
{
	expected.esr = 0;
	expected.mpidr = read_sysreg(mpidr_el1);
	__asm__ volatile("" ::: "memory");
	expected.armed = true;
	__asm__ volatile("" ::: "memory");
}

uint64_t arch_fault_taken(void)
{
	__asm__ volatile("" ::: "memory");
	expected.armed = false;
	return expected.esr;
}

void arch_exception_report(struct exception_frame *f, uint64_t kind);

/**
 * Called by vectors.S on any exception. A synchronous data abort at EL1 that the CPU armed
 * for is recorded and its instruction skipped (vectors.S returns to the next one); anything
 * else prints the frame (ELR also as an offset into the image, for addr2line on vdisk.elf)
 * and stops vdisk as crashed.
 */
void arch_exception_report(struct exception_frame *f, uint64_t kind)
{
	unsigned int ec = (unsigned int)(f->esr >> 26) & 0x3f;
	uint64_t start, end;

	if (expected.armed && (kind & 3) == 0 && kind < 8 && ec == 0x25 &&
	    read_sysreg(mpidr_el1) == expected.mpidr) {
		expected.esr = f->esr;
		expected.armed = false;
		f->elr += 4;
		return;
	}
	log_error("exception: %s from %s: %s (ESR %#llx EC %#x ISS %#llx)", kinds[kind & 3],
		  origins[(kind >> 2) & 3], class_name(ec), (unsigned long long)f->esr, ec,
		  (unsigned long long)(f->esr & 0x1ffffff));
	arch_mmu_image_bounds(&start, &end);
	log_error("exception: ELR 0x%016llx (image+%#llx) FAR 0x%016llx SPSR %#llx SP 0x%016llx",
		  (unsigned long long)f->elr, (unsigned long long)(f->elr - start),
		  (unsigned long long)f->far, (unsigned long long)f->spsr,
		  (unsigned long long)f->sp);
	for (unsigned int i = 0; i < 30; i += 2)
		log_error("exception: x%-2u %016llx  x%-2u %016llx", i, (unsigned long long)f->x[i],
			  i + 1, (unsigned long long)f->x[i + 1]);
	log_error("exception: x30 %016llx", (unsigned long long)f->x[30]);
	main_crash("unexpected exception");
}
