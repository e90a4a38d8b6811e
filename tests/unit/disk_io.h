/* A disk request whose buffers are one host buffer, for host tests of disks (blk/disk.h). */
#ifndef TESTS_UNIT_DISK_IO_H
#define TESTS_UNIT_DISK_IO_H

#include <stdint.h>

#include "blk/disk.h"

/** A request, its buffer and what its done() said. */
struct disk_io {
	struct disk_req req; /* first: the buffer ops find the rest from it */
	uint8_t *data;
	uint32_t len; /* bytes of data: a copy past them fails with -EFAULT */
	int rc;       /* done()'s, 1 before it came */
	unsigned int done_count;
};

/** Copies between the request's offsets and data, within len. */
extern const struct disk_buf_ops disk_io_ops;

/** Records rc and counts the call. */
void disk_io_done(struct disk_req *req, int rc);

/** Fills io for `count` sectors at `sector` of data (len count * 512); does not submit it. */
void disk_io_init(struct disk_io *io, enum disk_op op, uint64_t sector, uint32_t count, void *data);

#endif
