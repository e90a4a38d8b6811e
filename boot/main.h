/* Start-up and the ways out: vdisk's side of arch/entry.h. */
#ifndef BOOT_MAIN_H
#define BOOT_MAIN_H

#include "arch/entry.h"

#endif
