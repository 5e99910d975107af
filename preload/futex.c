/* SPDX-License-Identifier: MIT */
/*
 * syscall(): futex parks and wakes, as Rust's std (thread::park, Mutex,
 * Condvar), wsrt's parker and most hand-written runtimes make them.  Every
 * other syscall number goes straight to libc's syscall() with all six
 * argument registers, as glibc's own syscall() reads them.
 *
 * Owns: the syscall() wrapper, futex op classification, the spurious-wake
 * fault, ring_exit before an exit or exit_group made through syscall().
 * Does not own: futexes glibc makes internally (mutexes, joins:
 * those never go through syscall(); the kernel's syscall tracepoints see
 * them, where stallscope hooks them: --syscalls, --kernel-only).
 *
 *   wait-type ops   WAIT, WAIT_BITSET, WAIT_REQUEUE_PI, LOCK_PI, LOCK_PI2,
 *                   and futex_waitv: a park (park_enter / park_exit)
 *   wake-type ops   WAKE, WAKE_BITSET, WAKE_OP, REQUEUE, CMP_REQUEUE,
 *                   CMP_REQUEUE_PI, UNLOCK_PI: one futex_wake probe with
 *                   what the kernel returned (the number woken)
 *   anything else   passed through, counted as futex_other
 *
 * The spurious-wake fault applies to WAIT and WAIT_BITSET only, whose
 * contract allows a 0 return at any time (futex(2): callers must assume a
 * 0 can be spurious); never to the PI ops, where 0 means "you own the
 * lock".  It is, in order:
 *  1. if the caller passed a timeout: the same op with the caller's
 *     timeout and bitset on a word of our own that can't match.  The
 *     kernel checks the timeout and the bitset before the word, so this
 *     returns EAGAIN at once, or the EFAULT / EINVAL the real call would
 *     return: then the real call runs, unfaulted;
 *  2. the real call with an already-expired timeout of our own: EAGAIN
 *     (the word changed), EFAULT, EINVAL for the caller's word come back
 *     as they would; the expiry comes back as 0, a spurious wakeup.
 * The caller's timeout is never read by the shim.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif

static long real_syscall(long nr, long a1, long a2, long a3, long a4,
			 long a5, long a6)
{
	__typeof__(shim_real.syscall) f = SHIM_REAL(syscall);

	if (shim_likely(f != NULL))
		return f(nr, a1, a2, a3, a4, a5, a6);
	return shim_syscall_errno(nr, a1, a2, a3, a4, a5, a6);
}

enum futex_class { FUTEX_CLASS_OTHER, FUTEX_CLASS_WAIT, FUTEX_CLASS_WAKE };

/* What op does; for a wait, its timeout flags and whether it may be
 * woken spuriously by the fault. */
static enum futex_class classify(int op, unsigned *tflags, bool *spurious_ok)
{
	unsigned clock = (op & FUTEX_CLOCK_REALTIME) ? SHIM_OP_REALTIME : 0;

	*tflags = 0;
	*spurious_ok = false;
	switch (op & FUTEX_CMD_MASK) {
	case FUTEX_WAIT:	/* a relative timeout */
		*spurious_ok = true;
		return FUTEX_CLASS_WAIT;
	case FUTEX_WAIT_BITSET:
		*spurious_ok = true;
		*tflags = SHIM_OP_ABS | clock;
		return FUTEX_CLASS_WAIT;
	case FUTEX_WAIT_REQUEUE_PI:
	case FUTEX_LOCK_PI2:
		*tflags = SHIM_OP_ABS | clock;
		return FUTEX_CLASS_WAIT;
	case FUTEX_LOCK_PI:	/* always CLOCK_REALTIME */
		*tflags = SHIM_OP_ABS | SHIM_OP_REALTIME;
		return FUTEX_CLASS_WAIT;
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
	case FUTEX_WAKE_OP:
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
	case FUTEX_CMP_REQUEUE_PI:
	case FUTEX_UNLOCK_PI:
		return FUTEX_CLASS_WAKE;
	default:
		return FUTEX_CLASS_OTHER;
	}
}

/* Step 1 above: would the kernel accept this op's timeout and bitset? */
static bool args_valid(long op, long ts, long uaddr2, long val3)
{
	uint32_t word = 0;	/* waited for as 1: never matches */

	return shim_raw_syscall(SYS_futex, (long)&word, op, 1, ts, uaddr2,
				val3) == -EAGAIN;
}

static long futex_park(uintptr_t frame, long nr, long a1, long a2, long a3,
		       long a4, long a5, long a6, unsigned op, bool spurious_ok)
{
	/* Already expired, relative (WAIT) or absolute (WAIT_BITSET). */
	static const struct timespec expired;
	const struct timespec *ts = (const struct timespec *)a4;
	struct shim_park p;
	long r;

	if (!shim_park_begin(&p, frame, SHIM_STAT_FUTEX_WAIT, true))
		return real_syscall(nr, a1, a2, a3, a4, a5, a6);
	if (ts)
		SHIM_PROBE_PARK_ENTER_TS(SHIM_KIND_FUTEX, a1, op, ts);
	else
		SHIM_PROBE_PARK_ENTER(SHIM_KIND_FUTEX, a1, op, -1, 0);

	if (shim_unlikely(p.faults)) {
		shim_park_delay_before(&p);
		if (spurious_ok && shim_fault_spurious() &&
		    (!ts || args_valid(a2, a4, a5, a6))) {
			int saved = errno;
			r = real_syscall(nr, a1, a2, a3, (long)&expired, a5, a6);
			if (r == -1 && errno == ETIMEDOUT) {
				errno = saved;
				r = 0;
				shim_park_fault(&p, SHIM_FAULT_SPURIOUS, SHIM_STAT_SPURIOUS);
			}
			goto out;
		}
	}
	r = real_syscall(nr, a1, a2, a3, a4, a5, a6);
out:
	SHIM_PARK_FINISH(&p, SHIM_KIND_FUTEX, a1, op, r < 0 ? -(long long)errno : r);
	return r;
}

static long futex_call(uintptr_t frame, long nr, long a1, long a2, long a3,
		       long a4, long a5, long a6)
{
	unsigned tflags, op;
	bool spurious_ok;
	long r;

	if (nr == SYS_futex_waitv) {
		/* (waiters, nr_futexes, flags, abs timeout, clockid) */
		op = SHIM_FUTEX_WAITV | ((unsigned)a2 & 0xff) | SHIM_OP_ABS |
		     (a5 == CLOCK_REALTIME ? SHIM_OP_REALTIME : 0);
		return futex_park(frame, nr, a1, a2, a3, a4, a5, a6, op, false);
	}
	switch (classify((int)a2, &tflags, &spurious_ok)) {
	case FUTEX_CLASS_WAIT:
		op = ((unsigned)a2 & 0xffffff) | tflags;
		return futex_park(frame, nr, a1, a2, a3, a4, a5, a6, op,
				  spurious_ok);
	case FUTEX_CLASS_WAKE:
		shim_count(SHIM_STAT_FUTEX_WAKE);
		r = real_syscall(nr, a1, a2, a3, a4, a5, a6);
		SHIM_PROBE_FUTEX_WAKE(a1, a2, a3, r < 0 ? -(long long)errno : r);
		return r;
	default:
		shim_count(SHIM_STAT_FUTEX_OTHER);
		return real_syscall(nr, a1, a2, a3, a4, a5, a6);
	}
}

/* Six argument registers whatever the number: what glibc's syscall()
 * itself reads (the sixth from the stack), and what the kernel takes. */
SHIM_EXPORT long syscall(long nr, ...)
{
	long a1, a2, a3, a4, a5, a6;
	va_list ap;

	va_start(ap, nr);
	a1 = va_arg(ap, long);
	a2 = va_arg(ap, long);
	a3 = va_arg(ap, long);
	a4 = va_arg(ap, long);
	a5 = va_arg(ap, long);
	a6 = va_arg(ap, long);
	va_end(ap);
	shim_ensure();
	if (shim_likely(nr != SYS_futex && nr != SYS_futex_waitv)) {
		/* The process (or, with exit, this thread) ends without
		 * running exit()'s destructors or the thread's: the tracer
		 * copies the rings now (ring_exit: all of them). */
		if (shim_unlikely(nr == SYS_exit_group || nr == SYS_exit))
			ss_ring_exit();
		return real_syscall(nr, a1, a2, a3, a4, a5, a6);
	}
	return futex_call(SHIM_FRAME(), nr, a1, a2, a3, a4, a5, a6);
}
