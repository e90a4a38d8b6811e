/*
 * The poll-with-timeout helper of mmio.h (TF-A's mmio_read_32_poll_timeout), one for every
 * implementation of the accessors: each arch's mmio.h includes it after defining
 * mmio_read_32. On the host fake, time moves only as registers are read (1 us a read).
 */
#ifndef ARCH_MMIO_POLL_H
#define ARCH_MMIO_POLL_H

#include <errno.h>
#include <stdint.h>

#include "arch/timer.h"

/**
 * Polls a 32-bit register until (value & mask) == expect, for at most timeout_us.
 * Returns 0, or -ETIMEDOUT with *last holding the final value read.
 */
static inline int mmio_read_32_poll_timeout(uintptr_t addr, uint32_t mask, uint32_t expect,
                                            uint32_t timeout_us, uint32_t *last)
{
	uint64_t deadline = arch_timer_now_ns() + (uint64_t)timeout_us * 1000;
	uint32_t val;

	for (;;) {
		val = mmio_read_32(addr);
		if ((val & mask) == expect)
			break;
		if (arch_timer_now_ns() > deadline) {
			if (last)
				*last = val;
			return -ETIMEDOUT;
		}
	}
	if (last)
		*last = val;
	return 0;
}

#endif
