/*
 * virtio/vmmio.c: the register model driven the way a frontend's MMIO accesses reach it,
 * with a fake device behind it (counts notify and reset calls, serves 12 config bytes) and
 * a small guest memory for the rings. Bad accesses must read as 0, change nothing, and log
 * exactly one line.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "arch/fake.h"
#include "tests/unit/log_capture.h"
#include "tests/unit/irq_line.h"
#include "tests/unit/test.h"
#include "virtio/vmmio.h"
#include "virtio/vq.h"

#define GUEST_BASE 0x80000000ull
#define GUEST_SIZE (4u * 4096u)
#define DESC       (GUEST_BASE + 0x0000)
#define AVAIL      (GUEST_BASE + 0x1000)
#define USED       (GUEST_BASE + 0x2000)

#define DEV_FEATURES (1ull << VMMIO_F_VERSION_1 | 1ull << VQ_F_EVENT_IDX | 1ull << 5 | 1ull << 1)

static uint8_t guest[GUEST_SIZE] __attribute__((aligned(4096)));

static void *fake_map(void *ctx, gpa_t gpa, uint32_t len, bool writable, enum vq_area area,
                      struct vq_hold *hold)
{
	if (gpa < GUEST_BASE || gpa - GUEST_BASE > GUEST_SIZE - len)
		return NULL;
	return guest + (gpa - GUEST_BASE);
}

static const struct vq_mem_ops fake_ops = {.map = fake_map};
static const struct vq_mem mem = {.ops = &fake_ops};

static struct {
	unsigned int notify_count;
	uint32_t notify_queue;
	unsigned int reset_count;
	bool reset_busy; /* the device still has requests at its disk */
	uint8_t config[12];
} device;

static void dev_notify(void *ctx, uint32_t queue)
{
	device.notify_count++;
	device.notify_queue = queue;
}

static int dev_reset(void *ctx)
{
	device.reset_count++;
	return device.reset_busy ? -EBUSY : 0;
}

static void dev_config_read(void *ctx, uint32_t offset, void *buf, uint32_t size)
{
	memcpy(buf, device.config + offset, size);
}

static const struct vmmio_ops dev_ops = {
    .notify = dev_notify,
    .reset = dev_reset,
    .config_read = dev_config_read,
};

static struct vmmio_dev dev;

static struct vmmio_config base_cfg(void)
{
	return (struct vmmio_config){
	    .name = "mmio-test",
	    .device_id = 2,
	    .vendor_id = 0x1af4,
	    .features = DEV_FEATURES,
	    .queue_count = 2,
	    .queue_num_max = 64,
	    .config_size = sizeof(device.config),
	    .ops = &dev_ops,
	    .mem = &mem,
	};
}

static void setup(void)
{
	struct vmmio_config cfg = base_cfg();

	memset(&device, 0, sizeof(device));
	for (unsigned int i = 0; i < sizeof(device.config); i++)
		device.config[i] = (uint8_t)(0x10 + i);
	memset(guest, 0, sizeof(guest));
	log_capture_reset();
	if (vmmio_init(&dev, &cfg))
		test_fail(__FILE__, __LINE__, "vmmio_init failed");
	irq_count = 0;
	vmmio_set_irq(&dev, irq_line_raise, NULL);
}

static uint64_t rd(uint32_t offset)
{
	uint64_t v = 0xdeadbeef;

	if (vmmio_read(&dev, offset, 4, &v))
		test_fail(__FILE__, __LINE__, "read of 0x%x failed", offset);
	return v;
}

static int wr(uint32_t offset, uint32_t v)
{
	return vmmio_write(&dev, offset, 4, v);
}

static unsigned int log_lines(void)
{
	unsigned int n = 0;

	for (const char *s = log_text; *s; s++)
		n += *s == '\n';
	return n;
}

/* Status as a driver sets it, one step at a time (§3.1.1). */
static void driver_handshake(uint64_t features)
{
	wr(VMMIO_REG_STATUS, VMMIO_STATUS_ACKNOWLEDGE);
	wr(VMMIO_REG_STATUS, VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER);
	wr(VMMIO_REG_DRIVER_FEATURES_SEL, 0);
	wr(VMMIO_REG_DRIVER_FEATURES, (uint32_t)features);
	wr(VMMIO_REG_DRIVER_FEATURES_SEL, 1);
	wr(VMMIO_REG_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr(VMMIO_REG_STATUS,
	   VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER | VMMIO_STATUS_FEATURES_OK);
}

static void queue_setup(uint32_t queue, uint32_t num, gpa_t desc, gpa_t avail, gpa_t used)
{
	wr(VMMIO_REG_QUEUE_SEL, queue);
	wr(VMMIO_REG_QUEUE_NUM, num);
	wr(VMMIO_REG_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(VMMIO_REG_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr(VMMIO_REG_QUEUE_DRIVER_LOW, (uint32_t)avail);
	wr(VMMIO_REG_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
	wr(VMMIO_REG_QUEUE_DEVICE_LOW, (uint32_t)used);
	wr(VMMIO_REG_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
}

/* A device up and running with queue 0 ready. */
static void bring_up(void)
{
	setup();
	driver_handshake(DEV_FEATURES);
	queue_setup(0, 64, DESC, AVAIL, USED);
	wr(VMMIO_REG_QUEUE_READY, 1);
	wr(VMMIO_REG_STATUS, VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER |
	                         VMMIO_STATUS_FEATURES_OK | VMMIO_STATUS_DRIVER_OK);
}

TEST(vmmio, identity_registers)
{
	setup();
	EXPECT_EQ(rd(VMMIO_REG_MAGIC), 0x74726976);
	EXPECT_EQ(rd(VMMIO_REG_VERSION), 2);
	EXPECT_EQ(rd(VMMIO_REG_DEVICE_ID), 2);
	EXPECT_EQ(rd(VMMIO_REG_VENDOR_ID), 0x1af4);
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 0);
	EXPECT_EQ(rd(VMMIO_REG_CONFIG_GENERATION), 0);
	EXPECT_EQ(rd(VMMIO_REG_SHM_LEN_LOW), 0xffffffffu);
	EXPECT_EQ(rd(VMMIO_REG_SHM_LEN_HIGH), 0xffffffffu);
	EXPECT_STREQ(log_text, "");
}

TEST(vmmio, device_features_by_word)
{
	setup();
	EXPECT_EQ(rd(VMMIO_REG_DEVICE_FEATURES), (uint32_t)DEV_FEATURES);
	wr(VMMIO_REG_DEVICE_FEATURES_SEL, 1);
	EXPECT_EQ(rd(VMMIO_REG_DEVICE_FEATURES), 1); /* VERSION_1 is bit 32 */
	wr(VMMIO_REG_DEVICE_FEATURES_SEL, 2);
	EXPECT_EQ(rd(VMMIO_REG_DEVICE_FEATURES), 0);
	wr(VMMIO_REG_DEVICE_FEATURES_SEL, 0xffffffff);
	EXPECT_EQ(rd(VMMIO_REG_DEVICE_FEATURES), 0);
}

TEST(vmmio, initialization_in_order)
{
	bring_up();
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 15);
	EXPECT_EQ(vmmio_status(&dev), 15);
	EXPECT_EQ(vmmio_features(&dev), DEV_FEATURES);
	wr(VMMIO_REG_QUEUE_SEL, 0);
	EXPECT_EQ(rd(VMMIO_REG_QUEUE_READY), 1);
	EXPECT_TRUE(vq_ready(vmmio_vq(&dev, 0)));
	EXPECT_TRUE(vmmio_vq(&dev, 1) != NULL);
	EXPECT_TRUE(vmmio_vq(&dev, 2) == NULL);
	EXPECT_STREQ(log_text, "");
}

TEST(vmmio, features_ok_needs_a_subset_of_the_device_features)
{
	setup();
	driver_handshake(DEV_FEATURES | 1ull << 7);
	EXPECT_EQ(rd(VMMIO_REG_STATUS), VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER);
	EXPECT_CONTAINS(log_text, "driver features 0x1200000a2 are not a subset of the "
	                          "device's 0x120000022; FEATURES_OK refused");
	EXPECT_EQ(log_lines(), 1);
	EXPECT_EQ(vmmio_features(&dev), 0);

	/* Bits above 63 are not offered either. */
	setup();
	wr(VMMIO_REG_STATUS, VMMIO_STATUS_ACKNOWLEDGE);
	wr(VMMIO_REG_STATUS, VMMIO_STATUS_ACKNOWLEDGE | VMMIO_STATUS_DRIVER);
	wr(VMMIO_REG_DRIVER_FEATURES_SEL, 1);
	wr(VMMIO_REG_DRIVER_FEATURES, 1);
	wr(VMMIO_REG_DRIVER_FEATURES_SEL, 2);
	wr(VMMIO_REG_DRIVER_FEATURES, 4);
	wr(VMMIO_REG_STATUS, 11);
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 3);
	EXPECT_CONTAINS(log_text, "(and bits above 63)");
}

TEST(vmmio, features_ok_needs_version_1)
{
	setup();
	driver_handshake(1ull << VQ_F_EVENT_IDX);
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 3);
	EXPECT_CONTAINS(log_text, "driver features 0x20000000 lack VIRTIO_F_VERSION_1; "
	                          "FEATURES_OK refused");
	/* The refused bit did not stick: setting it with DRIVER_OK too is refused again. */
	log_capture_reset();
	wr(VMMIO_REG_STATUS, 15);
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 3);
	EXPECT_EQ(log_lines(), 1);
}

TEST(vmmio, driver_features_are_frozen_after_features_ok)
{
	setup();
	driver_handshake(1ull << VMMIO_F_VERSION_1);
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 11);
	wr(VMMIO_REG_DRIVER_FEATURES_SEL, 0);
	EXPECT_EQ(wr(VMMIO_REG_DRIVER_FEATURES, 1u << 5), -EINVAL);
	EXPECT_CONTAINS(log_text, "write of 0x20 to DriverFeatures after FEATURES_OK; ignored");
	EXPECT_EQ(vmmio_features(&dev), 1ull << VMMIO_F_VERSION_1);
}

TEST(vmmio, status_bits_out_of_order_are_refused)
{
	setup();
	EXPECT_EQ(wr(VMMIO_REG_STATUS, VMMIO_STATUS_DRIVER), -EINVAL);
	EXPECT_CONTAINS(log_text, "status 0x2 sets bits out of order (status 0x0); ignored");
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 0);
	wr(VMMIO_REG_STATUS, 1);
	EXPECT_EQ(wr(VMMIO_REG_STATUS, 1 | VMMIO_STATUS_FEATURES_OK), -EINVAL);
	EXPECT_EQ(wr(VMMIO_REG_STATUS, 1 | VMMIO_STATUS_DRIVER_OK), -EINVAL);
	wr(VMMIO_REG_STATUS, 3);
	EXPECT_EQ(wr(VMMIO_REG_STATUS, 3 | VMMIO_STATUS_DRIVER_OK), -EINVAL);
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 3);
	EXPECT_EQ(log_lines(), 4);
	/* Several steps in one write are fine when in order. */
	setup();
	wr(VMMIO_REG_DRIVER_FEATURES_SEL, 1);
	wr(VMMIO_REG_DRIVER_FEATURES, 1);
	EXPECT_EQ(wr(VMMIO_REG_STATUS, 15), 0);
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 15);
}

TEST(vmmio, status_bits_cannot_be_cleared_but_by_reset)
{
	bring_up();
	EXPECT_EQ(wr(VMMIO_REG_STATUS, 3), -EINVAL);
	EXPECT_CONTAINS(log_text, "status 0x3 would clear bits of 0xf without a reset; ignored");
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 15);
	EXPECT_EQ(wr(VMMIO_REG_STATUS, 15 | 0x10), -EINVAL);
	EXPECT_CONTAINS(log_text, "status 0x1f has undefined bits");
	EXPECT_EQ(log_lines(), 2);
	/* FAILED may be added at any time. */
	EXPECT_EQ(wr(VMMIO_REG_STATUS, 15 | VMMIO_STATUS_FAILED), 0);
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 0x8f);
}

TEST(vmmio, needs_reset_belongs_to_the_device)
{
	bring_up();
	/* The driver cannot set it... */
	EXPECT_EQ(wr(VMMIO_REG_STATUS, 15 | VMMIO_STATUS_DEVICE_NEEDS_RESET), 0);
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 15);
	EXPECT_FALSE(irq_take());
	/* ...the device sets it, with a config change interrupt (§2.1.2)... */
	vmmio_needs_reset(&dev);
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 15 | 64);
	EXPECT_EQ(rd(VMMIO_REG_INTERRUPT_STATUS), VMMIO_INT_CONFIG);
	EXPECT_TRUE(irq_take());
	EXPECT_FALSE(irq_take());
	EXPECT_CONTAINS(log_text, "mmio-test: device needs reset (status 0x4f)");
	vmmio_needs_reset(&dev); /* once */
	EXPECT_FALSE(irq_take());
	EXPECT_EQ(log_lines(), 1);
	/* ...and the driver cannot clear it, nor get notifications through. */
	EXPECT_EQ(wr(VMMIO_REG_STATUS, 15), 0);
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 15 | 64);
	wr(VMMIO_REG_QUEUE_NOTIFY, 0);
	EXPECT_EQ(device.notify_count, 0);
	/* Only a reset clears it. */
	wr(VMMIO_REG_STATUS, 0);
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 0);
}

TEST(vmmio, a_reset_waits_for_the_device_with_status_non_zero)
{
	bring_up();
	device.reset_busy = true;
	wr(VMMIO_REG_STATUS, 0);
	EXPECT_EQ(device.reset_count, 1);
	/* §2.4.1: Status reads 0 only once the reset is done; the queue stays as it was. */
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 15);
	EXPECT_TRUE(vq_ready(vmmio_vq(&dev, 0)));
	log_capture_reset();
	/* Meanwhile the driver changes nothing, and a notify reaches nobody. */
	EXPECT_EQ(wr(VMMIO_REG_STATUS, 1), -EBUSY);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NOTIFY, 0), -EBUSY);
	EXPECT_EQ(device.notify_count, 0);
	EXPECT_CONTAINS(log_text, "while a reset waits for the disk; ignored");
	device.reset_busy = false;
	vmmio_reset_done(&dev);
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 0);
	EXPECT_FALSE(vq_ready(vmmio_vq(&dev, 0)));
	EXPECT_CONTAINS(log_text, "reset done");
	/* Done once: a second call changes nothing, and the device comes up again. */
	vmmio_reset_done(&dev);
	EXPECT_EQ(device.reset_count, 1);
	bring_up();
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 15);
}

TEST(vmmio, reset_clears_status_features_interrupts_and_queues)
{
	bring_up();
	vmmio_interrupt(&dev, VMMIO_INT_VRING);
	EXPECT_TRUE(irq_take()); /* raised at once: the line is an edge */
	wr(VMMIO_REG_QUEUE_SEL, 1);
	wr(VMMIO_REG_QUEUE_NUM, 8);
	wr(VMMIO_REG_STATUS, 0);
	EXPECT_EQ(device.reset_count, 1);
	EXPECT_STREQ(log_text, "[    0.000000] mmio-test: reset by the driver (status was 0xf)\n");
	log_capture_reset();
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 0);
	EXPECT_EQ(rd(VMMIO_REG_INTERRUPT_STATUS), 0);
	EXPECT_FALSE(irq_take());
	EXPECT_EQ(vmmio_features(&dev), 0);
	wr(VMMIO_REG_QUEUE_SEL, 0);
	EXPECT_EQ(rd(VMMIO_REG_QUEUE_READY), 0);
	EXPECT_FALSE(vq_ready(vmmio_vq(&dev, 0)));
	/* Queue registers are free to change again, and features renegotiate. */
	driver_handshake(1ull << VMMIO_F_VERSION_1);
	queue_setup(0, 16, DESC + 0x100, AVAIL + 0x100, USED + 0x100);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_READY, 1), 0);
	EXPECT_EQ(vmmio_features(&dev), 1ull << VMMIO_F_VERSION_1);
	EXPECT_STREQ(log_text, "");
}

TEST(vmmio, queue_num_max_and_queue_num)
{
	setup();
	wr(VMMIO_REG_QUEUE_SEL, 1);
	EXPECT_EQ(rd(VMMIO_REG_QUEUE_NUM_MAX), 64);
	wr(VMMIO_REG_QUEUE_SEL, 2);
	EXPECT_EQ(rd(VMMIO_REG_QUEUE_NUM_MAX), 0); /* no such queue */
	EXPECT_EQ(rd(VMMIO_REG_QUEUE_READY), 0);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NUM, 8), -EINVAL);
	EXPECT_CONTAINS(log_text, "write of 0x8 to QueueNum of queue 2, which does not exist");
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_READY, 1), -EINVAL);

	log_capture_reset();
	wr(VMMIO_REG_QUEUE_SEL, 0);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NUM, 24), -EINVAL);
	EXPECT_CONTAINS(log_text, "QueueNum 24 of queue 0 is not a power of two from 1 to 64");
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NUM, 0), -EINVAL);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NUM, 128), -EINVAL);
	EXPECT_EQ(log_lines(), 3);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NUM, 1), 0);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NUM, 64), 0);
}

TEST(vmmio, queue_registers_are_frozen_while_ready)
{
	bring_up();
	wr(VMMIO_REG_QUEUE_SEL, 0);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NUM, 32), -EINVAL);
	EXPECT_CONTAINS(log_text,
	                "write of 0x20 to QueueNum of queue 0 while it is ready; ignored");
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_DESC_LOW, 0x1000), -EINVAL);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_DRIVER_HIGH, 1), -EINVAL);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_DEVICE_LOW, 0), -EINVAL);
	EXPECT_EQ(log_lines(), 4);
	EXPECT_EQ(dev.queue[0].num, 64);
	EXPECT_EQ(dev.queue[0].desc, DESC);
	EXPECT_EQ(dev.queue[0].driver, AVAIL);
	EXPECT_EQ(dev.queue[0].device, USED);
	/* Queue 1 is not ready: its registers still change. */
	wr(VMMIO_REG_QUEUE_SEL, 1);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_DESC_LOW, 0x1000), 0);
	EXPECT_EQ(dev.queue[1].desc, 0x1000);
	/* After QueueReady=0 queue 0 can be moved. */
	wr(VMMIO_REG_QUEUE_SEL, 0);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_READY, 0), 0);
	EXPECT_EQ(rd(VMMIO_REG_QUEUE_READY), 0);
	EXPECT_FALSE(vq_ready(vmmio_vq(&dev, 0)));
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NUM, 32), 0);
	EXPECT_EQ(dev.queue[0].num, 32);
}

TEST(vmmio, queue_ready_checks_the_rings)
{
	setup();
	driver_handshake(DEV_FEATURES);
	queue_setup(0, 64, DESC + 8, AVAIL, USED);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_READY, 1), -EINVAL);
	EXPECT_EQ(rd(VMMIO_REG_QUEUE_READY), 0);
	EXPECT_CONTAINS(log_text, "misaligned rings: descriptors 0x80000008 (needs 16)");
	queue_setup(0, 64, DESC, AVAIL + 1, USED);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_READY, 1), -EINVAL);
	queue_setup(0, 64, DESC, AVAIL, USED + 2);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_READY, 1), -EINVAL);
	queue_setup(0, 64, DESC, AVAIL, GUEST_BASE + GUEST_SIZE);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_READY, 1), -EINVAL);
	EXPECT_CONTAINS(log_text, "rings not in guest memory");
	queue_setup(0, 64, DESC, AVAIL, DESC);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_READY, 1), -EINVAL);
	EXPECT_CONTAINS(log_text, "queue 0: rings overlap: descriptors 0x80000000+1024, available "
	                          "0x80001000+134, used 0x80000000+518; not started");
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_READY, 2), -EINVAL);
	EXPECT_EQ(log_lines(), 6);
	EXPECT_EQ(rd(VMMIO_REG_QUEUE_READY), 0);
	queue_setup(0, 64, DESC, AVAIL, USED);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_READY, 1), 0);
	EXPECT_EQ(rd(VMMIO_REG_QUEUE_READY), 1);
}

TEST(vmmio, queue_ready_needs_features_ok)
{
	setup();
	wr(VMMIO_REG_STATUS, 3);
	queue_setup(0, 64, DESC, AVAIL, USED);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_READY, 1), -EINVAL);
	EXPECT_CONTAINS(log_text, "queue 0 made ready before FEATURES_OK (status 0x3); ignored");
	EXPECT_EQ(rd(VMMIO_REG_QUEUE_READY), 0);
}

TEST(vmmio, notify_reaches_the_device_only_when_running)
{
	setup();
	driver_handshake(DEV_FEATURES);
	queue_setup(0, 64, DESC, AVAIL, USED);
	wr(VMMIO_REG_QUEUE_READY, 1);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NOTIFY, 0), -EINVAL); /* before DRIVER_OK */
	EXPECT_CONTAINS(log_text, "notify of queue 0 with status 0xb; ignored");
	wr(VMMIO_REG_STATUS, 15);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NOTIFY, 1), -EINVAL); /* not ready */
	EXPECT_CONTAINS(log_text, "notify of queue 1, which is not ready; ignored");
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NOTIFY, 7), -EINVAL); /* no such queue */
	EXPECT_EQ(device.notify_count, 0);
	EXPECT_EQ(log_lines(), 3);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NOTIFY, 0), 0);
	EXPECT_EQ(device.notify_count, 1);
	EXPECT_EQ(device.notify_queue, 0);
	/* After FAILED the device is left alone. */
	wr(VMMIO_REG_STATUS, 15 | VMMIO_STATUS_FAILED);
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NOTIFY, 0), -EINVAL);
	EXPECT_EQ(device.notify_count, 1);
}

/* Found by the hostile rig guest: 50 notifies of a missing queue made 50 log lines. */
TEST(vmmio, a_notify_storm_does_not_flood_the_log)
{
	setup();
	driver_handshake(DEV_FEATURES);
	queue_setup(0, 64, DESC, AVAIL, USED);
	wr(VMMIO_REG_QUEUE_READY, 1);
	wr(VMMIO_REG_STATUS, 15);
	log_capture_reset();
	for (unsigned int i = 0; i < 1000; i++)
		EXPECT_EQ(wr(VMMIO_REG_QUEUE_NOTIFY, 3), -EINVAL);
	EXPECT_EQ(log_lines(), VMMIO_WARN_BURST);
	/* The next different warning says how many were left out; then it is logged again. */
	EXPECT_EQ(wr(VMMIO_REG_MAGIC, 1), -EINVAL);
	EXPECT_CONTAINS(log_text, "mmio-test: the last warning repeated 990 more time(s)");
	EXPECT_CONTAINS(log_text, "read-only register MagicValue");
	EXPECT_EQ(log_lines(), VMMIO_WARN_BURST + 2);
	/* A new burst, but that line had its LOG_LIMIT_LINES in this period already. */
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NOTIFY, 3), -EINVAL);
	EXPECT_EQ(log_lines(), VMMIO_WARN_BURST + 2);
	fake_time_ns += LOG_LIMIT_PERIOD_NS;
	EXPECT_EQ(wr(VMMIO_REG_QUEUE_NOTIFY, 3), -EINVAL);
	EXPECT_CONTAINS(log_text, "mmio-test: 1 more line(s) about it were not logged");
	EXPECT_EQ(log_lines(), VMMIO_WARN_BURST + 4);
	EXPECT_EQ(device.notify_count, 0);
}

/* A reset by the driver ends a burst: the count is logged then. */
TEST(vmmio, a_reset_reports_suppressed_warnings)
{
	setup();
	for (unsigned int i = 0; i < VMMIO_WARN_BURST + 5; i++)
		wr(VMMIO_REG_VERSION, 7);
	EXPECT_EQ(log_lines(), VMMIO_WARN_BURST);
	wr(VMMIO_REG_STATUS, 1);
	wr(VMMIO_REG_STATUS, 0);
	EXPECT_CONTAINS(log_text, "the last warning repeated 5 more time(s)");
}

/*
 * Found by the hostile rig guest's reset race: with the burst started again at every reset, a
 * driver alternating a reset and a run of bad notifies got VMMIO_WARN_BURST lines per cycle.
 */
TEST(vmmio, resets_between_mistakes_do_not_start_new_bursts)
{
	setup();
	log_capture_reset();
	for (unsigned int cycle = 0; cycle < 5; cycle++) {
		wr(VMMIO_REG_STATUS, 1);
		for (unsigned int i = 0; i < 2 * VMMIO_WARN_BURST; i++)
			EXPECT_EQ(wr(VMMIO_REG_QUEUE_NOTIFY, 0), -EINVAL);
		wr(VMMIO_REG_STATUS, 0);
	}
	/* One burst, then per cycle its count and the reset's own line. */
	EXPECT_EQ(log_lines(), VMMIO_WARN_BURST + 5 * 2);
	EXPECT_CONTAINS(log_text, "mmio-test: the last warning repeated 10 more time(s)");
	EXPECT_CONTAINS(log_text, "mmio-test: the last warning repeated 20 more time(s)");
	EXPECT_CONTAINS(log_text, "reset by the driver (status was 0x1)");
	/* A different warning still ends the burst and is logged. */
	EXPECT_EQ(wr(VMMIO_REG_MAGIC, 1), -EINVAL);
	EXPECT_CONTAINS(log_text, "read-only register MagicValue");
}

/*
 * A driver that makes one mistake and resets, in a loop, got a count line per reset: that line
 * is held back by the log limit too, so the whole loop stays within its budget.
 */
TEST(vmmio, a_mistake_and_reset_loop_stays_within_the_log_limit)
{
	setup();
	log_capture_reset();
	for (unsigned int cycle = 0; cycle < 100; cycle++) {
		wr(VMMIO_REG_STATUS, 1);
		for (unsigned int i = 0; i <= VMMIO_WARN_BURST; i++)
			EXPECT_EQ(wr(VMMIO_REG_QUEUE_NOTIFY, 0), -EINVAL);
		wr(VMMIO_REG_STATUS, 0);
	}
	/* The burst, then LOG_LIMIT_LINES counts and LOG_LIMIT_LINES resets. */
	EXPECT_EQ(log_lines(), VMMIO_WARN_BURST + 2 * LOG_LIMIT_LINES);
	fake_time_ns += LOG_LIMIT_PERIOD_NS;
	wr(VMMIO_REG_STATUS, 1);
	wr(VMMIO_REG_STATUS, 0);
	EXPECT_CONTAINS(log_text, "mmio-test: 180 more line(s) about it were not logged");
}

/* A device that goes away says what it still held back: repeats, then lines not logged. */
TEST(vmmio, log_flush_reports_what_the_device_held_back)
{
	setup();
	for (unsigned int cycle = 0; cycle < 2 * LOG_LIMIT_LINES; cycle++) {
		wr(VMMIO_REG_STATUS, 1);
		wr(VMMIO_REG_STATUS, 0); /* "reset by the driver": half of them held back */
	}
	for (unsigned int i = 0; i < VMMIO_WARN_BURST + 5; i++)
		wr(VMMIO_REG_QUEUE_NOTIFY, 0);
	log_capture_reset();
	vmmio_log_flush(&dev);
	EXPECT_CONTAINS(log_text, "mmio-test: the last warning repeated 5 more time(s)\n");
	EXPECT_CONTAINS(log_text, "mmio-test: 10 more line(s) about it were not logged in the last "
	                          "0 s\n");
	EXPECT_EQ(log_lines(), 2);
	/* Said once: nothing is left to say. */
	log_capture_reset();
	vmmio_log_flush(&dev);
	EXPECT_EQ(log_lines(), 0);
}

TEST(vmmio, interrupt_status_and_ack)
{
	bring_up();
	EXPECT_FALSE(irq_take());
	vmmio_interrupt(&dev, VMMIO_INT_VRING);
	EXPECT_TRUE(irq_take());
	EXPECT_FALSE(irq_take());
	vmmio_interrupt(&dev, VMMIO_INT_CONFIG);
	EXPECT_TRUE(irq_take());
	EXPECT_EQ(rd(VMMIO_REG_INTERRUPT_STATUS), 3);
	wr(VMMIO_REG_INTERRUPT_ACK, VMMIO_INT_VRING);
	EXPECT_EQ(rd(VMMIO_REG_INTERRUPT_STATUS), VMMIO_INT_CONFIG);
	wr(VMMIO_REG_INTERRUPT_ACK, 0xffffffff);
	EXPECT_EQ(rd(VMMIO_REG_INTERRUPT_STATUS), 0);
	vmmio_interrupt(&dev, 0);
	EXPECT_FALSE(irq_take());
}

TEST(vmmio, config_generation_and_change_interrupt)
{
	setup();
	vmmio_config_changed(&dev); /* before DRIVER_OK: new generation, no interrupt */
	EXPECT_EQ(rd(VMMIO_REG_CONFIG_GENERATION), 1);
	EXPECT_FALSE(irq_take());
	driver_handshake(DEV_FEATURES);
	wr(VMMIO_REG_STATUS, 15);
	vmmio_config_changed(&dev);
	EXPECT_EQ(rd(VMMIO_REG_CONFIG_GENERATION), 2);
	EXPECT_EQ(rd(VMMIO_REG_INTERRUPT_STATUS), VMMIO_INT_CONFIG);
	EXPECT_TRUE(irq_take());
	wr(VMMIO_REG_STATUS, 0);
	EXPECT_EQ(rd(VMMIO_REG_CONFIG_GENERATION), 2); /* survives a reset */
}

TEST(vmmio, config_space_accesses)
{
	uint64_t v;

	setup();
	EXPECT_EQ(vmmio_read(&dev, 0x100, 1, &v), 0);
	EXPECT_EQ(v, 0x10);
	EXPECT_EQ(vmmio_read(&dev, 0x102, 2, &v), 0);
	EXPECT_EQ(v, 0x1312);
	EXPECT_EQ(vmmio_read(&dev, 0x104, 4, &v), 0);
	EXPECT_EQ(v, 0x17161514);
	EXPECT_EQ(vmmio_read(&dev, 0x100, 8, &v), 0);
	EXPECT_EQ(v, 0x1716151413121110ull);
	EXPECT_EQ(vmmio_read(&dev, 0x10b, 1, &v), 0);
	EXPECT_EQ(v, 0x1b);
	EXPECT_STREQ(log_text, "");

	/* Misaligned, past the config space, odd sizes. */
	EXPECT_EQ(vmmio_read(&dev, 0x101, 2, &v), -EINVAL);
	EXPECT_EQ(v, 0);
	EXPECT_CONTAINS(log_text, "2-byte read at 0x101 is misaligned");
	EXPECT_EQ(vmmio_read(&dev, 0x108, 8, &v), -ERANGE);
	EXPECT_EQ(v, 0);
	EXPECT_CONTAINS(log_text, "8-byte read at 0x108 is past the 12-byte config space");
	EXPECT_EQ(vmmio_read(&dev, 0x10c, 1, &v), -ERANGE);
	EXPECT_EQ(vmmio_read(&dev, 0x1f0, 4, &v), -ERANGE);
	EXPECT_EQ(vmmio_read(&dev, 0x100, 3, &v), -EINVAL);
	EXPECT_CONTAINS(log_text, "3-byte read at 0x100: not a 1, 2, 4 or 8-byte access");
	EXPECT_EQ(log_lines(), 5);

	/* The driver cannot write it. */
	log_capture_reset();
	EXPECT_EQ(vmmio_write(&dev, 0x100, 1, 0xff), -EINVAL);
	EXPECT_CONTAINS(log_text, "config space is read-only");
	EXPECT_EQ(device.config[0], 0x10);
	EXPECT_EQ(vmmio_write(&dev, 0x10c, 4, 0xff), -ERANGE);
	EXPECT_EQ(log_lines(), 2);
}

TEST(vmmio, registers_take_only_aligned_32_bit_accesses)
{
	uint64_t v;

	bring_up();
	EXPECT_EQ(vmmio_read(&dev, VMMIO_REG_STATUS, 1, &v), -EINVAL);
	EXPECT_EQ(v, 0);
	EXPECT_CONTAINS(log_text, "1-byte read at 0x70: registers take 32-bit accesses");
	EXPECT_EQ(vmmio_read(&dev, VMMIO_REG_STATUS, 2, &v), -EINVAL);
	EXPECT_EQ(v, 0);
	EXPECT_EQ(vmmio_read(&dev, VMMIO_REG_MAGIC, 8, &v), -EINVAL);
	EXPECT_EQ(v, 0);
	EXPECT_EQ(vmmio_read(&dev, VMMIO_REG_STATUS + 2, 4, &v), -EINVAL);
	EXPECT_CONTAINS(log_text, "4-byte read at 0x72 is misaligned");
	EXPECT_EQ(vmmio_write(&dev, VMMIO_REG_STATUS, 1, 0), -EINVAL);
	EXPECT_EQ(vmmio_write(&dev, VMMIO_REG_STATUS, 8, 0), -EINVAL);
	EXPECT_EQ(vmmio_write(&dev, VMMIO_REG_STATUS + 1, 4, 0), -EINVAL);
	EXPECT_EQ(log_lines(), 7);
	/* None of the writes reset the device. */
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 15);
	EXPECT_EQ(device.reset_count, 0);
}

TEST(vmmio, accesses_past_the_window_are_rejected)
{
	uint64_t v;

	bring_up();
	EXPECT_EQ(vmmio_read(&dev, 0x200, 4, &v), -ERANGE);
	EXPECT_EQ(v, 0);
	EXPECT_CONTAINS(log_text, "4-byte read at 0x200 is outside the 0x200-byte window");
	EXPECT_EQ(vmmio_read(&dev, 0x1fc, 8, &v), -ERANGE);
	EXPECT_EQ(vmmio_read(&dev, UINT64_MAX - 3, 4, &v), -ERANGE);
	EXPECT_EQ(vmmio_write(&dev, 0x270, 4, 0), -ERANGE);
	EXPECT_EQ(vmmio_write(&dev, 0x1000070, 4, 0), -ERANGE);
	EXPECT_EQ(log_lines(), 5);
	EXPECT_EQ(rd(VMMIO_REG_STATUS), 15);
}

TEST(vmmio, writes_to_read_only_registers_are_ignored)
{
	static const uint32_t ro[] = {
	    VMMIO_REG_MAGIC,
	    VMMIO_REG_VERSION,
	    VMMIO_REG_DEVICE_ID,
	    VMMIO_REG_VENDOR_ID,
	    VMMIO_REG_DEVICE_FEATURES,
	    VMMIO_REG_QUEUE_NUM_MAX,
	    VMMIO_REG_INTERRUPT_STATUS,
	    VMMIO_REG_SHM_LEN_LOW,
	    VMMIO_REG_CONFIG_GENERATION,
	};

	bring_up();
	vmmio_interrupt(&dev, VMMIO_INT_VRING);
	for (unsigned int i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		EXPECT_EQ(wr(ro[i], 0), -EINVAL);
	EXPECT_EQ(log_lines(), sizeof(ro) / sizeof(ro[0]));
	EXPECT_CONTAINS(log_text, "write of 0x0 to read-only register MagicValue (0x000); ignored");
	EXPECT_CONTAINS(log_text, "read-only register InterruptStatus (0x060)");
	EXPECT_EQ(rd(VMMIO_REG_MAGIC), VMMIO_MAGIC);
	EXPECT_EQ(rd(VMMIO_REG_DEVICE_ID), 2);
	EXPECT_EQ(rd(VMMIO_REG_QUEUE_NUM_MAX), 64);
	EXPECT_EQ(rd(VMMIO_REG_INTERRUPT_STATUS), VMMIO_INT_VRING);
	EXPECT_EQ(rd(VMMIO_REG_DEVICE_FEATURES), (uint32_t)DEV_FEATURES);
}

TEST(vmmio, write_only_and_unknown_registers_read_as_zero)
{
	uint64_t v;

	bring_up();
	EXPECT_EQ(vmmio_read(&dev, VMMIO_REG_QUEUE_NUM, 4, &v), -EINVAL);
	EXPECT_EQ(v, 0);
	EXPECT_CONTAINS(log_text, "read of write-only register QueueNum (0x038)");
	EXPECT_EQ(vmmio_read(&dev, VMMIO_REG_QUEUE_DESC_LOW, 4, &v), -EINVAL);
	EXPECT_EQ(v, 0);
	EXPECT_EQ(vmmio_read(&dev, 0x0c0, 4, &v), -EINVAL);
	EXPECT_EQ(v, 0);
	EXPECT_CONTAINS(log_text, "read of unknown register 0x0c0");
	EXPECT_EQ(wr(0x018, 1), -EINVAL);
	EXPECT_CONTAINS(log_text, "write of 0x1 to unknown register 0x018; ignored");
	EXPECT_EQ(log_lines(), 4);
}

TEST(vmmio, init_rejects_bad_configs)
{
	struct vmmio_config cfg;
	struct vmmio_ops no_notify = {.config_read = dev_config_read};

	cfg = base_cfg();
	cfg.queue_count = 0;
	EXPECT_EQ(vmmio_init(&dev, &cfg), -EINVAL);
	cfg = base_cfg();
	cfg.queue_count = VMMIO_QUEUE_MAX + 1;
	EXPECT_EQ(vmmio_init(&dev, &cfg), -EINVAL);
	cfg = base_cfg();
	cfg.queue_num_max = 48;
	EXPECT_EQ(vmmio_init(&dev, &cfg), -EINVAL);
	cfg = base_cfg();
	cfg.queue_num_max = 512;
	EXPECT_EQ(vmmio_init(&dev, &cfg), -EINVAL);
	cfg = base_cfg();
	cfg.config_size = 0x101;
	EXPECT_EQ(vmmio_init(&dev, &cfg), -EINVAL);
	cfg = base_cfg();
	cfg.features = 1;
	EXPECT_EQ(vmmio_init(&dev, &cfg), -EINVAL);
	cfg = base_cfg();
	cfg.ops = &no_notify;
	EXPECT_EQ(vmmio_init(&dev, &cfg), -EINVAL);
	cfg = base_cfg();
	cfg.mem = NULL;
	EXPECT_EQ(vmmio_init(&dev, &cfg), -EINVAL);
	cfg = base_cfg();
	EXPECT_EQ(vmmio_init(&dev, &cfg), 0);
}
