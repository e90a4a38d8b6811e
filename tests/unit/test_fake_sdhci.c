/*
 * tests/unit/fake_sdhci.c, driven through raw register sequences written from the SDHCI
 * v3.00 and SD Physical Layer v6.00 specs (with offsets and bits spelled out here, not taken
 * from the fake), so that a driver test failing later points at the driver, not the fake.
 */
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch/fake.h"
#include "arch/fake_mmio.h"
#include "arch/mmio.h"
#include "tests/unit/fake_sdhci.h"
#include "tests/unit/test.h"

#define BASE 0x09100000u

/* SDHCI v3.00 §2.1 register offsets. */
#define ARG2     0x00
#define BLKSZ    0x04
#define BLKCNT   0x06
#define ARG      0x08
#define XFER     0x0C
#define CMD      0x0E
#define RESP0    0x10
#define RESP1    0x14
#define RESP2    0x18
#define RESP3    0x1C
#define DATA     0x20
#define PRESENT  0x24
#define HOST1    0x28
#define POWER    0x29
#define CLOCK    0x2C
#define TIMEOUT  0x2E
#define RESET    0x2F
#define NIS      0x30
#define EIS      0x32
#define NIS_EN   0x34
#define EIS_EN   0x36
#define NIS_SIG  0x38
#define ACMD_ERR 0x3C
#define CAPS     0x40
#define ADMA_ERR 0x54
#define ADMA_LO  0x58
#define ADMA_HI  0x5C
#define VERSION  0xFE

/* Command register flags: response type, CRC and index checks, data present, abort. */
#define R_NONE  0x00
#define R_136   0x09 /* R2: CRC check only */
#define R_48    0x1A /* R1, R6, R7 */
#define R_48B   0x1B /* R1b */
#define R_R3    0x02 /* no checks */
#define F_DATA  0x20
#define F_ABORT 0xC0

/* Transfer Mode. */
#define TM_DMA    0x01
#define TM_BCE    0x02
#define TM_AUTO12 0x04
#define TM_READ   0x10
#define TM_MULTI  0x20

/* Present State. */
#define PS_CMD_INHIBIT (1u << 0)
#define PS_DAT_INHIBIT (1u << 1)
#define PS_WRITE_XFER  (1u << 8)
#define PS_READ_XFER   (1u << 9)
#define PS_BWE         (1u << 10)
#define PS_BRE         (1u << 11)
#define PS_INSERTED    (1u << 16)
#define PS_WP_WRITABLE (1u << 19)
#define PS_DAT0        (1u << 20)

/* Interrupt status. */
#define NI_CC   0x0001
#define NI_TC   0x0002
#define NI_DMA  0x0008
#define NI_BWR  0x0010
#define NI_BRR  0x0020
#define NI_REM  0x0080
#define NI_ERR  0x8000
#define EI_CTO  0x0001
#define EI_DCRC 0x0020
#define EI_DTO  0x0010
#define EI_ADMA 0x0200

/* Host Control 1 DMA Select; ADMA Error Status; ADMA2 32-bit descriptor attributes (§1.13.4). */
#define HC_ADMA32  (2u << 3)
#define AE_ST_STOP 0u
#define AE_ST_FDS  1u
#define AE_ST_TFR  3u
#define AE_LEN     (1u << 2)
#define D_VALID    0x01
#define D_END      0x02
#define D_INT      0x04
#define D_NOP      0x00
#define D_RSV      0x10
#define D_TRAN     0x20
#define D_LINK     0x30

/* Card status (SD v6.00 §4.10.1). */
#define CS_STATE(s)     ((uint32_t)(s) << 9)
#define CS_READY        (1u << 8)
#define CS_APP          (1u << 5)
#define CS_OUT_OF_RANGE (1u << 31)
#define CS_ERASE_SEQ    (1u << 28)
#define CS_WP_VIOLATION (1u << 26)
#define CS_ILLEGAL      (1u << 22)

#define BLOCKS 2048u
static uint8_t card[BLOCKS * 512];
static struct fake_sdhci *f;

/* DMA tests: the controller reaches bus addresses [DMA_BUS, DMA_BUS + MEM_SIZE) as mem. */
#define DMA_BUS  0x80000000u
#define MEM_SIZE (128u * 1024)
#define TABLE    0x0000u /* offsets in mem: a descriptor table, */
#define TABLE2   0x0800u /* a second one, */
#define BUF      0x1000u /* the data */
static uint8_t mem[MEM_SIZE];

static uint8_t r8(uint32_t off)
{
	return mmio_read_8(BASE + off);
}

static uint16_t r16(uint32_t off)
{
	return mmio_read_16(BASE + off);
}

static uint32_t r32(uint32_t off)
{
	return mmio_read_32(BASE + off);
}

static void w8(uint32_t off, uint8_t v)
{
	mmio_write_8(BASE + off, v);
}

static void w16(uint32_t off, uint16_t v)
{
	mmio_write_16(BASE + off, v);
}

static void w32(uint32_t off, uint32_t v)
{
	mmio_write_32(BASE + off, v);
}

static struct fake_card_cfg sdhc_cfg(void)
{
	return (struct fake_card_cfg){.blocks = BLOCKS, .sdhc = true, .erase_value = 0xFF};
}

/* A fresh controller and card; the previous one goes, even if its test returned early. */
static void setup(const struct fake_card_cfg *cfg)
{
	if (f)
		fake_sdhci_destroy(f);
	fake_reset();
	fake_mmio_unmap_all();
	for (size_t i = 0; i < sizeof(card); i++)
		card[i] = (uint8_t)(i * 7 + i / 512);
	f = fake_sdhci_create(BASE, card, cfg);
}

static void teardown(void)
{
	fake_sdhci_destroy(f);
	f = NULL;
}

/* Power at 3.3 V and an SD clock of base / 2N, the way §3.2 and §3.3 say. */
static void host_clock(unsigned int n)
{
	uint16_t div = (uint16_t)((n & 0xFF) << 8 | (n >> 8 & 3) << 6);

	w16(CLOCK, 0);
	w16(CLOCK, div | 1);
	while (!(r16(CLOCK) & 2))
		;
	w16(CLOCK, div | 1 | 4);
}

static void host_init(void)
{
	w8(RESET, 1);
	while (r8(RESET) & 1)
		;
	w16(NIS_EN, 0xFFFF);
	w16(EIS_EN, 0xFFFF);
	w8(POWER, 0x0F);
	host_clock(63); /* 50 MHz / 126 = 397 kHz */
}

/* Issues a command and waits for Command Complete (cleared) or an error; returns EIS or 0. */
static uint16_t cmd(unsigned int index, uint32_t arg, uint16_t flags)
{
	uint16_t nis;

	w32(ARG, arg);
	w16(CMD, (uint16_t)(index << 8 | flags));
	for (int i = 0; i < 100; i++) {
		nis = r16(NIS);
		if (nis & NI_ERR)
			return r16(EIS);
		if (nis & NI_CC) {
			w16(NIS, NI_CC);
			return 0;
		}
	}
	return 0xFFFF;
}

/* Waits for a Normal Interrupt Status bit (cleared) or an error; true if the bit came. */
static bool wait_nis(uint16_t bit)
{
	for (int i = 0; i < 100; i++) {
		uint16_t nis = r16(NIS);

		if (nis & NI_ERR)
			return false;
		if (nis & bit) {
			w16(NIS, bit);
			return true;
		}
	}
	return false;
}

/* CSD or CID bits hi:lo (hi - lo < 32) from an R2 in RESP: card bit b is RESP bit b - 8. */
static uint32_t r2_bits(unsigned int hi, unsigned int lo)
{
	uint32_t resp[4] = {r32(RESP0), r32(RESP1), r32(RESP2), r32(RESP3)};
	uint32_t v = 0;

	for (unsigned int b = hi + 1; b-- > lo;)
		v = v << 1 | (resp[(b - 8) / 32] >> ((b - 8) % 32) & 1);
	return v;
}

/* CMD0, CMD8, ACMD41 until ready, CMD2, CMD3, CMD7: the card ends in tran. */
static bool identify(uint32_t hcs)
{
	if (cmd(0, 0, R_NONE) || cmd(8, 0x1AA, R_48))
		return false;
	for (int i = 0; i < 10; i++) {
		if (cmd(55, 0, R_48) || cmd(41, hcs | 0x00FF8000, R_R3))
			return false;
		if (r32(RESP0) & (1u << 31))
			break;
	}
	if (cmd(2, 0, R_136) || cmd(3, 0, R_48) || cmd(7, FAKE_SDHCI_RCA << 16, R_48B))
		return false;
	return wait_nis(NI_TC);
}

static void read_block(uint32_t *words)
{
	for (int i = 0; i < 128; i++)
		words[i] = r32(DATA);
}

/* Block 7 read by PIO, single-block; whether it came right and the transfer completed. */
static bool pio_read_block_7(void)
{
	uint32_t words[128];

	w16(BLKCNT, 1);
	w16(XFER, TM_READ);
	if (cmd(17, 7, R_48 | F_DATA) != 0 || !wait_nis(NI_BRR))
		return false;
	read_block(words);
	return memcmp(words, card + 7 * 512, 512) == 0 && wait_nis(NI_TC);
}

static void write_block(const uint8_t *src)
{
	for (int i = 0; i < 128; i++) {
		uint32_t v;

		memcpy(&v, src + 4 * i, 4);
		w32(DATA, v);
	}
}

/* Writes an ADMA2 32-bit descriptor at offset off of mem, little-endian (length 65536 as 0). */
static void desc(uint32_t off, uint16_t attr, uint32_t len, uint32_t addr)
{
	uint8_t *d = mem + off;

	d[0] = (uint8_t)attr;
	d[1] = (uint8_t)(attr >> 8);
	d[2] = (uint8_t)len;
	d[3] = (uint8_t)(len >> 8);
	for (int i = 0; i < 4; i++)
		d[4 + i] = (uint8_t)(addr >> 8 * i);
}

/* A card in tran at 25 MHz behind a controller with DMA into mem (0xEE), DMA Select ADMA2. */
static bool dma_setup(void)
{
	struct fake_card_cfg cfg = sdhc_cfg();

	setup(&cfg);
	memset(mem, 0xEE, sizeof(mem));
	fake_sdhci_enable_dma(f, mem, DMA_BUS, sizeof(mem));
	host_init();
	if (!identify(1u << 30))
		return false;
	host_clock(1);
	w8(HOST1, HC_ADMA32);
	return true;
}

/* Writes a DMA data command's registers and the command (no status read yet). */
static void dma_issue(unsigned int index, uint32_t arg, uint16_t count, uint32_t table,
                      uint16_t mode)
{
	w32(ADMA_LO, table);
	w16(BLKSZ, 512);
	w16(BLKCNT, count);
	w16(XFER, mode | TM_DMA);
	w32(ARG, arg);
	w16(CMD, (uint16_t)(index << 8 | R_48 | F_DATA));
}

/* After an error that holds the DAT line: clear it, reset the line, stop the card with CMD12. */
static void recover(uint16_t eis)
{
	w16(EIS, eis);
	w8(RESET, 4);
	EXPECT_FALSE(r32(PRESENT) & PS_DAT_INHIBIT);
	EXPECT_EQ(cmd(12, 0, R_48B | F_ABORT), 0);
	EXPECT_TRUE(wait_nis(NI_TC));
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_TRAN);
}

TEST(fake_sdhci, reset_all_restores_defaults)
{
	struct fake_card_cfg cfg = sdhc_cfg();
	uint64_t caps;

	setup(&cfg);
	host_init();
	ASSERT_TRUE(identify(1u << 30));
	w16(BLKSZ, 0x200);
	w32(ARG2, 0x1234);
	w8(HOST1, 0x02);
	w8(TIMEOUT, 0x0E);
	EXPECT_EQ(r32(CLOCK) >> 16 & 0xFF, 0x0E); /* 32-bit read: Timeout in bits 23:16 */

	w8(RESET, 1);
	EXPECT_EQ(r8(RESET), 1); /* still resetting on the first read */
	EXPECT_EQ(r8(RESET), 0);
	EXPECT_EQ(fake_sdhci_resets(f, 1), 2);
	EXPECT_EQ(r16(BLKSZ), 0);
	EXPECT_EQ(r32(ARG2), 0);
	EXPECT_EQ(r8(HOST1), 0);
	EXPECT_EQ(r8(POWER), 0);
	EXPECT_EQ(r32(CLOCK), 0); /* clock, timeout, reset */
	EXPECT_EQ(r32(NIS_EN), 0);
	EXPECT_EQ(r16(NIS), 0);
	EXPECT_EQ(r32(PRESENT) & (PS_CMD_INHIBIT | PS_DAT_INHIBIT), 0);
	EXPECT_TRUE(r32(PRESENT) & PS_INSERTED);
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_OFF);
	caps = mmio_read_64(BASE + CAPS);
	EXPECT_EQ(caps >> 8 & 0xFF, 50);            /* base clock, MHz */
	EXPECT_EQ(caps >> 16 & 3, 0);               /* 512-byte blocks */
	EXPECT_TRUE(caps & (1u << 21));             /* high speed */
	EXPECT_TRUE(caps & (1u << 24));             /* 3.3 V */
	EXPECT_FALSE(caps & (1u << 19 | 1u << 22)); /* no ADMA2, no SDMA */
	EXPECT_EQ(r16(VERSION), 0x0002);

	/* Powered off and on again, the card is back in idle and needs identifying. */
	host_init();
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_IDLE);
	EXPECT_EQ(cmd(7, FAKE_SDHCI_RCA << 16, R_48B), EI_CTO);
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}

TEST(fake_sdhci, clock_enable_then_stable)
{
	struct fake_card_cfg cfg = sdhc_cfg();

	setup(&cfg);
	w16(CLOCK, 63 << 8 | 1);
	EXPECT_EQ(r16(CLOCK) & 2, 0); /* not stable on the first read */
	EXPECT_EQ(r16(CLOCK) & 2, 2);
	EXPECT_EQ(fake_sdhci_clock_hz(f), 0);
	w16(CLOCK, 63 << 8 | 1 | 4);
	EXPECT_EQ(fake_sdhci_clock_divider(f), 63);
	EXPECT_EQ(fake_sdhci_clock_hz(f), 50000000u / 126);
	EXPECT_EQ(fake_sdhci_violations(f), 0);

	/* Divider bits 7:6 are N's bits 9:8. */
	w16(CLOCK, 63 << 8 | 1);
	w16(CLOCK, 0x01 << 8 | 2 << 6 | 1);
	EXPECT_EQ(fake_sdhci_clock_divider(f), 0x201);

	/* The SD clock turned on with the internal clock, or the divider changed while it runs. */
	w16(CLOCK, 0);
	w16(CLOCK, 1 | 4);
	EXPECT_EQ(fake_sdhci_violations(f), 1);
	EXPECT_CONTAINS(fake_sdhci_last_violation(f), "Internal Clock Stable");
	w16(CLOCK, 2 << 8 | 1 | 4);
	EXPECT_EQ(fake_sdhci_violations(f), 2);
	teardown();
}

TEST(fake_sdhci, identification_sdhc)
{
	struct fake_card_cfg cfg = sdhc_cfg();
	unsigned int polls = 0;

	cfg.acmd41_busy_polls = 3;
	setup(&cfg);
	host_init();
	EXPECT_EQ(cmd(0, 0, R_NONE), 0);
	EXPECT_EQ(cmd(8, 0x1AA, R_48), 0);
	EXPECT_EQ(r32(RESP0), 0x1AA);
	for (;;) {
		ASSERT_EQ(cmd(55, 0, R_48), 0);
		EXPECT_EQ(r32(RESP0), CS_STATE(0) | CS_READY | CS_APP);
		ASSERT_EQ(cmd(41, 0x40FF8000, R_R3), 0);
		polls++;
		if (r32(RESP0) & (1u << 31) || polls > 10)
			break;
		EXPECT_EQ(r32(RESP0), 0x00FF8000); /* busy: no CCS yet */
	}
	EXPECT_EQ(polls, 4);
	EXPECT_EQ(r32(RESP0), 0xC0FF8000); /* ready, CCS */
	EXPECT_EQ(fake_sdhci_cmd_count(f, FAKE_SDHCI_ACMD(41)), 4);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 41), 0);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 55), 4);
	EXPECT_EQ(fake_sdhci_last_arg(f, FAKE_SDHCI_ACMD(41)), 0x40FF8000);

	/* R2: CID bits 127:8 in RESP bits 119:0. */
	EXPECT_EQ(cmd(2, 0, R_136), 0);
	EXPECT_EQ(r32(RESP3), 0x00425644); /* MID 0x42, OID "VD" */
	EXPECT_EQ(r2_bits(127, 120), 0x42);
	EXPECT_EQ(r2_bits(103, 72), 0x56444953); /* PNM "VDIS" of "VDISK" */
	EXPECT_EQ(r2_bits(71, 64), 'K');

	EXPECT_EQ(cmd(3, 0, R_48), 0);
	EXPECT_EQ(r32(RESP0), FAKE_SDHCI_RCA << 16 | CS_STATE(2) | CS_READY);

	EXPECT_EQ(cmd(9, FAKE_SDHCI_RCA << 16, R_136), 0);
	EXPECT_EQ(r2_bits(127, 126), 1);               /* CSD v2 */
	EXPECT_EQ(r2_bits(83, 80), 9);                 /* READ_BL_LEN */
	EXPECT_EQ(r2_bits(69, 48), BLOCKS / 1024 - 1); /* C_SIZE */
	EXPECT_EQ(r2_bits(12, 12), 0);                 /* not write-protected */

	/* CMD7 is R1b: Command Complete, then Transfer Complete at the end of busy. */
	EXPECT_EQ(cmd(7, FAKE_SDHCI_RCA << 16, R_48B), 0);
	EXPECT_EQ(r32(RESP0), CS_STATE(3) | CS_READY); /* the state CMD7 found: stby */
	EXPECT_TRUE(wait_nis(NI_TC));
	EXPECT_EQ(cmd(13, FAKE_SDHCI_RCA << 16, R_48), 0);
	EXPECT_EQ(r32(RESP0), CS_STATE(4) | CS_READY);
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_TRAN);
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}

TEST(fake_sdhci, identification_sdsc_v1)
{
	struct fake_card_cfg cfg = {.blocks = BLOCKS, .v1 = true};
	uint32_t c_size, mult;

	setup(&cfg);
	host_init();
	EXPECT_EQ(cmd(0, 0, R_NONE), 0);
	/* No answer to CMD8; the CMD line stays inhibited until its reset. */
	EXPECT_EQ(cmd(8, 0x1AA, R_48), EI_CTO);
	EXPECT_TRUE(r32(PRESENT) & PS_CMD_INHIBIT);
	w16(EIS, EI_CTO);
	w8(RESET, 2);
	EXPECT_FALSE(r32(PRESENT) & PS_CMD_INHIBIT);
	EXPECT_EQ(fake_sdhci_resets(f, 2), 1);
	EXPECT_EQ(cmd(55, 0, R_48), 0);
	EXPECT_EQ(cmd(41, 0x00FF8000, R_R3), 0);
	EXPECT_EQ(r32(RESP0), 0x80FF8000); /* ready, CCS 0 */
	EXPECT_EQ(cmd(2, 0, R_136), 0);
	EXPECT_EQ(cmd(3, 0, R_48), 0);
	EXPECT_EQ(cmd(9, FAKE_SDHCI_RCA << 16, R_136), 0);
	EXPECT_EQ(r2_bits(127, 126), 0); /* CSD v1 */
	EXPECT_EQ(r2_bits(83, 80), 9);
	c_size = r2_bits(73, 62);
	mult = r2_bits(49, 47);
	EXPECT_EQ((c_size + 1) << (mult + 2), BLOCKS);
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}

TEST(fake_sdhci, single_block_read_through_the_data_port)
{
	struct fake_card_cfg cfg = sdhc_cfg();
	uint32_t words[128];

	setup(&cfg);
	host_init();
	ASSERT_TRUE(identify(1u << 30));
	host_clock(1); /* 25 MHz */
	w16(BLKSZ, 512);
	w16(BLKCNT, 1);
	w16(XFER, TM_READ);
	EXPECT_EQ(cmd(17, 5, R_48 | F_DATA), 0);
	EXPECT_EQ(r32(RESP0), CS_STATE(4) | CS_READY);
	EXPECT_TRUE(r32(PRESENT) & PS_DAT_INHIBIT);
	EXPECT_TRUE(r32(PRESENT) & PS_BRE);
	EXPECT_TRUE(wait_nis(NI_BRR));
	read_block(words);
	EXPECT_MEMEQ(words, card + 5 * 512, 512);
	EXPECT_TRUE(wait_nis(NI_TC));
	EXPECT_EQ(r32(PRESENT) & (PS_DAT_INHIBIT | PS_BRE), 0);
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_TRAN);
	EXPECT_EQ(fake_sdhci_violations(f), 0);

	r32(DATA); /* nothing left */
	EXPECT_EQ(fake_sdhci_violations(f), 1);
	teardown();
}

TEST(fake_sdhci, three_block_write_with_auto_cmd12)
{
	struct fake_card_cfg cfg = sdhc_cfg();
	uint8_t src[3 * 512];

	setup(&cfg);
	host_init();
	ASSERT_TRUE(identify(1u << 30));
	host_clock(1);
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(0xA5 ^ i);
	w16(BLKSZ, 512);
	w16(BLKCNT, 3);
	/* A 32-bit write at 0x0C sets Transfer Mode and issues the command. */
	w32(ARG, 10);
	w32(XFER, (uint32_t)(25 << 8 | R_48 | F_DATA) << 16 | TM_BCE | TM_AUTO12 | TM_MULTI);
	EXPECT_TRUE(wait_nis(NI_CC));
	for (int b = 0; b < 3; b++) {
		ASSERT_TRUE(wait_nis(NI_BWR));
		EXPECT_TRUE(r32(PRESENT) & PS_BWE);
		write_block(src + 512 * b);
	}
	EXPECT_TRUE(wait_nis(NI_TC));
	EXPECT_MEMEQ(card + 10 * 512, src, sizeof(src));
	EXPECT_EQ(r16(BLKCNT), 0);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 12), 1);
	EXPECT_EQ(r32(RESP3), CS_STATE(6)); /* Auto CMD12's R1b: found rcv, now programming */
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_TRAN);
	EXPECT_FALSE(r32(PRESENT) & PS_DAT_INHIBIT);
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}

TEST(fake_sdhci, data_crc_error_stops_the_transfer)
{
	struct fake_card_cfg cfg = sdhc_cfg();
	uint32_t words[128];

	setup(&cfg);
	host_init();
	ASSERT_TRUE(identify(1u << 30));
	host_clock(1);
	fake_sdhci_fail_data(f, 1, EI_DCRC);
	w16(BLKSZ, 512);
	w16(BLKCNT, 3);
	w16(XFER, TM_READ | TM_BCE | TM_AUTO12 | TM_MULTI);
	EXPECT_EQ(cmd(18, 0, R_48 | F_DATA), 0);
	ASSERT_TRUE(wait_nis(NI_BRR));
	read_block(words);
	EXPECT_MEMEQ(words, card, 512);
	EXPECT_FALSE(wait_nis(NI_BRR)); /* block 1 never arrives */
	EXPECT_EQ(r16(EIS), EI_DCRC);
	EXPECT_TRUE(r16(NIS) & NI_ERR);
	EXPECT_FALSE(r16(NIS) & NI_TC);
	EXPECT_TRUE(r32(PRESENT) & PS_DAT_INHIBIT);
	EXPECT_FALSE(r32(PRESENT) & PS_BRE);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 12), 0);

	/* Recovery: clear, reset the DAT line, stop the card. */
	w16(EIS, EI_DCRC);
	EXPECT_FALSE(r16(NIS) & NI_ERR);
	w8(RESET, 4);
	EXPECT_FALSE(r32(PRESENT) & PS_DAT_INHIBIT);
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_DATA);
	EXPECT_EQ(cmd(12, 0, R_48B | F_ABORT), 0);
	EXPECT_TRUE(wait_nis(NI_TC));
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_TRAN);
	EXPECT_EQ(fake_sdhci_violations(f), 0);

	/* The injection was one-shot. */
	EXPECT_TRUE(pio_read_block_7());
	teardown();
}

TEST(fake_sdhci, unknown_command_times_out)
{
	struct fake_card_cfg cfg = sdhc_cfg();

	setup(&cfg);
	host_init();
	ASSERT_TRUE(identify(1u << 30));
	EXPECT_EQ(cmd(60, 0, R_48), EI_CTO);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 60), 1);
	/* Until the CMD line is reset, a further command is a violation and goes nowhere. */
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	w16(CMD, 13 << 8 | R_48);
	EXPECT_EQ(fake_sdhci_violations(f), 1);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 13), 0);
	w16(EIS, EI_CTO);
	w8(RESET, 2);
	/* The card reports the illegal command in its next status. */
	EXPECT_EQ(cmd(13, FAKE_SDHCI_RCA << 16, R_48), 0);
	EXPECT_EQ(r32(RESP0), CS_ILLEGAL | CS_STATE(4) | CS_READY);
	EXPECT_EQ(cmd(13, FAKE_SDHCI_RCA << 16, R_48), 0);
	EXPECT_EQ(r32(RESP0), CS_STATE(4) | CS_READY);
	/* An injected timeout: the card does not see the command. */
	fake_sdhci_fail_cmd(f, 13, EI_CTO);
	EXPECT_EQ(cmd(13, FAKE_SDHCI_RCA << 16, R_48), EI_CTO);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 13), 3);
	teardown();
}

TEST(fake_sdhci, absent_card_times_out)
{
	struct fake_card_cfg cfg = sdhc_cfg();

	setup(&cfg);
	host_init();
	ASSERT_TRUE(identify(1u << 30));
	fake_sdhci_remove_card(f);
	EXPECT_FALSE(r32(PRESENT) & PS_INSERTED);
	EXPECT_TRUE(r16(NIS) & NI_REM);
	EXPECT_EQ(cmd(13, FAKE_SDHCI_RCA << 16, R_48), EI_CTO);
	w16(EIS, EI_CTO);
	w8(RESET, 2);
	EXPECT_EQ(cmd(0, 0, R_NONE), 0); /* no response expected: it completes anyway */
	EXPECT_EQ(cmd(8, 0x1AA, R_48), EI_CTO);
	teardown();
}

TEST(fake_sdhci, erase_sequence)
{
	struct fake_card_cfg cfg = sdhc_cfg();
	uint8_t ff[3 * 512], before[512], after[512];

	setup(&cfg);
	host_init();
	ASSERT_TRUE(identify(1u << 30));
	host_clock(1);
	memset(ff, 0xFF, sizeof(ff));
	memcpy(before, card + 9 * 512, 512);
	memcpy(after, card + 13 * 512, 512);

	/* CMD38 without a range: ERASE_SEQ_ERROR, nothing erased. */
	EXPECT_EQ(cmd(38, 0, R_48B), 0);
	EXPECT_EQ(r32(RESP0), CS_ERASE_SEQ | CS_STATE(4) | CS_READY);
	EXPECT_TRUE(wait_nis(NI_TC));

	fake_sdhci_set_busy(f, 4);
	EXPECT_EQ(cmd(32, 10, R_48), 0);
	EXPECT_EQ(cmd(33, 12, R_48), 0);
	EXPECT_EQ(cmd(38, 0, R_48B), 0);
	EXPECT_EQ(r32(RESP0), CS_STATE(4)); /* now programming: not ready for data */
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_PRG);
	EXPECT_FALSE(r32(PRESENT) & PS_DAT0);
	EXPECT_TRUE(wait_nis(NI_TC));
	EXPECT_TRUE(r32(PRESENT) & PS_DAT0);
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_TRAN);
	EXPECT_MEMEQ(card + 10 * 512, ff, sizeof(ff));
	EXPECT_MEMEQ(card + 9 * 512, before, 512);
	EXPECT_MEMEQ(card + 13 * 512, after, 512);
	EXPECT_EQ(fake_sdhci_last_arg(f, 32), 10);
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}

TEST(fake_sdhci, busy_holds_transfer_complete)
{
	struct fake_card_cfg cfg = sdhc_cfg();
	uint8_t src[512];
	unsigned int low = 0;

	setup(&cfg);
	host_init();
	ASSERT_TRUE(identify(1u << 30));
	host_clock(1);
	memset(src, 0x5A, sizeof(src));
	fake_sdhci_set_busy(f, 5);
	w16(BLKSZ, 512);
	w16(BLKCNT, 1);
	w16(XFER, 0);
	EXPECT_EQ(cmd(24, 100, R_48 | F_DATA), 0);
	EXPECT_EQ(r32(RESP0), CS_STATE(4) | CS_READY);
	ASSERT_TRUE(wait_nis(NI_BWR));
	write_block(src);
	while (!(r32(PRESENT) & PS_DAT0) && low < 100)
		low++;
	EXPECT_EQ(low, 5);
	EXPECT_TRUE(wait_nis(NI_TC));
	EXPECT_MEMEQ(card + 100 * 512, src, 512);

	/* Busy forever: Transfer Complete never comes, CMD13 sees prg. */
	fake_sdhci_set_busy(f, UINT_MAX);
	w16(XFER, 0);
	EXPECT_EQ(cmd(24, 101, R_48 | F_DATA), 0);
	ASSERT_TRUE(wait_nis(NI_BWR));
	write_block(src);
	EXPECT_FALSE(wait_nis(NI_TC));
	EXPECT_EQ(mmio_read_32_poll_timeout(BASE + PRESENT, PS_DAT0, PS_DAT0, 50, NULL),
	          -ETIMEDOUT);
	EXPECT_EQ(cmd(13, FAKE_SDHCI_RCA << 16, R_48), 0);
	EXPECT_EQ(r32(RESP0), CS_STATE(7));
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}

TEST(fake_sdhci, command_delay_needs_polling)
{
	struct fake_card_cfg cfg = sdhc_cfg();
	unsigned int reads = 0;

	setup(&cfg);
	host_init();
	fake_sdhci_set_cmd_delay(f, 3);
	w32(ARG, 0);
	w16(CMD, 0);
	while (!(r16(NIS) & NI_CC) && reads < 100)
		reads++;
	EXPECT_EQ(reads, 3);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 0), 1);
	w16(NIS, NI_CC);

	/* A second command before the first completed is a violation and is dropped. */
	w32(ARG, 0x1AA);
	w16(CMD, 8 << 8 | R_48);
	w32(ARG, 0x2AA);
	w16(CMD, 8 << 8 | R_48);
	EXPECT_EQ(fake_sdhci_violations(f), 1);
	EXPECT_CONTAINS(fake_sdhci_last_violation(f), "Command Inhibit (CMD)");
	EXPECT_TRUE(wait_nis(NI_CC));
	EXPECT_EQ(r32(RESP0), 0x1AA);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 8), 1);
	teardown();
}

TEST(fake_sdhci, high_speed_switch_and_bus_width)
{
	struct fake_card_cfg cfg = sdhc_cfg();
	uint8_t status[64];
	uint32_t words[16];

	setup(&cfg);
	host_init();
	ASSERT_TRUE(identify(1u << 30));
	host_clock(1);
	EXPECT_EQ(cmd(55, FAKE_SDHCI_RCA << 16, R_48), 0);
	EXPECT_EQ(cmd(6, 2, R_48), 0);
	EXPECT_EQ(r32(RESP0), CS_STATE(4) | CS_READY | CS_APP);
	EXPECT_EQ(fake_sdhci_card_bus_width(f), 4);
	EXPECT_EQ(fake_sdhci_cmd_count(f, FAKE_SDHCI_ACMD(6)), 1);
	w8(HOST1, 0x02);
	EXPECT_EQ(fake_sdhci_bus_width(f), 4);

	w16(BLKSZ, 64);
	w16(BLKCNT, 1);
	w16(XFER, TM_READ);
	EXPECT_EQ(cmd(6, 0x80FFFFF1, R_48 | F_DATA), 0);
	ASSERT_TRUE(wait_nis(NI_BRR));
	for (int i = 0; i < 16; i++)
		words[i] = r32(DATA);
	memcpy(status, words, sizeof(status));
	EXPECT_TRUE(wait_nis(NI_TC));
	EXPECT_TRUE(status[13] & 0x02);  /* group 1 supports function 1 (bits 415:400) */
	EXPECT_EQ(status[16] & 0x0F, 1); /* group 1 switched to function 1 (bits 379:376) */
	EXPECT_TRUE(fake_sdhci_card_high_speed(f));
	w8(HOST1, 0x02 | 0x04);
	EXPECT_TRUE(fake_sdhci_high_speed(f));
	host_clock(0); /* 50 MHz */
	EXPECT_EQ(cmd(13, FAKE_SDHCI_RCA << 16, R_48), 0);
	EXPECT_EQ(fake_sdhci_violations(f), 0);

	/* Data with host and card widths apart is a violation. */
	w8(HOST1, 0x04);
	w16(BLKSZ, 8);
	EXPECT_EQ(cmd(55, FAKE_SDHCI_RCA << 16, R_48), 0);
	EXPECT_EQ(cmd(51, 0, R_48 | F_DATA), 0);
	EXPECT_EQ(fake_sdhci_violations(f), 1);
	EXPECT_CONTAINS(fake_sdhci_last_violation(f), "bus");
	teardown();
}

TEST(fake_sdhci, card_errors_in_r1)
{
	struct fake_card_cfg cfg = sdhc_cfg();

	cfg.write_protect = true;
	setup(&cfg);
	host_init();
	ASSERT_TRUE(identify(1u << 30));
	host_clock(1);
	EXPECT_FALSE(r32(PRESENT) & PS_WP_WRITABLE);
	w16(BLKSZ, 512);
	w16(BLKCNT, 1);
	w16(XFER, TM_READ);
	/* Out of range: R1 says so, no data comes, the controller reports a data timeout. */
	EXPECT_EQ(cmd(17, BLOCKS, R_48 | F_DATA), 0);
	EXPECT_EQ(r32(RESP0), CS_OUT_OF_RANGE | CS_STATE(4) | CS_READY);
	EXPECT_FALSE(wait_nis(NI_BRR));
	EXPECT_EQ(r16(EIS), EI_DTO);
	w16(EIS, EI_DTO);
	w8(RESET, 4);
	w16(XFER, 0);
	EXPECT_EQ(cmd(24, 0, R_48 | F_DATA), 0);
	EXPECT_EQ(r32(RESP0), CS_WP_VIOLATION | CS_STATE(4) | CS_READY);
	EXPECT_EQ(r16(EIS), EI_DTO);
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_TRAN);
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}

TEST(fake_sdhci, interrupt_line_follows_signal_enables)
{
	struct fake_card_cfg cfg = sdhc_cfg();

	setup(&cfg);
	host_init();
	EXPECT_EQ(cmd(0, 0, R_NONE), 0);
	w16(NIS_SIG, NI_CC);
	EXPECT_FALSE(fake_sdhci_irq(f));
	w32(ARG, 0);
	w16(CMD, 0);
	EXPECT_TRUE(fake_sdhci_irq(f));
	w16(NIS, NI_CC);
	EXPECT_FALSE(fake_sdhci_irq(f));
	/* A status bit that is not enabled is not latched at all. */
	w16(NIS_EN, 0);
	w16(CMD, 0);
	EXPECT_EQ(r16(NIS), 0);
	EXPECT_FALSE(fake_sdhci_irq(f));
	teardown();
}

TEST(fake_sdhci, narrow_accesses)
{
	struct fake_card_cfg cfg = sdhc_cfg();

	setup(&cfg);
	host_init();
	/* A byte write of the Command register's low half does not issue it. */
	w32(ARG, 0);
	w8(CMD, 0);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 0), 0);
	w8(CMD + 1, 0);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 0), 1);
	EXPECT_EQ(r32(NIS) & 0xFFFF, NI_CC); /* NIS in bits 15:0, EIS in 31:16 */
	w8(NIS, NI_CC);
	EXPECT_EQ(r8(NIS), 0);
	w16(BLKSZ, 0x1234);
	w16(BLKCNT, 0x0005);
	EXPECT_EQ(r32(BLKSZ), 0x00051234);
	EXPECT_EQ(r8(BLKSZ + 1), 0x12);
	EXPECT_EQ(r16(XFER), 0);
	teardown();
}

TEST(fake_sdhci, unmapped_access_aborts)
{
	int fds[2], status;
	char msg[200] = "";
	ssize_t n;
	pid_t pid;

	ASSERT_EQ(pipe(fds), 0);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		dup2(fds[1], 2);
		fake_mmio_unmap_all();
		mmio_read_32(0xDEAD0000u);
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	EXPECT_CONTAINS(msg, "outside every mapped region");
	EXPECT_CONTAINS(msg, "0xdead0000");
}

TEST(fake_sdhci, auto_cmd23_and_auto_cmd12_error)
{
	struct fake_card_cfg cfg = sdhc_cfg();
	uint32_t words[128];

	setup(&cfg);
	host_init();
	ASSERT_TRUE(identify(1u << 30));
	host_clock(1);
	/* Auto CMD23 (Argument 2 = count): the card stops by itself, no CMD12. */
	w16(BLKSZ, 512);
	w16(BLKCNT, 2);
	w32(ARG2, 2);
	w16(XFER, TM_READ | TM_BCE | 0x08 | TM_MULTI);
	EXPECT_EQ(cmd(18, 40, R_48 | F_DATA), 0);
	for (int b = 0; b < 2; b++) {
		ASSERT_TRUE(wait_nis(NI_BRR));
		read_block(words);
		EXPECT_MEMEQ(words, card + (40 + b) * 512, 512);
	}
	EXPECT_TRUE(wait_nis(NI_TC));
	EXPECT_EQ(fake_sdhci_cmd_count(f, 23), 1);
	EXPECT_EQ(fake_sdhci_last_arg(f, 23), 2);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 12), 0);
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_TRAN);

	/* An Auto CMD12 that times out: Auto CMD Error, the card left in data. */
	fake_sdhci_fail_cmd(f, 12, EI_CTO);
	w16(BLKCNT, 1);
	w16(XFER, TM_READ | TM_BCE | TM_AUTO12 | TM_MULTI);
	EXPECT_EQ(cmd(18, 0, R_48 | F_DATA), 0);
	ASSERT_TRUE(wait_nis(NI_BRR));
	read_block(words);
	EXPECT_TRUE(r16(NIS) & NI_ERR);
	EXPECT_EQ(r16(EIS), 0x0100);
	EXPECT_EQ(r16(ACMD_ERR), 0x0002); /* Auto CMD12 timeout */
	EXPECT_EQ(fake_sdhci_cmd_count(f, 12), 1);
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_DATA);
	w16(EIS, 0x0100);
	EXPECT_EQ(r16(ACMD_ERR), 0);
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}

TEST(fake_sdhci, host_mistakes_are_violations)
{
	struct fake_card_cfg cfg = sdhc_cfg();

	setup(&cfg);
	host_init();
	EXPECT_EQ(cmd(0, 0, R_NONE), 0);
	EXPECT_EQ(cmd(8, 0x1AA, R_48), 0);
	/* R3 carries no CRC: a host that checks it gets a CRC error. */
	EXPECT_EQ(cmd(55, 0, R_48), 0);
	EXPECT_EQ(cmd(41, 0x40FF8000, R_R3 | 0x08), 0x0002);
	w16(EIS, 0xFFFF);
	w8(RESET, 2);
	ASSERT_TRUE(identify(1u << 30));
	EXPECT_EQ(fake_sdhci_violations(f), 0);

	/* DMA Enable: refused. */
	w16(BLKSZ, 512);
	w16(BLKCNT, 1);
	w16(XFER, TM_READ | 0x01);
	w32(ARG, 0);
	w16(CMD, 17 << 8 | R_48 | F_DATA);
	EXPECT_EQ(fake_sdhci_violations(f), 1);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 17), 0);
	EXPECT_FALSE(r32(PRESENT) & PS_CMD_INHIBIT);

	/* A wrong response type, and an identification-speed card clocked at 25 MHz. */
	EXPECT_EQ(cmd(13, FAKE_SDHCI_RCA << 16, R_136), 0);
	EXPECT_EQ(fake_sdhci_violations(f), 2);
	EXPECT_CONTAINS(fake_sdhci_last_violation(f), "response type");
	EXPECT_EQ(cmd(0, 0, R_NONE), 0);
	host_clock(1);
	EXPECT_EQ(cmd(8, 0x1AA, R_48), 0);
	EXPECT_EQ(fake_sdhci_violations(f), 3);
	EXPECT_CONTAINS(fake_sdhci_last_violation(f), "Hz");
	teardown();
}

TEST(fake_sdhci, dma_multi_block_read)
{
	uint32_t ps;
	uint64_t caps;

	ASSERT_TRUE(dma_setup());
	caps = mmio_read_64(BASE + CAPS);
	EXPECT_TRUE(caps & (1u << 19));  /* ADMA2 */
	EXPECT_FALSE(caps & (1u << 22)); /* no SDMA */
	desc(TABLE, D_VALID | D_END | D_TRAN, 3 * 512, DMA_BUS + BUF);
	dma_issue(18, 20, 3, DMA_BUS + TABLE, TM_READ | TM_BCE | TM_AUTO12 | TM_MULTI);
	EXPECT_EQ(mem[BUF], 0xEE); /* nothing moves before a status read */
	/* The first status read sees Command Complete and a read under way, then the DMA runs. */
	ps = r32(PRESENT);
	EXPECT_TRUE(ps & PS_DAT_INHIBIT);
	EXPECT_TRUE(ps & PS_READ_XFER);
	EXPECT_FALSE(ps & PS_BRE); /* Buffer Read Enable is PIO's */
	EXPECT_MEMEQ(mem + BUF, card + 20 * 512, 3 * 512);
	EXPECT_EQ(mem[BUF + 3 * 512], 0xEE);
	EXPECT_EQ(r16(NIS), NI_CC | NI_TC); /* no Buffer Read Ready, ever */
	w16(NIS, NI_CC | NI_TC);
	EXPECT_EQ(r32(PRESENT) & (PS_DAT_INHIBIT | PS_READ_XFER), 0);
	EXPECT_EQ(r16(BLKCNT), 0);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 12), 1);
	EXPECT_EQ(r32(RESP3), CS_STATE(5) | CS_READY); /* Auto CMD12 found the card in data */
	EXPECT_EQ(r32(ADMA_LO), DMA_BUS + TABLE + 8);  /* the line after the End descriptor */
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_TRAN);
	EXPECT_EQ(fake_sdhci_dma_count(f), 1);
	EXPECT_EQ(fake_sdhci_violations(f), 0);

	/* PIO (DMA Enable 0) still works with DMA available, and does not count as DMA. */
	EXPECT_TRUE(pio_read_block_7());
	EXPECT_EQ(fake_sdhci_dma_count(f), 1);
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}

TEST(fake_sdhci, dma_write_split_over_descriptors_waits_for_busy)
{
	unsigned int low = 0;
	uint32_t ps;

	ASSERT_TRUE(dma_setup());
	for (unsigned int i = 0; i < 2 * 512; i++)
		mem[BUF + i] = (uint8_t)(0x3C ^ i);
	/* Blocks span descriptors; Nops are skipped; End on a trailing Nop (as Linux builds it). */
	desc(TABLE, D_VALID | D_TRAN, 256, DMA_BUS + BUF);
	desc(TABLE + 8, D_VALID | D_NOP, 0x1234, 0xDEADBEEC);
	desc(TABLE + 16, D_VALID | D_TRAN, 512, DMA_BUS + BUF + 256);
	desc(TABLE + 24, D_VALID | D_TRAN, 256, DMA_BUS + BUF + 768);
	desc(TABLE + 32, D_VALID | D_END | D_NOP, 0, 0);
	fake_sdhci_set_busy(f, 4);
	dma_issue(25, 60, 2, DMA_BUS + TABLE, TM_BCE | TM_AUTO12 | TM_MULTI);
	ps = r32(PRESENT); /* runs the DMA */
	EXPECT_TRUE(ps & PS_WRITE_XFER);
	EXPECT_FALSE(ps & PS_BWE); /* Buffer Write Enable is PIO's */
	EXPECT_TRUE(ps & PS_DAT0);
	EXPECT_MEMEQ(card + 60 * 512, mem + BUF, 2 * 512);
	/* Then the card is busy for 4 status reads, and Transfer Complete follows. */
	while (!(r32(PRESENT) & PS_DAT0) && low < 100)
		low++;
	EXPECT_EQ(low, 4);
	EXPECT_FALSE(r32(PRESENT) & PS_DAT_INHIBIT);
	EXPECT_EQ(r16(NIS), NI_CC | NI_TC); /* never Buffer Write Ready */
	EXPECT_EQ(r32(ADMA_LO), DMA_BUS + TABLE + 40);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 12), 1);
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_TRAN);
	EXPECT_EQ(fake_sdhci_dma_count(f), 1);
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}

TEST(fake_sdhci, dma_table_with_a_link_and_an_interrupt)
{
	ASSERT_TRUE(dma_setup());
	desc(TABLE, D_VALID | D_TRAN, 512, DMA_BUS + BUF);
	desc(TABLE + 8, D_VALID | D_LINK, 0, DMA_BUS + TABLE2);
	desc(TABLE + 16, 0, 0, 0); /* never fetched */
	desc(TABLE2, D_VALID | D_NOP, 0, 0);
	desc(TABLE2 + 8, D_VALID | D_INT | D_END | D_TRAN, 512, DMA_BUS + BUF + 2048);
	dma_issue(18, 100, 2, DMA_BUS + TABLE, TM_READ | TM_BCE | TM_AUTO12 | TM_MULTI);
	EXPECT_TRUE(wait_nis(NI_CC));
	EXPECT_EQ(r16(NIS), NI_DMA | NI_TC); /* Int: DMA Interrupt */
	EXPECT_MEMEQ(mem + BUF, card + 100 * 512, 512);
	EXPECT_MEMEQ(mem + BUF + 2048, card + 101 * 512, 512);
	EXPECT_EQ(mem[BUF + 512], 0xEE);
	EXPECT_EQ(r32(ADMA_LO), DMA_BUS + TABLE2 + 16);
	EXPECT_EQ(fake_sdhci_dma_count(f), 1);
	EXPECT_EQ(fake_sdhci_violations(f), 0);

	/* A descriptor length of 0 is 65536 bytes: 128 blocks. */
	w16(NIS, 0xFFFF);
	desc(TABLE, D_VALID | D_END | D_TRAN, 65536, DMA_BUS + BUF);
	dma_issue(18, 200, 128, DMA_BUS + TABLE, TM_READ | TM_BCE | TM_AUTO12 | TM_MULTI);
	EXPECT_TRUE(wait_nis(NI_CC));
	EXPECT_TRUE(wait_nis(NI_TC));
	EXPECT_MEMEQ(mem + BUF, card + 200 * 512, 65536);
	EXPECT_EQ(fake_sdhci_dma_count(f), 2);
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}

TEST(fake_sdhci, dma_runs_at_the_read_after_a_delayed_command_complete)
{
	ASSERT_TRUE(dma_setup());
	fake_sdhci_set_cmd_delay(f, 2);
	desc(TABLE, D_VALID | D_END | D_TRAN, 512, DMA_BUS + BUF);
	dma_issue(17, 9, 1, DMA_BUS + TABLE, TM_READ);
	EXPECT_EQ(r16(NIS), 0);
	EXPECT_EQ(r16(NIS), 0); /* the command completes at this read */
	EXPECT_EQ(mem[BUF], 0xEE);
	EXPECT_EQ(r16(NIS), NI_CC); /* the first read after Command Complete runs the DMA */
	EXPECT_MEMEQ(mem + BUF, card + 9 * 512, 512);
	EXPECT_EQ(r16(NIS), NI_CC | NI_TC);
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}

/* One wrongly built table for a 3-block DMA write to card block 30 from mem + BUF. */
struct adma_case {
	const char *name;
	uint32_t table, table_hi; /* ADMA System Address */
	struct {
		uint16_t attr;
		uint32_t len, addr;
	} d[3];               /* at mem + TABLE */
	unsigned int written; /* blocks that reach the card */
	uint8_t status;       /* ADMA Error Status */
	uint32_t adma_after;  /* ADMA System Address after the error */
};

#define T0        (DMA_BUS + TABLE)
#define TRAN(len) D_VALID | D_TRAN, (len), DMA_BUS + BUF
static const struct adma_case adma_cases[] = {
    {"table past the window", DMA_BUS + MEM_SIZE, 0, {{0}}, 0, AE_ST_FDS, DMA_BUS + MEM_SIZE},
    {"table below the window", DMA_BUS - 8, 0, {{0}}, 0, AE_ST_FDS, DMA_BUS - 8},
    {"descriptor crossing the window's end",
     DMA_BUS + MEM_SIZE - 4,
     0,
     {{0}},
     0,
     AE_ST_FDS,
     DMA_BUS + MEM_SIZE - 4},
    {"ADMA address bits 63:32 not 0",
     T0,
     1,
     {{D_VALID | D_TRAN | D_END, 1536, DMA_BUS + BUF}},
     0,
     AE_ST_FDS,
     T0},
    {"table misaligned",
     T0 + 2,
     0,
     {{D_VALID | D_TRAN | D_END, 1536, DMA_BUS + BUF}},
     0,
     AE_ST_FDS,
     T0 + 2},
    {"Valid 0 before End",
     T0,
     0,
     {{TRAN(512)}, {D_TRAN | D_END, 1024, DMA_BUS + BUF + 512}},
     1,
     AE_ST_FDS,
     T0 + 8},
    {"reserved Act",
     T0,
     0,
     {{TRAN(512)}, {D_VALID | D_RSV, 0, 0}, {D_VALID | D_TRAN | D_END, 1024, DMA_BUS + BUF}},
     1,
     AE_ST_FDS,
     T0 + 8},
    {"data past the window",
     T0,
     0,
     {{TRAN(512)}, {D_VALID | D_TRAN | D_END, 1024, DMA_BUS + MEM_SIZE}},
     1,
     AE_ST_TFR,
     T0 + 16},
    {"data crossing the window's end",
     T0,
     0,
     {{TRAN(512)}, {D_VALID | D_TRAN | D_END, 1024, DMA_BUS + MEM_SIZE - 512}},
     1,
     AE_ST_TFR,
     T0 + 16},
    {"data misaligned",
     T0,
     0,
     {{TRAN(512)}, {D_VALID | D_TRAN | D_END, 1024, DMA_BUS + BUF + 514}},
     1,
     AE_ST_TFR,
     T0 + 16},
    {"error in the middle of a block",
     T0,
     0,
     {{TRAN(768)}, {D_VALID | D_TRAN | D_END, 768, DMA_BUS + 2}},
     1,
     AE_ST_TFR,
     T0 + 16},
    {"End with too few bytes",
     T0,
     0,
     {{TRAN(512)}, {D_VALID | D_TRAN | D_END, 512, DMA_BUS + BUF + 512}},
     2,
     AE_ST_STOP | AE_LEN,
     T0 + 16},
    {"more bytes than the transfer",
     T0,
     0,
     {{TRAN(512)}, {D_VALID | D_TRAN | D_END, 1536, DMA_BUS + BUF + 512}},
     1,
     AE_ST_TFR | AE_LEN,
     T0 + 16},
    {"Link to a misaligned table",
     T0,
     0,
     {{TRAN(512)}, {D_VALID | D_LINK, 0, DMA_BUS + TABLE2 + 2}},
     1,
     AE_ST_FDS,
     DMA_BUS + TABLE2 + 2},
    {"Link loop", T0, 0, {{TRAN(512)}, {D_VALID | D_LINK, 0, T0 + 8}}, 1, AE_ST_FDS, T0 + 8},
};
#undef TRAN
#undef T0

TEST(fake_sdhci, adma_errors_stop_the_transfer)
{
	for (size_t i = 0; i < sizeof(adma_cases) / sizeof(adma_cases[0]); i++) {
		const struct adma_case *c = &adma_cases[i];
		bool failed = test_current_failed();
		uint8_t before[3 * 512];

		ASSERT_TRUE(dma_setup());
		for (unsigned int b = 0; b < 3 * 512; b++)
			mem[BUF + b] = (uint8_t)(0x96 ^ b ^ b >> 9);
		memcpy(before, card + 30 * 512, sizeof(before));
		for (int d = 0; d < 3; d++)
			desc(TABLE + 8 * d, c->d[d].attr, c->d[d].len, c->d[d].addr);
		w32(ADMA_HI, c->table_hi);
		dma_issue(25, 30, 3, c->table, TM_BCE | TM_AUTO12 | TM_MULTI);
		EXPECT_TRUE(wait_nis(NI_CC));
		EXPECT_TRUE(r16(NIS) & NI_ERR);
		EXPECT_EQ(r16(EIS), EI_ADMA);
		EXPECT_EQ(r8(ADMA_ERR), c->status);
		EXPECT_EQ(r32(ADMA_LO), c->adma_after);
		EXPECT_FALSE(r16(NIS) & NI_TC);
		EXPECT_TRUE(r32(PRESENT) & PS_DAT_INHIBIT);
		EXPECT_MEMEQ(card + 30 * 512, mem + BUF, c->written * 512);
		EXPECT_MEMEQ(card + (30 + c->written) * 512, before + c->written * 512,
		             (3 - c->written) * 512);
		EXPECT_EQ(fake_sdhci_cmd_count(f, 12), 0); /* no Auto CMD12 after an error */
		EXPECT_EQ(fake_sdhci_dma_count(f), 1);
		EXPECT_EQ(fake_sdhci_violations(f), 0);
		EXPECT_TRUE(r32(PRESENT) & PS_DAT_INHIBIT); /* until the DAT line reset */
		recover(EI_ADMA);
		if (!failed && test_current_failed())
			test_fail(__FILE__, __LINE__, "in case \"%s\"", c->name);
	}
	teardown();
}

TEST(fake_sdhci, adma_error_on_a_read_leaves_memory_past_it)
{
	ASSERT_TRUE(dma_setup());
	desc(TABLE, D_VALID | D_TRAN, 512, DMA_BUS + BUF);
	desc(TABLE + 8, D_VALID | D_TRAN | D_END, 1024, DMA_BUS + MEM_SIZE - 512);
	dma_issue(18, 40, 3, DMA_BUS + TABLE, TM_READ | TM_BCE | TM_AUTO12 | TM_MULTI);
	EXPECT_TRUE(wait_nis(NI_CC));
	EXPECT_EQ(r16(EIS), EI_ADMA);
	EXPECT_EQ(r8(ADMA_ERR), AE_ST_TFR);
	EXPECT_MEMEQ(mem + BUF, card + 40 * 512, 512);
	EXPECT_EQ(mem[BUF + 512], 0xEE);
	EXPECT_EQ(mem[MEM_SIZE - 512], 0xEE);
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_DATA);
	recover(EI_ADMA);
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}

TEST(fake_sdhci, dma_mistakes_are_violations)
{
	static const uint8_t selects[] = {0, 1, 3}; /* SDMA, reserved, ADMA2 64-bit */

	ASSERT_TRUE(dma_setup());
	desc(TABLE, D_VALID | D_END | D_TRAN, 512, DMA_BUS + BUF);
	for (unsigned int i = 0; i < sizeof(selects); i++) {
		w8(HOST1, (uint8_t)(selects[i] << 3));
		dma_issue(17, 0, 1, DMA_BUS + TABLE, TM_READ);
		EXPECT_EQ(fake_sdhci_violations(f), i + 1);
		EXPECT_CONTAINS(fake_sdhci_last_violation(f), "DMA Select");
		EXPECT_EQ(r32(PRESENT) & (PS_CMD_INHIBIT | PS_DAT_INHIBIT), 0);
	}
	EXPECT_EQ(fake_sdhci_cmd_count(f, 17), 0);
	EXPECT_EQ(fake_sdhci_dma_count(f), 0);
	EXPECT_EQ(mem[BUF], 0xEE);

	/* The Buffer Data Port during a DMA transfer. */
	w8(HOST1, HC_ADMA32);
	dma_issue(24, 0, 1, DMA_BUS + TABLE, 0);
	w32(DATA, 0);
	EXPECT_EQ(fake_sdhci_violations(f), 4);
	EXPECT_CONTAINS(fake_sdhci_last_violation(f), "during a DMA");
	EXPECT_TRUE(wait_nis(NI_CC));
	EXPECT_TRUE(wait_nis(NI_TC));
	EXPECT_MEMEQ(card, mem + BUF, 512);

	/* An R1 error: no data moves, a data timeout as with PIO, and no DMA counted. */
	memset(mem + BUF, 0xEE, 512);
	dma_issue(17, BLOCKS, 1, DMA_BUS + TABLE, TM_READ);
	EXPECT_TRUE(wait_nis(NI_CC));
	EXPECT_EQ(r16(EIS), EI_DTO);
	EXPECT_EQ(mem[BUF], 0xEE);
	EXPECT_EQ(fake_sdhci_dma_count(f), 1);
	EXPECT_EQ(fake_sdhci_violations(f), 4);
	teardown();
}

TEST(fake_sdhci, dma_data_crc_error_behaves_like_pio)
{
	uint8_t before[3 * 512];

	/* Read: block 0 lands, block 1 fails, nothing after it; no ADMA error. */
	ASSERT_TRUE(dma_setup());
	fake_sdhci_fail_data(f, 1, EI_DCRC);
	desc(TABLE, D_VALID | D_END | D_TRAN, 3 * 512, DMA_BUS + BUF);
	dma_issue(18, 0, 3, DMA_BUS + TABLE, TM_READ | TM_BCE | TM_AUTO12 | TM_MULTI);
	EXPECT_TRUE(wait_nis(NI_CC));
	EXPECT_EQ(r16(EIS), EI_DCRC);
	EXPECT_FALSE(r16(NIS) & NI_TC);
	EXPECT_TRUE(r32(PRESENT) & PS_DAT_INHIBIT);
	EXPECT_MEMEQ(mem + BUF, card, 512);
	EXPECT_EQ(mem[BUF + 512], 0xEE);
	EXPECT_EQ(mem[BUF + 1024], 0xEE);
	EXPECT_EQ(fake_sdhci_cmd_count(f, 12), 0);
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_DATA);
	recover(EI_DCRC);
	EXPECT_EQ(fake_sdhci_dma_count(f), 1);

	/* Write: block 0 stored, block 1 not, nor block 2. */
	for (unsigned int i = 0; i < 3 * 512; i++)
		mem[BUF + i] = (uint8_t)(0x69 ^ i);
	memcpy(before, card + 50 * 512, sizeof(before));
	fake_sdhci_fail_data(f, 1, EI_DCRC);
	dma_issue(25, 50, 3, DMA_BUS + TABLE, TM_BCE | TM_AUTO12 | TM_MULTI);
	EXPECT_TRUE(wait_nis(NI_CC));
	EXPECT_EQ(r16(EIS), EI_DCRC);
	EXPECT_FALSE(r16(NIS) & NI_TC);
	EXPECT_MEMEQ(card + 50 * 512, mem + BUF, 512);
	EXPECT_MEMEQ(card + 51 * 512, before + 512, 2 * 512);
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_RCV);
	recover(EI_DCRC);
	EXPECT_EQ(fake_sdhci_dma_count(f), 2);
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}

TEST(fake_sdhci, dma_open_ended_read_waits_for_cmd12)
{
	ASSERT_TRUE(dma_setup());
	desc(TABLE, D_VALID | D_END | D_TRAN, 2 * 512, DMA_BUS + BUF);
	dma_issue(18, 10, 0, DMA_BUS + TABLE, TM_READ | TM_MULTI);
	EXPECT_TRUE(wait_nis(NI_CC));
	EXPECT_FALSE(wait_nis(NI_TC)); /* the table's blocks moved; the card still sends */
	EXPECT_MEMEQ(mem + BUF, card + 10 * 512, 2 * 512);
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_DATA);
	EXPECT_EQ(cmd(12, 0, R_48B | F_ABORT), 0);
	EXPECT_TRUE(wait_nis(NI_TC));
	EXPECT_EQ(fake_sdhci_card_state(f), FAKE_CARD_TRAN);
	EXPECT_EQ(fake_sdhci_violations(f), 0);

	/* A table that does not end on a block boundary: length mismatch. */
	desc(TABLE, D_VALID | D_END | D_TRAN, 700, DMA_BUS + BUF);
	dma_issue(18, 10, 0, DMA_BUS + TABLE, TM_READ | TM_MULTI);
	EXPECT_TRUE(wait_nis(NI_CC));
	EXPECT_EQ(r16(EIS), EI_ADMA);
	EXPECT_EQ(r8(ADMA_ERR), AE_ST_STOP | AE_LEN);
	recover(EI_ADMA);
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}

TEST(fake_sdhci, reset_all_clears_dma_select)
{
	ASSERT_TRUE(dma_setup());
	desc(TABLE, D_VALID | D_END | D_TRAN, 512, DMA_BUS + BUF);
	dma_issue(17, 3, 1, DMA_BUS + MEM_SIZE, TM_READ); /* an ADMA error, to set 0x54 */
	EXPECT_TRUE(wait_nis(NI_CC));
	EXPECT_EQ(r8(ADMA_ERR), AE_ST_FDS);
	w32(ADMA_LO, 0x12345678);
	w32(ADMA_HI, 0x9);
	EXPECT_EQ(r8(HOST1), HC_ADMA32);
	EXPECT_EQ(r32(ADMA_HI), 0x9);

	w8(RESET, 1);
	while (r8(RESET) & 1)
		;
	EXPECT_EQ(r8(HOST1), 0);
	EXPECT_EQ(r32(ADMA_LO), 0);
	EXPECT_EQ(r32(ADMA_HI), 0);
	EXPECT_EQ(r8(ADMA_ERR), 0);
	EXPECT_TRUE(mmio_read_64(BASE + CAPS) & (1u << 19));

	/* The window stays: after initialising again, DMA works. */
	host_init();
	ASSERT_TRUE(identify(1u << 30));
	host_clock(1);
	w8(HOST1, HC_ADMA32);
	dma_issue(17, 3, 1, DMA_BUS + TABLE, TM_READ);
	EXPECT_TRUE(wait_nis(NI_CC));
	EXPECT_TRUE(wait_nis(NI_TC));
	EXPECT_MEMEQ(mem + BUF, card + 3 * 512, 512);
	EXPECT_EQ(fake_sdhci_dma_count(f), 2);
	EXPECT_EQ(fake_sdhci_violations(f), 0);
	teardown();
}
