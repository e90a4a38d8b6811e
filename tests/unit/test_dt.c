/*
 * boot/dt.c on real device trees: QEMU virt's (dumped by QEMU 7.2, GICv3 and GICv2), the
 * trees libxl 4.17 gives a domU (GICv3 and GICv2), broken variants of those from
 * tests/unit/dts/, and variants edited here with libfdt. The .dtb files sit in dtb/ next
 * to this binary (the Makefile compiles them).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libfdt.h>

#include "boot/dt.h"
#include "lib/log.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/test.h"

#define EXTRA_SPACE 4096 /* room for libfdt edits */


static void clear_log(void)
{
	log_capture_reset();
}

/*
 * Reads dtb/<name>.dtb from beside the test binary into a buffer with room for edits
 * (NULL after a failed EXPECT). One buffer at a time: the previous one is freed.
 */
static void *load(const char *name)
{
	static void *buf;
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f;
	long size;
	void *raw;

	free(buf);
	buf = NULL;
	clear_log();
	if (n <= 0) {
		EXPECT_TRUE(n > 0);
		return NULL;
	}
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(path, sizeof(path), "%s/dtb/%s.dtb", exe, name);
	f = fopen(path, "rb");
	if (!f) {
		test_fail(__FILE__, __LINE__, "cannot open %s (run `make unit` to build it)", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	raw = malloc((size_t)size);
	if (!raw || fread(raw, 1, (size_t)size, f) != (size_t)size) {
		test_fail(__FILE__, __LINE__, "cannot read %s", path);
		fclose(f);
		free(raw);
		return NULL;
	}
	fclose(f);
	buf = malloc((size_t)size + EXTRA_SPACE);
	if (!buf || fdt_open_into(raw, buf, (int)size + EXTRA_SPACE) != 0) {
		test_fail(__FILE__, __LINE__, "%s is not a device tree", path);
		free(raw);
		return NULL;
	}
	free(raw);
	return buf;
}

static int node(void *fdt, const char *path)
{
	int off = fdt_path_offset(fdt, path);

	EXPECT_GE(off, 0);
	return off;
}

/* Sets a property of the node at path to len raw bytes. */
static void set_prop(void *fdt, const char *path, const char *prop, const void *val, int len)
{
	EXPECT_EQ(fdt_setprop(fdt, node(fdt, path), prop, val, len), 0);
}

static void set_cells(void *fdt, const char *path, const char *prop, const uint32_t *cells,
                      int count)
{
	fdt32_t be[16];

	for (int i = 0; i < count; i++)
		be[i] = cpu_to_fdt32(cells[i]);
	set_prop(fdt, path, prop, be, count * 4);
}

/* ---- whole trees ----------------------------------------------------------------- */

TEST(dt, qemu_virt_gicv3)
{
	struct dt_info info;
	void *fdt = load("qemu-virt-gicv3");

	ASSERT_TRUE(fdt);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.memory_count, 1);
	EXPECT_EQ(info.memory[0].base, 0x40000000);
	EXPECT_EQ(info.memory[0].size, 0x10000000); /* -m 256 */
	EXPECT_EQ(info.gic.version, 3);
	EXPECT_EQ(info.gic.dist_base, 0x08000000);
	EXPECT_EQ(info.gic.dist_size, 0x10000);
	EXPECT_EQ(info.gic.redist_base, 0x080a0000);
	EXPECT_EQ(info.gic.redist_size, 0xf60000);
	EXPECT_EQ(info.gic.cpu_base, 0);
	EXPECT_EQ(info.gic.cpu_size, 0);
	EXPECT_EQ(info.timer_irq, 27);
	EXPECT_FALSE(info.xen);
	EXPECT_STREQ(info.xen_compatible, "");
	EXPECT_EQ(info.xen_region_count, 0);
	EXPECT_EQ(info.upcall_irq, 0);
	EXPECT_EQ(info.uart_base, 0x09000000);
	EXPECT_EQ(info.uart_size, 0x1000);
	EXPECT_EQ(info.psci, PSCI_SMC); /* virtualization=on: QEMU's PSCI is at EL3 */
	EXPECT_STREQ(info.bootargs, "");
	/* The ECAM bridge and its 32-bit memory window (the I/O range before it is skipped). */
	EXPECT_TRUE(info.pci.present);
	EXPECT_EQ(info.pci.ecam, 0x4010000000ull);
	EXPECT_EQ(info.pci.ecam_size, 0x10000000);
	EXPECT_EQ(info.pci.mem_cpu, 0x10000000);
	EXPECT_EQ(info.pci.mem_pci, 0x10000000);
	EXPECT_EQ(info.pci.mem_size, 0x2eff0000);
	/* QEMU's interrupt-map: slots 0..3, INTA..INTD, all to the GIC. */
	EXPECT_EQ(info.pci.intx_count, 16);
	EXPECT_EQ(info.pci.intx_mask[0], 0x1800);
	EXPECT_EQ(info.pci.intx_mask[3], 7);
	EXPECT_EQ(dt_pci_intx(&info.pci, 2, 0, 1), 37); /* the rig's sdhci-pci, 00:02.0 INTA */
	EXPECT_EQ(info.sdhci_count, 0);
	EXPECT_STREQ(log_text, "");
}

TEST(dt, qemu_virt_gicv2)
{
	struct dt_info info;
	void *fdt = load("qemu-virt-gicv2");

	ASSERT_TRUE(fdt);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.memory_count, 1);
	EXPECT_EQ(info.memory[0].base, 0x40000000);
	EXPECT_EQ(info.memory[0].size, 0x10000000);
	EXPECT_EQ(info.gic.version, 2);
	EXPECT_EQ(info.gic.dist_base, 0x08000000);
	EXPECT_EQ(info.gic.dist_size, 0x10000);
	EXPECT_EQ(info.gic.cpu_base, 0x08010000);
	EXPECT_EQ(info.gic.cpu_size, 0x10000);
	EXPECT_EQ(info.gic.redist_base, 0);
	EXPECT_EQ(info.timer_irq, 27);
	EXPECT_FALSE(info.xen);
	EXPECT_EQ(info.uart_base, 0x09000000);
	EXPECT_EQ(info.uart_size, 0x1000);
	EXPECT_EQ(info.psci, PSCI_SMC);
	EXPECT_STREQ(info.bootargs, "");
}

TEST(dt, xen_domu_gicv3)
{
	struct dt_info info;
	void *fdt = load("xen-domu-gicv3");

	ASSERT_TRUE(fdt);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.memory_count, 1);
	EXPECT_EQ(info.memory[0].base, 0x40000000);
	EXPECT_EQ(info.memory[0].size, 0x10000000);
	EXPECT_EQ(info.gic.version, 3);
	EXPECT_EQ(info.gic.dist_base, 0x03001000);
	EXPECT_EQ(info.gic.dist_size, 0x10000);
	EXPECT_EQ(info.gic.redist_base, 0x03020000);
	EXPECT_EQ(info.gic.redist_size, 0x1000000);
	EXPECT_EQ(info.gic.cpu_base, 0);
	EXPECT_EQ(info.timer_irq, 27);
	EXPECT_TRUE(info.xen);
	EXPECT_STREQ(info.xen_compatible, "xen,xen-4.17");
	EXPECT_EQ(info.xen_region_count, 3);
	EXPECT_EQ(info.xen_regions[0].base, 0x38000000);
	EXPECT_EQ(info.xen_regions[0].size, 0x1000000);
	EXPECT_EQ(info.xen_regions[1].base, 0x50000000);
	EXPECT_EQ(info.xen_regions[1].size, 0xb0000000);
	EXPECT_EQ(info.xen_regions[2].base, 0x200000000);
	EXPECT_EQ(info.xen_regions[2].size, 0xfe00000000);
	EXPECT_EQ(info.upcall_irq, 31);
	EXPECT_EQ(info.uart_base, 0); /* a domU has no PL011 */
	EXPECT_EQ(info.uart_size, 0);
	EXPECT_EQ(info.psci, PSCI_HVC);
	EXPECT_STREQ(info.bootargs, "loglevel=debug evtchn_bench=50");
	EXPECT_STREQ(log_text, "");
}

TEST(dt, sd_host_controllers)
{
	struct dt_info info;
	void *fdt = load("xen-domu-sdhci");

	ASSERT_TRUE(fdt);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.sdhci_count, 2);
	EXPECT_EQ(info.sdhci[0].reg.base, 0x10041000);
	EXPECT_EQ(info.sdhci[0].reg.size, 0x100);
	EXPECT_STREQ(info.sdhci[0].compatible, "pci1b36,7");
	EXPECT_EQ(info.sdhci[0].clock_hz, 52000000);
	EXPECT_EQ(info.sdhci[0].irq, 37); /* SPI 5, the GIC inherited from the root */
	EXPECT_EQ(info.sdhci[1].reg.base, 0x10044000);
	EXPECT_STREQ(info.sdhci[1].compatible, "brcm,bcm2711-emmc2");
	EXPECT_EQ(info.sdhci[1].clock_hz, 0);
	EXPECT_EQ(info.sdhci[1].irq, 0); /* no interrupts: polled, and nothing to say */
	EXPECT_NOT_CONTAINS(log_text, "interrupt");
	/* The disabled one is skipped silently, the one with a short window with a line. */
	EXPECT_CONTAINS(log_text, "sdhci@10043000: property 'reg' is not an SDHCI register window");
	EXPECT_NOT_CONTAINS(log_text, "10042000");

	/* A tree without one has none, and a domU has no PCI bridge. */
	fdt = load("xen-domu-gicv3");
	ASSERT_TRUE(fdt);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.sdhci_count, 0);
	EXPECT_FALSE(info.pci.present);
}

TEST(dt, xen_domu_gicv2)
{
	struct dt_info info;
	void *fdt = load("xen-domu-gicv2");

	ASSERT_TRUE(fdt);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.gic.version, 2);
	EXPECT_EQ(info.gic.dist_base, 0x03001000);
	EXPECT_EQ(info.gic.dist_size, 0x1000);
	EXPECT_EQ(info.gic.cpu_base, 0x03002000);
	EXPECT_EQ(info.gic.cpu_size, 0x2000);
	EXPECT_EQ(info.gic.redist_base, 0);
	EXPECT_EQ(info.timer_irq, 27);
	EXPECT_TRUE(info.xen);
	EXPECT_EQ(info.upcall_irq, 31);
	EXPECT_EQ(info.xen_region_count, 3);
	EXPECT_EQ(info.memory_count, 1);
	EXPECT_EQ(info.psci, PSCI_HVC);
	EXPECT_STREQ(info.bootargs, ""); /* no extra=, no bootargs property */
}

/* ---- broken trees from tests/unit/dts --------------------------------------------- */

TEST(dt, no_gic)
{
	struct dt_info info;
	void *fdt = load("broken-no-gic");

	ASSERT_TRUE(fdt);
	EXPECT_EQ(dt_parse(fdt, &info), -EINVAL);
	EXPECT_CONTAINS(log_text, "no GICv2 or GICv3 interrupt controller");
}

TEST(dt, hypervisor_without_interrupts)
{
	struct dt_info info;
	void *fdt = load("broken-hypervisor-no-interrupts");

	ASSERT_TRUE(fdt);
	EXPECT_EQ(dt_parse(fdt, &info), -EINVAL);
	EXPECT_CONTAINS(log_text, "/hypervisor: property 'interrupts' has no event channel upcall");
}

TEST(dt, gic_with_two_interrupt_cells)
{
	struct dt_info info;
	void *fdt = load("broken-gic-interrupt-cells-2");

	ASSERT_TRUE(fdt);
	EXPECT_EQ(dt_parse(fdt, &info), -EINVAL);
	EXPECT_CONTAINS(log_text,
	                "/interrupt-controller@3001000: property '#interrupt-cells' is not 3");
}

TEST(dt, not_a_dtb)
{
	struct dt_info info;
	static const char text[64] = "This is a text file, not a flattened device tree.";
	uint32_t zeros[16] = {0};

	clear_log();
	EXPECT_EQ(dt_parse(text, &info), -EINVAL);
	EXPECT_CONTAINS(log_text, "device tree: bad header: FDT_ERR_BADMAGIC");
	EXPECT_EQ(dt_parse(zeros, &info), -EINVAL);
}

TEST(dt, truncated_header_size)
{
	struct dt_info info;
	void *fdt = load("xen-domu-gicv3");

	ASSERT_TRUE(fdt);
	/* totalsize smaller than the structure block it claims to hold */
	fdt_set_totalsize(fdt, 64);
	EXPECT_EQ(dt_parse(fdt, &info), -EINVAL);
	EXPECT_CONTAINS(log_text, "bad header");
}

/* ---- variants edited with libfdt ----------------------------------------------------- */

TEST(dt, bootargs_without_nul)
{
	struct dt_info info;
	void *fdt = load("xen-domu-gicv3");

	ASSERT_TRUE(fdt);
	set_prop(fdt, "/chosen", "bootargs", "loglevel=debug", 14); /* no terminating NUL */
	EXPECT_EQ(dt_parse(fdt, &info), -EINVAL);
	EXPECT_CONTAINS(log_text, "/chosen: property 'bootargs' is not a NUL-terminated string");

	clear_log();
	set_prop(fdt, "/chosen", "bootargs", NULL, 0); /* empty property */
	EXPECT_EQ(dt_parse(fdt, &info), -EINVAL);

	set_prop(fdt, "/chosen", "bootargs", "", 1); /* an empty string is fine */
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_STREQ(info.bootargs, "");
}

TEST(dt, bootargs_built_from_scratch_without_nul)
{
	/* A minimal tree made with the sequential-write API, bootargs not terminated. */
	static char buf[2048];
	struct dt_info info;
	fdt32_t reg[4] = {0, cpu_to_fdt32(0x40000000), 0, cpu_to_fdt32(0x1000000)};

	ASSERT_EQ(fdt_create(buf, sizeof(buf)), 0);
	ASSERT_EQ(fdt_finish_reservemap(buf), 0);
	ASSERT_EQ(fdt_begin_node(buf, ""), 0);
	ASSERT_EQ(fdt_property_u32(buf, "#address-cells", 2), 0);
	ASSERT_EQ(fdt_property_u32(buf, "#size-cells", 2), 0);
	ASSERT_EQ(fdt_begin_node(buf, "chosen"), 0);
	ASSERT_EQ(fdt_property(buf, "bootargs", "abc", 3), 0);
	ASSERT_EQ(fdt_end_node(buf), 0);
	ASSERT_EQ(fdt_begin_node(buf, "memory@40000000"), 0);
	ASSERT_EQ(fdt_property_string(buf, "device_type", "memory"), 0);
	ASSERT_EQ(fdt_property(buf, "reg", reg, sizeof(reg)), 0);
	ASSERT_EQ(fdt_end_node(buf), 0);
	ASSERT_EQ(fdt_end_node(buf), 0);
	ASSERT_EQ(fdt_finish(buf), 0);

	clear_log();
	EXPECT_EQ(dt_parse(buf, &info), -EINVAL);
	EXPECT_CONTAINS(log_text, "'bootargs' is not a NUL-terminated string");
}

TEST(dt, upcall_must_be_a_ppi)
{
	struct dt_info info;
	void *fdt = load("xen-domu-gicv3");
	static const uint32_t spi[] = {0, 15, 4}; /* SPI 15 = interrupt 47 */
	static const uint32_t ppi_too_big[] = {1, 16, 4};

	ASSERT_TRUE(fdt);
	set_cells(fdt, "/hypervisor", "interrupts", spi, 3);
	EXPECT_EQ(dt_parse(fdt, &info), -EINVAL);
	EXPECT_CONTAINS(log_text, "has no event channel upcall PPI");
	set_cells(fdt, "/hypervisor", "interrupts", ppi_too_big, 3);
	EXPECT_EQ(dt_parse(fdt, &info), -EINVAL);
	set_cells(fdt, "/hypervisor", "interrupts", spi, 2); /* truncated specifier */
	EXPECT_EQ(dt_parse(fdt, &info), -EINVAL);
}

TEST(dt, timer_needs_the_virtual_timer_entry)
{
	struct dt_info info;
	void *fdt = load("xen-domu-gicv3");
	static const uint32_t two[] = {1, 13, 0xf08, 1, 14, 0xf08};
	static const uint32_t four[] = {1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4};

	ASSERT_TRUE(fdt);
	set_cells(fdt, "/timer", "interrupts", two, 6);
	EXPECT_EQ(dt_parse(fdt, &info), -EINVAL);
	EXPECT_CONTAINS(log_text, "/timer: property 'interrupts' has no virtual timer PPI");

	set_cells(fdt, "/timer", "interrupts", four, 12); /* with the hypervisor timer too */
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.timer_irq, 27);

	EXPECT_EQ(fdt_setprop_string(fdt, node(fdt, "/timer"), "compatible", "arm,armv7-timer"), 0);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.timer_irq, 27);

	EXPECT_EQ(fdt_setprop_string(fdt, node(fdt, "/timer"), "compatible", "acme,timer"), 0);
	clear_log();
	EXPECT_EQ(dt_parse(fdt, &info), -EINVAL);
	EXPECT_CONTAINS(log_text, "no arm,armv8-timer node");
}

TEST(dt, memory_banks)
{
	struct dt_info info;
	void *fdt = load("xen-domu-gicv3");
	static const uint32_t two_banks[] = {0, 0x40000000, 0, 0x10000000, 2, 0, 0, 0x40000000};
	static const uint32_t empty_bank[] = {0, 0x40000000, 0, 0};

	ASSERT_TRUE(fdt);
	set_cells(fdt, "/memory@40000000", "reg", two_banks, 8);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.memory_count, 2);
	EXPECT_EQ(info.memory[1].base, 0x200000000);
	EXPECT_EQ(info.memory[1].size, 0x40000000);

	/* libxl's placeholder for an unused bank has size 0: not memory. */
	set_cells(fdt, "/memory@40000000", "reg", empty_bank, 4);
	EXPECT_EQ(dt_parse(fdt, &info), -EINVAL);
	EXPECT_CONTAINS(log_text, "device_type = \"memory\"");
}

TEST(dt, uart_from_stdout_path)
{
	struct dt_info info;
	void *fdt = load("qemu-virt-gicv3");
	int root, uart2;
	static const uint32_t reg2[] = {0, 0x09040000, 0, 0x1000};

	ASSERT_TRUE(fdt);
	/* A second PL011, named by stdout-path with options after the colon. */
	root = node(fdt, "/");
	uart2 = fdt_add_subnode(fdt, root, "pl011@9040000");
	ASSERT_TRUE(uart2 >= 0);
	EXPECT_EQ(fdt_setprop_string(fdt, uart2, "compatible", "arm,pl011"), 0);
	set_cells(fdt, "/pl011@9040000", "reg", reg2, 4);
	EXPECT_EQ(
	    fdt_setprop_string(fdt, node(fdt, "/chosen"), "stdout-path", "/pl011@9040000:115200n8"),
	    0);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.uart_base, 0x09040000);

	/* An alias, as Linux trees write it ("serial0:115200n8"). */
	EXPECT_EQ(fdt_add_subnode(fdt, root, "aliases") >= 0, 1);
	EXPECT_EQ(fdt_setprop_string(fdt, node(fdt, "/aliases"), "serial0", "/pl011@9000000"), 0);
	EXPECT_EQ(fdt_setprop_string(fdt, node(fdt, "/chosen"), "stdout-path", "serial0:115200n8"),
	          0);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.uart_base, 0x09000000);

	/* stdout-path names something that is not a PL011: any PL011 will do. */
	EXPECT_EQ(fdt_del_node(fdt, node(fdt, "/pl011@9040000")), 0);
	EXPECT_EQ(fdt_setprop_string(fdt, node(fdt, "/chosen"), "stdout-path", "/psci"), 0);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.uart_base, 0x09000000);
}

TEST(dt, psci_conduit)
{
	struct dt_info info;
	void *fdt = load("xen-domu-gicv3");

	ASSERT_TRUE(fdt);
	EXPECT_EQ(fdt_setprop_string(fdt, node(fdt, "/psci"), "method", "smc"), 0);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.psci, PSCI_SMC);
	EXPECT_EQ(fdt_setprop_string(fdt, node(fdt, "/psci"), "method", "magic"), 0);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.psci, PSCI_NONE);
	EXPECT_EQ(fdt_del_node(fdt, node(fdt, "/psci")), 0);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.psci, PSCI_NONE);
}

TEST(dt, hypervisor_node_must_be_xen)
{
	struct dt_info info;
	void *fdt = load("xen-domu-gicv3");

	ASSERT_TRUE(fdt);
	EXPECT_EQ(fdt_setprop_string(fdt, node(fdt, "/hypervisor"), "compatible", "kvm,kvm"), 0);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_FALSE(info.xen);
	EXPECT_EQ(info.upcall_irq, 0);
	EXPECT_EQ(info.xen_region_count, 0);
}

TEST(dt, gic_without_its_second_region)
{
	struct dt_info info;
	void *fdt = load("xen-domu-gicv3");
	static const uint32_t gicd_only[] = {0, 0x03001000, 0, 0x10000};

	ASSERT_TRUE(fdt);
	set_cells(fdt, "/interrupt-controller@3001000", "reg", gicd_only, 4);
	EXPECT_EQ(dt_parse(fdt, &info), -EINVAL);
	EXPECT_CONTAINS(log_text, "'reg' has no redistributor region");
}

/* ---- interrupts of SD hosts and PCI INTx ---------------------------------------------- */

#define SDHCI0       "/passthrough/sdhci@10041000"
#define GPIO_PHANDLE 0x100 /* xen-domu-sdhci's other interrupt controller */

/*
 * dt_parse's INTID for the first SD host of the tree at fdt; log_text says why if 0 (and
 * always has xen-domu-sdhci's line about the short reg of sdhci@10043000).
 */
static unsigned int sdhci0_irq(void *fdt)
{
	struct dt_info info;

	clear_log();
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.sdhci_count, 2);
	EXPECT_EQ(info.sdhci[0].reg.base, 0x10041000); /* found and used whatever its interrupt */
	return info.sdhci[0].irq;
}

TEST(dt, sd_host_interrupt_parent)
{
	void *fdt = load("xen-domu-sdhci");
	static const uint32_t gic = 0xfde8, gpio = GPIO_PHANDLE, self = 0x200;
	static const uint32_t two[] = {0xfde8, 0xfde8};

	ASSERT_TRUE(fdt);
	EXPECT_EQ(sdhci0_irq(fdt), 37);

	/* Its own interrupt-parent: another controller. */
	set_cells(fdt, SDHCI0, "interrupt-parent", &gpio, 1);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, SDHCI0 ": property 'interrupts' has interrupt parent "
	                                 "/passthrough/gpio@10050000, not the GIC: polled");

	/* Inherited from the closest ancestor that has one, its own one first. */
	EXPECT_EQ(fdt_delprop(fdt, node(fdt, SDHCI0), "interrupt-parent"), 0);
	set_cells(fdt, "/passthrough", "interrupt-parent", &gpio, 1);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, "has interrupt parent /passthrough/gpio@10050000, not the GIC");
	set_cells(fdt, SDHCI0, "interrupt-parent", &gic, 1);
	EXPECT_EQ(sdhci0_irq(fdt), 37);
	EXPECT_NOT_CONTAINS(log_text, "interrupt");

	/* An interrupt nexus on the way is the parent (devicetree spec v0.4 §2.4.1). */
	EXPECT_EQ(fdt_delprop(fdt, node(fdt, SDHCI0), "interrupt-parent"), 0);
	EXPECT_EQ(fdt_delprop(fdt, node(fdt, "/passthrough"), "interrupt-parent"), 0);
	EXPECT_EQ(fdt_setprop_u32(fdt, node(fdt, "/passthrough"), "#interrupt-cells", 1), 0);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, "has interrupt parent /passthrough, not the GIC");
	EXPECT_EQ(fdt_delprop(fdt, node(fdt, "/passthrough"), "#interrupt-cells"), 0);
	EXPECT_EQ(sdhci0_irq(fdt), 37);

	/* None anywhere, one that is not a phandle, one naming nothing, one naming itself. */
	EXPECT_EQ(fdt_delprop(fdt, node(fdt, "/"), "interrupt-parent"), 0);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, SDHCI0 ": property 'interrupts' has no interrupt parent (no "
	                                 "interrupt-parent here or above): polled");
	set_cells(fdt, SDHCI0, "interrupt-parent", two, 2);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, "an interrupt-parent on the way is not one cell");
	set_cells(fdt, SDHCI0, "interrupt-parent", &self, 1);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, "an interrupt-parent on the way names no node");
	EXPECT_EQ(fdt_setprop_u32(fdt, node(fdt, SDHCI0), "phandle", self), 0);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, "interrupt-parent goes round in a loop");
}

TEST(dt, sd_host_interrupt_specifier)
{
	void *fdt = load("xen-domu-sdhci");
	static const uint32_t two_spis[] = {0, 6, 4, 0, 7, 4};
	static const uint32_t spi_first[] = {0, 0, 4}, spi_last[] = {0, 987, 4};
	static const uint32_t spi_over[] = {0, 988, 4};
	static const uint32_t ppi_first[] = {1, 0, 4}, ppi_over[] = {1, 16, 4};
	static const uint32_t espi[] = {2, 0, 4}; /* GICv3 extended SPI range: not handled */

	ASSERT_TRUE(fdt);
	set_cells(fdt, SDHCI0, "interrupts", two_spis, 6);
	EXPECT_EQ(sdhci0_irq(fdt), 38); /* the first */
	set_cells(fdt, SDHCI0, "interrupts", spi_first, 3);
	EXPECT_EQ(sdhci0_irq(fdt), 32);
	set_cells(fdt, SDHCI0, "interrupts", spi_last, 3);
	EXPECT_EQ(sdhci0_irq(fdt), 1019);
	set_cells(fdt, SDHCI0, "interrupts", ppi_first, 3);
	EXPECT_EQ(sdhci0_irq(fdt), 16);
	EXPECT_NOT_CONTAINS(log_text, "interrupt");

	set_cells(fdt, SDHCI0, "interrupts", spi_over, 3);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, SDHCI0 ": property 'interrupts' is GIC type 0 interrupt 988, "
	                                 "not an SPI or PPI: polled");
	set_cells(fdt, SDHCI0, "interrupts", ppi_over, 3);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, "is GIC type 1 interrupt 16, not an SPI or PPI");
	set_cells(fdt, SDHCI0, "interrupts", espi, 3);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, "is GIC type 2 interrupt 0, not an SPI or PPI");

	/* Cell counts that are not whole 3-cell specifiers (the GIC's #interrupt-cells). */
	set_cells(fdt, SDHCI0, "interrupts", two_spis, 2);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, SDHCI0 ": property 'interrupts' has 8 bytes, not whole 3-cell "
	                                 "GIC specifiers: polled");
	set_cells(fdt, SDHCI0, "interrupts", two_spis, 4);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, "has 16 bytes, not whole 3-cell GIC specifiers");
	set_prop(fdt, SDHCI0, "interrupts", NULL, 0);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, "has 0 bytes");
}

TEST(dt, sd_host_interrupts_extended)
{
	void *fdt = load("xen-domu-sdhci");
	static const uint32_t to_gic[] = {0xfde8, 0, 6, 4, 0xfde8, 0, 7, 4};
	static const uint32_t to_gpio[] = {GPIO_PHANDLE, 3, 4};
	static const uint32_t to_nothing[] = {0x4242, 0, 6, 4};
	static const uint32_t short_spec[] = {0xfde8, 0, 6};

	ASSERT_TRUE(fdt);
	/*
	 * It wins over interrupts; only its first entry is read (the rest need not be whole GIC
	 * specifiers: each entry has its own phandle).
	 */
	set_cells(fdt, SDHCI0, "interrupts-extended", to_gic, 8);
	EXPECT_EQ(sdhci0_irq(fdt), 38);
	EXPECT_NOT_CONTAINS(log_text, "interrupt");
	set_cells(fdt, SDHCI0, "interrupts-extended", to_gpio, 3);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, SDHCI0 ": property 'interrupts-extended' has interrupt parent "
	                                 "/passthrough/gpio@10050000, not the GIC: polled");
	set_cells(fdt, SDHCI0, "interrupts-extended", to_nothing, 4);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, "'interrupts-extended' has no interrupt parent (its phandle "
	                          "names no node)");
	set_cells(fdt, SDHCI0, "interrupts-extended", short_spec, 3);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, "'interrupts-extended' has 8 bytes, not whole 3-cell");
	set_prop(fdt, SDHCI0, "interrupts-extended", NULL, 0);
	EXPECT_EQ(sdhci0_irq(fdt), 0);
	EXPECT_CONTAINS(log_text, "'interrupts-extended' has no interrupt parent");
}

/* QEMU virt's INTx routing (hw/arm/virt.c create_pcie_irq_map): SPI 3 + (slot + pin - 1) % 4. */
static unsigned int qemu_intx(unsigned int slot, unsigned int pin)
{
	return 32 + 3 + (slot + pin - 1) % 4;
}

/* Checks dt_pci_intx against QEMU's routing for every device, function and pin of bus 0. */
static void expect_qemu_routing(const struct dt_pci *pci)
{
	for (unsigned int dev = 0; dev < 32; dev++)
		for (unsigned int fn = 0; fn < 8; fn++) {
			EXPECT_EQ(dt_pci_intx(pci, dev, fn, 0), 0); /* no INTx */
			for (unsigned int pin = 1; pin <= 4; pin++)
				EXPECT_EQ(dt_pci_intx(pci, dev, fn, pin), qemu_intx(dev, pin));
		}
}

/*
 * Sets pcie@10000000's interrupt-map to QEMU's rows for `slots` slots, each naming parent
 * `phandle` with `parent_ac` cells of unit address.
 */
static void set_qemu_map(void *fdt, unsigned int slots, unsigned int parent_ac, uint32_t phandle)
{
	static fdt32_t map[68 * 10];
	int n = 0;

	EXPECT_LE(slots, 17u);
	for (unsigned int slot = 0; slot < slots && slot < 17; slot++)
		for (unsigned int pin = 1; pin <= 4; pin++) {
			map[n++] = cpu_to_fdt32(slot << 11);
			map[n++] = 0;
			map[n++] = 0;
			map[n++] = cpu_to_fdt32(pin);
			map[n++] = cpu_to_fdt32(phandle);
			for (unsigned int i = 0; i < parent_ac; i++)
				map[n++] = 0;
			map[n++] = cpu_to_fdt32(0); /* SPI */
			map[n++] = cpu_to_fdt32(qemu_intx(slot, pin) - 32);
			map[n++] = cpu_to_fdt32(4);
		}
	set_prop(fdt, "/pcie@10000000", "interrupt-map", map, n * 4);
}

TEST(dt, pci_intx_as_qemu_virt_routes_it)
{
	struct dt_info info;
	void *fdt = load("qemu-virt-gicv3");

	ASSERT_TRUE(fdt);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	expect_qemu_routing(&info.pci);
	EXPECT_EQ(dt_pci_intx(&info.pci, 2, 0, 1), 37); /* the rig's sdhci-pci */

	fdt = load("qemu-virt-gicv2");
	ASSERT_TRUE(fdt);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.pci.intx_count, 16);
	expect_qemu_routing(&info.pci);
	EXPECT_STREQ(log_text, "");

	/* A GIC with #address-cells = <0>, or none (0, as Linux and Xen read it). */
	EXPECT_EQ(fdt_setprop_u32(fdt, node(fdt, "/intc@8000000"), "#address-cells", 0), 0);
	set_qemu_map(fdt, 4, 0, 0x8002);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.pci.intx_count, 16);
	expect_qemu_routing(&info.pci);
	EXPECT_EQ(fdt_delprop(fdt, node(fdt, "/intc@8000000"), "#address-cells"), 0);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.pci.intx_count, 16);
	expect_qemu_routing(&info.pci);
	EXPECT_STREQ(log_text, "");
}

TEST(dt, pci_intx_rows_to_another_parent_are_skipped)
{
	struct dt_info info;
	void *fdt = load("qemu-virt-pci-intx-mixed");

	ASSERT_TRUE(fdt);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.pci.intx_count, 4);
	EXPECT_EQ(dt_pci_intx(&info.pci, 0, 0, 1), 35);
	EXPECT_EQ(dt_pci_intx(&info.pci, 1, 0, 1), 36);
	EXPECT_EQ(dt_pci_intx(&info.pci, 1, 0, 2), 0);  /* to the combiner */
	EXPECT_EQ(dt_pci_intx(&info.pci, 2, 0, 1), 37); /* after the combiner's shorter row */
	EXPECT_EQ(dt_pci_intx(&info.pci, 2, 0, 2), 0);  /* not an SPI or PPI */
	EXPECT_EQ(dt_pci_intx(&info.pci, 3, 0, 1), 38);
	EXPECT_EQ(dt_pci_intx(&info.pci, 3, 0, 2), 0); /* no row */
	EXPECT_CONTAINS(log_text, "/pcie@10000000: property 'interrupt-map' has rows to another "
	                          "parent than the GIC (1): skipped");
	EXPECT_CONTAINS(log_text, "/pcie@10000000: property 'interrupt-map' has rows to a GIC "
	                          "interrupt that is not an SPI or PPI (1): skipped");
}

TEST(dt, pci_malformed_interrupt_map_is_ignored)
{
	struct dt_info info;
	void *fdt = load("broken-pci-interrupt-map");
	static const uint32_t to_nothing[] = {0x1000, 0, 0, 1, 0x4242, 0, 0, 0, 5, 4};
	static const uint32_t to_clock[] = {0x1000, 0, 0, 1, 0x8000, 0, 0, 0, 5, 4};
	static const uint32_t gic_row[] = {0x1000, 0, 0, 1, 0x8002, 0, 0, 0, 5, 4};
	static const uint32_t mask3[] = {0x1800, 0, 0};

	ASSERT_TRUE(fdt);
	EXPECT_EQ(dt_parse(fdt, &info), 0); /* the tree is usable, the bus too */
	EXPECT_EQ(info.gic.version, 3);
	EXPECT_TRUE(info.pci.present);
	EXPECT_EQ(info.pci.ecam, 0x4010000000ull);
	EXPECT_EQ(info.pci.mem_size, 0x2eff0000);
	EXPECT_EQ(info.pci.intx_count, 0);
	EXPECT_EQ(dt_pci_intx(&info.pci, 2, 0, 1), 0);
	EXPECT_CONTAINS(log_text, "/pcie@10000000: property 'interrupt-map' is malformed at row 16 "
	                          "(the row runs past the end); INTx not used");

	fdt = load("qemu-virt-gicv3");
	ASSERT_TRUE(fdt);
	set_cells(fdt, "/pcie@10000000", "interrupt-map", gic_row, 10);
	set_prop(fdt, "/pcie@10000000", "interrupt-map", gic_row, 10 * 4 - 1);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.pci.intx_count, 0);
	EXPECT_CONTAINS(log_text, "is malformed at row 0 (its length is not whole cells)");

	clear_log();
	set_cells(fdt, "/pcie@10000000", "interrupt-map", to_nothing, 10);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.pci.intx_count, 0);
	EXPECT_CONTAINS(log_text, "is malformed at row 0 (its parent phandle names no node)");

	clear_log();
	set_cells(fdt, "/pcie@10000000", "interrupt-map", to_clock, 10); /* no #interrupt-cells */
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.pci.intx_count, 0);
	EXPECT_CONTAINS(log_text, "is malformed at row 0 (its parent has no usable #address-cells "
	                          "and #interrupt-cells)");

	clear_log();
	set_cells(fdt, "/pcie@10000000", "interrupt-map", gic_row, 10);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.pci.intx_count, 1);
	EXPECT_EQ(dt_pci_intx(&info.pci, 2, 0, 1), 37);
	EXPECT_EQ(dt_pci_intx(&info.pci, 6, 0, 1), 37); /* the mask leaves slot bits 12..11 */
	EXPECT_STREQ(log_text, "");

	/* Without interrupt-map-mask, the whole unit address and pin must match. */
	EXPECT_EQ(fdt_delprop(fdt, node(fdt, "/pcie@10000000"), "interrupt-map-mask"), 0);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(dt_pci_intx(&info.pci, 2, 0, 1), 37);
	EXPECT_EQ(dt_pci_intx(&info.pci, 6, 0, 1), 0);
	EXPECT_EQ(dt_pci_intx(&info.pci, 2, 1, 1), 0);

	set_cells(fdt, "/pcie@10000000", "interrupt-map-mask", mask3, 3);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.pci.intx_count, 0);
	EXPECT_CONTAINS(log_text, "/pcie@10000000: property 'interrupt-map-mask' has 12 bytes, not "
	                          "4 cells; INTx not used");

	clear_log();
	EXPECT_EQ(fdt_delprop(fdt, node(fdt, "/pcie@10000000"), "interrupt-map-mask"), 0);
	EXPECT_EQ(fdt_setprop_u32(fdt, node(fdt, "/pcie@10000000"), "#interrupt-cells", 2), 0);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.pci.intx_count, 0);
	EXPECT_CONTAINS(log_text, "/pcie@10000000: property 'interrupt-map' not read: "
	                          "#address-cells is not 3 or #interrupt-cells not 1");
}

TEST(dt, pci_intx_table_is_bounded)
{
	struct dt_info info;
	void *fdt = load("qemu-virt-gicv3");
	static const uint32_t slot_mask[] = {0xf800, 0, 0, 7};

	ASSERT_TRUE(fdt);
	set_cells(fdt, "/pcie@10000000", "interrupt-map-mask", slot_mask, 4);
	set_qemu_map(fdt, 17, 2, 0x8002); /* 68 rows */
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_EQ(info.pci.intx_count, DT_PCI_INTX_MAX);
	EXPECT_EQ(dt_pci_intx(&info.pci, 15, 0, 4), qemu_intx(15, 4));
	EXPECT_EQ(dt_pci_intx(&info.pci, 16, 0, 1), 0);
	EXPECT_CONTAINS(log_text, "'interrupt-map' has more rows than the 64 read (4): skipped");
}

TEST(dt, pci_intx_lookup)
{
	struct dt_pci pci = {.intx_mask = {~0u, ~0u, ~0u, 7}};

	EXPECT_EQ(dt_pci_intx(&pci, 2, 0, 1), 0); /* no rows */
	pci.intx[0] = (struct dt_pci_intx){.child = {0x1000, 1, 0, 1}, .irq = 41};
	pci.intx[1] = (struct dt_pci_intx){.child = {0x1100, 0, 0, 1}, .irq = 42};
	pci.intx[2] = (struct dt_pci_intx){.child = {0x1000, 0, 0, 1}, .irq = 40};
	pci.intx_count = 3;
	EXPECT_EQ(dt_pci_intx(&pci, 2, 0, 1), 40); /* phys.mid differs in row 0 */
	EXPECT_EQ(dt_pci_intx(&pci, 2, 1, 1), 42); /* function 1: bits 10..8 */
	EXPECT_EQ(dt_pci_intx(&pci, 2, 0, 2), 0);
	EXPECT_EQ(dt_pci_intx(&pci, 2, 0, 0), 0); /* no pin */
	EXPECT_EQ(dt_pci_intx(&pci, 2, 0, 5), 0);

	pci.intx_mask[1] = 0; /* phys.mid ignored: the first row that matches wins */
	EXPECT_EQ(dt_pci_intx(&pci, 2, 0, 1), 41);
	pci.intx_mask[0] = 0x1800; /* slot bits 12..11 only, as QEMU's virt */
	EXPECT_EQ(dt_pci_intx(&pci, 2, 1, 1), 41);
	EXPECT_EQ(dt_pci_intx(&pci, 6, 7, 1), 41);
	EXPECT_EQ(dt_pci_intx(&pci, 3, 0, 1), 0);
	EXPECT_EQ(dt_pci_intx(&pci, 34, 0, 1), 0); /* no device 34 (it would alias device 2) */
	EXPECT_EQ(dt_pci_intx(&pci, 0, 16, 1), 0); /* no function 16 (it would too) */
	pci.intx_mask[3] = 0;                      /* any pin */
	EXPECT_EQ(dt_pci_intx(&pci, 2, 0, 4), 41);
	EXPECT_EQ(dt_pci_intx(&pci, 2, 0, 0), 0); /* still no pin: no INTx at all */
}

/* reg through the buses' ranges, as a Raspberry Pi 4 needs when vdisk is dom0. */
TEST(dt, reg_is_translated_through_the_buses_ranges)
{
	static const struct {
		const char *path;
		int index;
		uint64_t base, size;
	} cases[] = {
	    {"/soc/serial@7e215040", 0, 0xfe215040, 0x40},
	    {"/soc/interrupt-controller@40041000", 0, 0xff841000, 0x1000},
	    {"/soc/interrupt-controller@40041000", 1, 0xff842000, 0x2000},
	    {"/soc/flat/mmc@7e300000", 0, 0xfe300000, 0x100}, /* an empty ranges, then /soc's */
	    {"/emmc2bus/mmc@7e340000", 0, 0xfe340000, 0x100},
	    {"/memory@0", 0, 0, 0x3b400000}, /* the root's own: as it is */
	};
	const void *fdt = load("soc-ranges");
	struct dt_range r;

	ASSERT_TRUE(fdt);
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int node = fdt_path_offset(fdt, cases[i].path);

		ASSERT_TRUE(node >= 0);
		EXPECT_EQ(dt_read_reg(fdt, node, cases[i].index, &r), 0);
		EXPECT_EQ(r.base, cases[i].base);
		EXPECT_EQ(r.size, cases[i].size);
	}
	/* an address no range of /soc maps */
	EXPECT_EQ(dt_read_reg(fdt, fdt_path_offset(fdt, "/soc/nowhere@10000000"), 0, &r), -EINVAL);
	EXPECT_EQ(dt_read_reg(fdt, fdt_path_offset(fdt, "/soc/serial@7e215040"), 1, &r), -ENOENT);
}

/* A bus whose dma-ranges move addresses keeps vdisk's buffer from the controller (PIO). */
TEST(dt, sd_host_behind_dma_ranges_that_move_addresses)
{
	void *fdt = load("xen-domu-sdhci");
	/* child (2 cells), parent (2 cells), size (2 cells) */
	static const uint32_t same[] = {0, 0, 0, 0, 1, 0};
	static const uint32_t moved[] = {0, 0xc0000000u, 0, 0, 0, 0x40000000};
	struct dt_info info;

	ASSERT_TRUE(fdt);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_FALSE(info.sdhci[0].dma_translated); /* no dma-ranges */
	set_cells(fdt, "/passthrough", "dma-ranges", same, 6);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_FALSE(info.sdhci[0].dma_translated);
	set_prop(fdt, "/passthrough", "dma-ranges", NULL, 0);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_FALSE(info.sdhci[0].dma_translated);
	set_cells(fdt, "/passthrough", "dma-ranges", moved, 6);
	EXPECT_EQ(dt_parse(fdt, &info), 0);
	EXPECT_TRUE(info.sdhci[0].dma_translated);
	EXPECT_EQ(info.sdhci[0].reg.base, 0x10041000); /* reg is translated by ranges, not these */
}
