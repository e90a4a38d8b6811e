/*
 * Device register accessors (TF-A mmio.h style). Each access is a single plain load or
 * store so that a trapped access has a valid syndrome (ESR ISV=1) for the hypervisor.
 */
#ifndef ARCH_MMIO_H
#define ARCH_MMIO_H

#include <errno.h>
#include <stdint.h>
#include "arch/timer.h"

static inline uint32_t mmio_read_32(uintptr_t addr)
{
	uint32_t val;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(val) : "r"(addr) : "memory");
	return val;
}

static inline void mmio_write_32(uintptr_t addr, uint32_t val)
{
	__asm__ volatile("str %w0, [%1]" ::"rZ"(val), "r"(addr) : "memory");
}

static inline uint64_t mmio_read_64(uintptr_t addr)
{
	uint64_t val;

	__asm__ volatile("ldr %0, [%1]" : "=r"(val) : "r"(addr) : "memory");
	return val;
}

static inline void mmio_write_64(uintptr_t addr, uint64_t val)
{
	__asm__ volatile("str %0, [%1]" ::"rZ"(val), "r"(addr) : "memory");
}

static inline uint16_t mmio_read_16(uintptr_t addr)
{
	uint16_t val;

	__asm__ volatile("ldrh %w0, [%1]" : "=r"(val) : "r"(addr) : "memory");
	return val;
}

static inline void mmio_write_16(uintptr_t addr, uint16_t val)
{
	__asm__ volatile("strh %w0, [%1]" ::"rZ"(val), "r"(addr) : "memory");
}

static inline uint8_t mmio_read_8(uintptr_t addr)
{
	uint8_t val;

	__asm__ volatile("ldrb %w0, [%1]" : "=r"(val) : "r"(addr) : "memory");
	return val;
}

static inline void mmio_write_8(uintptr_t addr, uint8_t val)
{
	__asm__ volatile("strb %w0, [%1]" ::"rZ"(val), "r"(addr) : "memory");
}

#include "arch/mmio_poll.h"

#endif
