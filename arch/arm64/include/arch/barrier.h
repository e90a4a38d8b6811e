/* Memory barriers for arm64 (Arm ARM B2.3). Host builds use arch/fake's version. */
#ifndef ARCH_BARRIER_H
#define ARCH_BARRIER_H

/* Orders accesses to memory shared with other CPUs or domains (inner shareable). */
#define smp_mb()  __asm__ volatile("dmb ish" ::: "memory")
#define smp_rmb() __asm__ volatile("dmb ishld" ::: "memory")
#define smp_wmb() __asm__ volatile("dmb ishst" ::: "memory")
/* Orders device register accesses against normal memory (outer shareable). */
#define io_mb()   __asm__ volatile("dsb sy" ::: "memory")

#endif
