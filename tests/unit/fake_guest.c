/* The fake guest shared by the virtio unit tests (see fake_guest.h). */
#include <string.h>

#include "tests/unit/fake_guest.h"

uint8_t guest[GUEST_SIZE] __attribute__((aligned(4096)));
static uint8_t big_page[4096] __attribute__((aligned(4096)));
struct fake_guest fake;

static void *fake_map(void *ctx, gpa_t gpa, uint32_t len, bool writable, enum vq_area area,
                      struct vq_hold *hold)
{
	if (fake.calls < CALL_LOG)
		fake.log[fake.calls] = (struct map_call){gpa, len, writable, area, hold};
	fake.calls++;
	if (fake.hook)
		fake.hook(gpa, len, writable);
	if (len == 0 || (gpa & 4095) + len > 4096) {
		fake.contract_violations++;
		return NULL;
	}
	if (gpa < fake.hole_end && gpa + len > fake.hole_start)
		return NULL;
	if (writable && gpa < fake.ro_end && gpa + len > fake.ro_start)
		return NULL;
	if (gpa >= BIG_BASE && gpa - BIG_BASE < BIG_SIZE)
		return big_page + (gpa & 4095);
	if (gpa < GUEST_BASE || gpa - GUEST_BASE > GUEST_SIZE - len)
		return NULL;
	return guest + (gpa - GUEST_BASE);
}

static void fake_release(void *ctx, struct vq_hold *hold)
{
	fake.releases++;
	fake.calls_at_release = fake.calls;
	fake.released = hold;
}

static void fake_mem_reset(void *ctx)
{
	fake.resets++;
}

static const struct vq_mem_ops fake_ops = {
    .map = fake_map, .release = fake_release, .reset = fake_mem_reset};
const struct vq_mem mem = {.ops = &fake_ops, .ctx = NULL};

uint8_t *gp(gpa_t a)
{
	return guest + (a - GUEST_BASE);
}

void put16(gpa_t a, uint16_t v)
{
	gp(a)[0] = (uint8_t)v;
	gp(a)[1] = (uint8_t)(v >> 8);
}

void put32(gpa_t a, uint32_t v)
{
	put16(a, (uint16_t)v);
	put16(a + 2, (uint16_t)(v >> 16));
}

void put64(gpa_t a, uint64_t v)
{
	put32(a, (uint32_t)v);
	put32(a + 4, (uint32_t)(v >> 32));
}

uint16_t get16(gpa_t a)
{
	return (uint16_t)(gp(a)[0] | gp(a)[1] << 8);
}

uint32_t get32(gpa_t a)
{
	return get16(a) | (uint32_t)get16(a + 2) << 16;
}
