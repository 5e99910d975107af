/* SPDX-License-Identifier: MIT */
/*
 * The preload shim's internals, shared by its files (prefix shim_): the
 * table of real functions, the per-thread guard, fault decisions and the
 * call counters.  Nothing here is exported: the library is built with
 * -fvisibility=hidden and only the interposed symbols (SHIM_EXPORT) leave
 * it.
 *
 * Rules every wrapper follows (docs/preload.md says why):
 *  - the real function is resolved with dlsym(RTLD_NEXT) by shim_init(),
 *    run by the constructor or by the first wrapper called before it;
 *  - no allocation, locking or logging between entry and return; the
 *    shim's own sleeps are raw syscalls (never a cancellation point, never
 *    errno);
 *  - return value and errno are the real call's, except where a fault was
 *    asked for, and then only ones the real call may itself return.
 */
#ifndef SHIM_H
#define SHIM_H

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <time.h>

#include "shim_probes.h"

#define SHIM_EXPORT __attribute__((visibility("default")))
#define SHIM_TLS __thread __attribute__((tls_model("initial-exec")))
#define shim_likely(x) __builtin_expect(!!(x), 1)
#define shim_unlikely(x) __builtin_expect(!!(x), 0)

/* ---- the real functions (init.c) ---------------------------------------- */

/* Written by shim_init() (possibly by two threads at once, with the same
 * values), read with SHIM_REAL(): relaxed atomics, plain moves on x86. */
struct shim_real {
	long (*syscall)(long, ...);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int,
			   const sigset_t *);
	int (*epoll_pwait2)(int, struct epoll_event *, int,
			    const struct timespec *, const sigset_t *);
	int (*cond_wait)(pthread_cond_t *, pthread_mutex_t *);
	int (*cond_timedwait)(pthread_cond_t *, pthread_mutex_t *,
			      const struct timespec *);
	int (*cond_clockwait)(pthread_cond_t *, pthread_mutex_t *, clockid_t,
			      const struct timespec *);
	int (*sem_wait)(sem_t *);
	int (*sem_timedwait)(sem_t *, const struct timespec *);
	int (*sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
	int (*setname)(pthread_t, const char *);
	int (*prctl)(int, ...);
};

extern struct shim_real shim_real;
extern int shim_ready;	/* 1 once shim_init() has completed (acquire) */

#define SHIM_REAL(fn) __atomic_load_n(&shim_real.fn, __ATOMIC_RELAXED)

/* Resolves the real functions, reads the environment; idempotent.  A call
 * that recurses into the shim from inside it (dlsym calling back) returns
 * at once, and its caller falls back to the raw syscall. */
void shim_init(void);

static inline void shim_ensure(void)
{
	if (shim_unlikely(!__atomic_load_n(&shim_ready, __ATOMIC_ACQUIRE)))
		shim_init();
}

/* A raw x86-64 syscall: -errno on failure, errno untouched. */
static inline long shim_raw_syscall(long nr, long a, long b, long c, long d,
				    long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ __volatile__("syscall"
			     : "=a"(ret)
			     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10),
			       "r"(r8), "r"(r9)
			     : "rcx", "r11", "memory");
	return ret;
}

/* The same with libc's convention: -1 and errno. */
long shim_syscall_errno(long nr, long a, long b, long c, long d, long e,
			long f);

/* ---- counters (init.c): STALLSCOPE_SHIM_STATS ---------------------------- */

enum shim_stat {
	SHIM_STAT_EPOLL,	/* epoll_wait / pwait / pwait2 calls */
	SHIM_STAT_FUTEX_WAIT,	/* futex wait-type ops, futex_waitv */
	SHIM_STAT_FUTEX_WAKE,	/* futex wake-type ops */
	SHIM_STAT_FUTEX_OTHER,	/* other futex ops */
	SHIM_STAT_COND,		/* pthread_cond_*wait */
	SHIM_STAT_SEM,		/* sem_*wait */
	SHIM_STAT_NAME,		/* pthread_setname_np, prctl(PR_SET_NAME) */
	SHIM_STAT_NESTED,	/* parks inside a park (signal handler): not probed */
	SHIM_STAT_SPURIOUS,	/* injected faults, by kind */
	SHIM_STAT_EINTR,
	SHIM_STAT_DELAY,
	SHIM_NR_STATS
};

extern int shim_stats_on;
extern uint64_t shim_stats[SHIM_NR_STATS];

static inline void shim_count(enum shim_stat s)
{
	if (shim_unlikely(shim_stats_on))
		__atomic_fetch_add(&shim_stats[s], 1, __ATOMIC_RELAXED);
}

/* ---- faults (faults.c): STALLSCOPE_FAULTS ------------------------------------ */

struct shim_faults {
	int on;			/* any fault configured */
	uint32_t spurious_ppm;	/* per million futex/cond waits */
	uint32_t eintr_ppm;	/* per million blocking epoll waits */
	uint32_t delay_us;	/* max random delay per park */
	uint64_t seed;
};

extern struct shim_faults shim_faults;

/* Parses spec (NULL or "" = none) into shim_faults; complains once on
 * stderr about what it ignores. */
void shim_faults_init(const char *spec);
bool shim_fault_spurious(void);
bool shim_fault_eintr(void);
/* Draws this park's delay: returns its µs (0: none) and sets *after if it
 * belongs after the wait rather than before. */
unsigned shim_fault_delay(bool *after);
/* Sleeps us µs (raw clock_nanosleep: no errno, no cancellation point). */
void shim_sleep_us(unsigned us);

/* ---- one park ------------------------------------------------------------------------------ */

/*
 * The recursion guard.  shim_guard is the frame address of the outermost
 * wrapper running on this thread (0: none).  A park called from inside a
 * park (a signal handler that parks, another interposer that calls back
 * into us) runs deeper on the stack, below that frame: it is passed
 * straight through, unprobed, so enter/exit pairs never nest.  A guard
 * left behind by a longjmp out of a handler is reclaimed by the next call
 * made from the same depth or shallower.  A thread cancelled inside a park
 * never returns to clear it: the thread ends there.
 */
extern SHIM_TLS uintptr_t shim_guard;

struct shim_park {
	unsigned flags;		/* SHIM_FAULT_* injected so far */
	unsigned delay_after;	/* µs to sleep after the wait */
	bool faults;		/* this park may get faults */
};

#define SHIM_FRAME() ((uintptr_t)__builtin_frame_address(0))

/* Starts a park: false if nested (call the real function and return).
 * blocking: the call may block (a zero timeout never gets faults). */
static inline bool shim_park_begin(struct shim_park *p, uintptr_t frame,
				   enum shim_stat stat, bool blocking)
{
	uintptr_t g = shim_guard;

	if (shim_unlikely(g && frame < g)) {
		shim_count(SHIM_STAT_NESTED);
		return false;
	}
	shim_guard = frame;
	shim_count(stat);
	p->flags = 0;
	p->delay_after = 0;
	p->faults = blocking && shim_unlikely(shim_faults.on);
	return true;
}

/* A fault injected into this park: in its park_exit's flags, and counted. */
static inline void shim_park_fault(struct shim_park *p, unsigned flag, enum shim_stat stat)
{
	p->flags |= flag;
	shim_count(stat);
}

/* The delay before the wait, if this park drew one (faults only). */
static inline void shim_park_delay_before(struct shim_park *p)
{
	bool after;
	unsigned us;

	if (!p->faults || !shim_faults.delay_us)
		return;
	us = shim_fault_delay(&after);
	if (!us)
		return;
	shim_park_fault(p, SHIM_FAULT_DELAY, SHIM_STAT_DELAY);
	if (after)
		p->delay_after = us;
	else
		shim_sleep_us(us);
}

/* After the wait returned: the delay after it, if drawn. */
static inline void shim_park_delay_after(struct shim_park *p)
{
	if (shim_unlikely(p->delay_after))
		shim_sleep_us(p->delay_after);
}

static inline void shim_park_end(struct shim_park *p)
{
	(void)p;
	shim_guard = 0;
}

/* Back from the wait: the delay after it, if drawn; its park_exit
 * (result: -errno or what the call returned, read after the delay); the
 * park's end. */
#define SHIM_PARK_FINISH(p, kind, object, op, result)                        \
	do {                                                                 \
		shim_park_delay_after(p);                                    \
		SHIM_PROBE_PARK_EXIT(kind, object, op, result, (p)->flags);  \
		shim_park_end(p);                                            \
	} while (0)

#endif /* SHIM_H */
