/* SPDX-License-Identifier: MIT */
/*
 * The per-worker local run queue: a bounded ring the owner pushes to and
 * pops from, that other workers steal half of at once (Tokio's
 * runtime/scheduler/multi_thread/queue.rs), plus the LIFO slot.
 *
 * Owns: the ring's indices and slots, the overflow hand-off (as a batch the
 * caller pushes to the inject queue), the steal protocol.  Does not own:
 * who gets woken, the inject queue, probes — worker.c does those.
 *
 * Steal protocol (one stealer at a time per queue):
 *  1. The thief loads head (steal, real) and tail.  If steal != real,
 *     another thief is mid-steal: give up.
 *  2. It claims n = half of [real, tail) by CAS-ing head to
 *     (steal, real + n): `real` moves, `steal` stays, so the owner won't
 *     reuse the claimed slots (its room check is against `steal`) and no
 *     other thief starts.
 *  3. It copies the claimed slots into its own ring, beyond its tail.
 *  4. It CAS-es head to (real', real'), real' being whatever the owner's
 *     pops moved real to meanwhile: the slots are free again.
 *  5. It publishes the copied tasks with a release store of its own tail,
 *     keeping one to run at once.
 */
#include <assert.h>

#include "internal.h"

#define MASK (WSRT_LOCAL_QUEUE_CAP - 1)

static inline uint64_t pack(uint32_t steal, uint32_t real)
{
	return ((uint64_t)steal << 32) | real;
}

static inline uint32_t head_steal(uint64_t h)
{
	return (uint32_t)(h >> 32);
}

static inline uint32_t head_real(uint64_t h)
{
	return (uint32_t)h;
}

void wsrt_queue_init(struct wsrt_queue *q, uint32_t start)
{
	atomic_init(&q->head, pack(start, start));
	atomic_init(&q->tail, start);
	atomic_init(&q->lifo, NULL);
}

unsigned wsrt_queue_len(struct wsrt_queue *q)
{
	uint64_t h = atomic_load_explicit(&q->head, memory_order_acquire);
	uint32_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
	return tail - head_real(h);
}

bool wsrt_queue_is_empty(struct wsrt_queue *q)
{
	return wsrt_queue_len(q) == 0;
}

bool wsrt_queue_has_stealable(struct wsrt_queue *q, bool lifo_stealable)
{
	if (!wsrt_queue_is_empty(q))
		return true;
	return lifo_stealable &&
	       atomic_load_explicit(&q->lifo, memory_order_acquire) != NULL;
}

unsigned wsrt_queue_remaining_slots(struct wsrt_queue *q)
{
	uint64_t h = atomic_load_explicit(&q->head, memory_order_acquire);
	uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	return WSRT_LOCAL_QUEUE_CAP - (tail - head_steal(h));
}

/* Moves half the (full) queue plus `t` out as a linked batch.  NULL if a
 * stealer moved head first: the caller retries. */
static struct wsrt_task *push_overflow(struct wsrt_queue *q,
				       struct wsrt_task *t, uint32_t head,
				       uint32_t tail, unsigned *n)
{
	const uint32_t num = WSRT_LOCAL_QUEUE_CAP / 2;
	uint64_t prev = pack(head, head);

	assert(tail - head == WSRT_LOCAL_QUEUE_CAP);
	/* Claim the oldest half.  Release: our earlier slot writes are not
	 * reordered after the claim (pairs with the thieves' acquire of head);
	 * the slots we read below are our own writes. */
	if (!atomic_compare_exchange_strong_explicit(
		    &q->head, &prev, pack(head + num, head + num),
		    memory_order_release, memory_order_relaxed))
		return NULL;

	struct wsrt_task *first = q->buf[head & MASK];
	struct wsrt_task *cur = first;
	for (uint32_t i = 1; i < num; i++) {
		struct wsrt_task *nx = q->buf[(head + i) & MASK];
		cur->next = nx;
		cur = nx;
	}
	cur->next = t;
	t->next = NULL;
	*n = num + 1;
	return first;
}

struct wsrt_task *wsrt_queue_push_back_or_overflow(struct wsrt_queue *q,
						   struct wsrt_task *t,
						   unsigned *n)
{
	uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);

	*n = 0;
	for (;;) {
		/* Acquire pairs with a thief's final head CAS (step 4): the
		 * slots it read are free for us to overwrite. */
		uint64_t h = atomic_load_explicit(&q->head, memory_order_acquire);
		uint32_t steal = head_steal(h), real = head_real(h);

		if (tail - steal < WSRT_LOCAL_QUEUE_CAP)
			break;
		if (steal != real) {
			/* A thief is freeing room right now; overflowing just
			 * this task beats waiting for it (as Tokio does). */
			t->next = NULL;
			*n = 1;
			return t;
		}
		struct wsrt_task *batch = push_overflow(q, t, real, tail, n);
		if (batch)
			return batch;
	}
	q->buf[tail & MASK] = t;
	/* Release publishes the slot to thieves' acquire of tail. */
	atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
	return NULL;
}

void wsrt_queue_push_back_n(struct wsrt_queue *q, struct wsrt_task **ts,
			    unsigned n)
{
	uint32_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);

	assert(n <= wsrt_queue_remaining_slots(q));
	for (unsigned i = 0; i < n; i++)
		q->buf[(tail + i) & MASK] = ts[i];
	atomic_store_explicit(&q->tail, tail + n, memory_order_release);
}

struct wsrt_task *wsrt_queue_pop(struct wsrt_queue *q)
{
	uint64_t h = atomic_load_explicit(&q->head, memory_order_acquire);

	for (;;) {
		uint32_t steal = head_steal(h), real = head_real(h);
		uint32_t tail = atomic_load_explicit(&q->tail,
						     memory_order_relaxed);
		if (real == tail)
			return NULL;
		/* With a steal in progress only `real` moves; the thief's
		 * step 4 then catches `steal` up. */
		uint64_t next = steal == real ? pack(real + 1, real + 1)
					      : pack(steal, real + 1);
		if (atomic_compare_exchange_weak_explicit(
			    &q->head, &h, next, memory_order_acq_rel,
			    memory_order_acquire))
			return q->buf[real & MASK];
	}
}

/* Steps 1-4 of the protocol; returns how many tasks were copied into dst's
 * ring starting at dst_tail (not yet published). */
static uint32_t steal_into2(struct wsrt_queue *src, struct wsrt_queue *dst,
			    uint32_t dst_tail)
{
	uint64_t prev = atomic_load_explicit(&src->head, memory_order_acquire);
	uint32_t first, n;

	for (;;) {
		uint32_t steal = head_steal(prev), real = head_real(prev);
		/* Acquire pairs with the owner's release of tail: the slots
		 * up to it are written. */
		uint32_t tail = atomic_load_explicit(&src->tail,
						     memory_order_acquire);
		if (steal != real)
			return 0;
		n = tail - real;
		n -= n / 2;
		if (n == 0)
			return 0;
		if (atomic_compare_exchange_weak_explicit(
			    &src->head, &prev, pack(steal, real + n),
			    memory_order_acq_rel, memory_order_acquire)) {
			first = real;
			break;
		}
	}
	assert(n <= WSRT_LOCAL_QUEUE_CAP / 2);
	for (uint32_t i = 0; i < n; i++)
		dst->buf[(dst_tail + i) & MASK] = src->buf[(first + i) & MASK];

	/* Step 4.  AcqRel: our slot reads happen before the owner reuses the
	 * slots (pairs with its acquire of head in push_back). */
	prev = pack(first, first + n);
	for (;;) {
		uint32_t real = head_real(prev);
		assert(head_steal(prev) != real);
		if (atomic_compare_exchange_weak_explicit(
			    &src->head, &prev, pack(real, real),
			    memory_order_acq_rel, memory_order_acquire))
			return n;
	}
}

struct wsrt_task *wsrt_queue_steal_into(struct wsrt_queue *src,
					struct wsrt_queue *dst, bool take_lifo,
					unsigned *count,
					struct wsrt_task **lifo_taken)
{
	uint32_t dst_tail = atomic_load_explicit(&dst->tail,
						 memory_order_relaxed);
	uint64_t dh = atomic_load_explicit(&dst->head, memory_order_acquire);
	struct wsrt_task *ret;
	uint32_t n;

	*count = 0;
	*lifo_taken = NULL;
	/* dst may look empty yet have a thief mid-copy out of it: its slots
	 * are not ours to fill.  Tokio gives up here too. */
	if (dst_tail - head_steal(dh) > WSRT_LOCAL_QUEUE_CAP / 2)
		return NULL;

	n = steal_into2(src, dst, dst_tail);
	if (take_lifo) {
		/* Tokio >= 1.51: the victim's LIFO task is the most recently
		 * notified and runs first, the queue tasks go to our queue. */
		ret = wsrt_queue_lifo_take(src);
		if (ret) {
			*lifo_taken = ret;
			*count = n + 1;
			if (n)
				atomic_store_explicit(&dst->tail, dst_tail + n,
						      memory_order_release);
			return ret;
		}
	}
	if (n == 0)
		return NULL;
	*count = n;
	n--;
	ret = dst->buf[(dst_tail + n) & MASK];
	if (n)
		atomic_store_explicit(&dst->tail, dst_tail + n,
				      memory_order_release);
	return ret;
}

bool wsrt_queue_valid(struct wsrt_queue *q)
{
	uint64_t h = atomic_load(&q->head);
	uint32_t tail = atomic_load(&q->tail);

	if (head_steal(h) != head_real(h))
		return false;
	if (tail - head_real(h) > WSRT_LOCAL_QUEUE_CAP)
		return false;
	for (uint32_t i = head_real(h); i != tail; i++)
		if (!q->buf[i & MASK])
			return false;
	return true;
}
