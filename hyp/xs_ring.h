/* The xenstore shared ring (io/xs_wire.h): byte streams in both directions, free-running indexes. */
#ifndef HYP_XS_RING_H
#define HYP_XS_RING_H

#include <stddef.h>

struct xenstore_domain_interface;

/**
 * Copies up to len bytes into the request ring, as far as there is room.
 * Returns the number of bytes written, or -EIO if the indexes are impossible
 * (more than XENSTORE_RING_SIZE apart).
 */
int xs_ring_write(struct xenstore_domain_interface *intf, const void *data, size_t len);
/** Copies up to len bytes out of the response ring; returns bytes read or -EIO. */
int xs_ring_read(struct xenstore_domain_interface *intf, void *data, size_t len);
/** Returns the bytes waiting in the response ring, or -EIO if the indexes are impossible. */
int xs_ring_pending(const struct xenstore_domain_interface *intf);

#endif
