/* What picolibc and Debian's libfdt.a expect from their environment, for a firmware with no OS. */
#include <stdint.h>
#include <stdlib.h>

#include "boot/main.h"

/** Canary for code built with -fstack-protector (Debian builds libfdt.a so). */
uintptr_t __stack_chk_guard = 0x595e9fbd94fda766ull;

void __stack_chk_fail(void);

/** A smashed stack in a protected function: log it and stop as crashed. */
void __stack_chk_fail(void)
{
	main_crash("stack smashing detected");
}

/** The C library's abort() and failed assertions end here: a crash, logged. */
void abort(void)
{
	main_crash("abort() called");
}
