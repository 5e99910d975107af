/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD helper for tests/scenario/record.sh: starts one thread that
 * sleeps forever in epoll_wait on an epoll instance of its own with
 * nothing in it — as a second runtime's idle I/O driver would.  A thread
 * asleep in another epoll must not hide readiness on the runtime's own
 * sockets (the recorder asks the socket's epoll instance whether anyone
 * waits on it).  The thread dies with the process.
 */
#include <pthread.h>
#include <sys/epoll.h>
#include <unistd.h>

static void *idle(void *arg)
{
	struct epoll_event ev;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)arg;
	if (ep < 0)
		return NULL;
	for (;;)
		epoll_wait(ep, &ev, 1, -1);
	return NULL;
}

__attribute__((constructor)) static void start(void)
{
	pthread_t t;

	if (!pthread_create(&t, NULL, idle, NULL))
		pthread_detach(t);
}
