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
#include "boot/loop.h"
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
		if (rc == 0 && dma && s->dma_translated)
			log_info("mmc: card %u: a bus's dma-ranges move the controller's addresses: "
			         "data by PIO", i);
		else if (rc == 0 && dma)
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

/** How long the start-up check waits for a controller's forced interrupt. */
#define IRQ_CHECK_NS 10000000ull

static void (*card_wake)(unsigned int card);
static bool irq_seen[DT_SDHCI_MAX];

/* A controller's interrupt: its line down at once (it is level-triggered), then its disks. */
static void card_irq(void *arg)
{
	struct sdhci *h = arg;
	unsigned int n = (unsigned int)(h - hosts);

	sdhci_irq(h);
	irq_seen[n] = true;
	card_wake(n);
}

/*
 * Whether card n's interrupt reaches vdisk: the controller forces one (sdhci_irq_check) and
 * the loop waits for it a little. A line that goes nowhere (not routed to this domain, a
 * wrong map) leaves the card polled rather than slow. Returns whether it came, and in *took
 * how long it took.
 */
static bool irq_check(unsigned int n, uint64_t *took)
{
	uint64_t start = arch_timer_now_ns(), deadline = start + IRQ_CHECK_NS;

	irq_seen[n] = false;
	sdhci_irq_check(&hosts[n]);
	while (!irq_seen[n] && loop_wait(deadline) != -ETIMEDOUT)
		;
	*took = arch_timer_now_ns() - start;
	sdhci_irq_check_end(&hosts[n]);
	return irq_seen[n];
}

unsigned int cards_use_irqs(const struct dt_info *dt, void (*wake)(unsigned int card))
{
	unsigned int count = 0;

	card_wake = wake;
	for (unsigned int i = 0; i < dt->sdhci_count; i++) {
		unsigned int irq = dt->sdhci[i].irq;
		uint64_t took;
		int rc;

		if (!usable[i] || !irq)
			continue;
		/* The handler first: the signals stay off until a poll has to wait. */
		if ((rc = loop_irq(irq, card_irq, &hosts[i]))) {
			log_warn("mmc: card %u: cannot take interrupt %u (%d): polled instead", i,
			         irq, rc);
			continue;
		}
		if (!irq_check(i, &took)) {
			log_warn("mmc: card %u: interrupt %u did not come when forced (%llu ms): "
			         "polled instead",
			         i, irq, IRQ_CHECK_NS / 1000000ull);
			continue;
		}
		sdhci_use_irq(&hosts[i]);
		log_info("mmc: card %u: waits end by interrupt %u (checked: it came %llu us after "
		         "it was forced)",
		         i, irq, (unsigned long long)(took / 1000));
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

/*
 * The self-test's bytes are made, not stored: each sector holds 16 times a 32-character line
 * naming it ("vdisk sd self-test sector 00100\n"), made by get() for a write and compared by
 * put() for a read, so that 128 KiB each way need no buffer.
 */
struct wait_io {
	struct disk_req req; /* first */
	bool check;          /* a read compares what it gets with the pattern */
	uint32_t wrong;      /* bytes that differed */
	int rc;
	bool done;
};

/* Byte `offset` of the request's sectors in the pattern; *line caches the sector's line. */
static char pattern(const struct disk_req *req, uint32_t offset, uint64_t *at, char line[33])
{
	uint64_t sector = req->sector + offset / MMC_BLOCK_SIZE;

	if (*at != sector) {
		/* 32 characters and snprintf's NUL, which is not part of the pattern */
		snprintf(line, 33, "vdisk sd self-test sector %05llu\n",
		         (unsigned long long)sector % 100000);
		*at = sector;
	}
	return line[offset % 32];
}

static int io_get(struct disk_req *req, uint32_t offset, void *dst, uint32_t len)
{
	uint64_t at = UINT64_MAX;
	char line[33];

	for (uint32_t i = 0; i < len; i++)
		((char *)dst)[i] = pattern(req, offset + i, &at, line);
	return 0;
}

static int io_put(struct disk_req *req, uint32_t offset, const void *src, uint32_t len)
{
	struct wait_io *io = (struct wait_io *)req;
	uint64_t at = UINT64_MAX;
	char line[33];

	for (uint32_t i = 0; io->check && i < len; i++)
		io->wrong += ((const char *)src)[i] != pattern(req, offset + i, &at, line);
	return 0;
}

static void io_done(struct disk_req *req, int rc)
{
	((struct wait_io *)req)->rc = rc;
	((struct wait_io *)req)->done = true;
}

static const struct disk_buf_ops io_ops = {.get = io_get, .put = io_put};

/*
 * Sectors through the disk, polled until done (the card's own timeouts bound it): a write
 * of the pattern, or a read that compares with it (`check`). Returns the rc, or -EIO for a
 * read that found other bytes; *ns is how long it took.
 */
static int io(struct disk *disk, enum disk_op op, uint64_t sector, uint32_t count, bool check,
              uint64_t *ns)
{
	struct wait_io io = {
	    .req = {.op = op, .sector = sector, .count = count, .buf = &io_ops, .done = io_done},
	    .check = check,
	};
	uint64_t t0 = arch_timer_now_ns();

	disk_submit(disk, &io.req);
	while (!io.done)
		disk_poll(disk);
	*ns = arch_timer_now_ns() - t0;
	return io.rc ? io.rc : io.wrong ? -EIO : 0;
}

/* The self-test's sectors: one alone, then as many as one command moves. */
#define SELFTEST_SECTORS (1 + MMCDISK_MAX_BLOCKS)

int cards_selftest(unsigned int n, uint64_t sector)
{
	static struct mmcdisk md;
	const uint32_t big = MMCDISK_MAX_BLOCKS;
	struct mmc_card *card = cards_get(n);
	uint64_t ns, t_write = 0, t_read = 0;
	int rc;

	if (!card) {
		log_error("mmc: self-test: no usable card %u", n);
		return -ENODEV;
	}
	if ((rc = mmcdisk_init(&md, card, 0, card->block_count, false, arch_timer_now_ns))) {
		log_error("mmc: self-test: card %u cannot be served as a disk (%d)", n, rc);
		return rc;
	}
	if (!disk_range_ok(&md.disk, sector, SELFTEST_SECTORS))
		rc = -ERANGE;
	if (rc == 0) /* reading works, whatever is there */
		rc = io(&md.disk, DISK_READ, sector, 1, false, &ns);
	if (rc == 0)
		rc = io(&md.disk, DISK_WRITE, sector, 1, false, &ns);
	if (rc == 0)
		rc = io(&md.disk, DISK_WRITE, sector + 1, big, false, &t_write);
	if (rc == 0)
		rc = io(&md.disk, DISK_READ, sector, 1, true, &ns);
	if (rc == 0)
		rc = io(&md.disk, DISK_READ, sector + 1, big, true, &t_read);
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
