/* SPDX-License-Identifier: MIT */
/*
 * Idle accounting: how many workers are searching for work and how many are
 * unparked, and which are asleep (Tokio's idle.rs).
 *
 * Owns: the counters, the sleeper list.  Does not own: the actual sleeping
 * and waking (park.c) or the decision of when to notify (worker.c).
 *
 * The no-lost-wakeup argument, in steps:
 *  1. A notifier first makes work visible (queue push, release), then reads
 *     the state with a SeqCst RMW (worker_to_notify).  It wakes a sleeper
 *     only if nobody searches and somebody sleeps.
 *  2. A worker that stops searching decrements num_searching (SeqCst).  If
 *     it found work and was the last searcher, it wakes another worker, so
 *     the work behind it is looked for (worker.c: transition_from_searching).
 *  3. A worker going to sleep decrements num_unparked (and num_searching if
 *     it searched) under the lock, SeqCst.  If it was the last searcher it
 *     re-checks every queue afterwards (worker.c: notify_if_work_pending).
 *  Either the notifier's read (1) follows the parker's decrement (3) — it
 *  sees a sleeper and nobody searching, and wakes one — or it precedes it,
 *  and then the last searcher's re-check (3) follows the push and sees the
 *  work.  SeqCst on both sides is what makes "precedes" total.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

#define SEARCH_MASK 0xffffffffULL
#define UNPARK_ONE (1ULL << 32)

static inline unsigned num_searching(uint64_t s)
{
	return (unsigned)(s & SEARCH_MASK);
}

static inline unsigned num_unparked(uint64_t s)
{
	return (unsigned)(s >> 32);
}

int wsrt_idle_init(struct wsrt_idle *idle, unsigned num_workers)
{
	idle->sleepers = calloc(num_workers, sizeof(*idle->sleepers));
	if (!idle->sleepers)
		return -ENOMEM;
	/* Workers start unparked and not searching. */
	atomic_init(&idle->state, (uint64_t)num_workers << 32);
	idle->num_workers = num_workers;
	idle->num_sleepers = 0;
	pthread_mutex_init(&idle->lock, NULL);
	return 0;
}

void wsrt_idle_destroy(struct wsrt_idle *idle)
{
	pthread_mutex_destroy(&idle->lock);
	free(idle->sleepers);
}

static bool notify_should_wakeup(struct wsrt_idle *idle)
{
	/* SeqCst RMW rather than a load: it must be ordered after the work
	 * push and against the searchers' SeqCst decrements (step 1). */
	uint64_t s = atomic_fetch_add_explicit(&idle->state, 0,
					       memory_order_seq_cst);
	return num_searching(s) == 0 && num_unparked(s) < idle->num_workers;
}

int wsrt_idle_worker_to_notify(struct wsrt_idle *idle)
{
	if (!notify_should_wakeup(idle))
		return -1;
	pthread_mutex_lock(&idle->lock);
	if (!notify_should_wakeup(idle) || idle->num_sleepers == 0) {
		pthread_mutex_unlock(&idle->lock);
		return -1;
	}
	/* The woken worker starts out searching. */
	atomic_fetch_add_explicit(&idle->state, UNPARK_ONE + 1,
				  memory_order_seq_cst);
	int w = (int)idle->sleepers[--idle->num_sleepers];
	pthread_mutex_unlock(&idle->lock);
	return w;
}

bool wsrt_idle_transition_worker_to_parked(struct wsrt_idle *idle,
					   unsigned worker, bool is_searching)
{
	uint64_t dec = UNPARK_ONE + (is_searching ? 1 : 0);

	pthread_mutex_lock(&idle->lock);
	uint64_t prev = atomic_fetch_sub_explicit(&idle->state, dec,
						  memory_order_seq_cst);
	idle->sleepers[idle->num_sleepers++] = worker;
	pthread_mutex_unlock(&idle->lock);
	return is_searching && num_searching(prev) == 1;
}

bool wsrt_idle_transition_worker_to_searching(struct wsrt_idle *idle)
{
	uint64_t s = atomic_load_explicit(&idle->state, memory_order_seq_cst);

	/* At most half the workers search: an optimisation against
	 * contention, so the check-then-increment race is harmless. */
	if (2 * num_searching(s) >= idle->num_workers)
		return false;
	atomic_fetch_add_explicit(&idle->state, 1, memory_order_seq_cst);
	return true;
}

bool wsrt_idle_transition_worker_from_searching(struct wsrt_idle *idle)
{
	uint64_t prev = atomic_fetch_sub_explicit(&idle->state, 1,
						  memory_order_seq_cst);
	return num_searching(prev) == 1;
}

bool wsrt_idle_unpark_worker_by_id(struct wsrt_idle *idle, unsigned worker)
{
	bool found = false;

	pthread_mutex_lock(&idle->lock);
	for (unsigned i = 0; i < idle->num_sleepers; i++) {
		if (idle->sleepers[i] == worker) {
			idle->sleepers[i] =
				idle->sleepers[--idle->num_sleepers];
			atomic_fetch_add_explicit(&idle->state, UNPARK_ONE,
						  memory_order_seq_cst);
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&idle->lock);
	return found;
}

bool wsrt_idle_is_parked(struct wsrt_idle *idle, unsigned worker)
{
	bool found = false;

	pthread_mutex_lock(&idle->lock);
	for (unsigned i = 0; i < idle->num_sleepers && !found; i++)
		found = idle->sleepers[i] == worker;
	pthread_mutex_unlock(&idle->lock);
	return found;
}

unsigned wsrt_idle_num_searching(struct wsrt_idle *idle)
{
	return num_searching(atomic_load(&idle->state));
}

unsigned wsrt_idle_num_unparked(struct wsrt_idle *idle)
{
	return num_unparked(atomic_load(&idle->state));
}
