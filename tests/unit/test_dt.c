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
	EXPECT_EQ(info.sdhci[1].reg.base, 0x10044000);
	EXPECT_STREQ(info.sdhci[1].compatible, "brcm,bcm2711-emmc2");
	EXPECT_EQ(info.sdhci[1].clock_hz, 0);
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
