/*
 * The host's device address space for unit tests: arch/mmio.h's accessors on the fake arch
 * call fake_mmio_access(), which hands each access to the register model a test mapped at
 * that address (a fake SD host controller, say). Every access takes 1 us of fake time.
 */
#ifndef ARCH_FAKE_MMIO_H
#define ARCH_FAKE_MMIO_H

#include <stdbool.h>
#include <stdint.h>

/** A register model: offset is from the region's base, size is 1, 2, 4 or 8 bytes. */
struct fake_mmio_ops {
	uint64_t (*read)(void *ctx, uint32_t offset, unsigned int size);
	void (*write)(void *ctx, uint32_t offset, unsigned int size, uint64_t val);
};

/** How many regions can be mapped at once. */
#define FAKE_MMIO_REGIONS 8

/**
 * Maps size bytes at base to ops (called with ctx); aborts the test program if the region
 * overlaps another one, is empty or no slot is free.
 */
void fake_mmio_map(uintptr_t base, uint32_t size, const struct fake_mmio_ops *ops, void *ctx);
/** Removes the region that starts at base; aborts if there is none. */
void fake_mmio_unmap(uintptr_t base);
/** Removes every region (for a test's set-up). */
void fake_mmio_unmap_all(void);
/**
 * Performs one device access of size bytes at addr (val is written, or the read value is
 * returned), after advancing fake_time_ns by 1 us; aborts the test program with a message on
 * stderr if the access is outside every region, straddles a region's end, is not 1, 2, 4 or 8
 * bytes, or is not naturally aligned (arm64 Device memory faults on that).
 */
uint64_t fake_mmio_access(uintptr_t addr, unsigned int size, bool write, uint64_t val);

#endif
