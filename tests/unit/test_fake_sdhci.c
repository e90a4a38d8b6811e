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
#define TM_BCE    0x02
#define TM_AUTO12 0x04
#define TM_READ   0x10
#define TM_MULTI  0x20

/* Present State. */
#define PS_CMD_INHIBIT (1u << 0)
#define PS_DAT_INHIBIT (1u << 1)
#define PS_BWE         (1u << 10)
#define PS_BRE         (1u << 11)
#define PS_INSERTED    (1u << 16)
#define PS_WP_WRITABLE (1u << 19)
#define PS_DAT0        (1u << 20)

/* Interrupt status. */
#define NI_CC   0x0001
#define NI_TC   0x0002
#define NI_BWR  0x0010
#define NI_BRR  0x0020
#define NI_REM  0x0080
#define NI_ERR  0x8000
#define EI_CTO  0x0001
#define EI_DCRC 0x0020
#define EI_DTO  0x0010

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

static void write_block(const uint8_t *src)
{
	for (int i = 0; i < 128; i++) {
		uint32_t v;

		memcpy(&v, src + 4 * i, 4);
		w32(DATA, v);
	}
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
	w16(BLKCNT, 1);
	w16(XFER, TM_READ);
	EXPECT_EQ(cmd(17, 7, R_48 | F_DATA), 0);
	ASSERT_TRUE(wait_nis(NI_BRR));
	read_block(words);
	EXPECT_MEMEQ(words, card + 7 * 512, 512);
	EXPECT_TRUE(wait_nis(NI_TC));
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
