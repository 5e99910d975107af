/* SPDX-License-Identifier: MIT */
/*
 * The pthread condvar waits and the POSIX semaphore waits: where a C
 * thread pool parks.  Each call is one park of kind cond (object: the
 * pthread_cond_t) or sem (object: the sem_t).
 *
 * Owns: pthread_cond_wait / timedwait / clockwait, sem_wait / timedwait /
 * clockwait, and the condvar's spurious-wake fault.  Does not own: the
 * glibc-internal futexes under them (the kernel tracepoints see those).
 *
 * Versions: glibc has two pthread_cond_wait and pthread_cond_timedwait,
 * the default GLIBC_2.3.2 one and a GLIBC_2.2.5 compat one for binaries of
 * 2002.  preload.map gives ours the 2.3.2 version, so the compat
 * references still reach glibc's compat code untouched.
 *
 * The spurious-wake fault (POSIX: "spurious wakeups from the
 * pthread_cond_timedwait() or pthread_cond_wait() functions may occur") is
 * the real pthread_cond_clockwait with an already-expired deadline: the
 * mutex is released and taken again, a cancellation request is acted on,
 * a signal that arrives meanwhile is not lost (glibc hands it on), errors
 * (EPERM, EINVAL) come back as they would; ETIMEDOUT becomes 0.  It is
 * only used when the caller's own arguments are valid, so EINVAL for a bad
 * deadline or clock still comes from the real call.  Semaphores get no
 * early return: sem_wait returning 0 means it took a token.
 */
#define _GNU_SOURCE
#include <errno.h>

#include "shim.h"

#define NSEC_PER_SEC 1000000000L

/* glibc's own first checks on a deadline (it reads *abstime too). */
static bool deadline_valid(const struct timespec *abstime)
{
	return abstime && abstime->tv_nsec >= 0 && abstime->tv_nsec < NSEC_PER_SEC;
}

/*
 * The clock a pthread_cond_timedwait deadline is on: the condattr's,
 * which glibc (>= 2.25, nptl/pthread_cond_common.c) keeps in bit 1 of
 * __wrefs.  Read in glibc's order: the deadline first, then the condvar.
 */
static unsigned cond_clock(pthread_cond_t *cond, const struct timespec *abstime)
{
	if (!deadline_valid(abstime))
		return 0;
	return (__atomic_load_n(&cond->__data.__wrefs, __ATOMIC_RELAXED) & 2)
		       ? 0 : SHIM_OP_REALTIME;
}

static int cond_spurious(struct shim_park *p, pthread_cond_t *cond,
			 pthread_mutex_t *mutex)
{
	static const struct timespec expired;
	__typeof__(shim_real.cond_clockwait) f = SHIM_REAL(cond_clockwait);
	int r = f(cond, mutex, CLOCK_MONOTONIC, &expired);

	if (r == ETIMEDOUT) {
		r = 0;
		shim_park_fault(p, SHIM_FAULT_SPURIOUS, SHIM_STAT_SPURIOUS);
	}
	return r;
}

/* One condvar park: `which` of SHIM_COND_*; clock for clockwait. */
static inline __attribute__((always_inline)) int
cond_park(unsigned which, uintptr_t frame, pthread_cond_t *cond,
	  pthread_mutex_t *mutex, clockid_t clock,
	  const struct timespec *abstime)
{
	__typeof__(shim_real.cond_wait) wait = SHIM_REAL(cond_wait);
	__typeof__(shim_real.cond_timedwait) timed = SHIM_REAL(cond_timedwait);
	__typeof__(shim_real.cond_clockwait) clocked = SHIM_REAL(cond_clockwait);
	struct shim_park p;
	unsigned op = which;
	bool valid = true;
	int r;

	if (which == SHIM_COND_WAIT ? !wait :
	    which == SHIM_COND_TIMEDWAIT ? !timed : !clocked)
		return ENOSYS;	/* no such function in this libc */
	if (!shim_park_begin(&p, frame, SHIM_STAT_COND, true))
		goto real;

	if (which == SHIM_COND_TIMEDWAIT) {
		op |= SHIM_OP_ABS | cond_clock(cond, abstime);
		valid = deadline_valid(abstime);
	} else if (which == SHIM_COND_CLOCKWAIT) {
		op |= SHIM_OP_ABS | (clock == CLOCK_REALTIME ? SHIM_OP_REALTIME : 0);
		valid = deadline_valid(abstime) &&
			(clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC);
	}
	if (which != SHIM_COND_WAIT && abstime)
		SHIM_PROBE_PARK_ENTER_TS(SHIM_KIND_COND, cond, op, abstime);
	else
		SHIM_PROBE_PARK_ENTER(SHIM_KIND_COND, cond, op, -1, 0);

	if (shim_unlikely(p.faults)) {
		shim_park_delay_before(&p);
		if (valid && clocked && shim_fault_spurious()) {
			r = cond_spurious(&p, cond, mutex);
			goto out;
		}
	}
	if (which == SHIM_COND_WAIT)
		r = wait(cond, mutex);
	else if (which == SHIM_COND_TIMEDWAIT)
		r = timed(cond, mutex, abstime);
	else
		r = clocked(cond, mutex, clock, abstime);
out:
	SHIM_PARK_FINISH(&p, SHIM_KIND_COND, cond, op, -(long long)r);
	return r;
real:
	if (which == SHIM_COND_WAIT)
		return wait(cond, mutex);
	if (which == SHIM_COND_TIMEDWAIT)
		return timed(cond, mutex, abstime);
	return clocked(cond, mutex, clock, abstime);
}

SHIM_EXPORT int pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex)
{
	shim_ensure();
	return cond_park(SHIM_COND_WAIT, SHIM_FRAME(), cond, mutex, 0, NULL);
}

SHIM_EXPORT int pthread_cond_timedwait(pthread_cond_t *cond,
				       pthread_mutex_t *mutex,
				       const struct timespec *abstime)
{
	shim_ensure();
	return cond_park(SHIM_COND_TIMEDWAIT, SHIM_FRAME(), cond, mutex, 0,
			 abstime);
}

SHIM_EXPORT int pthread_cond_clockwait(pthread_cond_t *cond,
				       pthread_mutex_t *mutex, clockid_t clock,
				       const struct timespec *abstime)
{
	shim_ensure();
	return cond_park(SHIM_COND_CLOCKWAIT, SHIM_FRAME(), cond, mutex, clock,
			 abstime);
}

/* ---- semaphores ---------------------------------------------------------------------- */

static inline __attribute__((always_inline)) int
sem_park(unsigned which, uintptr_t frame, sem_t *sem,
	 clockid_t clock, const struct timespec *abstime)
{
	__typeof__(shim_real.sem_wait) wait = SHIM_REAL(sem_wait);
	__typeof__(shim_real.sem_timedwait) timed = SHIM_REAL(sem_timedwait);
	__typeof__(shim_real.sem_clockwait) clocked = SHIM_REAL(sem_clockwait);
	struct shim_park p;
	unsigned op = which;
	int r;

	if (which == SHIM_SEM_WAIT ? !wait :
	    which == SHIM_SEM_TIMEDWAIT ? !timed : !clocked) {
		errno = ENOSYS;	/* no such function in this libc */
		return -1;
	}
	if (!shim_park_begin(&p, frame, SHIM_STAT_SEM, true))
		goto real;
	if (which == SHIM_SEM_TIMEDWAIT)
		op |= SHIM_OP_ABS | SHIM_OP_REALTIME;
	else if (which == SHIM_SEM_CLOCKWAIT)
		op |= SHIM_OP_ABS | (clock == CLOCK_REALTIME ? SHIM_OP_REALTIME : 0);
	if (which != SHIM_SEM_WAIT && abstime)
		SHIM_PROBE_PARK_ENTER_TS(SHIM_KIND_SEM, sem, op, abstime);
	else
		SHIM_PROBE_PARK_ENTER(SHIM_KIND_SEM, sem, op, -1, 0);

	if (shim_unlikely(p.faults))
		shim_park_delay_before(&p);
	if (which == SHIM_SEM_WAIT)
		r = wait(sem);
	else if (which == SHIM_SEM_TIMEDWAIT)
		r = timed(sem, abstime);
	else
		r = clocked(sem, clock, abstime);
	SHIM_PARK_FINISH(&p, SHIM_KIND_SEM, sem, op, r < 0 ? -(long long)errno : r);
	return r;
real:
	if (which == SHIM_SEM_WAIT)
		return wait(sem);
	if (which == SHIM_SEM_TIMEDWAIT)
		return timed(sem, abstime);
	return clocked(sem, clock, abstime);
}

SHIM_EXPORT int sem_wait(sem_t *sem)
{
	shim_ensure();
	return sem_park(SHIM_SEM_WAIT, SHIM_FRAME(), sem, 0, NULL);
}

SHIM_EXPORT int sem_timedwait(sem_t *sem, const struct timespec *abstime)
{
	shim_ensure();
	return sem_park(SHIM_SEM_TIMEDWAIT, SHIM_FRAME(), sem, 0, abstime);
}

SHIM_EXPORT int sem_clockwait(sem_t *sem, clockid_t clock,
			      const struct timespec *abstime)
{
	shim_ensure();
	return sem_park(SHIM_SEM_CLOCKWAIT, SHIM_FRAME(), sem, clock, abstime);
}
