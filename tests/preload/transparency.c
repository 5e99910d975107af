/* SPDX-License-Identifier: MIT */
/*
 * Exercises every call the preload shim interposes and prints what each
 * returned: the value, errno (by name) or the pthread error, whether a
 * successful call left errno alone, whether a timeout waited at least its
 * time, how many waiters a wake woke.  tests/scenario/preload.sh runs it
 * with and without the shim and wants identical output: the shim must be
 * invisible.  Nothing printed depends on timing or on the run (no pids,
 * no addresses, no durations: only "waited: yes").
 *
 *   transparency              the whole run
 *   transparency --maps       prints preloaded=yes|no (is the shim mapped?)
 *   transparency --exec keep|drop
 *                             execs itself with --maps, with the
 *                             environment as it is or without LD_PRELOAD
 *
 * Every wait is bounded or woken by the program itself; a handshake (not
 * a sleep) makes sure a waiter is blocked before it is woken.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif
#define SENTINEL 4242	/* errno before a call: a success must leave it */
/* An address nothing is mapped at (volatile: the compiler can't see it). */
static void *volatile unmapped = (void *)8;
#define MS 1000000L

void early_report(char *buf, size_t len);

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

/* A call with libc's convention: -1 and errno. */
static void show(const char *name, long ret, int err)
{
	if (ret == -1)
		printf("%s: -1 %s\n", name, ename(err));
	else
		printf("%s: %ld%s\n", name, ret,
		       err == SENTINEL ? "" : " (errno changed)");
}
#define CALL(name, expr)                                                    \
	do {                                                                \
		errno = SENTINEL;                                           \
		long r_ = (long)(expr);                                     \
		show(name, r_, errno);                                      \
	} while (0)

/* A pthread-style call: 0 or an error number. */
static void show_pt(const char *name, int r)
{
	printf("%s: %s\n", name, r ? ename(r) : "0");
}

static int64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec at(clockid_t c, long ns_from_now)
{
	int64_t t = now_ns(c) + ns_from_now;
	return (struct timespec){ (time_t)(t / 1000000000LL),
				  (long)(t % 1000000000LL) };
}

static void waited(const char *name, int64_t start, long ns)
{
	printf("%s waited: %s\n", name,
	       now_ns(CLOCK_MONOTONIC) - start >= ns ? "yes" : "NO");
}

static long futex(void *uaddr, int op, long val, const void *ts, void *uaddr2,
		  long val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

/* Blocks until thread tid sleeps in futex on word (its /proc syscall line
 * names futex and the word): the handshake before a wake. */
static void wait_in_futex(pid_t tid, const void *word)
{
	char path[64], line[256], want[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	snprintf(want, sizeof(want), "%d 0x%lx ", SYS_futex, (unsigned long)word);
	for (;;) {
		FILE *f = fopen(path, "r");
		int in = f && fgets(line, sizeof(line), f) &&
			 !strncmp(line, want, strlen(want));
		if (f)
			fclose(f);
		if (in)
			return;
		usleep(1000);
	}
}

static volatile sig_atomic_t handled;
static void on_signal(int sig)
{
	(void)sig;
	handled++;
}

static void set_handler(int sig, int flags)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = flags };
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* SIGALRM every 10 ms until stopped: a wait that blocks is interrupted. */
static void ticker(int on)
{
	struct itimerval it = { { 0, on ? 10000 : 0 }, { 0, on ? 10000 : 0 } };
	setitimer(ITIMER_REAL, &it, NULL);
}

/* A call made while SIGALRM ticks; printed once the ticks stopped (so the
 * printing itself is never interrupted). */
#define INTERRUPTED(name, expr)                                             \
	do {                                                                \
		ticker(1);                                                  \
		errno = SENTINEL;                                           \
		long r_ = (long)(expr);                                     \
		int e_ = errno;                                             \
		ticker(0);                                                  \
		show(name, r_, e_);                                         \
	} while (0)

/* ---- epoll ------------------------------------------------------------------------ */

static void *epoll_victim(void *arg)
{
	struct epoll_event ev;
	epoll_wait(*(int *)arg, &ev, 1, -1);
	return (void *)1;	/* not reached: cancelled */
}

static void test_epoll(void)
{
	struct epoll_event ev[4], add = { .events = EPOLLIN, .data.u64 = 7 };
	int ep = epoll_create1(EPOLL_CLOEXEC), empty = epoll_create1(EPOLL_CLOEXEC);
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint64_t one = 1, v;
	int64_t t0;

	epoll_ctl(ep, EPOLL_CTL_ADD, efd, &add);
	CALL("epoll_wait nothing ready, timeout 0", epoll_wait(ep, ev, 4, 0));
	t0 = now_ns(CLOCK_MONOTONIC);
	CALL("epoll_wait timeout 20 ms", epoll_wait(ep, ev, 4, 20));
	waited("epoll_wait timeout 20 ms", t0, 20 * MS);
	if (write(efd, &one, 8) != 8)
		abort();
	memset(ev, 0, sizeof(ev));
	CALL("epoll_wait one ready, timeout -1", epoll_wait(ep, ev, 4, -1));
	printf("epoll_wait event: data=%llu in=%d\n",
	       (unsigned long long)ev[0].data.u64, !!(ev[0].events & EPOLLIN));
	CALL("epoll_wait bad fd", epoll_wait(-1, ev, 4, 0));
	CALL("epoll_wait not an epoll fd", epoll_wait(efd, ev, 4, 0));
	CALL("epoll_wait maxevents 0", epoll_wait(ep, ev, 0, 0));
	CALL("epoll_wait events unwritable", epoll_wait(ep, unmapped, 4, 0));

	/* A signal during the wait: EINTR with or without SA_RESTART. */
	set_handler(SIGALRM, 0);
	INTERRUPTED("epoll_wait interrupted", epoll_wait(empty, ev, 4, 5000));
	set_handler(SIGALRM, SA_RESTART);
	INTERRUPTED("epoll_wait interrupted, SA_RESTART", epoll_wait(empty, ev, 4, 5000));

	/* epoll_pwait's mask applies atomically: a pending, blocked SIGUSR1
	 * interrupts a wait whose mask lets it in, not one whose doesn't. */
	sigset_t usr1, none, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&none);
	set_handler(SIGUSR1, 0);
	pthread_sigmask(SIG_BLOCK, &usr1, &old);
	raise(SIGUSR1);
	t0 = now_ns(CLOCK_MONOTONIC);
	CALL("epoll_pwait mask blocks the pending signal",
	     epoll_pwait(empty, ev, 4, 10, &usr1));
	waited("epoll_pwait mask blocks the pending signal", t0, 10 * MS);
	handled = 0;
	CALL("epoll_pwait mask lets the pending signal in",
	     epoll_pwait(empty, ev, 4, 5000, &none));
	printf("epoll_pwait handler ran: %d\n", (int)handled);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	CALL("epoll_pwait ready", epoll_pwait(ep, ev, 4, -1, NULL));

	/* epoll_pwait2: a timespec, never read by the shim. */
	struct timespec ts15 = { 0, 15 * MS }, bad = { 0, 2000000000L },
			neg = { -1, 0 }, zero = { 0, 0 };
	t0 = now_ns(CLOCK_MONOTONIC);
	CALL("epoll_pwait2 timeout 15 ms", epoll_pwait2(empty, ev, 4, &ts15, NULL));
	waited("epoll_pwait2 timeout 15 ms", t0, 15 * MS);
	CALL("epoll_pwait2 timeout 0", epoll_pwait2(empty, ev, 4, &zero, NULL));
	CALL("epoll_pwait2 no timeout, ready", epoll_pwait2(ep, ev, 4, NULL, NULL));
	CALL("epoll_pwait2 tv_nsec out of range", epoll_pwait2(empty, ev, 4, &bad, NULL));
	CALL("epoll_pwait2 negative timeout", epoll_pwait2(empty, ev, 4, &neg, NULL));
	CALL("epoll_pwait2 timeout unreadable",
	     epoll_pwait2(empty, ev, 4, unmapped, NULL));

	/* epoll_wait is a cancellation point. */
	pthread_t th;
	void *res = NULL;
	pthread_create(&th, NULL, epoll_victim, &empty);
	pthread_cancel(th);
	pthread_join(th, &res);
	printf("epoll_wait cancelled: %s\n", res == PTHREAD_CANCELED ? "yes" : "no");

	if (read(efd, &v, 8) != 8)
		abort();
	close(efd);
	close(ep);
	close(empty);
}

/* ---- futex --------------------------------------------------------------------------- */

struct futex_waiter {
	_Atomic uint32_t *word;
	_Atomic pid_t tid;
	int waits;	/* futex calls until the word changed */
};

static void *futex_waiter(void *arg)
{
	struct futex_waiter *w = arg;

	w->tid = gettid();
	while (atomic_load(w->word) == 0) {
		futex(w->word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
		w->waits++;
	}
	return NULL;
}

struct waitv {	/* struct futex_waitv, linux/futex.h >= 5.16 */
	uint64_t val, uaddr;
	uint32_t flags, reserved;
};

static void test_futex(void)
{
	static _Atomic uint32_t word, word2, pi;
	struct timespec ms10 = { 0, 10 * MS }, badns = { 0, -1 }, ts;
	uint64_t unaligned[2];
	int64_t t0;

	CALL("futex wait, value differs", futex(&word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0));
	t0 = now_ns(CLOCK_MONOTONIC);
	CALL("futex wait 10 ms", futex(&word, FUTEX_WAIT_PRIVATE, 0, &ms10, NULL, 0));
	waited("futex wait 10 ms", t0, 10 * MS);
	ts = at(CLOCK_MONOTONIC, 10 * MS);
	CALL("futex wait_bitset monotonic deadline",
	     futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &ts, NULL, FUTEX_BITSET_MATCH_ANY));
	printf("futex wait_bitset monotonic deadline passed: %s\n",
	       now_ns(CLOCK_MONOTONIC) >= ts.tv_sec * 1000000000LL + ts.tv_nsec ? "yes" : "NO");
	ts = at(CLOCK_REALTIME, 10 * MS);
	CALL("futex wait_bitset realtime deadline",
	     futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &ts,
		   NULL, FUTEX_BITSET_MATCH_ANY));
	CALL("futex wait_bitset bitset 0",
	     futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, 0));
	CALL("futex wait unaligned", futex((char *)unaligned + 1, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
	CALL("futex wait NULL word", futex(NULL, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
	CALL("futex wait timeout unreadable",
	     futex(&word, FUTEX_WAIT_PRIVATE, 0, unmapped, NULL, 0));
	CALL("futex wait timeout invalid", futex(&word, FUTEX_WAIT_PRIVATE, 0, &badns, NULL, 0));
	CALL("futex wake, nobody waits", futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
	CALL("futex cmp_requeue, value differs",
	     futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &word2, 5));
	CALL("futex cmp_requeue, nobody waits",
	     futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &word2, 0));
	CALL("futex wake_op, nobody waits",
	     futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &word2,
		   FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_EQ, 0)));
	CALL("futex unknown op", futex(&word, 99, 0, NULL, NULL, 0));

	/* PI: an uncontended lock and unlock. */
	CALL("futex lock_pi", futex(&pi, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0));
	printf("futex lock_pi owner is me: %s\n",
	       (atomic_load(&pi) & FUTEX_TID_MASK) == (uint32_t)gettid() ? "yes" : "no");
	CALL("futex unlock_pi", futex(&pi, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0));

	/* Wake counts: three waiters asleep, wake 2, then the rest. */
	struct futex_waiter w[3];
	pthread_t th[3];
	for (int i = 0; i < 3; i++) {
		w[i] = (struct futex_waiter){ .word = &word2 };
		pthread_create(&th[i], NULL, futex_waiter, &w[i]);
	}
	for (int i = 0; i < 3; i++) {
		while (!atomic_load(&w[i].tid))
			usleep(1000);
		wait_in_futex(w[i].tid, &word2);
	}
	atomic_store(&word2, 1);
	CALL("futex wake 2 of 3 waiters", futex(&word2, FUTEX_WAKE_PRIVATE, 2, NULL, NULL, 0));
	CALL("futex wake the rest", futex(&word2, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	printf("futex waiters each waited once: %s\n",
	       w[0].waits == 1 && w[1].waits == 1 && w[2].waits == 1 ? "yes" : "no");

	/* futex_waitv (Linux >= 5.16; ENOSYS before, the same either way). */
	struct waitv wv = { .val = 1, .uaddr = (uintptr_t)&word, .flags = 2 | 128 };
	CALL("futex_waitv value differs",
	     syscall(SYS_futex_waitv, &wv, 1, 0, NULL, CLOCK_MONOTONIC));
	wv.val = 0;
	ts = at(CLOCK_MONOTONIC, 10 * MS);
	CALL("futex_waitv deadline", syscall(SYS_futex_waitv, &wv, 1, 0, &ts, CLOCK_MONOTONIC));
	CALL("futex_waitv bad flags", syscall(SYS_futex_waitv, &wv, 1, 1, &ts, CLOCK_MONOTONIC));
}

/* ---- syscall() for everything else ------------------------------------------------------- */

static void test_syscall(void)
{
	char page[4096], buf[8] = { 0 };
	int fd = memfd_create("transparency", MFD_CLOEXEC);

	printf("syscall getpid is getpid: %s\n",
	       syscall(SYS_getpid) == getpid() ? "yes" : "no");
	errno = SENTINEL;
	syscall(SYS_getppid);
	printf("syscall success leaves errno: %s\n", errno == SENTINEL ? "yes" : "no");
	CALL("syscall close -1", syscall(SYS_close, -1));
	CALL("syscall unknown number", syscall(100000));
	memset(page, 'a', sizeof(page));
	if (write(fd, page, sizeof(page)) != sizeof(page))
		abort();
	memset(page, 'b', sizeof(page));
	if (write(fd, page, sizeof(page)) != sizeof(page))
		abort();
	/* Six arguments, the sixth (the offset) decisive. */
	char *p = (char *)syscall(SYS_mmap, NULL, 4096, PROT_READ, MAP_SHARED, fd, 4096);
	printf("syscall mmap 6 args, page at offset 4096: %c\n", p == MAP_FAILED ? '!' : p[0]);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	CALL("syscall mmap bad fd", syscall(SYS_mmap, NULL, 4096, PROT_READ, MAP_SHARED, -1, 0));
	CALL("syscall pread64 4 args", syscall(SYS_pread64, fd, buf, 4, 4096 - 2));
	printf("syscall pread64 read: %s\n", buf);
	CALL("syscall pread64 bad buffer", syscall(SYS_pread64, fd, unmapped, 4, 0));
	close(fd);
}

/* ---- condvars --------------------------------------------------------------------------- */

static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go, waiting, woken;

static void *cond_waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cm);
	waiting++;
	while (!go)
		pthread_cond_wait(&cv, &cm);
	woken++;
	pthread_mutex_unlock(&cm);
	return NULL;
}

static void unlock_cm(void *arg)
{
	(void)arg;
	pthread_mutex_unlock(&cm);
}

static void *cond_victim(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cm);
	waiting++;
	pthread_cleanup_push(unlock_cm, NULL);
	for (;;)
		pthread_cond_wait(&cv, &cm);
	pthread_cleanup_pop(1);
	return NULL;
}

static void start_waiters(pthread_t *th, int n, void *(*fn)(void *))
{
	pthread_mutex_lock(&cm);
	go = waiting = woken = 0;
	pthread_mutex_unlock(&cm);
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, fn, NULL);
	/* Each counts itself under the mutex and releases it only inside
	 * pthread_cond_wait: once we hold it with the count full, all wait. */
	for (;;) {
		pthread_mutex_lock(&cm);
		if (waiting == n)
			return;	/* locked */
		pthread_mutex_unlock(&cm);
		usleep(1000);
	}
}

static void test_cond(void)
{
	pthread_condattr_t ca;
	pthread_cond_t mono;
	pthread_mutexattr_t ma;
	pthread_mutex_t echk;
	struct timespec ts, past = { 1, 0 }, bad;
	pthread_t th[4];

	pthread_mutex_lock(&cm);
	show_pt("cond_timedwait deadline passed", pthread_cond_timedwait(&cv, &cm, &past));
	ts = at(CLOCK_REALTIME, 20 * MS);
	show_pt("cond_timedwait 20 ms", pthread_cond_timedwait(&cv, &cm, &ts));
	printf("cond_timedwait 20 ms deadline passed: %s\n",
	       now_ns(CLOCK_REALTIME) >= ts.tv_sec * 1000000000LL + ts.tv_nsec ? "yes" : "NO");
	bad = (struct timespec){ 0, 1000000000L };
	show_pt("cond_timedwait tv_nsec out of range", pthread_cond_timedwait(&cv, &cm, &bad));
	ts = at(CLOCK_MONOTONIC, 10 * MS);
	show_pt("cond_clockwait monotonic 10 ms",
		pthread_cond_clockwait(&cv, &cm, CLOCK_MONOTONIC, &ts));
	show_pt("cond_clockwait cpu clock",
		pthread_cond_clockwait(&cv, &cm, CLOCK_PROCESS_CPUTIME_ID, &ts));
	pthread_mutex_unlock(&cm);

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&mono, &ca);
	pthread_mutex_lock(&cm);
	ts = at(CLOCK_MONOTONIC, 10 * MS);
	show_pt("cond_timedwait monotonic condattr", pthread_cond_timedwait(&mono, &cm, &ts));
	printf("cond_timedwait monotonic deadline passed: %s\n",
	       now_ns(CLOCK_MONOTONIC) >= ts.tv_sec * 1000000000LL + ts.tv_nsec ? "yes" : "NO");
	pthread_mutex_unlock(&cm);
	pthread_cond_destroy(&mono);

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&echk, &ma);
	show_pt("cond_wait error-checking mutex not held", pthread_cond_wait(&cv, &echk));
	pthread_mutex_destroy(&echk);

	/* Broadcast wakes all four. */
	start_waiters(th, 4, cond_waiter);
	go = 1;
	show_pt("cond_broadcast", pthread_cond_broadcast(&cv));
	pthread_mutex_unlock(&cm);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	printf("cond_broadcast woke: %d\n", woken);

	/* Signal wakes one waiter. */
	start_waiters(th, 1, cond_waiter);
	go = 1;
	show_pt("cond_signal", pthread_cond_signal(&cv));
	pthread_mutex_unlock(&cm);
	pthread_join(th[0], NULL);
	printf("cond_signal woke: %d\n", woken);

	/* Cancelled in pthread_cond_wait: the cleanup runs with the mutex. */
	void *res = NULL;
	start_waiters(th, 1, cond_victim);
	pthread_cancel(th[0]);
	pthread_mutex_unlock(&cm);
	pthread_join(th[0], &res);
	printf("cond_wait cancelled: %s, mutex free after: %s\n",
	       res == PTHREAD_CANCELED ? "yes" : "no",
	       pthread_mutex_trylock(&cm) == 0 ? "yes" : "no");
	pthread_mutex_unlock(&cm);
}

/* ---- semaphores --------------------------------------------------------------------------- */

static sem_t sem;

static void *sem_poster(void *arg)
{
	pid_t tid = *(pid_t *)arg;
	char path[64], line[64];

	/* Posts once the main thread sleeps in sem_wait (a futex). */
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	for (;;) {
		FILE *f = fopen(path, "r");
		int in = f && fgets(line, sizeof(line), f) && atoi(line) == SYS_futex;
		if (f)
			fclose(f);
		if (in)
			break;
		usleep(1000);
	}
	sem_post(&sem);
	return NULL;
}

static void *sem_victim(void *arg)
{
	(void)arg;
	sem_wait(&sem);
	return (void *)1;
}

static void test_sem(void)
{
	struct timespec ts, past = { 1, 0 }, bad = { 0, -5 };
	pid_t me = gettid();
	pthread_t th;
	int64_t t0;

	sem_init(&sem, 0, 1);
	CALL("sem_wait token available", sem_wait(&sem));
	CALL("sem_timedwait deadline passed", sem_timedwait(&sem, &past));
	ts = at(CLOCK_REALTIME, 10 * MS);
	CALL("sem_timedwait 10 ms", sem_timedwait(&sem, &ts));
	printf("sem_timedwait deadline passed: %s\n",
	       now_ns(CLOCK_REALTIME) >= ts.tv_sec * 1000000000LL + ts.tv_nsec ? "yes" : "NO");
	CALL("sem_timedwait tv_nsec out of range", sem_timedwait(&sem, &bad));
	t0 = now_ns(CLOCK_MONOTONIC);
	ts = at(CLOCK_MONOTONIC, 10 * MS);
	CALL("sem_clockwait monotonic 10 ms", sem_clockwait(&sem, CLOCK_MONOTONIC, &ts));
	waited("sem_clockwait monotonic 10 ms", t0, 10 * MS);
	CALL("sem_clockwait cpu clock", sem_clockwait(&sem, CLOCK_THREAD_CPUTIME_ID, &ts));

	/* Interrupted by a handler without SA_RESTART. */
	set_handler(SIGALRM, 0);
	INTERRUPTED("sem_wait interrupted", sem_wait(&sem));

	/* Woken by a post from another thread. */
	pthread_create(&th, NULL, sem_poster, &me);
	CALL("sem_wait woken by a post", sem_wait(&sem));
	pthread_join(th, NULL);

	void *res = NULL;
	pthread_create(&th, NULL, sem_victim, NULL);
	pthread_cancel(th);
	pthread_join(th, &res);
	printf("sem_wait cancelled: %s\n", res == PTHREAD_CANCELED ? "yes" : "no");
	sem_destroy(&sem);
}

/* ---- names ------------------------------------------------------------------------ */

static void comm_of(pid_t tid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (f && fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
}

static pthread_barrier_t name_barrier;
static _Atomic pid_t other_tid;

static void *named_other(void *arg)
{
	(void)arg;
	other_tid = gettid();
	pthread_barrier_wait(&name_barrier);	/* named */
	pthread_barrier_wait(&name_barrier);	/* read */
	return NULL;
}

static void test_names(void)
{
	char comm[32], got[16] = "";
	pthread_t th;
	int v = -1;

	show_pt("setname_np self", pthread_setname_np(pthread_self(), "tp-main"));
	comm_of(gettid(), comm, sizeof(comm));
	printf("setname_np self comm: %s\n", comm);
	show_pt("setname_np 16 bytes", pthread_setname_np(pthread_self(), "0123456789abcdef"));
	comm_of(gettid(), comm, sizeof(comm));
	printf("setname_np 16 bytes comm: %s\n", comm);

	pthread_barrier_init(&name_barrier, NULL, 2);
	pthread_create(&th, NULL, named_other, NULL);
	while (!other_tid)
		usleep(1000);
	show_pt("setname_np other thread", pthread_setname_np(th, "tp-other"));
	pthread_barrier_wait(&name_barrier);
	comm_of(other_tid, comm, sizeof(comm));
	printf("setname_np other thread comm: %s\n", comm);
	pthread_barrier_wait(&name_barrier);
	pthread_join(th, NULL);
	pthread_barrier_destroy(&name_barrier);

	CALL("prctl set_name", prctl(PR_SET_NAME, "tp-prctl"));
	CALL("prctl get_name", prctl(PR_GET_NAME, got));
	printf("prctl get_name: %s\n", got);
	CALL("prctl set_name long", prctl(PR_SET_NAME, "a-very-long-thread-name"));
	comm_of(gettid(), comm, sizeof(comm));
	printf("prctl set_name long comm: %s\n", comm);
	CALL("prctl set_name unreadable", prctl(PR_SET_NAME, unmapped));
	CALL("prctl get_pdeathsig", prctl(PR_GET_PDEATHSIG, &v));
	printf("prctl pdeathsig: %d\n", v);
	CALL("prctl set_pdeathsig", prctl(PR_SET_PDEATHSIG, SIGTERM));
	CALL("prctl get_pdeathsig again", prctl(PR_GET_PDEATHSIG, &v));
	printf("prctl pdeathsig: %d\n", v);
	prctl(PR_SET_PDEATHSIG, 0);
	CALL("prctl unknown option", prctl(123456, 0, 0, 0, 0));
	CALL("prctl set_mm, five words", prctl(PR_SET_MM, PR_SET_MM_START_CODE, 0, 0, 0));
}

/* ---- fork and exec ------------------------------------------------------------------------ */

static void test_fork(void)
{
	struct timespec ms5 = { 0, 5 * MS };
	struct epoll_event ev;
	uint32_t word = 0;
	int st = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* exit(), not _exit(): the child's exit handlers run too. */
		int ep = epoll_create1(0);
		int ok = futex(&word, FUTEX_WAIT_PRIVATE, 0, &ms5, NULL, 0) == -1 &&
			 errno == ETIMEDOUT && epoll_wait(ep, &ev, 1, 5) == 0;
		exit(ok ? 7 : 1);
	}
	waitpid(pid, &st, 0);
	printf("fork: child parked and exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int print_maps(void)
{
	char line[4096];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f))
		found |= strstr(line, "libstallscope-preload.so") != NULL;
	if (f)
		fclose(f);
	printf("preloaded=%s\n", found ? "yes" : "no");
	return 0;
}

static int exec_self(const char *how)
{
	char *argv[] = { "/proc/self/exe", "--maps", NULL };

	fflush(stdout);
	if (!strcmp(how, "drop"))
		unsetenv("LD_PRELOAD");
	execv("/proc/self/exe", argv);
	perror("execv");
	return 1;
}

int main(int argc, char **argv)
{
	char early[256];

	if (argc == 2 && !strcmp(argv[1], "--maps"))
		return print_maps();
	if (argc == 3 && !strcmp(argv[1], "--exec"))
		return exec_self(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	early_report(early, sizeof(early));
	printf("before main: %s\n", early);
	test_epoll();
	test_futex();
	test_syscall();
	test_cond();
	test_sem();
	test_names();
	test_fork();
	return 0;
}
