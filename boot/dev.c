/*
 * One device's parts tied together (see dev.h). The IOREQ server hands the guest's register
 * accesses to the virtio-mmio model; vblk asks to be served from the loop and raises the
 * guest's interrupt through dm_op. What needs the owner (a state to write in xenstore) is
 * deferred to the loop and told through struct dev_ops.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/timer.h"
#include "blk/disk.h"
#include "blk/vblk.h"
#include "boot/dev.h"
#include "boot/loop.h"
#include "hyp/dm.h"
#include "hyp/gmem.h"
#include "hyp/ioreq.h"
#include "lib/log.h"
#include "virtio/vmmio.h"

#define RIGHTS_RETRY_NS (250ull * 1000000ull)
#define DRAIN_POLL_NS   (1000000ull)

/* The guest's driver may set DRIVER_OK inside an ioreq: tell the owner from the loop. */
static void report_connected(void *arg)
{
	struct dev *d = arg;

	if (d->active && !d->connected && (vmmio_status(&d->blk.mmio) & VMMIO_STATUS_DRIVER_OK)) {
		d->connected = true;
		d->ops->connected(d->ctx);
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
	rc = dm_set_irq_level(d->cfg.domid, d->cfg.irq, true);
	if (rc)
		log_limited(&d->blk.mmio.limit, LOG_WARN,
		            "backend: %s: raising interrupt %u of dom%u failed (%d); the driver "
		            "sees completions at its next interrupt or poll",
		            d->cfg.name, d->cfg.irq, d->cfg.domid, rc);
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
		         d->cfg.name,
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

	if (!d->active)
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

static void fail(struct dev *d, const char *msg)
{
	gmem_fini(&d->gmem);
	d->ops->failed(d->ctx, msg);
}

/*
 * Starts the IOREQ server. Without device-model rights Xen answers -EPERM; under the dummy
 * XSM policy dom0 grants them with set_target once the guest exists, so keep trying for a
 * few seconds before giving up.
 */
static void start_serving(void *arg)
{
	struct dev *d = arg;
	char msg[160];
	int rc;

	if (!d->active)
		return;
	rc = ioreq_server_start(&d->ioreq, d->cfg.domid, d->cfg.base, VMMIO_WINDOW, &dev_ioreq_ops,
	                        d);
	if ((rc == -EPERM || rc == -EACCES) && arch_timer_now_ns() < d->rights_deadline) {
		if (!d->waiting_for_rights)
			log_info("backend: %s: no device-model rights over dom%u yet, retrying for "
			         "%llu s",
			         d->cfg.name, d->cfg.domid,
			         (unsigned long long)(DEV_RIGHTS_WAIT_NS / 1000000000ull));
		d->waiting_for_rights = true;
		loop_defer_until(start_serving, d, arch_timer_now_ns() + RIGHTS_RETRY_NS);
		return;
	}
	if (rc) {
		snprintf(msg, sizeof(msg),
		         "cannot start an IOREQ server for dom%u (%d): vdisk needs device-model "
		         "rights over it (FLASK policy or set_target)",
		         d->cfg.domid, rc);
		fail(d, msg);
		return;
	}
	d->ioreq.limit = &d->blk.mmio.limit;
	d->serving_ns = arch_timer_now_ns();
	d->ops->serving(d->ctx);
}

void dev_start(struct dev *d, const struct dev_config *cfg, const struct dev_ops *ops, void *ctx)
{
	uint32_t queues;

	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	d->ops = ops;
	d->ctx = ctx;
	d->active = true;
	if (gmem_init(&d->gmem, cfg->domid)) {
		ops->failed(ctx, "no frames left to map guest memory");
		return;
	}
	/* A queue per guest vCPU, so that its vCPUs do not share one ring (VIRTIO_BLK_F_MQ). */
	if (dm_nr_vcpus(cfg->domid, &queues) || queues == 0)
		queues = 1;
	if (queues > VMMIO_QUEUE_MAX)
		queues = VMMIO_QUEUE_MAX;
	if (vblk_init(&d->blk, cfg->name, cfg->disk, cfg->name, queues, &d->gmem.mem)) {
		fail(d, "cannot set up the virtio-blk device");
		return;
	}
	vblk_set_host(&d->blk, cfg->policy,
	              &(struct vblk_host){.kick = kick, .kick_at = kick_at, .ctx = d});
	vmmio_set_irq(&d->blk.mmio, raise_irq, d);
	/* One budget of log lines for everything a guest can make vdisk say about its device. */
	d->gmem.limit = &d->blk.mmio.limit;
	d->rights_deadline = arch_timer_now_ns() + DEV_RIGHTS_WAIT_NS;
	start_serving(d);
}

/* A stopped device whose disk still held requests: the owner hears when they are all back. */
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
	d->ops->drained(d->ctx);
}

unsigned int dev_stop(struct dev *d)
{
	unsigned int held;

	d->active = false;
	ioreq_server_stop(&d->ioreq);
	vblk_stop(&d->blk); /* what the disk still holds is cancelled: it touches nothing */
	gmem_fini(&d->gmem);
	vmmio_log_flush(&d->blk.mmio);
	held = vblk_in_flight(&d->blk);
	/* From the loop, so that the owner has finished with the device before it hears. */
	if (held)
		loop_defer(release_when_drained, d);
	return held;
}

void dev_disk_event(struct dev *d)
{
	loop_defer(serve, d);
}
