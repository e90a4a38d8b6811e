/* The SD card protocol over a host's ops (see mmc.h); SD spec = SD Physical Layer 6.00. */
#include <errno.h>
#include <string.h>

#include "arch/timer.h"
#include "blk/mmc.h"
#include "lib/log.h"

/* SD spec §4.2.3: a card that is not ready after a second of ACMD41 never will be. */
#define READY_TIMEOUT_NS 1000000000ull
#define CMD8_PATTERN     0x1aau      /* 2.7-3.6 V, check pattern 0xaa (§4.3.13) */
#define OCR_VOLTAGES     0x00ff8000u /* 2.7-3.6 V (§5.1) */
#define OCR_HCS          (1u << 30)  /* host supports SDHC/SDXC; in the answer: CCS */
#define OCR_READY        (1u << 31)
#define CLOCK_INIT_HZ    400000u
#define CLOCK_DEFAULT_HZ 25000000u
#define CLOCK_HIGH_HZ    50000000u

/* Bits hi..lo of a 128-bit register held as four words, resp[0] the lowest. */
static uint32_t bits(const uint32_t r[4], unsigned int hi, unsigned int lo)
{
	uint32_t v = 0;

	for (unsigned int b = hi + 1; b-- > lo;)
		v = v << 1 | (r[b / 32] >> (b % 32) & 1u);
	return v;
}

uint64_t mmc_csd_blocks(const uint32_t csd[4])
{
	switch (bits(csd, 127, 126)) {
	case 0: { /* §5.3.2: (C_SIZE + 1) * 2^(C_SIZE_MULT + 2) blocks of 2^READ_BL_LEN bytes */
		uint64_t bytes = (uint64_t)(bits(csd, 73, 62) + 1)
		                 << (bits(csd, 49, 47) + 2 + bits(csd, 83, 80));

		return bytes / MMC_BLOCK_SIZE;
	}
	case 1: /* §5.3.3: (C_SIZE + 1) * 512 KiB, C_SIZE 22 bits */
		return ((uint64_t)bits(csd, 69, 48) + 1) * 1024;
	case 2: /* §5.3.4 (SDUC): the same with 28 bits */
		return ((uint64_t)bits(csd, 75, 48) + 1) * 1024;
	default:
		return 0;
	}
}

uint32_t mmc_card_address(const struct mmc_card *card, uint64_t block)
{
	return card->block_addressed ? (uint32_t)block : (uint32_t)(block * MMC_BLOCK_SIZE);
}

int mmc_cmd_wait(struct mmc_host *host, struct mmc_cmd *cmd, struct mmc_data *data)
{
	int rc = host->ops->start(host, cmd, data);

	if (rc)
		return rc;
	do
		rc = host->ops->poll(host);
	while (rc == -EINPROGRESS || rc == -EAGAIN);
	return rc;
}

/* A few bytes read from the card into memory (SCR, switch status). */
struct mem {
	uint8_t *p;
	uint32_t len;
};

static int mem_put(void *ctx, uint32_t offset, const void *src, uint32_t len)
{
	struct mem *m = ctx;

	if (offset > m->len || len > m->len - offset)
		return -EINVAL;
	memcpy(m->p + offset, src, len);
	return 0;
}

static const struct mmc_data_ops mem_ops = {.put = mem_put};

/* One command; a failure is logged unless `quiet` (a command whose failure says something). */
static int cmd(struct mmc_card *card, uint8_t index, uint32_t arg, enum mmc_resp type,
               struct mmc_data *data, uint32_t *r, bool quiet)
{
	struct mmc_cmd c = {.index = index, .arg = arg, .resp_type = type};
	int rc = mmc_cmd_wait(card->host, &c, data);

	if (rc == 0 && (type == MMC_RESP_R1 || type == MMC_RESP_R1B) && (c.resp[0] & MMC_R1_ERRORS))
		rc = -EIO;
	if (rc && !quiet)
		log_warn("mmc: %s: CMD%u (argument %#x) failed (%d), response %#x",
		         card->host->name, index, arg, rc, c.resp[0]);
	if (r)
		memcpy(r, c.resp, type == MMC_RESP_R2 ? 16 : 4);
	return rc;
}

/* An application command: CMD55 with our address, then ACMD `index` (SD spec §4.3.9). */
static int app_cmd(struct mmc_card *card, uint8_t index, uint32_t arg, enum mmc_resp type,
                   struct mmc_data *data, uint32_t *r, bool quiet)
{
	int rc = cmd(card, 55, (uint32_t)card->rca << 16, MMC_RESP_R1, NULL, NULL, quiet);

	return rc ? rc : cmd(card, index, arg, type, data, r, quiet);
}

/* A short data read of `len` bytes (one block) into buf. */
static int read_small(struct mmc_card *card, bool app, uint8_t index, uint32_t arg, void *buf,
                      uint32_t len, bool quiet)
{
	struct mem m = {buf, len};
	struct mmc_data d = {.block_size = len, .block_count = 1, .ops = &mem_ops, .ctx = &m};

	return app ? app_cmd(card, index, arg, MMC_RESP_R1, &d, NULL, quiet)
	           : cmd(card, index, arg, MMC_RESP_R1, &d, NULL, quiet);
}

int mmc_read_wait(struct mmc_card *card, uint64_t block, uint32_t count, void *buf)
{
	if (block > card->block_count || count > card->block_count - block)
		return -ERANGE;
	for (uint32_t i = 0; i < count; i++) {
		int rc =
		    read_small(card, false, 17, mmc_card_address(card, block + i),
		               (uint8_t *)buf + (size_t)i * MMC_BLOCK_SIZE, MMC_BLOCK_SIZE, false);

		if (rc)
			return rc;
	}
	return 0;
}

/* ACMD41 until the card is powered up (§4.2.3.1); ocr is what the host offers. */
static int wait_ready(struct mmc_card *card, uint32_t ocr)
{
	uint64_t deadline = arch_timer_now_ns() + READY_TIMEOUT_NS;
	int rc;

	do {
		rc = app_cmd(card, 41, ocr, MMC_RESP_R3, NULL, &card->ocr, true);
		if (rc) {
			/* An MMC or eMMC answers neither CMD55 nor ACMD41: CMD1 is its way. */
			log_error("mmc: %s: no answer to ACMD41 (%d): not an SD card (eMMC is not "
			          "supported yet)",
			          card->host->name, rc);
			return -ENODEV;
		}
		if (card->ocr & OCR_READY)
			return 0;
	} while (arch_timer_now_ns() < deadline);
	log_error("mmc: %s: card still busy after 1 s of ACMD41 (OCR %#x)", card->host->name,
	          card->ocr);
	return -ENODEV;
}

/* 4-bit bus when the card has one (SCR SD_BUS_WIDTHS, §5.6), then high speed (§4.3.10). */
static int set_bus(struct mmc_card *card)
{
	struct mmc_host *host = card->host;
	uint8_t scr[8], status[64];
	int rc;

	card->width = 1;
	card->clock_hz = CLOCK_DEFAULT_HZ;
	if ((rc = host->ops->set_ios(host, card->clock_hz, 1, false)))
		return rc;
	if ((rc = read_small(card, true, 51, 0, scr, sizeof(scr), false)))
		return rc;
	card->scr[0] = (uint32_t)scr[0] << 24 | scr[1] << 16 | scr[2] << 8 | scr[3];
	card->scr[1] = (uint32_t)scr[4] << 24 | scr[5] << 16 | scr[6] << 8 | scr[7];
	if (scr[1] & 0x04) { /* SD_BUS_WIDTHS bit 2: 4 bits */
		if ((rc = app_cmd(card, 6, 2, MMC_RESP_R1, NULL, NULL, false)) ||
		    (rc = host->ops->set_ios(host, card->clock_hz, 4, false)))
			return rc;
		card->width = 4;
	}
	/* CMD6 exists from SD 1.10 (SCR SD_SPEC >= 1); function 1 of group 1 is high speed. */
	if (!host->high_speed || (scr[0] & 0x0f) < 1)
		return 0;
	/* High speed is optional: a card that will not switch stays at the default speed. */
	if (read_small(card, false, 6, 0x00fffff1, status, sizeof(status), true) ||
	    !(status[13] & 0x02)) /* bits 415..400: functions group 1 supports */
		return 0;
	if (read_small(card, false, 6, 0x80fffff1, status, sizeof(status), true) ||
	    (status[16] & 0x0f) != 1) /* bits 379..376: the function group 1 switched to */
		return 0;
	card->high_speed = true;
	card->clock_hz = CLOCK_HIGH_HZ;
	return host->ops->set_ios(host, card->clock_hz, card->width, true);
}

int mmc_card_init(struct mmc_card *card, struct mmc_host *host)
{
	uint32_t r = 0, ocr = OCR_VOLTAGES;
	int rc;

	memset(card, 0, sizeof(*card));
	card->host = host;
	if ((rc = host->ops->init(host)))
		return rc;
	if (!host->ops->card_present(host)) {
		log_error("mmc: %s: no card in the slot", host->name);
		return -ENXIO;
	}
	if ((rc = host->ops->set_ios(host, CLOCK_INIT_HZ, 1, false)) ||
	    (rc = cmd(card, 0, 0, MMC_RESP_NONE, NULL, NULL, false)))
		return rc;
	/* SD 2.0 and later answer CMD8 (§4.3.13); an SD 1.x card stays silent. */
	rc = cmd(card, 8, CMD8_PATTERN, MMC_RESP_R7, NULL, &r, true);
	if (rc == 0 && (r & 0xfff) != CMD8_PATTERN) {
		log_error("mmc: %s: CMD8 echoed %#x, not %#x: unusable card", host->name, r,
		          CMD8_PATTERN);
		return -ENODEV;
	}
	if (rc == 0)
		ocr |= OCR_HCS;
	if ((rc = wait_ready(card, ocr)))
		return rc;
	card->block_addressed = card->ocr & OCR_HCS;
	card->write_protected = host->ops->write_protected(host);
	if ((rc = cmd(card, 2, 0, MMC_RESP_R2, NULL, card->cid, false)) ||
	    (rc = cmd(card, 3, 0, MMC_RESP_R6, NULL, &r, false)))
		return rc;
	card->rca = (uint16_t)(r >> 16);
	if ((rc = cmd(card, 9, (uint32_t)card->rca << 16, MMC_RESP_R2, NULL, card->csd, false)))
		return rc;
	card->block_count = mmc_csd_blocks(card->csd);
	if (card->block_count == 0) {
		log_error("mmc: %s: CSD structure %u is not one this driver knows", host->name,
		          bits(card->csd, 127, 126));
		return -ENODEV;
	}
	/*
	 * What a 32-bit argument reaches: 2^32 blocks, or 4 GiB of bytes. Past it an address
	 * would wrap onto blocks at the start of the card (an SDUC card needs CMD22 first).
	 */
	if (card->block_count > (card->block_addressed ? 1ull << 32 : 1ull << 23)) {
		log_error("mmc: %s: the CSD says %llu blocks, more than %s addresses reach%s",
		          host->name, (unsigned long long)card->block_count,
		          card->block_addressed ? "32-bit block" : "byte",
		          card->block_addressed ? " (SDUC cards are not supported)" : "");
		return -ENODEV;
	}
	if ((rc = cmd(card, 7, (uint32_t)card->rca << 16, MMC_RESP_R1B, NULL, NULL, false)) ||
	    (rc = set_bus(card)))
		return rc;
	/* A byte-addressed card reads and writes in blocks of the length CMD16 set (§4.3.1). */
	if (!card->block_addressed &&
	    (rc = cmd(card, 16, MMC_BLOCK_SIZE, MMC_RESP_R1, NULL, NULL, false)))
		return rc;
	log_info("mmc: %s: SD%s card, manufacturer %#x serial %08x, %llu MiB, %u-bit bus at %u "
	         "MHz%s",
	         host->name, card->block_addressed ? "HC/XC" : "SC", bits(card->cid, 127, 120),
	         bits(card->cid, 55, 24), (unsigned long long)(card->block_count / 2048),
	         card->width, card->clock_hz / 1000000, card->high_speed ? " (high speed)" : "");
	return 0;
}
