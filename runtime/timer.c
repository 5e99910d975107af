/* SPDX-License-Identifier: MIT */
/*
 * Timers: the sleep/deadline future and the runtime's timer heap (a binary
 * min-heap by deadline under the driver's timer_lock).  The worker parked
 * on the driver sleeps in epoll until the nearest deadline; arming a timer
 * earlier than that wakes it through the eventfd so it sleeps less.
 *
 * Owns: the heap and each timer's state.  Does not own: the waiting
 * (driver.c) or where woken tasks go (the wake does).
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"
#include "wsrt_probes.h"

#define NOT_IN_HEAP SIZE_MAX

struct wsrt_sleep {
	struct wsrt_driver *d;		/* immutable */
	uint64_t id;			/* immutable */
	uint64_t deadline;		/* under timer_lock */
	size_t idx;			/* under timer_lock: heap slot */
	bool fired;			/* under timer_lock */
	struct wsrt_waker waker;	/* under timer_lock */
};

/* ---- the heap (timer_lock held) -------------------------------------------- */

static void heap_set(struct wsrt_driver *d, size_t i, struct wsrt_sleep *s)
{
	d->heap[i] = s;
	s->idx = i;
}

static void sift_up(struct wsrt_driver *d, size_t i)
{
	struct wsrt_sleep *s = d->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (d->heap[parent]->deadline <= s->deadline)
			break;
		heap_set(d, i, d->heap[parent]);
		i = parent;
	}
	heap_set(d, i, s);
}

static void sift_down(struct wsrt_driver *d, size_t i)
{
	struct wsrt_sleep *s = d->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= d->nheap)
			break;
		if (c + 1 < d->nheap &&
		    d->heap[c + 1]->deadline < d->heap[c]->deadline)
			c++;
		if (s->deadline <= d->heap[c]->deadline)
			break;
		heap_set(d, i, d->heap[c]);
		i = c;
	}
	heap_set(d, i, s);
}

static int heap_push(struct wsrt_driver *d, struct wsrt_sleep *s)
{
	if (d->nheap == d->capheap) {
		size_t cap = d->capheap ? 2 * d->capheap : 64;
		struct wsrt_sleep **h = realloc(d->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		d->heap = h;
		d->capheap = cap;
	}
	heap_set(d, d->nheap++, s);
	sift_up(d, s->idx);
	return 0;
}

static void heap_remove(struct wsrt_driver *d, struct wsrt_sleep *s)
{
	size_t i = s->idx;
	struct wsrt_sleep *last = d->heap[--d->nheap];

	s->idx = NOT_IN_HEAP;
	if (last == s)
		return;
	heap_set(d, i, last);
	sift_down(d, i);
	sift_up(d, last->idx);
}

uint64_t wsrt_timer_next_locked(struct wsrt_driver *d)
{
	return d->nheap ? d->heap[0]->deadline : UINT64_MAX;
}

unsigned wsrt_timer_fire_due(struct wsrt_driver *d, int worker, uint64_t now)
{
	struct wsrt_waker batch[32];
	unsigned fired = 0;

	for (;;) {
		unsigned n = 0;

		pthread_mutex_lock(&d->timer_lock);
		while (n < 32 && d->nheap && d->heap[0]->deadline <= now) {
			struct wsrt_sleep *s = d->heap[0];
			heap_remove(d, s);
			s->fired = true;
			WSRT_PROBE_TIMER_FIRE(worker, s->id, now - s->deadline);
			batch[n] = s->waker;
			s->waker.vtable = NULL;
			n++;
		}
		pthread_mutex_unlock(&d->timer_lock);
		for (unsigned i = 0; i < n; i++)
			wsrt_waker_wake(&batch[i]);
		fired += n;
		if (n < 32)
			return fired;
	}
}

/* ---- the sleep future --------------------------------------------------------- */

struct wsrt_sleep *wsrt_sleep_new(struct wsrt_runtime *rt, uint64_t deadline_ns)
{
	struct wsrt_sleep *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->d = &rt->driver;
	s->id = atomic_fetch_add_explicit(&rt->driver.next_timer_id, 1,
					  memory_order_relaxed) + 1;
	s->deadline = deadline_ns;
	s->idx = NOT_IN_HEAP;
	return s;
}

enum wsrt_poll wsrt_sleep_poll(struct wsrt_sleep *s, struct wsrt_cx *cx)
{
	struct wsrt_driver *d = s->d;
	struct wsrt_waker old = { 0 };
	bool wake_driver = false;

	pthread_mutex_lock(&d->timer_lock);
	if (s->fired || wsrt_now_ns() >= s->deadline) {
		if (s->idx != NOT_IN_HEAP)
			heap_remove(d, s);
		s->fired = true;
		pthread_mutex_unlock(&d->timer_lock);
		return WSRT_READY;
	}
	wsrt_waker_store(&s->waker, &cx->waker, &old);
	if (s->idx == NOT_IN_HEAP) {
		if (heap_push(d, s)) {
			/* No memory for the heap: poll again rather than hang. */
			pthread_mutex_unlock(&d->timer_lock);
			wsrt_waker_drop(&old);
			wsrt_waker_wake_by_ref(&cx->waker);
			return WSRT_PENDING;
		}
		/* The driver's holder sleeps past our deadline: wake it so it
		 * sleeps until ours instead. */
		if (s->deadline < d->sleep_until) {
			d->sleep_until = s->deadline;
			wake_driver = true;
		}
	}
	pthread_mutex_unlock(&d->timer_lock);
	wsrt_waker_drop(&old);
	if (wake_driver)
		wsrt_driver_unpark(d);
	return WSRT_PENDING;
}

void wsrt_sleep_reset(struct wsrt_sleep *s, uint64_t deadline_ns)
{
	struct wsrt_driver *d = s->d;

	pthread_mutex_lock(&d->timer_lock);
	if (s->idx != NOT_IN_HEAP)
		heap_remove(d, s);
	s->deadline = deadline_ns;
	s->fired = false;
	pthread_mutex_unlock(&d->timer_lock);
}

uint64_t wsrt_sleep_deadline(const struct wsrt_sleep *s)
{
	return s->deadline;
}

void wsrt_sleep_free(struct wsrt_sleep *s)
{
	struct wsrt_driver *d;
	struct wsrt_waker w;

	if (!s)
		return;
	d = s->d;
	pthread_mutex_lock(&d->timer_lock);
	if (s->idx != NOT_IN_HEAP)
		heap_remove(d, s);
	w = s->waker;
	s->waker.vtable = NULL;
	pthread_mutex_unlock(&d->timer_lock);
	wsrt_waker_drop(&w);
	free(s);
}
