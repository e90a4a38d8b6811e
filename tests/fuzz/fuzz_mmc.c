/*
 * blk/mmc.c and blk/mmcdisk.c against a card whose every answer comes from the input: a fake
 * host (struct mmc_host_ops) whose poll() ends each command as the input says (done, in
 * progress, part of the data moved, timeout, CRC error, other error), with the response
 * words and the bytes of short reads (SCR, switch status) from the input or, where the input
 * says so or has run out, from a model SDHC card. mmc_card_init runs first; a card that comes
 * up is served as one or two disks (the whole card or ranges, read-only or not) that take
 * requests of any op, sector and count, polled in turn, with start-up reads (mmcdisk_quiesce,
 * mmc_read_wait) between. Time is the fake arch clock: each poll moves it on a little, or by
 * 300 ms, so the 1 s ACMD41 and 500 ms programming timeouts are reached in a few polls.
 * Invariants checked:
 * - mmc_csd_blocks agrees with the SD spec's formulas (§5.3.2-5.3.4) for any four words;
 * - the protocol (SD spec §4.7.4): one command at a time, poll() only while one runs, each
 *   command with its response type and data phase, an ACMD only right after an accepted
 *   CMD55, the RCA that CMD3 gave in CMD55/7/9/13, the CMD8/ACMD41/CMD16 arguments, ACMD6 only
 *   for a card whose SCR has 4 bits, CMD6 only on a high-speed host and an SD 1.10+ card,
 *   set_ios with width 1 or 4 (4 only after ACMD6) and high speed only after the switch;
 * - mmc_card_init returns 0, -ENXIO (no card, always), -ENODEV or a host error; on 0 the card
 *   holds what the card said (OCR ready, CCS as block addressing, CID, RCA, CSD and the
 *   capacity from it, SCR, the slot's write protection), CMD16 set 512-byte blocks on a
 *   byte-addressed card, and width, clock and high speed are what the host was last told;
 * - mmcdisk_init refuses exactly the ranges that are empty or not on the card;
 * - a command for a request addresses that request's blocks: the argument is
 *   mmc_card_address(first_block + sector) and, read back as the card reads it (a block or a
 *   byte address, 32 bits), is that very block, in the disk's range and on the card as it
 *   is now; a read or write is one command with a data phase of its count; a request outside
 *   the disk, over MMCDISK_MAX_BLOCKS, or writing a read-only disk or a card whose slot says
 *   write-protected (mmc.h) never reaches the card;
 * - every request completes exactly once, with what its case allows (0, -ERANGE, -EROFS,
 *   -EOPNOTSUPP; -EIO only from the card or a broken disk); its buffer is used only while it
 *   runs and only inside count * 512 bytes; a successful read or write moved all its bytes,
 *   a write succeeds only after a CMD13 saying tran and ready, a discard after CMD32/33/38; a
 *   failed multi-block transfer is stopped with CMD12;
 * - a disk is due never with nothing queued, else now or later; the card is free once no
 *   request is queued; mmc_read_wait refuses blocks past the card and otherwise reads
 *   exactly the blocks asked.
 *
 * Input: 16 bytes of a CSD for mmc_csd_blocks; u8 host flags (bit 0: no high speed); u16 the
 * start() call that fails with -ENXIO (0: none); then one stream that the fake host (a config
 * byte per host init, a poll byte and maybe response words and data per poll, see POLL_*) and
 * the script after a successful init (a layout byte, then actions, see enum act) read in turn.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arch/fake.h"
#include "blk/disk.h"
#include "blk/mmc.h"
#include "blk/mmcdisk.h"
#include "lib/log.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OCR_VOLTAGES 0x00ff8000u
#define OCR_HCS      (1u << 30) /* the host's offer; in the answer: CCS */
#define OCR_READY    (1u << 31)
#define R1_TRAN      (MMC_STATE_TRAN << 9 | MMC_R1_READY)
#define R1_APP_CMD   (1u << 5)
#define SWITCH_CHECK 0x00fffff1u /* CMD6 mode 0, group 1 function 1: can it do high speed? */
#define SWITCH_SET   0x80fffff1u /* CMD6 mode 1: switch to it */
#define SCR_BYTES    8u
#define STATUS_BYTES 64u
#define MODEL_RCA    0xb368u
#define WAITS_MAX    32u /* -EINPROGRESS polls of one command before the host times it out */
#define TIME_STEP_NS 10000ull
#define TIME_JUMP_NS 300000000ull
#define DISKS        2u
#define REQS_MAX     16u
#define ACTIONS_MAX  32u
#define READS_MAX    4u /* blocks one mmc_read_wait reads at most */

/* The poll byte: how the command running goes on. */
#define POLL_OUTCOME(b) ((b)&7u) /* 0-2 done, 3 data moved (-EAGAIN), 4 in progress, 5-7 errors */
#define POLL_RESP_INPUT 0x08u    /* the response words come from the input, not the model */
#define POLL_DATA_INPUT 0x10u    /* a short read's bytes (SCR, switch status) too */
#define POLL_CHUNK(b)   (1u << ((b) >> 5 & 3u) * 2) /* blocks an -EAGAIN moves: 1, 4, 16, 64 */
#define POLL_TIME_JUMP  0x80u                       /* 300 ms pass, not 10 us */

/* The config byte each host init reads: what the slot and controller do until the next. */
#define CFG_INIT_FAILS      0x01u
#define CFG_NO_CARD         0x02u
#define CFG_WRITE_PROTECT   0x04u
#define CFG_SET_IOS_FAIL(b) ((b) >> 3 & 7u) /* which set_ios call fails (0: none) */

/* The layout byte: the disks over the card. */
#define LAYOUT_RANGE(b)  ((b)&3u) /* 0, 1: the whole card, 2: a range on the card, 3: any */
#define LAYOUT_SECOND    0x04u    /* a second disk over the blocks after the first */
#define LAYOUT_RO_FIRST  0x08u
#define LAYOUT_RO_SECOND 0x10u

/* Actions: bits 2..0 of an action byte; bit 7 picks the second disk. */
enum act {
	ACT_END,     /* nothing more: drain and check */
	ACT_SUBMIT,  /* a request byte (see submit), then its sector and count */
	ACT_SUBMIT2, /* the same */
	ACT_SUBMIT3, /* the same */
	ACT_POLL,    /* one disk_poll */
	ACT_POLL2,   /* the same */
	ACT_DRAIN,   /* both disks polled in turn until nothing is queued */
	ACT_READ,    /* mmcdisk_quiesce, then mmc_read_wait: a mode byte and its block */
};

enum phase { PHASE_INIT, PHASE_DISK, PHASE_READ_WAIT };

/* A request and what the fake saw of it. */
struct fuzz_req {
	struct disk_req req; /* first: done() and the buffer ops find the rest from it */
	struct mmcdisk *md;
	uint64_t len;     /* bytes of its buffer */
	uint64_t moved;   /* bytes put or got */
	uint64_t fail_at; /* the buffer is gone from this offset on */
	int rc;           /* done()'s */
	unsigned int done_count;
	unsigned int cmd_count;  /* commands started for it (refused ones too) */
	unsigned int xfer_count; /* CMD17/18/24/25 */
	uint8_t last_index;      /* its last command that ended, and how */
	int last_rc;
	uint32_t last_resp;
	bool erase_start, erase_end; /* CMD32, CMD33 accepted */
	bool xfer_failed, stop_tried;
};

/* The fake controller and card: the command running, and what the card said. */
struct fuzz_host {
	struct mmc_host host; /* first: the ops find the rest from it */
	struct fuzz_in in;
	enum phase phase;
	uint8_t config; /* the last host init's */
	unsigned int starts, start_fail_at;
	unsigned int set_ios_calls;
	/* The command running. */
	struct mmc_cmd *cmd;
	struct mmc_data *data;
	struct fuzz_req *req; /* the request it is for, or NULL */
	bool cmd_app;         /* it is an ACMD */
	uint32_t blocks_moved;
	unsigned int waits;
	uint8_t small[STATUS_BYTES]; /* a short read's bytes as delivered */
	/* What the card said, and the host was told, since the last host init. */
	bool app; /* an accepted CMD55 came last: the next command is an ACMD */
	bool cmd8_ok, acmd6_ok, cmd16_ok, switched;
	bool have_scr;
	uint16_t rca;
	uint32_t ocr, cid[4], csd[4];
	uint8_t scr[SCR_BYTES];
	uint32_t clock_hz;
	unsigned int width;
	bool high_speed;
	/* mmc_read_wait: the next block it should read. */
	uint64_t read_block;
	unsigned int reads;
};

/* One run's state: a fresh set each input. */
static struct fuzz_host fh;
static struct mmc_card card;
static struct mmcdisk disks[DISKS];
static unsigned int disk_count;
static struct fuzz_req reqs[REQS_MAX];
static unsigned int req_count;

static const uint32_t model_cid[4] = {0x8d01b200, 0x3f5a1b60, 0x53443136, 0x03534453};
/* CSD 2.0, C_SIZE 255: 128 MiB. */
static const uint32_t model_csd[4] = {0x0a400000, 0x00ff7f80, 0x5b590000, 0x400e0032};
/* SD_SPEC 2, bus widths 1 and 4. */
static const uint8_t model_scr[SCR_BYTES] = {0x02, 0x35, 0x80, 0x00};

static uint64_t clock_now(void)
{
	return fake_time_ns;
}

/* mmc_csd_blocks as the SD spec writes it, field by field. */
static uint64_t csd_blocks(const uint32_t w[4])
{
	switch (w[3] >> 30) {
	case 0: {
		uint64_t c_size = (w[2] & 0x3ffu) << 2 | w[1] >> 30; /* bits 73..62 */
		unsigned int mult = w[1] >> 15 & 7u;                 /* bits 49..47 */
		unsigned int bl_len = w[2] >> 16 & 0xfu;             /* bits 83..80 */

		return ((c_size + 1) << (mult + 2 + bl_len)) / MMC_BLOCK_SIZE;
	}
	case 1: /* bits 69..48 */
		return (((uint64_t)(w[2] & 0x3fu) << 16 | w[1] >> 16) + 1) * 1024;
	case 2: /* bits 75..48 */
		return (((uint64_t)(w[2] & 0xfffu) << 16 | w[1] >> 16) + 1) * 1024;
	default:
		return 0;
	}
}

static struct fuzz_host *to_host(struct mmc_host *host)
{
	return (struct fuzz_host *)host;
}

static bool r1_ok(int rc, const struct mmc_cmd *c)
{
	return rc == 0 && !(c->resp[0] & MMC_R1_ERRORS);
}

/* The response type of each command vdisk sends (SD spec §4.7.4). */
static bool resp_type_ok(uint8_t index, bool app, enum mmc_resp type)
{
	switch (index) {
	case 0:
		return type == MMC_RESP_NONE;
	case 2:
	case 9:
		return type == MMC_RESP_R2;
	case 3:
		return type == MMC_RESP_R6;
	case 7:
	case 12:
	case 38:
		return type == MMC_RESP_R1B;
	case 8:
		return type == MMC_RESP_R7;
	case 41:
		return app && type == MMC_RESP_R3;
	case 51:
		return app && type == MMC_RESP_R1;
	case 6:
	case 13:
	case 16:
	case 17:
	case 18:
	case 24:
	case 25:
	case 32:
	case 33:
	case 55:
		return type == MMC_RESP_R1;
	default:
		return false;
	}
}

/* Whether a command moves data, and how many bytes a block (SD spec §4.3.10, §5.6). */
static uint32_t data_block_size(uint8_t index, bool app)
{
	switch (index) {
	case 6:
		return app ? 0 : STATUS_BYTES;
	case 51:
		return SCR_BYTES;
	case 17:
	case 18:
	case 24:
	case 25:
		return MMC_BLOCK_SIZE;
	default:
		return 0;
	}
}

/* The commands of mmcdisk's requests (and of mmc_read_wait), never of initialisation. */
static bool is_request_cmd(uint8_t index)
{
	switch (index) {
	case 12:
	case 13:
	case 17:
	case 18:
	case 24:
	case 25:
	case 32:
	case 33:
	case 38:
		return true;
	default:
		return false;
	}
}

/* The block a command argument names, as the card reads it (byte or block addressing). */
static uint64_t arg_block(uint32_t arg)
{
	return card.block_addressed ? arg : arg / MMC_BLOCK_SIZE;
}

/* A request's command: it is for that request, in its disk's range, of its kind. */
static void check_request_cmd(struct fuzz_host *h, const struct mmc_cmd *c,
                              const struct mmc_data *d)
{
	struct mmcdisk *md = card.user;
	struct fuzz_req *q;
	uint64_t first, last, want;
	bool write;

	FUZZ_CHECK(h->phase == PHASE_DISK && md, "CMD%u with no disk having the card (phase %d)",
	           c->index, h->phase);
	FUZZ_CHECK(md == &disks[0] || md == &disks[1], "card held by %p", (void *)md);
	q = (struct fuzz_req *)md->queue.first;
	FUZZ_CHECK(q && q->md == md, "CMD%u with no request running", c->index);
	FUZZ_CHECK(q->done_count == 0, "CMD%u for a request already done", c->index);
	h->req = q;
	q->cmd_count++;
	write = q->req.op == DISK_WRITE || q->req.op == DISK_DISCARD;
	if (c->index == 12 || c->index == 13) {
		if (c->index == 12)
			q->stop_tried = true;
		else
			FUZZ_CHECK(c->arg == (uint32_t)card.rca << 16,
			           "CMD13 argument %#x, RCA %#x", c->arg, card.rca);
		FUZZ_CHECK(q->req.op == DISK_READ || q->req.op == DISK_WRITE, "CMD%u for op %d",
		           c->index, q->req.op);
		return;
	}
	/* Everything else addresses the card: the request must be one that may. */
	FUZZ_CHECK(disk_range_ok(&md->disk, q->req.sector, q->req.count) && q->req.count > 0,
	           "CMD%u for sectors %llu+%u of a disk of %llu", c->index,
	           (unsigned long long)q->req.sector, q->req.count,
	           (unsigned long long)md->disk.sector_count);
	FUZZ_CHECK(!write || !md->disk.read_only, "CMD%u writes a read-only disk", c->index);
	/* mmc.h: a card whose slot's switch says write-protected is served read-only. */
	FUZZ_CHECK(!write || !card.write_protected, "CMD%u writes a write-protected card",
	           c->index);
	first = md->first_block + q->req.sector;
	last = first + q->req.count - 1;
	switch (c->index) {
	case 17:
	case 18:
	case 24:
	case 25:
		FUZZ_CHECK(q->req.op ==
		               ((c->index == 24 || c->index == 25) ? DISK_WRITE : DISK_READ),
		           "CMD%u for op %d", c->index, q->req.op);
		FUZZ_CHECK(q->xfer_count++ == 0, "a second transfer for one request");
		FUZZ_CHECK(q->req.count <= MMCDISK_MAX_BLOCKS, "%u blocks in one command",
		           q->req.count);
		FUZZ_CHECK(d->block_count == q->req.count, "%u blocks moved for a request of %u",
		           d->block_count, q->req.count);
		FUZZ_CHECK((c->index == 18 || c->index == 25) == d->auto_stop,
		           "CMD%u with auto_stop %d", c->index, d->auto_stop);
		want = first;
		break;
	case 32:
		FUZZ_CHECK(q->req.op == DISK_DISCARD, "CMD32 for op %d", q->req.op);
		want = first;
		break;
	case 33:
		FUZZ_CHECK(q->erase_start, "CMD33 before an accepted CMD32");
		want = last;
		break;
	default: /* 38 */
		FUZZ_CHECK(q->erase_end, "CMD38 before an accepted CMD33");
		return;
	}
	FUZZ_CHECK(c->arg == mmc_card_address(&card, want), "CMD%u argument %#x for block %llu",
	           c->index, c->arg, (unsigned long long)want);
	FUZZ_CHECK(card.block_addressed || c->arg % MMC_BLOCK_SIZE == 0,
	           "byte address %#x not on a block", c->arg);
	/* What the card will touch: blocks from the argument, as many as the data phase says. */
	{
		uint64_t at = arg_block(c->arg);
		uint64_t n = d ? d->block_count : 1;

		FUZZ_CHECK(at == want,
		           "CMD%u (argument %#x) reaches block %llu, not %llu (%s addressing)",
		           c->index, c->arg, (unsigned long long)at, (unsigned long long)want,
		           card.block_addressed ? "block" : "byte");
		FUZZ_CHECK(at >= md->first_block && at - md->first_block < md->disk.sector_count &&
		               n <= md->disk.sector_count - (at - md->first_block),
		           "CMD%u (argument %#x) reaches blocks %llu+%llu, outside the disk's "
		           "%llu+%llu (the request: sector %llu, %u)",
		           c->index, c->arg, (unsigned long long)at, (unsigned long long)n,
		           (unsigned long long)md->first_block,
		           (unsigned long long)md->disk.sector_count,
		           (unsigned long long)q->req.sector, q->req.count);
		/* The range was on the card at mmcdisk_init; the card may have changed since. */
		FUZZ_CHECK(at < card.block_count && n <= card.block_count - at,
		           "CMD%u reaches blocks %llu+%llu of a card of %llu", c->index,
		           (unsigned long long)at, (unsigned long long)n,
		           (unsigned long long)card.block_count);
	}
}

/* A command of mmc_read_wait: CMD17 of the next block asked, on the card. */
static void check_read_wait_cmd(struct fuzz_host *h, const struct mmc_cmd *c,
                                const struct mmc_data *d)
{
	uint64_t want = h->read_block + h->reads++;

	FUZZ_CHECK(c->index == 17 && d->block_count == 1, "CMD%u (%u blocks) in mmc_read_wait",
	           c->index, d ? d->block_count : 0);
	FUZZ_CHECK(c->arg == mmc_card_address(&card, want), "CMD17 argument %#x for block %llu",
	           c->arg, (unsigned long long)want);
	FUZZ_CHECK(arg_block(c->arg) == want && want < card.block_count,
	           "CMD17 (argument %#x) reads block %llu for block %llu of %llu", c->arg,
	           (unsigned long long)arg_block(c->arg), (unsigned long long)want,
	           (unsigned long long)card.block_count);
}

static int host_init(struct mmc_host *host)
{
	struct fuzz_host *h = to_host(host);

	FUZZ_CHECK(!h->cmd, "host init while CMD%u runs", h->cmd->index);
	h->config = fuzz_u8(&h->in);
	h->set_ios_calls = 0;
	h->app = h->cmd8_ok = h->acmd6_ok = h->cmd16_ok = h->switched = h->have_scr = false;
	h->rca = 0;
	h->ocr = 0;
	memset(h->cid, 0, sizeof(h->cid));
	memset(h->csd, 0, sizeof(h->csd));
	h->clock_hz = 0;
	h->width = 0;
	h->high_speed = false;
	return h->config & CFG_INIT_FAILS ? -EIO : 0;
}

static int host_set_ios(struct mmc_host *host, uint32_t clock_hz, unsigned int width,
                        bool high_speed)
{
	struct fuzz_host *h = to_host(host);

	FUZZ_CHECK(!h->cmd, "set_ios while CMD%u runs", h->cmd->index);
	FUZZ_CHECK(width == 1 || (width == 4 && h->acmd6_ok), "width %u (ACMD6 accepted: %d)",
	           width, h->acmd6_ok);
	FUZZ_CHECK(!high_speed || (host->high_speed && h->switched),
	           "high speed on a host that can (%d) after the switch (%d)", host->high_speed,
	           h->switched);
	FUZZ_CHECK(clock_hz > 0 && clock_hz <= (high_speed ? 50000000u : 25000000u),
	           "clock %u Hz, high speed %d", clock_hz, high_speed);
	if (++h->set_ios_calls == CFG_SET_IOS_FAIL(h->config))
		return -EIO;
	h->clock_hz = clock_hz;
	h->width = width;
	h->high_speed = high_speed;
	return 0;
}

static bool host_card_present(struct mmc_host *host)
{
	return !(to_host(host)->config & CFG_NO_CARD);
}

static bool host_write_protected(struct mmc_host *host)
{
	return to_host(host)->config & CFG_WRITE_PROTECT;
}

static int host_start(struct mmc_host *host, struct mmc_cmd *c, struct mmc_data *d)
{
	struct fuzz_host *h = to_host(host);
	bool app = h->app;
	uint32_t size = data_block_size(c->index, app);

	FUZZ_CHECK(!h->cmd, "CMD%u started while CMD%u runs", c->index, h->cmd->index);
	h->req = NULL;
	FUZZ_CHECK(resp_type_ok(c->index, app, c->resp_type),
	           "CMD%u (ACMD: %d) with response type %d", c->index, app, c->resp_type);
	FUZZ_CHECK(!app || c->index == 41 || c->index == 51 || c->index == 6,
	           "CMD%u right after CMD55", c->index);
	FUZZ_CHECK((d != NULL) == (size != 0), "CMD%u (ACMD: %d) with data %d", c->index, app,
	           d != NULL);
	if (d) {
		FUZZ_CHECK(d->block_size == size && d->block_count > 0 && d->ops &&
		               d->write == (c->index == 24 || c->index == 25) &&
		               (d->write ? d->ops->get != NULL : d->ops->put != NULL),
		           "CMD%u: %u blocks of %u bytes, write %d", c->index, d->block_count,
		           d->block_size, d->write);
		FUZZ_CHECK(d->block_count == 1 || c->index == 18 || c->index == 25,
		           "CMD%u with %u blocks", c->index, d->block_count);
	}
	switch (c->index) {
	case 7:
	case 9:
	case 55:
		FUZZ_CHECK(c->arg == (uint32_t)h->rca << 16, "CMD%u argument %#x, RCA %#x",
		           c->index, c->arg, h->rca);
		break;
	case 8:
		FUZZ_CHECK(c->arg == 0x1aa, "CMD8 argument %#x", c->arg);
		break;
	case 16:
		FUZZ_CHECK(c->arg == MMC_BLOCK_SIZE, "CMD16 argument %#x", c->arg);
		break;
	case 41:
		FUZZ_CHECK(c->arg == (OCR_VOLTAGES | (h->cmd8_ok ? OCR_HCS : 0)),
		           "ACMD41 argument %#x (CMD8 answered: %d)", c->arg, h->cmd8_ok);
		break;
	case 51:
		break;
	case 6:
		if (app)
			FUZZ_CHECK(c->arg == 2 && h->have_scr && (h->scr[1] & 0x04),
			           "ACMD6 argument %#x (SCR %02x %02x)", c->arg, h->scr[0],
			           h->scr[1]);
		else
			FUZZ_CHECK((c->arg == SWITCH_CHECK || c->arg == SWITCH_SET) &&
			               host->high_speed && h->have_scr && (h->scr[0] & 0x0f) >= 1,
			           "CMD6 argument %#x (SCR %02x)", c->arg, h->scr[0]);
		break;
	default:
		if (!is_request_cmd(c->index))
			break;
		if (h->phase == PHASE_READ_WAIT)
			check_read_wait_cmd(h, c, d);
		else
			check_request_cmd(h, c, d);
	}
	h->app = false;
	/* No card (gone since a failed re-initialisation), or the card went as it started. */
	if (!host_card_present(host) || ++h->starts == h->start_fail_at) {
		h->req = NULL;
		return -ENXIO;
	}
	h->cmd = c;
	h->data = d;
	h->cmd_app = app;
	h->blocks_moved = 0;
	h->waits = 0;
	return 0;
}

/* The model card's answer to the command running. */
static void model_response(struct mmc_cmd *c)
{
	switch (c->index) {
	case 8:
		c->resp[0] = c->arg & 0xfffu;
		break;
	case 41:
		c->resp[0] = OCR_READY | OCR_HCS | OCR_VOLTAGES;
		break;
	case 2:
		memcpy(c->resp, model_cid, sizeof(model_cid));
		break;
	case 9:
		memcpy(c->resp, model_csd, sizeof(model_csd));
		break;
	case 3:
		c->resp[0] = (uint32_t)MODEL_RCA << 16 | 0x0500u;
		break;
	case 55:
		c->resp[0] = R1_TRAN | R1_APP_CMD;
		break;
	default:
		c->resp[0] = R1_TRAN;
	}
}

/* Moves up to `blocks` blocks of the data phase; 0, or -EIO when a copy fails. */
static int move(struct fuzz_host *h, uint32_t blocks, bool from_input)
{
	struct mmc_data *d = h->data;
	uint8_t buf[MMC_BLOCK_SIZE];

	for (; blocks && h->blocks_moved < d->block_count; blocks--) {
		uint32_t off = h->blocks_moved * d->block_size;
		int rc;

		if (d->write) {
			rc = d->ops->get(d->ctx, off, buf, d->block_size);
		} else {
			for (uint32_t i = 0; i < d->block_size; i++)
				buf[i] = from_input && d->block_size < MMC_BLOCK_SIZE
				             ? fuzz_u8(&h->in)
				             : (uint8_t)((off + i) * 31 + h->cmd->arg);
			if (!from_input && h->cmd->index == 51)
				memcpy(buf, model_scr, SCR_BYTES);
			if (!from_input && h->cmd->index == 6) {
				memset(buf, 0, STATUS_BYTES);
				buf[13] = 0x03; /* group 1 supports function 1 */
				buf[16] = 0x01; /* and is (or would be) switched to it */
			}
			if (d->block_size <= sizeof(h->small))
				memcpy(h->small, buf, d->block_size);
			rc = d->ops->put(d->ctx, off, buf, d->block_size);
		}
		if (rc)
			return -EIO;
		h->blocks_moved++;
	}
	return 0;
}

/* The command ends with rc: what the card said is recorded, the host is free. */
static int end(struct fuzz_host *h, int rc)
{
	struct mmc_cmd *c = h->cmd;
	struct fuzz_req *q = h->req;
	bool ok = r1_ok(rc, c);

	switch (c->index) {
	case 55:
		h->app = !h->cmd_app && ok;
		break;
	case 8:
		h->cmd8_ok = rc == 0;
		break;
	case 41:
		h->ocr = c->resp[0];
		break;
	case 2:
		memcpy(h->cid, c->resp, sizeof(h->cid));
		break;
	case 3:
		if (rc == 0)
			h->rca = (uint16_t)(c->resp[0] >> 16);
		break;
	case 9:
		memcpy(h->csd, c->resp, sizeof(h->csd));
		break;
	case 51:
		if (ok) {
			memcpy(h->scr, h->small, SCR_BYTES);
			h->have_scr = true;
		}
		break;
	case 6:
		if (h->cmd_app)
			h->acmd6_ok = ok && c->arg == 2;
		else if (c->arg == SWITCH_SET)
			h->switched = ok && (h->small[16] & 0x0f) == 1;
		break;
	case 16:
		h->cmd16_ok = ok;
		break;
	}
	if (q) {
		bool xfer = c->index == 17 || c->index == 18 || c->index == 24 || c->index == 25;

		q->last_index = c->index;
		q->last_rc = rc;
		q->last_resp = c->resp[0];
		if (xfer && !ok)
			q->xfer_failed = true;
		if (c->index == 32)
			q->erase_start = ok;
		if (c->index == 33)
			q->erase_end = ok;
	}
	h->cmd = NULL;
	h->data = NULL;
	h->req = NULL;
	return rc;
}

static int host_poll(struct mmc_host *host)
{
	struct fuzz_host *h = to_host(host);
	struct mmc_cmd *c = h->cmd;
	uint8_t b = fuzz_u8(&h->in);
	unsigned int outcome = POLL_OUTCOME(b);
	uint32_t left;

	FUZZ_CHECK(c, "poll with no command running");
	fake_time_ns += b & POLL_TIME_JUMP ? TIME_JUMP_NS : TIME_STEP_NS;
	left = h->data ? h->data->block_count - h->blocks_moved : 0;
	if (outcome == 3 && left > 1) {
		uint32_t n = POLL_CHUNK(b) < left ? POLL_CHUNK(b) : left - 1;

		if (move(h, n, b & POLL_DATA_INPUT))
			return end(h, -EIO);
		return -EAGAIN;
	}
	if (outcome == 3 || outcome == 4)
		return ++h->waits > WAITS_MAX ? end(h, -ETIMEDOUT) : -EINPROGRESS;
	/* Done or failed: the response (garbage for a failure: nobody may read it). */
	memset(c->resp, 0, sizeof(c->resp));
	if (c->resp_type != MMC_RESP_NONE) {
		if (b & POLL_RESP_INPUT)
			for (unsigned int i = 0; i < (c->resp_type == MMC_RESP_R2 ? 4u : 1u); i++)
				c->resp[i] = fuzz_u32(&h->in);
		else
			model_response(c);
		if (c->resp_type == MMC_RESP_R2)
			c->resp[0] &= ~0xffu; /* the CRC reads as 0 (mmc.h) */
	}
	if (outcome >= 5)
		return end(h, outcome == 5 ? -ETIMEDOUT : outcome == 6 ? -EILSEQ : -EIO);
	if (h->data && move(h, UINT32_MAX, b & POLL_DATA_INPUT))
		return end(h, -EIO);
	return end(h, 0);
}

static const struct mmc_host_ops host_ops = {
    .init = host_init,
    .set_ios = host_set_ios,
    .card_present = host_card_present,
    .write_protected = host_write_protected,
    .start = host_start,
    .poll = host_poll,
};

/* ---- the card's initialisation ---- */

static void check_init(int rc)
{
	struct fuzz_host *h = &fh;

	FUZZ_CHECK(!h->cmd, "CMD%u still running after mmc_card_init (%d)", h->cmd->index, rc);
	FUZZ_CHECK(card.host == &h->host && card.user == NULL, "card host %p user %p",
	           (void *)card.host, card.user);
	if (!host_card_present(&h->host) && !(h->config & CFG_INIT_FAILS))
		FUZZ_CHECK(rc == -ENXIO, "%d without a card", rc);
	if (rc) {
		FUZZ_CHECK(rc == -ENXIO || rc == -ENODEV || rc == -EIO || rc == -ETIMEDOUT ||
		               rc == -EILSEQ,
		           "mmc_card_init: %d", rc);
		return;
	}
	FUZZ_CHECK(card.ocr == h->ocr && (card.ocr & OCR_READY), "OCR %#x, the card said %#x",
	           card.ocr, h->ocr);
	FUZZ_CHECK(card.block_addressed == !!(card.ocr & OCR_HCS), "block addressing %d, OCR %#x",
	           card.block_addressed, card.ocr);
	FUZZ_CHECK(card.rca == h->rca, "RCA %#x, CMD3 said %#x", card.rca, h->rca);
	FUZZ_CHECK(!memcmp(card.cid, h->cid, sizeof(card.cid)), "CID is not CMD2's");
	FUZZ_CHECK(!memcmp(card.csd, h->csd, sizeof(card.csd)), "CSD is not CMD9's");
	FUZZ_CHECK(card.block_count > 0 && card.block_count == mmc_csd_blocks(card.csd) &&
	               card.block_count == csd_blocks(card.csd),
	           "%llu blocks from CSD %08x %08x %08x %08x", (unsigned long long)card.block_count,
	           card.csd[3], card.csd[2], card.csd[1], card.csd[0]);
	FUZZ_CHECK(h->have_scr &&
	               card.scr[0] == ((uint32_t)h->scr[0] << 24 | (uint32_t)h->scr[1] << 16 |
	                               (uint32_t)h->scr[2] << 8 | h->scr[3]) &&
	               card.scr[1] == ((uint32_t)h->scr[4] << 24 | (uint32_t)h->scr[5] << 16 |
	                               (uint32_t)h->scr[6] << 8 | h->scr[7]),
	           "SCR %08x %08x", card.scr[0], card.scr[1]);
	FUZZ_CHECK(card.write_protected == host_write_protected(&h->host), "write protection %d",
	           card.write_protected);
	FUZZ_CHECK(card.block_addressed || h->cmd16_ok, "byte-addressed without CMD16");
	FUZZ_CHECK((card.width == 1 || card.width == 4) && card.width == h->width &&
	               card.clock_hz == h->clock_hz && card.high_speed == h->high_speed,
	           "card: %u bits, %u Hz, high speed %d; host: %u bits, %u Hz, high speed %d",
	           card.width, card.clock_hz, card.high_speed, h->width, h->clock_hz,
	           h->high_speed);
}

/* ---- requests ---- */

static int buf_check(struct fuzz_req *q, uint32_t offset, uint32_t len, bool put)
{
	FUZZ_CHECK(q->done_count == 0, "buffer of a completed request used");
	FUZZ_CHECK(q->md->queue.first == &q->req, "buffer of a request that is not running");
	FUZZ_CHECK(put == (q->req.op == DISK_READ), "%s for op %d", put ? "put" : "get", q->req.op);
	FUZZ_CHECK(len > 0 && offset <= q->len && len <= q->len - offset,
	           "copy of %u bytes at %u of a %llu-byte buffer", len, offset,
	           (unsigned long long)q->len);
	if ((uint64_t)offset + len > q->fail_at)
		return -EFAULT; /* the guest took its buffer back */
	q->moved += len;
	return 0;
}

static int buf_get(struct disk_req *req, uint32_t offset, void *dst, uint32_t len)
{
	int rc = buf_check((struct fuzz_req *)req, offset, len, false);

	if (rc == 0)
		memset(dst, 0xa5, len);
	return rc;
}

static int buf_put(struct disk_req *req, uint32_t offset, const void *src, uint32_t len)
{
	return buf_check((struct fuzz_req *)req, offset, len, true);
}

static const struct disk_buf_ops buf_ops = {.get = buf_get, .put = buf_put};

/* Whether rc is what a request that never reached the card may end with. */
static bool refused_ok(const struct fuzz_req *q, int rc)
{
	const struct disk *disk = &q->md->disk;
	bool rw = q->req.op == DISK_READ || q->req.op == DISK_WRITE;
	bool out = !disk_range_ok(disk, q->req.sector, q->req.count);
	bool ro = (disk->read_only || q->md->card->write_protected) &&
	          (q->req.op == DISK_WRITE || q->req.op == DISK_DISCARD);
	bool big = rw && q->req.count > MMCDISK_MAX_BLOCKS;

	if (rc == -EIO && q->md->card->broken)
		return true; /* re-initialisation failed: every request fails */
	if (q->req.op == DISK_FLUSH)
		return rc == 0; /* a write completes once programmed: nothing to flush */
	if (!rw && q->req.op != DISK_DISCARD)
		return rc == -EOPNOTSUPP;
	if (out || ro || big)
		return ((out || big) && rc == -ERANGE) || (ro && rc == -EROFS);
	return q->req.count == 0 && rc == 0; /* anything else needs the card */
}

static void req_done(struct disk_req *req, int rc)
{
	struct fuzz_req *q = (struct fuzz_req *)req;

	FUZZ_CHECK(q->done_count++ == 0, "done() twice (%d, then %d)", q->rc, rc);
	q->rc = rc;
	FUZZ_CHECK(fh.req != q || !fh.cmd, "done() while its CMD%u runs", fh.cmd->index);
	if (q->cmd_count == 0) {
		FUZZ_CHECK(refused_ok(q, rc),
		           "op %d sectors %llu+%u, never on the card: %d (broken %d)", req->op,
		           (unsigned long long)req->sector, req->count, rc, q->md->card->broken);
		return;
	}
	FUZZ_CHECK(rc == 0 || rc == -EIO, "op %d on the card: %d", req->op, rc);
	if (q->xfer_failed && req->count > 1)
		FUZZ_CHECK(q->stop_tried, "a failed multi-block transfer left unstopped");
	if (rc)
		return;
	switch (req->op) {
	case DISK_READ:
		FUZZ_CHECK(q->moved == q->len && q->last_index == (req->count > 1 ? 18 : 17) &&
		               q->last_rc == 0 && !(q->last_resp & MMC_R1_ERRORS),
		           "read done after %llu of %llu bytes, CMD%u (%d, %#x)",
		           (unsigned long long)q->moved, (unsigned long long)q->len, q->last_index,
		           q->last_rc, q->last_resp);
		break;
	case DISK_WRITE:
		FUZZ_CHECK(q->moved == q->len && q->last_index == 13 && q->last_rc == 0 &&
		               MMC_R1_STATE(q->last_resp) == MMC_STATE_TRAN &&
		               (q->last_resp & MMC_R1_READY) && !(q->last_resp & MMC_R1_ERRORS),
		           "write done after %llu of %llu bytes, CMD%u (%d, %#x)",
		           (unsigned long long)q->moved, (unsigned long long)q->len, q->last_index,
		           q->last_rc, q->last_resp);
		break;
	case DISK_DISCARD:
		FUZZ_CHECK(q->erase_end && q->last_index == 38 && q->last_rc == 0 &&
		               !(q->last_resp & MMC_R1_ERRORS),
		           "discard done after CMD%u (%d, %#x)", q->last_index, q->last_rc,
		           q->last_resp);
		break;
	default:
		FUZZ_CHECK(0, "op %d went to the card", req->op);
	}
}

/* disk_due: never with nothing in flight, else now or later (disk.h). */
static void check_due(const struct mmcdisk *md)
{
	uint64_t due = disk_due(&md->disk);
	unsigned int left = md->queue.count;

	FUZZ_CHECK((due == DISK_DUE_NEVER) == (left == 0) &&
	               (left == 0 || due == DISK_DUE_NOW || due > fake_time_ns),
	           "due %llu at %llu with %u in flight", (unsigned long long)due,
	           (unsigned long long)fake_time_ns, left);
}

/*
 * A request byte: bits 2..0 the op (6, 7: read, write; 5 is no op), 4..3 how the sector is
 * chosen, 6..5 how the count is, 7: the buffer is gone from a u16 offset on.
 */
static void submit(struct fuzz_in *in, struct mmcdisk *md)
{
	struct fuzz_req *q;
	uint8_t b = fuzz_u8(in);
	uint64_t sector, sectors = md->disk.sector_count;
	uint32_t count;

	switch (b >> 3 & 3u) {
	case 0:
		sector = fuzz_u8(in);
		break;
	case 1:
		sector = sectors - 1 - fuzz_u8(in); /* near the end, or wrapping past 0 */
		break;
	case 2:
		sector = fuzz_u16(in);
		break;
	default:
		sector = fuzz_u64(in);
	}
	switch (b >> 5 & 3u) {
	case 0:
		count = fuzz_u8(in) % 9u;
		break;
	case 1:
		count = 1u + fuzz_u8(in); /* up to MMCDISK_MAX_BLOCKS */
		break;
	case 2:
		count = fuzz_u16(in);
		break;
	default:
		count = fuzz_u32(in);
	}
	if (req_count == REQS_MAX)
		return;
	q = &reqs[req_count++];
	*q = (struct fuzz_req){
	    .req = {.op = (enum disk_op)((b & 7u) % 6u),
	            .sector = sector,
	            .count = count,
	            .buf = &buf_ops,
	            .done = req_done},
	    .md = md,
	    .len = (uint64_t)count * DISK_SECTOR_SIZE,
	    .fail_at = b & 0x80 ? fuzz_u16(in) : UINT64_MAX,
	    .rc = 1,
	};
	disk_submit(&md->disk, &q->req);
	check_due(md);
}

static unsigned int queued(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < disk_count; i++)
		n += disks[i].queue.count;
	return n;
}

static void poll_disk(struct mmcdisk *md)
{
	unsigned int left = disk_poll(&md->disk);

	FUZZ_CHECK(left == md->queue.count, "poll says %u in flight, %u queued", left,
	           md->queue.count);
	check_due(md);
}

/* Polls every disk in turn until nothing is queued; a hang is a finding. */
static void drain(size_t budget)
{
	for (size_t i = 0; queued(); i++) {
		FUZZ_CHECK(i < budget, "%u requests still queued after %zu polls", queued(), i);
		for (unsigned int j = 0; j < disk_count; j++)
			poll_disk(&disks[j]);
	}
	FUZZ_CHECK(card.user == NULL, "card held with nothing queued");
}

/* A start-up read: the card taken back from the disks, then mmc_read_wait. */
static void startup_read(struct fuzz_in *in)
{
	static uint8_t buf[READS_MAX * MMC_BLOCK_SIZE];
	uint8_t b = fuzz_u8(in);
	uint32_t count = (b >> 2) % (READS_MAX + 1);
	uint64_t block;
	bool out;
	int rc;

	switch (b & 3u) {
	case 0:
		block = fuzz_u8(in);
		break;
	case 1:
		block = card.block_count - fuzz_u8(in);
		break;
	default:
		block = fuzz_u64(in);
	}
	/* Bounded by the input: past its end every command ends at its first poll. */
	mmcdisk_quiesce(&card);
	FUZZ_CHECK(card.user == NULL && !fh.cmd, "card held after mmcdisk_quiesce");
	out = block > card.block_count || count > card.block_count - block;
	fh.phase = PHASE_READ_WAIT;
	fh.read_block = block;
	fh.reads = 0;
	rc = mmc_read_wait(&card, block, count, buf);
	fh.phase = PHASE_DISK;
	FUZZ_CHECK(!fh.cmd, "CMD%u still running after mmc_read_wait", fh.cmd->index);
	if (out) {
		FUZZ_CHECK(rc == -ERANGE && fh.reads == 0, "blocks %llu+%u of %llu: %d, %u reads",
		           (unsigned long long)block, count, (unsigned long long)card.block_count,
		           rc, fh.reads);
		return;
	}
	FUZZ_CHECK(rc == 0 || rc == -EIO || rc == -ETIMEDOUT || rc == -EILSEQ || rc == -ENXIO,
	           "mmc_read_wait: %d", rc);
	if (rc == 0)
		FUZZ_CHECK(fh.reads == count, "%u reads for %u blocks", fh.reads, count);
}

/* The disks over an initialised card, then the script's requests. */
static void run_disks(struct fuzz_in *in, size_t budget)
{
	uint8_t layout = fuzz_u8(in);
	uint64_t blocks = card.block_count, first = 0, count = blocks;
	bool valid;
	int rc;

	if (LAYOUT_RANGE(layout) == 2) {
		first = fuzz_u64(in) % blocks;
		count = 1 + fuzz_u64(in) % (blocks - first);
	} else if (LAYOUT_RANGE(layout) == 3) {
		first = fuzz_u64(in);
		count = fuzz_u64(in);
	}
	valid = count > 0 && first <= blocks && count <= blocks - first;
	rc = mmcdisk_init(&disks[0], &card, first, count, layout & LAYOUT_RO_FIRST, clock_now);
	FUZZ_CHECK(rc == (valid ? 0 : -EINVAL), "mmcdisk_init of %llu+%llu on %llu blocks: %d",
	           (unsigned long long)first, (unsigned long long)count, (unsigned long long)blocks,
	           rc);
	if (rc)
		return;
	FUZZ_CHECK(disks[0].disk.sector_count == count &&
	               disks[0].disk.read_only ==
	                   ((layout & LAYOUT_RO_FIRST) || card.write_protected),
	           "disk of %llu sectors, read-only %d", (unsigned long long)count,
	           disks[0].disk.read_only);
	disk_count = 1;
	if ((layout & LAYOUT_SECOND) && first + count < blocks) {
		rc = mmcdisk_init(&disks[1], &card, first + count, blocks - first - count,
		                  layout & LAYOUT_RO_SECOND, clock_now);
		FUZZ_CHECK(rc == 0, "mmcdisk_init of the rest: %d", rc);
		disk_count = 2;
	}
	fh.phase = PHASE_DISK;
	for (unsigned int i = 0; i < ACTIONS_MAX; i++) {
		uint8_t a = fuzz_u8(in);
		struct mmcdisk *md = &disks[a >> 7 && disk_count > 1];

		switch ((enum act)(a & 7u)) {
		case ACT_END:
			i = ACTIONS_MAX;
			break;
		case ACT_SUBMIT:
		case ACT_SUBMIT2:
		case ACT_SUBMIT3:
			submit(in, md);
			break;
		case ACT_POLL:
		case ACT_POLL2:
			poll_disk(md);
			break;
		case ACT_DRAIN:
			drain(budget);
			break;
		case ACT_READ:
			startup_read(in);
			break;
		}
	}
	drain(budget);
	for (unsigned int i = 0; i < req_count; i++)
		FUZZ_CHECK(reqs[i].done_count == 1, "request %u done %u times", i,
		           reqs[i].done_count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint32_t csd[4];
	uint8_t flags;
	int rc;

	log_set_sink(fuzz_log_discard);
	log_set_level(LOG_DEBUG);
	fake_reset();
	for (unsigned int i = 0; i < 4; i++)
		csd[i] = fuzz_u32(&in);
	FUZZ_CHECK(mmc_csd_blocks(csd) == csd_blocks(csd), "CSD %08x %08x %08x %08x: %llu blocks",
	           csd[3], csd[2], csd[1], csd[0], (unsigned long long)mmc_csd_blocks(csd));

	memset(&fh, 0, sizeof(fh));
	memset(disks, 0, sizeof(disks));
	disk_count = 0;
	req_count = 0;
	flags = fuzz_u8(&in);
	fh.host = (struct mmc_host){
	    .ops = &host_ops,
	    .name = "fuzz",
	    .max_clock_hz = 52000000,
	    .high_speed = !(flags & 1),
	};
	fh.start_fail_at = fuzz_u16(&in);
	fh.in = in;
	fh.phase = PHASE_INIT;
	rc = mmc_card_init(&card, &fh.host);
	check_init(rc);
	if (rc == 0)
		/* Each poll reads a byte or, past the input, ends its command at once. */
		run_disks(&fh.in, 4 * size + 64);
	return 0;
}
