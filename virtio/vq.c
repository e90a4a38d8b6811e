/*
 * Split virtqueue walker (virtio 1.2 §2.7). The driver is untrusted: each index, ring entry
 * and descriptor is copied out of guest memory once and only the copy is checked and used.
 * Every guest address goes through map(), one page at a time, both for the rings and for
 * the buffers a chain hands out, so the mapping layer can refuse any of them.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arch/barrier.h"
#include "lib/log.h"
#include "virtio/vq.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "virtqueue fields are little-endian: 16-bit ring fields are loaded as is");

#define DESC_SIZE      16u
#define USED_ELEM_SIZE 8u
/* Field offsets in the available and used rings (§2.7.6, §2.7.8). */
#define RING_FLAGS 0u
#define RING_IDX   2u
#define RING_ENTRY 4u

/* Keeps the compiler from reading guest memory again instead of using the copy. */
#define compiler_barrier() __asm__ volatile("" ::: "memory")

#define vq_warn(vq, fmt, ...)                                                                      \
	log_limited((vq)->limit, LOG_WARN, "%s: queue %u: " fmt, (vq)->name, (vq)->index,          \
	            ##__VA_ARGS__)

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Marks the queue broken; the caller has logged why. */
static int mark_broken(struct vq *vq)
{
	vq->broken = true;
	return VQ_BROKEN;
}

/* Whether [gpa, gpa + len) wraps past the top of the address space. */
static bool range_wraps(gpa_t gpa, uint64_t len)
{
	return len && gpa > UINT64_MAX - (len - 1);
}

/*
 * Whether [a, a + a_len) and [b, b + b_len) share a byte. Differences, not ends, so that no
 * sum wraps; a range that itself wraps is refused by the guest-memory check anyway.
 */
static bool ranges_overlap(gpa_t a, uint32_t a_len, gpa_t b, uint32_t b_len)
{
	return a <= b ? b - a < a_len : a - b < b_len;
}

/* The part of [gpa, gpa + len) that stays in gpa's page. */
static uint32_t page_piece(gpa_t gpa, uint32_t len)
{
	uint32_t room = VQ_PAGE_SIZE - (uint32_t)(gpa & (VQ_PAGE_SIZE - 1));

	return len < room ? len : room;
}

/*
 * Every buffer access is for a chain, and no ring access is: `hold` is the chain's, or NULL
 * for a ring, so inside the walker it stands for the area too. It goes last so that the
 * memory's map() finds the other arguments where they were before it (make profile).
 */
static void *map(const struct vq *vq, gpa_t gpa, uint32_t len, bool writable, struct vq_hold *hold)
{
	return vq->mem->ops->map(vq->mem->ctx, gpa, len, writable,
	                         hold ? VQ_AREA_BUFFER : VQ_AREA_RING, hold);
}

/* The buffers of the chain whose hold is given are done with (see struct vq_mem_ops). */
static void release(const struct vq *vq, struct vq_hold *hold)
{
	if (vq->mem && vq->mem->ops->release)
		vq->mem->ops->release(vq->mem->ctx, hold);
}

/* Checks with map() that every page of [gpa, gpa + len) may be accessed. */
static bool guest_check(const struct vq *vq, gpa_t gpa, uint32_t len, bool writable,
                        struct vq_hold *hold)
{
	if (range_wraps(gpa, len))
		return false;
	while (len) {
		uint32_t n = page_piece(gpa, len);

		if (!map(vq, gpa, n, writable, hold))
			return false;
		gpa += n;
		len -= n;
	}
	return true;
}

static bool guest_read(const struct vq *vq, gpa_t gpa, void *buf, uint32_t len,
                       struct vq_hold *hold)
{
	uint8_t *out = buf;

	if (range_wraps(gpa, len))
		return false;
	while (len) {
		uint32_t n = page_piece(gpa, len);
		const void *p = map(vq, gpa, n, false, hold);

		if (!p)
			return false;
		memcpy(out, p, n);
		out += n;
		gpa += n;
		len -= n;
	}
	compiler_barrier();
	return true;
}

static bool guest_write(const struct vq *vq, gpa_t gpa, const void *buf, uint32_t len,
                        struct vq_hold *hold)
{
	const uint8_t *in = buf;

	if (range_wraps(gpa, len))
		return false;
	while (len) {
		uint32_t n = page_piece(gpa, len);
		void *p = map(vq, gpa, n, true, hold);

		if (!p)
			return false;
		memcpy(p, in, n);
		in += n;
		gpa += n;
		len -= n;
	}
	return true;
}

/*
 * A 16-bit ring field, read in one access (gpa is 2-aligned, so it is in one page). Inline,
 * like store16: GCC -O2 stopped inlining them once map() took a hold, at a cost to every
 * request (make profile).
 */
static inline bool load16(const struct vq *vq, gpa_t gpa, uint16_t *val)
{
	const uint16_t *p = map(vq, gpa, 2, false, NULL);

	if (!p)
		return false;
	*val = __atomic_load_n(p, __ATOMIC_RELAXED);
	return true;
}

static inline bool store16(const struct vq *vq, gpa_t gpa, uint16_t val)
{
	uint16_t *p = map(vq, gpa, 2, true, NULL);

	if (!p)
		return false;
	__atomic_store_n(p, val, __ATOMIC_RELAXED);
	return true;
}

void vq_init(struct vq *vq, const struct vq_mem *mem, const char *name, uint16_t index,
             uint32_t seg_len_max)
{
	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	vq->name = name;
	vq->index = index;
	vq->seg_len_max = seg_len_max ? seg_len_max : UINT32_MAX;
}

void vq_reset(struct vq *vq)
{
	if (vq->mem && vq->mem->ops->reset)
		vq->mem->ops->reset(vq->mem->ctx);
	vq->ready = false;
	vq->broken = false;
	vq->num = 0;
	vq->desc = vq->avail = vq->used = 0;
	vq->last_avail = vq->avail_idx = vq->used_idx = vq->signalled_used = 0;
	vq->used_event = 0;
}

bool vq_ready(const struct vq *vq)
{
	return vq->ready && !vq->broken;
}

int vq_start(struct vq *vq, uint32_t num, gpa_t desc, gpa_t avail, gpa_t used, uint64_t features)
{
	/* Sizes per §2.7, including used_event and avail_event. */
	uint32_t desc_len = DESC_SIZE * num, avail_len = 6 + 2 * num;
	uint32_t used_len = 6 + USED_ELEM_SIZE * num;

	vq_reset(vq);
	if (num == 0 || num > VQ_SIZE_MAX || (num & (num - 1))) {
		vq_warn(vq, "size %u is not a power of two from 1 to %u", num, VQ_SIZE_MAX);
		return -EINVAL;
	}
	if (desc % 16 || avail % 2 || used % 4) {
		vq_warn(vq,
		        "misaligned rings: descriptors 0x%llx (needs 16), available 0x%llx (2), "
		        "used 0x%llx (4)",
		        (unsigned long long)desc, (unsigned long long)avail,
		        (unsigned long long)used);
		return -EINVAL;
	}
	/*
	 * The device writes the used ring and reads the other two: with an overlap, its own
	 * writes would turn into descriptors or available entries. §2.7 gives each part its own
	 * area, so refuse before touching guest memory. (Two grants of one frame alias without
	 * the addresses showing it; that stays safe because every field is read once.)
	 */
	if (ranges_overlap(desc, desc_len, avail, avail_len) ||
	    ranges_overlap(desc, desc_len, used, used_len) ||
	    ranges_overlap(avail, avail_len, used, used_len)) {
		vq_warn(vq,
		        "rings overlap: descriptors 0x%llx+%u, available 0x%llx+%u, used "
		        "0x%llx+%u; not started",
		        (unsigned long long)desc, desc_len, (unsigned long long)avail, avail_len,
		        (unsigned long long)used, used_len);
		return -EINVAL;
	}
	if (!guest_check(vq, desc, desc_len, false, NULL) ||
	    !guest_check(vq, avail, avail_len, false, NULL) ||
	    !guest_check(vq, used, used_len, true, NULL)) {
		vq_warn(vq,
		        "rings not in guest memory: descriptors 0x%llx, available 0x%llx, "
		        "used 0x%llx, size %u",
		        (unsigned long long)desc, (unsigned long long)avail,
		        (unsigned long long)used, num);
		return -EFAULT;
	}
	vq->num = (uint16_t)num;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->event_idx = features & (1ull << VQ_F_EVENT_IDX);
	vq->indirect = features & (1ull << VQ_F_INDIRECT_DESC);
	vq->ready = true;
	return 0;
}

/* Reads avail.idx once; it may run ahead of what was taken by at most the queue size. */
static int refresh_avail(struct vq *vq)
{
	uint16_t idx;

	if (!load16(vq, vq->avail + RING_IDX, &idx)) {
		vq_warn(vq, "available ring 0x%llx is no longer mapped; queue broken",
		        (unsigned long long)vq->avail);
		return mark_broken(vq);
	}
	if ((uint16_t)(idx - vq->last_avail) > vq->num) {
		vq_warn(vq,
		        "available index jumped from %u to %u, more than the queue size %u; "
		        "queue broken",
		        vq->last_avail, idx, vq->num);
		return mark_broken(vq);
	}
	vq->avail_idx = idx;
	/* Ring entries and descriptors are read only after the index that published them. */
	smp_rmb();
	return 0;
}

/* Adds one non-empty buffer to the chain after checking it. */
static int add_seg(struct vq *vq, struct vq_chain *c, gpa_t addr, uint32_t len, bool writable)
{
	if (!writable && c->seg_count > c->readable_count) {
		vq_warn(vq,
		        "chain %u: device-readable buffer after a device-writable one; "
		        "queue broken",
		        c->head);
		return mark_broken(vq);
	}
	if (len > vq->seg_len_max) {
		vq_warn(vq, "chain %u: buffer of %u bytes is larger than %u; queue broken", c->head,
		        len, vq->seg_len_max);
		return mark_broken(vq);
	}
	if ((uint64_t)c->readable_len + c->writable_len + len > UINT32_MAX) {
		vq_warn(vq, "chain %u: buffers add up to more than 4 GiB; queue broken", c->head);
		return mark_broken(vq);
	}
	if (c->seg_count == VQ_CHAIN_MAX) {
		vq_warn(vq, "chain %u: more than %u buffers; queue broken", c->head, VQ_CHAIN_MAX);
		return mark_broken(vq);
	}
	if (!guest_check(vq, addr, len, writable, &c->hold)) {
		vq_warn(vq, "chain %u: %s buffer 0x%llx+%u is not in guest memory; queue broken",
		        c->head, writable ? "device-writable" : "device-readable",
		        (unsigned long long)addr, len);
		return mark_broken(vq);
	}
	c->seg[c->seg_count++] = (struct vq_seg){.gpa = addr, .len = len, .writable = writable};
	if (writable) {
		c->writable_len += len;
	} else {
		c->readable_count++;
		c->readable_len += len;
	}
	return 0;
}

/* Follows the chain from `head` (§2.7.5, §2.7.5.3): at most one indirect table, at the end. */
static int walk(struct vq *vq, uint16_t head, struct vq_chain *c)
{
	gpa_t table = vq->desc;
	uint32_t table_count = vq->num;
	uint32_t visited = 0; /* descriptors read from the current table */
	uint32_t i = head;
	bool in_indirect = false;

	c->head = head;
	c->seg_count = c->readable_count = 0;
	c->readable_len = c->writable_len = 0;
	c->hold = (struct vq_hold){0};
	for (;;) {
		uint8_t raw[DESC_SIZE];
		gpa_t addr;
		uint32_t len;
		uint16_t flags, next;
		int rc;

		if (i >= table_count) {
			vq_warn(vq, "chain %u: next index %u is outside the %s of %u; queue broken",
			        head, i, in_indirect ? "indirect table" : "descriptor table",
			        table_count);
			return mark_broken(vq);
		}
		/* A chain can visit each descriptor of a table once: more means a loop. */
		if (++visited > table_count) {
			vq_warn(vq,
			        "chain %u: longer than the %u descriptors of its %s (a loop); "
			        "queue broken",
			        head, table_count, in_indirect ? "indirect table" : "queue");
			return mark_broken(vq);
		}
		/* An indirect table is lent like a buffer (§2.7.5.3): it is the chain's. */
		if (!guest_read(vq, table + DESC_SIZE * i, raw, DESC_SIZE,
		                in_indirect ? &c->hold : NULL)) {
			vq_warn(vq,
			        "chain %u: descriptor %u of the %s at 0x%llx is not in guest "
			        "memory; queue broken",
			        head, i, in_indirect ? "indirect table" : "descriptor table",
			        (unsigned long long)table);
			return mark_broken(vq);
		}
		addr = get_le64(raw);
		len = get_le32(raw + 8);
		flags = get_le16(raw + 12);
		next = get_le16(raw + 14);

		if (flags & VQ_DESC_F_INDIRECT) {
			/* The WRITE flag of this descriptor is ignored (§2.7.5.3.2). */
			const char *why = NULL;

			if (!vq->indirect)
				why = "indirect descriptor without VIRTIO_F_INDIRECT_DESC";
			else if (in_indirect)
				why = "indirect descriptor inside an indirect table";
			else if (flags & VQ_DESC_F_NEXT)
				why = "indirect descriptor with NEXT set";
			else if (len == 0 || len % DESC_SIZE)
				why = "indirect table length is not a positive multiple of 16";
			else if (len / DESC_SIZE > VQ_CHAIN_MAX)
				why = "indirect table has too many descriptors";
			if (why) {
				vq_warn(vq,
				        "chain %u: %s (table 0x%llx, %u bytes, limit %u); queue "
				        "broken",
				        head, why, (unsigned long long)addr, len,
				        VQ_CHAIN_MAX * DESC_SIZE);
				return mark_broken(vq);
			}
			in_indirect = true;
			table = addr;
			table_count = len / DESC_SIZE;
			visited = 0;
			i = 0;
			continue;
		}
		if (len) {
			rc = add_seg(vq, c, addr, len, flags & VQ_DESC_F_WRITE);
			if (rc)
				return rc;
		}
		if (!(flags & VQ_DESC_F_NEXT))
			return 0;
		i = next;
	}
}

int vq_pop(struct vq *vq, struct vq_chain *chain)
{
	uint16_t head;
	int rc;

	if (!vq->ready)
		return -ENODEV;
	if (vq->broken)
		return VQ_BROKEN;
	if (vq->last_avail == vq->avail_idx) {
		rc = refresh_avail(vq);
		if (rc)
			return rc;
		if (vq->last_avail == vq->avail_idx && vq->event_idx) {
			/*
			 * Ask to be notified once the driver goes past what was taken (§2.7.10),
			 * then look again: a chain added before the driver saw avail_event would
			 * otherwise wait for a notification that never comes.
			 */
			if (!store16(vq, vq->used + RING_ENTRY + USED_ELEM_SIZE * vq->num,
			             vq->last_avail)) {
				vq_warn(vq, "used ring 0x%llx is no longer mapped; queue broken",
				        (unsigned long long)vq->used);
				return mark_broken(vq);
			}
			smp_mb();
			rc = refresh_avail(vq);
			if (rc)
				return rc;
		}
		if (vq->last_avail == vq->avail_idx)
			return -EAGAIN;
	}
	if (!load16(vq, vq->avail + RING_ENTRY + 2u * (vq->last_avail & (vq->num - 1u)), &head)) {
		vq_warn(vq, "available ring 0x%llx is no longer mapped; queue broken",
		        (unsigned long long)vq->avail);
		return mark_broken(vq);
	}
	if (head >= vq->num) {
		vq_warn(vq, "available entry %u names descriptor %u of %u; queue broken",
		        vq->last_avail, head, vq->num);
		return mark_broken(vq);
	}
	rc = walk(vq, head, chain);
	if (rc) {
		release(vq, &chain->hold); /* nobody will push this chain */
		return rc;
	}
	vq->last_avail++;
	return 0;
}

int vq_push(struct vq *vq, struct vq_chain *chain, uint32_t len)
{
	uint16_t head = chain->head;
	uint8_t elem[USED_ELEM_SIZE];
	gpa_t slot;

	/*
	 * Before anything else: once used.idx moves, the driver may end the buffers' grants
	 * and reuse the memory, and Xen refuses to end a grant that is still mapped.
	 */
	release(vq, &chain->hold);
	if (!vq->ready)
		return -ENODEV;
	if (vq->broken)
		return VQ_BROKEN;
	if (head >= vq->num)
		return -EINVAL;
	put_le32(elem, head);
	put_le32(elem + 4, len);
	slot = vq->used + RING_ENTRY + USED_ELEM_SIZE * (vq->used_idx & (vq->num - 1u));
	if (!guest_write(vq, slot, elem, sizeof(elem), NULL)) {
		vq_warn(vq, "used ring 0x%llx is no longer mapped; queue broken",
		        (unsigned long long)vq->used);
		return mark_broken(vq);
	}
	/* The element (and the buffer contents before it) are visible before used.idx. */
	smp_wmb();
	if (!store16(vq, vq->used + RING_IDX, (uint16_t)(vq->used_idx + 1))) {
		vq_warn(vq, "used ring 0x%llx is no longer mapped; queue broken",
		        (unsigned long long)vq->used);
		return mark_broken(vq);
	}
	vq->used_idx++;
	return 0;
}

void vq_drop(struct vq *vq, struct vq_chain *chain)
{
	release(vq, &chain->hold);
}

bool vq_need_interrupt(struct vq *vq)
{
	uint16_t old = vq->signalled_used, new = vq->used_idx;
	uint16_t val;

	if (!vq->ready || old == new)
		return false;
	vq->signalled_used = new;
	/* used.idx is visible before the driver's suppression field is read. */
	smp_mb();
	if (vq->event_idx) {
		/* Unreadable rings are reported by the next pop; interrupting is always safe. */
		if (!load16(vq, vq->avail + RING_ENTRY + 2u * vq->num, &val))
			return true;
		vq->used_event = val;
		/* vring_need_event(): did new pass used_event + 1 since old? */
		return (uint16_t)(new - val - 1) < (uint16_t)(new - old);
	}
	if (!load16(vq, vq->avail + RING_FLAGS, &val))
		return true;
	return !(val & VQ_AVAIL_F_NO_INTERRUPT);
}

uint16_t vq_used_event(const struct vq *vq)
{
	return vq->used_event;
}

/*
 * Copies [offset, offset + len) of the buffers seg[0 .. count) of the chain whose hold is
 * given to dst, or src into it.
 */
static int copy(const struct vq *vq, struct vq_hold *hold, const struct vq_seg *seg,
                unsigned int count, uint32_t offset, uint8_t *dst, const uint8_t *src, uint32_t len)
{
	for (unsigned int i = 0; i < count && len; i++) {
		uint32_t n;
		bool ok;

		if (offset >= seg[i].len) {
			offset -= seg[i].len;
			continue;
		}
		n = seg[i].len - offset < len ? seg[i].len - offset : len;
		if (dst) {
			ok = guest_read(vq, seg[i].gpa + offset, dst, n, hold);
			dst += n;
		} else {
			ok = guest_write(vq, seg[i].gpa + offset, src, n, hold);
			src += n;
		}
		if (!ok) {
			vq_warn(vq, "buffer 0x%llx+%u is no longer in guest memory",
			        (unsigned long long)seg[i].gpa, seg[i].len);
			return -EFAULT;
		}
		len -= n;
		offset = 0;
	}
	return 0;
}

int vq_read(const struct vq *vq, struct vq_chain *chain, uint32_t offset, void *buf, uint32_t len)
{
	if (offset > chain->readable_len || len > chain->readable_len - offset)
		return -EINVAL;
	return copy(vq, &chain->hold, chain->seg, chain->readable_count, offset, buf, NULL, len);
}

int vq_write(const struct vq *vq, struct vq_chain *chain, uint32_t offset, const void *buf,
             uint32_t len)
{
	if (offset > chain->writable_len || len > chain->writable_len - offset)
		return -EINVAL;
	return copy(vq, &chain->hold, chain->seg + chain->readable_count,
	            chain->seg_count - chain->readable_count, offset, NULL, buf, len);
}
