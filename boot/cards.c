/* SD cards found through the device tree (see cards.h). */
#include <errno.h>
#include <stddef.h>

#include "arch/mmu.h"
#include "blk/part.h"
#include "blk/sdhci.h"
#include "boot/cards.h"
#include "lib/log.h"

/* One per controller the tree may name; static, as vdisk has one set of controllers. */
static struct sdhci hosts[DT_SDHCI_MAX];
static struct mmc_card cards[DT_SDHCI_MAX];
static bool usable[DT_SDHCI_MAX];

unsigned int cards_init(const struct dt_info *dt)
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
		if (sdhci_init(&hosts[i], s->reg.base, s->compatible, s->clock_hz) ||
		    mmc_card_init(&cards[i], &hosts[i].host)) {
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
