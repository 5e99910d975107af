/* SPDX-License-Identifier: MIT */
/*
 * ready-rule: one epoll instance and eight loopback TCP connections, put
 * through the cases of the recorder's rule for readiness worth a record
 * (bpf/syscalls.bpf.h, sock_ready_first), one socket per case
 * (tests/scenario/record.sh records it and checks which were recorded):
 *
 *   A  data on s0 while another item waits on the ready list, unharvested
 *      (s1, registered while writable, as every new connection is):
 *      the first readiness since the last harvest — recorded
 *   B  data on s2 while A's is still on the ready list: not the first
 *   C  data on s3 after a harvest emptied the list — recorded
 *   D  data on s4 while only a level-triggered item (an eventfd, back on
 *      the list after the harvest that reported it) is there — recorded
 *   E  data on s5 while another thread sleeps in epoll_wait on the
 *      instance: it harvests at once — not recorded
 *   F  data on s7 while the item recorded last is back on the list but
 *      its readiness was taken: s6, level-triggered, recorded, harvested
 *      (the kernel puts it back, still readable) and then read — recorded
 *   G  data on s8, which a second epoll instance (never slept in: not
 *      the target's as far as the tracer knows) polls, then, after the
 *      instance takes s8 up too, again: the first not recorded, the
 *      second recorded (what the tracer kept of s8 is looked at anew
 *      when its wait queue gains an entry at its head)
 *   H  the same with s9 taken up with EPOLLEXCLUSIVE (its entry joins
 *      the wait queue's tail) — recorded once
 *
 * Before A, the main thread sleeps in epoll_wait on the instance for
 * 200 ms with nothing ready: where the tracer learns the instance.
 * Prints "ready-rule: A=<inode> B=... C=... D=... E=... F=... G=... H=..."
 * (the sockets' inode numbers, as sk_data_ready records carry them) and
 * "ready-rule: taken-up-at=<ns>" (CLOCK_MONOTONIC, the traces' clock,
 * after s8 and s9 joined the instance: G's and H's records come after
 * it); exits 0, or 1 with one line on a failed call.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NCONN 10

static int ep;

static void die(const char *what)
{
	fprintf(stderr, "ready-rule: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void add_to(int epfd, int fd, unsigned events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
		die("epoll_ctl");
}

static void add(int fd, unsigned events)
{
	add_to(ep, fd, events);
}

/* Harvests what is ready without waiting; returns how many. */
static int harvest(void)
{
	struct epoll_event evs[16];
	int n = epoll_wait(ep, evs, 16, 0);

	if (n < 0)
		die("epoll_wait");
	return n;
}

static void send_byte(int fd)
{
	if (write(fd, "x", 1) != 1)
		die("write");
}

static unsigned long inode(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		die("fstat");
	return (unsigned long)st.st_ino;
}

static void *waiter(void *arg)
{
	struct epoll_event ev;

	(void)arg;
	while (epoll_wait(ep, &ev, 1, 10000) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Until thread tid is asleep inside epoll_wait (its state and syscall
 * number in /proc), at most 5 s. */
static void until_asleep_in_epoll(pid_t tid)
{
	char path[64], buf[256];

	for (int i = 0; i < 5000; i++) {
		struct timespec ms = { 0, 1000 * 1000 };
		FILE *f;
		bool asleep = false, in_epoll = false;

		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
		if ((f = fopen(path, "r"))) {
			const char *p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
			asleep = p && p[1] == ' ' && p[2] == 'S';
			fclose(f);
		}
		snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
		if ((f = fopen(path, "r"))) {
			in_epoll = fgets(buf, sizeof(buf), f) &&
				   (atoi(buf) == SYS_epoll_wait || atoi(buf) == SYS_epoll_pwait);
			fclose(f);
		}
		if (asleep && in_epoll)
			return;
		nanosleep(&ms, NULL);
	}
	fprintf(stderr, "ready-rule: the waiter never slept in epoll_wait\n");
	exit(1);
}

static pid_t waiter_tid;

static void *waiter_main(void *arg)
{
	__atomic_store_n(&waiter_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	return waiter(arg);
}

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int l, c[NCONN], s[NCONN], efd, ep2;
	struct epoll_event ev;
	pthread_t t;
	uint64_t one = 1;
	struct timespec taken_up;
	char b;

	ep = epoll_create1(EPOLL_CLOEXEC);
	ep2 = epoll_create1(EPOLL_CLOEXEC);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ep < 0 || ep2 < 0 || l < 0)
		die("socket");
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, NCONN) ||
	    getsockname(l, (struct sockaddr *)&a, &alen))
		die("listen");
	for (int i = 0; i < NCONN; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c[i] < 0 || connect(c[i], (struct sockaddr *)&a, sizeof(a)))
			die("connect");
		s[i] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (s[i] < 0)
			die("accept");
		if (i >= 8)
			add_to(ep2, s[i], EPOLLIN);
		else if (i != 1)
			add(s[i], i == 6 ? EPOLLIN : EPOLLIN | EPOLLET);
	}

	/* Nothing ready: asleep in the instance for 200 ms. */
	if (epoll_wait(ep, &ev, 1, 200) != 0)
		die("epoll_wait (learn)");

	/* A: s1 registered while writable waits on the list, unharvested. */
	add(s[1], EPOLLIN | EPOLLOUT | EPOLLET);
	send_byte(c[0]);
	/* B: A's still waits there. */
	send_byte(c[2]);
	/* C: after a harvest. */
	if (harvest() != 3)
		die("harvest after A and B");
	send_byte(c[3]);
	/* D: only a level-triggered item left on the list by its harvest. */
	if (harvest() != 1)
		die("harvest after C");
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		die("eventfd");
	add(efd, EPOLLIN);
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		die("eventfd write");
	if (harvest() != 1)
		die("harvest of the eventfd");
	send_byte(c[4]);
	/* E: another thread asleep in epoll_wait on the instance. */
	if (read(efd, &one, sizeof(one)) != sizeof(one))
		die("eventfd read");
	if (harvest() != 1)
		die("harvest after D");
	errno = pthread_create(&t, NULL, waiter_main, NULL);
	if (errno)
		die("pthread_create");
	while (!__atomic_load_n(&waiter_tid, __ATOMIC_ACQUIRE))
		sched_yield();
	until_asleep_in_epoll(waiter_tid);
	send_byte(c[5]);
	pthread_join(t, NULL);
	/* F: s6's readiness recorded, harvested and put back (level-
	 * triggered, still readable), then read. */
	send_byte(c[6]);
	if (harvest() != 1)
		die("harvest of s6");
	if (read(s[6], &b, 1) != 1)
		die("read s6");
	send_byte(c[7]);
	if (harvest() != 1)	/* s7; s6, found empty, leaves the list */
		die("harvest of s7");

	/* G, H: readiness on s8 and s9 while only ep2 polls them, read;
	 * then ep takes them up and they are ready again. */
	send_byte(c[8]);
	send_byte(c[9]);
	if (read(s[8], &b, 1) != 1 || read(s[9], &b, 1) != 1)
		die("read s8, s9");
	add(s[8], EPOLLIN | EPOLLET);
	add(s[9], EPOLLIN | EPOLLET | EPOLLEXCLUSIVE);
	clock_gettime(CLOCK_MONOTONIC, &taken_up);
	harvest();
	send_byte(c[8]);
	if (harvest() != 1)
		die("harvest of s8");
	send_byte(c[9]);
	if (harvest() != 1)
		die("harvest of s9");

	printf("ready-rule: A=%lu B=%lu C=%lu D=%lu E=%lu F=%lu G=%lu H=%lu\n", inode(s[0]),
	       inode(s[2]), inode(s[3]), inode(s[4]), inode(s[5]), inode(s[7]), inode(s[8]),
	       inode(s[9]));
	printf("ready-rule: taken-up-at=%llu\n", (unsigned long long)taken_up.tv_sec * 1000000000ULL +
						      (unsigned long long)taken_up.tv_nsec);
	return 0;
}
