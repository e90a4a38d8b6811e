/*
 * virtio-mmio version 2 register model (virtio 1.2 §4.2.2, §4.2.3). The driver is
 * untrusted: every access is checked for width, alignment, register and state, and a bad
 * one is answered as the spec allows (read as 0, write ignored) with one log line. The
 * device status follows §2.1 and §3.1.1; queue registers follow §4.2.3.2.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lib/log.h"
#include "virtio/vmmio.h"
#include "virtio/vq.h"

/* A warning about the driver, at most once per burst of the same one (vmmio_warn_allowed). */
#define dev_warn(dev, fmt, ...)                                                                    \
	do {                                                                                       \
		if (vmmio_warn_allowed(dev, fmt))                                                  \
			log_warn(fmt, ##__VA_ARGS__);                                              \
	} while (0)

#define R  1u
#define W  2u
#define RW (R | W)

#define STATUS_KNOWN                                                                               \
	(VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER | VMMIO_STATUS_DRIVER_OK |                 \
	 VMMIO_STATUS_FEATURES_OK | VMMIO_STATUS_DEVICE_NEEDS_RESET | VMMIO_STATUS_FAILED)

struct reg {
	uint16_t offset;
	uint8_t access;
	const char *name;
};

static const struct reg regs[] = {
    {VMMIO_REG_MAGIC, R, "MagicValue"},
    {VMMIO_REG_VERSION, R, "Version"},
    {VMMIO_REG_DEVICE_ID, R, "DeviceID"},
    {VMMIO_REG_VENDOR_ID, R, "VendorID"},
    {VMMIO_REG_DEVICE_FEATURES, R, "DeviceFeatures"},
    {VMMIO_REG_DEVICE_FEATURES_SEL, W, "DeviceFeaturesSel"},
    {VMMIO_REG_DRIVER_FEATURES, W, "DriverFeatures"},
    {VMMIO_REG_DRIVER_FEATURES_SEL, W, "DriverFeaturesSel"},
    {VMMIO_REG_QUEUE_SEL, W, "QueueSel"},
    {VMMIO_REG_QUEUE_NUM_MAX, R, "QueueNumMax"},
    {VMMIO_REG_QUEUE_NUM, W, "QueueNum"},
    {VMMIO_REG_QUEUE_READY, RW, "QueueReady"},
    {VMMIO_REG_QUEUE_NOTIFY, W, "QueueNotify"},
    {VMMIO_REG_INTERRUPT_STATUS, R, "InterruptStatus"},
    {VMMIO_REG_INTERRUPT_ACK, W, "InterruptACK"},
    {VMMIO_REG_STATUS, RW, "Status"},
    {VMMIO_REG_QUEUE_DESC_LOW, W, "QueueDescLow"},
    {VMMIO_REG_QUEUE_DESC_HIGH, W, "QueueDescHigh"},
    {VMMIO_REG_QUEUE_DRIVER_LOW, W, "QueueDriverLow"},
    {VMMIO_REG_QUEUE_DRIVER_HIGH, W, "QueueDriverHigh"},
    {VMMIO_REG_QUEUE_DEVICE_LOW, W, "QueueDeviceLow"},
    {VMMIO_REG_QUEUE_DEVICE_HIGH, W, "QueueDeviceHigh"},
    {VMMIO_REG_SHM_SEL, W, "SHMSel"},
    {VMMIO_REG_SHM_LEN_LOW, R, "SHMLenLow"},
    {VMMIO_REG_SHM_LEN_HIGH, R, "SHMLenHigh"},
    {VMMIO_REG_SHM_BASE_LOW, R, "SHMBaseLow"},
    {VMMIO_REG_SHM_BASE_HIGH, R, "SHMBaseHigh"},
    {VMMIO_REG_CONFIG_GENERATION, R, "ConfigGeneration"},
};

bool vmmio_warn_allowed(struct vmmio_dev *dev, const char *fmt)
{
	if (fmt == dev->warn_last) {
		if (++dev->warn_count > VMMIO_WARN_BURST) {
			dev->warn_repeats++;
			return false;
		}
	} else {
		vmmio_warn_flush(dev);
		dev->warn_last = fmt;
		dev->warn_count = 1;
	}
	return log_limit_allow(&dev->limit, fmt);
}

/* Logs how many times the last warning was left out since this was last said, if any. */
static void report_repeats(struct vmmio_dev *dev)
{
	/* Held back by the log limit too: a reset logs it, so one per reset otherwise. */
	if (dev->warn_repeats)
		log_limited(&dev->limit, LOG_WARN, "%s: the last warning repeated %u more time(s)",
		            dev->cfg.name, dev->warn_repeats);
	dev->warn_repeats = 0;
}

void vmmio_warn_flush(struct vmmio_dev *dev)
{
	report_repeats(dev);
	dev->warn_count = 0;
	dev->warn_last = NULL;
}

void vmmio_log_flush(struct vmmio_dev *dev)
{
	report_repeats(dev);
	log_limit_flush(&dev->limit);
}

static const struct reg *find_reg(uint32_t offset)
{
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		if (regs[i].offset == offset)
			return &regs[i];
	return NULL;
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int vmmio_init(struct vmmio_dev *dev, const struct vmmio_config *cfg)
{
	if (!cfg->ops || !cfg->ops->notify || !cfg->ops->config_read || !cfg->mem ||
	    cfg->queue_count == 0 || cfg->queue_count > VMMIO_QUEUE_MAX ||
	    !is_pow2(cfg->queue_num_max) || cfg->queue_num_max > VQ_SIZE_MAX ||
	    cfg->config_size > VMMIO_WINDOW - VMMIO_REG_CONFIG ||
	    !(cfg->features & (1ull << VMMIO_F_VERSION_1)))
		return -EINVAL;
	memset(dev, 0, sizeof(*dev));
	dev->cfg = *cfg;
	log_limit_init(&dev->limit, dev->cfg.name);
	for (uint32_t i = 0; i < cfg->queue_count; i++) {
		vq_init(&dev->queue[i].vq, cfg->mem, cfg->name, (uint16_t)i, cfg->seg_len_max);
		dev->queue[i].vq.limit = &dev->limit;
		dev->queue[i].num = cfg->queue_num_max;
	}
	return 0;
}

/* The reset state (§2.4, §4.2.2.1): no status, features, interrupts or ready queues. */
static void reset_state(struct vmmio_dev *dev)
{
	dev->driver_features = 0;
	dev->driver_features_high = false;
	dev->device_features_sel = dev->driver_features_sel = 0;
	dev->queue_sel = dev->shm_sel = 0;
	dev->status = 0;
	dev->interrupt_status = 0;
	for (uint32_t i = 0; i < dev->cfg.queue_count; i++) {
		struct vmmio_queue *q = &dev->queue[i];

		q->num = dev->cfg.queue_num_max;
		q->ready = false;
		q->desc = q->driver = q->device = 0;
		vq_reset(&q->vq);
	}
}

/* Checks an access's shape: 1/2/4/8 bytes, in the window, aligned, 32-bit for registers. */
static int check_access(struct vmmio_dev *dev, const char *dir, uint64_t offset,
                        uint32_t size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8) {
		dev_warn(dev, "%s: %u-byte %s at 0x%llx: not a 1, 2, 4 or 8-byte access", dev->cfg.name,
		         size, dir, (unsigned long long)offset);
		return -EINVAL;
	}
	if (offset >= VMMIO_WINDOW || size > VMMIO_WINDOW - offset) {
		dev_warn(dev, "%s: %u-byte %s at 0x%llx is outside the 0x%x-byte window", dev->cfg.name,
		         size, dir, (unsigned long long)offset, VMMIO_WINDOW);
		return -ERANGE;
	}
	if (offset % size) {
		dev_warn(dev, "%s: %u-byte %s at 0x%llx is misaligned", dev->cfg.name, size, dir,
		         (unsigned long long)offset);
		return -EINVAL;
	}
	if (offset < VMMIO_REG_CONFIG) {
		if (size != 4) {
			dev_warn(dev, "%s: %u-byte %s at 0x%llx: registers take 32-bit accesses",
			         dev->cfg.name, size, dir, (unsigned long long)offset);
			return -EINVAL;
		}
		return 0;
	}
	if (offset - VMMIO_REG_CONFIG + size > dev->cfg.config_size) {
		dev_warn(dev, "%s: %u-byte %s at 0x%llx is past the %u-byte config space", dev->cfg.name,
		         size, dir, (unsigned long long)offset, dev->cfg.config_size);
		return -ERANGE;
	}
	return 0;
}

static struct vmmio_queue *selected_queue(struct vmmio_dev *dev)
{
	return dev->queue_sel < dev->cfg.queue_count ? &dev->queue[dev->queue_sel] : NULL;
}

static int reg_read(struct vmmio_dev *dev, uint32_t offset, uint64_t *val)
{
	const struct reg *r = find_reg(offset);
	struct vmmio_queue *q = selected_queue(dev);

	if (!r) {
		dev_warn(dev, "%s: read of unknown register 0x%03x", dev->cfg.name, offset);
		return -EINVAL;
	}
	if (!(r->access & R)) {
		dev_warn(dev, "%s: read of write-only register %s (0x%03x)", dev->cfg.name, r->name,
		         offset);
		return -EINVAL;
	}
	switch (offset) {
	case VMMIO_REG_MAGIC:
		*val = VMMIO_MAGIC;
		break;
	case VMMIO_REG_VERSION:
		*val = VMMIO_VERSION;
		break;
	case VMMIO_REG_DEVICE_ID:
		*val = dev->cfg.device_id;
		break;
	case VMMIO_REG_VENDOR_ID:
		*val = dev->cfg.vendor_id;
		break;
	case VMMIO_REG_DEVICE_FEATURES:
		if (dev->device_features_sel < 2)
			*val = (uint32_t)(dev->cfg.features >> (32 * dev->device_features_sel));
		break;
	case VMMIO_REG_QUEUE_NUM_MAX:
		/* 0 tells the driver the selected queue does not exist (§4.2.3.2). */
		*val = q ? dev->cfg.queue_num_max : 0;
		break;
	case VMMIO_REG_QUEUE_READY:
		*val = q && q->ready;
		break;
	case VMMIO_REG_INTERRUPT_STATUS:
		*val = dev->interrupt_status;
		break;
	case VMMIO_REG_STATUS:
		*val = dev->status;
		break;
	case VMMIO_REG_SHM_LEN_LOW:
	case VMMIO_REG_SHM_LEN_HIGH:
	case VMMIO_REG_SHM_BASE_LOW:
	case VMMIO_REG_SHM_BASE_HIGH:
		/* No shared memory regions: a length of -1 says so (§4.2.2). */
		*val = 0xffffffffu;
		break;
	case VMMIO_REG_CONFIG_GENERATION:
		*val = dev->config_generation;
		break;
	}
	return 0;
}

static int config_read(struct vmmio_dev *dev, uint32_t offset, uint32_t size, uint64_t *val)
{
	uint8_t buf[8] = {0};

	dev->cfg.ops->config_read(dev->cfg.ctx, offset, buf, size);
	*val = 0;
	for (uint32_t i = size; i-- > 0;)
		*val = *val << 8 | buf[i];
	return 0;
}

int vmmio_read(struct vmmio_dev *dev, uint64_t offset, uint32_t size, uint64_t *val)
{
	int rc = check_access(dev, "read", offset, size);

	*val = 0;
	if (rc)
		return rc;
	if (offset >= VMMIO_REG_CONFIG)
		return config_read(dev, (uint32_t)(offset - VMMIO_REG_CONFIG), size, val);
	return reg_read(dev, (uint32_t)offset, val);
}

/* Whether the driver's features can be accepted (§2.2.2, §6.1); logs why not. */
static bool features_acceptable(struct vmmio_dev *dev)
{
	uint64_t extra = dev->driver_features & ~dev->cfg.features;

	if (extra || dev->driver_features_high) {
		dev_warn(dev, "%s: driver features 0x%llx%s are not a subset of the device's 0x%llx; "
		         "FEATURES_OK refused",
		         dev->cfg.name, (unsigned long long)dev->driver_features,
		         dev->driver_features_high ? " (and bits above 63)" : "",
		         (unsigned long long)dev->cfg.features);
		return false;
	}
	if (!(dev->driver_features & (1ull << VMMIO_F_VERSION_1))) {
		dev_warn(dev, "%s: driver features 0x%llx lack VIRTIO_F_VERSION_1; FEATURES_OK refused",
		         dev->cfg.name, (unsigned long long)dev->driver_features);
		return false;
	}
	return true;
}

/* A Status write (§2.1, §3.1.1): 0 resets; otherwise bits are only added, in order. */
static int write_status(struct vmmio_dev *dev, uint32_t v)
{
	uint32_t old = dev->status;
	uint32_t new;

	if (v == 0) {
		/*
		 * The count so far, but the burst goes on: a reset between notifies must not buy
		 * a hostile driver a fresh burst of lines each time (found by the hostile rig
		 * guest's reset race: ten lines per reset).
		 */
		report_repeats(dev);
		/* A break-and-reset loop repeats this line and "device needs reset": limited. */
		if (old != 0)
			log_limited(&dev->limit, LOG_INFO,
			            "%s: reset by the driver (status was 0x%x)", dev->cfg.name,
			            old);
		if (dev->cfg.ops->reset && dev->cfg.ops->reset(dev->cfg.ctx) == -EBUSY) {
			dev->resetting = true;
			return 0;
		}
		reset_state(dev);
		return 0;
	}
	if (v & ~STATUS_KNOWN) {
		dev_warn(dev, "%s: status 0x%x has undefined bits; ignored (status 0x%x)", dev->cfg.name,
		         v, old);
		return -EINVAL;
	}
	/* DEVICE_NEEDS_RESET belongs to the device: the driver can neither set nor clear it. */
	new = (v & ~VMMIO_STATUS_DEVICE_NEEDS_RESET) | (old & VMMIO_STATUS_DEVICE_NEEDS_RESET);
	if (old & ~new) {
		dev_warn(dev, "%s: status 0x%x would clear bits of 0x%x without a reset; ignored",
		         dev->cfg.name, v, old);
		return -EINVAL;
	}
	if (((new &VMMIO_STATUS_DRIVER) && !(new &VMMIO_STATUS_ACKNOWLEDGE)) ||
	    ((new &VMMIO_STATUS_FEATURES_OK) && !(new &VMMIO_STATUS_DRIVER)) ||
	    ((new &VMMIO_STATUS_DRIVER_OK) && !(new &VMMIO_STATUS_FEATURES_OK))) {
		dev_warn(dev, "%s: status 0x%x sets bits out of order (status 0x%x); ignored",
		         dev->cfg.name, v, old);
		return -EINVAL;
	}
	if ((new &VMMIO_STATUS_FEATURES_OK) && !(old & VMMIO_STATUS_FEATURES_OK) &&
	    !features_acceptable(dev)) {
		/* FEATURES_OK does not stick (§2.2.2), nor DRIVER_OK, which needs it. */
		dev->status = new & ~(VMMIO_STATUS_FEATURES_OK | VMMIO_STATUS_DRIVER_OK);
		return -EINVAL;
	}
	dev->status = new;
	return 0;
}

/* The selected queue, for a write to a register that may only change while it is not ready. */
static struct vmmio_queue *queue_for_setup(struct vmmio_dev *dev, const struct reg *r, uint32_t v)
{
	struct vmmio_queue *q = selected_queue(dev);

	if (!q) {
		dev_warn(dev, "%s: write of 0x%x to %s of queue %u, which does not exist; ignored",
		         dev->cfg.name, v, r->name, dev->queue_sel);
		return NULL;
	}
	if (q->ready) {
		dev_warn(dev, "%s: write of 0x%x to %s of queue %u while it is ready; ignored",
		         dev->cfg.name, v, r->name, dev->queue_sel);
		return NULL;
	}
	return q;
}

static void set_half(gpa_t *addr, uint32_t v, bool high)
{
	if (high)
		*addr = (*addr & 0xffffffffull) | (uint64_t)v << 32;
	else
		*addr = (*addr & ~0xffffffffull) | v;
}

static int write_queue_ready(struct vmmio_dev *dev, uint32_t v)
{
	struct vmmio_queue *q = selected_queue(dev);

	if (!q) {
		dev_warn(dev, 
		    "%s: write of 0x%x to QueueReady of queue %u, which does not exist; ignored",
		    dev->cfg.name, v, dev->queue_sel);
		return -EINVAL;
	}
	if (v == 0) {
		q->ready = false;
		vq_reset(&q->vq);
		return 0;
	}
	if (v != 1) {
		dev_warn(dev, "%s: write of 0x%x to QueueReady of queue %u; ignored", dev->cfg.name, v,
		         dev->queue_sel);
		return -EINVAL;
	}
	if (q->ready)
		return 0;
	if (!(dev->status & VMMIO_STATUS_FEATURES_OK)) {
		dev_warn(dev, "%s: queue %u made ready before FEATURES_OK (status 0x%x); ignored",
		         dev->cfg.name, dev->queue_sel, dev->status);
		return -EINVAL;
	}
	/* vq_start checks size, alignment (§2.7) and that the rings are guest memory. */
	if (vq_start(&q->vq, q->num, q->desc, q->driver, q->device, dev->driver_features))
		return -EINVAL;
	q->ready = true;
	return 0;
}

static int write_queue_notify(struct vmmio_dev *dev, uint32_t v)
{
	if (dev->status & VMMIO_STATUS_DEVICE_NEEDS_RESET)
		return 0; /* logged when the queue broke; the driver must reset */
	if ((dev->status & (VMMIO_STATUS_DRIVER_OK | VMMIO_STATUS_FAILED)) !=
	    VMMIO_STATUS_DRIVER_OK) {
		dev_warn(dev, "%s: notify of queue %u with status 0x%x; ignored", dev->cfg.name, v,
		         dev->status);
		return -EINVAL;
	}
	if (v >= dev->cfg.queue_count || !dev->queue[v].ready) {
		dev_warn(dev, "%s: notify of queue %u, which is not ready; ignored", dev->cfg.name, v);
		return -EINVAL;
	}
	dev->cfg.ops->notify(dev->cfg.ctx, v);
	return 0;
}

static int reg_write(struct vmmio_dev *dev, uint32_t offset, uint32_t v)
{
	const struct reg *r = find_reg(offset);
	struct vmmio_queue *q;

	if (!r) {
		dev_warn(dev, "%s: write of 0x%x to unknown register 0x%03x; ignored", dev->cfg.name, v,
		         offset);
		return -EINVAL;
	}
	if (!(r->access & W)) {
		dev_warn(dev, "%s: write of 0x%x to read-only register %s (0x%03x); ignored",
		         dev->cfg.name, v, r->name, offset);
		return -EINVAL;
	}
	switch (offset) {
	case VMMIO_REG_DEVICE_FEATURES_SEL:
		dev->device_features_sel = v;
		return 0;
	case VMMIO_REG_DRIVER_FEATURES:
		if (dev->status & VMMIO_STATUS_FEATURES_OK) {
			dev_warn(dev, "%s: write of 0x%x to DriverFeatures after FEATURES_OK; ignored",
			         dev->cfg.name, v);
			return -EINVAL;
		}
		if (dev->driver_features_sel == 0)
			dev->driver_features = (dev->driver_features & ~0xffffffffull) | v;
		else if (dev->driver_features_sel == 1)
			dev->driver_features = (dev->driver_features & 0xffffffffull) | (uint64_t)v
			                                                                    << 32;
		else if (v)
			dev->driver_features_high = true;
		return 0;
	case VMMIO_REG_DRIVER_FEATURES_SEL:
		dev->driver_features_sel = v;
		return 0;
	case VMMIO_REG_QUEUE_SEL:
		dev->queue_sel = v;
		return 0;
	case VMMIO_REG_QUEUE_NUM:
		q = queue_for_setup(dev, r, v);
		if (!q)
			return -EINVAL;
		if (!is_pow2(v) || v > dev->cfg.queue_num_max) {
			dev_warn(dev, "%s: QueueNum %u of queue %u is not a power of two from 1 to %u; "
			         "ignored",
			         dev->cfg.name, v, dev->queue_sel, dev->cfg.queue_num_max);
			return -EINVAL;
		}
		q->num = v;
		return 0;
	case VMMIO_REG_QUEUE_READY:
		return write_queue_ready(dev, v);
	case VMMIO_REG_QUEUE_NOTIFY:
		return write_queue_notify(dev, v);
	case VMMIO_REG_INTERRUPT_ACK:
		dev->interrupt_status &= ~v;
		return 0;
	case VMMIO_REG_STATUS:
		return write_status(dev, v);
	case VMMIO_REG_QUEUE_DESC_LOW:
	case VMMIO_REG_QUEUE_DESC_HIGH:
	case VMMIO_REG_QUEUE_DRIVER_LOW:
	case VMMIO_REG_QUEUE_DRIVER_HIGH:
	case VMMIO_REG_QUEUE_DEVICE_LOW:
	case VMMIO_REG_QUEUE_DEVICE_HIGH:
		q = queue_for_setup(dev, r, v);
		if (!q)
			return -EINVAL;
		set_half(offset < VMMIO_REG_QUEUE_DRIVER_LOW   ? &q->desc
		         : offset < VMMIO_REG_QUEUE_DEVICE_LOW ? &q->driver
		                                               : &q->device,
		         v, offset & 4);
		return 0;
	case VMMIO_REG_SHM_SEL:
		dev->shm_sel = v;
		return 0;
	}
	return 0;
}

int vmmio_write(struct vmmio_dev *dev, uint64_t offset, uint32_t size, uint64_t val)
{
	int rc = check_access(dev, "write", offset, size);

	if (rc)
		return rc;
	if (dev->resetting) {
		dev_warn(dev, "%s: write of 0x%llx at 0x%llx while a reset waits for the disk; "
		         "ignored (Status reads 0 once it is done)",
		         dev->cfg.name, (unsigned long long)val, (unsigned long long)offset);
		return -EBUSY;
	}
	if (offset >= VMMIO_REG_CONFIG) {
		/* No config field this model serves is writable by the driver. */
		dev_warn(dev, "%s: %u-byte write of 0x%llx to config offset 0x%llx; config space is "
		         "read-only, ignored",
		         dev->cfg.name, size, (unsigned long long)val,
		         (unsigned long long)(offset - VMMIO_REG_CONFIG));
		return -EINVAL;
	}
	return reg_write(dev, (uint32_t)offset, (uint32_t)val);
}

void vmmio_set_irq(struct vmmio_dev *dev, void (*irq)(void *ctx), void *ctx)
{
	dev->irq = irq;
	dev->irq_ctx = ctx;
}

bool vmmio_resetting(const struct vmmio_dev *dev)
{
	return dev->resetting;
}

void vmmio_reset_done(struct vmmio_dev *dev)
{
	if (!dev->resetting)
		return;
	dev->resetting = false;
	reset_state(dev);
	log_limited(&dev->limit, LOG_INFO, "%s: reset done: the disk gave back its requests",
	            dev->cfg.name);
}

void vmmio_interrupt(struct vmmio_dev *dev, uint32_t bits)
{
	if (!bits)
		return;
	dev->interrupt_status |= bits;
	if (dev->irq)
		dev->irq(dev->irq_ctx);
}

void vmmio_config_changed(struct vmmio_dev *dev)
{
	dev->config_generation++;
	if (dev->status & VMMIO_STATUS_DRIVER_OK)
		vmmio_interrupt(dev, VMMIO_INT_CONFIG);
}

void vmmio_needs_reset(struct vmmio_dev *dev)
{
	if (dev->status & VMMIO_STATUS_DEVICE_NEEDS_RESET)
		return;
	dev->status |= VMMIO_STATUS_DEVICE_NEEDS_RESET;
	log_limited(&dev->limit, LOG_WARN, "%s: device needs reset (status 0x%x)", dev->cfg.name,
	            dev->status);
	if (dev->status & VMMIO_STATUS_DRIVER_OK)
		vmmio_interrupt(dev, VMMIO_INT_CONFIG);
}

struct vq *vmmio_vq(struct vmmio_dev *dev, uint32_t queue)
{
	return queue < dev->cfg.queue_count ? &dev->queue[queue].vq : NULL;
}

uint64_t vmmio_features(const struct vmmio_dev *dev)
{
	return dev->status & VMMIO_STATUS_FEATURES_OK ? dev->driver_features : 0;
}

uint32_t vmmio_status(const struct vmmio_dev *dev)
{
	return dev->status;
}
