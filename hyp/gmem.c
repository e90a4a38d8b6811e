/* Foreign-mapping cache with clock replacement (see gmem.h). */
#include <errno.h>
#include <string.h>

#include "boot/log.h"
#include "hyp/frames.h"
#include "hyp/gmem.h"

static void unmap_slot(struct gmem_slot *s)
{
	if (s->mapped)
		xen_unmap_frame(s->own);
	s->mapped = false;
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

static void *gmem_map(void *ctx, gpa_t gpa, uint32_t len, bool writable, enum vq_area area)
{
	struct gmem *g = ctx;
	struct guest_frame frame = {.n = gpa >> XEN_PAGE_SHIFT};
	uint64_t offset = gpa & (XEN_PAGE_SIZE - 1);
	struct gmem_slot *s;
	int err = 0;
	int rc;

	if (len == 0 || offset + len > XEN_PAGE_SIZE || !g->have_frames)
		return NULL;
	/* A linear scan is fine at this size; a hash comes with measurements that need it. */
	for (unsigned int i = 0; i < GMEM_SLOTS; i++) {
		s = &g->slots[i];
		if (s->mapped && s->guest.n == frame.n) {
			s->referenced = true;
			g->hits++;
			return (uint8_t *)frames_ptr(s->own) + offset;
		}
	}
	g->misses++;
	s = victim(g);
	unmap_slot(s);
	rc = xen_map_foreign(g->domid, &frame, &s->own, &err, 1);
	if (rc == 0 && err != 0)
		rc = xen_errno(err);
	if (rc) {
		if (g->refused++ < 16)
			log_warn("gmem: dom%u: guest frame %#llx cannot be mapped (%d)", g->domid,
				 (unsigned long long)frame.n, rc);
		return NULL;
	}
	s->guest = frame;
	s->mapped = true;
	s->referenced = true;
	return (uint8_t *)frames_ptr(s->own) + offset;
}

static const struct vq_mem_ops gmem_ops = {.map = gmem_map};

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
	for (unsigned int i = 0; i < GMEM_SLOTS; i++)
		unmap_slot(&g->slots[i]);
}

void gmem_fini(struct gmem *g)
{
	gmem_invalidate(g);
	if (g->have_frames)
		frames_free(g->first, GMEM_SLOTS);
	g->have_frames = false;
}
