/*
 * The fake SD host controller and card (see fake_sdhci.h). Registers are a 256-byte file
 * (SDHCI v3.00 §2.1) in which most registers are plain storage; the ones with side effects
 * (data port, Present State, Clock Control, Software Reset, interrupt status, Command) are
 * handled whole, whatever the width and offset of the access that reaches them.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/fake_mmio.h"
#include "tests/unit/fake_sdhci.h"

/* Register offsets (SDHCI v3.00 §2.1). */
#define REG_ARG2        0x00
#define REG_BLKSZ       0x04
#define REG_BLKCNT      0x06
#define REG_ARG         0x08
#define REG_XFER        0x0C
#define REG_CMD         0x0E
#define REG_RESP        0x10
#define REG_DATA        0x20
#define REG_PRESENT     0x24
#define REG_HOST1       0x28
#define REG_POWER       0x29
#define REG_CLOCK       0x2C
#define REG_TIMEOUT     0x2E
#define REG_RESET       0x2F
#define REG_NIS         0x30
#define REG_EIS         0x32
#define REG_NIS_EN      0x34
#define REG_EIS_EN      0x36
#define REG_NIS_SIG     0x38
#define REG_EIS_SIG     0x3A
#define REG_ACMD_ERR    0x3C
#define REG_HOST2       0x3E
#define REG_CAPS        0x40
#define REG_MAX_CURRENT 0x48
#define REG_FORCE_ACMD  0x50
#define REG_FORCE_ERR   0x52
#define REG_ADMA_ERR    0x54
#define REG_ADMA_LO     0x58
#define REG_ADMA_HI     0x5C
#define REG_SLOT_INT    0xFC
#define REG_VERSION     0xFE

/* Transfer Mode (§2.2.5) and Command (§2.2.6). */
#define XFER_DMA      (1u << 0)
#define XFER_BCE      (1u << 1)
#define XFER_AUTO12   (1u << 2)
#define XFER_AUTO23   (2u << 2)
#define XFER_READ     (1u << 4)
#define XFER_MULTI    (1u << 5)
#define CMD_RESP_MASK 3u
#define CMD_CRC       (1u << 3)
#define CMD_INDEX     (1u << 4)
#define CMD_DATA      (1u << 5)
#define CMD_ABORT     (3u << 6)

/* Response Type Select values. */
enum rt { RT_NONE, RT_136, RT_48, RT_48_BUSY };

/* Clock Control (§2.2.14), Software Reset (§2.2.16), Power Control (§2.2.11). */
#define CLK_INT_EN   (1u << 0)
#define CLK_STABLE   (1u << 1)
#define CLK_SD_EN    (1u << 2)
#define CLK_DIV_MASK 0xFFC0u
#define RESET_ALL    (1u << 0)
#define RESET_CMD    (1u << 1)
#define RESET_DAT    (1u << 2)
#define POWER_ON     (1u << 0)
#define POWER_3V3    (7u << 1)
#define HOST1_4BIT   (1u << 1)
#define HOST1_HS     (1u << 2)
#define HOST1_8BIT   (1u << 5)

/* Host Control 1's DMA Select (§2.2.10): the only one the fake runs is ADMA2 32-bit. */
#define HOST1_DMA_SEL(v) ((v) >> 3 & 3u)
#define DMA_SEL_ADMA32   2u

/* Normal and Error Interrupt Status (§2.2.17, §2.2.18). */
#define NIS_CC        (1u << 0)
#define NIS_TC        (1u << 1)
#define NIS_DMA       (1u << 3)
#define NIS_BWR       (1u << 4)
#define NIS_BRR       (1u << 5)
#define NIS_REMOVAL   (1u << 7)
#define NIS_ERR       (1u << 15)
#define NIS_DAT_BITS  0x003Eu /* what a DAT line reset clears */
#define EIS_CMD_TIME  (1u << 0)
#define EIS_CMD_CRC   (1u << 1)
#define EIS_CMD_INDEX (1u << 3)
#define EIS_DAT_TIME  (1u << 4)
#define EIS_AUTO_CMD  (1u << 8)
#define EIS_ADMA      (1u << 9)

/* ADMA Error Status (§2.2.30) and ADMA2 32-bit descriptors (§1.13.4). */
#define ADMA_ST_STOP   0u
#define ADMA_ST_FDS    1u
#define ADMA_ST_TFR    3u
#define ADMA_LEN_ERR   (1u << 2)
#define DESC_VALID     (1u << 0)
#define DESC_END       (1u << 1)
#define DESC_INT       (1u << 2)
#define DESC_ACT(attr) ((attr) >> 4 & 3u)
#define DESC_ACT_RSV   1u
#define DESC_ACT_TRAN  2u
#define DESC_ACT_LINK  3u

/*
 * Capabilities (§2.2.26): timeout clock 50 MHz (unit MHz), base clock 50 MHz, 512-byte max
 * block, high speed, 3.3 V; no 8-bit bus, no SDMA; ADMA2 once fake_sdhci_enable_dma is called.
 */
#define CAPS_VALUE (0x32u | 1u << 7 | 0x32u << 8 | 1u << 21 | 1u << 24)
#define CAPS_ADMA2 (1u << 19)

/* Card status bits (SD v6.00 §4.10.1). */
#define ST_OUT_OF_RANGE    (1u << 31)
#define ST_ADDRESS_ERROR   (1u << 30)
#define ST_BLOCK_LEN_ERROR (1u << 29)
#define ST_ERASE_SEQ_ERROR (1u << 28)
#define ST_ERASE_PARAM     (1u << 27)
#define ST_WP_VIOLATION    (1u << 26)
#define ST_ILLEGAL_COMMAND (1u << 22)
#define ST_WP_ERASE_SKIP   (1u << 15)
#define ST_READY_FOR_DATA  (1u << 8)
#define ST_APP_CMD         (1u << 5)

#define OCR_BUSY    (1u << 31) /* set: power-up done */
#define OCR_CCS     (1u << 30)
#define OCR_VOLTAGE 0x00FF8000u /* 2.7-3.6 V */
#define BLOCK       512u

/* What the card answered, as the controller needs it. */
enum resp_kind { RESP_NONE, RESP_R1, RESP_R1B, RESP_R2, RESP_R3, RESP_R6, RESP_R7 };

struct card_reply {
	enum resp_kind kind;
	uint32_t word;     /* the 32 bits of a 48-bit response */
	const uint8_t *r2; /* the CID or CSD, bits 127:0 big-endian */
	bool data;         /* a command with a data phase */
	bool moving;       /* ... and the card now sends (read) or expects the data */
	bool read, multi;  /* ... in this direction, as a multiple-block command */
	uint32_t len;      /* ... in blocks of this many bytes */
	bool programs;     /* an R1b command after which the card programs (may be busy) */
};

/* The controller's data transfer in progress. */
struct xfer {
	bool active, read;
	bool open;    /* multi-block without Block Count Enable: until CMD12 */
	bool counted; /* Block Count Enable: the register counts down */
	bool auto12;
	uint32_t len, pos;  /* block length, bytes moved through the port in this block */
	bool ready;         /* a block (read) or room for one (write) is in the buffer */
	unsigned int block; /* blocks finished */
	unsigned int left;  /* blocks to go unless open */
	unsigned int fail_block;
	uint16_t fail_bits;
	bool dma;          /* moved by ADMA2, not through the data port */
	uint64_t dma_left; /* bytes the descriptor table may still move (UINT64_MAX if open) */
	uint8_t buf[BLOCK];
};

struct fake_sdhci {
	uintptr_t base;
	uint8_t *data;
	struct fake_card_cfg cfg;
	uint8_t regs[FAKE_SDHCI_SIZE];

	/* controller */
	bool cmd_inhibit, dat_inhibit;
	bool dat_error;   /* a data error holds DAT inhibit until a DAT line reset */
	bool dto_pending; /* a data timeout shows from the next status read on */
	bool clock_stable;
	uint8_t reset_shown;              /* Software Reset bits that read as 1 once */
	uint32_t cmdreg, mode, arg, arg2; /* the registers as the last command was issued */
	bool cmd_pending;
	unsigned int cmd_wait, cmd_delay;
	struct xfer xfer;
	bool busy, busy_tc; /* DAT0 low; Transfer Complete waits for its end */
	unsigned int busy_left, busy_armed;

	/* DMA (fake_sdhci_enable_dma): bus addresses [dma_bus, dma_bus + dma_size) are dma_mem */
	uint8_t *dma_mem;
	uint64_t dma_bus;
	size_t dma_size;
	uint32_t adma_addr, adma_addr_hi; /* ADMA System Address as the last command was issued */
	bool dma_pending;                 /* the ADMA2 engine runs at the next status read */
	unsigned int dma_count;

	/* card */
	bool present;
	enum fake_card_state state;
	uint16_t rca;
	bool app_cmd, cmd8_ok, hs;
	unsigned int acmd41_polls, width;
	uint32_t status_err; /* errors for the next response */
	uint32_t blocklen, preset_count;
	uint64_t next_block;
	unsigned int card_left; /* blocks the card still moves; 0 = until CMD12 */
	uint8_t payload[64];
	uint32_t payload_len;
	uint64_t erase_start, erase_end;
	bool erase_start_set, erase_end_set;
	uint8_t cid[16], csd[16];

	/* injections and accounting */
	uint16_t fail_cmd[128];
	unsigned int fail_block;
	uint16_t fail_bits;
	unsigned int cmd_count[128];
	uint32_t last_arg[128];
	unsigned int resets[3];
	unsigned int violations;
	char violation[160];
};

static void die(const char *msg)
{
	fprintf(stderr, "fake_sdhci: %s\n", msg);
	abort();
}

static uint32_t get(const struct fake_sdhci *f, uint32_t reg, unsigned int width)
{
	uint32_t v = 0;

	for (unsigned int i = width; i-- > 0;)
		v = v << 8 | f->regs[reg + i];
	return v;
}

static void put(struct fake_sdhci *f, uint32_t reg, unsigned int width, uint32_t v)
{
	for (unsigned int i = 0; i < width; i++)
		f->regs[reg + i] = (uint8_t)(v >> 8 * i);
}

/* Sets bits hi:lo of a big-endian bit string of n bytes (CID, CSD, SCR, status blocks). */
static void bits_put(uint8_t *b, unsigned int n, unsigned int hi, unsigned int lo, uint32_t v)
{
	for (unsigned int i = lo; i <= hi; i++) {
		uint8_t m = (uint8_t)(1u << (i % 8));

		if (v >> (i - lo) & 1)
			b[n - 1 - i / 8] |= m;
		else
			b[n - 1 - i / 8] &= (uint8_t)~m;
	}
}

static void violation(struct fake_sdhci *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void violation(struct fake_sdhci *f, const char *fmt, ...)
{
	va_list ap;

	f->violations++;
	va_start(ap, fmt);
	vsnprintf(f->violation, sizeof(f->violation), fmt, ap);
	va_end(ap);
}

/* Latches status bits, as far as the Status Enable registers let them (§2.2.19, §2.2.20). */
static void sdhci_raise(struct fake_sdhci *f, uint16_t bits)
{
	put(f, REG_NIS, 2, get(f, REG_NIS, 2) | (bits & get(f, REG_NIS_EN, 2) & 0x7FFF));
}

static void sdhci_raise_err(struct fake_sdhci *f, uint16_t bits)
{
	put(f, REG_EIS, 2, get(f, REG_EIS, 2) | (bits & get(f, REG_EIS_EN, 2)));
}

static uint32_t clock_hz(const struct fake_sdhci *f)
{
	uint32_t clk = get(f, REG_CLOCK, 2);
	uint32_t n = (clk >> 8 & 0xFF) | (clk >> 6 & 3) << 8;

	if (!(clk & CLK_INT_EN) || !(clk & CLK_SD_EN) || !f->clock_stable)
		return 0;
	return n ? FAKE_SDHCI_BASE_HZ / (2 * n) : FAKE_SDHCI_BASE_HZ;
}

/* ---- the card ---------------------------------------------------------------------------- */

/* CMD0 and power-up: everything but the contents back to defaults (SD v6.00 §4.2.1). */
static void card_go_idle(struct fake_sdhci *f)
{
	f->state = FAKE_CARD_IDLE;
	f->rca = 0;
	f->app_cmd = f->cmd8_ok = f->hs = false;
	f->acmd41_polls = 0;
	f->width = 1;
	f->status_err = 0;
	f->blocklen = BLOCK;
	f->preset_count = 0;
	f->card_left = 0;
	f->payload_len = 0;
	f->erase_start_set = f->erase_end_set = false;
}

static void card_power_off(struct fake_sdhci *f)
{
	card_go_idle(f);
	f->state = FAKE_CARD_OFF;
	f->busy = f->busy_tc = false;
}

/* The programming that held the card in prg (or dis) is over. */
static void card_prog_done(struct fake_sdhci *f)
{
	if (f->busy)
		return;
	if (f->state == FAKE_CARD_PRG)
		f->state = FAKE_CARD_TRAN;
	else if (f->state == FAKE_CARD_DIS)
		f->state = FAKE_CARD_STBY;
}

/* Turns an address argument into a block number (SD v6.00 §4.3.14: SDSC uses bytes). */
static uint32_t card_block_of(const struct fake_sdhci *f, uint32_t arg, bool aligned,
                              uint64_t *block)
{
	if (!f->cfg.sdhc && aligned && arg % BLOCK != 0)
		return ST_ADDRESS_ERROR;
	*block = f->cfg.sdhc ? arg : arg / BLOCK;
	return *block < f->cfg.blocks ? 0 : ST_OUT_OF_RANGE;
}

/* Card status for an R1 (SD v6.00 §4.10.1): CURRENT_STATE is the state the command found. */
static uint32_t card_status(struct fake_sdhci *f, enum fake_card_state was, uint32_t errors,
                            bool app)
{
	uint32_t s = f->status_err | errors | (uint32_t)was << 9;

	f->status_err = 0;
	if (f->state != FAKE_CARD_PRG && !f->busy)
		s |= ST_READY_FOR_DATA;
	if (app)
		s |= ST_APP_CMD;
	return s;
}

static void card_r1(struct fake_sdhci *f, struct card_reply *r, enum resp_kind kind,
                    enum fake_card_state was, uint32_t errors, bool app)
{
	r->kind = kind;
	r->word = card_status(f, was, errors, app);
}

/* A data command: unless refused, the card now sends (read) or takes blocks of len bytes. */
static void card_data(struct fake_sdhci *f, struct card_reply *r, bool read, bool multi,
                      uint32_t len, bool refused)
{
	if (!refused)
		f->state = read ? FAKE_CARD_DATA : FAKE_CARD_RCV;
	r->data = true;
	r->moving = !refused;
	r->read = read;
	r->multi = multi;
	r->len = len;
}

/* CMD6 (SD v6.00 §4.3.10): function group 1 offers 0 (default) and 1 (high speed). */
static void card_switch(struct fake_sdhci *f, uint32_t arg)
{
	uint8_t *s = f->payload;
	bool ok = true;

	memset(s, 0, 64);
	bits_put(s, 64, 511, 496, 100); /* max current, mA */
	for (unsigned int g = 0; g < 6; g++) {
		unsigned int req = arg >> (4 * g) & 0xF;
		unsigned int now = g == 0 && f->hs ? 1 : 0, sel;

		bits_put(s, 64, 415 + 16 * g, 400 + 16 * g, g == 0 ? 0x8003 : 0x8001);
		if (req == 0xF)
			sel = now;
		else if (req == 0 || (g == 0 && req == 1))
			sel = req;
		else
			sel = 0xF, ok = false;
		bits_put(s, 64, 379 + 4 * g, 376 + 4 * g, sel);
	}
	bits_put(s, 64, 375, 368, 1); /* data structure version */
	if (ok && arg >> 31)
		f->hs = (s[16] & 0xF) == 1;
	f->payload_len = 64;
}

/* ACMD51's SCR (SD v6.00 §5.6). */
static void card_scr(struct fake_sdhci *f)
{
	memset(f->payload, 0, 8);
	bits_put(f->payload, 8, 59, 56, f->cfg.v1 ? 1 : 2);
	bits_put(f->payload, 8, 55, 55, f->cfg.erase_value == 0xFF);
	bits_put(f->payload, 8, 54, 52, f->cfg.sdhc ? 3 : 2);
	bits_put(f->payload, 8, 51, 48, 0x5); /* 1 and 4 bits */
	bits_put(f->payload, 8, 47, 47, !f->cfg.v1);
	bits_put(f->payload, 8, 33, 32, f->cfg.v1 ? 0 : 2); /* CMD23 */
	f->payload_len = 8;
}

/* ACMD41 (SD v6.00 §4.2.3): R3 with the OCR, busy for acmd41_busy_polls answers. */
static void card_acmd41(struct fake_sdhci *f, uint32_t arg, struct card_reply *r)
{
	bool ready = false;

	if (arg & 0x00FFFFFF) {
		if (!(arg & OCR_VOLTAGE)) {
			f->state = FAKE_CARD_INA;
			return;
		}
		if (f->acmd41_polls < f->cfg.acmd41_busy_polls)
			f->acmd41_polls++;
		else if (!f->cfg.sdhc || (f->cmd8_ok && (arg & OCR_CCS)))
			ready = true; /* an SDHC card never gets ready for a host without HCS */
	}
	if (ready)
		f->state = FAKE_CARD_READY;
	r->kind = RESP_R3;
	r->word = OCR_VOLTAGE | (ready ? OCR_BUSY : 0) | (ready && f->cfg.sdhc ? OCR_CCS : 0);
}

/* CMD17/18/24/25 (SD v6.00 §4.3.3, §4.3.4): no data if the R1 reports an error. */
static void card_rw(struct fake_sdhci *f, unsigned int cmd, uint32_t arg, struct card_reply *r,
                    enum fake_card_state was)
{
	bool read = cmd == 17 || cmd == 18, multi = cmd == 18 || cmd == 25;
	uint32_t err = f->blocklen != BLOCK ? ST_BLOCK_LEN_ERROR : 0;
	uint64_t block = 0;

	if (!err)
		err = card_block_of(f, arg, true, &block);
	if (!err && !read && f->cfg.write_protect)
		err = ST_WP_VIOLATION;
	if (!err) {
		f->next_block = block;
		f->card_left = multi ? f->preset_count : 1;
	}
	card_data(f, r, read, multi, BLOCK, err != 0);
	f->preset_count = 0;
	card_r1(f, r, RESP_R1, was, err, false);
}

/* CMD38 (SD v6.00 §4.3.5): erases the range CMD32 and CMD33 set. */
static void card_erase(struct fake_sdhci *f, struct card_reply *r, enum fake_card_state was)
{
	uint32_t err = 0;

	if (!f->erase_start_set || !f->erase_end_set)
		err = ST_ERASE_SEQ_ERROR;
	else if (f->erase_end < f->erase_start)
		err = ST_ERASE_PARAM;
	else if (f->cfg.write_protect)
		err = ST_WP_ERASE_SKIP;
	if (!err) {
		memset(f->data + f->erase_start * BLOCK, f->cfg.erase_value,
		       (f->erase_end - f->erase_start + 1) * BLOCK);
		f->state = FAKE_CARD_PRG;
		r->programs = true;
	}
	f->erase_start_set = f->erase_end_set = false;
	card_r1(f, r, RESP_R1B, was, err, false);
}

static bool card_is_acmd(const struct fake_sdhci *f, unsigned int cmd)
{
	return f->app_cmd && (cmd == 6 || cmd == 13 || cmd == 22 || cmd == 23 || cmd == 41 ||
	                      cmd == 42 || cmd == 51);
}

/*
 * The card acts on one command (SD v6.00 §4.3, state table §4.8) and says what it answered;
 * an unknown command or one illegal in the card's state gets no answer.
 */
static void card_command(struct fake_sdhci *f, unsigned int cmd, uint32_t arg, struct card_reply *r)
{
	enum fake_card_state was = f->state;
	bool app = card_is_acmd(f, cmd), mine = f->rca != 0 && arg >> 16 == f->rca;
	bool ident = was <= FAKE_CARD_IDENT;
	uint32_t limit = ident ? 400000 : f->hs ? 50000000 : 25000000, hz = clock_hz(f);
	uint64_t block;

	memset(r, 0, sizeof(*r));
	if (!f->present || was == FAKE_CARD_OFF || was == FAKE_CARD_INA || hz == 0)
		return;
	if (hz > limit)
		violation(f, "CMD%u at %u Hz, over the card's %u Hz in state %u", cmd, hz, limit,
		          was);
	f->app_cmd = false;
	switch (app ? FAKE_SDHCI_ACMD(cmd) : cmd) {
	case 0:
		card_go_idle(f);
		return;
	case 2:
		if (was != FAKE_CARD_READY)
			break;
		f->state = FAKE_CARD_IDENT;
		r->kind = RESP_R2;
		r->r2 = f->cid;
		return;
	case 3:
		if (was != FAKE_CARD_IDENT && was != FAKE_CARD_STBY)
			break;
		f->state = FAKE_CARD_STBY;
		f->rca = FAKE_SDHCI_RCA;
		r->kind = RESP_R6;
		r->word = card_status(f, was, 0, false);
		/* R6 carries status bits 23, 22, 19 and 12:0 (SD v6.00 §4.9.5). */
		r->word = (uint32_t)f->rca << 16 | (r->word >> 8 & 0xC000) |
		          (r->word >> 6 & 0x2000) | (r->word & 0x1FFF);
		return;
	case 6:
		if (was != FAKE_CARD_TRAN || f->cfg.v1)
			break;
		card_switch(f, arg);
		card_data(f, r, true, false, 64, false);
		card_r1(f, r, RESP_R1, was, 0, false);
		return;
	case 7:
		if (!mine) {
			/* Another card (or none) selected: this one lets go, silently. */
			if (was == FAKE_CARD_TRAN || was == FAKE_CARD_DATA)
				f->state = FAKE_CARD_STBY;
			else if (was == FAKE_CARD_PRG)
				f->state = FAKE_CARD_DIS;
			return;
		}
		if (was != FAKE_CARD_STBY && was != FAKE_CARD_DIS)
			break;
		f->state = was == FAKE_CARD_STBY ? FAKE_CARD_TRAN : FAKE_CARD_PRG;
		card_r1(f, r, RESP_R1B, was, 0, false);
		return;
	case 8:
		if (was != FAKE_CARD_IDLE || f->cfg.v1)
			break;
		if ((arg >> 8 & 0xF) != 1)
			return; /* a voltage it does not support: no answer */
		f->cmd8_ok = true;
		r->kind = RESP_R7;
		r->word = arg & 0xFFF;
		return;
	case 9:
	case 10:
		if (was != FAKE_CARD_STBY)
			break;
		if (mine) {
			r->kind = RESP_R2;
			r->r2 = cmd == 9 ? f->csd : f->cid;
		}
		return;
	case 12:
		if (was != FAKE_CARD_DATA && was != FAKE_CARD_RCV)
			break;
		f->state = was == FAKE_CARD_DATA ? FAKE_CARD_TRAN : FAKE_CARD_PRG;
		r->programs = was == FAKE_CARD_RCV;
		card_r1(f, r, RESP_R1B, was, 0, false);
		return;
	case 13:
		if (was < FAKE_CARD_STBY)
			break;
		if (mine)
			card_r1(f, r, RESP_R1, was, 0, false);
		return;
	case 16:
		if (was != FAKE_CARD_TRAN)
			break;
		if (arg == 0 || arg > BLOCK) {
			card_r1(f, r, RESP_R1, was, ST_BLOCK_LEN_ERROR, false);
			return;
		}
		if (!f->cfg.sdhc)
			f->blocklen = arg;
		card_r1(f, r, RESP_R1, was, 0, false);
		return;
	case 17:
	case 18:
	case 24:
	case 25:
		if (was != FAKE_CARD_TRAN)
			break;
		card_rw(f, cmd, arg, r, was);
		return;
	case 23:
		if (was != FAKE_CARD_TRAN || f->cfg.v1)
			break;
		f->preset_count = arg;
		card_r1(f, r, RESP_R1, was, 0, false);
		return;
	case 32:
	case 33: {
		uint32_t err;

		if (was != FAKE_CARD_TRAN)
			break;
		err = card_block_of(f, arg, false, &block);
		if (!err && cmd == 33 && !f->erase_start_set)
			err = ST_ERASE_SEQ_ERROR;
		if (!err && cmd == 32) {
			f->erase_start = block;
			f->erase_start_set = true;
			f->erase_end_set = false;
		} else if (!err) {
			f->erase_end = block;
			f->erase_end_set = true;
		}
		card_r1(f, r, RESP_R1, was, err, false);
		return;
	}
	case 38:
		if (was != FAKE_CARD_TRAN)
			break;
		card_erase(f, r, was);
		return;
	case 55:
		if (was >= FAKE_CARD_STBY && !mine)
			return;
		f->app_cmd = true;
		card_r1(f, r, RESP_R1, was, 0, true);
		return;
	case FAKE_SDHCI_ACMD(6):
		if (was != FAKE_CARD_TRAN || (arg & 3) == 1 || (arg & 3) == 3)
			break;
		f->width = (arg & 3) == 2 ? 4 : 1;
		card_r1(f, r, RESP_R1, was, 0, true);
		return;
	case FAKE_SDHCI_ACMD(13):
		if (was != FAKE_CARD_TRAN)
			break;
		memset(f->payload, 0, 64);
		bits_put(f->payload, 64, 511, 510, f->width == 4 ? 2 : 0);
		bits_put(f->payload, 64, 447, 440, 2); /* speed class 4 */
		f->payload_len = 64;
		card_data(f, r, true, false, 64, false);
		card_r1(f, r, RESP_R1, was, 0, true);
		return;
	case FAKE_SDHCI_ACMD(23):
	case FAKE_SDHCI_ACMD(42):
		if (was != FAKE_CARD_TRAN)
			break;
		card_r1(f, r, RESP_R1, was, 0, true); /* hints the fake has no use for */
		return;
	case FAKE_SDHCI_ACMD(41):
		if (was != FAKE_CARD_IDLE)
			break;
		card_acmd41(f, arg, r);
		return;
	case FAKE_SDHCI_ACMD(51):
		if (was != FAKE_CARD_TRAN)
			break;
		card_scr(f);
		card_data(f, r, true, false, 8, false);
		card_r1(f, r, RESP_R1, was, 0, true);
		return;
	default:
		break;
	}
	f->status_err |= ST_ILLEGAL_COMMAND;
}

/* The card sends its next block (SD v6.00 §4.3.3); false if it sends nothing. */
static bool card_read_block(struct fake_sdhci *f, uint8_t *buf, uint32_t len)
{
	if (f->state != FAKE_CARD_DATA)
		return false;
	if (f->payload_len) {
		memcpy(buf, f->payload, len < f->payload_len ? len : f->payload_len);
		f->payload_len = 0;
		f->state = FAKE_CARD_TRAN;
		return true;
	}
	if (f->next_block >= f->cfg.blocks) {
		f->status_err |= ST_OUT_OF_RANGE;
		return false;
	}
	memcpy(buf, f->data + f->next_block++ * BLOCK, BLOCK);
	if (f->card_left && --f->card_left == 0)
		f->state = FAKE_CARD_TRAN;
	return true;
}

/* The card takes a block (SD v6.00 §4.3.4); false if it takes nothing. */
static bool card_write_block(struct fake_sdhci *f, const uint8_t *buf)
{
	if (f->state != FAKE_CARD_RCV)
		return false;
	if (f->next_block >= f->cfg.blocks) {
		f->status_err |= ST_OUT_OF_RANGE;
		return false;
	}
	memcpy(f->data + f->next_block++ * BLOCK, buf, BLOCK);
	if (f->card_left && --f->card_left == 0)
		f->state = FAKE_CARD_PRG;
	return true;
}

/* ---- the controller ------------------------------------------------------------------------ */

/* The DAT line is free again: Transfer Complete, unless a data error holds it. */
static void sdhci_dat_done(struct fake_sdhci *f)
{
	card_prog_done(f);
	if (f->dat_error)
		return;
	f->dat_inhibit = false;
	sdhci_raise(f, NIS_TC);
}

/* After a write's data or an R1b command: busy if armed and the card programs. */
static void sdhci_busy_start(struct fake_sdhci *f, bool programs)
{
	if (programs && f->busy_armed) {
		f->busy = f->busy_tc = true;
		f->busy_left = f->busy_armed;
		f->busy_armed = 0;
		return;
	}
	sdhci_dat_done(f);
}

static void sdhci_busy_end(struct fake_sdhci *f)
{
	f->busy = false;
	if (f->busy_tc) {
		f->busy_tc = false;
		sdhci_dat_done(f);
	} else {
		card_prog_done(f);
	}
}

static void sdhci_data_error(struct fake_sdhci *f, uint16_t bits)
{
	f->xfer.active = f->xfer.ready = false;
	f->dat_error = true;
	sdhci_raise_err(f, bits);
}

/* Puts a command on the bus; returns injected error bits (the card then saw nothing) or 0. */
static uint16_t sdhci_send(struct fake_sdhci *f, unsigned int cmd, uint32_t arg,
                           struct card_reply *r)
{
	unsigned int key = card_is_acmd(f, cmd) ? FAKE_SDHCI_ACMD(cmd) : cmd;
	uint16_t err = f->fail_cmd[key];

	f->cmd_count[key]++;
	f->last_arg[key] = arg;
	f->fail_cmd[key] = 0;
	memset(r, 0, sizeof(*r));
	if (!err)
		card_command(f, cmd, arg, r);
	return err;
}

/* Auto CMD12 or Auto CMD23 (§2.2.5); errors go to Auto CMD Error Status (§2.2.23). */
static bool sdhci_auto_cmd(struct fake_sdhci *f, unsigned int cmd, uint32_t arg)
{
	struct card_reply r;
	uint16_t err = sdhci_send(f, cmd, arg, &r);

	if (!err && r.kind == RESP_NONE)
		err = EIS_CMD_TIME;
	if (err) {
		put(f, REG_ACMD_ERR, 2, (err & 0xF) << 1);
		sdhci_raise_err(f, EIS_AUTO_CMD);
		return false;
	}
	if (cmd == 12)
		put(f, REG_RESP + 12, 4, r.word); /* RESP bits 127:96 (§2.2.7) */
	return true;
}

static void sdhci_xfer_finish(struct fake_sdhci *f)
{
	bool write = !f->xfer.read;

	f->xfer.active = false;
	if (f->xfer.auto12)
		sdhci_auto_cmd(f, 12, 0);
	if (write)
		sdhci_busy_start(f, true);
	else
		sdhci_dat_done(f);
}

/* The next block of a read arrives in the buffer (§3.7.2.1), or the transfer fails. */
static void sdhci_read_next(struct fake_sdhci *f)
{
	struct xfer *x = &f->xfer;

	if (!card_read_block(f, x->buf, x->len)) {
		sdhci_data_error(f, EIS_DAT_TIME);
		return;
	}
	if (x->fail_bits && x->block == x->fail_block) {
		sdhci_data_error(f, x->fail_bits);
		return;
	}
	x->pos = 0;
	x->ready = true;
	if (!x->dma)
		sdhci_raise(f, NIS_BRR);
}

/* A whole block went through the port; start the next or finish. */
static void sdhci_block_done(struct fake_sdhci *f)
{
	struct xfer *x = &f->xfer;

	x->ready = false;
	if (!x->read) {
		bool single = f->card_left == 1;

		if (x->fail_bits && x->block == x->fail_block) {
			if (single)
				f->state = FAKE_CARD_TRAN; /* the card drops the bad block */
			sdhci_data_error(f, x->fail_bits);
			return;
		}
		if (!card_write_block(f, x->buf)) {
			sdhci_data_error(f, EIS_DAT_TIME);
			return;
		}
	}
	x->block++;
	if (x->counted)
		put(f, REG_BLKCNT, 2, get(f, REG_BLKCNT, 2) - 1);
	if (!x->open && --x->left == 0) {
		if (!x->dma) /* a DMA transfer finishes at its table's End (sdhci_dma_run) */
			sdhci_xfer_finish(f);
	} else if (x->read) {
		sdhci_read_next(f);
	} else {
		x->pos = 0;
		x->ready = true;
		if (!x->dma)
			sdhci_raise(f, NIS_BWR);
	}
}

/* The host memory at bus addresses [addr, addr + len), or NULL if that leaves the DMA window. */
static uint8_t *dma_ptr(const struct fake_sdhci *f, uint64_t addr, uint64_t len)
{
	if (addr < f->dma_bus || addr - f->dma_bus > f->dma_size ||
	    len > f->dma_size - (addr - f->dma_bus))
		return NULL;
	return f->dma_mem + (addr - f->dma_bus);
}

/* The ADMA stops on a descriptor table error (§2.2.30): the transfer ends as a data error does. */
static void sdhci_adma_error(struct fake_sdhci *f, uint8_t status)
{
	put(f, REG_ADMA_ERR, 1, status);
	sdhci_data_error(f, EIS_ADMA);
}

/* Moves len bytes between the card and host memory p through the block buffer, as PIO would. */
static void sdhci_dma_move(struct fake_sdhci *f, uint8_t *p, uint32_t len)
{
	struct xfer *x = &f->xfer;

	while (len > 0 && x->active && x->ready) {
		uint32_t n = x->len - x->pos < len ? x->len - x->pos : len;

		if (x->read)
			memcpy(p, x->buf + x->pos, n);
		else
			memcpy(x->buf + x->pos, p, n);
		p += n;
		len -= n;
		x->pos += n;
		x->dma_left -= n;
		if (x->pos == x->len)
			sdhci_block_done(f);
	}
}

/*
 * The ADMA2 engine (§1.13.4, 32-bit descriptors) runs a transfer's whole descriptor table at
 * once: Nop skipped, Link followed, Tran moving data, until End; the ADMA System Address
 * register follows it as §2.2.31 says (the line after the one fetched, or a Link's target).
 */
static void sdhci_dma_run(struct fake_sdhci *f)
{
	struct xfer *x = &f->xfer;
	uint32_t addr = f->adma_addr;

	if (!x->active)
		return; /* a data error, an abort or a reset came first */
	put(f, REG_ADMA_LO, 4, addr);
	if (f->adma_addr_hi != 0) {
		sdhci_adma_error(f, ADMA_ST_FDS);
		return;
	}
	for (unsigned int n = 0;; n++) {
		const uint8_t *d = dma_ptr(f, addr, 8);
		uint32_t attr, len, data;
		uint8_t *p;

		put(f, REG_ADMA_LO, 4, addr);
		if (n == FAKE_SDHCI_ADMA_MAX_DESC || addr % 4 || !d) {
			sdhci_adma_error(f, ADMA_ST_FDS);
			return;
		}
		attr = (uint32_t)d[0] | (uint32_t)d[1] << 8;
		len = (uint32_t)d[2] | (uint32_t)d[3] << 8;
		len = len ? len : 65536;
		data = (uint32_t)d[4] | (uint32_t)d[5] << 8 | (uint32_t)d[6] << 16 |
		       (uint32_t)d[7] << 24;
		if (!(attr & DESC_VALID) || DESC_ACT(attr) == DESC_ACT_RSV) {
			sdhci_adma_error(f, ADMA_ST_FDS);
			return;
		}
		addr = DESC_ACT(attr) == DESC_ACT_LINK ? data : addr + 8;
		put(f, REG_ADMA_LO, 4, addr);
		if (DESC_ACT(attr) == DESC_ACT_TRAN) {
			p = dma_ptr(f, data, len);
			if (data % 4 || !p) {
				sdhci_adma_error(f, ADMA_ST_TFR);
				return;
			}
			if (len > x->dma_left) { /* checked before any of it moves */
				sdhci_adma_error(f, ADMA_ST_TFR | ADMA_LEN_ERR);
				return;
			}
			sdhci_dma_move(f, p, len);
			if (!x->active)
				return; /* a data error, reported as PIO would */
		}
		if (attr & DESC_INT)
			sdhci_raise(f, NIS_DMA);
		if (attr & DESC_END)
			break;
	}
	/* Counted: the table must cover the transfer; open-ended: whole blocks, then CMD12. */
	if (x->open ? x->pos != 0 : x->dma_left != 0) {
		sdhci_adma_error(f, ADMA_ST_STOP | ADMA_LEN_ERR);
		return;
	}
	if (!x->open)
		sdhci_xfer_finish(f);
}

/* The data phase of a command the card accepted (§3.7.2): PIO through the data port. */
static void sdhci_xfer_start(struct fake_sdhci *f, const struct card_reply *r)
{
	uint32_t mode = f->mode, blksz = get(f, REG_BLKSZ, 2) & 0xFFF;
	bool multi = mode & XFER_MULTI;
	unsigned int host_width = fake_sdhci_bus_width(f);
	struct xfer *x = &f->xfer;

	if (!!(mode & XFER_READ) != r->read)
		violation(f, "Transfer Mode direction %s for a %s",
		          mode & XFER_READ ? "read" : "write", r->read ? "read" : "write");
	if (multi != r->multi)
		violation(f, "Transfer Mode %s block for a %s-block command",
		          multi ? "multi" : "single", r->multi ? "multi" : "single");
	if (blksz != r->len)
		violation(f, "Block Size %u for %u-byte blocks", blksz, r->len);
	if (host_width != f->width)
		violation(f, "data on a %u-bit host bus to a %u-bit card", host_width, f->width);
	memset(x, 0, sizeof(*x));
	x->active = true;
	x->read = r->read;
	x->len = r->len;
	x->open = multi && !(mode & XFER_BCE);
	x->counted = multi && (mode & XFER_BCE);
	x->left = multi ? get(f, REG_BLKCNT, 2) : 1;
	x->auto12 = multi && (mode & 0xC) == XFER_AUTO12;
	x->fail_block = f->fail_block;
	x->fail_bits = f->fail_bits;
	f->fail_bits = 0;
	x->dma = mode & XFER_DMA;
	if (!x->open && x->left == 0) {
		violation(f, "multi-block transfer with Block Count 0");
		sdhci_xfer_finish(f);
		return;
	}
	if (x->dma) {
		/* The ADMA moves it all at the first status read after Command Complete. */
		x->dma_left = x->open ? UINT64_MAX : (uint64_t)x->left * x->len;
		f->dma_pending = true;
		f->dma_count++;
	}
	if (x->read) {
		sdhci_read_next(f);
	} else {
		x->ready = true;
		if (!x->dma)
			sdhci_raise(f, NIS_BWR);
	}
}

static enum rt resp_type(enum resp_kind k)
{
	return k == RESP_NONE  ? RT_NONE
	       : k == RESP_R2  ? RT_136
	       : k == RESP_R1B ? RT_48_BUSY
	                       : RT_48;
}

/* The command in the Command register goes out and its response comes back (§3.7.1). */
static void sdhci_run(struct fake_sdhci *f)
{
	uint32_t cmdreg = f->cmdreg, mode = f->mode;
	unsigned int cmd = cmdreg >> 8 & 0x3F;
	enum rt rt = cmdreg & CMD_RESP_MASK;
	bool data = cmdreg & CMD_DATA;
	struct card_reply r;
	uint16_t err;

	if (data && (mode & XFER_MULTI) && (mode & 0xC) == XFER_AUTO23 &&
	    !sdhci_auto_cmd(f, 23, f->arg2))
		return;
	if (cmd == 12 && f->xfer.active)
		f->xfer.active = f->xfer.ready = false; /* the abort ends an open-ended transfer */
	err = sdhci_send(f, cmd, f->arg, &r);
	if (err) {
		sdhci_raise_err(f, err);
		return;
	}
	if (r.kind != RESP_NONE && rt != resp_type(r.kind))
		violation(f, "CMD%u sent with response type %u, the card answers with %u", cmd, rt,
		          resp_type(r.kind));
	if (r.kind != RESP_NONE && data != r.data)
		violation(f, "CMD%u sent with Data Present %u", cmd, data);
	if (rt != RT_NONE) {
		if (r.kind == RESP_NONE) {
			sdhci_raise_err(f, EIS_CMD_TIME);
			return;
		}
		/* R3 has no CRC and R2/R3 no index: a host that checks them sees errors. */
		if ((cmdreg & CMD_CRC) && r.kind == RESP_R3) {
			sdhci_raise_err(f, EIS_CMD_CRC);
			return;
		}
		if ((cmdreg & CMD_INDEX) && (r.kind == RESP_R2 || r.kind == RESP_R3)) {
			sdhci_raise_err(f, EIS_CMD_INDEX);
			return;
		}
		if (r.kind == RESP_R2) {
			/* Response bits 127:8 (CRC dropped) in RESP bits 119:0 (§2.2.7). */
			for (unsigned int i = 0; i < 15; i++)
				f->regs[REG_RESP + i] = r.r2[14 - i];
			f->regs[REG_RESP + 15] = 0;
		} else {
			put(f, REG_RESP, 4, r.word);
		}
	}
	f->cmd_inhibit = false;
	sdhci_raise(f, NIS_CC);
	if (data && r.moving) {
		sdhci_xfer_start(f, &r);
	} else if (data) {
		f->dat_error = f->dto_pending = true; /* the data timeout comes after CC */
	} else if (rt == RT_48_BUSY) {
		sdhci_busy_start(f, r.programs);
	} else if (r.programs) {
		card_prog_done(f);
	}
}

/*
 * A write of the Command register's upper byte issues the command (§2.2.6, §3.7.1.1); one
 * the host may not issue now is dropped and leaves the register as it was.
 */
static void sdhci_issue(struct fake_sdhci *f, uint32_t cmdreg)
{
	unsigned int cmd = cmdreg >> 8 & 0x3F;
	bool dat = (cmdreg & CMD_DATA) || (cmdreg & CMD_RESP_MASK) == RT_48_BUSY;

	if (f->cmd_inhibit) {
		violation(f, "CMD%u written while Command Inhibit (CMD) is 1", cmd);
		return;
	}
	if (dat && f->dat_inhibit && (cmdreg & CMD_ABORT) != CMD_ABORT) {
		violation(f, "CMD%u uses DAT while Command Inhibit (DAT) is 1", cmd);
		return;
	}
	if ((cmdreg & CMD_DATA) && (get(f, REG_XFER, 2) & XFER_DMA)) {
		unsigned int sel = HOST1_DMA_SEL(get(f, REG_HOST1, 1));

		if (!f->dma_mem) {
			violation(f, "CMD%u with DMA Enable, and the controller has no DMA", cmd);
			return;
		}
		if (sel != DMA_SEL_ADMA32) {
			violation(f,
			          "CMD%u with DMA Enable and DMA Select %u, not ADMA2 32-bit (2)",
			          cmd, sel);
			return;
		}
	}
	put(f, REG_CMD, 2, cmdreg);
	f->cmd_inhibit = true;
	if (dat)
		f->dat_inhibit = true;
	f->cmdreg = cmdreg;
	f->mode = get(f, REG_XFER, 2);
	f->arg = get(f, REG_ARG, 4);
	f->arg2 = get(f, REG_ARG2, 4);
	f->adma_addr = get(f, REG_ADMA_LO, 4);
	f->adma_addr_hi = get(f, REG_ADMA_HI, 4);
	if (f->cmd_delay) {
		f->cmd_pending = true;
		f->cmd_wait = f->cmd_delay;
		return;
	}
	sdhci_run(f);
}

/* A read of Present State or Normal Interrupt Status: the only clock the fake has. */
static void sdhci_status_read(struct fake_sdhci *f)
{
	/* A DMA started by a command that completes during this read waits for the next one. */
	bool dma = f->dma_pending;

	if (f->dto_pending) {
		f->dto_pending = false;
		sdhci_raise_err(f, EIS_DAT_TIME);
	}
	if (f->cmd_pending && --f->cmd_wait == 0) {
		f->cmd_pending = false;
		sdhci_run(f);
	}
	if (f->busy && f->busy_left != UINT_MAX && --f->busy_left == 0)
		sdhci_busy_end(f);
	/* After the busy count: a write's busy starts counting at the read after this one. */
	if (dma && f->dma_pending) {
		f->dma_pending = false;
		sdhci_dma_run(f);
	}
}

static void sdhci_reset(struct fake_sdhci *f, uint8_t bits)
{
	f->reset_shown = bits;
	if (bits & RESET_ALL) {
		f->resets[0]++;
		memset(f->regs, 0, sizeof(f->regs));
		put(f, REG_CAPS, 4, CAPS_VALUE | (f->dma_mem ? CAPS_ADMA2 : 0));
		put(f, REG_MAX_CURRENT, 4, 50); /* 200 mA at 3.3 V */
		put(f, REG_VERSION, 2, 0x0002); /* v3.00 */
		f->clock_stable = false;
		card_power_off(f);
		bits |= RESET_CMD | RESET_DAT;
	} else {
		f->resets[1] += !!(bits & RESET_CMD);
		f->resets[2] += !!(bits & RESET_DAT);
	}
	if (bits & RESET_CMD) {
		f->cmd_inhibit = f->cmd_pending = false;
		put(f, REG_NIS, 2, get(f, REG_NIS, 2) & ~NIS_CC);
	}
	if (bits & RESET_DAT) {
		f->xfer.active = f->xfer.ready = false;
		f->dat_inhibit = f->dat_error = f->dto_pending = f->busy_tc = false;
		f->dma_pending = false;
		put(f, REG_NIS, 2, get(f, REG_NIS, 2) & ~NIS_DAT_BITS);
	}
}

static uint32_t sdhci_present_state(const struct fake_sdhci *f)
{
	const struct xfer *x = &f->xfer;
	uint32_t v = 1u << 17 | 1u << 24 | (f->busy ? 0xEu : 0xFu) << 20;

	v |= f->cmd_inhibit | f->dat_inhibit << 1 | (x->active || f->busy) << 2;
	v |= ((x->active && !x->read) || f->busy_tc) << 8 | (x->active && x->read) << 9;
	/* Buffer Write/Read Enable are for PIO only (§2.2.9). */
	v |= (x->active && !x->dma && !x->read && x->ready) << 10 |
	     (x->active && !x->dma && x->read && x->ready) << 11;
	if (f->present)
		v |= 1u << 16 | 1u << 18 | !f->cfg.write_protect << 19;
	return v;
}

/* Reads count bytes of the Buffer Data Port from byte first on (§2.2.8). */
static uint32_t sdhci_data_read(struct fake_sdhci *f, unsigned int first, unsigned int count)
{
	struct xfer *x = &f->xfer;
	uint32_t v = 0;

	for (unsigned int i = first; i < first + count; i++) {
		if (x->active && x->dma) {
			violation(f, "Buffer Data Port read during a DMA transfer");
			return v;
		}
		if (!x->active || !x->read || !x->ready) {
			violation(f, "Buffer Data Port read with no block ready");
			return v;
		}
		v |= (uint32_t)x->buf[x->pos++] << 8 * i;
		if (x->pos == x->len)
			sdhci_block_done(f);
	}
	return v;
}

static void sdhci_data_write(struct fake_sdhci *f, uint32_t val, uint32_t mask)
{
	struct xfer *x = &f->xfer;

	for (unsigned int i = 0; i < 4; i++) {
		if (!(mask >> 8 * i & 0xFF))
			continue;
		if (x->active && x->dma) {
			violation(f, "Buffer Data Port written during a DMA transfer");
			return;
		}
		if (!x->active || x->read || !x->ready) {
			violation(f, "Buffer Data Port written with no room");
			return;
		}
		x->buf[x->pos++] = (uint8_t)(val >> 8 * i);
		if (x->pos == x->len)
			sdhci_block_done(f);
	}
}

static void sdhci_clock_write(struct fake_sdhci *f, uint32_t val)
{
	uint32_t old = get(f, REG_CLOCK, 2), clk = val & (CLK_DIV_MASK | CLK_SD_EN | CLK_INT_EN);

	if ((old ^ clk) & CLK_DIV_MASK) {
		if (old & clk & CLK_SD_EN)
			violation(f, "SDCLK divider changed with SD Clock Enable set");
		if (f->cmd_inhibit || f->dat_inhibit)
			violation(f, "SDCLK divider changed during a command or transfer");
	}
	if ((clk & CLK_SD_EN) && !(old & CLK_SD_EN) &&
	    !((old & CLK_INT_EN) && (clk & CLK_INT_EN) && f->clock_stable))
		violation(f, "SD Clock Enable set before Internal Clock Stable");
	if (!(clk & CLK_INT_EN) || !(old & CLK_INT_EN))
		f->clock_stable = false;
	put(f, REG_CLOCK, 2, clk);
}

static void sdhci_power_write(struct fake_sdhci *f, uint32_t val)
{
	bool was_on = get(f, REG_POWER, 1) & POWER_ON;

	val &= 0x0F;
	if ((val & POWER_3V3) != POWER_3V3)
		val &= ~POWER_ON; /* no supported voltage: no power (§2.2.11) */
	put(f, REG_POWER, 1, val);
	if ((val & POWER_ON) && !was_on && f->present)
		card_go_idle(f);
	else if (!(val & POWER_ON) && was_on)
		card_power_off(f);
}

static uint32_t sdhci_reg_read(struct fake_sdhci *f, uint32_t reg, unsigned int width,
                               unsigned int first, unsigned int count)
{
	uint32_t v;

	switch (reg) {
	case REG_DATA:
		return sdhci_data_read(f, first, count);
	case REG_PRESENT:
		return sdhci_present_state(f);
	case REG_CLOCK:
		v = get(f, REG_CLOCK, 2) | (f->clock_stable ? CLK_STABLE : 0);
		if (v & CLK_INT_EN)
			f->clock_stable = true; /* stable from the next read on */
		return v;
	case REG_RESET:
		v = f->reset_shown;
		f->reset_shown = 0;
		return v;
	case REG_NIS:
		return get(f, REG_NIS, 2) | (get(f, REG_EIS, 2) ? NIS_ERR : 0);
	case REG_SLOT_INT:
		return fake_sdhci_irq(f);
	default:
		return get(f, reg, width);
	}
}

/* A write of the bytes of register reg selected by mask (§2.1: any width reaches any part). */
static void sdhci_reg_write(struct fake_sdhci *f, uint32_t reg, unsigned int width, uint32_t val,
                            uint32_t mask)
{
	uint32_t merged = (get(f, reg, width) & ~mask) | (val & mask);

	switch (reg) {
	case REG_BLKSZ:
	case REG_BLKCNT:
	case REG_XFER:
		if (!f->dat_inhibit) /* protected during a transaction (§2.2.2, §2.2.5) */
			put(f, reg, width, merged & (reg == REG_BLKSZ ? 0x7FFF : 0xFFFF));
		return;
	case REG_CMD:
		if (mask & 0xFF00)
			sdhci_issue(f, merged & 0x3FFB);
		else if (!f->cmd_inhibit)
			put(f, reg, width, merged & 0x3FFB);
		return;
	case REG_DATA:
		sdhci_data_write(f, val, mask);
		return;
	case REG_POWER:
		sdhci_power_write(f, merged);
		return;
	case REG_CLOCK:
		sdhci_clock_write(f, merged);
		return;
	case REG_RESET:
		sdhci_reset(f, (uint8_t)(val & mask & 7));
		return;
	case REG_NIS:
		put(f, reg, 2, get(f, reg, 2) & ~(val & mask));
		return;
	case REG_EIS:
		put(f, reg, 2, get(f, reg, 2) & ~(val & mask));
		if (val & mask & EIS_AUTO_CMD)
			put(f, REG_ACMD_ERR, 2, 0);
		return;
	case REG_NIS_EN:
	case REG_EIS_EN:
		put(f, reg, 2, merged);
		put(f, reg - 4, 2, get(f, reg - 4, 2) & merged); /* disabled bits read 0 */
		return;
	case REG_FORCE_ACMD:
		put(f, REG_ACMD_ERR, 2, get(f, REG_ACMD_ERR, 2) | (val & mask & 0x9F));
		return;
	case REG_FORCE_ERR:
		sdhci_raise_err(f, (uint16_t)(val & mask));
		return;
	case REG_TIMEOUT:
		put(f, reg, width, merged & 0x0F);
		return;
	case REG_ARG2:
	case REG_ARG:
	case REG_HOST1:
	case REG_HOST1 + 2: /* Block Gap Control */
	case REG_HOST1 + 3: /* Wakeup Control */
	case REG_NIS_SIG:
	case REG_EIS_SIG:
	case REG_HOST2:
	case REG_ADMA_LO: /* taken when a command is issued (sdhci_issue) */
	case REG_ADMA_HI:
		put(f, reg, width, merged);
		return;
	default:
		return; /* read-only or reserved */
	}
}

/* The register an offset belongs to, and its width (§2.1). */
static unsigned int sdhci_reg_span(uint32_t off, uint32_t *reg)
{
	unsigned int width = 1;

	if (off < 0x04 || (off >= 0x08 && off < 0x0C) || (off >= 0x10 && off < 0x28) ||
	    (off >= 0x40 && off < 0x50) || (off >= 0x58 && off < 0x60))
		width = 4;
	else if (off < 0x10 || off == 0x2C || off == 0x2D || (off >= 0x30 && off < 0x40) ||
	         (off >= 0x50 && off < 0x54) || (off >= 0x60 && off < 0x70) || off >= 0xFC)
		width = 2;
	*reg = off & ~(width - 1);
	return width;
}

static uint64_t sdhci_mmio_read(void *ctx, uint32_t offset, unsigned int size)
{
	struct fake_sdhci *f = ctx;
	uint64_t val = 0;
	bool status = false;

	for (uint32_t off = offset; off < offset + size;) {
		uint32_t reg, v;
		unsigned int width = sdhci_reg_span(off, &reg), first = off - reg;
		unsigned int n =
		    width - first < offset + size - off ? width - first : offset + size - off;

		v = sdhci_reg_read(f, reg, width, first, n);
		for (unsigned int i = 0; i < n; i++)
			val |= (uint64_t)(v >> 8 * (first + i) & 0xFF) << 8 * (off - offset + i);
		status |= reg == REG_PRESENT || reg == REG_NIS;
		off += n;
	}
	if (status)
		sdhci_status_read(f);
	return val;
}

static void sdhci_mmio_write(void *ctx, uint32_t offset, unsigned int size, uint64_t val)
{
	struct fake_sdhci *f = ctx;

	for (uint32_t off = offset; off < offset + size;) {
		uint32_t reg, v = 0, mask = 0;
		unsigned int width = sdhci_reg_span(off, &reg), first = off - reg;
		unsigned int n =
		    width - first < offset + size - off ? width - first : offset + size - off;

		for (unsigned int i = 0; i < n; i++) {
			v |= (uint32_t)(val >> 8 * (off - offset + i) & 0xFF) << 8 * (first + i);
			mask |= 0xFFu << 8 * (first + i);
		}
		sdhci_reg_write(f, reg, width, v, mask);
		off += n;
	}
}

static const struct fake_mmio_ops sdhci_mmio_ops = {
    .read = sdhci_mmio_read,
    .write = sdhci_mmio_write,
};

/* ---- the test's interface ------------------------------------------------------------------- */

/* The CID (SD v6.00 §5.2) and CSD (§5.3.2 v1, §5.3.3 v2) of the configured card. */
static void fake_sdhci_make_registers(struct fake_sdhci *f)
{
	static const uint8_t cid[16] = {0x42, 'V',  'D',  'V',  'D',  'I',  'S',  'K',
	                                0x10, 0x12, 0x34, 0x56, 0x78, 0x01, 0x85, 0x01};
	uint8_t *csd = f->csd;

	memcpy(f->cid, cid, sizeof(cid));
	memset(csd, 0, 16);
	bits_put(csd, 16, 119, 112, 0x0E); /* TAAC */
	bits_put(csd, 16, 103, 96, 0x32);  /* TRAN_SPEED 25 MHz */
	bits_put(csd, 16, 95, 84, 0x5B5);  /* CCC */
	bits_put(csd, 16, 83, 80, 9);      /* READ_BL_LEN */
	bits_put(csd, 16, 46, 46, 1);      /* ERASE_BLK_EN */
	bits_put(csd, 16, 45, 39, 0x7F);   /* SECTOR_SIZE */
	bits_put(csd, 16, 28, 26, 2);      /* R2W_FACTOR */
	bits_put(csd, 16, 25, 22, 9);      /* WRITE_BL_LEN */
	bits_put(csd, 16, 12, 12, f->cfg.write_protect);
	bits_put(csd, 16, 0, 0, 1);
	if (f->cfg.sdhc) {
		if (f->cfg.blocks == 0 || f->cfg.blocks % 1024 || f->cfg.blocks / 1024 > 0x400000)
			die("an SDHC card needs blocks a non-zero multiple of 1024 (22-bit "
			    "C_SIZE)");
		bits_put(csd, 16, 127, 126, 1);
		bits_put(csd, 16, 69, 48, (uint32_t)(f->cfg.blocks / 1024 - 1));
		return;
	}
	for (unsigned int k = 2; k <= 9; k++) {
		if (f->cfg.blocks % (1u << k) == 0 && f->cfg.blocks >> k >= 1 &&
		    f->cfg.blocks >> k <= 4096) {
			bits_put(csd, 16, 73, 62, (uint32_t)(f->cfg.blocks >> k) - 1);
			bits_put(csd, 16, 49, 47, k - 2); /* C_SIZE_MULT */
			return;
		}
	}
	die("an SDSC card needs blocks = m * 2^k, 1 <= m <= 4096, 2 <= k <= 9");
}

struct fake_sdhci *fake_sdhci_create(uintptr_t base, uint8_t *card_data,
                                     const struct fake_card_cfg *cfg)
{
	struct fake_sdhci *f = calloc(1, sizeof(*f));

	if (!f)
		die("out of memory");
	if (cfg->v1 && cfg->sdhc)
		die("a v1 card cannot be SDHC");
	if (cfg->erase_value != 0x00 && cfg->erase_value != 0xFF)
		die("erase_value must be 0x00 or 0xff");
	f->base = base;
	f->data = card_data;
	f->cfg = *cfg;
	f->present = true;
	fake_sdhci_make_registers(f);
	sdhci_reset(f, RESET_ALL);
	f->resets[0] = 0;
	f->reset_shown = 0;
	fake_mmio_map(base, FAKE_SDHCI_SIZE, &sdhci_mmio_ops, f);
	return f;
}

void fake_sdhci_destroy(struct fake_sdhci *f)
{
	fake_mmio_unmap(f->base);
	free(f);
}

void fake_sdhci_fail_cmd(struct fake_sdhci *f, unsigned int cmd_index, uint16_t error_bits)
{
	if (cmd_index >= 128)
		die("fake_sdhci_fail_cmd: index over 127");
	f->fail_cmd[cmd_index] = error_bits;
}

void fake_sdhci_fail_data(struct fake_sdhci *f, unsigned int block, uint16_t error_bits)
{
	f->fail_block = block;
	f->fail_bits = error_bits;
}

void fake_sdhci_remove_card(struct fake_sdhci *f)
{
	bool busy_tc = f->busy_tc;

	f->present = false;
	card_power_off(f);
	sdhci_raise(f, NIS_REMOVAL);
	if (f->xfer.active || busy_tc)
		sdhci_data_error(f, EIS_DAT_TIME);
}

void fake_sdhci_set_busy(struct fake_sdhci *f, unsigned int reads)
{
	f->busy_armed = reads;
}

void fake_sdhci_set_cmd_delay(struct fake_sdhci *f, unsigned int reads)
{
	f->cmd_delay = reads;
}

void fake_sdhci_enable_dma(struct fake_sdhci *f, void *mem, uint64_t bus, size_t size)
{
	if (!mem || size == 0 || bus + size - 1 < bus)
		die("fake_sdhci_enable_dma: no memory, or a window past the end of the bus");
	f->dma_mem = mem;
	f->dma_bus = bus;
	f->dma_size = size;
	put(f, REG_CAPS, 4, get(f, REG_CAPS, 4) | CAPS_ADMA2);
}

unsigned int fake_sdhci_dma_count(const struct fake_sdhci *f)
{
	return f->dma_count;
}

unsigned int fake_sdhci_cmd_count(const struct fake_sdhci *f, unsigned int cmd_index)
{
	return cmd_index < 128 ? f->cmd_count[cmd_index] : 0;
}

uint32_t fake_sdhci_last_arg(const struct fake_sdhci *f, unsigned int cmd_index)
{
	return cmd_index < 128 ? f->last_arg[cmd_index] : 0;
}

unsigned int fake_sdhci_resets(const struct fake_sdhci *f, uint8_t which)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < 3; i++)
		if (which & 1u << i)
			n += f->resets[i];
	return n;
}

unsigned int fake_sdhci_violations(const struct fake_sdhci *f)
{
	return f->violations;
}

const char *fake_sdhci_last_violation(const struct fake_sdhci *f)
{
	return f->violation;
}

bool fake_sdhci_irq(const struct fake_sdhci *f)
{
	uint32_t nis = get(f, REG_NIS, 2) & 0x7FFF, eis = get(f, REG_EIS, 2);

	return (nis & get(f, REG_NIS_SIG, 2)) || (eis & get(f, REG_EIS_SIG, 2));
}

unsigned int fake_sdhci_bus_width(const struct fake_sdhci *f)
{
	uint32_t host1 = get(f, REG_HOST1, 1);

	return host1 & HOST1_8BIT ? 8 : host1 & HOST1_4BIT ? 4 : 1;
}

unsigned int fake_sdhci_card_bus_width(const struct fake_sdhci *f)
{
	return f->width;
}

uint32_t fake_sdhci_clock_divider(const struct fake_sdhci *f)
{
	uint32_t clk = get(f, REG_CLOCK, 2);

	return (clk >> 8 & 0xFF) | (clk >> 6 & 3) << 8;
}

uint32_t fake_sdhci_clock_hz(const struct fake_sdhci *f)
{
	return clock_hz(f);
}

bool fake_sdhci_high_speed(const struct fake_sdhci *f)
{
	return get(f, REG_HOST1, 1) & HOST1_HS;
}

bool fake_sdhci_card_high_speed(const struct fake_sdhci *f)
{
	return f->hs;
}

enum fake_card_state fake_sdhci_card_state(const struct fake_sdhci *f)
{
	return f->state;
}
