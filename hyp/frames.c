/* A first-fit bitmap allocator over a window of an extended region (see frames.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/mmu.h"
#include "hyp/frames.h"
#include "lib/log.h"

static uint64_t first_frame;
static unsigned int frame_count;
static unsigned int free_count;
static uint64_t used[FRAMES_MAX / 64];

static bool is_used(unsigned int i)
{
	return (used[i / 64] >> (i % 64)) & 1;
}

static void set_used(unsigned int i, bool on)
{
	if (on)
		used[i / 64] |= 1ull << (i % 64);
	else
		used[i / 64] &= ~(1ull << (i % 64));
}

int frames_init(uint64_t base, uint64_t size)
{
	uint64_t start = (base + XEN_PAGE_SIZE - 1) >> XEN_PAGE_SHIFT;
	uint64_t end = (base + size) >> XEN_PAGE_SHIFT;
	int rc;

	if (end <= start)
		return -EINVAL;
	frame_count = end - start > FRAMES_MAX ? FRAMES_MAX : (unsigned int)(end - start);
	first_frame = start;
	free_count = frame_count;
	rc = arch_mmu_map(start << XEN_PAGE_SHIFT, (uint64_t)frame_count << XEN_PAGE_SHIFT,
			  MMU_NORMAL);
	if (rc) {
		frame_count = free_count = 0;
		return rc;
	}
	return (int)frame_count;
}

int frames_alloc(unsigned int count, struct own_frame *first)
{
	unsigned int run = 0;

	if (count == 0)
		return -EINVAL;
	for (unsigned int i = 0; i < frame_count; i++) {
		run = is_used(i) ? 0 : run + 1;
		if (run == count) {
			unsigned int start = i + 1 - count;

			for (unsigned int j = start; j <= i; j++)
				set_used(j, true);
			free_count -= count;
			first->n = first_frame + start;
			return 0;
		}
	}
	return -ENOMEM;
}

void frames_free(struct own_frame first, unsigned int count)
{
	uint64_t start = first.n - first_frame;

	if (first.n < first_frame || start + count > frame_count) {
		log_error("frames: freeing frames %#llx+%u outside the pool",
			  (unsigned long long)first.n, count);
		return;
	}
	for (unsigned int i = 0; i < count; i++) {
		if (is_used((unsigned int)start + i)) {
			set_used((unsigned int)start + i, false);
			free_count++;
		}
	}
}

unsigned int frames_free_count(void)
{
	return free_count;
}
