/*
 * An SD card, or a range of its blocks (a partition), as a disk (blk/disk.h). Requests are
 * queued and run one at a time from disk_poll: each read or write is one card command of up
 * to MMCDISK_MAX_BLOCKS blocks, a write completes only once the card says it has programmed
 * it (CMD13 back in the transfer state), a discard is an erase (CMD32/33/38). A request
 * never reaches a block outside the range: disk_range_ok is checked against the range before
 * the card is addressed.
 */
#ifndef BLK_MMCDISK_H
#define BLK_MMCDISK_H

#include <stdbool.h>
#include <stdint.h>

#include "blk/disk.h"
#include "blk/mmc.h"

/** Blocks one read or write command moves at most (128 KiB). */
#define MMCDISK_MAX_BLOCKS 256u
/** Blocks one discard (one erase) covers at most (4 MiB). */
#define MMCDISK_DISCARD_MAX_BLOCKS 8192u
/** How often a disk with a command running wants polling (disk_due), in ns. */
#define MMCDISK_POLL_NS 20000u
/**
 * The same when the controller's interrupt ends the wait (mmc_host.irq): a poll anyway now and
 * then, so that an interrupt lost makes a slow request, not a stuck one.
 */
#define MMCDISK_IRQ_POLL_NS 10000000u
/** Failed requests in a row after which the card is initialised again. */
#define MMCDISK_REINIT_AFTER 2u

/** Where the request running is. */
enum mmcdisk_stage {
	MMCDISK_IDLE,
	MMCDISK_XFER,        /* CMD17/18/24/25 */
	MMCDISK_STATUS,      /* CMD13 after a write, until the card is back in tran */
	MMCDISK_STATUS_NEXT, /* a write is sent: the poll asks with CMD13 (once a poll) */
	MMCDISK_STOP,        /* CMD12 after a failed multi-block transfer */
	MMCDISK_ERASE_START, /* CMD32 */
	MMCDISK_ERASE_END,   /* CMD33 */
	MMCDISK_ERASE,       /* CMD38 */
};

/** A disk on (part of) a card. */
struct mmcdisk {
	struct disk disk; /* first, so the ops can find the mmcdisk */
	struct mmc_card *card;
	uint64_t first_block;          /* the range's first block on the card */
	uint64_t (*now)(void);         /* the clock of disk_due and of timeouts */
	struct disk_queue queue;       /* oldest first; the first is the one running */
	enum mmcdisk_stage stage;
	int error;                /* the running request's first error */
	uint64_t status_deadline; /* MMCDISK_STATUS: how long the card may stay busy */
	unsigned int failures;    /* requests failed in a row */
	bool flowing;             /* the last poll moved data and more is ready: poll at once */
	bool waiting;             /* the last poll left a command waiting for the card */
	struct mmc_cmd cmd;
	struct mmc_data data;
};

/**
 * Serves blocks [first_block, first_block + block_count) of an initialised card as a disk,
 * read-only if asked or if the card is write-protected; `now` is the clock for due times
 * and timeouts. Returns 0, or -EINVAL for a range that is empty or not on the card.
 */
int mmcdisk_init(struct mmcdisk *md, struct mmc_card *card, uint64_t first_block,
                 uint64_t block_count, bool read_only, uint64_t (*now)(void));

/**
 * Runs the requests of the disk that has `card` now to their end, polling it, so that the
 * caller may send the card commands of its own (mmc_read_wait, at a device's set-up). The
 * other disks' queued requests wait for their own next poll. Returns when the card is free.
 */
void mmcdisk_quiesce(struct mmc_card *card);

#endif
