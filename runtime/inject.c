/* SPDX-License-Identifier: MIT */
/*
 * The global inject queue: tasks notified from outside a worker, and local
 * queue overflow (half a queue at once).  A mutex-protected intrusive FIFO
 * linked through task->next, with an atomic length that workers read
 * without the lock to skip it when empty (Tokio's inject.rs does the same).
 *
 * Owns: the list and its closed flag.  Does not own: who gets woken (the
 * caller notifies) or the references of tasks it refuses when closed.
 */
#include "internal.h"

void wsrt_inject_init(struct wsrt_inject *q)
{
	pthread_mutex_init(&q->lock, NULL);
	q->head = q->tail = NULL;
	q->closed = false;
	atomic_init(&q->len, 0);
}

void wsrt_inject_destroy(struct wsrt_inject *q)
{
	pthread_mutex_destroy(&q->lock);
}

bool wsrt_inject_push_batch(struct wsrt_inject *q, struct wsrt_task *head,
			    unsigned n, size_t *len_after)
{
	struct wsrt_task *last = head;

	while (last->next)
		last = last->next;
	pthread_mutex_lock(&q->lock);
	if (q->closed) {
		pthread_mutex_unlock(&q->lock);
		return false;
	}
	if (q->tail)
		q->tail->next = head;
	else
		q->head = head;
	q->tail = last;
	size_t len = atomic_load_explicit(&q->len, memory_order_relaxed) + n;
	/* Release: a worker that sees len != 0 and takes the lock finds the
	 * tasks (the lock orders the list itself). */
	atomic_store_explicit(&q->len, len, memory_order_release);
	pthread_mutex_unlock(&q->lock);
	if (len_after)
		*len_after = len;
	return true;
}

bool wsrt_inject_push(struct wsrt_inject *q, struct wsrt_task *t,
		      size_t *len_after)
{
	t->next = NULL;
	return wsrt_inject_push_batch(q, t, 1, len_after);
}

unsigned wsrt_inject_pop_n(struct wsrt_inject *q, struct wsrt_task **out,
			   unsigned n, size_t *len_after)
{
	unsigned got = 0;

	if (wsrt_inject_len(q) == 0) {
		if (len_after)
			*len_after = 0;
		return 0;
	}
	pthread_mutex_lock(&q->lock);
	while (got < n && q->head) {
		struct wsrt_task *t = q->head;
		q->head = t->next;
		t->next = NULL;
		out[got++] = t;
	}
	if (!q->head)
		q->tail = NULL;
	size_t len = atomic_load_explicit(&q->len, memory_order_relaxed) - got;
	atomic_store_explicit(&q->len, len, memory_order_release);
	pthread_mutex_unlock(&q->lock);
	if (len_after)
		*len_after = len;
	return got;
}

void wsrt_inject_close(struct wsrt_inject *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_mutex_unlock(&q->lock);
}
