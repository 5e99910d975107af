/* SPDX-License-Identifier: MIT */
/*
 * Tasks: the state word's transitions, reference counting, the task waker,
 * join handles and spawn.
 *
 * Owns: a task's lifetime.  Does not own: where a notified task is queued
 * (worker.c: wsrt_schedule) or the owned-task list (runtime.c).
 *
 * Life of a task, in state-word transitions:
 *  1. spawn: NOTIFIED, refs = owned + scheduler (+ join).  Scheduled.
 *  2. poll: NOTIFIED -> RUNNING (transition_to_running).
 *  3a. PENDING, not woken meanwhile: RUNNING -> idle, the scheduler ref is
 *      dropped.  A later wake sets NOTIFIED, takes a scheduler ref and
 *      schedules the task (wake_by_ref).
 *  3b. PENDING, woken during the poll (a wake saw RUNNING and only set
 *      NOTIFIED): RUNNING -> NOTIFIED, the scheduler ref is kept and the
 *      task is rescheduled at the back of the queue, like a yield.
 *  3c. READY: the state is dropped (the drop callback), the output stored,
 *      COMPLETE published, the join waker woken, the task leaves the owned
 *      list.  Wakes after this are no-ops.
 *  4. The last reference frees the task.
 */
#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "internal.h"
#include "wsrt_probes.h"

__thread struct wsrt_context wsrt_ctx;

/* glibc's fast bins (the x86-64 default, M_MXFAST): requests up to 120
 * bytes, whose frees from another thread take no arena lock. */
_Static_assert(sizeof(struct wsrt_task) <= 120, "a task fits malloc's fast bins");

/* The join waker's spinlock (struct wsrt_task says why not a mutex):
 * held for a copy and a clone; a holder preempted meanwhile gets the CPU
 * back through sched_yield. */
static void join_lock(struct wsrt_task *t)
{
	unsigned spins = 0;

	while (atomic_exchange_explicit(&t->join_lock, 1, memory_order_acquire))
		while (atomic_load_explicit(&t->join_lock, memory_order_relaxed)) {
			if (++spins < 100)
				__builtin_ia32_pause();
			else
				sched_yield();
		}
}

static void join_unlock(struct wsrt_task *t)
{
	atomic_store_explicit(&t->join_lock, 0, memory_order_release);
}

static inline uint64_t refs_of(uint64_t s)
{
	return s >> WSRT_TASK_REF_SHIFT;
}

struct wsrt_task *wsrt_task_new(struct wsrt_runtime *rt, wsrt_poll_fn poll,
				void *arg, wsrt_drop_fn drop, bool join)
{
	struct wsrt_task *t = calloc(1, sizeof(*t));
	uint64_t refs = join ? 3 : 2;

	if (!t)
		return NULL;
	atomic_init(&t->state, WSRT_TASK_NOTIFIED |
				       (join ? WSRT_TASK_JOIN_INTEREST : 0) |
				       refs * WSRT_TASK_REF_ONE);
	t->rt = rt;
	t->poll = poll;
	t->arg = arg;
	t->drop = drop;
	t->id = atomic_fetch_add_explicit(&rt->next_task_id, 1,
					  memory_order_relaxed) + 1;
	return t;
}

void wsrt_task_ref(struct wsrt_task *t)
{
	atomic_fetch_add_explicit(&t->state, WSRT_TASK_REF_ONE,
				  memory_order_relaxed);
}

void wsrt_task_unref(struct wsrt_task *t)
{
	/* Release our writes to the task; the freer acquires them all. */
	uint64_t prev = atomic_fetch_sub_explicit(&t->state, WSRT_TASK_REF_ONE,
						  memory_order_acq_rel);
	if (refs_of(prev) != 1)
		return;
	free(t);
}

void wsrt_task_transition_to_running(struct wsrt_task *t)
{
	/* Acquire: everything the waker published before waking us. */
	uint64_t prev = atomic_fetch_xor_explicit(
		&t->state, WSRT_TASK_NOTIFIED | WSRT_TASK_RUNNING,
		memory_order_acq_rel);
	/* Polled only when notified, and never by two workers at once. */
	assert((prev & WSRT_TASK_NOTIFIED) && !(prev & WSRT_TASK_RUNNING));
	(void)prev;
}

enum wsrt_task_idle_result wsrt_task_transition_to_idle(struct wsrt_task *t)
{
	uint64_t cur = atomic_load_explicit(&t->state, memory_order_relaxed);

	for (;;) {
		uint64_t next;
		bool notified = cur & WSRT_TASK_NOTIFIED;

		next = cur & ~(uint64_t)WSRT_TASK_RUNNING;
		if (!notified)
			next -= WSRT_TASK_REF_ONE;	/* the scheduler's */
		if (atomic_compare_exchange_weak_explicit(
			    &t->state, &cur, next, memory_order_acq_rel,
			    memory_order_relaxed))
			return notified ? WSRT_TASK_IDLE_NOTIFIED
					: WSRT_TASK_IDLE_OK;
	}
}

void wsrt_task_complete(struct wsrt_task *t, void *output, bool cancelled)
{
	struct wsrt_waker w;
	uint64_t set = WSRT_TASK_COMPLETE | (cancelled ? WSRT_TASK_CANCELLED : 0);
	uint64_t cur;

	if (t->drop)
		t->drop(t->arg);
	t->output = output;
	cur = atomic_load_explicit(&t->state, memory_order_relaxed);
	/* Release publishes output to the join handle's acquire. */
	while (!atomic_compare_exchange_weak_explicit(
		&t->state, &cur, (cur & ~(uint64_t)WSRT_TASK_RUNNING) | set,
		memory_order_acq_rel, memory_order_relaxed))
		;
	wsrt_runtime_owned_remove(t->rt, t);

	join_lock(t);
	w = t->join_waker;
	t->join_waker.vtable = NULL;
	join_unlock(t);
	wsrt_waker_wake(&w);
	wsrt_task_unref(t);	/* the owned list's */
}

void wsrt_task_wake_by_ref(struct wsrt_task *t)
{
	uint64_t cur = atomic_load_explicit(&t->state, memory_order_acquire);

	for (;;) {
		if (cur & (WSRT_TASK_COMPLETE | WSRT_TASK_NOTIFIED))
			return;
		bool schedule = !(cur & WSRT_TASK_RUNNING);
		uint64_t next = cur | WSRT_TASK_NOTIFIED;
		if (schedule)
			next += WSRT_TASK_REF_ONE;	/* the scheduler's */
		/* Release: what the waker wrote before waking is visible to
		 * the poll (pairs with transition_to_running / to_idle). */
		if (atomic_compare_exchange_weak_explicit(
			    &t->state, &cur, next, memory_order_acq_rel,
			    memory_order_acquire)) {
			if (schedule)
				wsrt_schedule(t, false);
			return;
		}
	}
}

/* ---- the task waker -------------------------------------------------------- */

static void task_waker_clone(const void *data)
{
	wsrt_task_ref((struct wsrt_task *)data);
}

static void task_waker_wake_by_ref(const void *data)
{
	wsrt_task_wake_by_ref((struct wsrt_task *)data);
}

static void task_waker_drop(const void *data)
{
	wsrt_task_unref((struct wsrt_task *)data);
}

static const struct wsrt_waker_vtable task_waker_vtable = {
	.clone = task_waker_clone,
	.wake_by_ref = task_waker_wake_by_ref,
	.drop = task_waker_drop,
};

struct wsrt_waker wsrt_task_waker(struct wsrt_task *t)
{
	return (struct wsrt_waker){ .vtable = &task_waker_vtable, .data = t };
}

/* ---- wakers in general ------------------------------------------------------ */

struct wsrt_waker wsrt_waker_clone(const struct wsrt_waker *w)
{
	if (w->vtable)
		w->vtable->clone(w->data);
	return *w;
}

void wsrt_waker_wake_by_ref(const struct wsrt_waker *w)
{
	if (w->vtable)
		w->vtable->wake_by_ref(w->data);
}

void wsrt_waker_drop(struct wsrt_waker *w)
{
	if (w->vtable)
		w->vtable->drop(w->data);
	w->vtable = NULL;
	w->data = NULL;
}

void wsrt_waker_wake(struct wsrt_waker *w)
{
	wsrt_waker_wake_by_ref(w);
	wsrt_waker_drop(w);
}

void wsrt_waker_store(struct wsrt_waker *slot, const struct wsrt_waker *w,
		      struct wsrt_waker *old)
{
	if (wsrt_waker_will_wake(slot, w))
		return;
	*old = *slot;
	*slot = wsrt_waker_clone(w);
}

bool wsrt_waker_is_set(const struct wsrt_waker *w)
{
	return w->vtable != NULL;
}

bool wsrt_waker_will_wake(const struct wsrt_waker *a,
			  const struct wsrt_waker *b)
{
	return a->vtable == b->vtable && a->data == b->data;
}

/* ---- the poll context -------------------------------------------------------- */

const struct wsrt_waker *wsrt_cx_waker(struct wsrt_cx *cx)
{
	return &cx->waker;
}

struct wsrt_runtime *wsrt_cx_runtime(struct wsrt_cx *cx)
{
	return cx->rt;
}

uint64_t wsrt_cx_task_id(const struct wsrt_cx *cx)
{
	return cx->task ? cx->task->id : 0;
}

int wsrt_cx_worker(const struct wsrt_cx *cx)
{
	return cx->worker;
}

void wsrt_cx_set_output(struct wsrt_cx *cx, void *output)
{
	cx->output = output;
}

enum wsrt_poll wsrt_yield(struct wsrt_cx *cx)
{
	/* The task is RUNNING, so the wake only sets NOTIFIED; after the
	 * poll, transition_to_idle sees it and requeues at the back. */
	wsrt_waker_wake_by_ref(&cx->waker);
	return WSRT_PENDING;
}

bool wsrt_coop_proceed(struct wsrt_cx *cx)
{
	if (wsrt_ctx.budget == 0) {
		wsrt_waker_wake_by_ref(&cx->waker);
		return false;
	}
	wsrt_ctx.budget--;
	return true;
}

/* ---- spawn and join ------------------------------------------------------------ */

static struct wsrt_task *spawn(struct wsrt_runtime *rt, wsrt_poll_fn poll,
			       void *arg, wsrt_drop_fn drop, bool join)
{
	struct wsrt_task *t;
	int err;

	if (!rt || !poll) {
		errno = EINVAL;
		return NULL;
	}
	t = wsrt_task_new(rt, poll, arg, drop, join);
	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	err = wsrt_runtime_owned_insert(rt, t);
	if (err) {
		free(t);
		errno = -err;
		return NULL;
	}
	WSRT_PROBE_SPAWN(t->id, wsrt_ctx.task ? wsrt_ctx.task->id : 0,
			 (uintptr_t)poll, (uintptr_t)arg);
	/* After this the task may run, finish and lose every reference but
	 * the join handle's. */
	wsrt_schedule(t, false);
	return t;
}

struct wsrt_join *wsrt_spawn(struct wsrt_runtime *rt, wsrt_poll_fn poll,
			     void *arg, wsrt_drop_fn drop)
{
	return (struct wsrt_join *)spawn(rt, poll, arg, drop, true);
}

int wsrt_spawn_detached(struct wsrt_runtime *rt, wsrt_poll_fn poll,
			void *arg, wsrt_drop_fn drop)
{
	return spawn(rt, poll, arg, drop, false) ? 0 : -errno;
}

enum wsrt_poll wsrt_join_poll(struct wsrt_join *jh, struct wsrt_cx *cx,
			      void **output)
{
	struct wsrt_task *t = (struct wsrt_task *)jh;
	struct wsrt_waker old = { 0 };
	bool done;

	if (!(atomic_load_explicit(&t->state, memory_order_acquire) &
	      WSRT_TASK_COMPLETE)) {
		join_lock(t);
		/* Under the lock: the completer sets COMPLETE before taking
		 * the lock, so either we see it or it sees our waker. */
		done = atomic_load_explicit(&t->state, memory_order_acquire) &
		       WSRT_TASK_COMPLETE;
		if (!done)
			wsrt_waker_store(&t->join_waker, &cx->waker, &old);
		join_unlock(t);
		wsrt_waker_drop(&old);
		if (!done)
			return WSRT_PENDING;
	}
	if (output)
		*output = t->output;
	return WSRT_READY;
}

bool wsrt_join_is_finished(const struct wsrt_join *jh)
{
	const struct wsrt_task *t = (const struct wsrt_task *)jh;
	return atomic_load_explicit(&t->state, memory_order_acquire) &
	       WSRT_TASK_COMPLETE;
}

bool wsrt_join_was_cancelled(const struct wsrt_join *jh)
{
	const struct wsrt_task *t = (const struct wsrt_task *)jh;
	return atomic_load_explicit(&t->state, memory_order_acquire) &
	       WSRT_TASK_CANCELLED;
}

uint64_t wsrt_join_task_id(const struct wsrt_join *jh)
{
	return ((const struct wsrt_task *)jh)->id;
}

void wsrt_join_release(struct wsrt_join *jh)
{
	struct wsrt_task *t = (struct wsrt_task *)jh;
	struct wsrt_waker w;

	if (!t)
		return;
	atomic_fetch_and_explicit(&t->state, ~(uint64_t)WSRT_TASK_JOIN_INTEREST,
				  memory_order_relaxed);
	join_lock(t);
	w = t->join_waker;
	t->join_waker.vtable = NULL;
	join_unlock(t);
	wsrt_waker_drop(&w);
	wsrt_task_unref(t);
}
