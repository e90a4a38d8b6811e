/*
 * RAM disks live as long as vdisk does (a re-created guest finds its disk again), so a
 * bump allocator is all that is needed; the README says how memory= must relate to disks.
 */
#include <stddef.h>
#include <stdint.h>

#include "boot/ram.h"

#define PAGE 4096ull

static uint64_t next, limit;

void ram_init(uint64_t start, uint64_t end)
{
	next = (start + PAGE - 1) & ~(PAGE - 1);
	limit = end & ~(PAGE - 1);
	if (limit < next)
		limit = next;
}

void *ram_alloc(uint64_t size)
{
	uint64_t rounded = (size + PAGE - 1) & ~(PAGE - 1);
	void *p;

	if (size == 0 || rounded < size || rounded > limit - next)
		return NULL;
	p = (void *)(uintptr_t)next;
	next += rounded;
	return p;
}

uint64_t ram_free(void)
{
	return limit - next;
}
