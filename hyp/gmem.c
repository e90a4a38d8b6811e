/* Foreign and grant mappings of a guest's memory, with clock replacement (see gmem.h). */
#include <errno.h>
#include <string.h>

#include "hyp/frames.h"
#include "hyp/gmem.h"
#include "lib/log.h"

/* Which grant mappings unmap_grants() drops. */
enum grant_pick {
	PICK_UNUSED, /* release(): the buffers no request in flight uses any more */
	PICK_ALL,    /* reset, invalidate, fini */
	PICK_ONE,    /* the slot given */
};

_Static_assert(GMEM_HOLDERS == 32, "a slot's users and the holders are uint32_t masks");

/* A token is its epoch (24 bits, wrapping) above the holder number plus one; 0 is none. */
#define TOKEN_EPOCH_SHIFT 8
#define EPOCH_MASK        0xffffffu

/*
 * One batch of grant unmaps and the slots they belong to. vdisk is single-threaded, so one
 * static copy serves every guest and keeps 4 KiB off the stack.
 */
static struct xen_grant_unmap batch[GMEM_SLOTS];
static struct gmem_slot *batch_slot[GMEM_SLOTS];
static unsigned int mapped_count; /* pages of every guest mapped now (gmem_mapped_count) */

/*
 * A line about an address the guest gave that cannot be used, or a failed unmap: counted in
 * `refused`, and held to the device's budget of lines (g->limit) like its other complaints.
 */
#define gmem_log(g, level, ...)                                                                    \
	do {                                                                                       \
		(g)->refused++;                                                                    \
		log_limited((g)->limit, level, __VA_ARGS__);                                       \
	} while (0)

/*
 * Unmaps the grant mappings `pick` selects, in one batched hypercall; for PICK_UNUSED, the
 * holders in `done` stop using every buffer mapping first.
 */
static void unmap_grants(struct gmem *g, enum grant_pick pick, struct gmem_slot *one, uint32_t done)
{
	unsigned int n = 0;
	int rc;

	/* Foreign mappings only (the common case): nothing to look for on every request. */
	if (pick == PICK_UNUSED && g->buffer_grants == 0)
		return;
	for (unsigned int i = 0; i < GMEM_SLOTS; i++) {
		struct gmem_slot *s = &g->slots[i];

		if (!s->mapped || !s->grant)
			continue;
		if (pick == PICK_UNUSED && !s->ring)
			s->users &= ~done;
		if ((pick == PICK_UNUSED && (s->ring || s->users)) ||
		    (pick == PICK_ONE && s != one))
			continue;
		batch[n] = (struct xen_grant_unmap){.at = s->own, .handle = s->handle};
		batch_slot[n++] = s;
	}
	if (n == 0)
		return;
	rc = xen_grant_unmap(batch, n);
	for (unsigned int i = 0; i < n; i++) {
		struct gmem_slot *s = batch_slot[i];

		/*
		 * Xen fails an unmap only for a handle or address it does not know, i.e. a bug
		 * of ours: say so and forget the slot, as there is nothing better to do.
		 */
		if (batch[i].err)
			gmem_log(g, LOG_ERROR,
			         "gmem: dom%u: unmapping grant %u at frame %#llx failed (GNTST %d, "
			         "%d; call %d)",
			         g->domid, s->ref.n, (unsigned long long)s->own.n, batch[i].status,
			         batch[i].err, rc);
		if (!s->ring)
			g->buffer_grants--;
		s->mapped = false;
		s->users = 0;
		mapped_count--;
	}
}

static void unmap_slot(struct gmem *g, struct gmem_slot *s)
{
	int rc;

	if (!s->mapped)
		return;
	if (s->grant) {
		unmap_grants(g, PICK_ONE, s, 0);
		return;
	}
	rc = xen_unmap_frame(s->own);
	/* As for a grant: a failure is a bug of ours (or Xen's); say so and forget the slot. */
	if (rc)
		gmem_log(g, LOG_ERROR,
		         "gmem: dom%u: unmapping guest frame %#llx at frame %#llx failed (%d)",
		         g->domid, (unsigned long long)s->guest.n, (unsigned long long)s->own.n,
		         rc);
	s->mapped = false;
	mapped_count--;
}

/* Picks a slot to reuse: the first not referenced since the hand last passed it. */
static struct gmem_slot *victim(struct gmem *g)
{
	for (;;) {
		struct gmem_slot *s = &g->slots[g->hand];

		g->hand = (g->hand + 1) % GMEM_SLOTS;
		if (!s->mapped || !s->referenced)
			return s;
		s->referenced = false;
	}
}

static void *slot_ptr(struct gmem_slot *s, uint64_t offset)
{
	s->referenced = true;
	return (uint8_t *)frames_ptr(s->own) + offset;
}

/* The hint bucket of a guest frame or grant reference (Fibonacci hashing). */
static uint16_t *hint_of(struct gmem *g, uint64_t key, bool grant)
{
	uint64_t h = (key * 2 + grant) * 0x9e3779b97f4a7c15ull;

	return &g->hint[h >> (64 - 9)];
}

_Static_assert(GMEM_HINTS == 1 << 9, "hint_of takes 9 bits");
_Static_assert(GMEM_SLOTS <= UINT16_MAX, "a hint holds a slot index");

/* Whether slot s maps guest frame `key` (or grant reference `key`, for `grant`). */
static bool holds(const struct gmem_slot *s, uint64_t key, bool grant)
{
	return s->mapped && s->grant == grant && (grant ? s->ref.n : s->guest.n) == key;
}

/*
 * The slot holding guest frame `key` (or grant reference, `grant`), or NULL. The hint is
 * only a guess, checked against the slot: a request touches a dozen pages, and scanning
 * every slot for each cost more than the rest of the request.
 */
static struct gmem_slot *lookup(struct gmem *g, uint64_t key, bool grant)
{
	uint16_t *hint = hint_of(g, key, grant);
	struct gmem_slot *s = &g->slots[*hint];

	if (holds(s, key, grant))
		return s;
	for (unsigned int i = 0; i < GMEM_SLOTS; i++) {
		s = &g->slots[i];
		if (holds(s, key, grant)) {
			*hint = (uint16_t)i;
			return s;
		}
	}
	return NULL;
}

static void set_hint(struct gmem *g, uint64_t key, bool grant, const struct gmem_slot *s)
{
	*hint_of(g, key, grant) = (uint16_t)(s - g->slots);
}

/*
 * The holder bit of the request `hold` is for, if it was given one in this epoch and still
 * has it; else 0. The token is checked against what was given out, not trusted.
 */
static uint32_t held_bit(const struct gmem *g, const struct vq_hold *hold)
{
	uint32_t token = hold ? hold->token : 0;
	uint32_t n = token & ((1u << TOKEN_EPOCH_SHIFT) - 1);

	if (n == 0 || n > GMEM_HOLDERS || token >> TOKEN_EPOCH_SHIFT != g->epoch)
		return 0;
	return g->holders & 1u << (n - 1);
}

/*
 * The holder bit of the request `hold` is for, given now if it has none. 0 without a hold,
 * or with every number taken: its mappings then belong to nobody and go at the next
 * release(), which is safe, only slower.
 */
static uint32_t holder_bit(struct gmem *g, struct vq_hold *hold)
{
	uint32_t bit = held_bit(g, hold);
	unsigned int n;

	if (bit || !hold || g->holders == UINT32_MAX)
		return bit;
	n = (unsigned int)__builtin_ctz(~g->holders);
	g->holders |= 1u << n;
	hold->token = g->epoch << TOKEN_EPOCH_SHIFT | (n + 1);
	return 1u << n;
}

/* Every holder is forgotten (every grant mapping went): tokens given so far name nothing. */
static void forget_holders(struct gmem *g)
{
	g->holders = 0;
	g->epoch = (g->epoch + 1) & EPOCH_MASK;
}

static void *map_foreign(struct gmem *g, gpa_t gpa, uint64_t offset)
{
	struct guest_frame frame = {.n = gpa >> XEN_PAGE_SHIFT};
	struct gmem_slot *s;
	int err = 0;
	int rc;

	if (gpa & GMEM_GPA_RESERVED) {
		gmem_log(g, LOG_WARN,
		         "gmem: dom%u: address %#llx has bits 62..48 set: neither "
		         "guest-physical nor a grant; refused",
		         g->domid, (unsigned long long)gpa);
		return NULL;
	}
	s = lookup(g, frame.n, false);
	if (s) {
		g->hits++;
		return slot_ptr(s, offset);
	}
	g->misses++;
	s = victim(g);
	unmap_slot(g, s);
	rc = xen_map_foreign(g->domid, &frame, &s->own, &err, 1);
	if (rc == 0 && err != 0)
		rc = xen_errno(err);
	if (rc) {
		gmem_log(g, LOG_WARN, "gmem: dom%u: guest frame %#llx cannot be mapped (%d)",
		         g->domid, (unsigned long long)frame.n, rc);
		return NULL;
	}
	*s = (struct gmem_slot){.own = s->own, .mapped = true, .guest = frame};
	mapped_count++;
	set_hint(g, frame.n, false, s);
	return slot_ptr(s, offset);
}

static void *map_grant(struct gmem *g, gpa_t gpa, uint64_t offset, bool writable, enum vq_area area,
                       struct vq_hold *hold)
{
	uint64_t ref = (gpa & ~GMEM_GRANT_BIT) >> XEN_PAGE_SHIFT;
	struct xen_grant_map m;
	struct gmem_slot *s;
	uint32_t users = 0;
	int rc;

	if (ref > UINT32_MAX) {
		gmem_log(g, LOG_WARN,
		         "gmem: dom%u: grant address %#llx names reference %#llx, past "
		         "32 bits; refused",
		         g->domid, (unsigned long long)gpa, (unsigned long long)ref);
		return NULL;
	}
	s = lookup(g, ref, true);
	if (s && writable && s->readonly) {
		/* Mapped for reading so far: map it again, writable, for the same requests. */
		users = s->users;
		unmap_slot(g, s);
	} else if (s) {
		if (area == VQ_AREA_RING && !s->ring) {
			s->ring = true;
			s->users = 0;
			g->buffer_grants--;
		} else if (!s->ring) {
			s->users |= holder_bit(g, hold);
		}
		g->hits++;
		return slot_ptr(s, offset);
	}
	g->misses++;
	s = victim(g);
	unmap_slot(g, s);
	m = (struct xen_grant_map){.ref = {(uint32_t)ref}, .at = s->own, .readonly = !writable};
	rc = xen_grant_map(g->domid, &m, 1);
	if (rc == 0)
		rc = m.err;
	if (rc) {
		gmem_log(g, LOG_WARN, "gmem: dom%u: grant %u cannot be mapped %s (GNTST %d, %d)",
		         g->domid, m.ref.n, writable ? "writable" : "read-only", m.status, rc);
		return NULL;
	}
	*s = (struct gmem_slot){
	    .own = s->own,
	    .mapped = true,
	    .grant = true,
	    .readonly = !writable,
	    .ring = area == VQ_AREA_RING,
	    .ref = m.ref,
	    .handle = m.handle,
	};
	mapped_count++;
	if (!s->ring) {
		s->users = users | holder_bit(g, hold);
		g->buffer_grants++;
	}
	set_hint(g, ref, true, s);
	return slot_ptr(s, offset);
}

static void *gmem_map(void *ctx, gpa_t gpa, uint32_t len, bool writable, enum vq_area area,
                      struct vq_hold *hold)
{
	struct gmem *g = ctx;
	uint64_t offset = gpa & (XEN_PAGE_SIZE - 1);

	if (len == 0 || offset + len > XEN_PAGE_SIZE || !g->have_frames)
		return NULL;
	if (gpa & GMEM_GRANT_BIT)
		return map_grant(g, gpa, offset, writable, area, hold);
	return map_foreign(g, gpa, offset);
}

/* The request of `hold` is done: its holder number is free again, its buffers unused by it. */
static void gmem_release(void *ctx, struct vq_hold *hold)
{
	struct gmem *g = ctx;
	uint32_t done;

	/*
	 * Foreign mappings only (the common case): nothing to unmap, and no number given out,
	 * so whatever `hold` has is from before the last reset and names nothing already.
	 */
	if (g->holders == 0 && g->buffer_grants == 0)
		return;
	done = held_bit(g, hold);
	if (hold)
		hold->token = 0;
	g->holders &= ~done;
	unmap_grants(g, PICK_UNUSED, NULL, done);
}

static void gmem_reset(void *ctx)
{
	unmap_grants(ctx, PICK_ALL, NULL, 0);
	forget_holders(ctx);
}

static const struct vq_mem_ops gmem_ops = {
    .map = gmem_map,
    .release = gmem_release,
    .reset = gmem_reset,
};

int gmem_init(struct gmem *g, uint16_t domid)
{
	int rc;

	memset(g, 0, sizeof(*g));
	g->domid = domid;
	rc = frames_alloc(GMEM_SLOTS, &g->first);
	if (rc) {
		log_error("gmem: dom%u: no %u free frames for mappings (%u left)", domid,
		          GMEM_SLOTS, frames_free_count());
		return rc;
	}
	g->have_frames = true;
	for (unsigned int i = 0; i < GMEM_SLOTS; i++)
		g->slots[i].own.n = g->first.n + i;
	g->mem.ops = &gmem_ops;
	g->mem.ctx = g;
	return 0;
}

void gmem_invalidate(struct gmem *g)
{
	unmap_grants(g, PICK_ALL, NULL, 0);
	for (unsigned int i = 0; i < GMEM_SLOTS; i++)
		unmap_slot(g, &g->slots[i]);
	forget_holders(g);
}

void gmem_fini(struct gmem *g)
{
	gmem_invalidate(g);
	if (g->have_frames)
		frames_free(g->first, GMEM_SLOTS);
	g->have_frames = false;
}

unsigned int gmem_mapped_count(void)
{
	return mapped_count;
}
