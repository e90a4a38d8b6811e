/*
 * IOREQ server for one guest (public/hvm/ioreq.h, dm_op.h): Xen forwards the guest's
 * accesses to an MMIO window as ioreqs in a shared page, one slot per vCPU, and waits for
 * our answer on each vCPU's event channel. This file only moves ioreqs between that page
 * and an MMIO model (the virtio-mmio device) and signals completion.
 */
#ifndef HYP_IOREQ_H
#define HYP_IOREQ_H

#include <stdbool.h>
#include <stdint.h>

#include "hyp/xen.h"
#include "lib/hist.h"

struct log_limit;

struct shared_iopage;

/** Slots in one ioreq page (struct ioreq is 32 bytes): the most vCPUs a guest may have here. */
#define IOREQ_VCPU_MAX 128

/** Where an IOREQ server sends the accesses it receives (a seam: the MMIO device model). */
struct ioreq_ops {
	/** Reads `size` (1, 2, 4 or 8) bytes at `offset` in the window. */
	uint64_t (*read)(void *ctx, uint64_t offset, unsigned int size);
	/** Writes `size` bytes of `value` at `offset` in the window. */
	void (*write)(void *ctx, uint64_t offset, unsigned int size, uint64_t value);
	/** The guest's memory map changed (IOREQ_TYPE_INVALIDATE): drop cached mappings. */
	void (*invalidate)(void *ctx);
};

/** One guest's IOREQ server and its MMIO window. */
struct ioreq_server {
	uint16_t domid;
	uint16_t id;
	bool created;
	bool enabled;
	uint32_t vcpu_count;
	uint32_t port_count;        /* vCPU event channels bound so far */
	struct own_frame page_frame;
	struct shared_iopage *page; /* NULL until acquired */
	uint32_t ports[IOREQ_VCPU_MAX];
	uint64_t base;
	uint64_t size;
	const struct ioreq_ops *ops;
	void *ctx;
	uint64_t handled;
	uint64_t rejected;
	/* Lines about rejected accesses: the device's budget (NULL: none). */
	struct log_limit *limit;
	struct hist turnaround; /* from reading an IOREQ to answering it */
};

/**
 * Creates and enables an IOREQ server for domain `domid` covering MMIO [base, base + size),
 * maps its ioreq page and binds every vCPU's event channel. Returns 0 or -errno (with
 * everything undone and one log line naming the step that failed).
 */
int ioreq_server_start(struct ioreq_server *s, uint16_t domid, uint64_t base, uint64_t size,
		       const struct ioreq_ops *ops, void *ctx);
/** Unbinds, unmaps and destroys what ioreq_server_start set up (safe on a partial start). */
void ioreq_server_stop(struct ioreq_server *s);
/** Answers every slot in state IOREQ_READY (also what the event channel handler does). */
void ioreq_server_poll(struct ioreq_server *s);
/** IOREQs answered since boot, by every server (served, rejected or invalidations). */
uint64_t ioreq_answered_count(void);
/**
 * Time from reading an ioreq to writing its answer (the notify hypercall after it left out),
 * summed over every one since boot, in ns.
 */
uint64_t ioreq_busy_ns(void);

#endif
