/* SPDX-License-Identifier: MIT */
/* What the runtime's tests (test_runtime.c, test_io.c) share. */
#ifndef WSRT_TEST_H
#define WSRT_TEST_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "wsrt.h"

/* A runtime of `workers` workers, or the test fails. */
static inline struct wsrt_runtime *test_rt_start(unsigned workers, bool lifo_stealable)
{
	struct wsrt_config cfg;
	struct wsrt_runtime *rt;

	wsrt_config_default(&cfg);
	cfg.workers = workers;
	cfg.lifo_stealable = lifo_stealable;
	rt = wsrt_runtime_new(&cfg);
	if (!rt)
		FAILF("wsrt_runtime_new: %s", strerror(errno));
	return rt;
}

static inline enum wsrt_poll test_rt_join_one(struct wsrt_cx *cx, void *arg)
{
	return wsrt_join_poll(arg, cx, NULL);
}

/* Blocks on the task of jh (not released) until it completes. */
static inline void test_rt_join(struct wsrt_runtime *rt, struct wsrt_join *jh)
{
	ASSERT_TRUE(jh != NULL);
	ASSERT_EQ(wsrt_block_on(rt, test_rt_join_one, jh), 0);
}

/* Waits until every worker of rt sleeps (futex or driver), or the test
 * fails.  Workers start out counted as unparked: a task spawned before they
 * first park can meet Tokio's window where a worker refused searching
 * (another one searches) parks without looking again, and the task waits
 * for its own worker (worker.c, "Parking"). */
static inline void test_rt_wait_idle(struct wsrt_runtime *rt)
{
	struct timespec ms = { 0, 1000000 };
	struct wsrt_metrics m;

	for (unsigned i = 0; i < 10000 * test_slow_factor(); i++) {
		wsrt_runtime_metrics(rt, &m);
		if (m.parked == m.workers)
			return;
		nanosleep(&ms, NULL);
	}
	FAILF("workers still not all parked after %u s: %u of %u",
	      10 * test_slow_factor(), m.parked, m.workers);
}

#endif
