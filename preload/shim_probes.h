/* SPDX-License-Identifier: MIT */
/*
 * Every USDT probe of the preload shim (provider `stallscope`), with its
 * arguments.  One macro per probe is the only emit point; docs/preload.md
 * is the user-facing list (make check fails if the two drift apart or a
 * probe is missing from the library's notes).
 *
 * Probes are the stock sys/sdt.h 1-byte nops (5-byte-nop probes corrupt
 * the red zone on the kernels we run on): unattached, a probe costs the
 * nop and its argument moves.  The numbers below are part of the trace ABI
 * (bpf/record.h repeats them as SS_SHIM_*; preload/init.c checks they
 * agree): never renumber, only append.
 *
 * Timeouts the caller passed by pointer (futex, epoll_pwait2, the timed
 * condvar and semaphore waits) are never read by the shim: the probe
 * describes the two words of the struct timespec as memory operands
 * (`-8@0(%reg)`, `-8@8(%reg)`), which the tracer reads safely when the
 * probe fires.  A bad pointer then reads as 0 in the trace instead of
 * crashing a program the kernel would have answered with EFAULT.
 */
#ifndef SHIM_PROBES_H
#define SHIM_PROBES_H

#include <sys/sdt.h>

/* park kind (park_enter / park_exit `kind`) */
#define SHIM_KIND_EPOLL 1	/* object: the epoll fd */
#define SHIM_KIND_FUTEX 2	/* object: the futex word (waitv: the array) */
#define SHIM_KIND_COND  3	/* object: the pthread_cond_t */
#define SHIM_KIND_SEM   4	/* object: the sem_t */

/* `op`, low 24 bits, per kind */
#define SHIM_EPOLL_WAIT   0	/* epoll_wait: timeout in ms */
#define SHIM_EPOLL_PWAIT  1	/* epoll_pwait */
#define SHIM_EPOLL_PWAIT2 2	/* epoll_pwait2: timespec */
/* futex: the futex op as passed (FUTEX_WAIT_PRIVATE ...), or: */
#define SHIM_FUTEX_WAITV  0x10000	/* futex_waitv; | the waiter count */
#define SHIM_COND_WAIT      0
#define SHIM_COND_TIMEDWAIT 1
#define SHIM_COND_CLOCKWAIT 2
#define SHIM_SEM_WAIT       0
#define SHIM_SEM_TIMEDWAIT  1
#define SHIM_SEM_CLOCKWAIT  2
/* `op` flags: how to read the timeout */
#define SHIM_OP_ABS      (1U << 30)	/* an absolute deadline, not a span */
#define SHIM_OP_REALTIME (1U << 29)	/* ... on CLOCK_REALTIME (else MONOTONIC) */

/* park_exit `flags`: what the shim injected (STALLSCOPE_FAULTS) */
#define SHIM_FAULT_SPURIOUS (1U << 0)	/* returned as if spuriously woken */
#define SHIM_FAULT_EINTR    (1U << 1)	/* returned EINTR */
#define SHIM_FAULT_DELAY    (1U << 2)	/* delayed before or after the wait */

/* start(spurious_wake ppm, eintr ppm, delay_us, seed): the shim is
 * initialised in this process, with these faults (all 0: none). */
#define SHIM_PROBE_START(spurious_ppm, eintr_ppm, delay_us, seed)            \
	STAP_PROBE4(stallscope, start, (unsigned)(spurious_ppm),             \
		    (unsigned)(eintr_ppm), (unsigned)(delay_us),             \
		    (unsigned long long)(seed))

/* park_enter(kind, object, op, timeout_sec, timeout_nsec): about to block.
 * timeout_sec = -1: no timeout.  Otherwise the timeout is
 * sec * 10^9 + nsec ns: a span, or a deadline if op has SHIM_OP_ABS.
 * This form takes the timeout as values (epoll's ms, none). */
#define SHIM_PROBE_PARK_ENTER(kind, object, op, sec, nsec)                   \
	STAP_PROBE5(stallscope, park_enter, (int)(kind),                     \
		    (unsigned long long)(object), (unsigned)(op),            \
		    (long long)(sec), (long long)(nsec))

/* park_enter, the same probe, with the timeout the caller passed by
 * pointer (never NULL here: NULL is the no-timeout value form).  Args 4
 * and 5 are the pointer's two words, read by the tracer, not by us. */
#define SHIM_SDT_ID(x) x
#define SHIM_SDT_TIMESPEC_TEMPLATE                                           \
	_SDT_ASM_TEMPLATE_3 _SDT_ASM_BLANK                                   \
	_SDT_ASM_SUBSTR(-8@0(_SDT_ARGTMPL(_SDT_A4))) _SDT_ASM_BLANK          \
	_SDT_ASM_SUBSTR(-8@8(_SDT_ARGTMPL(_SDT_A4)))
#define SHIM_PROBE_PARK_ENTER_TS(kind, object, op, ts)                       \
	do {                                                                 \
		__asm__ __volatile__(                                        \
			_SDT_ASM_BODY(stallscope, park_enter, SHIM_SDT_ID,   \
				      (SHIM_SDT_TIMESPEC_TEMPLATE))          \
			:: _SDT_ASM_OPERANDS_3((int)(kind),                  \
					       (unsigned long long)(object), \
					       (unsigned)(op)),              \
			   [_SDT_A4] "r" ((const void *)(ts)));              \
		__asm__ __volatile__(_SDT_ASM_BASE);                         \
	} while (0)

/* park_exit(kind, object, op, result, flags): back from the wait.
 * result: >= 0 as the call returned it (epoll: events; futex: its value),
 * or -errno (for the pthread calls, minus the error they returned).
 * flags: SHIM_FAULT_* injected into this call. */
#define SHIM_PROBE_PARK_EXIT(kind, object, op, result, flags)                \
	STAP_PROBE5(stallscope, park_exit, (int)(kind),                      \
		    (unsigned long long)(object), (unsigned)(op),            \
		    (long long)(result), (unsigned)(flags))

/* futex_wake(uaddr, op, count, result): a futex wake-type op (wake,
 * wake_bitset, wake_op, requeue, cmp_requeue, unlock_pi, ...) returned:
 * count is the val argument (how many to wake), result what the kernel
 * returned (woken, for requeue woken + requeued) or -errno. */
#define SHIM_PROBE_FUTEX_WAKE(uaddr, op, count, result)                      \
	STAP_PROBE4(stallscope, futex_wake, (unsigned long long)(uaddr),     \
		    (int)(op), (int)(count), (long long)(result))

/* thread_name(name[0..7], name[8..15], tid, result): a thread was named
 * (pthread_setname_np, prctl(PR_SET_NAME)).  The name's 16 bytes (NUL
 * padded, as the kernel keeps it) in two little-endian words; tid of the
 * thread named, 0 if it was another thread (the kernel's own comm record
 * names it); result 0 or -errno (the name is all zero then). */
#define SHIM_PROBE_THREAD_NAME(lo, hi, tid, result)                          \
	STAP_PROBE4(stallscope, thread_name, (unsigned long long)(lo),       \
		    (unsigned long long)(hi), (int)(tid), (int)(result))

#endif /* SHIM_PROBES_H */
