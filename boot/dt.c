/*
 * Device-tree queries (devicetree spec v0.4; bindings: arm/gic.yaml, arm/gic-v3.yaml,
 * timer/arm,arch_timer.yaml, arm/xen.txt, arm/psci.yaml, pci/host-generic-pci.yaml).
 * Nothing is hard-coded: the upcall PPI, GIC and UART addresses and the SD hosts' interrupts
 * all come from here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include "blk/sdhci.h"
#include "boot/dt.h"
#include "lib/log.h"

#define GIC_SPI 0
#define GIC_PPI 1

/* Interrupt-parent chains longer than this are taken for loops. */
#define IRQ_PARENT_HOPS 32

static const char *const gic_v2_compat[] = {
	"arm,gic-400", "arm,cortex-a15-gic", "arm,cortex-a9-gic", "arm,cortex-a7-gic",
};

/* The GIC as an interrupt parent: its node, phandle (0 if none) and #interrupt-cells. */
struct gic_node {
	int node;
	uint32_t phandle;
	int cells;
};

/* A number of `cells` (1 or 2) 32-bit cells. */
static uint64_t read_cells(const fdt32_t *p, int cells)
{
	return cells == 2 ? ((uint64_t)fdt32_to_cpu(p[0]) << 32) | fdt32_to_cpu(p[1])
	                  : fdt32_to_cpu(p[0]);
}

/*
 * Translates *addr from the address space of bus's children to that of bus's parent through
 * bus's `ranges`: 0, or -EINVAL when no entry covers it or the cells are not 1 or 2.
 */
static int translate(const void *fdt, int bus, uint64_t *addr)
{
	int parent = fdt_parent_offset(fdt, bus), len;
	int cac = fdt_address_cells(fdt, bus), pac = fdt_address_cells(fdt, parent);
	int sc = fdt_size_cells(fdt, bus), entry = cac + pac + sc;
	const fdt32_t *r = fdt_getprop(fdt, bus, "ranges", &len);

	if (!r || len == 0)
		return 0; /* one to one (a missing ranges too: lenient, as before) */
	if (cac < 1 || cac > 2 || pac < 1 || pac > 2 || sc < 1 || sc > 2)
		return -EINVAL;
	for (int i = 0; (i + 1) * entry * 4 <= len; i++, r += entry) {
		uint64_t child = read_cells(r, cac), to = read_cells(r + cac, pac);
		uint64_t size = read_cells(r + cac + pac, sc);

		if (*addr >= child && *addr - child < size) {
			*addr = *addr - child + to;
			return 0;
		}
	}
	return -EINVAL;
}

/* Whether a bus above node has dma-ranges with an entry whose two sides differ. */
static bool dma_translated(const void *fdt, int node)
{
	for (int bus = fdt_parent_offset(fdt, node); bus > 0; bus = fdt_parent_offset(fdt, bus)) {
		int len, cac = fdt_address_cells(fdt, bus);
		int pac = fdt_address_cells(fdt, fdt_parent_offset(fdt, bus));
		int entry = cac + pac + fdt_size_cells(fdt, bus);
		const fdt32_t *r = fdt_getprop(fdt, bus, "dma-ranges", &len);

		if (!r || len == 0)
			continue;
		if (cac < 1 || cac > 2 || pac < 1 || pac > 2)
			return true; /* cannot tell: assume it moves */
		for (int i = 0; (i + 1) * entry * 4 <= len; i++, r += entry)
			if (read_cells(r, cac) != read_cells(r + cac, pac))
				return true;
	}
	return false;
}

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
	out->base = read_cells(reg, ac);
	out->size = sc ? read_cells(reg + ac, sc) : 0;
	for (int bus = parent; bus > 0; bus = fdt_parent_offset(fdt, bus))
		if (translate(fdt, bus, &out->base))
			return -EINVAL;
	return 0;
}

/*
 * The INTID of a GIC interrupt specifier (arm/gic.yaml: type, number, flags; flags not
 * needed): SPI n is 32 + n, PPI n is 16 + n. 0 for any other type or a number out of range.
 */
static unsigned int gic_intid(const fdt32_t *spec)
{
	uint32_t type = fdt32_to_cpu(spec[0]), num = fdt32_to_cpu(spec[1]);

	if (type == GIC_PPI && num < 16)
		return num + 16;
	if (type == GIC_SPI && num < 988)
		return num + 32;
	return 0;
}

/* Reads interrupt `index` (3-cell GIC specifier) of node as a GIC interrupt ID. */
static int read_irq(const void *fdt, int node, int index, unsigned int *irq)
{
	int len;
	const fdt32_t *cells = fdt_getprop(fdt, node, "interrupts", &len);

	if (!cells || (index + 1) * 12 > len)
		return -ENOENT;
	*irq = gic_intid(cells + index * 3);
	return *irq ? 0 : -EINVAL;
}

static void node_path(const void *fdt, int node, char *path, int size)
{
	if (fdt_get_path(fdt, node, path, size))
		snprintf(path, (size_t)size, "(node at offset %d)", node);
}

static int bad(const void *fdt, int node, const char *prop, const char *why)
{
	char path[128];

	node_path(fdt, node, path, sizeof(path));
	log_error("device tree: %s: property '%s' %s", path, prop, why);
	return -EINVAL;
}

/* Logs why node's property prop is not used (a warning: vdisk goes on without it). */
static void __attribute__((format(printf, 4, 5)))
skip_prop(const void *fdt, int node, const char *prop, const char *fmt, ...)
{
	char path[128], why[160];
	va_list ap;

	node_path(fdt, node, path, sizeof(path));
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_warn("device tree: %s: property '%s' %s", path, prop, why);
}

/* A one-cell property (a cell count) of node: `absent` if it has none, -1 if malformed. */
static int cell_count(const void *fdt, int node, const char *prop, int absent)
{
	int len;
	const fdt32_t *c = fdt_getprop(fdt, node, prop, &len);

	if (!c)
		return absent;
	return len == 4 && fdt32_to_cpu(*c) <= 16 ? (int)fdt32_to_cpu(*c) : -1;
}

/*
 * The interrupt parent of node (devicetree spec v0.4 §2.4.1): the node its interrupt-parent
 * names, or else its devicetree parent, followed on in the same way until an interrupt
 * controller or nexus (a node with #interrupt-cells) is reached. -1 with *why set if there is
 * none.
 */
static int interrupt_parent(const void *fdt, int node, const char **why)
{
	for (int hops = 0; hops < IRQ_PARENT_HOPS; hops++) {
		int len;
		const fdt32_t *ph = fdt_getprop(fdt, node, "interrupt-parent", &len);

		if (ph && len != 4) {
			*why = "an interrupt-parent on the way is not one cell";
			return -1;
		}
		node = ph ? fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(*ph))
		          : fdt_parent_offset(fdt, node);
		if (node < 0) {
			*why = ph ? "an interrupt-parent on the way names no node"
			          : "no interrupt-parent here or above";
			return -1;
		}
		if (fdt_getprop(fdt, node, "#interrupt-cells", NULL))
			return node;
	}
	*why = "interrupt-parent goes round in a loop";
	return -1;
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

static int parse_gic(const void *fdt, struct dt_info *info, struct gic_node *g)
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
	*g = (struct gic_node){.node = node, .phandle = fdt_get_phandle(fdt, node), .cells = 3};
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
 * The GIC INTID of node's first interrupt (devicetree spec v0.4 §2.4.1: interrupts-extended,
 * else interrupts with the node's interrupt parent), 0 if it has none. One that cannot be used
 * (another parent, a malformed specifier, not an SPI or PPI) is logged and gives 0: the
 * device is then polled.
 */
static unsigned int node_gic_irq(const void *fdt, int node, const struct gic_node *gic)
{
	int len, parent;
	const fdt32_t *spec = fdt_getprop(fdt, node, "interrupts-extended", &len);
	bool extended = spec != NULL;
	const char *prop = extended ? "interrupts-extended" : "interrupts";
	const char *why = "its phandle names no node";
	char path[128];
	unsigned int irq;

	if (extended) {
		parent = len >= 4 ? fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(spec[0])) : -1;
		spec++;
		len -= 4;
	} else {
		spec = fdt_getprop(fdt, node, prop, &len);
		if (!spec)
			return 0;
		parent = interrupt_parent(fdt, node, &why);
	}
	if (parent < 0) {
		skip_prop(fdt, node, prop, "has no interrupt parent (%s): polled", why);
		return 0;
	}
	if (parent != gic->node) {
		node_path(fdt, parent, path, sizeof(path));
		skip_prop(fdt, node, prop, "has interrupt parent %s, not the GIC: polled", path);
		return 0;
	}
	/* Only the first of interrupts-extended's entries is read: each may have its own size. */
	if (len < gic->cells * 4 || (!extended && len % (gic->cells * 4))) {
		skip_prop(fdt, node, prop, "has %d bytes, not whole %d-cell GIC specifiers: polled",
		          len, gic->cells);
		return 0;
	}
	irq = gic_intid(spec);
	if (!irq)
		skip_prop(fdt, node, prop, "is GIC type %u interrupt %u, not an SPI or PPI: polled",
		          fdt32_to_cpu(spec[0]), fdt32_to_cpu(spec[1]));
	return irq;
}

/*
 * SD host controllers blk/sdhci.c knows, anywhere in the tree (a driver domain's come from
 * xl's device_tree=, under /passthrough); "status" other than "okay" skips a node. A node
 * without a usable reg is logged and skipped: vdisk serves its other disks.
 */
static void parse_sdhci(const void *fdt, const struct gic_node *gic, struct dt_info *info)
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
		h->irq = node_gic_irq(fdt, node, gic);
		h->dma_translated = dma_translated(fdt, node);
		info->sdhci_count++;
	}
}

/*
 * The bridge's interrupt-map (devicetree spec v0.4 §2.4.3, with its PCI example §2.4.4): rows
 * of the child unit address (the bridge's #address-cells, 3) and interrupt specifier (its
 * #interrupt-cells, 1: the pin), the parent's phandle, the parent's unit address (the
 * parent's #address-cells, 0 if absent, as Linux and Xen read it) and the parent's interrupt
 * specifier (its #interrupt-cells). Rows to the GIC are kept, others skipped with a line. A
 * map that cannot be walked to its end is ignored whole, with a line: INTx is then not used.
 */
static void parse_pci_intx(const void *fdt, int node, const struct gic_node *gic,
                           struct dt_pci *pci)
{
	int len, mask_len, cells, at = 0, row = 0;
	const char *why = NULL;
	const fdt32_t *map = fdt_getprop(fdt, node, "interrupt-map", &len);
	const fdt32_t *mask = fdt_getprop(fdt, node, "interrupt-map-mask", &mask_len);
	unsigned int other = 0, not_spi = 0, over = 0;

	pci->intx_count = 0;
	if (!map)
		return;
	if (cell_count(fdt, node, "#address-cells", 2) != 3 ||
	    cell_count(fdt, node, "#interrupt-cells", -1) != 1) {
		skip_prop(fdt, node, "interrupt-map",
		          "not read: #address-cells is not 3 or #interrupt-cells not 1; "
		          "INTx not used");
		return;
	}
	if (mask && mask_len != 16) {
		skip_prop(fdt, node, "interrupt-map-mask",
		          "has %d bytes, not 4 cells; INTx not used", mask_len);
		return;
	}
	for (int i = 0; i < 4; i++)
		pci->intx_mask[i] = mask ? fdt32_to_cpu(mask[i]) : 0xffffffffu;
	cells = len / 4;
	if (len % 4)
		why = "its length is not whole cells";
	for (; at < cells && !why; row++) {
		uint32_t phandle = at + 5 <= cells ? fdt32_to_cpu(map[at + 4]) : 0;
		int parent = -1, pac = 0, pic = 0;
		unsigned int irq;

		if (phandle)
			parent = gic->phandle == phandle ? gic->node
			                                 : fdt_node_offset_by_phandle(fdt, phandle);
		if (parent >= 0) {
			pac = cell_count(fdt, parent, "#address-cells", 0);
			pic = cell_count(fdt, parent, "#interrupt-cells", -1);
		}
		if (at + 5 > cells)
			why = "the row runs past the end";
		else if (parent < 0)
			why = "its parent phandle names no node";
		else if (pac < 0 || pic < 1)
			why = "its parent has no usable #address-cells and #interrupt-cells";
		else if (at + 5 + pac + pic > cells)
			why = "the row runs past the end";
		if (why)
			break;
		if (parent != gic->node) {
			other++;
		} else if (!(irq = gic_intid(map + at + 5 + pac))) {
			not_spi++;
		} else if (pci->intx_count == DT_PCI_INTX_MAX) {
			over++;
		} else {
			struct dt_pci_intx *e = &pci->intx[pci->intx_count++];

			for (int i = 0; i < 4; i++)
				e->child[i] = fdt32_to_cpu(map[at + i]);
			e->irq = irq;
		}
		at += 5 + pac + pic;
	}
	if (why) {
		pci->intx_count = 0;
		skip_prop(fdt, node, "interrupt-map", "is malformed at row %d (%s); INTx not used",
		          row, why);
		return;
	}
	if (other)
		skip_prop(fdt, node, "interrupt-map",
		          "has rows to another parent than the GIC (%u): skipped", other);
	if (not_spi)
		skip_prop(fdt, node, "interrupt-map",
		          "has rows to a GIC interrupt that is not an SPI or PPI (%u): skipped",
		          not_spi);
	if (over)
		skip_prop(fdt, node, "interrupt-map",
		          "has more rows than the %d read (%u): skipped", DT_PCI_INTX_MAX, over);
}

/* See dt.h. */
unsigned int dt_pci_intx(const struct dt_pci *pci, unsigned int dev, unsigned int fn,
                         unsigned int pin)
{
	uint32_t child[4] = {dev << 11 | fn << 8, 0, 0, pin};

	if (dev > 31 || fn > 7 || pin < 1 || pin > 4)
		return 0;
	for (unsigned int r = 0; r < pci->intx_count && r < DT_PCI_INTX_MAX; r++) {
		const struct dt_pci_intx *e = &pci->intx[r];
		uint32_t differ = 0;

		for (int i = 0; i < 4; i++)
			differ |= (child[i] ^ e->child[i]) & pci->intx_mask[i];
		if (!differ)
			return e->irq;
	}
	return 0;
}

/*
 * The generic ECAM host bridge: reg is its configuration space, and `ranges` entries are
 * (PCI address: 3 cells, the first with the space code in bits 25..24; CPU address: the
 * parent's cells; size: the node's cells); 32-bit memory space is code 2 (PCI bus binding).
 */
static void parse_pci(const void *fdt, const struct gic_node *gic, struct dt_info *info)
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
		parse_pci_intx(fdt, node, gic, &info->pci);
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
	struct gic_node gic;
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
	if ((rc = parse_memory(fdt, info)) || (rc = parse_gic(fdt, info, &gic)) ||
	    (rc = parse_timer(fdt, info)) || (rc = parse_hypervisor(fdt, info)))
		return rc;
	/* After the GIC: an SD host's interrupt is used only if the GIC is its parent. */
	parse_sdhci(fdt, &gic, info);
	parse_pci(fdt, &gic, info);
	return 0;
}
