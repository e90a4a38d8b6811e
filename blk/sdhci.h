/*
 * An SD Host Controller (SD Host Controller Simplified Specification 3.00, "SDHCI" below)
 * as an mmc host (blk/mmc.h). Data moves by PIO through the Buffer Data Port, which needs
 * no DMA address the controller can use (a domU's addresses are not the bus's), or, where
 * the caller can give the controller a buffer it reaches (sdhci_use_dma: bare metal, or a
 * direct-mapped domain such as dom0), by ADMA2 through that buffer; completion is found by
 * polling the Normal and Error Interrupt Status registers, on a timer, or when the
 * controller's interrupt says so (sdhci_use_irq): a poll that has to wait signals the one
 * status it waits for (and every error); the interrupt's handler masks the signals again
 * (sdhci_irq) and has the owner poll. Every wait has a timeout; after an error the command and
 * data lines are reset. Controller quirks come from a table keyed by device-tree
 * `compatible`.
 */
#ifndef BLK_SDHCI_H
#define BLK_SDHCI_H

#include <stdbool.h>
#include <stdint.h>

#include "blk/mmc.h"

/* Register offsets (SDHCI §2.2). */
#define SDHCI_BLOCK_SIZE      0x04
#define SDHCI_BLOCK_COUNT     0x06
#define SDHCI_ARGUMENT        0x08
#define SDHCI_TRANSFER_MODE   0x0c
#define SDHCI_COMMAND         0x0e
#define SDHCI_RESPONSE        0x10
#define SDHCI_BUFFER          0x20
#define SDHCI_PRESENT_STATE   0x24
#define SDHCI_HOST_CONTROL    0x28
#define SDHCI_POWER_CONTROL   0x29
#define SDHCI_CLOCK_CONTROL   0x2c
#define SDHCI_TIMEOUT_CONTROL 0x2e
#define SDHCI_SOFTWARE_RESET  0x2f
#define SDHCI_INT_STATUS      0x30
#define SDHCI_ERR_STATUS      0x32
#define SDHCI_INT_ENABLE      0x34
#define SDHCI_ERR_ENABLE      0x36
#define SDHCI_INT_SIGNAL      0x38
#define SDHCI_ERR_SIGNAL      0x3a
#define SDHCI_CAPABILITIES    0x40
#define SDHCI_FORCE_ERR       0x52
#define SDHCI_ADMA_ERROR      0x54
#define SDHCI_ADMA_ADDRESS    0x58
#define SDHCI_HOST_VERSION    0xfe
/** The register window's size. */
#define SDHCI_WINDOW 0x100

/** Controller quirks (struct sdhci.quirks). */
enum sdhci_quirk {
	/* Registers take 32-bit accesses only (Broadcom iProc, e.g. Raspberry Pi 4's emmc2). */
	SDHCI_QUIRK_32BIT_ONLY = 1u << 0,
	/* The capabilities name no base clock: the device tree's clock-frequency must. */
	SDHCI_QUIRK_NO_BASE_CLOCK = 1u << 1,
};

/** Where a command is in its run (struct sdhci.stage). */
enum sdhci_stage {
	SDHCI_IDLE,
	SDHCI_CMD,  /* waiting for Command Complete */
	SDHCI_DATA, /* moving blocks through the Buffer Data Port */
	SDHCI_DONE, /* waiting for Transfer Complete: last block (or the DMA's), end of busy */
};

/** One controller. */
struct sdhci {
	struct mmc_host host; /* first: the mmc layer's view */
	uintptr_t base;
	uint32_t quirks;
	unsigned int version;   /* Host Controller Version bits 7..0: 1 = 2.00, 2 = 3.00 */
	uint32_t base_clock_hz; /* from the capabilities, or the device tree */
	uint32_t clock_hz;      /* what the card clock runs at now */
	uint16_t transfer_mode; /* SDHCI_QUIRK_32BIT_ONLY: written with the command */
	char name[32];
	/* The command in flight. */
	enum sdhci_stage stage;
	struct mmc_cmd *cmd;
	struct mmc_data *data;
	uint32_t block;    /* blocks moved so far */
	uint64_t deadline; /* of the current stage, on arch_timer_now_ns */
	bool dma_now;      /* this command's data moves by ADMA2 */
	bool irq;          /* a wait signals the controller's interrupt (sdhci_use_irq) */
	/* ADMA2 (sdhci_use_dma): a descriptor table, then the data, in a buffer of ours. */
	uint8_t *dma_buf; /* NULL: PIO only */
	uint32_t dma_bus; /* dma_buf's address for the controller */
	uint32_t dma_size;
};

/** Whether `compatible` names a controller this driver knows (its quirk table). */
bool sdhci_compatible(const char *compatible);

/**
 * Sets up a controller whose registers are mapped at `base` (SDHCI_WINDOW bytes), with the
 * quirks of `compatible` (may be NULL) and the device tree's clock-frequency `clock_hz`
 * (0: none). Reads its version and capabilities; does not touch the card (mmc_card_init
 * does, through host.ops->init). Returns 0, or -ENODEV for a controller this driver cannot
 * drive (version, no usable voltage, no base clock), logged.
 */
int sdhci_init(struct sdhci *h, uintptr_t base, const char *compatible, uint32_t clock_hz);

/**
 * Lets the controller move 512-byte blocks by ADMA2 (32-bit descriptors) through `buf`, which
 * it reaches at bus address `bus` (`size` bytes: a 4 KiB descriptor table, then at most
 * size - 4 KiB of data a command; bigger transfers, and the small ones of card set-up, stay
 * PIO). The caller vouches for the address: vdisk's own physical address, i.e. bare metal or a
 * direct-mapped domain, never a domU's guest-physical one without an IOMMU. The buffer is
 * cleaned and invalidated from the data cache around each transfer (non-coherent controllers).
 * Returns 0, or -ENOTSUP (logged: the controller has no ADMA2, or the buffer lies above
 * 4 GiB or is too small or unaligned) and data keeps moving by PIO.
 */
int sdhci_use_dma(struct sdhci *h, void *buf, uint64_t bus, uint32_t size);

/**
 * From now on a poll that has to wait enables the signal of the status it waits for and of
 * every error (SDHCI §2.2.21-22), so that the controller's interrupt line rises when the wait
 * is over (host.irq tells the mmc layer). The owner takes the interrupt and calls sdhci_irq.
 */
void sdhci_use_irq(struct sdhci *h);

/**
 * The controller's interrupt handler: masks every signal, so that the level-triggered line
 * falls before the interrupt is ended; the status stays for the next poll, which enables
 * the signals again if it still has to wait.
 */
void sdhci_irq(struct sdhci *h);

/**
 * With no command running: makes the controller raise its interrupt once, by a forced
 * Command Timeout Error (Force Event Register for Error Interrupt Status, SDHCI §2.2.24, which
 * only sets the status bit), so that its owner can check the interrupt reaches it before
 * relying on it. sdhci_irq_check_end masks the signal and clears the forced status.
 */
void sdhci_irq_check(struct sdhci *h);
void sdhci_irq_check_end(struct sdhci *h);

#endif
