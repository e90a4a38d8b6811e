/* See disk_io.h. */
#include <errno.h>
#include <string.h>

#include "tests/unit/disk_io.h"

static int io_get(struct disk_req *req, uint32_t offset, void *dst, uint32_t len)
{
	struct disk_io *io = (struct disk_io *)req;

	if (offset > io->len || len > io->len - offset)
		return -EFAULT;
	memcpy(dst, io->data + offset, len);
	return 0;
}

static int io_put(struct disk_req *req, uint32_t offset, const void *src, uint32_t len)
{
	struct disk_io *io = (struct disk_io *)req;

	if (offset > io->len || len > io->len - offset)
		return -EFAULT;
	memcpy(io->data + offset, src, len);
	return 0;
}

const struct disk_buf_ops disk_io_ops = {.get = io_get, .put = io_put};

void disk_io_done(struct disk_req *req, int rc)
{
	struct disk_io *io = (struct disk_io *)req;

	io->rc = rc;
	io->done_count++;
}

void disk_io_init(struct disk_io *io, enum disk_op op, uint64_t sector, uint32_t count, void *data)
{
	*io = (struct disk_io){
	    .req = {.op = op,
	            .sector = sector,
	            .count = count,
	            .buf = &disk_io_ops,
	            .done = disk_io_done},
	    .data = data,
	    .len = count * DISK_SECTOR_SIZE,
	    .rc = 1,
	};
}
