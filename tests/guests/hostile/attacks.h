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
};

/**
 * Runs every check on `rw` (a writable disk) and, if not NULL, `ro` (a read-only one),
 * printing one "GUEST-TEST: PASS|FAIL name" line each; the grant-mode checks offer pages to
 * domain env->backend through our grant table mapped at env->grant_table_gpa, and the reset
 * race runs on a second vCPU. Returns the number of failures.
 */
int attacks_run(struct vdrv *rw, struct vdrv *ro, const struct attacks_env *env);

#endif
