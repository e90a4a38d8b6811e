/* SDHCI as an mmc host: PIO or ADMA2, polled (sdhci.h). SDHCI = SD Host Controller spec 3.00 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/cpu.h"
#include "arch/mmio.h"
#include "arch/timer.h"
#include "blk/sdhci.h"
#include "lib/log.h"

/* Present State (§2.2.9) */
#define PS_CMD_INHIBIT  (1u << 0)
#define PS_DAT_INHIBIT  (1u << 1)
#define PS_CARD_PRESENT (1u << 16)
#define PS_WRITABLE     (1u << 19) /* write-protect switch level: 1 = writes allowed */
/* Normal / Error Interrupt Status (§2.2.17, §2.2.18) */
#define INT_CMD_DONE     (1u << 0)
#define INT_XFER_DONE    (1u << 1)
#define INT_WRITE_RDY    (1u << 4)
#define INT_READ_RDY     (1u << 5)
#define INT_INSERT       (1u << 6)
#define INT_REMOVE       (1u << 7)
#define INT_ERROR        (1u << 15)
#define ERR_CMD_TIMEOUT  (1u << 0)
#define ERR_DATA_TIMEOUT (1u << 4)
#define ERR_CRC_END_IDX  0x006eu /* CMD CRC, end bit, index; DATA CRC, end bit */
#define ERR_ADMA         (1u << 9)
/* Transfer Mode (§2.2.5) and Command (§2.2.6) */
#define TM_DMA         (1u << 0)
#define TM_BLOCK_COUNT (1u << 1)
#define TM_AUTO_CMD12  (1u << 2)
#define TM_READ        (1u << 4)
#define TM_MULTI       (1u << 5)
#define CMD_RESP_136   0x01u
#define CMD_RESP_48    0x02u
#define CMD_RESP_BUSY  0x03u
#define CMD_CRC        (1u << 3)
#define CMD_INDEX      (1u << 4)
#define CMD_DATA       (1u << 5)
#define CMD_ABORT      (3u << 6)
/* Clock Control (§2.2.14), Software Reset (§2.2.16), Host Control 1 (§2.2.11) */
#define CLK_INT_EN     (1u << 0)
#define CLK_INT_STABLE (1u << 1)
#define CLK_CARD_EN    (1u << 2)
#define RESET_ALL      (1u << 0)
#define RESET_CMD      (1u << 1)
#define RESET_DAT      (1u << 2)
#define HC_4BIT        (1u << 1)
#define HC_HIGH_SPEED  (1u << 2)
#define HC_DMA_SELECT  (3u << 3)
#define HC_ADMA2_32    (2u << 3)
/* Capabilities (§2.2.26) */
#define CAP_ADMA2      (1u << 19)
#define CAP_HIGH_SPEED (1u << 21)
#define CAP_3V3        (1u << 24)
#define CAP_3V0        (1u << 25)

#define CMD_TIMEOUT_NS   (100ull * 1000000u)  /* the controller's own is 64 card clocks */
#define DATA_TIMEOUT_NS  (1000ull * 1000000u) /* per block, and for busy (SD spec §4.6.2) */
#define RESET_TIMEOUT_US 100000u
#define CLOCK_TIMEOUT_US 20000u
#define BLOCKS_PER_POLL  16u /* PIO in one poll() at most: other work waits meanwhile */
#define SETTLE_US        1000u /* after power on and after a clock change */
/* ADMA2 32-bit descriptors (§1.13.4): attribute bits 15..0, length 31..16, address 63..32. */
#define ADMA_VALID       (1u << 0)
#define ADMA_END         (1u << 1)
#define ADMA_TRAN        (2u << 4)
#define ADMA_TABLE_BYTES 4096u   /* at the start of the DMA buffer; the data follows */
#define ADMA_CHUNK       0x8000u /* bytes a descriptor moves: within the 16-bit length */

/*
 * The controllers vdisk drives, by device-tree compatible, with their quirks (Linux
 * drivers/mmc/host/sdhci-iproc.c for the iProc ones). "pci1b36,7" is QEMU's sdhci-pci named
 * as the PCI bus binding names a function (vendor 1b36, device 7).
 */
static const struct {
	const char *compatible;
	uint32_t quirks;
} quirk_table[] = {
    {"pci1b36,7", 0},
    {"brcm,bcm2711-emmc2", SDHCI_QUIRK_32BIT_ONLY},
    {"brcm,bcm2835-sdhci", SDHCI_QUIRK_32BIT_ONLY | SDHCI_QUIRK_NO_BASE_CLOCK},
    {"xlnx,zynqmp-8.9a", 0},
    {"arasan,sdhci-8.9a", 0},
};

bool sdhci_compatible(const char *compatible)
{
	for (unsigned int i = 0; i < sizeof(quirk_table) / sizeof(quirk_table[0]); i++)
		if (strcmp(compatible, quirk_table[i].compatible) == 0)
			return true;
	return false;
}

/* ---- register access: 8, 16 and 32 bits, or 32 only (SDHCI_QUIRK_32BIT_ONLY) ---- */

static uint32_t rd32(const struct sdhci *h, uint32_t off)
{
	return mmio_read_32(h->base + off);
}

static uint16_t rd16(const struct sdhci *h, uint32_t off)
{
	if (h->quirks & SDHCI_QUIRK_32BIT_ONLY)
		return (uint16_t)(rd32(h, off & ~3u) >> (off & 2u) * 8);
	return mmio_read_16(h->base + off);
}

static uint8_t rd8(const struct sdhci *h, uint32_t off)
{
	if (h->quirks & SDHCI_QUIRK_32BIT_ONLY)
		return (uint8_t)(rd32(h, off & ~3u) >> (off & 3u) * 8);
	return mmio_read_8(h->base + off);
}

static void wr32(const struct sdhci *h, uint32_t off, uint32_t v)
{
	mmio_write_32(h->base + off, v);
}

/*
 * A 16-bit write as a 32-bit one. Status registers are write-1-to-clear, so the other half
 * is written as 0, not read back; Transfer Mode waits to go out with the Command it belongs
 * to, as writing the Command register starts the command (SDHCI §2.2.6).
 */
static void wr16(struct sdhci *h, uint32_t off, uint16_t v)
{
	uint32_t shift = (off & 2u) * 8, word;

	if (!(h->quirks & SDHCI_QUIRK_32BIT_ONLY)) {
		mmio_write_16(h->base + off, v);
		return;
	}
	if (off == SDHCI_TRANSFER_MODE) {
		h->transfer_mode = v;
		return;
	}
	if (off == SDHCI_COMMAND) {
		wr32(h, SDHCI_TRANSFER_MODE, (uint32_t)v << 16 | h->transfer_mode);
		return;
	}
	word = off == SDHCI_INT_STATUS || off == SDHCI_ERR_STATUS ? 0 : rd32(h, off & ~3u);
	word = (word & ~(0xffffu << shift)) | (uint32_t)v << shift;
	wr32(h, off & ~3u, word);
}

static void wr8(struct sdhci *h, uint32_t off, uint8_t v)
{
	uint32_t shift = (off & 3u) * 8, word;

	if (!(h->quirks & SDHCI_QUIRK_32BIT_ONLY)) {
		mmio_write_8(h->base + off, v);
		return;
	}
	word = rd32(h, off & ~3u);
	/* Software Reset shares its word with Clock and Timeout: those stay as they are. */
	wr32(h, off & ~3u, (word & ~(0xffu << shift)) | (uint32_t)v << shift);
}

/* Polls an 8-bit register until (value & mask) == 0, for at most timeout_us. */
static int wait8_clear(const struct sdhci *h, uint32_t off, uint8_t mask, uint32_t timeout_us)
{
	uint64_t deadline = arch_timer_now_ns() + (uint64_t)timeout_us * 1000u;

	while (rd8(h, off) & mask)
		if (arch_timer_now_ns() > deadline)
			return -ETIMEDOUT;
	return 0;
}

/*
 * Waits `us` microseconds, reading Present State meanwhile (which is what lets time pass on
 * the host fake too): for the card to settle after power and clock changes.
 */
static void settle(const struct sdhci *h, uint32_t us)
{
	uint64_t deadline = arch_timer_now_ns() + (uint64_t)us * 1000u;

	while (arch_timer_now_ns() < deadline)
		(void)rd32(h, SDHCI_PRESENT_STATE);
}

static struct sdhci *to_sdhci(struct mmc_host *host)
{
	return (struct sdhci *)host;
}

/* Software reset of `what` (RESET_ALL, RESET_CMD | RESET_DAT), SDHCI §2.2.16. */
static int reset(struct sdhci *h, uint8_t what)
{
	int rc;

	wr8(h, SDHCI_SOFTWARE_RESET, what);
	rc = wait8_clear(h, SDHCI_SOFTWARE_RESET, what, RESET_TIMEOUT_US);
	if (rc)
		log_error("sdhci: %s: software reset %#x did not end (register %#x)", h->name, what,
		          rd8(h, SDHCI_SOFTWARE_RESET));
	return rc;
}

/* ---- mmc_host_ops ---- */

static int set_clock(struct sdhci *h, uint32_t hz)
{
	uint32_t div = 0, clk;
	int rc;

	wr16(h, SDHCI_CLOCK_CONTROL, 0);
	if (h->base_clock_hz > hz) {
		if (h->version >= 2) { /* 10-bit divided clock: base / (2 * div) */
			div = (h->base_clock_hz + 2 * hz - 1) / (2 * hz);
			div = div > 0x3ff ? 0x3ff : div;
		} else { /* 8-bit power of two: base / (2 * div), div 1..128 */
			for (div = 1; div < 0x80 && h->base_clock_hz / (2 * div) > hz; div *= 2)
				;
		}
	}
	clk = (div & 0xffu) << 8 | (div >> 8 & 0x3u) << 6 | CLK_INT_EN;
	wr16(h, SDHCI_CLOCK_CONTROL, (uint16_t)clk);
	rc = mmio_read_32_poll_timeout(h->base + SDHCI_CLOCK_CONTROL, CLK_INT_STABLE,
	                               CLK_INT_STABLE, CLOCK_TIMEOUT_US, NULL);
	if (rc) {
		log_error("sdhci: %s: internal clock not stable (clock control %#x)", h->name,
		          rd16(h, SDHCI_CLOCK_CONTROL));
		return rc;
	}
	wr16(h, SDHCI_CLOCK_CONTROL, (uint16_t)(clk | CLK_CARD_EN));
	h->clock_hz = div ? h->base_clock_hz / (2 * div) : h->base_clock_hz;
	settle(h, SETTLE_US); /* SD spec §6.4.1: 74 clocks before the next command */
	return 0;
}

static int sdhci_set_ios(struct mmc_host *host, uint32_t clock_hz, unsigned int width,
                         bool high_speed)
{
	struct sdhci *h = to_sdhci(host);
	uint8_t ctrl = rd8(h, SDHCI_HOST_CONTROL) & (uint8_t) ~(HC_4BIT | HC_HIGH_SPEED);
	int rc = set_clock(h, clock_hz);

	if (rc)
		return rc;
	if (width == 4)
		ctrl |= HC_4BIT;
	if (high_speed)
		ctrl |= HC_HIGH_SPEED;
	wr8(h, SDHCI_HOST_CONTROL, ctrl);
	return 0;
}

static int sdhci_host_init(struct mmc_host *host)
{
	struct sdhci *h = to_sdhci(host);
	uint32_t caps = rd32(h, SDHCI_CAPABILITIES);
	uint8_t volts = caps & CAP_3V3 ? 7u << 1 : 6u << 1; /* 3.3 V, else 3.0 V (§2.2.12) */
	int rc;

	h->stage = SDHCI_IDLE;
	if ((rc = reset(h, RESET_ALL)))
		return rc;
	wr8(h, SDHCI_POWER_CONTROL, volts);
	wr8(h, SDHCI_POWER_CONTROL, volts | 1u);
	settle(h, SETTLE_US); /* SD spec §6.4.1: supply ramp-up, 1 ms */
	wr8(h, SDHCI_TIMEOUT_CONTROL, 0x0e); /* the longest data timeout */
	/* Status bits on, signals off: vdisk polls (SDHCI §2.2.19-22). */
	wr16(h, SDHCI_INT_ENABLE,
	     INT_CMD_DONE | INT_XFER_DONE | INT_WRITE_RDY | INT_READ_RDY | INT_INSERT | INT_REMOVE);
	wr16(h, SDHCI_ERR_ENABLE, 0x03ff);
	wr16(h, SDHCI_INT_SIGNAL, 0);
	wr16(h, SDHCI_ERR_SIGNAL, 0);
	return 0;
}

static bool sdhci_card_present(struct mmc_host *host)
{
	return rd32(to_sdhci(host), SDHCI_PRESENT_STATE) & PS_CARD_PRESENT;
}

static bool sdhci_write_protected(struct mmc_host *host)
{
	return !(rd32(to_sdhci(host), SDHCI_PRESENT_STATE) & PS_WRITABLE);
}

static uint16_t command_bits(const struct mmc_cmd *cmd, bool data)
{
	uint16_t v = (uint16_t)(cmd->index << 8);

	switch (cmd->resp_type) {
	case MMC_RESP_NONE:
		break;
	case MMC_RESP_R2:
		v |= CMD_RESP_136 | CMD_CRC;
		break;
	case MMC_RESP_R3:
		v |= CMD_RESP_48;
		break;
	case MMC_RESP_R1B:
		v |= CMD_RESP_BUSY | CMD_CRC | CMD_INDEX;
		break;
	default:
		v |= CMD_RESP_48 | CMD_CRC | CMD_INDEX;
		break;
	}
	if (data)
		v |= CMD_DATA;
	if (cmd->index == 12)
		v |= CMD_ABORT;
	return v;
}

/* Whether this transfer goes by ADMA2: 512-byte blocks that fit the buffer (sdhci_use_dma). */
static bool dma_fits(const struct sdhci *h, const struct mmc_data *data)
{
	return h->dma_buf && data->block_size == MMC_BLOCK_SIZE &&
	       data->block_count <= (h->dma_size - ADMA_TABLE_BYTES) / MMC_BLOCK_SIZE;
}

/*
 * Readies the buffer for an ADMA2 transfer of `data`: a write's bytes copied in, the table
 * written, both out of the data cache; returns 0 or the copy's error.
 */
static int dma_prepare(struct sdhci *h, struct mmc_data *data)
{
	uint32_t total = data->block_count * data->block_size, *desc = (uint32_t *)h->dma_buf;
	uint8_t *bytes = h->dma_buf + ADMA_TABLE_BYTES;
	int rc;

	if (data->write && (rc = data->ops->get(data->ctx, 0, bytes, total)))
		return rc;
	for (uint32_t done = 0; done < total; done += ADMA_CHUNK, desc += 2) {
		uint32_t len = total - done < ADMA_CHUNK ? total - done : ADMA_CHUNK;

		desc[0] = ADMA_VALID | ADMA_TRAN | (done + len == total ? ADMA_END : 0) | len << 16;
		desc[1] = h->dma_bus + ADMA_TABLE_BYTES + done;
	}
	arch_cpu_dcache_clean_inval(h->dma_buf, ADMA_TABLE_BYTES + total);
	wr32(h, SDHCI_ADMA_ADDRESS, h->dma_bus);
	wr8(h, SDHCI_HOST_CONTROL,
	    (uint8_t)((rd8(h, SDHCI_HOST_CONTROL) & ~HC_DMA_SELECT) | HC_ADMA2_32));
	return 0;
}

static int sdhci_start(struct mmc_host *host, struct mmc_cmd *cmd, struct mmc_data *data)
{
	struct sdhci *h = to_sdhci(host);
	uint32_t ps = rd32(h, SDHCI_PRESENT_STATE);
	bool uses_dat = data || cmd->resp_type == MMC_RESP_R1B;

	if (h->stage != SDHCI_IDLE)
		return -EBUSY;
	if (!(ps & PS_CARD_PRESENT))
		return -ENXIO;
	if ((ps & PS_CMD_INHIBIT) || (uses_dat && cmd->index != 12 && (ps & PS_DAT_INHIBIT)))
		return -EBUSY;
	if (data && (data->block_size == 0 || data->block_size > MMC_BLOCK_SIZE ||
	             data->block_size % 4 || data->block_count == 0 || data->block_count > 0xffff))
		return -EINVAL;
	h->dma_now = data && dma_fits(h, data);
	if (h->dma_now && dma_prepare(h, data)) {
		h->dma_now = false;
		return -EIO;
	}
	wr16(h, SDHCI_INT_STATUS, 0xffff);
	wr16(h, SDHCI_ERR_STATUS, 0xffff);
	if (data) {
		uint16_t tm =
		    TM_BLOCK_COUNT | (data->write ? 0 : TM_READ) | (h->dma_now ? TM_DMA : 0);

		if (data->block_count > 1)
			tm |= TM_MULTI | (data->auto_stop ? TM_AUTO_CMD12 : 0);
		wr16(h, SDHCI_BLOCK_SIZE, (uint16_t)data->block_size);
		wr16(h, SDHCI_BLOCK_COUNT, (uint16_t)data->block_count);
		wr16(h, SDHCI_TRANSFER_MODE, tm);
	} else {
		wr16(h, SDHCI_TRANSFER_MODE, 0);
	}
	wr32(h, SDHCI_ARGUMENT, cmd->arg);
	h->cmd = cmd;
	h->data = data;
	h->block = 0;
	h->stage = SDHCI_CMD;
	h->deadline = arch_timer_now_ns() + CMD_TIMEOUT_NS;
	wr16(h, SDHCI_COMMAND, command_bits(cmd, data != NULL));
	return 0;
}

/* The response registers hold bits 127..8 of an R2 and bits 39..8 of the others (§2.2.7). */
static void read_response(struct sdhci *h)
{
	struct mmc_cmd *cmd = h->cmd;
	uint32_t r[4];

	if (cmd->resp_type == MMC_RESP_NONE)
		return;
	if (cmd->resp_type != MMC_RESP_R2) {
		cmd->resp[0] = rd32(h, SDHCI_RESPONSE);
		return;
	}
	for (unsigned int i = 0; i < 4; i++)
		r[i] = rd32(h, SDHCI_RESPONSE + 4 * i);
	for (unsigned int i = 0; i < 4; i++)
		cmd->resp[i] = r[i] << 8 | (i ? r[i - 1] >> 24 : 0);
}

/* Ends the command with rc; an error resets the command and data lines (SDHCI §3.10). */
/* Signals the status the stage waits for, and every error (sdhci_use_irq). */
static void arm(struct sdhci *h)
{
	uint16_t wanted = h->stage == SDHCI_CMD    ? INT_CMD_DONE
	                  : h->stage == SDHCI_DONE ? INT_XFER_DONE
	                  : h->data->write         ? INT_WRITE_RDY
	                                           : INT_READ_RDY;

	wr16(h, SDHCI_ERR_SIGNAL, 0x03ff);
	wr16(h, SDHCI_INT_SIGNAL, wanted);
}

void sdhci_irq(struct sdhci *h)
{
	wr16(h, SDHCI_INT_SIGNAL, 0);
	wr16(h, SDHCI_ERR_SIGNAL, 0);
}

void sdhci_irq_check(struct sdhci *h)
{
	wr16(h, SDHCI_ERR_SIGNAL, ERR_CMD_TIMEOUT);
	wr16(h, SDHCI_FORCE_ERR, ERR_CMD_TIMEOUT);
}

void sdhci_irq_check_end(struct sdhci *h)
{
	sdhci_irq(h);
	wr16(h, SDHCI_ERR_STATUS, 0xffff);
}

void sdhci_use_irq(struct sdhci *h)
{
	h->irq = true;
	h->host.irq = true;
}

static int end(struct sdhci *h, int rc)
{
	if (h->irq)
		sdhci_irq(h); /* nothing to wait for */
	h->stage = SDHCI_IDLE;
	h->cmd = NULL;
	h->data = NULL;
	h->dma_now = false;
	if (rc) {
		wr16(h, SDHCI_ERR_STATUS, 0xffff);
		wr16(h, SDHCI_INT_STATUS, 0xffff);
		reset(h, RESET_CMD | RESET_DAT);
	}
	return rc;
}

/* An error the controller reports, as an errno, logged with the registers. */
static int error(struct sdhci *h)
{
	uint16_t err = rd16(h, SDHCI_ERR_STATUS);
	int rc = -EIO;

	if (err & (ERR_CMD_TIMEOUT | ERR_DATA_TIMEOUT))
		rc = -ETIMEDOUT;
	else if (err & ERR_CRC_END_IDX)
		rc = -EILSEQ;
	/* A command timeout is how a card says "not this command": the caller decides. */
	if (err != ERR_CMD_TIMEOUT && h->dma_now)
		log_warn("sdhci: %s: CMD%u failed: error status %#x, ADMA error status %#x, during "
		         "a DMA of %u blocks",
		         h->name, h->cmd->index, err, rd8(h, SDHCI_ADMA_ERROR),
		         h->data->block_count);
	else if (err != ERR_CMD_TIMEOUT)
		log_warn("sdhci: %s: CMD%u failed: error status %#x, block %u of %u", h->name,
		         h->cmd->index, err, h->block, h->data ? h->data->block_count : 0);
	return end(h, rc);
}

/* Moves up to BLOCKS_PER_POLL blocks through the Buffer Data Port; 0 or a copy's error. */
static int move_blocks(struct sdhci *h, uint16_t status)
{
	struct mmc_data *d = h->data;
	uint32_t buf[MMC_BLOCK_SIZE / 4];
	uint16_t ready = d->write ? INT_WRITE_RDY : INT_READ_RDY;
	/*
	 * The port's address in a local: an access is an asm with a memory clobber, after which
	 * h->base would be loaded again for every word (7 instructions a word instead of 4).
	 */
	const uintptr_t port = h->base + SDHCI_BUFFER;

	for (unsigned int n = 0; n < BLOCKS_PER_POLL && h->block < d->block_count; n++) {
		uint32_t words = d->block_size / 4, offset = h->block * d->block_size;
		int rc;

		if (!(status & ready))
			break;
		wr16(h, SDHCI_INT_STATUS, ready);
		if (d->write) {
			if ((rc = d->ops->get(d->ctx, offset, buf, d->block_size)))
				return rc;
			for (const uint32_t *w = buf; w < buf + words; w++)
				mmio_write_32(port, *w);
		} else {
			for (uint32_t *w = buf; w < buf + words; w++)
				*w = mmio_read_32(port);
			if ((rc = d->ops->put(d->ctx, offset, buf, d->block_size)))
				return rc;
		}
		h->block++;
		h->deadline = arch_timer_now_ns() + DATA_TIMEOUT_NS;
		status = rd16(h, SDHCI_INT_STATUS);
		if (status & INT_ERROR)
			break;
	}
	return 0;
}

static int sdhci_poll(struct mmc_host *host)
{
	struct sdhci *h = to_sdhci(host);
	uint16_t status;
	int rc;

	if (h->stage == SDHCI_IDLE)
		return 0;
	status = rd16(h, SDHCI_INT_STATUS);
	if (status & INT_ERROR)
		return error(h);
	if (h->stage == SDHCI_CMD && (status & INT_CMD_DONE)) {
		wr16(h, SDHCI_INT_STATUS, INT_CMD_DONE);
		read_response(h);
		if (!h->data && h->cmd->resp_type != MMC_RESP_R1B)
			return end(h, 0);
		h->stage = h->data && !h->dma_now ? SDHCI_DATA : SDHCI_DONE;
		/* PIO: a timeout a block, renewed as each moves; DMA: the same for all of them */
		h->deadline =
		    arch_timer_now_ns() + DATA_TIMEOUT_NS * (h->dma_now ? h->data->block_count : 1);
		status = rd16(h, SDHCI_INT_STATUS);
	}
	if (h->stage == SDHCI_DATA) {
		uint32_t before = h->block;

		if ((rc = move_blocks(h, status))) {
			log_warn("sdhci: %s: CMD%u: block %u's copy failed (%d)", h->name,
			         h->cmd->index, h->block, rc);
			return end(h, -EIO);
		}
		if (h->block == h->data->block_count)
			h->stage = SDHCI_DONE;
		status = rd16(h, SDHCI_INT_STATUS);
		if (status & INT_ERROR)
			return error(h);
		if (h->stage == SDHCI_DATA && h->block != before)
			return -EAGAIN; /* data flows: the caller comes back at once */
	}
	if (h->stage == SDHCI_DONE && (status & INT_XFER_DONE)) {
		struct mmc_data *d = h->data;

		wr16(h, SDHCI_INT_STATUS, INT_XFER_DONE);
		if (h->dma_now && !d->write) {
			uint32_t total = d->block_count * d->block_size;

			/* Lines the CPU may have fetched meanwhile go: memory has the DMA's. */
			arch_cpu_dcache_clean_inval(h->dma_buf + ADMA_TABLE_BYTES, total);
			rc = d->ops->put(d->ctx, 0, h->dma_buf + ADMA_TABLE_BYTES, total);
			if (rc) {
				log_warn("sdhci: %s: CMD%u: the DMA's copy failed (%d)", h->name,
				         h->cmd->index, rc);
				return end(h, -EIO);
			}
		}
		return end(h, 0);
	}
	if (arch_timer_now_ns() > h->deadline) {
		log_warn("sdhci: %s: CMD%u timed out waiting for %s (status %#x, present %#x)",
		         h->name, h->cmd->index,
		         h->stage == SDHCI_CMD    ? "its response"
		         : h->stage == SDHCI_DATA ? "data"
		                                  : "the end of busy",
		         status, rd32(h, SDHCI_PRESENT_STATE));
		return end(h, -ETIMEDOUT);
	}
	/*
	 * A status that came after it was read makes the line rise as soon as its signal is on:
	 * nothing is lost between the read and the arming.
	 */
	if (h->irq)
		arm(h);
	return -EINPROGRESS;
}

static const struct mmc_host_ops sdhci_ops = {
    .init = sdhci_host_init,
    .set_ios = sdhci_set_ios,
    .card_present = sdhci_card_present,
    .write_protected = sdhci_write_protected,
    .start = sdhci_start,
    .poll = sdhci_poll,
};

int sdhci_use_dma(struct sdhci *h, void *buf, uint64_t bus, uint32_t size)
{
	const char *why = NULL;

	if (!(rd32(h, SDHCI_CAPABILITIES) & CAP_ADMA2))
		why = "the controller has no ADMA2";
	else if (bus % ADMA_TABLE_BYTES || (uintptr_t)buf % ADMA_TABLE_BYTES)
		why = "the buffer is not 4 KiB aligned";
	else if (size < ADMA_TABLE_BYTES + MMC_BLOCK_SIZE)
		why = "the buffer is too small";
	else if (bus + size > 1ull << 32)
		why = "the buffer lies above 4 GiB (32-bit descriptors)";
	if (why) {
		log_info("sdhci: %s: data by PIO: %s", h->name, why);
		return -ENOTSUP;
	}
	/* The table has room for 512 descriptors: what they move is the most data a command has. */
	if (size > ADMA_TABLE_BYTES + ADMA_TABLE_BYTES / 8 * ADMA_CHUNK)
		size = ADMA_TABLE_BYTES + ADMA_TABLE_BYTES / 8 * ADMA_CHUNK;
	h->dma_buf = buf;
	h->dma_bus = (uint32_t)bus;
	h->dma_size = size;
	log_info("sdhci: %s: data by ADMA2 through %u KiB at bus address %#llx", h->name,
	         size / 1024, (unsigned long long)bus);
	return 0;
}

int sdhci_init(struct sdhci *h, uintptr_t base, const char *compatible, uint32_t clock_hz)
{
	uint32_t caps;

	memset(h, 0, sizeof(*h));
	h->base = base;
	snprintf(h->name, sizeof(h->name), "sdhci@%llx", (unsigned long long)base);
	for (unsigned int i = 0; compatible && i < sizeof(quirk_table) / sizeof(quirk_table[0]);
	     i++)
		if (strcmp(compatible, quirk_table[i].compatible) == 0)
			h->quirks = quirk_table[i].quirks;
	h->version = rd16(h, SDHCI_HOST_VERSION) & 0xffu;
	caps = rd32(h, SDHCI_CAPABILITIES);
	if (h->version < 1 || h->version > 5) {
		log_error("sdhci: %s: host controller version %u: only 2.00 to 4.20 are driven",
		          h->name, h->version);
		return -ENODEV;
	}
	if (!(caps & (CAP_3V3 | CAP_3V0))) {
		log_error("sdhci: %s: capabilities %#x offer neither 3.3 V nor 3.0 V", h->name,
		          caps);
		return -ENODEV;
	}
	/* Base clock in MHz: bits 13..8 before 3.00, 15..8 since (§2.2.26). */
	h->base_clock_hz = (caps >> 8 & (h->version >= 2 ? 0xffu : 0x3fu)) * 1000000u;
	if (clock_hz || (h->quirks & SDHCI_QUIRK_NO_BASE_CLOCK))
		h->base_clock_hz = clock_hz;
	if (h->base_clock_hz == 0) {
		log_error("sdhci: %s: no base clock in the capabilities (%#x): give the device "
		          "tree node a clock-frequency",
		          h->name, caps);
		return -ENODEV;
	}
	h->host = (struct mmc_host){
	    .ops = &sdhci_ops,
	    .name = h->name,
	    .max_clock_hz = h->base_clock_hz,
	    .high_speed = caps & CAP_HIGH_SPEED,
	};
	return 0;
}
