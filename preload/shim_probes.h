/* SPDX-License-Identifier: MIT */
/*
 * Every probe of the preload shim (USDT provider `stallscope`), with its
 * arguments.  One macro per probe is the only emit point; docs/preload.md
 * is the user-facing list (make check fails if the two drift apart or a
 * probe is missing from the library's notes).
 *
 * As for the runtime (runtime/wsrt_probes.h), each probe has two sinks
 * behind the library's one USDT semaphore (runtime/ring.h): this thread's
 * event ring (this library's own copy: provider stallscope) and the USDT
 * probe site.  The USDT probes are the stock sys/sdt.h 1-byte nops
 * (5-byte-nop probes corrupt the red zone on the kernels we run on).  The
 * numbers below are part of the trace ABI (bpf/record.h repeats them as
 * SS_SHIM_*; preload/init.c checks they agree): never renumber, only
 * append.  How each probe's arguments sit in ring slots is written in its
 * macro and read back by userspace/ringdec.c (tests/unit/test_ring.c
 * holds the two together).
 *
 * Timeouts the caller passed by pointer (futex, epoll_pwait2, the timed
 * condvar and semaphore waits): the USDT probe describes the two words of
 * the struct timespec as memory operands (`-8@0(%reg)`, `-8@8(%reg)`),
 * which the tracer reads safely when it fires.  For the ring, the shim
 * reads them through process_vm_readv, which fails instead of faulting: a
 * bad pointer then reads as timeout seconds -2 ("unread") instead of
 * crashing a program the kernel would have answered with EFAULT.  That
 * costs a syscall per timed wait, only while stallscope is attached.
 */
#ifndef SHIM_PROBES_H
#define SHIM_PROBES_H

#include <linux/types.h>

#include <sys/sdt.h>

#define SS_RING_PROVIDER stallscope
#include "../bpf/record.h"
#include "../runtime/ring.h"

#define SHIM_EMIT(n, ring, sdt)                                              \
	do {                                                                 \
		if (ss_ring_gate()) {                                        \
			ring;                                                \
			sdt;                                                 \
		}                                                            \
	} while (0)

/* The caller's timespec, never faulting (init.c): false if unreadable. */
_Bool shim_timespec_read(const void *ts, long long *sec, long long *nsec)
	__attribute__((visibility("hidden")));
#define SHIM_TIMEOUT_UNREAD (-2)	/* park_enter timeout seconds */

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
 * initialised in this process, with these faults (all 0: none).
 * ring, two slots: a = spurious, x = eintr, y = delay, e = seed */
#define SHIM_PROBE_START(spurious_ppm, eintr_ppm, delay_us, seed)            \
	SHIM_EMIT(start,                                                     \
		  ss_ring_put2(SS_SHIM_START, (__u32)(spurious_ppm),          \
			       (__u64)(unsigned)(eintr_ppm),                  \
			       (__u64)(unsigned)(delay_us),                   \
			       (__u64)(seed), 0, 0, 0),                       \
		  STAP_PROBE4(stallscope, start, (unsigned)(spurious_ppm),    \
			      (unsigned)(eintr_ppm), (unsigned)(delay_us),    \
			      (unsigned long long)(seed)))

/* park_enter(kind, object, op, timeout_sec, timeout_nsec): about to block.
 * timeout_sec = -1: no timeout.  Otherwise the timeout is
 * sec * 10^9 + nsec ns: a span, or a deadline if op has SHIM_OP_ABS.
 * This form takes the timeout as values (epoll's ms, none).
 * ring, two slots: a = op, x = object, y = sec, e = nsec, a2 = kind */
#define SHIM_PROBE_PARK_ENTER(kind, object, op, sec, nsec)                   \
	SHIM_EMIT(park_enter,                                                \
		  ss_ring_put2(SS_SHIM_PARK_ENTER, (__u32)(op),               \
			       (__u64)(object), (__u64)(long long)(sec),      \
			       (__u64)(long long)(nsec), (__u32)(int)(kind),  \
			       0, 0),                                         \
		  STAP_PROBE5(stallscope, park_enter, (int)(kind),            \
			      (unsigned long long)(object), (unsigned)(op),   \
			      (long long)(sec), (long long)(nsec)))

/* park_enter, the same probe, with the timeout the caller passed by
 * pointer (never NULL here: NULL is the no-timeout value form).  Args 4
 * and 5 are the pointer's two words, read by the tracer, not by us. */
#define SHIM_SDT_ID(x) x
#define SHIM_SDT_TIMESPEC_TEMPLATE                                           \
	_SDT_ASM_TEMPLATE_3 _SDT_ASM_BLANK                                   \
	_SDT_ASM_SUBSTR(-8@0(_SDT_ARGTMPL(_SDT_A4))) _SDT_ASM_BLANK          \
	_SDT_ASM_SUBSTR(-8@8(_SDT_ARGTMPL(_SDT_A4)))
#define SHIM_SDT_PARK_ENTER_TS(kind, object, op, ts)                         \
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
static inline void shim_ring_park_enter_ts(int kind, __u64 object,
					   unsigned op, const void *ts)
{
	long long sec = SHIM_TIMEOUT_UNREAD, nsec = 0;

	if (!shim_timespec_read(ts, &sec, &nsec))
		sec = SHIM_TIMEOUT_UNREAD, nsec = 0;
	ss_ring_put2(SS_SHIM_PARK_ENTER, op, object, (__u64)sec, (__u64)nsec,
		     (__u32)kind, 0, 0);
}
#define SHIM_PROBE_PARK_ENTER_TS(kind, object, op, ts)                       \
	SHIM_EMIT(park_enter,                                                \
		  shim_ring_park_enter_ts((int)(kind),                        \
					  (__u64)(object), (unsigned)(op), (ts)), \
		  SHIM_SDT_PARK_ENTER_TS(kind, object, op, ts))

/* park_exit(kind, object, op, result, flags): back from the wait.
 * result: >= 0 as the call returned it (epoll: events; futex: its value),
 * or -errno (for the pthread calls, minus the error they returned).
 * flags: SHIM_FAULT_* injected into this call.
 * ring, two slots: a = op, x = object, y = result, e = flags, a2 = kind */
#define SHIM_PROBE_PARK_EXIT(kind, object, op, result, flags)                \
	SHIM_EMIT(park_exit,                                                 \
		  ss_ring_put2(SS_SHIM_PARK_EXIT, (__u32)(op), (__u64)(object), \
			       (__u64)(long long)(result),                    \
			       (__u64)(unsigned)(flags), (__u32)(int)(kind),  \
			       0, 0),                                         \
		  STAP_PROBE5(stallscope, park_exit, (int)(kind),             \
			      (unsigned long long)(object), (unsigned)(op),   \
			      (long long)(result), (unsigned)(flags)))

/* futex_wake(uaddr, op, count, result): a futex wake-type op (wake,
 * wake_bitset, wake_op, requeue, cmp_requeue, unlock_pi, ...) returned:
 * count is the val argument (how many to wake), result what the kernel
 * returned (woken, for requeue woken + requeued) or -errno.
 * ring, two slots: a = op, x = uaddr, y = result, e = count */
#define SHIM_PROBE_FUTEX_WAKE(uaddr, op, count, result)                      \
	SHIM_EMIT(futex_wake,                                                \
		  ss_ring_put2(SS_SHIM_FUTEX_WAKE, (__u32)(int)(op),          \
			       (__u64)(uaddr), (__u64)(long long)(result),    \
			       (__u64)(__s64)(int)(count), 0, 0, 0),          \
		  STAP_PROBE4(stallscope, futex_wake,                         \
			      (unsigned long long)(uaddr), (int)(op),         \
			      (int)(count), (long long)(result)))

/* thread_name(name[0..7], name[8..15], tid, result): a thread was named
 * (pthread_setname_np, prctl(PR_SET_NAME)).  The name's 16 bytes (NUL
 * padded, as the kernel keeps it) in two little-endian words; tid of the
 * thread named, 0 if it was another thread (the kernel's own comm record
 * names it); result 0 or -errno (the name is all zero then).
 * ring, two slots: a = tid, x = lo, y = hi, a2 = result */
#define SHIM_PROBE_THREAD_NAME(lo, hi, tid, result)                          \
	SHIM_EMIT(thread_name,                                               \
		  ss_ring_put2(SS_SHIM_THREAD_NAME, (__u32)(int)(tid),        \
			       (__u64)(lo), (__u64)(hi), 0,                   \
			       (__u32)(int)(result), 0, 0),                   \
		  STAP_PROBE4(stallscope, thread_name,                        \
			      (unsigned long long)(lo),                       \
			      (unsigned long long)(hi), (int)(tid),           \
			      (int)(result)))

#endif /* SHIM_PROBES_H */
