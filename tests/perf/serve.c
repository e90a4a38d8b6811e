/*
 * Host harness for `make profile`: vdisk's request path on the host, under valgrind's
 * callgrind, to see where its instructions go. A driver written here keeps a 32-deep queue
 * of 4 KiB reads and writes full the way Linux's virtio-blk does (header and status in
 * per-tag request memory, data in fio's 32 buffers), the device serves it through the real
 * gmem (foreign mappings, against a fake Xen that aliases the guest's pages with mmap),
 * the walker, the virtio-mmio model, vblk and the RAM disk. Not a test: it checks only that
 * every request came back OK, and prints what it did.
 *
 *   build/perf/serve [REQUESTS] [DEPTH]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/memory.h>

#include "arch/hypercall.h"
#include "blk/ramdisk.h"
#include "blk/vblk.h"
#include "hyp/frames.h"
#include "hyp/gmem.h"
#include "virtio/vmmio.h"

#define PAGE        4096u
#define GUEST_PAGES 1024u
#define GPA_BASE    0x40000000ull
#define DISK_BYTES  (64u << 20)
#define QSIZE       256u
#define DESC        (GPA_BASE + 0x0000)
#define AVAIL       (GPA_BASE + 0x1000)
#define USED        (GPA_BASE + 0x2000)
#define REQS        (GPA_BASE + 0x10000)  /* per-tag request memory: header, status, 0x100 apart */
#define DATA        (GPA_BASE + 0x100000) /* fio's buffers, one page each */

static int memfd;
static unsigned int raised; /* interrupts the device raised since the driver looked */

static void raise_irq(void *ctx)
{
	raised++;
}

static uint8_t *gm;
static uint8_t *frames_base;
static struct gmem g;
static struct vblk blk;
static struct ramdisk rd;

/* ---- a fake Xen that maps for real (foreign mappings only) ---- */

long hypercall_memory_op(unsigned int cmd, void *arg)
{
	if (cmd == XENMEM_add_to_physmap_batch) {
		struct xen_add_to_physmap_batch *b = arg;

		for (unsigned int k = 0; k < b->size; k++) {
			uint64_t page = b->idxs.p[k] - (GPA_BASE >> 12);
			void *at = (void *)(uintptr_t)(b->gpfns.p[k] << 12);

			b->errs.p[k] = 0;
			if (page >= GUEST_PAGES ||
			    mmap(at, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, memfd,
			         (off_t)page * PAGE) != at)
				b->errs.p[k] = -EINVAL;
		}
		return 0;
	}
	if (cmd == XENMEM_remove_from_physmap)
		return 0;
	return -ENOSYS;
}

int frames_alloc(unsigned int count, struct own_frame *first)
{
	first->n = (uintptr_t)frames_base >> 12;
	return 0;
}

void frames_free(struct own_frame first, unsigned int count)
{
}

unsigned int frames_free_count(void)
{
	return 0;
}

/* ---- the driver ---- */

static uint8_t *gp(uint64_t gpa)
{
	return gm + (gpa - GPA_BASE);
}

static void put16(uint64_t gpa, uint16_t v)
{
	memcpy(gp(gpa), &v, 2);
}

static uint16_t get16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, gp(gpa), 2);
	return v;
}

static void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = gp(DESC + 16u * i);

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static uint16_t avail_idx;

/* Tag t's request: header, data, status in descriptors 3t..3t+2. */
static void add(unsigned int t, bool write, uint64_t sector)
{
	uint64_t req = REQS + 0x100u * t;
	uint32_t type = write ? VBLK_T_OUT : VBLK_T_IN;
	uint16_t d = (uint16_t)(3 * t);

	memcpy(gp(req), &type, 4);
	memset(gp(req + 4), 0, 4);
	memcpy(gp(req + 8), &sector, 8);
	desc(d, req, 16, VQ_DESC_F_NEXT, (uint16_t)(d + 1));
	desc((uint16_t)(d + 1), DATA + (uint64_t)PAGE * t, PAGE,
	     (uint16_t)(VQ_DESC_F_NEXT | (write ? 0 : VQ_DESC_F_WRITE)), (uint16_t)(d + 2));
	desc((uint16_t)(d + 2), req + 0x80, 1, VQ_DESC_F_WRITE, 0);
	put16(AVAIL + 4 + 2u * (avail_idx % QSIZE), d);
	avail_idx++;
	put16(AVAIL + 2, avail_idx);
}

static void reg(uint32_t off, uint32_t v)
{
	vmmio_write(&blk.mmio, off, 4, v);
}

static uint32_t reg_rd(uint32_t off)
{
	uint64_t v = 0;

	vmmio_read(&blk.mmio, off, 4, &v);
	return (uint32_t)v;
}

int main(int argc, char **argv)
{
	unsigned long requests = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000;
	unsigned int depth = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 0) : 32;
	uint16_t used_seen = 0;
	unsigned long sent = 0, done = 0, bad = 0, kicks = 0, interrupts = 0;
	uint64_t features;
	void *disk = calloc(1, DISK_BYTES);

	if (depth == 0 || depth > QSIZE / 3)
		depth = 32;
	memfd = memfd_create("guest", 0);
	if (memfd < 0 || ftruncate(memfd, (off_t)GUEST_PAGES * PAGE) || !disk)
		return 1;
	gm = mmap(NULL, (size_t)GUEST_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	frames_base =
	    mmap(NULL, (size_t)GMEM_SLOTS * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (gm == MAP_FAILED || frames_base == MAP_FAILED)
		return 1;
	if (gmem_init(&g, 1) || ramdisk_init(&rd, disk, DISK_BYTES, false) ||
	    vblk_init(&blk, "perf", &rd.disk, "perf", 1, &g.mem))
		return 1;
	vmmio_set_irq(&blk.mmio, raise_irq, NULL);

	/* The driver's side of virtio 1.2 §3.1.1, with every feature the device offers. */
	reg(VMMIO_REG_STATUS, 1);
	reg(VMMIO_REG_STATUS, 3);
	reg(VMMIO_REG_DEVICE_FEATURES_SEL, 0);
	features = reg_rd(VMMIO_REG_DEVICE_FEATURES);
	reg(VMMIO_REG_DEVICE_FEATURES_SEL, 1);
	features |= (uint64_t)reg_rd(VMMIO_REG_DEVICE_FEATURES) << 32;
	reg(VMMIO_REG_DRIVER_FEATURES_SEL, 0);
	reg(VMMIO_REG_DRIVER_FEATURES, (uint32_t)features);
	reg(VMMIO_REG_DRIVER_FEATURES_SEL, 1);
	reg(VMMIO_REG_DRIVER_FEATURES, (uint32_t)(features >> 32));
	reg(VMMIO_REG_STATUS, 11);
	reg(VMMIO_REG_QUEUE_SEL, 0);
	reg(VMMIO_REG_QUEUE_NUM, QSIZE);
	reg(VMMIO_REG_QUEUE_DESC_LOW, (uint32_t)DESC);
	reg(VMMIO_REG_QUEUE_DRIVER_LOW, (uint32_t)AVAIL);
	reg(VMMIO_REG_QUEUE_DEVICE_LOW, (uint32_t)USED);
	reg(VMMIO_REG_QUEUE_READY, 1);
	reg(VMMIO_REG_STATUS, 15);
	if (reg_rd(VMMIO_REG_STATUS) != 15)
		return 1;

	/* Keep `depth` requests out; notify when EVENT_IDX says so, as Linux does. */
	while (done < requests) {
		uint16_t old = avail_idx;

		while (sent - done < depth && sent < requests) {
			add((unsigned int)(sent % depth), sent & 1,
			    (sent * 2654435761u) % (DISK_BYTES / 512 - 8));
			sent++;
		}
		{
			uint16_t event = get16(USED + 4 + 8u * QSIZE);

			if ((uint16_t)(avail_idx - event - 1) < (uint16_t)(avail_idx - old)) {
				reg(VMMIO_REG_QUEUE_NOTIFY, 0);
				kicks++;
			}
		}
		if (raised) {
			raised = 0;
			interrupts++;
			(void)reg_rd(VMMIO_REG_INTERRUPT_STATUS);
			reg(VMMIO_REG_INTERRUPT_ACK, 1);
		}
		while (used_seen != get16(USED + 2)) {
			uint32_t id;

			memcpy(&id, gp(USED + 4 + 8u * (used_seen % QSIZE)), 4);
			bad += id % 3 != 0 || gp(REQS + 0x100u * (id / 3) + 0x80)[0] != VBLK_S_OK;
			used_seen++;
			done++;
		}
		/* The driver asks for an interrupt at the next completion (virtqueue_enable_cb). */
		put16(AVAIL + 4 + 2u * QSIZE, used_seen);
	}
	printf("serve: %lu requests (depth %u), %lu notifies, %lu interrupts, %lu bad; gmem %llu "
	       "hits, %llu misses\n",
	       done, depth, kicks, interrupts, bad, (unsigned long long)g.hits,
	       (unsigned long long)g.misses);
	return bad != 0;
}
