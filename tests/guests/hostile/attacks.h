/* The hostile guest's checks: well-behaved I/O, then attacks on vdisk's virtio-blk devices. */
#ifndef TESTS_GUESTS_HOSTILE_ATTACKS_H
#define TESTS_GUESTS_HOSTILE_ATTACKS_H

#include <stdint.h>

#include "tests/guests/hostile/vdrv.h"

/**
 * Runs every check on `rw` (a writable disk) and, if not NULL, `ro` (a read-only one),
 * printing one "GUEST-TEST: PASS|FAIL name" line each; the grant-mode checks offer pages to
 * domain `backend` (-1: unknown) through our grant table mapped at grant_table_gpa.
 * Returns the number of failures.
 */
int attacks_run(struct vdrv *rw, struct vdrv *ro, int backend, uint64_t grant_table_gpa);

#endif
