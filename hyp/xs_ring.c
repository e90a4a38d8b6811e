/*
 * The xenstore ring (io/xs_wire.h). Indexes run freely modulo 2^32 and are masked only
 * to address the 1 KiB ring; each peer-written index is read once, checked, then used.
 * Order as in Linux xenbus_comms.c: data before producer index, index before data.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/io/xs_wire.h>

#include "arch/barrier.h"
#include "hyp/xs_ring.h"

static XENSTORE_RING_IDX read_index(const XENSTORE_RING_IDX *idx)
{
	return __atomic_load_n(idx, __ATOMIC_RELAXED);
}

/* Copies n bytes between a linear buffer and the ring starting at index idx. */
static void copy_in(char *ring, XENSTORE_RING_IDX idx, const char *src, size_t n)
{
	size_t off = MASK_XENSTORE_IDX(idx);
	size_t first = n < XENSTORE_RING_SIZE - off ? n : XENSTORE_RING_SIZE - off;

	memcpy(ring + off, src, first);
	memcpy(ring, src + first, n - first);
}

static void copy_out(char *dst, const char *ring, XENSTORE_RING_IDX idx, size_t n)
{
	size_t off = MASK_XENSTORE_IDX(idx);
	size_t first = n < XENSTORE_RING_SIZE - off ? n : XENSTORE_RING_SIZE - off;

	memcpy(dst, ring + off, first);
	memcpy(dst + first, ring, n - first);
}

int xs_ring_write(struct xenstore_domain_interface *intf, const void *data, size_t len)
{
	XENSTORE_RING_IDX cons = read_index(&intf->req_cons);
	XENSTORE_RING_IDX prod = intf->req_prod;
	size_t room;

	smp_mb(); /* read the consumer index before overwriting what it freed */
	if ((XENSTORE_RING_IDX)(prod - cons) > XENSTORE_RING_SIZE)
		return -EIO;
	room = XENSTORE_RING_SIZE - (XENSTORE_RING_IDX)(prod - cons);
	if (len > room)
		len = room;
	copy_in(intf->req, prod, data, len);
	smp_wmb(); /* data before the index that publishes it */
	__atomic_store_n(&intf->req_prod, prod + (XENSTORE_RING_IDX)len, __ATOMIC_RELAXED);
	return (int)len;
}

int xs_ring_pending(const struct xenstore_domain_interface *intf)
{
	XENSTORE_RING_IDX diff = read_index(&intf->rsp_prod) - intf->rsp_cons;

	return diff > XENSTORE_RING_SIZE ? -EIO : (int)diff;
}

int xs_ring_read(struct xenstore_domain_interface *intf, void *data, size_t len)
{
	XENSTORE_RING_IDX cons = intf->rsp_cons;
	XENSTORE_RING_IDX prod = read_index(&intf->rsp_prod);
	XENSTORE_RING_IDX avail = prod - cons;

	smp_rmb(); /* the index before the data it covers */
	if (avail > XENSTORE_RING_SIZE)
		return -EIO;
	if (len > avail)
		len = avail;
	copy_out(data, intf->rsp, cons, len);
	smp_mb(); /* finish reading before handing the space back */
	__atomic_store_n(&intf->rsp_cons, cons + (XENSTORE_RING_IDX)len, __ATOMIC_RELAXED);
	return (int)len;
}
