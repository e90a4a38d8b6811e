/*
 * Host (fake arch) device register accessors, with the names and signatures of
 * arch/arm64/include/arch/mmio.h: each access goes to fake_mmio_access(), which hands it to the
 * register model a test mapped there. Every fake MMIO access takes 1 us of fake time
 * (fake_time_ns), so that a driver's polling loop with a timeout expires in host tests.
 */
#ifndef ARCH_MMIO_H
#define ARCH_MMIO_H

#include <errno.h>
#include <stdint.h>
#include "arch/fake_mmio.h"
#include "arch/timer.h"

static inline uint32_t mmio_read_32(uintptr_t addr)
{
	return (uint32_t)fake_mmio_access(addr, 4, false, 0);
}

static inline void mmio_write_32(uintptr_t addr, uint32_t val)
{
	fake_mmio_access(addr, 4, true, val);
}

static inline uint64_t mmio_read_64(uintptr_t addr)
{
	return fake_mmio_access(addr, 8, false, 0);
}

static inline void mmio_write_64(uintptr_t addr, uint64_t val)
{
	fake_mmio_access(addr, 8, true, val);
}

static inline uint16_t mmio_read_16(uintptr_t addr)
{
	return (uint16_t)fake_mmio_access(addr, 2, false, 0);
}

static inline void mmio_write_16(uintptr_t addr, uint16_t val)
{
	fake_mmio_access(addr, 2, true, val);
}

static inline uint8_t mmio_read_8(uintptr_t addr)
{
	return (uint8_t)fake_mmio_access(addr, 1, false, 0);
}

static inline void mmio_write_8(uintptr_t addr, uint8_t val)
{
	fake_mmio_access(addr, 1, true, val);
}

#include "arch/mmio_poll.h"

#endif
