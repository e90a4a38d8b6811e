/*
 * What the image built on the arch layer provides to it (boot/main.c for vdisk,
 * tests/guests/hostile/main.c for the test guest): the C entry that arch_cpu_start jumps to,
 * and the way out that an unexpected exception takes. The arch layer calls these and includes
 * nothing of the layers above.
 */
#ifndef ARCH_ENTRY_H
#define ARCH_ENTRY_H

#include <stdint.h>

/** Brings the image up from the device tree at dtb_pa (MMU and caches already on); no return. */
void main_start(uint64_t dtb_pa) __attribute__((noreturn));
/** Logs why, then stops the domain as crashed (or powers off without Xen); no return. */
void main_crash(const char *why) __attribute__((noreturn));

#endif
