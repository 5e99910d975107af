/* SPDX-License-Identifier: MIT */
/*
 * The shim's life in a process: finding the real functions, reading the
 * environment, the call counters and writing them out at exit.
 *
 * Owns: the shim_real table, shim_init() (constructor, or the first
 * wrapper to run before it), STALLSCOPE_SHIM_STATS, fork.  Does not own:
 * any wrapper (epoll.c, futex.c, pthread.c, names.c) or the faults
 * (faults.c).
 *
 * Initialisation, in order:
 *  1. A wrapper that finds shim_ready clear calls shim_init(): so does the
 *     constructor.  Another library's constructor, or a thread it started,
 *     may get there first; two threads may run it at once.
 *  2. Every real function is resolved with dlsym(RTLD_NEXT): the next
 *     object's default definition — glibc's, or a sanitizer's interceptor
 *     that chains to it (TSan must see the condvar waits).  Idempotent: two
 *     threads store the same pointers.  If dlsym calls back into the shim
 *     (an allocator that parks), the inner call finds in_init set and
 *     returns at once; its wrapper falls back to the raw syscall.
 *  3. One thread (CAS on init_state) reads STALLSCOPE_FAULTS and
 *     STALLSCOPE_SHIM_STATS, registers the fork handler, fires `start`,
 *     then publishes shim_ready (release; pairs with shim_ensure()'s
 *     acquire).
 * Nothing here runs on a wrapper's path once shim_ready is set.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../bpf/record.h"
#include "shim.h"

/* The trace ABI repeats the probe codes: they must agree. */
_Static_assert(SS_SHIM_KIND_EPOLL == SHIM_KIND_EPOLL &&
		       SS_SHIM_KIND_FUTEX == SHIM_KIND_FUTEX &&
		       SS_SHIM_KIND_COND == SHIM_KIND_COND &&
		       SS_SHIM_KIND_SEM == SHIM_KIND_SEM,
	       "park kinds: record.h and shim_probes.h");
_Static_assert(SS_SHIM_OP_ABS == SHIM_OP_ABS &&
		       SS_SHIM_OP_REALTIME == SHIM_OP_REALTIME &&
		       SS_SHIM_FUTEX_WAITV == SHIM_FUTEX_WAITV,
	       "op flags: record.h and shim_probes.h");
_Static_assert(SS_SHIM_FAULT_SPURIOUS == SHIM_FAULT_SPURIOUS &&
		       SS_SHIM_FAULT_EINTR == SHIM_FAULT_EINTR &&
		       SS_SHIM_FAULT_DELAY == SHIM_FAULT_DELAY,
	       "fault flags: record.h and shim_probes.h");

struct shim_real shim_real;
int shim_ready;
SHIM_TLS uintptr_t shim_guard;
static SHIM_TLS int in_init;
static int init_state;	/* 0, 1: one thread is reading the environment, 2 */

int shim_stats_on;
uint64_t shim_stats[SHIM_NR_STATS];
static char stats_path[4096];
static const char *const stat_names[SHIM_NR_STATS] = {
	[SHIM_STAT_EPOLL] = "epoll",
	[SHIM_STAT_FUTEX_WAIT] = "futex_wait",
	[SHIM_STAT_FUTEX_WAKE] = "futex_wake",
	[SHIM_STAT_FUTEX_OTHER] = "futex_other",
	[SHIM_STAT_COND] = "cond",
	[SHIM_STAT_SEM] = "sem",
	[SHIM_STAT_NAME] = "name",
	[SHIM_STAT_NESTED] = "nested",
	[SHIM_STAT_SPURIOUS] = "spurious",
	[SHIM_STAT_EINTR] = "eintr",
	[SHIM_STAT_DELAY] = "delay",
};

long shim_syscall_errno(long nr, long a, long b, long c, long d, long e,
			long f)
{
	long r = shim_raw_syscall(nr, a, b, c, d, e, f);

	if ((unsigned long)r > -4096UL) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/*
 * The caller's timespec for the event ring (shim_probes.h), through
 * process_vm_readv on ourselves: a bad pointer fails with EFAULT there
 * instead of crashing the program.  Our pid is asked of the kernel each
 * time (a fork's child has its own); both are raw syscalls, errno kept.
 */
_Bool shim_timespec_read(const void *ts, long long *sec, long long *nsec)
{
	struct timespec t;
	struct iovec local = { &t, sizeof(t) }, remote = { (void *)ts, sizeof(t) };
	long pid = shim_raw_syscall(SYS_getpid, 0, 0, 0, 0, 0, 0);

	if (shim_raw_syscall(SYS_process_vm_readv, pid, (long)&local, 1,
			     (long)&remote, 1, 0) != (long)sizeof(t))
		return 0;
	*sec = t.tv_sec;
	*nsec = t.tv_nsec;
	return 1;
}

/*
 * The next definition of name.  glibc has two pthread_cond_wait and
 * _timedwait: dlsym gives the default (GLIBC_2.3.2) one, or an unversioned
 * interceptor in front of it; dlvsym would skip such an interceptor, so it
 * is only the fallback should dlsym ever give the 2002 compat version.
 */
static void *next_symbol(const char *name, int condvar)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (condvar && p && p == dlvsym(RTLD_NEXT, name, "GLIBC_2.2.5"))
		p = dlvsym(RTLD_NEXT, name, "GLIBC_2.3.2");
	return p;
}

#define RESOLVE(field, name, condvar)                                       \
	__atomic_store_n(&shim_real.field,                                  \
			 (__typeof__(shim_real.field))next_symbol(name, condvar), \
			 __ATOMIC_RELAXED)

static void resolve_all(void)
{
	RESOLVE(syscall, "syscall", 0);
	RESOLVE(epoll_wait, "epoll_wait", 0);
	RESOLVE(epoll_pwait, "epoll_pwait", 0);
	RESOLVE(epoll_pwait2, "epoll_pwait2", 0);
	/* The default (new) condvar; the GLIBC_2.2.5 compat versions are
	 * not interposed (preload.map). */
	RESOLVE(cond_wait, "pthread_cond_wait", 1);
	RESOLVE(cond_timedwait, "pthread_cond_timedwait", 1);
	RESOLVE(cond_clockwait, "pthread_cond_clockwait", 0);
	RESOLVE(sem_wait, "sem_wait", 0);
	RESOLVE(sem_timedwait, "sem_timedwait", 0);
	RESOLVE(sem_clockwait, "sem_clockwait", 0);
	RESOLVE(setname, "pthread_setname_np", 0);
	RESOLVE(prctl, "prctl", 0);
}

/* ---- counters ------------------------------------------------------------------ */

static char *put_str(char *p, char *end, const char *s)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

static char *put_u64(char *p, char *end, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && p < end)
		*p++ = tmp[--n];
	return p;
}

/* In a forked child the counts start again: each process writes its own
 * line. */
static void stats_reset_in_child(void)
{
	for (int i = 0; i < SHIM_NR_STATS; i++)
		__atomic_store_n(&shim_stats[i], 0, __ATOMIC_RELAXED);
}

static void stats_init(const char *path)
{
	size_t n;

	if (!path || !*path)
		return;
	n = strlen(path);
	if (n >= sizeof(stats_path)) {
		static const char msg[] = "stallscope-preload: STALLSCOPE_SHIM_STATS: path too long, no counts written\n";
		ssize_t w = write(2, msg, sizeof(msg) - 1);
		(void)w;
		return;
	}
	memcpy(stats_path, path, n + 1);
	pthread_atfork(NULL, NULL, stats_reset_in_child);
	__atomic_store_n(&shim_stats_on, 1, __ATOMIC_RELAXED);
}

/* One line, appended with a single write: "pid=N epoll=N ... delay=N". */
__attribute__((destructor)) static void stats_write(void)
{
	char line[512], *p = line, *end = line + sizeof(line) - 1;
	int saved = errno, fd;

	if (!__atomic_load_n(&shim_stats_on, __ATOMIC_RELAXED))
		return;
	p = put_str(p, end, "pid=");
	p = put_u64(p, end, (uint64_t)getpid());
	for (int i = 0; i < SHIM_NR_STATS; i++) {
		p = put_str(p, end, " ");
		p = put_str(p, end, stat_names[i]);
		p = put_str(p, end, "=");
		p = put_u64(p, end,
			    __atomic_load_n(&shim_stats[i], __ATOMIC_RELAXED));
	}
	*p++ = '\n';
	fd = open(stats_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		ssize_t w = write(fd, line, (size_t)(p - line));
		(void)w;
		close(fd);
	}
	errno = saved;
}

/* ---- init -------------------------------------------------------------------------- */

void shim_init(void)
{
	int saved, expect = 0;

	if (in_init)
		return;
	in_init = 1;
	saved = errno;
	resolve_all();
	if (__atomic_compare_exchange_n(&init_state, &expect, 1, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		shim_faults_init(getenv("STALLSCOPE_FAULTS"));
		stats_init(getenv("STALLSCOPE_SHIM_STATS"));
		SHIM_PROBE_START(shim_faults.spurious_ppm, shim_faults.eintr_ppm,
				 shim_faults.delay_us, shim_faults.seed);
		__atomic_store_n(&init_state, 2, __ATOMIC_RELAXED);
		__atomic_store_n(&shim_ready, 1, __ATOMIC_RELEASE);
	}
	errno = saved;
	in_init = 0;
}

/* The process is exiting (exit(), or a return from main): the tracer
 * copies every ring of it now (ring_exit), as it no longer hooks the
 * exit_group syscall.  The preloaded shim is the first library made
 * ready, so its destructors run after the program's and the other
 * libraries': the rings hold whatever they emitted too. */
__attribute__((destructor)) static void ring_exit_at_exit(void)
{
	ss_ring_exit();
}

__attribute__((constructor)) static void shim_constructor(void)
{
	shim_init();
}
