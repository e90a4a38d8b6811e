/*
 * A fake Xen with one guest, for host tests of hyp/ (and what is built on it) over the real
 * hyp/xen.c, hyp/dm.c and hyp/evtchn.c: the hypercall stubs memory_op, grant_table_op, dm_op
 * and event_channel_op (the rest: tests/unit/fake_hypercalls.c) and hyp/frames.h are link
 * seams. It maps for real: the guest's memory and the IOREQ server's page are a memfd, and
 * a foreign mapping, a grant mapping or the acquired ioreq page puts that page at our frame's
 * address with mmap(MAP_FIXED) (read-only for a GNTMAP_readonly grant); an unmap puts an
 * inaccessible page back. So a pointer hyp/ hands out reads exactly what the guest has there,
 * a stale mapping reads the wrong page and a use after unmap faults. The grant table counts
 * each grant's mappings, as Xen does, so the guest can "end access" only to grants nobody
 * maps. The guest's vCPUs post IOREQs into the server's page and raise its event channels as
 * Xen does for an access to the server's MMIO range.
 */
#ifndef TESTS_UNIT_FAKE_XEN_H
#define TESTS_UNIT_FAKE_XEN_H

#include <stdbool.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/hvm/ioreq.h>

#include "hyp/gmem.h"

#define FX_PAGE        4096u
#define FX_GUEST_PAGES 64u
#define FX_GPA_BASE    0x40000000ull
#define FX_REFS        (GMEM_SLOTS + 64u) /* more than gmem's slots */
#define FX_FRAMES      (GMEM_SLOTS + 16u) /* our frames: a gmem's and a few ioreq pages */
#define FX_VCPU_MAX    8u
#define FX_EPORT_BASE  10u /* the guest's port for vCPU v is FX_EPORT_BASE + v */
#define FX_PORT_BASE   40u /* bind_interdomain hands out our ports from here, in order */

/** What sits in one of our frames, as Xen sees it. */
enum fx_own_kind { FX_OWN_HOLE, FX_OWN_FOREIGN, FX_OWN_GRANT, FX_OWN_IOREQ };

/** One entry of the guest's grant table: page lent, read-only, and Xen's count of mappings. */
struct fx_grant {
	bool granted;
	bool readonly;
	unsigned int page;
	int16_t fail; /* a GNTST_* to answer instead of mapping */
	unsigned int maps;
};

/** What the fake Xen answers and what it saw; fx_reset clears it. */
struct fake_xen {
	uint16_t domid;          /* the guest: other domains are refused */
	uint32_t vcpus;          /* XEN_DMOP_nr_vcpus */
	unsigned int violations; /* things real Xen would refuse or get wrong */

	/* dm_op */
	int create_rc;             /* what create_ioreq_server answers instead of creating */
	unsigned int create_calls; /* create_ioreq_server calls, answered or refused */
	bool created;
	unsigned int destroys;
	bool enabled;
	uint64_t io_start, io_end; /* the range mapped to the server, inclusive */
	int irq_rc;                /* what set_irq_level answers */
	unsigned int irq_calls;
	uint32_t irq; /* the last set_irq_level's line and level */
	bool irq_level;

	/* memory_op */
	bool acquired;             /* the ioreq page is mapped at one of our frames */
	unsigned int ioreq_unmaps; /* remove_from_physmap of the ioreq page */
	unsigned int foreign_maps, foreign_unmaps;
	int foreign_unmap_rc; /* what remove_from_physmap answers instead of unmapping */

	/* grant_table_op */
	long grant_rc;          /* what the next grant_table_op returns */
	unsigned int map_calls; /* GNTTABOP_map_grant_ref hypercalls */
	unsigned int map_ops;
	uint32_t map_ref[512];    /* the ref of each map op, in order */
	uint32_t map_flags[512];  /* and its flags */
	unsigned int unmap_calls; /* GNTTABOP_unmap_grant_ref hypercalls */
	unsigned int unmap_ops;
	unsigned int last_unmap_count;
	uint32_t next_handle;
	void (*unmap_hook)(const struct gnttab_unmap_grant_ref *ops, unsigned int count);

	/* event_channel_op and the guest's accesses */
	unsigned int binds, closes;
	uint32_t local_port[FX_VCPU_MAX]; /* our port bound to vCPU v's, 0 if none */
	unsigned int sends[FX_VCPU_MAX];  /* EVTCHNOP_send on vCPU v's port */
	unsigned int posts;               /* IOREQs the guest posted */
};

extern struct fake_xen fx;
/** The guest's grant table. */
extern struct fx_grant fx_grants[FX_REFS];

/**
 * A fresh fake Xen for guest `domid` with `vcpus` vCPUs: every frame of ours a hole and free,
 * no grants, a pattern in each guest page, event channels (hyp/evtchn.h) on a fresh
 * shared_info.
 */
void fx_reset(uint16_t domid, uint32_t vcpus);
/** Guest page p, as the guest sees it. */
uint8_t *fx_page(unsigned int p);
/** The guest-physical address of byte `off` of guest page p. */
uint64_t fx_gpa(unsigned int p, uint32_t off);
/** How many of our frames hold a mapping of this kind. */
unsigned int fx_mapped_frames(enum fx_own_kind kind);
/** The grant mapped at our frame at `addr` (for a hook looking at unmap ops); false if none. */
bool fx_frame_ref(uint64_t addr, uint32_t *ref);

/** The guest lends page `page` as reference `ref` (gnttab_grant_foreign_access_ref). */
void fx_grant(uint32_t ref, unsigned int page, bool readonly);
/** The guest ends a grant as Linux does: refused (false) while the backend still maps it. */
bool fx_end_access(uint32_t ref);

/** vCPU v's slot in the IOREQ server's page, as Xen writes it. */
struct ioreq *fx_ioreq(unsigned int v);
/**
 * vCPU v makes an MMIO access the server's range catches: Xen posts it in v's slot, raises
 * v's event channel, and the handlers run (evtchn_dispatch). Returns the slot's data after.
 */
uint64_t fx_mmio(unsigned int v, bool read, uint64_t addr, uint32_t size, uint64_t data);
/** Xen tells the server that the guest's memory map changed (IOREQ_TYPE_INVALIDATE) on vCPU v. */
void fx_invalidate(unsigned int v);

#endif
