/* The hostile guest's checks: well-behaved I/O, then attacks on vdisk's virtio-blk devices. */
#ifndef TESTS_GUESTS_HOSTILE_ATTACKS_H
#define TESTS_GUESTS_HOSTILE_ATTACKS_H

#include <stdint.h>

#include "arch/psci.h"
#include "tests/guests/hostile/vdrv.h"

/** What the attacks need to know about the platform besides the devices. */
struct attacks_env {
	int backend;              /* vdisk's domain for the grant-mode checks; -1: unknown */
	uint64_t grant_table_gpa; /* where to map our grant table */
	enum psci_conduit psci;   /* to start a second vCPU */
	int64_t cpu1_mpidr;       /* the second vCPU's affinity; -1: there is none */
	const struct vdrv *last;  /* the device whose window is highest: nothing lies past it */
};

/*
 * The rig (tests/rig/hostile.sh) tells the hostile guest's writable disks apart by size: the
 * one attacked most, a RAM disk with a latency (its requests stay at the disk), and one left
 * with requests in flight when the guest is destroyed.
 */
#define ATTACKS_SLOW_SECTORS   512u /* target=ram:256K,latency=100ms */
#define ATTACKS_DOOMED_SECTORS 128u  /* target=ram:64K,latency=30s */
/* The sd scenario (tests/rig/sd.sh) gives it one disk: SD card partition 1, 4 MiB. */
#define ATTACKS_CARD_SECTORS 8192u

/**
 * Runs every check on `rw` (a writable disk), `ro` (a read-only one, may be NULL) and `slow`
 * (the disk with a latency: a missing one is a failure), printing one "GUEST-TEST: PASS|FAIL
 * name" line each; the grant-mode checks offer pages to domain env->backend through our grant
 * table mapped at env->grant_table_gpa, and the reset race runs on a second vCPU. Returns the
 * number of failures.
 */
int attacks_run(struct vdrv *rw, struct vdrv *ro, struct vdrv *slow,
                const struct attacks_env *env);

/**
 * Attacks on a disk that is a partition of an SD card (target=mmc:0:1): reads and writes
 * across its end and past it, discards past it and larger than the card, write-zeroes
 * (not offered), a storm of flushes. Each is refused or served within the partition, and
 * the partition's hash is unchanged afterwards (the rig checks the rest of the card on the
 * host). Returns the number of failures.
 */
int attacks_card(struct vdrv *d);

/**
 * Sets `d` up and publishes reads on it, notified, and returns: the last act of a guest that is
 * then destroyed while they are at vdisk's disk.
 */
void attacks_leave_in_flight(struct vdrv *d);

#endif
