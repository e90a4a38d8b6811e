/*
 * GICv2 and GICv3 for one CPU (GIC architecture spec IHI 0069, GICv2 spec IHI 0048).
 * vdisk polls the CPU interface from its main loop with PSTATE.I masked, so only the
 * acknowledge/EOI path matters; interrupts are all group 1 at one priority.
 */
#include <errno.h>
#include <stdint.h>

#include "arch/barrier.h"
#include "arch/gic.h"
#include "arch/mmio.h"
#include "arch/sysreg.h"
#include "lib/log.h"

#define GICD_CTLR       0x0000
#define GICD_TYPER      0x0004
#define GICD_IGROUPR    0x0080
#define GICD_ISENABLER  0x0100
#define GICD_IPRIORITYR 0x0400

#define GICD_CTLR_RWP      (1u << 31)
#define GICD_CTLR_ARE_NS   (1u << 4)
#define GICD_CTLR_ENABLE_1A (1u << 1)
#define GICD_CTLR_ENABLE_1 (1u << 0)

#define GICC_CTLR 0x0000
#define GICC_PMR  0x0004
#define GICC_BPR  0x0008
#define GICC_IAR  0x000c
#define GICC_EOIR 0x0010

#define GICR_WAKER          0x0014
#define GICR_TYPER          0x0008
#define GICR_TYPER_LAST     (1ull << 4)
#define GICR_WAKER_SLEEP    (1u << 1)
#define GICR_WAKER_ASLEEP   (1u << 2)
#define GICR_SGI_OFFSET     0x10000
#define GICR_FRAME_SIZE     0x20000

#define PRIORITY 0xa0 /* one level for everything; PMR lets all of it through */
#define PMR_ALL  0xf0

static unsigned int version;
static uintptr_t dist, cpu, rdist_sgi;

static void set_priority(uintptr_t ipriorityr, unsigned int irq)
{
	uintptr_t reg = ipriorityr + (irq & ~3u);
	unsigned int shift = (irq & 3) * 8;
	uint32_t val = mmio_read_32(reg);

	val = (val & ~(0xffu << shift)) | ((uint32_t)PRIORITY << shift);
	mmio_write_32(reg, val);
}

static int v3_find_redistributor(const struct gic_config *cfg)
{
	uint64_t mpidr = read_sysreg(mpidr_el1);
	uint32_t aff = (uint32_t)(((mpidr >> 32) & 0xff) << 24 | (mpidr & 0xffffff));

	for (uint64_t off = 0; off + GICR_FRAME_SIZE <= cfg->redist_size; off += GICR_FRAME_SIZE) {
		uint64_t typer = mmio_read_64(cfg->redist_base + off + GICR_TYPER);

		if ((uint32_t)(typer >> 32) == aff) {
			rdist_sgi = cfg->redist_base + off + GICR_SGI_OFFSET;
			return 0;
		}
		if (typer & GICR_TYPER_LAST)
			break;
	}
	log_error("gic: no redistributor for MPIDR %#llx in %#llx+%#llx",
		  (unsigned long long)mpidr, (unsigned long long)cfg->redist_base,
		  (unsigned long long)cfg->redist_size);
	return -ENODEV;
}

static int v3_init(const struct gic_config *cfg)
{
	uintptr_t rd;
	uint32_t last;
	int rc = v3_find_redistributor(cfg);

	if (rc)
		return rc;
	rd = rdist_sgi - GICR_SGI_OFFSET;
	mmio_write_32(rd + GICR_WAKER, mmio_read_32(rd + GICR_WAKER) & ~GICR_WAKER_SLEEP);
	if (mmio_read_32_poll_timeout(rd + GICR_WAKER, GICR_WAKER_ASLEEP, 0, 100000, &last)) {
		log_error("gic: redistributor did not wake (GICR_WAKER %#x)", last);
		return -ETIMEDOUT;
	}
	mmio_write_32(rdist_sgi + GICD_IGROUPR, ~0u);

	mmio_write_32(dist + GICD_CTLR, GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_1A | GICD_CTLR_ENABLE_1);
	if (mmio_read_32_poll_timeout(dist + GICD_CTLR, GICD_CTLR_RWP, 0, 100000, &last)) {
		log_error("gic: distributor write pending too long (GICD_CTLR %#x)", last);
		return -ETIMEDOUT;
	}

	write_sysreg(ICC_SRE_EL1, read_sysreg(ICC_SRE_EL1) | 1);
	isb();
	if (!(read_sysreg(ICC_SRE_EL1) & 1)) {
		log_error("gic: GICv3 system register interface is disabled by a higher EL");
		return -ENODEV;
	}
	write_sysreg(ICC_PMR_EL1, PMR_ALL);
	write_sysreg(ICC_BPR1_EL1, 0);
	write_sysreg(ICC_CTLR_EL1, 0); /* EOImode 0: EOI drops priority and deactivates */
	write_sysreg(ICC_IGRPEN1_EL1, 1);
	isb();
	return 0;
}

static int v2_init(void)
{
	mmio_write_32(dist + GICD_CTLR, GICD_CTLR_ENABLE_1);
	mmio_write_32(cpu + GICC_PMR, PMR_ALL);
	mmio_write_32(cpu + GICC_BPR, 0);
	mmio_write_32(cpu + GICC_CTLR, 1);
	return 0;
}

int arch_gic_init(const struct gic_config *cfg)
{
	version = cfg->version;
	dist = cfg->dist_base;
	cpu = cfg->cpu_base;
	if (version == 3)
		return v3_init(cfg);
	if (version == 2)
		return v2_init();
	log_error("gic: unsupported GIC version %u", version);
	return -ENODEV;
}

void arch_gic_enable(unsigned int irq)
{
	/* SGIs and PPIs live in the redistributor on GICv3, in the distributor on GICv2. */
	uintptr_t base = (version == 3 && irq < 32) ? rdist_sgi : dist;

	set_priority(base + GICD_IPRIORITYR, irq);
	mmio_write_32(base + GICD_ISENABLER + (irq / 32) * 4, 1u << (irq % 32));
	io_mb();
}

unsigned int arch_gic_ack(void)
{
	if (version == 3) {
		unsigned int irq = (unsigned int)read_sysreg(ICC_IAR1_EL1) & 0xffffff;

		__asm__ volatile("dsb sy" ::: "memory");
		return irq;
	}
	return mmio_read_32(cpu + GICC_IAR) & 0x3ff;
}

void arch_gic_eoi(unsigned int irq)
{
	if (version == 3) {
		write_sysreg(ICC_EOIR1_EL1, irq);
		isb();
		return;
	}
	mmio_write_32(cpu + GICC_EOIR, irq);
}
