/*
 * A card's blocks as a disk (see mmcdisk.h). One request runs at a time, as a card takes one
 * command at a time; poll() moves it on through the host's start/poll and never waits. A
 * failed request gets -EIO and one log line; the host has reset its lines by then, and a
 * multi-block transfer that broke off is stopped with CMD12 so that the card is back in the
 * transfer state. After MMCDISK_REINIT_AFTER failures in a row the card is initialised again,
 * once; if that fails too, the disk fails every request from then on rather than retry.
 */
#include <errno.h>
#include <string.h>

#include "blk/mmcdisk.h"
#include "lib/log.h"

/* SD spec §4.6.2.2: a write's programming busy may last 250 ms (SDSC) or 500 ms (SDHC). */
#define PROGRAM_TIMEOUT_NS (500ull * 1000000u)

static struct mmcdisk *to_mmcdisk(struct disk *disk)
{
	return (struct mmcdisk *)disk;
}

/* The transfer's blocks come from and go to the running request's buffers. */
static int data_get(void *ctx, uint32_t offset, void *dst, uint32_t len)
{
	struct disk_req *req = ((struct mmcdisk *)ctx)->queue.first;

	return req->buf->get(req, offset, dst, len);
}

static int data_put(void *ctx, uint32_t offset, const void *src, uint32_t len)
{
	struct disk_req *req = ((struct mmcdisk *)ctx)->queue.first;

	return req->buf->put(req, offset, src, len);
}

static const struct mmc_data_ops data_ops = {.get = data_get, .put = data_put};

/* Issues a command of the running request; a refusal by the host is its error. */
static int issue(struct mmcdisk *md, enum mmcdisk_stage stage, uint8_t index, uint32_t arg,
                 enum mmc_resp type, struct mmc_data *data)
{
	struct mmc_host *host = md->card->host;

	md->cmd = (struct mmc_cmd){.index = index, .arg = arg, .resp_type = type};
	md->stage = stage;
	return host->ops->start(host, &md->cmd, data);
}

static uint32_t address(const struct mmcdisk *md, uint64_t sector)
{
	return mmc_card_address(md->card, md->first_block + sector);
}

/* Starts the request at the head of the queue; 0, 1 when it is already done, or -errno. */
static int begin(struct mmcdisk *md)
{
	struct disk_req *req = md->queue.first;
	bool write = req->op == DISK_WRITE;

	md->error = 0;
	switch (req->op) {
	case DISK_READ:
	case DISK_WRITE:
		if (!disk_range_ok(&md->disk, req->sector, req->count))
			return -ERANGE;
		/* The card's own switch too: it may have been turned on since (a re-init). */
		if (write && (md->disk.read_only || md->card->write_protected))
			return -EROFS;
		if (req->count == 0)
			return 1;
		if (req->count > MMCDISK_MAX_BLOCKS)
			return -ERANGE;
		md->data = (struct mmc_data){
		    .block_size = MMC_BLOCK_SIZE,
		    .block_count = req->count,
		    .write = write,
		    .auto_stop = req->count > 1,
		    .ops = &data_ops,
		    .ctx = md,
		};
		return issue(md, MMCDISK_XFER,
		             write ? (req->count > 1 ? 25 : 24) : (req->count > 1 ? 18 : 17),
		             address(md, req->sector), MMC_RESP_R1, &md->data);
	case DISK_FLUSH:
		return 1; /* a write completes once programmed: nothing waits in a cache */
	case DISK_DISCARD:
		if (!disk_range_ok(&md->disk, req->sector, req->count))
			return -ERANGE;
		if (md->disk.read_only || md->card->write_protected)
			return -EROFS;
		if (req->count == 0)
			return 1;
		return issue(md, MMCDISK_ERASE_START, 32, address(md, req->sector), MMC_RESP_R1,
		             NULL);
	default:
		return -EOPNOTSUPP;
	}
}

/* Ends the running request with rc and takes it off the queue. */
static void complete(struct mmcdisk *md, int rc)
{
	struct disk_req *req = disk_queue_pop(&md->queue);

	md->stage = MMCDISK_IDLE;
	if (md->card->user == md)
		md->card->user = NULL; /* another disk on this card may go now */
	if (rc == 0 || rc == -ERANGE || rc == -EROFS || rc == -EOPNOTSUPP) {
		/* The guest's own mistakes say nothing about the card. */
		if (rc == 0)
			md->failures = 0;
	} else {
		md->failures++;
		rc = -EIO;
	}
	req->done(req, rc);
}

/* After failures in a row: initialise the card again, once; a card that will not is broken. */
static void recover(struct mmcdisk *md)
{
	struct mmc_host *host = md->card->host;
	uint64_t blocks = md->card->block_count;
	int rc;

	if (md->failures < MMCDISK_REINIT_AFTER || md->card->broken)
		return;
	log_warn("mmc: %s: %u requests failed in a row: initialising the card again", host->name,
	         md->failures);
	md->failures = 0;
	rc = mmc_card_init(md->card, host);
	md->card->user = md; /* initialisation starts the card afresh: it is still ours */
	if (rc == 0 && md->card->block_count == blocks)
		return;
	/*
	 * On the card, not this disk: every range of it (other partitions' disks) was checked
	 * against the card that is gone.
	 */
	log_error("mmc: %s: the card is gone or changed: its disks fail every request now",
	          host->name);
	md->card->broken = true;
}

/* The running command ended with rc: the request's next step, or its end. */
static void step(struct mmcdisk *md, int rc)
{
	struct disk_req *req = md->queue.first;
	uint32_t r1 = md->cmd.resp[0];
	bool card_error = rc == 0 &&
	                  (md->cmd.resp_type == MMC_RESP_R1 || md->cmd.resp_type == MMC_RESP_R1B) &&
	                  (r1 & MMC_R1_ERRORS);

	if ((rc || card_error) && md->stage != MMCDISK_STOP && md->error == 0) {
		md->error = rc ? rc : -EIO;
		log_warn("mmc: %s: CMD%u for sectors %llu+%u failed (%d, card status %#x)",
		         md->card->host->name, md->cmd.index, (unsigned long long)req->sector,
		         req->count, rc, r1);
		/* A broken-off multi-block transfer leaves the card sending or receiving. */
		if (md->stage == MMCDISK_XFER && req->count > 1 &&
		    issue(md, MMCDISK_STOP, 12, 0, MMC_RESP_R1B, NULL) == 0)
			return;
		complete(md, md->error);
		return;
	}
	switch (md->stage) {
	case MMCDISK_XFER:
		if (req->op == DISK_WRITE) {
			/* Asked with CMD13 by the poll, at once (its loop goes on) and then once a poll. */
			md->status_deadline = md->now() + PROGRAM_TIMEOUT_NS;
			md->stage = MMCDISK_STATUS_NEXT;
			return;
		}
		complete(md, 0);
		return;
	case MMCDISK_STATUS:
		/* Programmed once the card is back in tran and ready for data (§4.3.7). */
		if (MMC_R1_STATE(r1) == MMC_STATE_TRAN && (r1 & MMC_R1_READY)) {
			complete(md, 0);
			return;
		}
		if (md->now() > md->status_deadline) {
			log_warn("mmc: %s: still programming sectors %llu+%u after 500 ms (card "
			         "status %#x)",
			         md->card->host->name, (unsigned long long)req->sector, req->count,
			         r1);
			complete(md, -ETIMEDOUT);
			return;
		}
		md->stage = MMCDISK_STATUS_NEXT; /* not in a tight loop: other work goes first */
		return;
	case MMCDISK_STATUS_NEXT: /* not reached: the poll sends its CMD13 first */
	case MMCDISK_STOP:
		complete(md, md->error);
		return;
	case MMCDISK_ERASE_START:
		if (issue(md, MMCDISK_ERASE_END, 33, address(md, req->sector + req->count - 1),
		          MMC_RESP_R1, NULL))
			complete(md, -EIO);
		return;
	case MMCDISK_ERASE_END:
		if (issue(md, MMCDISK_ERASE, 38, 0, MMC_RESP_R1B, NULL))
			complete(md, -EIO);
		return;
	case MMCDISK_ERASE:
	case MMCDISK_IDLE:
		complete(md, 0);
		return;
	}
}

static unsigned int mmcdisk_poll(struct disk *disk)
{
	struct mmcdisk *md = to_mmcdisk(disk);
	struct mmc_host *host = md->card->host;

	/* Bounded: each turn ends a command or returns; a queue of quick ones ends with it. */
	bool asked = false;

	while (md->queue.first) {
		int rc;

		if (md->stage == MMCDISK_STATUS_NEXT) {
			/* One more CMD13 a poll while the card programs; sleep between. */
			if (asked)
				break;
			asked = true;
			if (issue(md, MMCDISK_STATUS, 13, (uint32_t)md->card->rca << 16,
			          MMC_RESP_R1, NULL)) {
				complete(md, -EIO);
				continue;
			}
		}
		if (md->stage == MMCDISK_IDLE) {
			/* One command at a time per card: partitions on it take turns. */
			if (md->card->user && md->card->user != md)
				break;
			asked = false; /* "one CMD13 a poll" is per request: the next may ask at once */
			md->card->user = md;
			recover(md);
			rc = md->card->broken ? -EIO : begin(md);
			if (rc) {
				complete(md, rc > 0 ? 0 : rc);
				continue;
			}
		}
		rc = host->ops->poll(host);
		md->flowing = rc == -EAGAIN;
		md->waiting = rc == -EINPROGRESS;
		if (rc == -EINPROGRESS || rc == -EAGAIN)
			break; /* one stretch of data a poll: other work goes between */
		step(md, rc);
	}
	return md->queue.count;
}

static void mmcdisk_submit(struct disk *disk, struct disk_req *req)
{
	disk_queue_push(&to_mmcdisk(disk)->queue, req);
}

static uint64_t mmcdisk_due(const struct disk *disk)
{
	const struct mmcdisk *md = (const struct mmcdisk *)disk;

	if (!md->queue.first)
		return DISK_DUE_NEVER;
	/* A request not started yet is started by the next poll, at once, if the card is free. */
	if (md->stage == MMCDISK_IDLE && (!md->card->user || md->card->user == md))
		return DISK_DUE_NOW;
	if (md->flowing && md->stage != MMCDISK_IDLE)
		return DISK_DUE_NOW; /* sleeping while the controller has data ready costs time */
	if (md->waiting && md->stage != MMCDISK_IDLE && md->card->host->irq)
		return md->now() + MMCDISK_IRQ_POLL_NS; /* the interrupt comes first */
	return md->now() + MMCDISK_POLL_NS;
}

static const struct disk_ops mmcdisk_ops = {
    .submit = mmcdisk_submit,
    .poll = mmcdisk_poll,
    .due = mmcdisk_due,
};

int mmcdisk_init(struct mmcdisk *md, struct mmc_card *card, uint64_t first_block,
                 uint64_t block_count, bool read_only, uint64_t (*now)(void))
{
	if (block_count == 0 || first_block > card->block_count ||
	    block_count > card->block_count - first_block)
		return -EINVAL;
	memset(md, 0, sizeof(*md));
	md->card = card;
	md->first_block = first_block;
	md->now = now;
	md->disk = (struct disk){
	    .ops = &mmcdisk_ops,
	    .sector_count = block_count,
	    .read_only = read_only || card->write_protected,
	    .block_size = MMC_BLOCK_SIZE,
	    .max_transfer = MMCDISK_MAX_BLOCKS,
	    /* An erase's busy is bounded like a write's only for a small range. */
	    .discard_max = MMCDISK_DISCARD_MAX_BLOCKS,
	};
	return 0;
}

void mmcdisk_quiesce(struct mmc_card *card)
{
	/* Bounded: the owner's queue only shrinks here (nothing is added while we poll). */
	while (card->user)
		mmcdisk_poll(&((struct mmcdisk *)card->user)->disk);
}
