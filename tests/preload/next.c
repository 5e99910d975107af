/* SPDX-License-Identifier: MIT */
/*
 * libnext.so: an interposer placed after the shim in LD_PRELOAD, as a
 * sanitizer runtime's interceptors are: unversioned definitions of some of
 * the shim's calls that count and chain on with dlsym(RTLD_NEXT).  The
 * shim must call these (the next definition), not glibc's directly, or
 * ThreadSanitizer would miss the waits.  tests/scenario/preload.sh reads
 * the counts, written at exit to $NEXT_COUNTS.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static unsigned long n_cond, n_sem, n_epoll, n_syscall;

#define NEXT(fn) ((__typeof__(&fn))dlsym(RTLD_NEXT, #fn))

int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	__atomic_fetch_add(&n_cond, 1, __ATOMIC_RELAXED);
	return NEXT(pthread_cond_wait)(c, m);
}

int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
			   const struct timespec *t)
{
	__atomic_fetch_add(&n_cond, 1, __ATOMIC_RELAXED);
	return NEXT(pthread_cond_timedwait)(c, m, t);
}

int sem_wait(sem_t *s)
{
	__atomic_fetch_add(&n_sem, 1, __ATOMIC_RELAXED);
	return NEXT(sem_wait)(s);
}

int epoll_wait(int e, struct epoll_event *ev, int n, int t)
{
	__atomic_fetch_add(&n_epoll, 1, __ATOMIC_RELAXED);
	return NEXT(epoll_wait)(e, ev, n, t);
}

long syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	__atomic_fetch_add(&n_syscall, 1, __ATOMIC_RELAXED);
	return NEXT(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

__attribute__((destructor)) static void next_counts(void)
{
	const char *path = getenv("NEXT_COUNTS");
	char line[128];
	int fd, n;

	if (!path)
		return;
	n = snprintf(line, sizeof(line), "cond=%lu sem=%lu epoll=%lu syscall=%lu\n",
		     n_cond, n_sem, n_epoll, n_syscall);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, line, (size_t)n) < 0)
			n = 0;
		close(fd);
	}
}
