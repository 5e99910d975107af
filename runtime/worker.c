/* SPDX-License-Identifier: MIT */
/*
 * The worker: its run loop, where notified tasks go, stealing, searching
 * and parking (Tokio's multi_thread/worker.rs).
 *
 * Owns: every scheduling decision and its probe.  Does not own: the queue
 * mechanics (queue.c, inject.c), the idle counters (idle.c), sleeping
 * (park.c), task state (task.c).
 *
 * One tick of the loop:
 *  1. Every global_queue_interval ticks take from the inject queue first,
 *     so it can't starve; otherwise the LIFO slot, then the local queue,
 *     then a batch from the inject queue.
 *  2. Run the task; then, while the budget lasts and the LIFO slot holds a
 *     task, run that too — at most WSRT_MAX_LIFO_POLLS in a row, after
 *     which notifications go to the back of the queue until the slot
 *     drains (ping-pong pairs can't starve the queue).
 *  3. Nothing local: search (steal half of a random victim's queue — and in
 *     lifo_stealable mode its LIFO task — then the inject queue).
 *  4. Nothing anywhere: park until notified — on the I/O driver if it is
 *     free (epoll_wait until the nearest timer), else on the futex.
 *  Every event_interval ticks, a busy worker also polls the driver.
 *
 * Where a notification goes (wsrt_schedule): from a worker of the task's
 * runtime, into that worker's LIFO slot (the old occupant is displaced to
 * the back of the local queue); a yield goes to the back of the queue; from
 * any other thread, into the inject queue.  Then, if there is work others
 * could take and nobody is searching, one parked worker is woken.  (A yield
 * is new work for others only when it is not this worker's next task; a
 * batch taken from the inject queue is, as in Tokio's should_notify_others
 * after a driver turn.)  As in
 * Tokio before 1.51, a task put into an *empty* LIFO slot is not work
 * others could take — nobody is woken, and nobody may steal it — unless
 * lifo_stealable is on.  That is the stall stallscope calls stuck_lifo.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "wsrt_probes.h"

static inline __attribute__((always_inline)) void notify_parked(struct wsrt_runtime *rt, int from)
{
	int idx = wsrt_idle_worker_to_notify(&rt->idle);

	if (idx < 0)
		return;
	WSRT_PROBE_WAKE_WORKER(from, idx);
	wsrt_parker_unpark(&rt->workers[idx].parker, &rt->driver);
}

static void inject_push_batch(struct wsrt_runtime *rt, struct wsrt_task *batch,
			      unsigned n)
{
	size_t len;

	WSRT_PROBE_INJECT_PUSH(n == 1 ? batch->id : 0, n,
			       wsrt_inject_len(&rt->inject) + n);
	if (wsrt_inject_push_batch(&rt->inject, batch, n, &len))
		return;
	/* Closed: the runtime is shutting down; drop the scheduler refs. */
	while (batch) {
		struct wsrt_task *next = batch->next;
		wsrt_task_unref(batch);
		batch = next;
	}
}

static void push_back_or_overflow(struct wsrt_worker *w, struct wsrt_task *t)
{
	unsigned n;
	struct wsrt_task *batch =
		wsrt_queue_push_back_or_overflow(&w->queue, t, &n);

	if (batch) {
		WSRT_PROBE_OVERFLOW(w->index, n);
		inject_push_batch(w->rt, batch, n);
	}
}

static void schedule_local(struct wsrt_worker *w, struct wsrt_task *t,
			   bool is_yield)
{
	struct wsrt_runtime *rt = w->rt;
	bool should_notify;

	if (is_yield || !w->lifo_enabled) {
		bool was_empty = is_yield && wsrt_queue_is_empty(&w->queue);

		WSRT_PROBE_NOTIFY(t->id, w->index, WSRT_DEST_LOCAL, 0);
		push_back_or_overflow(w, t);
		/* A yield is requeued once its poll is over, as this worker
		 * picks its next task: the task is more work for others
		 * only if it is not that next task (the queue was empty and
		 * the LIFO slot goes first).  Behind a non-empty queue it
		 * adds nothing: what is queued was stealable, and notified,
		 * before.  The notification's SeqCst RMW on the idle state
		 * was 39 % of yield_many's samples with 2 workers. */
		should_notify = !is_yield ||
				(was_empty && atomic_load_explicit(&w->queue.lifo,
								   memory_order_relaxed));
	} else {
		/* The probe fires before the swap, so it precedes any poll of
		 * t by a thief.  Only we fill the slot, so its occupant is the
		 * task we put there last — unless a thief takes it between
		 * this check and the swap; then its steal probe names it. */
		bool occupied = atomic_load_explicit(&w->queue.lifo,
						     memory_order_relaxed);
		WSRT_PROBE_NOTIFY(t->id, w->index, WSRT_DEST_LIFO,
				  occupied ? w->lifo_id : 0);
		w->lifo_id = t->id;
		struct wsrt_task *prev = wsrt_queue_lifo_swap(&w->queue, t);
		if (prev)
			push_back_or_overflow(w, prev);
		should_notify = prev != NULL || rt->cfg.lifo_stealable;
	}
	/* During a driver turn wakes come in batches: the notification waits
	 * until the turn is over (after_driver_turn), as in Tokio. */
	if (should_notify && !w->in_driver)
		notify_parked(rt, (int)w->index);
}

static void schedule_remote(struct wsrt_runtime *rt, struct wsrt_task *t)
{
	WSRT_PROBE_NOTIFY(t->id, wsrt_current_worker_index(rt),
			  WSRT_DEST_INJECT, 0);
	t->next = NULL;
	inject_push_batch(rt, t, 1);
	notify_parked(rt, wsrt_current_worker_index(rt));
}

void wsrt_schedule(struct wsrt_task *t, bool is_yield)
{
	struct wsrt_worker *w = wsrt_ctx.worker;

	if (w && w->rt == t->rt)
		schedule_local(w, t, is_yield);
	else
		schedule_remote(t->rt, t);
}

/* ---- running tasks ------------------------------------------------------- */

static void poll_task(struct wsrt_worker *w, struct wsrt_task *t, int src)
{
	/* First, so that nothing of the probe (src) lives across a call. */
	WSRT_PROBE_POLL_START(w->index, t->id, src);
#ifndef WSRT_NO_PROBES
	/* Once transition_to_idle drops our reference another worker may
	 * run and free t: poll_end names it from this copy, kept in memory
	 * rather than in a register held across the poll. */
	w->polling_id = t->id;
#endif
	struct wsrt_cx cx = {
		.waker = wsrt_task_waker(t),
		.rt = w->rt,
		.task = t,
		.worker = (int)w->index,
	};
	enum wsrt_poll res;

	wsrt_task_transition_to_running(t);
	wsrt_ctx.task = t;
	res = t->poll(&cx, t->arg);
	wsrt_ctx.task = NULL;

	if (res == WSRT_READY) {
		WSRT_PROBE_POLL_END(w->index, t->id, WSRT_RES_READY);
		wsrt_task_complete(t, cx.output, false);
		wsrt_task_unref(t);	/* the scheduler's */
	} else if (wsrt_task_transition_to_idle(t) == WSRT_TASK_IDLE_NOTIFIED) {
		WSRT_PROBE_POLL_END(w->index, t->id, WSRT_RES_YIELD);
		schedule_local(w, t, true);
	} else {
		WSRT_PROBE_POLL_END(w->index, w->polling_id, WSRT_RES_PENDING);
	}
}

static void transition_from_searching(struct wsrt_worker *w)
{
	if (!w->is_searching)
		return;
	w->is_searching = false;
	WSRT_PROBE_SEARCH_END(w->index, 1);
	/* The last searcher found work: wake another worker to look for
	 * what may be behind it (idle.c, step 2). */
	if (wsrt_idle_transition_worker_from_searching(&w->rt->idle))
		notify_parked(w->rt, (int)w->index);
}

static void run_task(struct wsrt_worker *w, struct wsrt_task *t, int src)
{
	unsigned lifo_polls = 0;

	/* Eager handoff (Tokio PR 8010): back from the driver and about to
	 * run tasks, which may not yield for a while — wake a parked worker
	 * first so that someone holds the driver.  Legacy: nobody does until
	 * a worker runs out of work, and new I/O waits unseen. */
	if (w->left_driver) {
		w->left_driver = false;
		if (w->rt->cfg.eager_handoff)
			notify_parked(w->rt, (int)w->index);
	}
	transition_from_searching(w);
	wsrt_ctx.budget = WSRT_COOP_BUDGET;
	poll_task(w, t, src);
	for (;;) {
		t = wsrt_queue_lifo_take(&w->queue);
		if (!t) {
			w->lifo_enabled = true;
			return;
		}
		if (wsrt_ctx.budget == 0) {
			/* Out of budget: the LIFO task waits its turn at the
			 * back of the queue (a move, not a new notification). */
			WSRT_PROBE_NOTIFY(t->id, w->index, WSRT_DEST_LOCAL, 0);
			push_back_or_overflow(w, t);
			return;
		}
		if (++lifo_polls >= WSRT_MAX_LIFO_POLLS)
			w->lifo_enabled = false;
		poll_task(w, t, WSRT_SRC_LIFO);
	}
}

/* ---- finding work ------------------------------------------------------- */

static struct wsrt_task *inject_pop_batch(struct wsrt_worker *w, unsigned max)
{
	struct wsrt_task *ts[WSRT_LOCAL_QUEUE_CAP / 2];
	size_t len;
	unsigned n;

	if (max > WSRT_LOCAL_QUEUE_CAP / 2)
		max = WSRT_LOCAL_QUEUE_CAP / 2;
	if (max == 0)
		max = 1;
	n = wsrt_inject_pop_n(&w->rt->inject, ts, max, &len);
	if (n == 0)
		return NULL;
	WSRT_PROBE_INJECT_POP(w->index, n, len);
	/* The first runs now; the rest go to our queue, where others can
	 * steal them: wake a parked worker to share them (as after a driver
	 * turn that queued more than one). */
	if (n > 1) {
		wsrt_queue_push_back_n(&w->queue, ts + 1, n - 1);
		if (!w->is_searching)
			notify_parked(w->rt, (int)w->index);
	}
	return ts[0];
}

static struct wsrt_task *next_task(struct wsrt_worker *w, int *src)
{
	struct wsrt_runtime *rt = w->rt;
	struct wsrt_task *t;

	if (w->tick % rt->cfg.global_queue_interval == 0) {
		*src = WSRT_SRC_INJECT;
		t = inject_pop_batch(w, 1);
		if (t)
			return t;
	}
	*src = WSRT_SRC_LIFO;
	t = wsrt_queue_lifo_take(&w->queue);
	if (t)
		return t;
	*src = WSRT_SRC_LOCAL;
	t = wsrt_queue_pop(&w->queue);
	if (t)
		return t;
	if (wsrt_inject_len(&rt->inject) == 0)
		return NULL;
	/* Idle: take a fair share of the inject queue, at most half our
	 * queue's room, so other workers get some too. */
	unsigned cap = wsrt_queue_remaining_slots(&w->queue);
	size_t share = wsrt_inject_len(&rt->inject) / rt->nworkers + 1;
	if (cap > WSRT_LOCAL_QUEUE_CAP / 2)
		cap = WSRT_LOCAL_QUEUE_CAP / 2;
	*src = WSRT_SRC_INJECT;
	return inject_pop_batch(w, share < cap ? (unsigned)share : cap);
}

static bool transition_to_searching(struct wsrt_worker *w)
{
	if (!w->is_searching) {
		w->is_searching =
			wsrt_idle_transition_worker_to_searching(&w->rt->idle);
		if (w->is_searching)
			WSRT_PROBE_SEARCH_START(w->index);
	}
	return w->is_searching;
}

static uint32_t fastrand_n(struct wsrt_worker *w, uint32_t n)
{
	/* xorshift64*: good enough to spread victims. */
	w->rand ^= w->rand >> 12;
	w->rand ^= w->rand << 25;
	w->rand ^= w->rand >> 27;
	return (uint32_t)(((w->rand * 0x2545F4914F6CDD1DULL) >> 32) * n >> 32);
}

static struct wsrt_task *steal_work(struct wsrt_worker *w, int *src)
{
	struct wsrt_runtime *rt = w->rt;
	unsigned n = rt->nworkers;

	if (!transition_to_searching(w))
		return NULL;
	uint32_t start = fastrand_n(w, n);
	for (unsigned i = 0; i < n; i++) {
		unsigned v = (start + i) % n;
		struct wsrt_task *t, *lifo;
		unsigned count;

		if (v == w->index)
			continue;
		t = wsrt_queue_steal_into(&rt->workers[v].queue, &w->queue,
					  rt->cfg.lifo_stealable, &count, &lifo);
		if (t) {
			WSRT_PROBE_STEAL(w->index, v, count, lifo ? lifo->id : 0);
			*src = WSRT_SRC_STEAL;
			return t;
		}
	}
	*src = WSRT_SRC_INJECT;
	return inject_pop_batch(w, 1);
}

/* ---- parking -------------------------------------------------------------
 *
 * Only the last searcher to park looks at every queue once more (idle.c,
 * step 3), as in Tokio.  That leaves Tokio's window, kept here on purpose:
 * a worker refused searching (with 2 workers, while the other searches)
 * still counts as unparked until it parks, so a notification made then
 * wakes nobody ("all are up") and the worker parks without looking.  The
 * task waits for its own worker: a runnable-while-parked bubble, which is
 * what stallscope is for.  Workers start out unparked, so tests that
 * count on a steal start from idle workers (test_rt_wait_idle). */

static bool has_tasks(struct wsrt_worker *w)
{
	return atomic_load_explicit(&w->queue.lifo, memory_order_relaxed) ||
	       !wsrt_queue_is_empty(&w->queue);
}

static void notify_if_work_pending(struct wsrt_runtime *rt, int from)
{
	for (unsigned i = 0; i < rt->nworkers; i++) {
		if (wsrt_queue_has_stealable(&rt->workers[i].queue,
					     rt->cfg.lifo_stealable)) {
			notify_parked(rt, from);
			return;
		}
	}
	if (wsrt_inject_len(&rt->inject))
		notify_parked(rt, from);
}

static bool transition_to_parked(struct wsrt_worker *w)
{
	bool was_searching = w->is_searching;

	if (has_tasks(w))
		return false;
	if (was_searching)
		WSRT_PROBE_SEARCH_END(w->index, 0);
	bool last = wsrt_idle_transition_worker_to_parked(&w->rt->idle,
							  w->index,
							  was_searching);
	w->is_searching = false;
	/* The last searcher re-checks every queue (idle.c, step 3). */
	if (last)
		notify_if_work_pending(w->rt, (int)w->index);
	return true;
}

static bool transition_from_parked(struct wsrt_worker *w)
{
	struct wsrt_idle *idle = &w->rt->idle;

	if (has_tasks(w)) {
		/* Tasks arrived in our own queue while parked (the driver
		 * queues wakeups there).  If we are still on the sleeper list
		 * nobody counted us as searching. */
		w->is_searching = !wsrt_idle_unpark_worker_by_id(idle, w->index);
		if (w->is_searching)
			WSRT_PROBE_SEARCH_START(w->index);
		return true;
	}
	if (wsrt_idle_is_parked(idle, w->index))
		return false;	/* spurious: nobody picked us */
	/* Unparked by a notifier, which counted us as searching. */
	w->is_searching = true;
	WSRT_PROBE_SEARCH_START(w->index);
	return true;
}

/* Tokio's should_notify_others: the driver queued more than one task on
 * this worker; unless we search (and so will wake someone when we find
 * work), wake a parked worker to share them. */
static void after_driver_turn(struct wsrt_worker *w)
{
	if (w->is_searching)
		return;
	unsigned n = wsrt_queue_len(&w->queue) +
		     (atomic_load_explicit(&w->queue.lifo,
					   memory_order_relaxed) ? 1 : 0);
	if (n > 1)
		notify_parked(w->rt, (int)w->index);
}

static void park(struct wsrt_worker *w)
{
	struct wsrt_runtime *rt = w->rt;

	if (!transition_to_parked(w))
		return;
	while (!atomic_load_explicit(&rt->shutdown, memory_order_acquire)) {
		/* Wakes from our own driver turn go to our queue, and their
		 * notifications wait for after_driver_turn. */
		w->in_driver = true;
		bool drove = wsrt_parker_park(&w->parker, (int)w->index,
					      &rt->driver);
		w->in_driver = false;
		if (!transition_from_parked(w))
			continue;
		if (drove) {
			w->left_driver = true;
			after_driver_turn(w);
		}
		break;
	}
}

/* Every event_interval ticks a busy worker polls the driver (timeout 0) if
 * it is free, so I/O is not starved while every worker is busy. */
static void maintenance(struct wsrt_worker *w)
{
	struct wsrt_runtime *rt = w->rt;

	if (w->tick % rt->cfg.event_interval)
		return;
	if (!wsrt_driver_try_lock(&rt->driver))
		return;
	w->in_driver = true;
	wsrt_driver_turn(&rt->driver, (int)w->index, false);
	w->in_driver = false;
	wsrt_driver_unlock(&rt->driver);
	after_driver_turn(w);
}

/* ---- the loop ------------------------------------------------------------ */

void *wsrt_worker_main(void *arg)
{
	struct wsrt_worker *w = arg;
	struct wsrt_runtime *rt = w->rt;
	char name[16];

	w->tid = gettid();
	snprintf(name, sizeof(name), "%s%u", rt->cfg.thread_name, w->index);
	pthread_setname_np(pthread_self(), name);
	wsrt_ctx.worker = w;
	WSRT_PROBE_WORKER_START(w->index, w->tid);

	while (!atomic_load_explicit(&rt->shutdown, memory_order_acquire)) {
		struct wsrt_task *t;
		int src;

		w->tick++;
		maintenance(w);
		t = next_task(w, &src);
		if (!t)
			t = steal_work(w, &src);
		if (t)
			run_task(w, t, src);
		else
			park(w);
	}

	WSRT_PROBE_WORKER_STOP(w->index, w->tid);
	wsrt_ctx.worker = NULL;
	return NULL;
}
