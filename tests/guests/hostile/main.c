/*
 * The hostile test guest: a bare-metal domU built from vdisk's own arch/, hyp/ and boot/
 * pieces (Linux Image header, so `xl create` loads it with kernel=). It finds its virtio-mmio
 * block devices in the device tree Xen wrote, drives them directly (vdrv.c) and attacks
 * them (attacks.c), printing GUEST-TEST lines and "DOMU: script exit N" on its PV console as
 * tests/rig/lib/guest.sh expects from a Linux test guest, then powers off. It needs nothing
 * from xenstore.
 *
 * It provides boot/main.h's entry points in place of vdisk's boot/main.c.
 */
#include <stdint.h>
#include <string.h>

#include <libfdt.h>
#include <xen/xen.h>
#include <xen/sched.h>

#include "arch/cpu.h"
#include "arch/gic.h"
#include "arch/mmu.h"
#include "arch/timer.h"
#include "blk/vblk.h"
#include "boot/dt.h"
#include "boot/main.h"
#include "boot/xenboot.h"
#include "hyp/console.h"
#include "hyp/xen.h"
#include "lib/log.h"
#include "tests/guests/hostile/attacks.h"
#include "tests/guests/hostile/vdrv.h"

#define DEV_MAX 4

static struct dt_info dt;
static struct xen_info xen;
static bool console_attached;
static struct vdrv devs[DEV_MAX];
static struct vdrv_rings rings[DEV_MAX] __attribute__((aligned(4096)));
static const char *const dev_names[DEV_MAX] = {"vda", "vdb", "vdc", "vdd"};
static int backend_domid = -1; /* from iommus = <&xen_grant_dma DOMID> (libxl_arm.c) */

/* The end: the rig reads the exit line, then the domain goes away. */
static void __attribute__((noreturn)) finish(int status, unsigned int reason)
{
	log_info("DOMU: script exit %d", status);
	console_drain(2000000000ull);
	xen_shutdown(reason);
	arch_cpu_halt();
}

void main_crash(const char *why)
{
	log_error("fatal: %s", why);
	if (dt.xen) {
		if (!console_attached)
			console_attached = xenboot_attach_console(&xen);
		log_info("GUEST-TEST: FAIL crashed: %s", why);
		finish(99, SHUTDOWN_crash);
	}
	arch_cpu_halt();
}

/*
 * The GIC INTID of a node's first interrupt, as libxl writes it for a virtio-mmio device
 * (interrupts = <GIC_SPI n IRQ_TYPE_EDGE_RISING>, arm/gic.yaml), 0 if there is none.
 */
static unsigned int node_irq(const void *fdt, int node)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, "interrupts", &len);

	if (!p || len < 12)
		return 0;
	switch (fdt32_to_cpu(p[0])) {
	case 0: /* SPI */
		return 32 + fdt32_to_cpu(p[1]);
	case 1: /* PPI */
		return 16 + fdt32_to_cpu(p[1]);
	default:
		return 0;
	}
}

/*
 * Maps and initialises the GIC so that the interrupt checks can acknowledge the devices'
 * interrupts through the CPU interface, polling with PSTATE.I masked as vdisk itself does;
 * returns 0 or -errno (logged). Xen's vGIC reads GICD_ISPENDR as zero, so the distributor's
 * pending bits cannot tell.
 */
static int gic_setup(void)
{
	const struct gic_config *g = &dt.gic;
	int rc = arch_mmu_map(g->dist_base, g->dist_size, MMU_DEVICE);

	if (rc == 0 && g->version == 3)
		rc = arch_mmu_map(g->redist_base, g->redist_size, MMU_DEVICE);
	else if (rc == 0)
		rc = arch_mmu_map(g->cpu_base, g->cpu_size, MMU_DEVICE);
	if (rc == 0)
		rc = arch_gic_init(g);
	if (rc)
		log_warn("hostile: GICv%u unusable (%d): interrupts cannot be checked", g->version,
		         rc);
	return rc;
}

/* The affinity (reg) of a CPU node other than the one we run on, or -1 (devicetree cpus.yaml). */
static int64_t other_cpu_mpidr(const void *fdt)
{
	int cpus = fdt_path_offset(fdt, "/cpus");
	int node;

	if (cpus < 0)
		return -1;
	fdt_for_each_subnode(node, fdt, cpus)
	{
		int len;
		const char *type = fdt_getprop(fdt, node, "device_type", &len);
		const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

		if (!type || strcmp(type, "cpu") || !reg || len < 4)
			continue;
		if (fdt32_to_cpu(reg[len / 4 - 1]) != 0) /* vCPU 0, where we run, has affinity 0 */
			return fdt32_to_cpu(reg[len / 4 - 1]);
	}
	return -1;
}

/* A disk's size in sectors, from its config space (virtio 1.2 §5.2.4), before any set-up. */
static uint64_t capacity_of(const struct vdrv *d)
{
	return vdrv_read32(d, VMMIO_REG_CONFIG) |
	       (uint64_t)vdrv_read32(d, VMMIO_REG_CONFIG + 4) << 32;
}

/* Identity-maps each virtio,mmio window and probes it; returns how many block devices. */
static unsigned int find_devices(const void *fdt)
{
	unsigned int count = 0;

	for (int node = fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio");
	     node >= 0 && count < DEV_MAX;
	     node = fdt_node_offset_by_compatible(fdt, node, "virtio,mmio")) {
		struct dt_range r;
		int rc = dt_read_reg(fdt, node, 0, &r);

		if (rc || r.size < VMMIO_WINDOW) {
			log_warn("hostile: %s: unusable reg (%d)", fdt_get_name(fdt, node, NULL),
			         rc);
			continue;
		}
		rc = arch_mmu_map(r.base, r.size, MMU_DEVICE);
		if (rc) {
			log_warn("hostile: cannot map %#llx (%d)", (unsigned long long)r.base, rc);
			continue;
		}
		if (vdrv_probe(&devs[count], dev_names[count], (uintptr_t)r.base, &rings[count]))
			continue;
		int len;
		const fdt32_t *iommus = fdt_getprop(fdt, node, "iommus", &len);

		if (iommus && len == 8)
			backend_domid = (int)fdt32_to_cpu(iommus[1]);
		devs[count].irq = node_irq(fdt, node);
		log_info("hostile: %s: virtio-mmio block device at %#llx, interrupt %u, backend "
		         "domain %d",
		         dev_names[count], (unsigned long long)r.base, devs[count].irq,
		         backend_domid);
		count++;
	}
	return count;
}

void main_start(uint64_t dtb_pa)
{
	const void *fdt = (const void *)(uintptr_t)dtb_pa;
	struct vdrv *rw = NULL, *ro = NULL, *slow = NULL, *doomed = NULL, *card = NULL;
	struct attacks_env env;
	unsigned int count;
	int failures;

	if (dt_parse(fdt, &dt) || !dt.xen)
		main_crash("not a Xen guest device tree");
	for (unsigned int i = 0; i < dt.memory_count; i++)
		if (arch_mmu_map(dt.memory[i].base, dt.memory[i].size, MMU_NORMAL))
			main_crash("cannot map RAM");
	if (xenboot_init(&xen))
		main_crash("Xen start-up failed");
	console_attached = xenboot_attach_console(&xen);
	if (!console_attached)
		main_crash("no PV console");
	log_info("hostile: test guest %s, Xen %u.%u%s", VDISK_VERSION, xen.major, xen.minor,
	         xen.extra);

	count = find_devices(fdt);
	if (gic_setup() == 0) {
		for (unsigned int i = 0; i < count; i++)
			if (devs[i].irq)
				arch_gic_enable(devs[i].irq);
	} else {
		for (unsigned int i = 0; i < count; i++)
			devs[i].irq = 0;
	}
	for (unsigned int i = 0; i < count; i++) {
		uint64_t sectors = capacity_of(&devs[i]);

		vdrv_write32(&devs[i], VMMIO_REG_DEVICE_FEATURES_SEL, 0);
		if (vdrv_read32(&devs[i], VMMIO_REG_DEVICE_FEATURES) & (1u << VBLK_F_RO))
			ro = ro ? ro : &devs[i];
		else if (sectors == ATTACKS_SLOW_SECTORS)
			slow = slow ? slow : &devs[i];
		else if (sectors == ATTACKS_DOOMED_SECTORS)
			doomed = doomed ? doomed : &devs[i];
		else if (sectors == ATTACKS_CARD_SECTORS)
			card = card ? card : &devs[i];
		else
			rw = rw ? rw : &devs[i];
	}
	if (card && !rw) { /* the sd scenario: a card partition only */
		log_info("GUEST-TEST: PASS devices");
		failures = attacks_card(card);
		log_info("GUEST-SUMMARY: %d failure(s)", failures);
		finish(failures ? 1 : 0, SHUTDOWN_poweroff);
	}
	if (!rw) {
		log_info("GUEST-TEST: FAIL devices: no writable virtio-blk device among %u", count);
		finish(1, SHUTDOWN_poweroff);
	}
	log_info("GUEST-TEST: PASS devices");
	if (dt.xen_region_count < 1)
		backend_domid = -1; /* no grant-table region to map ours into */
	env = (struct attacks_env){
	    .backend = backend_domid,
	    .grant_table_gpa = dt.xen_regions[0].base,
	    .psci = dt.psci,
	    .cpu1_mpidr = other_cpu_mpidr(fdt),
	};
	for (unsigned int i = 0; i < count; i++)
		if (!env.last || devs[i].base > env.last->base)
			env.last = &devs[i];
	failures = attacks_run(rw, ro, slow, &env);
	log_info("GUEST-SUMMARY: %d failure(s)", failures);
	if (!doomed)
		finish(failures ? 1 : 0, SHUTDOWN_poweroff);
	/*
	 * The rig destroys a guest that is still there after its exit line: this one goes with
	 * reads at vdisk's disk (tests/rig/hostile.sh checks what vdisk did with them).
	 */
	log_info("DOMU: script exit %d", failures ? 1 : 0);
	console_drain(2000000000ull);
	attacks_leave_in_flight(doomed);
	console_drain(2000000000ull);
	arch_cpu_halt();
}
