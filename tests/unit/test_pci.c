/*
 * boot/pci.c against a fake ECAM (bus 0 configuration space as a register model): functions
 * found by class on single- and multi-function devices, BAR 0 sized, placed aligned in the
 * window and decoding turned on, each one's interrupt pin read; an I/O BAR and a window too
 * small are refused.
 */
#include <stdint.h>
#include <string.h>

#include "arch/fake.h"
#include "arch/fake_mmio.h"
#include "boot/pci.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/test.h"

#define ECAM 0x40000000u

/* One function's configuration header; BAR 0 answers a sizing write as hardware does. */
struct fn {
	bool present;
	uint32_t id, class_rev, header, bar0_type, bar0_size, bar0, command;
	uint32_t intr; /* 0x3c: Max_Lat, Min_Gnt, Interrupt Pin, Interrupt Line */
};

static struct fn fns[32][8];

static uint64_t ecam_read(void *ctx, uint32_t offset, unsigned int size)
{
	struct fn *f = &fns[offset >> 15 & 31][offset >> 12 & 7];
	uint32_t reg = offset & 0xfff;

	if (!f->present)
		return 0xffffffffu;
	switch (reg) {
	case 0x00:
		return f->id;
	case 0x04:
		return f->command;
	case 0x08:
		return f->class_rev;
	case 0x0c:
		return f->header << 16;
	case 0x10:
		return f->bar0 | f->bar0_type;
	case 0x3c:
		return f->intr;
	default:
		return 0;
	}
}

static void ecam_write(void *ctx, uint32_t offset, unsigned int size, uint64_t val)
{
	struct fn *f = &fns[offset >> 15 & 31][offset >> 12 & 7];
	uint32_t reg = offset & 0xfff;

	if (!f->present)
		return;
	if (reg == 0x04)
		f->command = (uint32_t)val & 0xffff;
	else if (reg == 0x10 && !(f->bar0_type & 1))
		f->bar0 = (uint32_t)val & ~(f->bar0_size - 1) & ~0xfu;
}

static const struct fake_mmio_ops ecam_ops = {.read = ecam_read, .write = ecam_write};

static void setup(void)
{
	fake_reset();
	fake_mmio_unmap_all();
	log_capture_reset();
	memset(fns, 0, sizeof(fns));
	fake_mmio_map(ECAM, PCI_BUS0_ECAM_SIZE, &ecam_ops, NULL);
	/* 00:01.0 a network card, 00:02.0 QEMU's sdhci-pci, 00:03.0-1 a multi-function device */
	fns[1][0] = (struct fn){true, 0x10001af4, 0x02000000, 0, 0, 0x1000, 0, 0, 0x0000010b};
	/* INTA; interrupt line 0x2b, as firmware may have written it */
	fns[2][0] = (struct fn){true, 0x00071b36, 0x08050100, 0, 0, 0x100, 0, 0, 0x0000012b};
	fns[3][0] = (struct fn){true, 0x12348086, 0x0c030000, 0x80, 0, 0x1000, 0, 0, 0};
	/* INTB; line 0xff (unknown), Min_Gnt and Max_Lat set */
	fns[3][1] =
	    (struct fn){true, 0x56788086, 0x08050100, 0, 4 /* 64-bit */, 0x2000, 0, 0, 0x120302ff};
	fns[4][1] = (struct fn){true, 0x9abc8086, 0x08050100, 0, 0, 0x100, 0, 0, 0}; /* no fn 0 */
}

TEST(pci, sd_hosts_found_and_their_bar0_placed)
{
	struct pci_bridge b = {
	    .ecam = ECAM, .mem_cpu = 0x10000000, .mem_pci = 0x10000000, .mem_size = 0x100000};
	struct pci_function f[4];

	setup();
	fns[2][0].command = 0x400; /* firmware left INTx disabled */
	ASSERT_EQ(pci_setup_class(&b, 0x0805, f, 4), 2);
	EXPECT_EQ(f[0].vendor, 0x1b36);
	EXPECT_EQ(f[0].device, 0x0007);
	EXPECT_EQ(f[0].dev, 2);
	EXPECT_EQ(f[0].bar0, 0x10000000);
	EXPECT_EQ(f[0].bar0_size, 0x100);
	EXPECT_EQ(f[0].pin, 1);
	EXPECT_EQ(fns[2][0].bar0, 0x10000000);
	EXPECT_EQ(fns[2][0].command, 6); /* memory decoding and bus mastering on, INTx allowed */
	EXPECT_EQ(f[1].dev, 3);
	EXPECT_EQ(f[1].fn, 1);
	EXPECT_EQ(f[1].bar0, 0x10002000); /* after a page for the first, aligned to its size */
	EXPECT_EQ(f[1].bar0_size, 0x2000);
	EXPECT_EQ(f[1].pin, 2);
	EXPECT_EQ(fns[1][0].command, 0); /* others untouched */
	EXPECT_EQ(fns[4][1].command, 0); /* function 1 of a device without function 0: none */
	EXPECT_EQ(b.mem_used, 0x4000);
}

TEST(pci, an_io_bar_or_a_full_window_is_refused)
{
	struct pci_bridge b = {
	    .ecam = ECAM, .mem_cpu = 0x10000000, .mem_pci = 0x10000000, .mem_size = 0x1000};
	struct pci_function f[4];

	setup();
	fns[2][0].bar0_type = 1; /* I/O */
	EXPECT_EQ(pci_setup_class(&b, 0x0805, f, 4), 0);
	EXPECT_CONTAINS(log_text, "pci: 00:02.0 (1b36:0007): BAR 0 not placed");
	EXPECT_CONTAINS(log_text, "pci: 00:03.1 (8086:5678): BAR 0 not placed"); /* 8 KiB > 4 KiB */
	EXPECT_EQ(fns[3][1].command & 2, 0);
	EXPECT_EQ(pci_setup_class(&b, 0x0805, f, 0), 0);
}

TEST(pci, interrupt_pin)
{
	struct pci_bridge b = {
	    .ecam = ECAM, .mem_cpu = 0x10000000, .mem_pci = 0x10000000, .mem_size = 0x100000};
	struct pci_function f[4];

	setup();
	fns[2][0].intr = 0x000004ff; /* INTD */
	fns[3][1].intr = 0x00000000; /* no INTx */
	ASSERT_EQ(pci_setup_class(&b, 0x0805, f, 4), 2);
	EXPECT_EQ(f[0].pin, 4);
	EXPECT_EQ(f[1].pin, 0);

	setup();
	fns[2][0].intr = 0x00000500; /* 5..255 are reserved: taken as none */
	fns[3][1].intr = 0x00001200; /* reserved too, though its low bits would read INTB */
	ASSERT_EQ(pci_setup_class(&b, 0x0805, f, 4), 2);
	EXPECT_EQ(f[0].pin, 0);
	EXPECT_EQ(f[1].pin, 0);
}
