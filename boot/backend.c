/*
 * virtio disk backends (see backend.h). For each device libxl lists under our domain,
 * vdisk checks the keys, finds or makes the RAM disk, starts an IOREQ server for the
 * guest's virtio-mmio window and moves `state` to InitWait (what `xl create` waits for),
 * then to Connected once the guest's driver is up. A device goes away with its directory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/timer.h"
#include "blk/disk.h"
#include "blk/mmcdisk.h"
#include "blk/ramdisk.h"
#include "blk/target.h"
#include "blk/vblk.h"
#include "boot/backend.h"
#include "boot/cards.h"
#include "boot/loop.h"
#include "boot/ram.h"
#include "hyp/dm.h"
#include "hyp/gmem.h"
#include "hyp/ioreq.h"
#include "hyp/xs.h"
#include "lib/log.h"
#include "virtio/vmmio.h"

#define DEV_MAX  BACKEND_DEV_MAX
#define DISK_MAX 8
#define PATH_LEN 96
#define LIST_LEN 1024
#define RIGHTS_WAIT_NS  (8ull * 1000000000ull)
#define RIGHTS_RETRY_NS (250ull * 1000000ull)
#define REMOVAL_DELAY_NS (1000ull * 1000000ull) /* libxl waits up to 10 s */
#define DRAIN_POLL_NS    (1000000ull)

/*
 * What a device's disk is: a RAM disk or (part of) an SD card. A RAM disk outlives its
 * guest. vdisk cannot read a guest's name (xenstore keeps /local/domain/<guest> private), so
 * a re-created guest (new domid) gets back the RAM disk that no running device uses and has
 * the same vdev and size. A card's range is set up again for each device that names it.
 */
struct backing {
	bool used;
	bool attached;
	enum target_kind kind;
	uint32_t devid;
	union {
		struct ramdisk rd; /* TARGET_RAM */
		struct mmcdisk md; /* TARGET_MMC */
	};
	unsigned int card;  /* TARGET_MMC: card, partition, blocks, and who has it */
	unsigned int part;
	uint64_t first, count;
	bool writable;
	char owner[32];
	char params[64];
};

struct dev {
	bool used;
	bool gone; /* removed, its slot kept until the disk gives back its requests */
	bool connected;
	enum backend_layout layout;
	uint16_t fe;
	uint32_t devid;
	char path[PATH_LEN]; /* backend directory, relative to our domain; "" for vdisk.disk= */
	char name[32];       /* "dom3/51712", for log lines */
	struct backend_config cfg;
	char params[64];
	bool waiting_for_rights;
	uint64_t rights_deadline;
	uint64_t serving_ns; /* when the IOREQ server started: the guest's first access is timed */
	bool accessed;
	struct backing *disk;
	struct gmem gmem;
	struct ioreq_server ioreq;
	struct vblk blk;
};

static struct dev devs[DEV_MAX];
static enum vblk_policy serve_policy; /* one for every device (bootarg serve=) */
static struct backing disks[DISK_MAX];
static const char *const roots[] = {
	[BACKEND_VIRTIO_DISK] = "backend/virtio_disk",
	[BACKEND_VIRTIO] = "backend/virtio",
};

static int read_key(const struct dev *d, const char *key, char *buf, size_t size)
{
	char path[PATH_LEN + 32];

	if (!d->path[0])
		return -ENOENT; /* a vdisk.disk= device has no directory */
	snprintf(path, sizeof(path), "%s/%s", d->path, key);
	return xs_read(XS_TXN_NONE, path, buf, size);
}

static void write_key(const struct dev *d, const char *key, const char *value)
{
	char path[PATH_LEN + 32];
	int rc;

	if (!d->path[0])
		return;
	snprintf(path, sizeof(path), "%s/%s", d->path, key);
	rc = xs_write(XS_TXN_NONE, path, value);
	if (rc)
		log_warn("backend: %s: writing %s failed (%d)", d->name, key, rc);
}

static void set_state(struct dev *d, enum backend_state state)
{
	char buf[4];

	snprintf(buf, sizeof(buf), "%d", state);
	write_key(d, "state", buf);
}

/* The guest's driver may set DRIVER_OK inside an ioreq: report Connected from the loop. */
static void report_connected(void *arg)
{
	struct dev *d = arg;

	if (d->used && !d->connected && (vmmio_status(&d->blk.mmio) & VMMIO_STATUS_DRIVER_OK)) {
		d->connected = true;
		set_state(d, BACKEND_CONNECTED);
		log_info("backend: %s: guest driver ready", d->name);
	}
}

/* The transport's interrupt (vmmio_set_irq): one assertion of the guest's line. */
static void raise_irq(void *ctx)
{
	struct dev *d = ctx;
	int rc;

	/*
	 * libxl describes the line as a rising edge, so one assertion is one interrupt: Xen's
	 * vGIC injects on level 1 and ignores level 0 for an edge (xen/arch/arm/vgic.c,
	 * vgic_inject_irq), and a deassert would only cost a second hypercall.
	 */
	rc = dm_set_irq_level(d->cfg.frontend, d->cfg.irq, true);
	if (rc)
		log_limited(&d->blk.mmio.limit, LOG_WARN,
		            "backend: %s: raising interrupt %u of dom%u failed (%d); the driver "
		            "sees completions at its next interrupt or poll",
		            d->name, d->cfg.irq, d->cfg.frontend, rc);
}

static uint64_t dev_read(void *ctx, uint64_t offset, unsigned int size)
{
	struct dev *d = ctx;
	uint64_t val;

	/*
	 * How long before the guest's driver came vdisk was ready for it: with nothing that
	 * orders them (dom0less guests start with vdisk), this margin is all there is.
	 */
	if (!d->accessed) {
		d->accessed = true;
		log_info("backend: %s: first access by the guest, %llu us after serving began",
		         d->name,
		         (unsigned long long)((arch_timer_now_ns() - d->serving_ns) / 1000));
	}
	vmmio_read(&d->blk.mmio, offset, size, &val);
	return val;
}

/*
 * The device's queues are served from the loop, one budget a pass, after every other guest's
 * ioreqs and events of that pass (a deferred notify, a guest keeping its queue full, requests
 * at the disk).
 */
static void serve(void *arg)
{
	struct dev *d = arg;

	if (!d->used || d->gone)
		return;
	vblk_run(&d->blk);
}

/* vblk's kick: serve from the loop; after a deferred notify, let the guest run first. */
static void kick(void *ctx, bool yield)
{
	if (yield)
		loop_defer_after_yield(serve, ctx);
	else
		loop_defer_next_pass(serve, ctx);
}

/* vblk's kick_at: the loop sleeps until the disk has news, unless something else comes. */
static void kick_at(void *ctx, uint64_t due_ns)
{
	loop_defer_until(serve, ctx, due_ns);
}

static void dev_write(void *ctx, uint64_t offset, unsigned int size, uint64_t value)
{
	struct dev *d = ctx;

	vmmio_write(&d->blk.mmio, offset, size, value);
	if (!d->connected && (vmmio_status(&d->blk.mmio) & VMMIO_STATUS_DRIVER_OK))
		loop_defer(report_connected, d);
}

static void dev_invalidate(void *ctx)
{
	struct dev *d = ctx;

	gmem_invalidate(&d->gmem);
}

static const struct ioreq_ops dev_ioreq_ops = {
	.read = dev_read,
	.write = dev_write,
	.invalidate = dev_invalidate,
};

/* A RAM disk's size as it is best read in a log line: "64 MiB", "256 KiB" or "512 bytes". */
static const char *size_text(uint64_t bytes, char *buf, size_t size)
{
	if (bytes % (1u << 20) == 0)
		snprintf(buf, size, "%llu MiB", (unsigned long long)(bytes >> 20));
	else if (bytes % 1024 == 0)
		snprintf(buf, size, "%llu KiB", (unsigned long long)(bytes >> 10));
	else
		snprintf(buf, size, "%llu bytes", (unsigned long long)bytes);
	return buf;
}

static struct disk *backing_disk(struct backing *b)
{
	return b->kind == TARGET_RAM ? &b->rd.disk : &b->md.disk;
}

/*
 * A card's range for the device named `owner`: the partition's blocks from the card's table,
 * refused when it overlaps a range another device has and either of them may write.
 */
static struct backing *find_mmc(const struct backend_config *cfg, const char *owner,
                                const char *params)
{
	struct mmc_card *card = cards_get(cfg->target.card);
	struct backing *slot = NULL;
	uint64_t first, count;
	const char *why;
	bool writable;

	if (!card) {
		log_error("backend: %s: %s: no usable SD card %u (see the mmc lines above)", owner,
		          params, cfg->target.card);
		return NULL;
	}
	if (cards_range(card, cfg->target.part, &first, &count, &why)) {
		log_error("backend: %s: %s: %s", owner, params, why);
		return NULL;
	}
	writable = !cfg->read_only && !card->write_protected;
	for (unsigned int i = 0; i < DISK_MAX; i++) {
		struct backing *b = &disks[i];

		if (!b->used) {
			slot = slot ? slot : b;
			continue;
		}
		if (b->kind == TARGET_MMC && b->card == cfg->target.card &&
		    first < b->first + b->count && b->first < first + count &&
		    (b->writable || writable)) {
			log_error("backend: %s: %s (sectors %llu+%llu) overlaps %s of %s (sectors "
			          "%llu+%llu) and one of them is writable: refused",
			          owner, params, (unsigned long long)first, (unsigned long long)count,
			          b->params, b->owner, (unsigned long long)b->first,
			          (unsigned long long)b->count);
			return NULL;
		}
	}
	if (!slot) {
		log_error("backend: %s: already %d disks", owner, DISK_MAX);
		return NULL;
	}
	if (mmcdisk_init(&slot->md, card, first, count, cfg->read_only, arch_timer_now_ns))
		return NULL;
	*slot = (struct backing){
	    .used = true,
	    .kind = TARGET_MMC,
	    .devid = cfg->devid,
	    .md = slot->md,
	    .card = cfg->target.card,
	    .part = cfg->target.part,
	    .first = first,
	    .count = count,
	    .writable = !slot->md.disk.read_only,
	};
	snprintf(slot->owner, sizeof(slot->owner), "%s", owner);
	snprintf(slot->params, sizeof(slot->params), "%s", params);
	log_info("backend: %s: SD card %u %s%u: sectors %llu+%llu (%llu MiB)%s", owner,
	         cfg->target.card, cfg->target.part ? "partition " : "(whole card) ",
	         cfg->target.part, (unsigned long long)first, (unsigned long long)count,
	         (unsigned long long)(count >> 11), slot->writable ? "" : " read-only");
	return slot;
}

static struct backing *find_disk(const struct backend_config *cfg, const char *owner,
                                 const char *params)
{
	char size[24];
	struct backing *free_slot = NULL;
	void *mem;

	/* A card range keeps nothing between its devices: an idle one's slot is free again. */
	for (unsigned int i = 0; i < DISK_MAX; i++)
		if (disks[i].used && disks[i].kind == TARGET_MMC && !disks[i].attached &&
		    disks[i].md.queue.count == 0)
			disks[i].used = false;
	if (cfg->target.kind == TARGET_MMC)
		return find_mmc(cfg, owner, params);
	for (unsigned int i = 0; i < DISK_MAX; i++) {
		struct backing *r = &disks[i];

		if (!r->used) {
			free_slot = free_slot ? free_slot : r;
			continue;
		}
		if (r->kind == TARGET_RAM && !r->attached && r->devid == cfg->devid &&
		    r->rd.disk.sector_count * DISK_SECTOR_SIZE == cfg->target.size) {
			r->rd.disk.read_only = cfg->read_only;
			ramdisk_set_latency(&r->rd, cfg->target.latency_ns, arch_timer_now_ns);
			log_info("backend: dom%u disk %u: reattaching its %s RAM disk", cfg->frontend,
				 cfg->devid, size_text(cfg->target.size, size, sizeof(size)));
			return r;
		}
	}
	if (!free_slot) {
		log_error("backend: dom%u disk %u: already %d RAM disks", cfg->frontend, cfg->devid,
			  DISK_MAX);
		return NULL;
	}
	mem = ram_alloc(cfg->target.size);
	if (!mem) {
		log_error("backend: dom%u disk %u: no room for a %s RAM disk (%llu MiB free): give "
			  "vdisk's domain more memory=", cfg->frontend, cfg->devid,
			  size_text(cfg->target.size, size, sizeof(size)),
			  (unsigned long long)(ram_free() >> 20));
		return NULL;
	}
	memset(mem, 0, cfg->target.size);
	free_slot->kind = TARGET_RAM;
	ramdisk_init(&free_slot->rd, mem, cfg->target.size, cfg->read_only);
	ramdisk_set_latency(&free_slot->rd, cfg->target.latency_ns, arch_timer_now_ns);
	free_slot->used = true;
	free_slot->devid = cfg->devid;
	log_info("backend: dom%u disk %u: new %s RAM disk", cfg->frontend, cfg->devid,
		 size_text(cfg->target.size, size, sizeof(size)));
	return free_slot;
}

static void fail_device(struct dev *d, const char *msg)
{
	log_error("backend: %s: %s", d->name, msg);
	write_key(d, "hotplug-error", msg);
	write_key(d, "hotplug-status", "error");
	set_state(d, BACKEND_CLOSED);
}

/* A backend directory to remove a little after reporting Closed. */
struct removal {
	bool used;
	char path[PATH_LEN];
};

static struct removal removals[DEV_MAX];

/*
 * libxl takes a device away from a guest by waiting for the backend to report Closed, then
 * (for a backend that is not dom0) for the backend to remove its directory. Its state watch
 * fails if the directory is gone before it saw Closed, so the removal waits a moment.
 */
static void finish_removal(void *arg)
{
	struct removal *r = arg;

	xs_rm(XS_TXN_NONE, r->path);
	r->used = false;
}

/* A removed device whose disk still held requests: its slot is free once they are back. */
static void release_when_drained(void *arg)
{
	struct dev *d = arg;

	if (disk_poll(d->blk.disk) || vblk_in_flight(&d->blk)) {
		uint64_t due = disk_due(d->blk.disk);

		if (due == DISK_DUE_NOW || due == DISK_DUE_NEVER)
			due = arch_timer_now_ns() + DRAIN_POLL_NS;
		loop_defer_until(release_when_drained, d, due);
		return;
	}
	log_info("backend: %s: the disk gave back its last request; slot free", d->name);
	d->gone = false;
	d->used = false;
}

/* Stops serving; reports Closed and schedules the directory's removal if it still exists. */
static void remove_device(struct dev *d, bool dir_exists)
{
	ioreq_server_stop(&d->ioreq);
	vblk_stop(&d->blk); /* what the disk still holds is cancelled: it touches nothing */
	gmem_fini(&d->gmem);
	vmmio_log_flush(&d->blk.mmio);
	if (d->disk)
		d->disk->attached = false;
	if (dir_exists) {
		struct removal *r = NULL;

		set_state(d, BACKEND_CLOSED);
		for (unsigned int i = 0; i < DEV_MAX && !r; i++)
			if (!removals[i].used)
				r = &removals[i];
		if (r) {
			r->used = true;
			snprintf(r->path, sizeof(r->path), "%s", d->path);
			loop_defer_until(finish_removal, r, arch_timer_now_ns() + REMOVAL_DELAY_NS);
		}
	}
	if (vblk_in_flight(&d->blk)) {
		log_info("backend: %s: removed with %u request(s) at the disk: cancelled, they touch "
		         "no guest memory; the slot is kept until they are back",
		         d->name, vblk_in_flight(&d->blk));
		d->gone = true;
		release_when_drained(d);
		return;
	}
	log_info("backend: %s: removed", d->name);
	d->used = false;
}

/*
 * Starts the IOREQ server. Without device-model rights Xen answers -EPERM; under the dummy
 * XSM policy dom0 grants them with set_target once the guest exists, so keep trying for a
 * few seconds (less than libxl's wait for InitWait) before giving up.
 */
static void start_serving(void *arg)
{
	struct dev *d = arg;
	char msg[160];
	int rc;

	if (!d->used)
		return;
	rc = ioreq_server_start(&d->ioreq, d->fe, d->cfg.base, VMMIO_WINDOW, &dev_ioreq_ops, d);
	if ((rc == -EPERM || rc == -EACCES) && arch_timer_now_ns() < d->rights_deadline) {
		if (!d->waiting_for_rights)
			log_info("backend: %s: no device-model rights over dom%u yet, retrying for "
				 "%llu s", d->name, d->fe,
				 (unsigned long long)(RIGHTS_WAIT_NS / 1000000000ull));
		d->waiting_for_rights = true;
		loop_defer_until(start_serving, d, arch_timer_now_ns() + RIGHTS_RETRY_NS);
		return;
	}
	if (rc) {
		snprintf(msg, sizeof(msg),
			 "cannot start an IOREQ server for dom%u (%d): vdisk needs device-model "
			 "rights over it (FLASK policy or set_target)", d->fe, rc);
		gmem_fini(&d->gmem);
		fail_device(d, msg);
		return;
	}
	d->ioreq.limit = &d->blk.mmio.limit;
	d->serving_ns = arch_timer_now_ns();
	log_info("backend: %s: %s%s at %#llx irq %u", d->name, d->params,
		 d->cfg.read_only ? " read-only" : "", (unsigned long long)d->cfg.base, d->cfg.irq);
	set_state(d, BACKEND_INIT_WAIT);
}

/* A free device slot, cleared and named, or NULL (logged). */
static struct dev *new_device(enum backend_layout layout, uint16_t fe, uint32_t devid)
{
	struct dev *d = NULL;

	for (unsigned int i = 0; i < DEV_MAX && !d; i++)
		if (!devs[i].used)
			d = &devs[i];
	if (!d) {
		log_error("backend: dom%u disk %u: already serving %d devices", fe, devid, DEV_MAX);
		return NULL;
	}
	memset(d, 0, sizeof(*d));
	d->used = true;
	d->layout = layout;
	d->fe = fe;
	d->devid = devid;
	snprintf(d->name, sizeof(d->name), "dom%u/%u", fe, devid);
	return d;
}

/* Serves d, whose settings are checked: its disk, guest memory, virtio-blk device, IOREQ server. */
static void attach_device(struct dev *d, const char *params)
{
	uint32_t queues;
	uint16_t fe = d->fe;
	int rc;

	d->disk = find_disk(&d->cfg, d->name, params);
	if (!d->disk) {
		fail_device(d, "no disk (see vdisk's console)");
		return;
	}
	d->disk->attached = true;
	if ((rc = gmem_init(&d->gmem, fe))) {
		fail_device(d, "no frames left to map guest memory");
		return;
	}
	/* A queue per guest vCPU, so that its vCPUs do not share one ring (VIRTIO_BLK_F_MQ). */
	if (dm_nr_vcpus(fe, &queues) || queues == 0)
		queues = 1;
	if (queues > VMMIO_QUEUE_MAX)
		queues = VMMIO_QUEUE_MAX;
	if (vblk_init(&d->blk, d->name, backing_disk(d->disk), d->name, queues, &d->gmem.mem)) {
		gmem_fini(&d->gmem);
		fail_device(d, "cannot set up the virtio-blk device");
		return;
	}
	vblk_set_host(&d->blk, serve_policy,
	              &(struct vblk_host){.kick = kick, .kick_at = kick_at, .ctx = d});
	vmmio_set_irq(&d->blk.mmio, raise_irq, d);
	/* One budget of log lines for everything a guest can make vdisk say about its device. */
	d->gmem.limit = &d->blk.mmio.limit;
	snprintf(d->params, sizeof(d->params), "%s", params);
	d->rights_deadline = arch_timer_now_ns() + RIGHTS_WAIT_NS;
	start_serving(d);
}

static void add_device(enum backend_layout layout, uint16_t fe, uint32_t devid)
{
	struct dev *d = new_device(layout, fe, devid);
	char params[64], mode[4], base[24], irq[8], feid[8], msg[160];
	const char *key, *value, *why;
	int rc;

	if (!d)
		return;
	snprintf(d->path, sizeof(d->path), "%s/%u/%u", roots[layout], fe, devid);

#define KEY(k, buf) (read_key(d, k, buf, sizeof(buf)) >= 0 ? buf : NULL)
	rc = backend_check(layout, fe, devid, KEY("frontend-id", feid), KEY("params", params),
	                   KEY("mode", mode), KEY("base", base), KEY("irq", irq), &d->cfg, &key,
	                   &value, &why);
#undef KEY
	if (rc) {
		snprintf(msg, sizeof(msg), "key '%s' = '%s' %s", key, value ? value : "(missing)",
		         why);
		fail_device(d, msg);
		return; /* stays listed so that we do not retry it on every change */
	}
	attach_device(d, params);
}

static struct dev *find_dev(enum backend_layout layout, uint16_t fe, uint32_t devid)
{
	for (unsigned int i = 0; i < DEV_MAX; i++)
		if (devs[i].used && !devs[i].gone && devs[i].layout == layout && devs[i].fe == fe &&
		    devs[i].devid == devid)
			return &devs[i];
	return NULL;
}

/* Adds the devices of one layout that are listed in xenstore and not served yet. */
static void scan_layout(enum backend_layout layout)
{
	static char fes[LIST_LEN];
	char devids[LIST_LEN];
	char path[PATH_LEN];
	int fe_count = xs_directory(XS_TXN_NONE, roots[layout], fes, sizeof(fes));
	const char *f = fes;

	for (int i = 0; i < fe_count; i++, f += strlen(f) + 1) {
		uint64_t fe;
		int dev_count;
		const char *dv;

		if (!backend_parse_u64(f, 10, 0x7fef, &fe))
			continue;
		snprintf(path, sizeof(path), "%s/%s", roots[layout], f);
		dev_count = xs_directory(XS_TXN_NONE, path, devids, sizeof(devids));
		dv = devids;
		for (int j = 0; j < dev_count; j++, dv += strlen(dv) + 1) {
			uint64_t devid;
			char online_path[PATH_LEN + 32], online[4];

			if (!backend_parse_u64(dv, 10, UINT32_MAX, &devid) ||
			    find_dev(layout, (uint16_t)fe, (uint32_t)devid))
				continue;
			/* A device being taken away (online=0) is not a new one. */
			snprintf(online_path, sizeof(online_path), "%s/%s/online", path, dv);
			if (xs_read(XS_TXN_NONE, online_path, online, sizeof(online)) >= 0 &&
			    strcmp(online, "0") == 0)
				continue;
			add_device(layout, (uint16_t)fe, (uint32_t)devid);
		}
	}
}

/*
 * libxl takes a device away by writing online=0 (and state Closing); a device whose
 * directory vanished (its guest died) is only stopped.
 */
static void reap(void)
{
	for (unsigned int i = 0; i < DEV_MAX; i++) {
		char online[4];
		int rc;

		if (!devs[i].used || devs[i].gone)
			continue;
		rc = read_key(&devs[i], "online", online, sizeof(online));
		if (rc == -ENOENT)
			remove_device(&devs[i], false);
		else if (rc >= 0 && strcmp(online, "0") == 0)
			remove_device(&devs[i], true);
	}
}

unsigned int backend_latency(struct backend_latency *out)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < DEV_MAX; i++) {
		struct dev *d = &devs[i];

		if (!d->used || d->gone)
			continue;
		snprintf(out[n].name, sizeof(out[n].name), "dom%u-%u", d->fe, d->devid);
		out[n].service = &d->blk.service;
		out[n].ioreq = &d->ioreq.turnaround;
		n++;
	}
	return n;
}

static void changed(const char *path, void *arg)
{
	reap();
	scan_layout(BACKEND_VIRTIO_DISK);
	scan_layout(BACKEND_VIRTIO);
}

int backend_start(enum vblk_policy policy)
{
	int rc;

	serve_policy = policy;
	if ((rc = xs_watch(roots[BACKEND_VIRTIO_DISK], changed, NULL)) < 0 ||
	    (rc = xs_watch(roots[BACKEND_VIRTIO], changed, NULL)) < 0 ||
	    (rc = xs_watch("@releaseDomain", changed, NULL)) < 0) {
		log_error("backend: cannot watch for devices (%d)", rc);
		return rc;
	}
	log_info("backend: watching %s and %s", roots[BACKEND_VIRTIO_DISK], roots[BACKEND_VIRTIO]);
	return 0;
}

int backend_add_fixed(enum vblk_policy policy, const char *spec, uint32_t devid)
{
	char buf[128];
	struct backend_config cfg;
	struct dev *d;
	const char *params, *key, *value, *why;

	serve_policy = policy;
	snprintf(buf, sizeof(buf), "%s", spec);
	if (backend_parse_disk(buf, devid, &cfg, &params, &key, &value, &why)) {
		log_error("bootargs: vdisk.disk='%s': key '%s' = '%s' %s", spec, key,
		          value ? value : "(missing)", why);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < DEV_MAX; i++) {
		if (devs[i].used && devs[i].fe == cfg.frontend && devs[i].cfg.base == cfg.base) {
			log_error("bootargs: vdisk.disk='%s': key 'base' = '%#llx': dom%u's window "
			          "there is served already (%s)",
			          spec, (unsigned long long)cfg.base, cfg.frontend, devs[i].name);
			return -EINVAL;
		}
	}
	d = new_device(BACKEND_VIRTIO, cfg.frontend, devid);
	if (!d)
		return -ENOSPC;
	d->cfg = cfg;
	attach_device(d, params);
	return 0;
}

void backend_card_event(unsigned int card)
{
	for (unsigned int i = 0; i < DEV_MAX; i++) {
		struct dev *d = &devs[i];

		if (d->used && !d->gone && d->disk && d->disk->kind == TARGET_MMC &&
		    d->disk->card == card)
			loop_defer(serve, d);
	}
}
