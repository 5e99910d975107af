/* SPDX-License-Identifier: MIT */
/*
 * What the preload shim adds to each call it interposes, in ns: the calls
 * on paths that never block, timed back to back on one thread.
 * bench/preload_cost.sh runs this plain, under LD_PRELOAD (probes not
 * attached) and under `stallscope record` (probes attached) and prints the
 * differences.  A benchmark, not a test.
 *
 *   syscall_getppid     syscall(SYS_getppid): a number the shim passes
 *                       straight through (the variadic forwarding)
 *   futex_wake          FUTEX_WAKE, nobody waiting: one futex_wake probe
 *   futex_wait_eagain   FUTEX_WAIT on a word that differs: a park pair
 *   epoll_wait_0        epoll_wait with timeout 0 on an empty set: a park
 *                       pair
 *   sem_wait_fast       sem_post then sem_wait: a park pair with no
 *                       syscall at all (sem_post is not interposed)
 *   cond_timedwait_past pthread_cond_timedwait, deadline passed: a park
 *                       pair (the kernel's expired-timer path makes it
 *                       ~10 us: run 1/20 as often)
 *
 * Each prints the median of --runs runs of --iters calls (default 7 x
 * 100000), after a warm-up run.  --list prints each call's name and its
 * iteration divisor (for instruction counts: bench/preload_cost.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static unsigned long iters = 100000;
static unsigned runs = 7;

static uint32_t word;
static int ep;
static sem_t sem;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static const struct timespec past = { 1, 0 };

static void op_getppid(void)
{
	syscall(SYS_getppid);
}

static void op_futex_wake(void)
{
	syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void op_futex_wait_eagain(void)
{
	syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
}

static void op_epoll_wait_0(void)
{
	struct epoll_event ev;
	epoll_wait(ep, &ev, 1, 0);
}

static void op_sem_wait_fast(void)
{
	sem_post(&sem);
	sem_wait(&sem);
}

static void op_cond_timedwait_past(void)
{
	pthread_cond_timedwait(&cond, &mutex, &past);
}

static const struct {
	const char *name;
	void (*fn)(void);
	unsigned divide;	/* iterations: --iters / divide */
} ops[] = {
	{ "syscall_getppid", op_getppid, 1 },
	{ "futex_wake", op_futex_wake, 1 },
	{ "futex_wait_eagain", op_futex_wait_eagain, 1 },
	{ "epoll_wait_0", op_epoll_wait_0, 1 },
	{ "sem_wait_fast", op_sem_wait_fast, 1 },
	{ "cond_timedwait_past", op_cond_timedwait_past, 20 },
};

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double time_op(void (*fn)(void), unsigned long n)
{
	double ns[64];

	if (!n)
		n = 1;
	for (unsigned long i = 0; i < n; i++)	/* warm-up */
		fn();
	for (unsigned r = 0; r < runs; r++) {
		double t0 = now_ns();
		for (unsigned long i = 0; i < n; i++)
			fn();
		ns[r] = (now_ns() - t0) / (double)n;
	}
	qsort(ns, runs, sizeof(ns[0]), cmp_double);
	return ns[runs / 2];
}

int main(int argc, char **argv)
{
	const char *filter = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--iters") && i + 1 < argc)
			iters = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--filter") && i + 1 < argc)
			filter = argv[++i];
		else if (!strcmp(argv[i], "--list")) {
			for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
				printf("%s %u\n", ops[k].name, ops[k].divide);
			return 0;
		} else {
			fprintf(stderr, "usage: preload-cost [--iters N] [--runs N] [--filter NAME] [--list]\n");
			return 2;
		}
	}
	if (!iters || !runs || runs > 64) {
		fprintf(stderr, "preload-cost: --iters > 0, 1 <= --runs <= 64\n");
		return 2;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	sem_init(&sem, 0, 0);
	pthread_mutex_lock(&mutex);
	printf("# preload-cost: median of %u runs x %lu calls, ns per call\n",
	       runs, iters);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (filter && !strstr(ops[i].name, filter))
			continue;
		printf("%-20s %8.1f\n", ops[i].name,
		       time_op(ops[i].fn, iters / ops[i].divide));
		fflush(stdout);
	}
	pthread_mutex_unlock(&mutex);
	return 0;
}
