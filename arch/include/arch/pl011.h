/* Arm PL011 UART output, the console when no hypervisor is present (PL011 TRM DDI 0183). */
#ifndef ARCH_PL011_H
#define ARCH_PL011_H

#include <stddef.h>
#include <stdint.h>

/** Uses the PL011 at base (already mapped) for output. */
void arch_pl011_init(uint64_t base);
/** Writes len bytes, turning "\n" into "\r\n". */
void arch_pl011_write(const char *buf, size_t len);

#endif
