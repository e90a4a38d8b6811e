/* Host (fake arch) barriers: compiler and C11 fences are enough for single-process tests. */
#ifndef ARCH_BARRIER_H
#define ARCH_BARRIER_H

#define smp_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define io_mb()   __atomic_thread_fence(__ATOMIC_SEQ_CST)

#endif
