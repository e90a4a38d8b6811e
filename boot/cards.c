/* SD cards found through the device tree (see cards.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "arch/mmu.h"
#include "arch/timer.h"
#include "blk/mmcdisk.h"
#include "blk/part.h"
#include "blk/sdhci.h"
#include "boot/cards.h"
#include "lib/log.h"

/* One per controller the tree may name; static, as vdisk has one set of controllers. */
static struct sdhci hosts[DT_SDHCI_MAX];
static struct mmc_card cards[DT_SDHCI_MAX];
static bool usable[DT_SDHCI_MAX];
/* Each controller's ADMA2 buffer: its descriptor table, then one request's data at most. */
static uint8_t dma_buf[DT_SDHCI_MAX][4096 + MMCDISK_MAX_BLOCKS * MMC_BLOCK_SIZE]
    __attribute__((aligned(4096)));

unsigned int cards_init(const struct dt_info *dt, bool dma)
{
	unsigned int count = 0;

	for (unsigned int i = 0; i < dt->sdhci_count; i++) {
		const struct dt_sdhci *s = &dt->sdhci[i];
		int rc = arch_mmu_map(s->reg.base, s->reg.size, MMU_DEVICE);

		if (rc) {
			log_error("mmc: card %u: cannot map the controller at %#llx+%#llx (%d)", i,
			          (unsigned long long)s->reg.base, (unsigned long long)s->reg.size,
			          rc);
			continue;
		}
		rc = sdhci_init(&hosts[i], s->reg.base, s->compatible, s->clock_hz);
		/* The identity map: the buffer's address is ours, physical where `dma` says so. */
		if (rc == 0 && dma)
			sdhci_use_dma(&hosts[i], dma_buf[i], (uintptr_t)dma_buf[i],
			              sizeof(dma_buf[i]));
		if (rc || mmc_card_init(&cards[i], &hosts[i].host)) {
			log_error("mmc: card %u (%s at %#llx): not usable, its targets will fail",
			          i, s->compatible, (unsigned long long)s->reg.base);
			continue;
		}
		usable[i] = true;
		count++;
	}
	return count;
}

struct mmc_card *cards_get(unsigned int n)
{
	return n < DT_SDHCI_MAX && usable[n] ? &cards[n] : NULL;
}

static int read_sector(void *ctx, uint64_t sector, void *buf)
{
	return mmc_read_wait(ctx, sector, 1, buf);
}

int cards_range(struct mmc_card *card, unsigned int part, uint64_t *first, uint64_t *count,
                const char **why)
{
	struct part p;
	int rc;

	*why = NULL;
	if (part == 0) {
		*first = 0;
		*count = card->block_count;
		return 0;
	}
	mmcdisk_quiesce(card); /* a guest's request may have the card: let it finish first */
	rc = part_find(read_sector, card, card->block_count, part, &p, why);
	if (rc == -ENOENT)
		*why = "the card's partition table has no such partition";
	else if (rc && !*why)
		*why = "the card's partition table cannot be read";
	if (rc)
		return rc == -ENOENT ? -ENOENT : -EINVAL;
	*first = p.first;
	*count = p.count;
	return 0;
}

/* ---- the bare-metal self-test: one request at a time, waited for ---- */

struct wait_io {
	struct disk_req req; /* first */
	uint8_t *data;
	int rc;
	bool done;
};

static int io_get(struct disk_req *req, uint32_t offset, void *dst, uint32_t len)
{
	memcpy(dst, ((struct wait_io *)req)->data + offset, len);
	return 0;
}

static int io_put(struct disk_req *req, uint32_t offset, const void *src, uint32_t len)
{
	memcpy(((struct wait_io *)req)->data + offset, src, len);
	return 0;
}

static void io_done(struct disk_req *req, int rc)
{
	((struct wait_io *)req)->rc = rc;
	((struct wait_io *)req)->done = true;
}

static const struct disk_buf_ops io_ops = {.get = io_get, .put = io_put};

/* Sectors through the disk, polled until done (the card's own timeouts bound it). */
static int io(struct disk *disk, enum disk_op op, uint64_t sector, uint32_t count, uint8_t *data)
{
	struct wait_io io = {
	    .req = {.op = op, .sector = sector, .count = count, .buf = &io_ops, .done = io_done},
	    .data = data,
	};

	disk_submit(disk, &io.req);
	while (!io.done)
		disk_poll(disk);
	return io.rc;
}

/* The self-test's sectors: one alone, then as many as one command moves. */
#define SELFTEST_SECTORS (1 + MMCDISK_MAX_BLOCKS)

int cards_selftest(unsigned int n, uint64_t sector)
{
	static struct mmcdisk md;
	static uint8_t want[SELFTEST_SECTORS * MMC_BLOCK_SIZE], got[sizeof(want)];
	const uint32_t big = MMCDISK_MAX_BLOCKS;
	struct mmc_card *card = cards_get(n);
	uint64_t t0, t_write = 0, t_read = 0;
	int rc;

	if (!card) {
		log_error("mmc: self-test: no usable card %u", n);
		return -ENODEV;
	}
	if ((rc = mmcdisk_init(&md, card, 0, card->block_count, false, arch_timer_now_ns))) {
		log_error("mmc: self-test: card %u cannot be served as a disk (%d)", n, rc);
		return rc;
	}
	/* Each sector's 512 bytes: 16 times a 32-character line naming it. */
	for (uint32_t b = 0; b < SELFTEST_SECTORS; b++) {
		char line[33]; /* 32 characters and snprintf's NUL, which must not reach want */

		snprintf(line, sizeof(line), "vdisk sd self-test sector %05llu\n",
		         (unsigned long long)(sector + b) % 100000);
		for (unsigned int i = 0; i < MMC_BLOCK_SIZE; i += 32)
			memcpy(want + b * MMC_BLOCK_SIZE + i, line, 32);
	}
	if (!disk_range_ok(&md.disk, sector, SELFTEST_SECTORS))
		rc = -ERANGE;
	if (rc == 0)
		rc = io(&md.disk, DISK_READ, sector, 1, got);
	if (rc == 0)
		rc = io(&md.disk, DISK_WRITE, sector, 1, want);
	if (rc == 0) {
		t0 = arch_timer_now_ns();
		rc = io(&md.disk, DISK_WRITE, sector + 1, big, want + MMC_BLOCK_SIZE);
		t_write = arch_timer_now_ns() - t0;
	}
	memset(got, 0, sizeof(got));
	if (rc == 0)
		rc = io(&md.disk, DISK_READ, sector, 1, got);
	if (rc == 0) {
		t0 = arch_timer_now_ns();
		rc = io(&md.disk, DISK_READ, sector + 1, big, got + MMC_BLOCK_SIZE);
		t_read = arch_timer_now_ns() - t0;
	}
	if (rc == 0 && memcmp(want, got, sizeof(want)))
		rc = -EIO;
	if (rc)
		log_error("mmc: self-test of card %u sectors %llu+%u failed (%d)", n,
		          (unsigned long long)sector, SELFTEST_SECTORS, rc);
	else
		log_info(
		    "mmc: self-test: card %u sectors %llu+%u written and read back (%u KiB in one "
		    "command: write %llu us, read %llu us)",
		    n, (unsigned long long)sector, SELFTEST_SECTORS, big / 2,
		    (unsigned long long)t_write / 1000, (unsigned long long)t_read / 1000);
	return rc;
}
