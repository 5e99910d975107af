/* SPDX-License-Identifier: MIT */
/*
 * lifo-stall: the stuck-LIFO-task latency bubble (Tokio issue 4941).
 *
 * Task B waits on a channel.  Once every worker is idle, task A starts on
 * some worker, sends on the channel — which notifies B into that worker's
 * LIFO slot — and then blocks its worker for --block-ms without yielding.
 *
 *  - legacy (WSRT_LIFO_STEALABLE=0): B sits in the LIFO slot until A is
 *    done; the other workers stay parked, because a task put into an empty
 *    LIFO slot wakes nobody and can't be stolen.  Wake-to-run ≈ block time.
 *  - lifo_stealable (default): putting B in the slot wakes a parked worker,
 *    which steals it.  Wake-to-run ≈ a thread wakeup.
 *
 * Prints B's wake-to-run latency, then one JSON line with the measurement.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/opts.h"
#include "example.h"
#include "wsrt.h"

struct scenario {
	struct wsrt_mpsc *ch;
	unsigned block_ms;
	bool busy;
	_Atomic int b_waiting;		/* B has polled once and is pending */
	_Atomic uint64_t t_wake;	/* A's send, CLOCK_MONOTONIC ns */
	uint64_t t_run;			/* B's second poll */
	int a_worker, b_worker;
};

static enum wsrt_poll task_b(struct wsrt_cx *cx, void *arg)
{
	struct scenario *s = arg;
	void *msg;
	int ret;

	if (wsrt_mpsc_poll_recv(s->ch, cx, &msg, &ret) == WSRT_PENDING) {
		atomic_store(&s->b_waiting, 1);
		return WSRT_PENDING;
	}
	s->t_run = wsrt_now_ns();
	s->b_worker = wsrt_cx_worker(cx);
	return WSRT_READY;
}

static enum wsrt_poll task_a(struct wsrt_cx *cx, void *arg)
{
	struct scenario *s = arg;

	s->a_worker = wsrt_cx_worker(cx);
	atomic_store(&s->t_wake, wsrt_now_ns());
	/* Notifies B from this worker: into our LIFO slot. */
	if (wsrt_mpsc_try_send(s->ch, s) != 0)
		abort();
	example_block_worker(s->block_ms, s->busy);
	return WSRT_READY;
}

struct join_both {
	struct wsrt_join *a, *b;
};

static enum wsrt_poll join_both(struct wsrt_cx *cx, void *arg)
{
	struct join_both *j = arg;
	enum wsrt_poll ra = wsrt_join_poll(j->a, cx, NULL);
	enum wsrt_poll rb = wsrt_join_poll(j->b, cx, NULL);

	return ra == WSRT_READY && rb == WSRT_READY ? WSRT_READY : WSRT_PENDING;
}

/* Waits (bounded) until B is pending and every worker is parked, so A
 * starts on an idle runtime.  False on timeout. */
static bool wait_idle(struct wsrt_runtime *rt, struct scenario *s)
{
	struct timespec pause = { 0, 200 * 1000 };

	for (int i = 0; i < 25000; i++) {	/* 5 s */
		struct wsrt_metrics m;
		wsrt_runtime_metrics(rt, &m);
		if (atomic_load(&s->b_waiting) && m.parked == m.workers)
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

static const char usage[] =
	"usage: lifo-stall [--block-ms N] [--busy] [--idle-ms N] [--workers N]\n"
	"  --block-ms N   how long task A blocks its worker (default 200)\n"
	"  --busy         spin instead of sleeping while blocking\n"
	"  --idle-ms N    leave the runtime idle N ms before task A (default 0)\n"
	"  --workers N    worker threads (default 2; beats WSRT_WORKERS)\n"
	"environment: WSRT_LIFO_STEALABLE=0|1 (default 1), WSRT_WORKERS\n";

int main(int argc, char **argv)
{
	struct scenario s = { .block_ms = 200, .a_worker = -1, .b_worker = -1 };
	unsigned workers = 0, idle_ms = 0;
	const struct ss_opt opt[] = {
		SS_UINT("block-ms", 0, &s.block_ms, 1, 600000, "milliseconds, 1..600000"),
		SS_FLAG("busy", 0, &s.busy),
		SS_UINT("idle-ms", 0, &idle_ms, 0, 600000, "milliseconds, 0..600000"),
		SS_UINT("workers", 0, &workers, 2, 1024,
			"2..1024 (a stall needs an idle worker)"),
		{ 0 },
	};
	const struct ss_opts o = { .prog = "lifo-stall", .usage = usage, .opt = opt };
	struct wsrt_config cfg;
	int c, i;

	if ((c = ss_opts_parse(&o, argc, argv, &i)) >= 0)
		return c;
	if (!example_config("lifo-stall", 2, workers, &cfg))
		return 2;
	if (cfg.workers < 2) {
		fprintf(stderr, "lifo-stall: needs at least 2 workers (got %u)\n", cfg.workers);
		return 2;
	}

	struct wsrt_runtime *rt = wsrt_runtime_new(&cfg);
	if (!rt) {
		fprintf(stderr, "lifo-stall: cannot start runtime: %s\n", strerror(errno));
		return 1;
	}
	s.ch = wsrt_mpsc_new(1);
	if (!s.ch) {
		fprintf(stderr, "lifo-stall: out of memory\n");
		return 1;
	}

	struct join_both j = { 0 };
	j.b = wsrt_spawn(rt, task_b, &s, NULL);
	if (!j.b || !wait_idle(rt, &s)) {
		fprintf(stderr, "lifo-stall: the runtime did not go idle\n");
		return 1;
	}
	if (idle_ms) {
		struct timespec idle = { idle_ms / 1000, (long)(idle_ms % 1000) * 1000000L };
		while (nanosleep(&idle, &idle) && errno == EINTR)
			;
	}
	j.a = wsrt_spawn(rt, task_a, &s, NULL);
	if (!j.a) {
		fprintf(stderr, "lifo-stall: cannot spawn: %s\n", strerror(errno));
		return 1;
	}
	wsrt_block_on(rt, join_both, &j);

	double ms = (double)(s.t_run - atomic_load(&s.t_wake)) / 1e6;
	printf("task B woke on worker %d, ran on worker %d after %.3f ms "
	       "(task A blocked worker %d for %u ms, %s; lifo_stealable=%d)\n",
	       s.a_worker, s.b_worker, ms, s.a_worker, s.block_ms,
	       s.busy ? "spinning" : "sleeping", cfg.lifo_stealable);
	printf("{\"scenario\":\"lifo-stall\",\"wake_to_run_ms\":%.3f,"
	       "\"block_ms\":%u,\"busy\":%s,\"lifo_stealable\":%s,"
	       "\"workers\":%u,\"a_worker\":%d,\"b_worker\":%d}\n",
	       ms, s.block_ms, s.busy ? "true" : "false",
	       cfg.lifo_stealable ? "true" : "false", cfg.workers, s.a_worker,
	       s.b_worker);

	wsrt_join_release(j.a);
	wsrt_join_release(j.b);
	wsrt_mpsc_tx_release(s.ch);
	wsrt_mpsc_rx_release(s.ch);
	wsrt_runtime_free(rt);
	return 0;
}
