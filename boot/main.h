/* Start-up and the ways out. */
#ifndef BOOT_MAIN_H
#define BOOT_MAIN_H

#include <stdint.h>

/** Brings vdisk up from the device tree at dtb_pa (MMU and caches already on); no return. */
void main_start(uint64_t dtb_pa) __attribute__((noreturn));
/** Logs why, then stops the domain as crashed (or powers off without Xen); no return. */
void main_crash(const char *why) __attribute__((noreturn));

#endif
