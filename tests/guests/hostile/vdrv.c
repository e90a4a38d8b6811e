/*
 * The hostile guest's virtio-mmio block driver (virtio 1.2 §3.1.1, §4.2.3, §2.7, §5.2.6).
 * Every register access is one load or store of the stated width, so that Xen can forward
 * the trap (a valid ESR ISS: no pair or writeback addressing).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "arch/barrier.h"
#include "arch/gic.h"
#include "arch/mmio.h"
#include "arch/timer.h"
#include "blk/vblk.h"
#include "lib/log.h"
#include "tests/guests/hostile/grant.h"
#include "tests/guests/hostile/vdrv.h"
#include "virtio/vq.h"

/* Request header and status, in our RAM; requests are synchronous, so one of each serves. */
static struct {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
} req_hdr __attribute__((aligned(16)));
static volatile uint8_t req_status;

uint64_t vdrv_dma(const struct vdrv *d, const void *p)
{
	return d->grants ? grant_addr(p) : (uintptr_t)p;
}

uint32_t vdrv_read32(const struct vdrv *d, uint32_t offset)
{
	return mmio_read_32(d->base + offset);
}

void vdrv_write32(const struct vdrv *d, uint32_t offset, uint32_t val)
{
	mmio_write_32(d->base + offset, val);
}

uint64_t vdrv_read_sized(const struct vdrv *d, uint32_t offset, unsigned int size)
{
	uintptr_t a = d->base + offset;
	uint64_t v = 0;

	switch (size) {
	case 1:
		__asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
		break;
	case 2:
		__asm__ volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
		break;
	case 4:
		v = mmio_read_32(a);
		break;
	default:
		v = mmio_read_64(a);
		break;
	}
	return v;
}

void vdrv_write_sized(const struct vdrv *d, uint32_t offset, unsigned int size, uint64_t val)
{
	uintptr_t a = d->base + offset;

	switch (size) {
	case 1:
		mmio_write_8(a, (uint8_t)val);
		break;
	case 2:
		__asm__ volatile("strh %w0, [%1]" ::"rZ"((uint16_t)val), "r"(a) : "memory");
		break;
	case 4:
		mmio_write_32(a, (uint32_t)val);
		break;
	default:
		mmio_write_64(a, val);
		break;
	}
}

int vdrv_probe(struct vdrv *d, const char *name, uintptr_t base, struct vdrv_rings *rings)
{
	uint32_t magic, version, id;

	memset(d, 0, sizeof(*d));
	d->name = name;
	d->base = base;
	d->rings = rings;
	magic = vdrv_read32(d, VMMIO_REG_MAGIC);
	version = vdrv_read32(d, VMMIO_REG_VERSION);
	id = vdrv_read32(d, VMMIO_REG_DEVICE_ID);
	if (magic != VMMIO_MAGIC || version != VMMIO_VERSION || id != VBLK_DEVICE_ID) {
		log_error("%s: at %#lx: magic %#x version %u device %u: not a virtio-mmio v2 block "
		          "device",
		          name, (unsigned long)base, magic, version, id);
		return -ENODEV;
	}
	return 0;
}

int vdrv_reset(struct vdrv *d)
{
	uint32_t st;

	vdrv_write32(d, VMMIO_REG_STATUS, 0);
	st = vdrv_read32(d, VMMIO_REG_STATUS);
	if (st != 0) {
		log_error("%s: status reads %#x after a reset", d->name, st);
		return -EIO;
	}
	d->avail_idx = d->used_idx = 0;
	return 0;
}

static uint64_t read_features(const struct vdrv *d)
{
	uint64_t f;

	vdrv_write32(d, VMMIO_REG_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)vdrv_read32(d, VMMIO_REG_DEVICE_FEATURES) << 32;
	vdrv_write32(d, VMMIO_REG_DEVICE_FEATURES_SEL, 0);
	return f | vdrv_read32(d, VMMIO_REG_DEVICE_FEATURES);
}

static void write_queue_addr(const struct vdrv *d, uint32_t low_reg, uint64_t addr)
{
	vdrv_write32(d, low_reg, (uint32_t)addr);
	vdrv_write32(d, low_reg + 4, (uint32_t)(addr >> 32));
}

struct vdrv_layout vdrv_default_layout(const struct vdrv *d)
{
	struct vdrv_rings *r = d->rings;

	return (struct vdrv_layout){
	    .desc = r->desc,
	    .avail = r->avail,
	    .used = r->used,
	    .desc_dma = vdrv_dma(d, r->desc),
	    .avail_dma = vdrv_dma(d, r->avail),
	    .used_dma = vdrv_dma(d, r->used),
	};
}

int vdrv_setup(struct vdrv *d, uint64_t want, uint16_t qsize)
{
	struct vdrv_layout q = vdrv_default_layout(d);

	memset(d->rings, 0, sizeof(*d->rings));
	return vdrv_setup_layout(d, want, qsize, &q);
}

int vdrv_setup_layout(struct vdrv *d, uint64_t want, uint16_t qsize, const struct vdrv_layout *q)
{
	uint32_t st;

	if (vdrv_reset(d))
		return -EIO;
	vdrv_write32(d, VMMIO_REG_STATUS, VMMIO_STATUS_ACKNOWLEDGE);
	vdrv_write32(d, VMMIO_REG_STATUS, VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER);
	d->device_features = read_features(d);
	if (d->grants)
		want |= 1ull << VMMIO_F_ACCESS_PLATFORM;
	d->features = (want | 1ull << VMMIO_F_VERSION_1) & d->device_features;
	vdrv_write32(d, VMMIO_REG_DRIVER_FEATURES_SEL, 0);
	vdrv_write32(d, VMMIO_REG_DRIVER_FEATURES, (uint32_t)d->features);
	vdrv_write32(d, VMMIO_REG_DRIVER_FEATURES_SEL, 1);
	vdrv_write32(d, VMMIO_REG_DRIVER_FEATURES, (uint32_t)(d->features >> 32));
	vdrv_write32(d, VMMIO_REG_STATUS,
	             VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER | VMMIO_STATUS_FEATURES_OK);
	st = vdrv_read32(d, VMMIO_REG_STATUS);
	if (!(st & VMMIO_STATUS_FEATURES_OK)) {
		log_error("%s: features %#llx refused (status %#x)", d->name,
		          (unsigned long long)d->features, st);
		return -EIO;
	}
	vdrv_write32(d, VMMIO_REG_QUEUE_SEL, 0);
	d->queue_num_max = vdrv_read32(d, VMMIO_REG_QUEUE_NUM_MAX);
	if (qsize > d->queue_num_max || qsize > VDRV_QSIZE_MAX) {
		log_error("%s: queue size %u over QueueNumMax %u", d->name, qsize,
		          d->queue_num_max);
		return -EINVAL;
	}
	/* In this order, so that where parts overlap the later one's zeroes win. */
	memset(q->desc, 0, sizeof(struct vdrv_desc) * qsize);
	memset(q->avail, 0, 6 + 2u * qsize);
	memset(q->used, 0, 6 + 8u * qsize);
	d->q = *q;
	smp_wmb();
	vdrv_write32(d, VMMIO_REG_QUEUE_NUM, qsize);
	write_queue_addr(d, VMMIO_REG_QUEUE_DESC_LOW, q->desc_dma);
	write_queue_addr(d, VMMIO_REG_QUEUE_DRIVER_LOW, q->avail_dma);
	write_queue_addr(d, VMMIO_REG_QUEUE_DEVICE_LOW, q->used_dma);
	vdrv_write32(d, VMMIO_REG_QUEUE_READY, 1);
	if (vdrv_read32(d, VMMIO_REG_QUEUE_READY) != 1) {
		log_info("%s: queue 0 refused: descriptors %#llx, available %#llx, used %#llx",
		         d->name, (unsigned long long)q->desc_dma, (unsigned long long)q->avail_dma,
		         (unsigned long long)q->used_dma);
		return -ENXIO;
	}
	d->qsize = qsize;
	d->avail_idx = d->used_idx = 0;
	vdrv_write32(d, VMMIO_REG_STATUS,
	             VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER | VMMIO_STATUS_FEATURES_OK |
	                 VMMIO_STATUS_DRIVER_OK);
	st = vdrv_read32(d, VMMIO_REG_STATUS);
	if (st != (VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER | VMMIO_STATUS_FEATURES_OK |
	           VMMIO_STATUS_DRIVER_OK)) {
		log_error("%s: status %#x after DRIVER_OK", d->name, st);
		return -EIO;
	}
	d->capacity =
	    vdrv_read32(d, VMMIO_REG_CONFIG) | (uint64_t)vdrv_read32(d, VMMIO_REG_CONFIG + 4) << 32;
	return 0;
}

volatile uint16_t *vdrv_used_event(const struct vdrv *d)
{
	return &d->q.avail[2 + d->qsize];
}

volatile uint16_t *vdrv_avail_event(const struct vdrv *d)
{
	return (volatile uint16_t *)d->q.used + 2 + 4 * d->qsize;
}

void vdrv_set_avail_idx(struct vdrv *d, uint16_t idx)
{
	smp_wmb();
	__atomic_store_n(&d->q.avail[1], idx, __ATOMIC_RELAXED);
}

void vdrv_publish(struct vdrv *d, uint16_t head)
{
	d->q.avail[2 + (d->avail_idx % d->qsize)] = head;
	d->avail_idx++;
	vdrv_set_avail_idx(d, d->avail_idx);
}

void vdrv_notify(struct vdrv *d)
{
	/* The rings are in memory before the trapped store reaches the device. */
	io_mb();
	vdrv_write32(d, VMMIO_REG_QUEUE_NOTIFY, 0);
}

uint16_t vdrv_used_idx(const struct vdrv *d)
{
	uint16_t idx = __atomic_load_n((volatile uint16_t *)d->q.used + 1, __ATOMIC_RELAXED);

	smp_rmb(); /* the used elements before it are read after it */
	return idx;
}

/* Takes the next used element into *id and *len, if the device has published one. */
static bool take_used(struct vdrv *d, uint32_t *id, uint32_t *len)
{
	uint32_t slot = 1 + 2 * (d->used_idx % d->qsize);

	if (vdrv_used_idx(d) == d->used_idx)
		return false;
	*id = d->q.used[slot];
	*len = d->q.used[slot + 1];
	d->used_idx++;
	return true;
}

unsigned int vdrv_wait_count(struct vdrv *d, unsigned int count, uint32_t timeout_ms, uint32_t *ids)
{
	uint64_t deadline = arch_timer_now_ns() + (uint64_t)timeout_ms * 1000000u;
	unsigned int got = 0;
	uint32_t id, len;

	vdrv_notify(d);
	while (got < count) {
		if (take_used(d, &id, &len)) {
			if (ids)
				ids[got] = id;
			got++;
			continue;
		}
		if ((vdrv_read32(d, VMMIO_REG_STATUS) & VMMIO_STATUS_DEVICE_NEEDS_RESET) ||
		    arch_timer_now_ns() > deadline)
			break;
	}
	return got;
}

void vdrv_wait(struct vdrv *d, uint32_t timeout_ms, struct vdrv_answer *ans)
{
	uint64_t deadline = arch_timer_now_ns() + (uint64_t)timeout_ms * 1000000u;

	memset(ans, 0, sizeof(*ans));
	vdrv_notify(d);
	for (;;) {
		if (take_used(d, &ans->id, &ans->len)) {
			ans->used = true;
			break;
		}
		ans->status = vdrv_read32(d, VMMIO_REG_STATUS);
		if ((ans->status & VMMIO_STATUS_DEVICE_NEEDS_RESET) ||
		    arch_timer_now_ns() > deadline)
			break;
	}
	ans->status = vdrv_read32(d, VMMIO_REG_STATUS);
}

int vdrv_request(struct vdrv *d, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	return vdrv_request_at(d, 0, type, sector, buf, len);
}

int vdrv_request_at(struct vdrv *d, uint16_t head, uint32_t type, uint64_t sector, void *buf,
                    uint32_t len)
{
	struct vdrv_desc *desc = d->q.desc;
	struct vdrv_answer ans;
	uint16_t n = head;

	req_hdr.type = type;
	req_hdr.reserved = 0;
	req_hdr.sector = sector;
	req_status = 0xff;
	desc[n] = (struct vdrv_desc){vdrv_dma(d, &req_hdr), sizeof(req_hdr), VQ_DESC_F_NEXT,
	                             (uint16_t)(n + 1)};
	n++;
	if (len) {
		desc[n] = (struct vdrv_desc){
		    vdrv_dma(d, buf), len,
		    (uint16_t)(VQ_DESC_F_NEXT | (type == VBLK_T_OUT || type == VBLK_T_DISCARD ||
		                                         type == VBLK_T_WRITE_ZEROES
		                                     ? 0
		                                     : VQ_DESC_F_WRITE)),
		    (uint16_t)(n + 1)};
		n++;
	}
	desc[n] = (struct vdrv_desc){vdrv_dma(d, (const void *)&req_status), 1, VQ_DESC_F_WRITE, 0};
	vdrv_publish(d, head);
	vdrv_wait(d, 2000, &ans);
	if (!ans.used || ans.id != head)
		return 0xff;
	return req_status;
}

/* INTIDs acknowledged since the last vdrv_irq_drain (vdrv_irq_recorded). */
static uint64_t irq_recorded;

/* Acknowledges one interrupt if the GIC holds one; records it, ends it, returns its INTID. */
static unsigned int irq_take_one(void)
{
	unsigned int irq = arch_gic_ack();

	if (irq >= 1020)
		return GIC_SPURIOUS;
	if (irq < VDRV_IRQ_RECORDED)
		irq_recorded |= 1ull << irq;
	arch_gic_eoi(irq);
	return irq;
}

unsigned int vdrv_irq_drain(uint32_t wait_us)
{
	uint64_t deadline = arch_timer_now_ns() + (uint64_t)wait_us * 1000u;
	unsigned int count = 0;

	do {
		while (irq_take_one() != GIC_SPURIOUS)
			count++;
	} while (arch_timer_now_ns() < deadline);
	irq_recorded = 0;
	return count;
}

bool vdrv_irq_wait(const struct vdrv *d, uint32_t wait_us)
{
	uint64_t deadline = arch_timer_now_ns() + (uint64_t)wait_us * 1000u;

	if (!d->irq)
		return false;
	do {
		if (irq_take_one() == d->irq)
			return true;
	} while (arch_timer_now_ns() < deadline);
	return false;
}

uint64_t vdrv_irq_recorded(void)
{
	return irq_recorded;
}
