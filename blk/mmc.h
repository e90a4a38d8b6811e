/*
 * The SD card protocol, apart from the controller that carries it (TF-A's drivers/mmc split):
 * mmc.c speaks to the card in commands (SD Physical Layer Simplified Specification 6.00,
 * "SD spec" below) through a small host ops table that one controller driver implements
 * (blk/sdhci.c) and a fake implements in host tests. A host runs one command at a time and
 * never waits for the card: start() issues it, poll() moves it on and says when it is done,
 * so a command that takes milliseconds never holds vdisk's loop. Card initialisation, which
 * runs before anything is served, waits through the same poll() with the host's timeouts.
 */
#ifndef BLK_MMC_H
#define BLK_MMC_H

#include <stdbool.h>
#include <stdint.h>

/** Bytes per block in every transfer vdisk makes (SD spec §4.3.2: 512 for SDHC/SDXC). */
#define MMC_BLOCK_SIZE 512u

/** What a command's response looks like (SD spec §4.9). */
enum mmc_resp {
	MMC_RESP_NONE,
	MMC_RESP_R1,  /* 48 bits: card status */
	MMC_RESP_R1B, /* R1, then the card holds DAT0 low while busy */
	MMC_RESP_R2,  /* 136 bits: CID or CSD */
	MMC_RESP_R3,  /* 48 bits: OCR, no CRC or index */
	MMC_RESP_R6,  /* 48 bits: RCA and status */
	MMC_RESP_R7,  /* 48 bits: interface condition */
};

/** One command (SD spec §4.7.4) and, when it is done, its response. */
struct mmc_cmd {
	uint8_t index;
	uint32_t arg;
	enum mmc_resp resp_type;
	/*
	 * Short responses: resp[0] is bits 39..8 (the status, OCR or argument). R2: the 128-bit
	 * register (CID or CSD, SD spec §5.2, §5.3) with resp[0] its bits 31..0 (bits 7..0, the
	 * CRC, read as 0) and resp[3] its bits 127..96.
	 */
	uint32_t resp[4];
};

/** How a data transfer's blocks reach memory: copies at a byte offset of the transfer. */
struct mmc_data_ops {
	/* Copies len bytes to write, from offset of the transfer, into dst; 0 or -errno. */
	int (*get)(void *ctx, uint32_t offset, void *dst, uint32_t len);
	/* Copies len bytes read, to offset of the transfer, from src; 0 or -errno. */
	int (*put)(void *ctx, uint32_t offset, const void *src, uint32_t len);
};

/** The data phase of a command: block_count blocks of block_size bytes. */
struct mmc_data {
	uint32_t block_size;
	uint32_t block_count;
	bool write;
	bool auto_stop; /* the host sends CMD12 after the last block (multi-block commands) */
	const struct mmc_data_ops *ops;
	void *ctx;
};

struct mmc_host;

/** A controller driver's side of the protocol (blk/sdhci.c; a fake in tests). */
struct mmc_host_ops {
	/* Resets the controller, powers the card and runs its clock at 400 kHz; 0 or -errno. */
	int (*init)(struct mmc_host *host);
	/* Sets the card clock (at most clock_hz), bus width (1 or 4) and high-speed timing. */
	int (*set_ios)(struct mmc_host *host, uint32_t clock_hz, unsigned int width,
	               bool high_speed);
	/* Whether a card is in the slot. */
	bool (*card_present)(struct mmc_host *host);
	/* Whether the slot's write-protect switch is on (false for a slot without one). */
	bool (*write_protected)(struct mmc_host *host);
	/*
	 * Issues cmd, with data if not NULL; both stay the caller's until poll() ends the
	 * command. 0, -EBUSY while a command runs, -ENXIO without a card.
	 */
	int (*start)(struct mmc_host *host, struct mmc_cmd *cmd, struct mmc_data *data);
	/*
	 * Moves the command on: -EINPROGRESS (waiting for the card), -EAGAIN (it moved data
	 * and has more to move: call again soon), 0 when done (response in cmd->resp, data
	 * moved, busy over), or an error that ends it: -ETIMEDOUT (no response, data or end of busy in
	 * time), -EILSEQ (CRC, end bit or index error), -EIO (anything else, e.g. a copy that
	 * failed). After an error the host has reset its command and data lines.
	 */
	int (*poll)(struct mmc_host *host);
};

/** A controller as the protocol sees it; a driver embeds it first in its own struct. */
struct mmc_host {
	const struct mmc_host_ops *ops;
	const char *name;      /* for log lines: "sdhci@10041000" */
	uint32_t max_clock_hz; /* the fastest clock the controller can give the card */
	bool high_speed;       /* the controller can do SD high-speed timing (50 MHz) */
	/*
	 * The controller raises its interrupt when a wait poll() reported (-EINPROGRESS) is
	 * over, and its owner then polls: no need to poll on a timer meanwhile.
	 */
	bool irq;
};

/** What the protocol found out about the card (SD spec §5). */
struct mmc_card {
	struct mmc_host *host;
	uint16_t rca;         /* relative card address (CMD3) */
	bool block_addressed; /* SDHC/SDXC (OCR CCS): arguments are block numbers, not bytes */
	bool high_speed;      /* switched to high speed (CMD6) */
	bool write_protected; /* the slot's switch says so: served read-only */
	unsigned int width;   /* data bus width in use: 1 or 4 */
	uint32_t clock_hz;    /* the clock asked of the host */
	uint64_t block_count; /* capacity in MMC_BLOCK_SIZE blocks, from the CSD */
	uint32_t ocr;
	uint32_t cid[4], csd[4], scr[2];
	void *user; /* the disk (struct mmcdisk) whose requests have the card now, NULL: free */
	bool broken; /* gone or changed at a re-initialisation: every disk on it fails requests */
};

/* Card status bits of an R1 response (SD spec §4.10.1, Table 4-42). */
#define MMC_R1_OUT_OF_RANGE  (1u << 31)
#define MMC_R1_ADDRESS_ERROR (1u << 30)
#define MMC_R1_WP_VIOLATION  (1u << 26)
/*
 * The error bits that say this command failed: all but ILLEGAL_COMMAND and COM_CRC_ERROR,
 * which report the command before (a card does not answer an illegal or garbled command).
 */
#define MMC_R1_ERRORS    0xfd398008u
#define MMC_R1_READY     (1u << 8)
#define MMC_R1_STATE(r1) (((r1) >> 9) & 0xfu)
#define MMC_STATE_TRAN   4u
#define MMC_STATE_PRG    7u

/**
 * Identifies and sets up the card in host's slot (SD spec §4.2, §4.3: CMD0, CMD8, ACMD41,
 * CMD2, CMD3, CMD9, CMD7, ACMD51, ACMD6, CMD6, CMD16): fills *card. Returns 0, -ENXIO
 * without a card, -ENODEV for a card that is not SD (or an SD 1.x card that never gets
 * ready), or the host's error; each failure is logged with the command and its status.
 */
int mmc_card_init(struct mmc_card *card, struct mmc_host *host);

/** The argument that addresses block `block` on this card (block or byte addressing). */
uint32_t mmc_card_address(const struct mmc_card *card, uint64_t block);

/**
 * Runs one command to its end, waiting through host->ops->poll (at start-up only: the
 * request path uses start/poll itself). Returns the host's 0 or error.
 */
int mmc_cmd_wait(struct mmc_host *host, struct mmc_cmd *cmd, struct mmc_data *data);

/**
 * Reads `count` blocks from `block` into buf, one CMD17 each, waiting (at start-up only: the
 * partition table). Returns 0, -ERANGE past the card, or the command's error.
 */
int mmc_read_wait(struct mmc_card *card, uint64_t block, uint32_t count, void *buf);

/**
 * Capacity in 512-byte blocks from a CSD (SD spec §5.3.2 version 1.0, §5.3.3 version 2.0,
 * §5.3.4 version 3.0); 0 for a structure it does not know.
 */
uint64_t mmc_csd_blocks(const uint32_t csd[4]);

#endif
