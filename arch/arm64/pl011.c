/* PL011 output (PL011 TRM DDI 0183): polled, for running without a hypervisor. */
#include <stddef.h>
#include <stdint.h>

#include "arch/mmio.h"
#include "arch/pl011.h"

#define UARTDR   0x000
#define UARTFR   0x018
#define UARTFR_TXFF (1u << 5)
#define TX_TIMEOUT_US 10000

static uintptr_t base;

void arch_pl011_init(uint64_t addr)
{
	base = addr;
}

static void put(char c)
{
	/* A stuck UART must not hang the firmware: give up on this byte after the timeout. */
	if (mmio_read_32_poll_timeout(base + UARTFR, UARTFR_TXFF, 0, TX_TIMEOUT_US, NULL) == 0)
		mmio_write_32(base + UARTDR, (uint8_t)c);
}

void arch_pl011_write(const char *buf, size_t len)
{
	if (!base)
		return;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n')
			put('\r');
		put(buf[i]);
	}
}
