/* SPDX-License-Identifier: MIT */
/*
 * Lost-wakeup stress: over a million task-to-task notifications with the
 * workers constantly going idle and waking, in both LIFO modes, plus wakes
 * from foreign threads.  A single lost wakeup leaves a token stranded and
 * the test hangs — the harness's timeout turns that into a failure.
 *
 * The ring: RING tasks, TOKENS tokens.  A task holding tokens passes each
 * to a scattered successor (atomic add, then a wake).  Few tokens for many tasks
 * keep most workers parked most of the time, so nearly every hop races a
 * worker going to sleep against a notification: the window idle.c and
 * park.c must close.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "harness.h"
#include "wsrt.h"

#define RING 64
#define TOKENS 64
#define WORK_NS 100	/* per hop: so idle workers find work to steal */

struct ring;

struct node {
	struct ring *ring;
	unsigned idx;
	_Atomic unsigned tokens;
	_Atomic int from_worker;	/* who gave the last token */
	struct wsrt_waker waker;	/* written once, before ready is set */
	_Atomic int ready;
};

struct ring {
	struct node nodes[RING];
	unsigned long target_cross;	/* stop after this many cross-worker */
	_Atomic unsigned long hops;
	_Atomic unsigned long cross_worker;
	_Atomic int done;
	_Atomic unsigned registered;
};

static void give(struct ring *r, unsigned to, int from_worker)
{
	struct node *n = &r->nodes[to];

	/* The add happens before the wake; the wake's release/acquire makes
	 * it visible to the poll it causes. */
	atomic_store(&n->from_worker, from_worker);
	atomic_fetch_add(&n->tokens, 1);
	wsrt_waker_wake_by_ref(&n->waker);
}

static enum wsrt_poll ring_node(struct wsrt_cx *cx, void *arg)
{
	struct node *n = arg;
	struct ring *r = n->ring;
	int me = wsrt_cx_worker(cx);

	if (!atomic_load(&n->ready)) {
		n->waker = wsrt_waker_clone(wsrt_cx_waker(cx));
		atomic_store(&n->ready, 1);
		atomic_fetch_add(&r->registered, 1);
	}
	if (atomic_load(&r->done))
		return WSRT_READY;
	int from = atomic_load(&n->from_worker);
	unsigned have = atomic_exchange(&n->tokens, 0);
	/* Notified from another worker: the wake crossed threads. */
	if (have && from >= 0 && from != me &&
	    atomic_fetch_add(&r->cross_worker, have) + have >= r->target_cross) {
		/* Finished: wake everyone so they can return. */
		atomic_store(&r->done, 1);
		for (unsigned k = 0; k < RING; k++)
			wsrt_waker_wake_by_ref(&r->nodes[k].waker);
		return WSRT_READY;
	}
	for (unsigned i = 0; i < have; i++) {
		uint64_t until = wsrt_now_ns() + WORK_NS;
		while (wsrt_now_ns() < until)
			;
		unsigned long hop = atomic_fetch_add(&r->hops, 1) + 1;
		/* Scatter tokens so they don't travel as one wave. */
		give(r, (unsigned)((n->idx + 1 + hop * 2654435761UL) % RING), me);
	}
	return WSRT_PENDING;
}

struct join_all {
	struct wsrt_join **jh;
	unsigned n;
};

static enum wsrt_poll join_all(struct wsrt_cx *cx, void *arg)
{
	struct join_all *j = arg;
	enum wsrt_poll res = WSRT_READY;

	for (unsigned i = 0; i < j->n; i++)
		if (wsrt_join_poll(j->jh[i], cx, NULL) == WSRT_PENDING)
			res = WSRT_PENDING;
	return res;
}

static void run_ring(unsigned workers, bool stealable, unsigned long cross)
{
	struct wsrt_config cfg;
	struct ring *r = calloc(1, sizeof(*r));
	struct wsrt_join *jh[RING];
	struct join_all ja = { jh, RING };

	wsrt_config_default(&cfg);
	cfg.workers = workers;
	cfg.lifo_stealable = stealable;
	struct wsrt_runtime *rt = wsrt_runtime_new(&cfg);
	ASSERT_TRUE(rt != NULL);

	r->target_cross = cross;
	for (unsigned i = 0; i < RING; i++) {
		r->nodes[i].ring = r;
		r->nodes[i].idx = i;
		atomic_init(&r->nodes[i].from_worker, -1);
		jh[i] = wsrt_spawn(rt, ring_node, &r->nodes[i], NULL);
		ASSERT_TRUE(jh[i] != NULL);
	}
	while (atomic_load(&r->registered) < RING)
		sched_yield();
	/* Hand the tokens in from this (foreign) thread. */
	for (unsigned t = 0; t < TOKENS; t++)
		give(r, t * (RING / TOKENS), -1);

	/* Returns only once every task saw `done`: a lost wakeup strands a
	 * token, stops the count short and hangs here. */
	ASSERT_EQ(wsrt_block_on(rt, join_all, &ja), 0);
	ASSERT_GE(atomic_load(&r->cross_worker), cross);
	printf("# %u workers, lifo_stealable=%d: %lu hops, %lu cross-worker\n",
	       workers, stealable, atomic_load(&r->hops),
	       atomic_load(&r->cross_worker));
	for (unsigned i = 0; i < RING; i++) {
		wsrt_join_release(jh[i]);
		wsrt_waker_drop(&r->nodes[i].waker);
	}
	wsrt_runtime_free(rt);
	free(r);
}

/* A million notifications polled on another worker than the notifier's,
 * in each configuration.  Under TSan (TEST_SLOW) the count stays; the
 * timeout scales instead.  Alone a run takes ~0.7 s; when other processes
 * starve one worker of CPU, the other runs nearly every hop and crossings
 * become rare, so the timeout (the only way a lost wakeup shows here) is
 * generous. */
#define CROSS 1000000

TEST_T(lost_wakeup_ring_legacy_two_workers, 300)
{
	run_ring(2, false, CROSS);
}

TEST_T(lost_wakeup_ring_stealable_two_workers, 300)
{
	run_ring(2, true, CROSS);
}

TEST_T(lost_wakeup_ring_stealable_four_workers, 300)
{
	/* More workers than cores: preemption in every window. */
	run_ring(4, true, CROSS);
}

/* ---- foreign threads waking a parked runtime, one wake at a time ---- */

struct pinged {
	_Atomic unsigned long seen, sent;
	struct wsrt_waker waker;
	_Atomic int ready;
	unsigned long n;
};

static enum wsrt_poll pinged_task(struct wsrt_cx *cx, void *arg)
{
	struct pinged *p = arg;

	if (!atomic_load(&p->ready)) {
		p->waker = wsrt_waker_clone(wsrt_cx_waker(cx));
		atomic_store(&p->ready, 1);
	}
	atomic_store(&p->seen, atomic_load(&p->sent));
	return atomic_load(&p->seen) == p->n ? WSRT_READY : WSRT_PENDING;
}

static enum wsrt_poll join_one(struct wsrt_cx *cx, void *arg)
{
	return wsrt_join_poll(arg, cx, NULL);
}

TEST_T(wake_from_foreign_thread_after_every_park_is_never_lost, 120)
{
	/* Each wake arrives while the runtime is idle or going idle; the
	 * next is sent only once the previous one was seen, so a lost wake
	 * hangs here. */
	struct wsrt_config cfg;
	struct pinged p = { .n = 100000 / test_slow_factor() };

	wsrt_config_default(&cfg);
	cfg.workers = 2;
	struct wsrt_runtime *rt = wsrt_runtime_new(&cfg);
	struct wsrt_join *jh = wsrt_spawn(rt, pinged_task, &p, NULL);
	while (!atomic_load(&p.ready))
		sched_yield();
	for (unsigned long i = 1; i <= p.n; i++) {
		atomic_store(&p.sent, i);
		wsrt_waker_wake_by_ref(&p.waker);
		while (atomic_load(&p.seen) < i)
			;
	}
	ASSERT_EQ(wsrt_block_on(rt, join_one, jh), 0);
	wsrt_join_release(jh);
	wsrt_waker_drop(&p.waker);
	wsrt_runtime_free(rt);
}
