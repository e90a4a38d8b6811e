/*
 * A fake guest for the virtio tests: a byte array reached through a map() that checks the
 * walker's contract (never across a page, never outside the array, writes only where
 * allowed) and records each call, plus little-endian accessors tests use to play the driver.
 */
#ifndef TESTS_UNIT_FAKE_GUEST_H
#define TESTS_UNIT_FAKE_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/vq.h"

#define GUEST_BASE 0x40000000ull
#define GUEST_SIZE (64u * 4096u)
/* 8 GiB of guest space whose pages all alias one dummy page: room for 4 GiB chains. */
#define BIG_BASE 0x100000000ull
#define BIG_SIZE (8ull << 30)
#define CALL_LOG 4096

struct map_call {
	gpa_t gpa;
	uint32_t len;
	bool writable;
	enum vq_area area;
	const struct vq_hold *hold;
};

/** What map() refuses and what it saw; tests clear it with memset between cases. */
struct fake_guest {
	gpa_t hole_start, hole_end; /* map() refuses any access here */
	gpa_t ro_start, ro_end;     /* map() refuses writable access here */
	unsigned long calls;
	unsigned int contract_violations;
	struct map_call log[CALL_LOG];
	unsigned int releases, resets;  /* release() and reset() calls */
	unsigned long calls_at_release; /* map() calls made before the last release() */
	const struct vq_hold *released; /* the hold the last release() was given */
	void (*hook)(gpa_t gpa, uint32_t len, bool writable);
};

extern uint8_t guest[GUEST_SIZE];
extern struct fake_guest fake;
/** The guest memory to hand to the code under test. */
extern const struct vq_mem mem;

uint8_t *gp(gpa_t a);
void put16(gpa_t a, uint16_t v);
void put32(gpa_t a, uint32_t v);
void put64(gpa_t a, uint64_t v);
uint16_t get16(gpa_t a);
uint32_t get32(gpa_t a);

#endif
