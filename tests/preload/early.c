/* SPDX-License-Identifier: MIT */
/*
 * libearly.so: a dependency of tests/preload/transparency whose
 * constructor parks and starts a thread that parks, all before main.  A
 * dependency's constructor may run before the preloaded shim's: the shim
 * must then initialise itself on first use.  transparency prints what
 * happened here (early_report()), the same with and without the shim.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct early {
	int futex_errno;	/* FUTEX_WAIT with a 1 ms timeout */
	int cond;		/* pthread_cond_timedwait, already expired */
	int epoll;		/* epoll_wait(1 ms) on an empty set */
	int name;		/* pthread_setname_np */
	int wake;		/* FUTEX_WAKE, nobody waiting */
	pthread_t thread;
	int started;
};

static struct early before_main;
static _Atomic unsigned thread_done;

static void *early_thread(void *arg)
{
	struct early *e = arg;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec past = { 0, 0 }, ms = { 0, 1000000 };
	struct epoll_event ev;
	unsigned word = 0;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &ms, NULL, 0) < 0)
		e->futex_errno = errno;
	pthread_mutex_lock(&m);
	e->cond = pthread_cond_timedwait(&c, &m, &past);
	pthread_mutex_unlock(&m);
	e->epoll = epoll_wait(ep, &ev, 1, 1);
	close(ep);
	e->name = pthread_setname_np(pthread_self(), "tp-early");
	thread_done = 1;
	/* Wakes the constructor's wait below. */
	syscall(SYS_futex, &thread_done, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return NULL;
}

__attribute__((constructor)) static void early_constructor(void)
{
	struct early *e = &before_main;

	e->wake = (int)syscall(SYS_futex, &e->wake, FUTEX_WAKE_PRIVATE, 1,
			       NULL, NULL, 0);
	e->started = pthread_create(&e->thread, NULL, early_thread, e) == 0;
	/* Park in the constructor until the thread is done. */
	while (e->started && !thread_done)
		syscall(SYS_futex, &thread_done, FUTEX_WAIT_PRIVATE, 0, NULL,
			NULL, 0);
}

/* The results, joined; for transparency's output. */
void early_report(char *buf, size_t len);
void early_report(char *buf, size_t len)
{
	struct early *e = &before_main;
	int joined = e->started && pthread_join(e->thread, NULL) == 0;

	snprintf(buf, len, "futex=%s cond=%s epoll=%d name=%d wake=%d joined=%d",
		 e->futex_errno ? strerrorname_np(e->futex_errno) : "0",
		 e->cond ? strerrorname_np(e->cond) : "0", e->epoll, e->name,
		 e->wake, joined);
}
