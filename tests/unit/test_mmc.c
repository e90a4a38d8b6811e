/*
 * blk/sdhci.c, blk/mmc.c and blk/mmcdisk.c against the fake controller and card
 * (tests/unit/fake_sdhci.c): identification of SDHC and SDSC cards, requests through the disk
 * interface with the card's bytes checked, by PIO and by ADMA2, a range (partition) that
 * requests cannot leave, durability (a write completes after programming), and every error
 * the fake can inject. Each
 * test also asserts the fake counted no protocol violation.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "arch/fake.h"
#include "arch/fake_mmio.h"
#include "arch/mmio.h"
#include "blk/disk.h"
#include "blk/mmc.h"
#include "blk/mmcdisk.h"
#include "blk/sdhci.h"
#include "tests/unit/fake_sdhci.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/disk_io.h"
#include "tests/unit/test.h"

#define BASE        0x10041000u
#define SDHC_BLOCKS 65536u /* 32 MiB */

static uint8_t card[SDHC_BLOCKS * 512ull];
static struct fake_sdhci *fake;
static struct sdhci host;
static struct mmc_card sd;
static struct mmcdisk md;

static uint64_t clock_now(void)
{
	return fake_time_ns;
}

static uint8_t pattern(uint64_t byte)
{
	return (uint8_t)(byte * 31 + byte / 512);
}

/* A fresh card (its bytes the pattern) behind a fresh controller. */
static struct fake_sdhci *make(const struct fake_card_cfg *cfg)
{
	if (fake)
		fake_sdhci_destroy(fake);
	fake_reset();
	log_capture_reset();
	for (uint64_t i = 0; i < cfg->blocks * 512; i++)
		card[i] = pattern(i);
	fake = fake_sdhci_create(BASE, card, cfg);
	return fake;
}

static bool no_violations(void)
{
	if (fake_sdhci_violations(fake) == 0)
		return true;
	test_fail(__FILE__, __LINE__, "%u protocol violation(s), the last: %s",
	          fake_sdhci_violations(fake), fake_sdhci_last_violation(fake));
	return false;
}

/* An SDHC card initialised, its first `blocks` blocks (0: all) served from block `first`. */
static bool setup(const struct fake_card_cfg *cfg, const char *compatible, uint64_t first,
                  uint64_t blocks)
{
	make(cfg);
	if (sdhci_init(&host, BASE, compatible, 0) || mmc_card_init(&sd, &host.host))
		return false;
	return mmcdisk_init(&md, &sd, first, blocks ? blocks : sd.block_count, false, clock_now) ==
	       0;
}

static const struct fake_card_cfg sdhc = {
    .blocks = SDHC_BLOCKS, .sdhc = true, .acmd41_busy_polls = 3};

/* ---- requests through the disk interface ---- */

static void start_io(struct disk_io *io, enum disk_op op, uint64_t sector, uint32_t count,
                     void *data)
{
	disk_io_init(io, op, sector, count, data);
	disk_submit(&md.disk, &io->req);
}

/* Polls until nothing is held (at most `polls` times); returns how many polls it took. */
static unsigned int drain(unsigned int polls)
{
	unsigned int n = 0;

	while (n < polls && disk_poll(&md.disk))
		n++;
	return n;
}

/* One request to its end; returns its rc (or -1000 - done count if done() was not once). */
static int run(enum disk_op op, uint64_t sector, uint32_t count, void *data)
{
	struct disk_io io;

	start_io(&io, op, sector, count, data);
	drain(10000000);
	return io.done_count == 1 ? io.rc : -1000 - (int)io.done_count;
}

/* ---- identification ---- */

TEST(mmc, sdhc_card_identified_at_high_speed_on_four_bits)
{
	ASSERT_TRUE(setup(&sdhc, NULL, 0, 0));
	EXPECT_EQ(sd.block_count, SDHC_BLOCKS);
	EXPECT_TRUE(sd.block_addressed);
	EXPECT_EQ(sd.rca, FAKE_SDHCI_RCA);
	EXPECT_EQ(sd.width, 4);
	EXPECT_TRUE(sd.high_speed);
	EXPECT_EQ(fake_sdhci_bus_width(fake), 4);
	EXPECT_EQ(fake_sdhci_card_bus_width(fake), 4);
	EXPECT_TRUE(fake_sdhci_card_high_speed(fake));
	EXPECT_TRUE(fake_sdhci_high_speed(fake));
	EXPECT_EQ(fake_sdhci_clock_hz(fake), 50000000);
	EXPECT_EQ(fake_sdhci_cmd_count(fake, FAKE_SDHCI_ACMD(41)), 4);
	EXPECT_EQ(fake_sdhci_last_arg(fake, 8), 0x1aa);
	EXPECT_TRUE(fake_sdhci_last_arg(fake, FAKE_SDHCI_ACMD(41)) & (1u << 30)); /* HCS */
	EXPECT_EQ(fake_sdhci_cmd_count(fake, 16), 0); /* block addressing: no CMD16 */
	EXPECT_EQ(fake_sdhci_card_state(fake), FAKE_CARD_TRAN);
	EXPECT_FALSE(fake_sdhci_irq(fake)); /* polled: no signal enabled */
	EXPECT_CONTAINS(log_text, "SDHC/XC card");
	no_violations();
}

TEST(mmc, sd_1x_card_is_byte_addressed_with_cmd16)
{
	struct fake_card_cfg v1 = {.blocks = 8192, .v1 = true};
	uint8_t buf[1024];

	ASSERT_TRUE(setup(&v1, NULL, 0, 0));
	EXPECT_EQ(sd.block_count, 8192);
	EXPECT_FALSE(sd.block_addressed);
	EXPECT_FALSE(fake_sdhci_last_arg(fake, FAKE_SDHCI_ACMD(41)) & (1u << 30));
	EXPECT_EQ(fake_sdhci_last_arg(fake, 16), 512);
	EXPECT_FALSE(sd.high_speed); /* this card refuses CMD6: the default speed it is */
	EXPECT_EQ(fake_sdhci_clock_hz(fake), 25000000);
	EXPECT_EQ(run(DISK_READ, 3, 2, buf), 0);
	EXPECT_EQ(fake_sdhci_last_arg(fake, 18), 3 * 512); /* a byte address */
	EXPECT_MEMEQ(buf, card + 3 * 512, sizeof(buf));
	no_violations();
}

TEST(mmc, csd_capacity_for_each_structure)
{
	uint32_t v2[4] = {0}, v1[4] = {0}, v3[4] = {0}, bad[4] = {0};

	v2[3] = 1u << 30;    /* CSD_STRUCTURE 1 */
	v2[1] = 1023u << 16; /* C_SIZE bits 69..48: 1023 -> 1024 * 512 KiB */
	EXPECT_EQ(mmc_csd_blocks(v2), 1024ull * 1024);
	v3[3] = 2u << 30;
	v3[1] = 0xffffu << 16; /* C_SIZE bits 75..48 */
	v3[2] = 0xfffu;
	EXPECT_EQ(mmc_csd_blocks(v3), (1ull << 28) * 1024);
	/* v1: C_SIZE 4095, C_SIZE_MULT 7, READ_BL_LEN 11: 4096 * 512 * 2048 bytes = 4 GiB */
	v1[2] = 11u << 16 | 0x3ffu;  /* READ_BL_LEN bits 83..80, C_SIZE bits 73..64 */
	v1[1] = 3u << 30 | 7u << 15; /* C_SIZE bits 63..62, C_SIZE_MULT bits 49..47 */
	EXPECT_EQ(mmc_csd_blocks(v1), 4096ull * 512 * 2048 / 512);
	bad[3] = 3u << 30;
	EXPECT_EQ(mmc_csd_blocks(bad), 0);
}

TEST(mmc, no_card_and_not_an_sd_card_are_refused)
{
	make(&sdhc);
	fake_sdhci_remove_card(fake);
	ASSERT_EQ(sdhci_init(&host, BASE, NULL, 0), 0);
	EXPECT_EQ(mmc_card_init(&sd, &host.host), -ENXIO);
	EXPECT_CONTAINS(log_text, "no card in the slot");

	/* No answer to CMD55: an eMMC, which this driver does not set up yet. */
	make(&sdhc);
	fake_sdhci_fail_cmd(fake, 55, 1u << 0);
	ASSERT_EQ(sdhci_init(&host, BASE, NULL, 0), 0);
	EXPECT_EQ(mmc_card_init(&sd, &host.host), -ENODEV);
	EXPECT_CONTAINS(log_text, "not an SD card");
	no_violations();
}

TEST(mmc, a_card_that_never_gets_ready_is_given_up_after_a_second)
{
	struct fake_card_cfg slow = sdhc;

	slow.acmd41_busy_polls = UINT_MAX;
	make(&slow);
	ASSERT_EQ(sdhci_init(&host, BASE, NULL, 0), 0);
	EXPECT_EQ(mmc_card_init(&sd, &host.host), -ENODEV);
	EXPECT_CONTAINS(log_text, "still busy after 1 s");
	EXPECT_TRUE(fake_time_ns >= 1000000000ull);
	no_violations();
}

TEST(mmc, controller_checks_at_init)
{
	make(&sdhc);
	EXPECT_EQ(sdhci_init(&host, BASE, NULL, 0), 0);
	EXPECT_EQ(host.base_clock_hz, FAKE_SDHCI_BASE_HZ);
	EXPECT_EQ(host.version, 2);
	EXPECT_TRUE(host.host.high_speed);
	/* The device tree's clock-frequency wins over the capabilities. */
	EXPECT_EQ(sdhci_init(&host, BASE, NULL, 100000000), 0);
	EXPECT_EQ(host.base_clock_hz, 100000000);
	EXPECT_EQ(sdhci_init(&host, BASE, "brcm,bcm2711-emmc2", 0), 0);
	EXPECT_EQ(host.quirks, SDHCI_QUIRK_32BIT_ONLY);
	/* A controller without a base clock in its capabilities needs one from the DT. */
	EXPECT_EQ(sdhci_init(&host, BASE, "brcm,bcm2835-sdhci", 0), -ENODEV);
	EXPECT_CONTAINS(log_text, "clock-frequency");
}

/* ---- requests ---- */

TEST(mmc, reads_and_writes_reach_the_right_blocks)
{
	static uint8_t buf[64 * 512], want[64 * 512];

	ASSERT_TRUE(setup(&sdhc, NULL, 0, 0));
	EXPECT_EQ(run(DISK_READ, 100, 1, buf), 0);
	EXPECT_MEMEQ(buf, card + 100 * 512, 512);
	EXPECT_EQ(fake_sdhci_cmd_count(fake, 17), 1);
	EXPECT_EQ(run(DISK_READ, 1000, 64, buf), 0);
	EXPECT_MEMEQ(buf, card + 1000 * 512, sizeof(buf));
	EXPECT_EQ(fake_sdhci_last_arg(fake, 18), 1000);
	EXPECT_EQ(fake_sdhci_cmd_count(fake, 12), 1); /* Auto CMD12 */

	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = want[i] = (uint8_t)(i ^ 0x5a);
	EXPECT_EQ(run(DISK_WRITE, 5000, 64, buf), 0);
	EXPECT_MEMEQ(card + 5000 * 512, want, sizeof(want));
	EXPECT_EQ(fake_sdhci_last_arg(fake, 25), 5000);
	EXPECT_TRUE(fake_sdhci_cmd_count(fake, 13) >= 1); /* programmed, asked with CMD13 */
	EXPECT_EQ(run(DISK_WRITE, SDHC_BLOCKS - 1, 1, buf), 0);
	EXPECT_EQ(fake_sdhci_cmd_count(fake, 24), 1);
	EXPECT_MEMEQ(card + (SDHC_BLOCKS - 1) * 512ull, want, 512);
	EXPECT_EQ(card[4999 * 512 + 511], pattern(4999 * 512 + 511));
	EXPECT_EQ(card[5064 * 512], pattern(5064 * 512));
	EXPECT_EQ(run(DISK_FLUSH, 0, 0, NULL), 0);
	no_violations();
}

/* ---- ADMA2 (sdhci_use_dma): the controller reaches dma_mem at bus address DMA_BUS ---- */

#define DMA_BUS  0x80000000u
#define DMA_SIZE (4096u + MMCDISK_MAX_BLOCKS * 512u)

static uint8_t dma_mem[DMA_SIZE] __attribute__((aligned(4096)));

/* setup() with the DMA buffer given to the driver, and `window` bytes of it to the fake. */
static bool setup_dma(const struct fake_card_cfg *cfg, uint32_t window)
{
	make(cfg);
	fake_sdhci_enable_dma(fake, dma_mem, DMA_BUS, window);
	if (sdhci_init(&host, BASE, NULL, 0) ||
	    sdhci_use_dma(&host, dma_mem, DMA_BUS, sizeof(dma_mem)) ||
	    mmc_card_init(&sd, &host.host))
		return false;
	return mmcdisk_init(&md, &sd, 0, sd.block_count, false, clock_now) == 0;
}

TEST(mmc, adma2_moves_the_data_of_requests_and_pio_the_small_reads)
{
	static uint8_t buf[MMCDISK_MAX_BLOCKS * 512], want[sizeof(buf)];

	ASSERT_TRUE(setup_dma(&sdhc, DMA_SIZE));
	EXPECT_CONTAINS(log_text, "data by ADMA2 through 132 KiB at bus address 0x80000000");
	EXPECT_EQ(fake_sdhci_dma_count(fake), 0); /* SCR and switch status: 8 and 64 bytes */
	EXPECT_EQ(run(DISK_READ, 100, 1, buf), 0);
	EXPECT_MEMEQ(buf, card + 100 * 512, 512);
	/* The largest request: four descriptors of 32 KiB. */
	EXPECT_EQ(run(DISK_READ, 1000, MMCDISK_MAX_BLOCKS, buf), 0);
	EXPECT_MEMEQ(buf, card + 1000 * 512, sizeof(buf));
	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = want[i] = (uint8_t)(i ^ 0xa5);
	EXPECT_EQ(run(DISK_WRITE, 5000, MMCDISK_MAX_BLOCKS, buf), 0);
	EXPECT_MEMEQ(card + 5000 * 512, want, sizeof(want));
	EXPECT_EQ(card[4999 * 512 + 511], pattern(4999 * 512 + 511));
	EXPECT_EQ(card[(5000 + MMCDISK_MAX_BLOCKS) * 512],
	          pattern((5000 + MMCDISK_MAX_BLOCKS) * 512));
	EXPECT_EQ(fake_sdhci_dma_count(fake), 3);
	EXPECT_EQ(fake_sdhci_cmd_count(fake, 12), 2); /* Auto CMD12 after each multi-block */
	/* Each transfer's table and data out of the cache before it, a read's data again after. */
	EXPECT_EQ(fake_dcache_bytes, 3 * 4096 + 2 * 512 + 3 * sizeof(buf));
	no_violations();
}

TEST(mmc, without_adma2_or_with_a_buffer_it_cannot_use_data_moves_by_pio)
{
	uint8_t buf[512];

	make(&sdhc); /* no DMA window: no ADMA2 in the capabilities */
	ASSERT_EQ(sdhci_init(&host, BASE, NULL, 0), 0);
	EXPECT_EQ(sdhci_use_dma(&host, dma_mem, DMA_BUS, sizeof(dma_mem)), -ENOTSUP);
	EXPECT_CONTAINS(log_text, "data by PIO: the controller has no ADMA2");
	make(&sdhc);
	fake_sdhci_enable_dma(fake, dma_mem, 0xfffff000u, DMA_SIZE);
	ASSERT_EQ(sdhci_init(&host, BASE, NULL, 0), 0);
	EXPECT_EQ(sdhci_use_dma(&host, dma_mem, 0xfffff000u, sizeof(dma_mem)), -ENOTSUP);
	EXPECT_CONTAINS(log_text, "above 4 GiB");
	EXPECT_EQ(sdhci_use_dma(&host, dma_mem + 512, DMA_BUS + 512, 8192), -ENOTSUP);
	EXPECT_CONTAINS(log_text, "not 4 KiB aligned");
	/* More than 512 descriptors of the table can move: used up to that. */
	EXPECT_EQ(sdhci_use_dma(&host, dma_mem, DMA_BUS, 64u << 20), 0);
	EXPECT_EQ(host.dma_size, 4096u + 512u * 32768u);
	host.dma_buf = NULL; /* PIO below: dma_mem is not that big */
	ASSERT_EQ(mmc_card_init(&sd, &host.host), 0);
	ASSERT_EQ(mmcdisk_init(&md, &sd, 0, sd.block_count, false, clock_now), 0);
	EXPECT_EQ(run(DISK_READ, 7, 1, buf), 0);
	EXPECT_MEMEQ(buf, card + 7 * 512, 512);
	EXPECT_EQ(fake_sdhci_dma_count(fake), 0);
	no_violations();
}

TEST(mmc, an_adma_error_fails_the_request_and_the_card_goes_on)
{
	static uint8_t buf[64 * 512];

	/* The controller reaches only the table and 16 KiB of data: a 32 KiB transfer faults. */
	ASSERT_TRUE(setup_dma(&sdhc, 4096 + 16384));
	memset(buf, 0x77, sizeof(buf));
	EXPECT_EQ(run(DISK_WRITE, 2000, 64, buf), -EIO);
	EXPECT_CONTAINS(log_text, "ADMA error status");
	EXPECT_EQ(card[2000 * 512 + 16384], pattern(2000 * 512 + 16384)); /* past the fault */
	EXPECT_EQ(fake_sdhci_card_state(fake), FAKE_CARD_TRAN);           /* stopped with CMD12 */
	EXPECT_EQ(run(DISK_READ, 2000, 16, buf), 0);                      /* within the window */
	EXPECT_MEMEQ(buf, card + 2000 * 512, 16 * 512);
	/* A data CRC error during DMA: the same as by PIO. */
	fake_sdhci_fail_data(fake, 1, 1u << 5);
	EXPECT_EQ(run(DISK_READ, 64, 16, buf), -EIO);
	EXPECT_EQ(run(DISK_READ, 64, 16, buf), 0);
	EXPECT_MEMEQ(buf, card + 64 * 512, 16 * 512);
	no_violations();
}

TEST(mmc, a_range_is_all_a_request_can_reach)
{
	uint8_t buf[512];
	unsigned int cmds;

	ASSERT_TRUE(setup(&sdhc, NULL, 2048, 4096));
	EXPECT_EQ(md.disk.sector_count, 4096);
	memset(buf, 0xee, sizeof(buf));
	EXPECT_EQ(run(DISK_WRITE, 0, 1, buf), 0);
	EXPECT_EQ(card[2048 * 512], 0xee);
	EXPECT_EQ(card[2047 * 512 + 511], pattern(2047 * 512 + 511));
	cmds = fake_sdhci_cmd_count(fake, 17) + fake_sdhci_cmd_count(fake, 18) +
	       fake_sdhci_cmd_count(fake, 24) + fake_sdhci_cmd_count(fake, 25);
	/* Past the range's end, or wrapping: refused before the card hears of it. */
	EXPECT_EQ(run(DISK_READ, 4096, 1, buf), -ERANGE);
	EXPECT_EQ(run(DISK_WRITE, 4095, 2, buf), -ERANGE);
	EXPECT_EQ(run(DISK_WRITE, UINT64_MAX, 2, buf), -ERANGE);
	EXPECT_EQ(run(DISK_DISCARD, 4000, 97, NULL), -ERANGE);
	EXPECT_EQ(run(DISK_READ, 0, MMCDISK_MAX_BLOCKS + 1, NULL), -ERANGE);
	EXPECT_EQ(fake_sdhci_cmd_count(fake, 17) + fake_sdhci_cmd_count(fake, 18) +
	              fake_sdhci_cmd_count(fake, 24) + fake_sdhci_cmd_count(fake, 25) +
	              fake_sdhci_cmd_count(fake, 32),
	          cmds);
	EXPECT_EQ(card[6144 * 512], pattern(6144 * 512));
	/* A range that is not on the card is refused outright. */
	EXPECT_EQ(mmcdisk_init(&md, &sd, SDHC_BLOCKS - 10, 11, false, clock_now), -EINVAL);
	EXPECT_EQ(mmcdisk_init(&md, &sd, 0, 0, false, clock_now), -EINVAL);
	no_violations();
}

TEST(mmc, requests_queue_and_complete_in_order)
{
	uint8_t a[512], b[4096];
	struct disk_io ia, ib, ic;

	ASSERT_TRUE(setup(&sdhc, NULL, 0, 0));
	fake_sdhci_set_cmd_delay(fake, 5);
	start_io(&ia, DISK_READ, 7, 1, a);
	start_io(&ib, DISK_READ, 70, 8, b);
	start_io(&ic, DISK_FLUSH, 0, 0, NULL);
	EXPECT_EQ(disk_due(&md.disk), DISK_DUE_NOW); /* not started: poll at once */
	EXPECT_EQ(disk_poll(&md.disk), 3);           /* the first command is under way */
	EXPECT_EQ(ia.done_count, 0);
	EXPECT_EQ(disk_due(&md.disk), fake_time_ns + MMCDISK_POLL_NS);
	drain(1000);
	EXPECT_EQ(ia.done_count + ib.done_count + ic.done_count, 3);
	EXPECT_EQ(ia.rc | ib.rc | ic.rc, 0);
	EXPECT_MEMEQ(a, card + 7 * 512, sizeof(a));
	EXPECT_MEMEQ(b, card + 70 * 512, sizeof(b));
	EXPECT_EQ(disk_due(&md.disk), DISK_DUE_NEVER);
	no_violations();
}

TEST(mmc, a_write_completes_only_once_programmed)
{
	uint8_t buf[512] = {1, 2, 3};
	struct disk_io io;
	unsigned int polls;

	ASSERT_TRUE(setup(&sdhc, NULL, 0, 0));
	fake_sdhci_set_busy(fake, 200);
	start_io(&io, DISK_WRITE, 9, 1, buf);
	for (polls = 0; polls < 20; polls++)
		disk_poll(&md.disk);
	EXPECT_EQ(io.done_count, 0); /* DAT0 still low */
	drain(100000);
	EXPECT_EQ(io.done_count, 1);
	EXPECT_EQ(io.rc, 0);
	EXPECT_EQ(fake_sdhci_card_state(fake), FAKE_CARD_TRAN);
	EXPECT_MEMEQ(card + 9 * 512, buf, sizeof(buf));
	no_violations();
}

/*
 * Writes queued behind each other on a card that programs at once: one poll ends them all,
 * each asking its CMD13 at once (one CMD13 a poll is for a card still programming).
 */
TEST(mmc, queued_writes_on_a_quick_card_end_in_one_poll)
{
	uint8_t buf[4][512];
	struct disk_io io[4];

	ASSERT_TRUE(setup(&sdhc, NULL, 0, 0));
	for (unsigned int i = 0; i < 4; i++) {
		memset(buf[i], 0x40 + i, sizeof(buf[i]));
		start_io(&io[i], DISK_WRITE, 20 + i, 1, buf[i]);
	}
	EXPECT_EQ(disk_poll(&md.disk), 0);
	for (unsigned int i = 0; i < 4; i++) {
		EXPECT_EQ(io[i].done_count, 1);
		EXPECT_EQ(io[i].rc, 0);
		EXPECT_MEMEQ(card + (20 + i) * 512, buf[i], sizeof(buf[i]));
	}
	no_violations();
}

TEST(mmc, a_data_crc_error_fails_the_request_and_the_card_goes_on)
{
	static uint8_t buf[16 * 512];
	unsigned int resets;

	ASSERT_TRUE(setup(&sdhc, NULL, 0, 0));
	resets = fake_sdhci_resets(fake, 0x06);
	fake_sdhci_fail_data(fake, 1, 1u << 5);
	memset(buf, 0xcc, sizeof(buf));
	EXPECT_EQ(run(DISK_READ, 64, 16, buf), -EIO);
	EXPECT_TRUE(fake_sdhci_resets(fake, 0x06) > resets); /* CMD and DAT lines reset */
	EXPECT_EQ(fake_sdhci_cmd_count(fake, 12), 1);        /* the transfer stopped */
	EXPECT_CONTAINS(log_text, "CMD18 for sectors 64+16 failed");
	EXPECT_EQ(fake_sdhci_card_state(fake), FAKE_CARD_TRAN);
	EXPECT_EQ(run(DISK_READ, 64, 16, buf), 0);
	EXPECT_MEMEQ(buf, card + 64 * 512, sizeof(buf));

	/* A write's CRC error: the block is not stored, the request fails, the next works. */
	fake_sdhci_fail_data(fake, 0, 1u << 5);
	memset(buf, 0x11, sizeof(buf));
	EXPECT_EQ(run(DISK_WRITE, 300, 2, buf), -EIO);
	EXPECT_EQ(card[300 * 512], pattern(300 * 512));
	EXPECT_EQ(run(DISK_WRITE, 300, 2, buf), 0);
	EXPECT_EQ(card[300 * 512], 0x11);
	no_violations();
}

TEST(mmc, a_command_timeout_fails_one_request)
{
	uint8_t buf[512];

	ASSERT_TRUE(setup(&sdhc, NULL, 0, 0));
	fake_sdhci_fail_cmd(fake, 17, 1u << 0);
	EXPECT_EQ(run(DISK_READ, 1, 1, buf), -EIO);
	EXPECT_EQ(run(DISK_READ, 1, 1, buf), 0);
	EXPECT_MEMEQ(buf, card + 512, sizeof(buf));
	fake_sdhci_fail_cmd(fake, 24, 1u << 1); /* CRC */
	EXPECT_EQ(run(DISK_WRITE, 2, 1, buf), -EIO);
	EXPECT_EQ(run(DISK_WRITE, 2, 1, buf), 0);
	no_violations();
}

TEST(mmc, a_card_stuck_busy_times_out_then_is_initialised_again)
{
	uint8_t buf[512] = {9};
	uint64_t t;
	unsigned int inits;

	ASSERT_TRUE(setup(&sdhc, NULL, 0, 0));
	fake_sdhci_set_busy(fake, UINT_MAX);
	t = fake_time_ns;
	EXPECT_EQ(run(DISK_WRITE, 4, 1, buf), -EIO);
	EXPECT_TRUE(fake_time_ns - t >= 1000000000ull); /* the controller's busy timeout */
	EXPECT_CONTAINS(log_text, "timed out waiting for the end of busy");
	inits = fake_sdhci_cmd_count(fake, 2);
	/* One more failure in a row and the card is set up again (power cycle: busy ends). */
	fake_sdhci_fail_cmd(fake, 17, 1u << 0);
	EXPECT_EQ(run(DISK_READ, 4, 1, buf), -EIO);
	EXPECT_EQ(run(DISK_READ, 4, 1, buf), 0);
	EXPECT_EQ(fake_sdhci_cmd_count(fake, 2), inits + 1);
	EXPECT_CONTAINS(log_text, "initialising the card again");
	no_violations();
}

TEST(mmc, a_card_pulled_out_fails_everything_without_retrying_forever)
{
	uint8_t buf[512];
	unsigned int cmds;

	ASSERT_TRUE(setup(&sdhc, NULL, 0, 0));
	fake_sdhci_remove_card(fake);
	EXPECT_EQ(run(DISK_READ, 0, 1, buf), -EIO);
	EXPECT_EQ(run(DISK_READ, 0, 1, buf), -EIO);
	EXPECT_EQ(run(DISK_READ, 0, 1, buf), -EIO); /* re-initialisation failed: broken */
	EXPECT_CONTAINS(log_text, "fail every request now");
	cmds = fake_sdhci_cmd_count(fake, 0) + fake_sdhci_cmd_count(fake, 17);
	for (unsigned int i = 0; i < 10; i++)
		EXPECT_EQ(run(DISK_WRITE, 0, 1, buf), -EIO);
	EXPECT_EQ(fake_sdhci_cmd_count(fake, 0) + fake_sdhci_cmd_count(fake, 17), cmds);
	no_violations();
}

/* Another range's disk (a partition beside it) fails too: its range was the old card's. */
TEST(mmc, a_card_gone_at_reinitialisation_fails_every_range_of_it)
{
	static struct mmcdisk md2;
	struct disk_io io;
	uint8_t buf[512];
	unsigned int cmds;

	ASSERT_TRUE(setup(&sdhc, NULL, 0, 1024));
	ASSERT_EQ(mmcdisk_init(&md2, &sd, 1024, 1024, false, clock_now), 0);
	fake_sdhci_remove_card(fake);
	for (unsigned int i = 0; i < 3; i++)
		EXPECT_EQ(run(DISK_READ, 0, 1, buf), -EIO);
	EXPECT_TRUE(sd.broken);
	cmds = fake_sdhci_cmd_count(fake, 0) + fake_sdhci_cmd_count(fake, 24);
	disk_io_init(&io, DISK_WRITE, 0, 1, buf);
	disk_submit(&md2.disk, &io.req);
	for (unsigned int n = 0; n < 100 && disk_poll(&md2.disk); n++)
		;
	EXPECT_EQ(io.done_count, 1);
	EXPECT_EQ(io.rc, -EIO);
	EXPECT_EQ(fake_sdhci_cmd_count(fake, 0) + fake_sdhci_cmd_count(fake, 24), cmds);
	no_violations();
}

/* A card whose switch is turned on, found at a re-initialisation, is written no more. */
TEST(mmc, write_protection_found_at_reinitialisation_stops_writes)
{
	uint8_t buf[512] = {0};

	ASSERT_TRUE(setup(&sdhc, NULL, 0, 0));
	EXPECT_FALSE(md.disk.read_only);
	sd.write_protected = true; /* what mmc_card_init finds when the switch is on */
	EXPECT_EQ(run(DISK_WRITE, 0, 1, buf), -EROFS);
	EXPECT_EQ(run(DISK_DISCARD, 0, 8, NULL), -EROFS);
	EXPECT_EQ(fake_sdhci_cmd_count(fake, 24) + fake_sdhci_cmd_count(fake, 32), 0);
	EXPECT_EQ(run(DISK_READ, 0, 1, buf), 0);
	no_violations();
}

TEST(mmc, a_write_protected_card_is_served_read_only)
{
	struct fake_card_cfg wp = sdhc;
	uint8_t buf[512];

	wp.write_protect = true;
	ASSERT_TRUE(setup(&wp, NULL, 0, 0));
	EXPECT_TRUE(md.disk.read_only);
	EXPECT_EQ(run(DISK_WRITE, 0, 1, buf), -EROFS);
	EXPECT_EQ(run(DISK_DISCARD, 0, 8, NULL), -EROFS);
	EXPECT_EQ(fake_sdhci_cmd_count(fake, 24) + fake_sdhci_cmd_count(fake, 32), 0);
	EXPECT_EQ(run(DISK_READ, 0, 1, buf), 0);
	no_violations();
}

TEST(mmc, discard_erases_exactly_its_range)
{
	struct fake_card_cfg ff = sdhc;

	ff.erase_value = 0xff;
	ASSERT_TRUE(setup(&ff, NULL, 1024, 2048));
	EXPECT_EQ(md.disk.discard_max, MMCDISK_DISCARD_MAX_BLOCKS);
	EXPECT_EQ(run(DISK_DISCARD, 10, 3, NULL), 0);
	EXPECT_EQ(fake_sdhci_last_arg(fake, 32), 1034);
	EXPECT_EQ(fake_sdhci_last_arg(fake, 33), 1036);
	EXPECT_EQ(fake_sdhci_cmd_count(fake, 38), 1);
	EXPECT_EQ(card[1033 * 512 + 511], pattern(1033 * 512 + 511));
	EXPECT_EQ(card[1034 * 512], 0xff);
	EXPECT_EQ(card[1036 * 512 + 511], 0xff);
	EXPECT_EQ(card[1037 * 512], pattern(1037 * 512));
	EXPECT_EQ(run(DISK_WRITE_ZEROES, 0, 1, NULL), -EOPNOTSUPP);
	no_violations();
}

TEST(mmc, a_controller_with_32_bit_registers_only_works_the_same)
{
	static uint8_t buf[8 * 512], want[8 * 512];

	ASSERT_TRUE(setup(&sdhc, "brcm,bcm2711-emmc2", 0, 0));
	EXPECT_EQ(sd.width, 4);
	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = want[i] = (uint8_t)(i * 3);
	EXPECT_EQ(run(DISK_WRITE, 77, 8, buf), 0);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(run(DISK_READ, 77, 8, buf), 0);
	EXPECT_MEMEQ(buf, want, sizeof(want));
	fake_sdhci_fail_data(fake, 2, 1u << 5);
	EXPECT_EQ(run(DISK_READ, 77, 8, buf), -EIO);
	EXPECT_EQ(run(DISK_READ, 77, 8, buf), 0);
	no_violations();
}

TEST(mmc, a_buffer_the_guest_took_back_fails_the_request)
{
	uint8_t buf[512];
	struct disk_io io;

	ASSERT_TRUE(setup(&sdhc, NULL, 0, 0));
	start_io(&io, DISK_READ, 0, 2, buf);
	io.len = 512; /* one block of room for two */
	drain(100000);
	EXPECT_EQ(io.done_count, 1);
	EXPECT_EQ(io.rc, -EIO);
	EXPECT_EQ(fake_sdhci_card_state(fake), FAKE_CARD_TRAN);
	EXPECT_EQ(run(DISK_READ, 0, 1, buf), 0);
	no_violations();
}

TEST(mmc, two_ranges_of_one_card_take_turns)
{
	static uint8_t a[8 * 512], b[8 * 512], want[8 * 512];
	static struct mmcdisk md2;
	struct disk_io ia, ib;

	ASSERT_TRUE(setup(&sdhc, NULL, 0, 1024));
	ASSERT_EQ(mmcdisk_init(&md2, &sd, 1024, 1024, false, clock_now), 0);
	fake_sdhci_set_cmd_delay(fake, 3);
	for (unsigned int i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i + 7);
	memcpy(b, want, sizeof(b));
	start_io(&ia, DISK_READ, 8, 8, a);
	disk_io_init(&ib, DISK_WRITE, 8, 8, b);
	disk_submit(&md2.disk, &ib.req);
	/* Both polled in turn, as the main loop would: the second waits for the card. */
	for (unsigned int i = 0; i < 100000 && (ia.done_count == 0 || ib.done_count == 0); i++) {
		disk_poll(&md2.disk);
		disk_poll(&md.disk);
	}
	EXPECT_EQ(ia.done_count, 1);
	EXPECT_EQ(ib.done_count, 1);
	EXPECT_EQ(ia.rc | ib.rc, 0);
	EXPECT_MEMEQ(a, card + 8 * 512, sizeof(a));
	EXPECT_MEMEQ(card + 1032 * 512, want, sizeof(want));
	EXPECT_TRUE(sd.user == NULL);
	no_violations();
}

TEST(mmc, while_data_flows_the_disk_wants_polling_at_once)
{
	static uint8_t buf[64 * 512];
	struct disk_io io;
	unsigned int polls;

	ASSERT_TRUE(setup(&sdhc, NULL, 0, 0));
	start_io(&io, DISK_READ, 300, 64, buf);
	EXPECT_EQ(disk_poll(&md.disk), 1);
	/* 16 blocks a poll: more are ready, so no sleep before the next one. */
	EXPECT_EQ(disk_due(&md.disk), DISK_DUE_NOW);
	for (polls = 1; disk_poll(&md.disk); polls++)
		EXPECT_EQ(disk_due(&md.disk), DISK_DUE_NOW);
	EXPECT_EQ(polls + 1, 4); /* 64 blocks in four polls, the last one ending the request */
	EXPECT_EQ(io.done_count, 1);
	EXPECT_EQ(io.rc, 0);
	EXPECT_MEMEQ(buf, card + 300 * 512, sizeof(buf));
	/* Waiting for the card (a slow command) is another matter: a short sleep first. */
	fake_sdhci_set_cmd_delay(fake, 5);
	start_io(&io, DISK_READ, 0, 1, buf);
	disk_poll(&md.disk);
	EXPECT_EQ(disk_due(&md.disk), fake_time_ns + MMCDISK_POLL_NS);
	drain(1000);
	no_violations();
}

/*
 * The owner of a controller that signals (sdhci_use_irq), as boot/cards.c and the loop are:
 * polls while the disk wants it at once, else lets time pass (the fake counts status
 * reads) and on the interrupt masks it (sdhci_irq) and polls. Returns the interrupts taken.
 */
static unsigned int run_with_irq(const struct disk_io *io, unsigned int steps)
{
	unsigned int irqs = 0;

	for (unsigned int n = 0; n < steps && io->done_count == 0; n++) {
		if (disk_due(&md.disk) == DISK_DUE_NOW) {
			disk_poll(&md.disk);
			continue;
		}
		EXPECT_EQ(disk_due(&md.disk), fake_time_ns + MMCDISK_IRQ_POLL_NS);
		(void)mmio_read_32(BASE + SDHCI_PRESENT_STATE); /* time passes */
		if (fake_sdhci_irq(fake)) {
			irqs++;
			sdhci_irq(&host);
			EXPECT_FALSE(
			    fake_sdhci_irq(fake)); /* the level line is down before the EOI */
			disk_poll(&md.disk);
		}
	}
	return irqs;
}

TEST(mmc, with_the_interrupt_a_wait_signals_what_it_waits_for)
{
	static uint8_t buf[8 * 512];
	uint8_t wbuf[512] = {9, 8, 7};
	struct disk_io io;

	ASSERT_TRUE(setup(&sdhc, NULL, 0, 0));
	/* The owner's check that the line reaches it: a forced error, masked, cleared. */
	EXPECT_FALSE(fake_sdhci_irq(fake));
	sdhci_irq_check(&host);
	EXPECT_TRUE(fake_sdhci_irq(fake));
	sdhci_irq(&host);
	EXPECT_FALSE(fake_sdhci_irq(fake));
	sdhci_irq_check_end(&host);
	EXPECT_EQ(mmio_read_16(BASE + SDHCI_ERR_STATUS), 0);
	EXPECT_EQ(mmio_read_16(BASE + SDHCI_INT_STATUS) & 0x8000, 0);
	sdhci_use_irq(&host);
	EXPECT_TRUE(sd.host->irq);
	fake_sdhci_set_cmd_delay(fake, 5);
	start_io(&io, DISK_READ, 40, 8, buf);
	disk_poll(&md.disk); /* the command is out, the card is slow */
	EXPECT_EQ(io.done_count, 0);
	EXPECT_EQ(mmio_read_16(BASE + SDHCI_INT_SIGNAL), 1u); /* Command Complete only */
	EXPECT_EQ(mmio_read_16(BASE + SDHCI_ERR_SIGNAL), 0x03ff);
	EXPECT_FALSE(fake_sdhci_irq(fake));
	EXPECT_TRUE(run_with_irq(&io, 1000) >= 1);
	EXPECT_EQ(io.done_count, 1);
	EXPECT_EQ(io.rc, 0);
	EXPECT_MEMEQ(buf, card + 40 * 512, sizeof(buf));
	/* over: nothing signalled, the line down, no wish to be polled */
	EXPECT_EQ(mmio_read_16(BASE + SDHCI_INT_SIGNAL), 0);
	EXPECT_FALSE(fake_sdhci_irq(fake));
	EXPECT_EQ(disk_due(&md.disk), DISK_DUE_NEVER);

	/* A write waits for the end of busy (Transfer Complete), then CMD13s on a timer. */
	fake_sdhci_set_busy(fake, 50);
	start_io(&io, DISK_WRITE, 9, 1, wbuf);
	for (unsigned int n = 0; n < 100000 && io.done_count == 0; n++) {
		if (disk_due(&md.disk) == fake_time_ns + MMCDISK_IRQ_POLL_NS &&
		    !fake_sdhci_irq(fake)) {
			EXPECT_TRUE(mmio_read_16(BASE + SDHCI_INT_SIGNAL) != 0);
			(void)mmio_read_32(BASE + SDHCI_PRESENT_STATE);
			continue;
		}
		if (fake_sdhci_irq(fake))
			sdhci_irq(&host);
		disk_poll(&md.disk);
	}
	EXPECT_EQ(io.done_count, 1);
	EXPECT_EQ(io.rc, 0);
	EXPECT_MEMEQ(card + 9 * 512, wbuf, sizeof(wbuf));
	EXPECT_FALSE(fake_sdhci_irq(fake));

	/* Ended by the timer's poll (an interrupt lost): the signals go off all the same. */
	start_io(&io, DISK_READ, 3, 1, buf);
	disk_poll(&md.disk);
	EXPECT_EQ(mmio_read_16(BASE + SDHCI_INT_SIGNAL), 1u);
	drain(1000);
	EXPECT_EQ(io.done_count, 1);
	EXPECT_EQ(mmio_read_16(BASE + SDHCI_INT_SIGNAL), 0);
	EXPECT_EQ(mmio_read_16(BASE + SDHCI_ERR_SIGNAL), 0);
	no_violations();
}

TEST(mmc, a_start_up_read_waits_for_the_request_that_has_the_card)
{
	static uint8_t a[8 * 512], b[512];
	struct disk_io io;

	ASSERT_TRUE(setup(&sdhc, NULL, 0, 1024));
	fake_sdhci_set_cmd_delay(fake, 20);
	start_io(&io, DISK_READ, 16, 8, a);
	disk_poll(&md.disk); /* the command is under way: the card is the disk's */
	ASSERT_TRUE(sd.user == &md);
	/* A partition-table read now (a second device being set up) must not collide. */
	mmcdisk_quiesce(&sd);
	EXPECT_TRUE(sd.user == NULL);
	EXPECT_EQ(io.done_count, 1);
	EXPECT_EQ(io.rc, 0);
	EXPECT_MEMEQ(a, card + 16 * 512, sizeof(a));
	EXPECT_EQ(mmc_read_wait(&sd, 0, 1, b), 0);
	EXPECT_MEMEQ(b, card, sizeof(b));
	EXPECT_EQ(mmc_read_wait(&sd, SDHC_BLOCKS, 1, b), -ERANGE);
	no_violations();
}

TEST(mmc, a_card_whose_commands_take_time_is_identified)
{
	uint8_t buf[512];

	make(&sdhc);
	fake_sdhci_set_cmd_delay(fake, 7); /* every command: 7 status reads before it is done */
	ASSERT_EQ(sdhci_init(&host, BASE, NULL, 0), 0);
	ASSERT_EQ(mmc_card_init(&sd, &host.host), 0);
	EXPECT_EQ(sd.block_count, SDHC_BLOCKS);
	EXPECT_EQ(sd.width, 4);
	EXPECT_EQ(mmc_read_wait(&sd, 5, 1, buf), 0);
	EXPECT_MEMEQ(buf, card + 5 * 512, sizeof(buf));
	no_violations();
}
