/*
 * The SD cards vdisk owns: each SD host controller the device tree names (boot/dt.c) is
 * mapped, set up and its card identified once at start-up, in tree order, so that a disk's
 * "mmc:CARD[:PART]" target can name card CARD. A controller or card that fails is logged and
 * left out; the numbers of the others do not change.
 */
#ifndef BOOT_CARDS_H
#define BOOT_CARDS_H

#include <stdbool.h>
#include <stdint.h>

#include "blk/mmc.h"
#include "boot/dt.h"

/**
 * Brings up the cards of `dt`'s controllers; returns how many cards are usable. With `dma`
 * (vdisk's addresses are the bus's: bare metal, a direct-mapped domain), a controller with
 * ADMA2 moves data through a buffer of vdisk's (sdhci_use_dma); else, or without ADMA2, by PIO.
 */
unsigned int cards_init(const struct dt_info *dt, bool dma);

/**
 * Takes the interrupt of each usable card's controller where the device tree gives one
 * (dt_sdhci.irq; the loop's, boot/loop.h): the controller then signals the end of each wait
 * (sdhci_use_irq), its handler masks the signals and calls wake(card) so that the disks on
 * that card are polled; they are no longer polled on a short timer. Returns how many cards
 * use their interrupt.
 */
unsigned int cards_use_irqs(const struct dt_info *dt, void (*wake)(unsigned int card));

/** Card `n` (0-based, the n-th controller of the device tree), or NULL if it is not usable. */
struct mmc_card *cards_get(unsigned int n);

/**
 * The blocks `part` (0: the whole card) covers, from the card's GPT or MBR. Returns 0, or
 * -ENOENT / -EINVAL with a reason in *why (no such partition, a table that does not hold).
 */
int cards_range(struct mmc_card *card, unsigned int part, uint64_t *first, uint64_t *count,
                const char **why);

/**
 * Bare-metal check of card `n`: writes known sectors at `sector` (one alone, then
 * MMCDISK_MAX_BLOCKS in one command, each sector's bytes a line naming it), reads them back
 * through the disk interface (blk/mmcdisk.c), logs the result with the big command's times,
 * and leaves them on the card for the test to find in the image. Returns 0 or -errno.
 */
int cards_selftest(unsigned int n, uint64_t sector);

#endif
