/* The hostile guest's checks: well-behaved I/O, then attacks on vdisk's virtio-blk devices. */
#ifndef TESTS_GUESTS_HOSTILE_ATTACKS_H
#define TESTS_GUESTS_HOSTILE_ATTACKS_H

#include "tests/guests/hostile/vdrv.h"

/**
 * Runs every check on `rw` (a writable disk) and, if not NULL, `ro` (a read-only one),
 * printing one "GUEST-TEST: PASS|FAIL name" line each; returns the number of failures.
 */
int attacks_run(struct vdrv *rw, struct vdrv *ro);

#endif
