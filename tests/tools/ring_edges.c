/* SPDX-License-Identifier: MIT */
/*
 * A wsrt program for the event rings' edge cases (tests/scenario/rings.sh):
 *
 *   ring-edges fork-exec   tasks yield on two workers while the main
 *                          thread forks; the child execs /bin/true; the
 *                          parent goes on, joins them and ends cleanly
 *   ring-edges exit-busy   tasks yield on two workers without end and the
 *                          main thread calls _exit() under them: the
 *                          process ends while their rings are being
 *                          written and drained
 *   ring-edges die-by-signal  a task yields 100 times on a worker, and in
 *                          its 100th poll sends the process SIGTERM: it
 *                          dies by the signal microseconds after that
 *                          poll_start, the other threads with it (the
 *                          tracer must drain the rings as they die)
 *
 * Prints one line saying what it did; exits 0 (die-by-signal: dies).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wsrt.h"

struct spinner {
	atomic_long *yields;
	long left;		/* < 0: without end */
};

static enum wsrt_poll spin_poll(struct wsrt_cx *cx, void *arg)
{
	struct spinner *s = arg;
	uint64_t until = wsrt_now_ns() + 2000;

	/* 2 us of work a poll: the events come at a rate (some 3 M/s from
	 * both workers) and in a number (under 0.5 M) that the recording
	 * takes whole even when the recorder runs under a sanitizer.  As
	 * bare yields (~45 ns each) they came faster than an ASan-built
	 * recorder drains, and it counted losses; this test is about fork
	 * and exec, not throughput (bench/record_cost.sh is). */
	while (wsrt_now_ns() < until)
		;
	atomic_fetch_add_explicit(s->yields, 1, memory_order_relaxed);
	if (s->left == 0)
		return WSRT_READY;
	if (s->left > 0)
		s->left--;
	return wsrt_yield(cx);
}

/* die-by-signal: the 100th poll kills the process. */
static enum wsrt_poll doomed_poll(struct wsrt_cx *cx, void *arg)
{
	long *polls = arg;

	if (++*polls == 100) {
		printf("ring-edges: dying by SIGTERM in poll 100\n");
		fflush(stdout);
		kill(getpid(), SIGTERM);
		for (;;)
			pause();	/* the signal is on its way */
	}
	return wsrt_yield(cx);
}

struct waiter {
	struct wsrt_join *j[4];
};

static enum wsrt_poll wait_all(struct wsrt_cx *cx, void *arg)
{
	struct waiter *w = arg;

	for (int i = 0; i < 4; i++)
		if (w->j[i]) {
			if (wsrt_join_poll(w->j[i], cx, NULL) == WSRT_PENDING)
				return WSRT_PENDING;
			wsrt_join_release(w->j[i]);
			w->j[i] = NULL;
		}
	return WSRT_READY;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	struct wsrt_config cfg;
	struct wsrt_runtime *rt;
	struct spinner sp[4];
	atomic_long yields = 0;
	bool busy;

	if (argc != 2 || (strcmp(argv[1], "fork-exec") && strcmp(argv[1], "exit-busy") &&
			  strcmp(argv[1], "die-by-signal"))) {
		fprintf(stderr, "usage: ring-edges fork-exec|exit-busy|die-by-signal\n");
		return 2;
	}
	busy = !strcmp(argv[1], "exit-busy");
	wsrt_config_default(&cfg);
	cfg.workers = 2;
	if (!(rt = wsrt_runtime_new(&cfg))) {
		perror("ring-edges: runtime");
		return 1;
	}
	if (!strcmp(argv[1], "die-by-signal")) {
		long polls = 0;
		struct waiter dw = { { wsrt_spawn(rt, doomed_poll, &polls, NULL) } };
		if (!dw.j[0]) {
			perror("ring-edges: spawn");
			return 1;
		}
		wsrt_block_on(rt, wait_all, &dw);	/* never returns */
		return 1;
	}
	struct waiter w = { { NULL } };
	for (int i = 0; i < 4; i++) {
		sp[i] = (struct spinner){ &yields, busy ? -1 : 40000 };
		w.j[i] = wsrt_spawn(rt, spin_poll, &sp[i], NULL);
		if (!w.j[i]) {
			perror("ring-edges: spawn");
			return 1;
		}
	}
	sleep_ms(50);
	if (busy) {
		printf("ring-edges: exit under %ld yields\n", atomic_load(&yields));
		fflush(stdout);
		_exit(0);	/* exit_group, workers still yielding: rings mid-write */
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("ring-edges: fork");
		return 1;
	}
	if (pid == 0) {
		/* The child has the parent's rings in its memory (and the
		 * gate up): it must not take them for its own until exec. */
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "ring-edges: the child failed: %d\n", status);
		return 1;
	}
	wsrt_block_on(rt, wait_all, &w);
	printf("ring-edges: forked, exec'd, %ld yields\n", atomic_load(&yields));
	wsrt_runtime_free(rt);
	return 0;
}
