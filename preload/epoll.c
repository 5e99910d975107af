/* SPDX-License-Identifier: MIT */
/*
 * epoll_wait, epoll_pwait, epoll_pwait2: where an event loop (Tokio's mio,
 * wsrt's I/O driver) parks.  Each call is one park of kind epoll, object
 * the epoll fd; park_exit's result is the number of events or -errno.
 *
 * Owns: the three wrappers and the EINTR fault.  Does not own: the park
 * bookkeeping (shim.h) or the fault decisions (faults.c).
 *
 * The EINTR fault, on a call that may block (timeout not 0): the real call
 * runs with a zero timeout first — with the caller's signal mask, so a
 * signal that mask lets in still interrupts it for real.  Events found
 * then are returned as they are; none found, the call fails with EINTR,
 * as if a signal had arrived during the wait.  The caller's timespec is
 * never read by the shim unless faults are on, and then only after the
 * kernel has accepted it (EBADF from a probe call on fd -1): a bad
 * pointer still gets EFAULT, never a crash.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/syscall.h>

#include "shim.h"

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif
#define KERNEL_SIGSET_BYTES 8	/* _NSIG / 8 on x86-64, what glibc passes */

static int real_epoll(unsigned which, int epfd, struct epoll_event *ev,
		      int max, int ms, const struct timespec *ts,
		      const sigset_t *mask)
{
	switch (which) {
	case SHIM_EPOLL_WAIT: {
		__typeof__(shim_real.epoll_wait) f = SHIM_REAL(epoll_wait);
		if (f)
			return f(epfd, ev, max, ms);
		return (int)shim_syscall_errno(SYS_epoll_wait, epfd, (long)ev,
					       max, ms, 0, 0);
	}
	case SHIM_EPOLL_PWAIT: {
		__typeof__(shim_real.epoll_pwait) f = SHIM_REAL(epoll_pwait);
		if (f)
			return f(epfd, ev, max, ms, mask);
		return (int)shim_syscall_errno(SYS_epoll_pwait, epfd, (long)ev,
					       max, ms, (long)mask,
					       KERNEL_SIGSET_BYTES);
	}
	default: {
		__typeof__(shim_real.epoll_pwait2) f = SHIM_REAL(epoll_pwait2);
		if (f)
			return f(epfd, ev, max, ts, mask);
		return (int)shim_syscall_errno(SYS_epoll_pwait2, epfd, (long)ev,
					       max, (long)ts, (long)mask,
					       KERNEL_SIGSET_BYTES);
	}
	}
}

/* Whether an epoll_pwait2 timeout may block: not {0, 0}.  Reads *ts only
 * once the kernel has accepted it: on fd -1 it checks the timespec first
 * (EFAULT, EINVAL) and the fd after (EBADF). */
static bool pwait2_may_block(const struct timespec *ts)
{
	struct epoll_event dummy;
	long r;

	if (!ts)
		return true;
	r = shim_raw_syscall(SYS_epoll_pwait2, -1, (long)&dummy, 1, (long)ts,
			     0, KERNEL_SIGSET_BYTES);
	if (r != -EBADF)
		return false;	/* the real call fails the same way */
	return ts->tv_sec || ts->tv_nsec;
}

static inline __attribute__((always_inline)) int
epoll_park(unsigned which, uintptr_t frame, int epfd,
	   struct epoll_event *ev, int max, int ms,
	   const struct timespec *ts, const sigset_t *mask)
{
	static const struct timespec zero;
	struct shim_park p;
	bool blocking;
	int n;

	shim_ensure();
	if (which != SHIM_EPOLL_PWAIT2)
		blocking = ms != 0;
	else	/* only faults need to know */
		blocking = !shim_faults.on || pwait2_may_block(ts);
	if (!shim_park_begin(&p, frame, SHIM_STAT_EPOLL, blocking))
		return real_epoll(which, epfd, ev, max, ms, ts, mask);

	if (which != SHIM_EPOLL_PWAIT2)
		SHIM_PROBE_PARK_ENTER(SHIM_KIND_EPOLL, epfd, which,
				      ms < 0 ? -1 : 0,
				      ms < 0 ? 0 : ms * 1000000LL);
	else if (ts)
		SHIM_PROBE_PARK_ENTER_TS(SHIM_KIND_EPOLL, epfd, which, ts);
	else
		SHIM_PROBE_PARK_ENTER(SHIM_KIND_EPOLL, epfd, which, -1, 0);

	if (shim_unlikely(p.faults)) {
		shim_park_delay_before(&p);
		if (shim_fault_eintr()) {
			n = real_epoll(which, epfd, ev, max, 0, &zero, mask);
			if (n == 0) {
				errno = EINTR;
				n = -1;
				shim_park_fault(&p, SHIM_FAULT_EINTR, SHIM_STAT_EINTR);
			}
			goto out;
		}
	}
	n = real_epoll(which, epfd, ev, max, ms, ts, mask);
out:
	SHIM_PARK_FINISH(&p, SHIM_KIND_EPOLL, epfd, which, n < 0 ? -(long long)errno : n);
	return n;
}

SHIM_EXPORT int epoll_wait(int epfd, struct epoll_event *events,
			   int maxevents, int timeout)
{
	return epoll_park(SHIM_EPOLL_WAIT, SHIM_FRAME(), epfd, events,
			  maxevents, timeout, NULL, NULL);
}

SHIM_EXPORT int epoll_pwait(int epfd, struct epoll_event *events,
			    int maxevents, int timeout, const sigset_t *sigmask)
{
	return epoll_park(SHIM_EPOLL_PWAIT, SHIM_FRAME(), epfd, events,
			  maxevents, timeout, NULL, sigmask);
}

SHIM_EXPORT int epoll_pwait2(int epfd, struct epoll_event *events,
			     int maxevents, const struct timespec *timeout,
			     const sigset_t *sigmask)
{
	return epoll_park(SHIM_EPOLL_PWAIT2, SHIM_FRAME(), epfd, events,
			  maxevents, 0, timeout, sigmask);
}
