/*
 * Device-tree queries (devicetree spec v0.4; bindings: arm/gic.yaml, arm/gic-v3.yaml,
 * timer/arm,arch_timer.yaml, arm/xen.txt, arm/psci.yaml). Nothing is hard-coded: the
 * upcall PPI, GIC and UART addresses all come from here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include "blk/sdhci.h"
#include "boot/dt.h"
#include "lib/log.h"

#define GIC_SPI 0
#define GIC_PPI 1

static const char *const gic_v2_compat[] = {
	"arm,gic-400", "arm,cortex-a15-gic", "arm,cortex-a9-gic", "arm,cortex-a7-gic",
};

/* See dt.h. */
int dt_read_reg(const void *fdt, int node, int index, struct dt_range *out)
{
	int parent = fdt_parent_offset(fdt, node);
	int ac = fdt_address_cells(fdt, parent);
	int sc = fdt_size_cells(fdt, parent);
	int len;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

	if (!reg || ac < 1 || ac > 2 || sc < 0 || sc > 2)
		return -EINVAL;
	if ((index + 1) * (ac + sc) * 4 > len)
		return -ENOENT;
	reg += index * (ac + sc);
	out->base = ac == 2 ? ((uint64_t)fdt32_to_cpu(reg[0]) << 32) | fdt32_to_cpu(reg[1])
			    : fdt32_to_cpu(reg[0]);
	reg += ac;
	out->size = sc == 2 ? ((uint64_t)fdt32_to_cpu(reg[0]) << 32) | fdt32_to_cpu(reg[1])
		  : sc == 1 ? fdt32_to_cpu(reg[0]) : 0;
	return 0;
}

/* Reads interrupt `index` (3-cell GIC specifier) of node as a GIC interrupt ID. */
static int read_irq(const void *fdt, int node, int index, unsigned int *irq)
{
	int len;
	const fdt32_t *cells = fdt_getprop(fdt, node, "interrupts", &len);
	uint32_t type, num;

	if (!cells || (index + 1) * 12 > len)
		return -ENOENT;
	type = fdt32_to_cpu(cells[index * 3]);
	num = fdt32_to_cpu(cells[index * 3 + 1]);
	if (type == GIC_PPI && num < 16)
		*irq = num + 16;
	else if (type == GIC_SPI && num < 988)
		*irq = num + 32;
	else
		return -EINVAL;
	return 0;
}

static int bad(const void *fdt, int node, const char *prop, const char *why)
{
	char path[128];

	if (fdt_get_path(fdt, node, path, sizeof(path)))
		snprintf(path, sizeof(path), "(node at offset %d)", node);
	log_error("device tree: %s: property '%s' %s", path, prop, why);
	return -EINVAL;
}

static int parse_memory(const void *fdt, struct dt_info *info)
{
	int node = -1;

	while ((node = fdt_node_offset_by_prop_value(fdt, node, "device_type", "memory",
						     sizeof("memory"))) >= 0) {
		struct dt_range r;

		for (int i = 0; dt_read_reg(fdt, node, i, &r) == 0; i++) {
			if (r.size == 0)
				continue;
			if (info->memory_count == DT_MEMORY_MAX) {
				log_warn("device tree: more than %d memory banks, ignoring the rest",
					 DT_MEMORY_MAX);
				return 0;
			}
			info->memory[info->memory_count++] = r;
		}
	}
	if (info->memory_count == 0)
		return bad(fdt, 0, "device_type = \"memory\"", "is on no node with a reg");
	return 0;
}

static int parse_gic(const void *fdt, struct dt_info *info)
{
	struct gic_config *gic = &info->gic;
	struct dt_range r;
	int node = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3");
	const fdt32_t *cells;

	if (node >= 0) {
		gic->version = 3;
	} else {
		for (size_t i = 0; i < sizeof(gic_v2_compat) / sizeof(gic_v2_compat[0]); i++) {
			node = fdt_node_offset_by_compatible(fdt, -1, gic_v2_compat[i]);
			if (node >= 0)
				break;
		}
		if (node < 0) {
			log_error("device tree: no GICv2 or GICv3 interrupt controller");
			return -EINVAL;
		}
		gic->version = 2;
	}
	cells = fdt_getprop(fdt, node, "#interrupt-cells", NULL);
	if (!cells || fdt32_to_cpu(*cells) != 3)
		return bad(fdt, node, "#interrupt-cells", "is not 3");
	if (dt_read_reg(fdt, node, 0, &r))
		return bad(fdt, node, "reg", "has no distributor region");
	gic->dist_base = r.base;
	gic->dist_size = r.size;
	if (dt_read_reg(fdt, node, 1, &r))
		return bad(fdt, node, "reg", gic->version == 3 ? "has no redistributor region"
							       : "has no CPU interface region");
	if (gic->version == 3) {
		gic->redist_base = r.base;
		gic->redist_size = r.size;
	} else {
		gic->cpu_base = r.base;
		gic->cpu_size = r.size;
	}
	return 0;
}

static int parse_timer(const void *fdt, struct dt_info *info)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "arm,armv8-timer");

	if (node < 0)
		node = fdt_node_offset_by_compatible(fdt, -1, "arm,armv7-timer");
	if (node < 0) {
		log_error("device tree: no arm,armv8-timer node");
		return -EINVAL;
	}
	/* Order: secure physical, non-secure physical, virtual, hypervisor. */
	if (read_irq(fdt, node, 2, &info->timer_irq) || info->timer_irq >= 32)
		return bad(fdt, node, "interrupts", "has no virtual timer PPI (third entry)");
	return 0;
}

static int parse_hypervisor(const void *fdt, struct dt_info *info)
{
	int node = fdt_path_offset(fdt, "/hypervisor");
	const char *compat;
	int len;

	if (node < 0 || fdt_node_check_compatible(fdt, node, "xen,xen") != 0)
		return 0;
	info->xen = true;
	compat = fdt_getprop(fdt, node, "compatible", &len);
	if (compat && len > 0)
		snprintf(info->xen_compatible, sizeof(info->xen_compatible), "%s", compat);
	for (int i = 0; i < DT_XEN_REGIONS_MAX; i++) {
		if (dt_read_reg(fdt, node, i, &info->xen_regions[i]))
			break;
		info->xen_region_count++;
	}
	if (read_irq(fdt, node, 0, &info->upcall_irq) || info->upcall_irq >= 32)
		return bad(fdt, node, "interrupts", "has no event channel upcall PPI");
	return 0;
}

static void parse_uart(const void *fdt, struct dt_info *info)
{
	int chosen = fdt_path_offset(fdt, "/chosen");
	const char *path = chosen >= 0 ? fdt_getprop(fdt, chosen, "stdout-path", NULL) : NULL;
	int node = -FDT_ERR_NOTFOUND;
	struct dt_range r;

	if (path) {
		const char *colon = strchr(path, ':');

		node = fdt_path_offset_namelen(fdt, path, colon ? (int)(colon - path)
								 : (int)strlen(path));
	}
	if (node < 0 || fdt_node_check_compatible(fdt, node, "arm,pl011") != 0)
		node = fdt_node_offset_by_compatible(fdt, -1, "arm,pl011");
	if (node >= 0 && dt_read_reg(fdt, node, 0, &r) == 0) {
		info->uart_base = r.base;
		info->uart_size = r.size;
	}
}

/*
 * SD host controllers blk/sdhci.c knows, anywhere in the tree (a driver domain's come from
 * xl's device_tree=, under /passthrough); "status" other than "okay" skips a node. A node
 * without a usable reg is logged and skipped: vdisk serves its other disks.
 */
static void parse_sdhci(const void *fdt, struct dt_info *info)
{
	int node;

	info->sdhci_count = 0;
	for (node = fdt_next_node(fdt, -1, NULL); node >= 0 && info->sdhci_count < DT_SDHCI_MAX;
	     node = fdt_next_node(fdt, node, NULL)) {
		struct dt_sdhci *h = &info->sdhci[info->sdhci_count];
		const char *status = fdt_getprop(fdt, node, "status", NULL);
		const fdt32_t *clk;
		const char *compat = NULL;
		int len;

		for (int i = 0; !compat; i++) {
			const char *c = fdt_stringlist_get(fdt, node, "compatible", i, NULL);

			if (!c)
				break;
			if (sdhci_compatible(c))
				compat = c;
		}
		if (!compat || (status && strcmp(status, "okay") && strcmp(status, "ok")))
			continue;
		if (dt_read_reg(fdt, node, 0, &h->reg) || h->reg.size < SDHCI_WINDOW) {
			bad(fdt, node, "reg", "is not an SDHCI register window of 256 bytes or more");
			continue;
		}
		snprintf(h->compatible, sizeof(h->compatible), "%s", compat);
		clk = fdt_getprop(fdt, node, "clock-frequency", &len);
		h->clock_hz = clk && len == 4 ? fdt32_to_cpu(*clk) : 0;
		info->sdhci_count++;
	}
}

/*
 * The generic ECAM host bridge: reg is its configuration space, and `ranges` entries are
 * (PCI address: 3 cells, the first with the space code in bits 25..24; CPU address: the
 * parent's cells; size: the node's cells); 32-bit memory space is code 2 (PCI bus binding).
 */
static void parse_pci(const void *fdt, struct dt_info *info)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic");
	int pac, sc, len;
	const fdt32_t *r;
	struct dt_range reg;

	info->pci.present = false;
	if (node < 0 || dt_read_reg(fdt, node, 0, &reg))
		return;
	pac = fdt_address_cells(fdt, fdt_parent_offset(fdt, node));
	sc = fdt_size_cells(fdt, node);
	r = fdt_getprop(fdt, node, "ranges", &len);
	if (!r || pac < 1 || pac > 2 || sc < 1 || sc > 2)
		return;
	for (int at = 0; (at + 3 + pac + sc) * 4 <= len; at += 3 + pac + sc) {
		uint32_t space = fdt32_to_cpu(r[at]) >> 24 & 3u;
		uint64_t cpu = fdt32_to_cpu(r[at + 3]), size = fdt32_to_cpu(r[at + 3 + pac]);

		if (pac == 2)
			cpu = cpu << 32 | fdt32_to_cpu(r[at + 4]);
		if (sc == 2)
			size = size << 32 | fdt32_to_cpu(r[at + 4 + pac]);
		if (space != 2 || size == 0)
			continue;
		info->pci = (struct dt_pci){
		    .present = true,
		    .ecam = reg.base,
		    .ecam_size = reg.size,
		    .mem_cpu = cpu,
		    .mem_pci = (uint64_t)fdt32_to_cpu(r[at + 1]) << 32 | fdt32_to_cpu(r[at + 2]),
		    .mem_size = size,
		};
		return;
	}
}

static void parse_psci(const void *fdt, struct dt_info *info)
{
	int node = fdt_path_offset(fdt, "/psci");
	const char *method = node >= 0 ? fdt_getprop(fdt, node, "method", NULL) : NULL;

	info->psci = PSCI_NONE;
	if (method && strcmp(method, "hvc") == 0)
		info->psci = PSCI_HVC;
	else if (method && strcmp(method, "smc") == 0)
		info->psci = PSCI_SMC;
}

int dt_parse(const void *fdt, struct dt_info *info)
{
	int chosen;
	int rc;

	memset(info, 0, sizeof(*info));
	rc = fdt_check_header(fdt);
	if (rc) {
		log_error("device tree: bad header: %s", fdt_strerror(rc));
		return -EINVAL;
	}
	chosen = fdt_path_offset(fdt, "/chosen");
	info->bootargs = "";
	if (chosen >= 0) {
		int len;
		const char *args = fdt_getprop(fdt, chosen, "bootargs", &len);

		if (args && (len < 1 || args[len - 1] != '\0'))
			return bad(fdt, chosen, "bootargs", "is not a NUL-terminated string");
		if (args)
			info->bootargs = args;
	}
	parse_uart(fdt, info);
	parse_psci(fdt, info);
	parse_sdhci(fdt, info);
	parse_pci(fdt, info);
	if ((rc = parse_memory(fdt, info)) || (rc = parse_gic(fdt, info)) ||
	    (rc = parse_timer(fdt, info)) || (rc = parse_hypervisor(fdt, info)))
		return rc;
	return 0;
}
