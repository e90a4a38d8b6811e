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
#include "boot/dev.h"
#include "boot/loop.h"
#include "boot/ram.h"
#include "hyp/xs.h"
#include "lib/log.h"

#define DEV_MAX  BACKEND_DEV_MAX
#define DISK_MAX 8
#define PATH_LEN 96
#define LIST_LEN         1024
#define REMOVAL_DELAY_NS (1000ull * 1000000ull) /* libxl waits up to 10 s */

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

/* A device slot: where the device is listed and what it serves (boot/dev.h serves it). */
struct bdev {
	bool used;
	bool gone; /* removed, its slot kept until the disk gives back its requests */
	enum backend_layout layout;
	uint16_t fe;
	uint32_t devid;
	char path[PATH_LEN]; /* backend directory, relative to our domain; "" for vdisk.disk= */
	char name[32];       /* "dom3/51712", for log lines */
	struct backend_config cfg;
	char params[64];
	struct backing *disk;
	struct dev dev;
};

static struct bdev devs[DEV_MAX];
static enum vblk_policy serve_policy; /* one for every device (bootarg serve=) */
static struct backing disks[DISK_MAX];
static const char *const roots[] = {
	[BACKEND_VIRTIO_DISK] = "backend/virtio_disk",
	[BACKEND_VIRTIO] = "backend/virtio",
};

static int read_key(const struct bdev *d, const char *key, char *buf, size_t size)
{
	char path[PATH_LEN + 32];

	if (!d->path[0])
		return -ENOENT; /* a vdisk.disk= device has no directory */
	snprintf(path, sizeof(path), "%s/%s", d->path, key);
	return xs_read(XS_TXN_NONE, path, buf, size);
}

static void write_key(const struct bdev *d, const char *key, const char *value)
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

static void set_state(struct bdev *d, enum backend_state state)
{
	char buf[4];

	snprintf(buf, sizeof(buf), "%d", state);
	write_key(d, "state", buf);
}

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
			ramdisk_set_latency_range(&r->rd, cfg->target.latency_min_ns,
			                          cfg->target.latency_max_ns, arch_timer_now_ns);
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
	ramdisk_set_latency_range(&free_slot->rd, cfg->target.latency_min_ns,
	                          cfg->target.latency_max_ns, arch_timer_now_ns);
	free_slot->used = true;
	free_slot->devid = cfg->devid;
	log_info("backend: dom%u disk %u: new %s RAM disk", cfg->frontend, cfg->devid,
		 size_text(cfg->target.size, size, sizeof(size)));
	return free_slot;
}

static void fail_device(struct bdev *d, const char *msg)
{
	log_error("backend: %s: %s", d->name, msg);
	write_key(d, "hotplug-error", msg);
	write_key(d, "hotplug-status", "error");
	set_state(d, BACKEND_CLOSED);
}

/* The device's IOREQ server runs: xl create waits for InitWait. */
static void bdev_serving(void *ctx)
{
	struct bdev *d = ctx;

	log_info("backend: %s: %s%s at %#llx irq %u", d->name, d->params,
	         d->cfg.read_only ? " read-only" : "", (unsigned long long)d->cfg.base, d->cfg.irq);
	set_state(d, BACKEND_INIT_WAIT);
}

static void bdev_failed(void *ctx, const char *msg)
{
	fail_device(ctx, msg);
}

static void bdev_connected(void *ctx)
{
	struct bdev *d = ctx;

	set_state(d, BACKEND_CONNECTED);
	log_info("backend: %s: guest driver ready", d->name);
}

/* A removed device whose disk still held requests: its slot is free now they are back. */
static void bdev_drained(void *ctx)
{
	struct bdev *d = ctx;

	log_info("backend: %s: the disk gave back its last request; slot free", d->name);
	d->gone = false;
	d->used = false;
}

static const struct dev_ops bdev_ops = {
    .serving = bdev_serving,
    .failed = bdev_failed,
    .connected = bdev_connected,
    .drained = bdev_drained,
};

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

/* Stops serving; reports Closed and schedules the directory's removal if it still exists. */
static void remove_device(struct bdev *d, bool dir_exists)
{
	unsigned int held = dev_stop(&d->dev);

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
	if (held) {
		log_info(
		    "backend: %s: removed with %u request(s) at the disk: cancelled, they touch "
		    "no guest memory; the slot is kept until they are back",
		    d->name, held);
		d->gone = true;
		return;
	}
	log_info("backend: %s: removed", d->name);
	d->used = false;
}

/* A free device slot, cleared and named, or NULL (logged). */
static struct bdev *new_device(enum backend_layout layout, uint16_t fe, uint32_t devid)
{
	struct bdev *d = NULL;

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

/* Serves d, whose settings are checked: its disk, then the device (boot/dev.h). */
static void attach_device(struct bdev *d, const char *params)
{
	d->disk = find_disk(&d->cfg, d->name, params);
	if (!d->disk) {
		fail_device(d, "no disk (see vdisk's console)");
		return;
	}
	d->disk->attached = true;
	snprintf(d->params, sizeof(d->params), "%s", params);
	dev_start(&d->dev,
	          &(struct dev_config){.name = d->name,
	                               .domid = d->fe,
	                               .base = d->cfg.base,
	                               .irq = d->cfg.irq,
	                               .policy = serve_policy,
	                               .disk = backing_disk(d->disk)},
	          &bdev_ops, d);
}

static void add_device(enum backend_layout layout, uint16_t fe, uint32_t devid)
{
	struct bdev *d = new_device(layout, fe, devid);
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

static struct bdev *find_dev(enum backend_layout layout, uint16_t fe, uint32_t devid)
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
		struct bdev *d = &devs[i];

		if (!d->used || d->gone)
			continue;
		snprintf(out[n].name, sizeof(out[n].name), "dom%u-%u", d->fe, d->devid);
		out[n].service = &d->dev.blk.service;
		out[n].ioreq = &d->dev.ioreq.turnaround;
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
	struct bdev *d;
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
		struct bdev *d = &devs[i];

		if (d->used && !d->gone && d->disk && d->disk->kind == TARGET_MMC &&
		    d->disk->card == card)
			dev_disk_event(&d->dev);
	}
}
