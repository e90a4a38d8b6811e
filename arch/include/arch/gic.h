/* The GIC: GICv2 or GICv3, chosen from the device tree (GIC architecture spec IHI 0069). */
#ifndef ARCH_GIC_H
#define ARCH_GIC_H

#include <stdint.h>

/** GIC interrupt ID returned by arch_gic_ack when nothing is pending. */
#define GIC_SPURIOUS 1023

/** What the device tree says about the interrupt controller. */
struct gic_config {
	unsigned int version;   /* 2 or 3 */
	uint64_t dist_base;     /* GICD */
	uint64_t dist_size;
	uint64_t cpu_base;      /* GICv2: GICC */
	uint64_t cpu_size;
	uint64_t redist_base;   /* GICv3: first redistributor region */
	uint64_t redist_size;
};

/** Initialises distributor, redistributor and CPU interface; returns 0 or -errno. */
int arch_gic_init(const struct gic_config *cfg);
/** Enables a PPI (16..31) or SPI for this CPU at the default priority. */
void arch_gic_enable(unsigned int irq);
/** Acknowledges the highest-priority pending interrupt; GIC_SPURIOUS if none. */
unsigned int arch_gic_ack(void);
/** Signals end of interrupt (priority drop and deactivation). */
void arch_gic_eoi(unsigned int irq);

#endif
