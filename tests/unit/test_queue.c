/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's data structures on their own: the local run queue (and
 * its LIFO slot), the inject queue and the idle set.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

#define CAP WSRT_LOCAL_QUEUE_CAP

static struct wsrt_task *make_tasks(unsigned n)
{
	struct wsrt_task *ts = calloc(n, sizeof(*ts));

	if (!ts)
		FAILF("out of memory");
	for (unsigned i = 0; i < n; i++)
		ts[i].id = i + 1;
	return ts;
}

static struct wsrt_queue *new_queue(uint32_t start)
{
	struct wsrt_queue *q = calloc(1, sizeof(*q));

	if (!q)
		FAILF("out of memory");
	wsrt_queue_init(q, start);
	return q;
}

static unsigned batch_len(struct wsrt_task *t)
{
	unsigned n = 0;

	for (; t; t = t->next)
		n++;
	return n;
}

TEST(queue_fits_capacity)
{
	struct wsrt_queue *q = new_queue(0);
	struct wsrt_task *ts = make_tasks(CAP);
	unsigned n;

	for (unsigned i = 0; i < CAP; i++)
		ASSERT_TRUE(wsrt_queue_push_back_or_overflow(q, &ts[i], &n) == NULL);
	ASSERT_EQ(wsrt_queue_len(q), CAP);
	ASSERT_EQ(wsrt_queue_remaining_slots(q), 0);
	ASSERT_TRUE(wsrt_queue_valid(q));
	for (unsigned i = 0; i < CAP; i++)
		ASSERT_EQ(wsrt_queue_pop(q)->id, i + 1);
	ASSERT_TRUE(wsrt_queue_pop(q) == NULL);
	ASSERT_TRUE(wsrt_queue_is_empty(q));
	free(ts);
	free(q);
}

TEST(queue_wraps_around_the_ring_and_the_index)
{
	/* Start just below UINT32_MAX so the u32 indices wrap too. */
	struct wsrt_queue *q = new_queue(UINT32_MAX - 100);
	struct wsrt_task *ts = make_tasks(CAP);
	unsigned n, next_pop = 0, next_push = 0;

	/* 40 laps of the ring at a fill level of about 100, FIFO throughout. */
	for (unsigned k = 0; k < 100; k++)
		ASSERT_TRUE(wsrt_queue_push_back_or_overflow(q, &ts[next_push++ % CAP], &n) == NULL);
	for (unsigned round = 0; round < 40 * CAP / 7; round++) {
		for (unsigned k = 0; k < 7 + (round % 2); k++) {
			struct wsrt_task *t = &ts[next_push++ % CAP];
			ASSERT_TRUE(wsrt_queue_push_back_or_overflow(q, t, &n) == NULL);
		}
		for (unsigned k = 0; k < 7 + (round % 2); k++) {
			struct wsrt_task *t = wsrt_queue_pop(q);
			ASSERT_TRUE(t != NULL);
			ASSERT_EQ(t->id, (next_pop++ % CAP) + 1);
		}
		ASSERT_TRUE(wsrt_queue_valid(q));
	}
	ASSERT_EQ(next_push - next_pop, wsrt_queue_len(q));
	free(ts);
	free(q);
}

TEST(queue_overflow_moves_half)
{
	struct wsrt_queue *q = new_queue(7);
	struct wsrt_task *ts = make_tasks(CAP + 1);
	struct wsrt_task *batch;
	unsigned n;

	for (unsigned i = 0; i < CAP; i++)
		wsrt_queue_push_back_or_overflow(q, &ts[i], &n);
	batch = wsrt_queue_push_back_or_overflow(q, &ts[CAP], &n);
	ASSERT_TRUE(batch != NULL);
	/* The oldest half plus the new task leave, in order. */
	ASSERT_EQ(n, CAP / 2 + 1);
	ASSERT_EQ(batch_len(batch), CAP / 2 + 1);
	unsigned i = 0;
	for (struct wsrt_task *t = batch; t; t = t->next, i++)
		ASSERT_EQ(t->id, i < CAP / 2 ? i + 1 : CAP + 1);
	/* The newer half stays. */
	ASSERT_EQ(wsrt_queue_len(q), CAP / 2);
	ASSERT_EQ(wsrt_queue_pop(q)->id, CAP / 2 + 1);
	ASSERT_TRUE(wsrt_queue_valid(q));
	free(ts);
	free(q);
}

TEST(queue_steal_takes_half)
{
	struct wsrt_queue *src = new_queue(0), *dst = new_queue(0);
	struct wsrt_task *ts = make_tasks(10), *lifo;
	unsigned n, count;

	for (unsigned i = 0; i < 10; i++)
		wsrt_queue_push_back_or_overflow(src, &ts[i], &n);
	struct wsrt_task *t = wsrt_queue_steal_into(src, dst, true, &count, &lifo);
	/* Half rounded up: 5.  One is returned to run, four land in dst. */
	ASSERT_EQ(count, 5);
	ASSERT_TRUE(lifo == NULL);
	ASSERT_EQ(t->id, 5);
	ASSERT_EQ(wsrt_queue_len(dst), 4);
	ASSERT_EQ(wsrt_queue_len(src), 5);
	ASSERT_EQ(wsrt_queue_pop(dst)->id, 1);
	ASSERT_EQ(wsrt_queue_pop(src)->id, 6);
	/* One task: it is taken and returned, dst stays empty. */
	struct wsrt_queue *one = new_queue(0), *dst2 = new_queue(0);
	wsrt_queue_push_back_or_overflow(one, &ts[9], &n);
	t = wsrt_queue_steal_into(one, dst2, false, &count, &lifo);
	ASSERT_EQ(t->id, 10);
	ASSERT_EQ(count, 1);
	ASSERT_TRUE(wsrt_queue_is_empty(dst2));
	/* Empty: nothing. */
	ASSERT_TRUE(wsrt_queue_steal_into(one, dst2, true, &count, &lifo) == NULL);
	ASSERT_EQ(count, 0);
	free(ts);
	free(src);
	free(dst);
	free(one);
	free(dst2);
}

TEST(queue_steal_takes_lifo_task_first_only_when_stealable)
{
	struct wsrt_queue *src = new_queue(0), *dst = new_queue(0);
	struct wsrt_task *ts = make_tasks(5), *lifo;
	unsigned n, count;

	for (unsigned i = 0; i < 4; i++)
		wsrt_queue_push_back_or_overflow(src, &ts[i], &n);
	ASSERT_TRUE(wsrt_queue_lifo_swap(src, &ts[4]) == NULL);

	/* Legacy: the slot is invisible to thieves. */
	struct wsrt_task *t = wsrt_queue_steal_into(src, dst, false, &count, &lifo);
	ASSERT_TRUE(lifo == NULL);
	ASSERT_EQ(t->id, 2);
	ASSERT_EQ(atomic_load(&src->lifo)->id, 5);

	/* Stealable: the LIFO task is taken and returned; the queue half
	 * goes to dst's queue. */
	struct wsrt_queue *dst2 = new_queue(0);
	t = wsrt_queue_steal_into(src, dst2, true, &count, &lifo);
	ASSERT_EQ(t->id, 5);
	ASSERT_TRUE(lifo == t);
	ASSERT_EQ(count, 2);	/* task 3 and the LIFO task */
	ASSERT_EQ(wsrt_queue_len(dst2), 1);
	ASSERT_TRUE(atomic_load(&src->lifo) == NULL);

	/* A lone LIFO task is stealable work in that mode only. */
	struct wsrt_queue *only = new_queue(0);
	wsrt_queue_lifo_swap(only, &ts[0]);
	ASSERT_FALSE(wsrt_queue_has_stealable(only, false));
	ASSERT_TRUE(wsrt_queue_has_stealable(only, true));
	ASSERT_TRUE(wsrt_queue_steal_into(only, dst, false, &count, &lifo) == NULL);
	ASSERT_EQ(wsrt_queue_steal_into(only, dst, true, &count, &lifo)->id, 1);
	free(ts);
	free(src);
	free(dst);
	free(dst2);
	free(only);
}

TEST(queue_steal_refuses_when_thief_is_over_half_full)
{
	struct wsrt_queue *src = new_queue(0), *dst = new_queue(0);
	struct wsrt_task *ts = make_tasks(CAP), *lifo;
	unsigned n, count;

	for (unsigned i = 0; i < CAP / 2 + 1; i++)
		wsrt_queue_push_back_or_overflow(dst, &ts[i], &n);
	wsrt_queue_push_back_or_overflow(src, &ts[CAP - 1], &n);
	ASSERT_TRUE(wsrt_queue_steal_into(src, dst, true, &count, &lifo) == NULL);
	ASSERT_EQ(wsrt_queue_len(src), 1);
	free(ts);
	free(src);
	free(dst);
}

/*
 * The owner pushes (with overflow) and pops while several thieves steal
 * from it and drain their own queues; every task must be claimed exactly
 * once.  This is where a wrong memory order or index would show.
 */
#define STRESS_TASKS 500000
#define THIEVES 3

struct stress {
	struct wsrt_queue *victim;
	struct wsrt_task *ts;
	_Atomic uint8_t *claimed;
	_Atomic int done;
	_Atomic unsigned long stolen;
};

static void claim(struct stress *s, struct wsrt_task *t)
{
	if (atomic_fetch_add(&s->claimed[t->id - 1], 1) != 0)
		FAILF("task %llu claimed twice", (unsigned long long)t->id);
}

static void *thief(void *arg)
{
	struct stress *s = arg;
	struct wsrt_queue *mine = new_queue(0);
	struct wsrt_task *t, *lifo;
	unsigned count;

	for (;;) {
		int done = atomic_load(&s->done);
		t = wsrt_queue_steal_into(s->victim, mine, true, &count, &lifo);
		if (t) {
			atomic_fetch_add(&s->stolen, count);
			claim(s, t);
			while ((t = wsrt_queue_pop(mine)))
				claim(s, t);
		} else if (done) {
			break;
		}
	}
	free(mine);
	return NULL;
}

TEST_T(queue_concurrent_stealers_never_lose_or_duplicate, 120)
{
	struct stress s = { 0 };
	pthread_t th[THIEVES];
	unsigned n;

	s.victim = new_queue(UINT32_MAX - 1000);
	s.ts = make_tasks(STRESS_TASKS);
	s.claimed = calloc(STRESS_TASKS, 1);
	for (int i = 0; i < THIEVES; i++)
		pthread_create(&th[i], NULL, thief, &s);
	for (unsigned i = 0; i < STRESS_TASKS; i++) {
		struct wsrt_task *batch =
			wsrt_queue_push_back_or_overflow(s.victim, &s.ts[i], &n);
		/* Overflow batches go to "the inject queue": claim them. */
		for (struct wsrt_task *t = batch; t; t = t->next)
			claim(&s, t);
		/* Also use the LIFO slot as the owner does. */
		if (i % 5 == 0) {
			struct wsrt_task *t = wsrt_queue_lifo_take(s.victim);
			if (t)
				claim(&s, t);
		}
		if (i % 3 == 0) {
			struct wsrt_task *t = wsrt_queue_pop(s.victim);
			if (t)
				claim(&s, t);
		}
	}
	struct wsrt_task *t;
	while ((t = wsrt_queue_pop(s.victim)))
		claim(&s, t);
	atomic_store(&s.done, 1);
	for (int i = 0; i < THIEVES; i++)
		pthread_join(th[i], NULL);
	if ((t = wsrt_queue_lifo_take(s.victim)))
		claim(&s, t);
	for (unsigned i = 0; i < STRESS_TASKS; i++)
		if (atomic_load(&s.claimed[i]) != 1)
			FAILF("task %u claimed %u times", i + 1,
			      (unsigned)atomic_load(&s.claimed[i]));
	/* The thieves did take part (else the test shows nothing). */
	ASSERT_GT(atomic_load(&s.stolen), 0);
	free((void *)s.claimed);
	free(s.ts);
	free(s.victim);
}

/* ---- inject queue ---- */

TEST(inject_is_fifo_and_pops_batches)
{
	struct wsrt_inject q;
	struct wsrt_task *ts = make_tasks(10), *out[10];
	size_t len;

	wsrt_inject_init(&q);
	for (unsigned i = 0; i < 3; i++)
		ASSERT_TRUE(wsrt_inject_push(&q, &ts[i], &len));
	ASSERT_EQ(len, 3);
	/* A linked batch of 4. */
	for (unsigned i = 3; i < 6; i++)
		ts[i].next = &ts[i + 1];
	ts[6].next = NULL;
	ASSERT_TRUE(wsrt_inject_push_batch(&q, &ts[3], 4, &len));
	ASSERT_EQ(len, 7);
	ASSERT_EQ(wsrt_inject_pop_n(&q, out, 5, &len), 5);
	ASSERT_EQ(len, 2);
	for (unsigned i = 0; i < 5; i++)
		ASSERT_EQ(out[i]->id, i + 1);
	ASSERT_EQ(wsrt_inject_pop_n(&q, out, 5, &len), 2);
	ASSERT_EQ(out[1]->id, 7);
	ASSERT_EQ(wsrt_inject_pop_n(&q, out, 5, &len), 0);
	wsrt_inject_close(&q);
	ASSERT_FALSE(wsrt_inject_push(&q, &ts[7], &len));
	wsrt_inject_destroy(&q);
	free(ts);
}

/* ---- idle set ---- */

TEST(idle_at_most_half_the_workers_search)
{
	struct wsrt_idle idle;

	wsrt_idle_init(&idle, 4);
	ASSERT_TRUE(wsrt_idle_transition_worker_to_searching(&idle));
	ASSERT_TRUE(wsrt_idle_transition_worker_to_searching(&idle));
	ASSERT_FALSE(wsrt_idle_transition_worker_to_searching(&idle));
	ASSERT_EQ(wsrt_idle_num_searching(&idle), 2);
	ASSERT_FALSE(wsrt_idle_transition_worker_from_searching(&idle));
	/* The last searcher to stop is told so. */
	ASSERT_TRUE(wsrt_idle_transition_worker_from_searching(&idle));
	wsrt_idle_destroy(&idle);
}

TEST(idle_notifies_only_when_nobody_searches_and_someone_sleeps)
{
	struct wsrt_idle idle;

	wsrt_idle_init(&idle, 3);
	/* Everyone awake: nobody to wake. */
	ASSERT_EQ(wsrt_idle_worker_to_notify(&idle), -1);
	/* Worker 2 parks (not searching). */
	ASSERT_FALSE(wsrt_idle_transition_worker_to_parked(&idle, 2, false));
	ASSERT_TRUE(wsrt_idle_is_parked(&idle, 2));
	/* Worker 0 searches: a notifier leaves the work to it. */
	ASSERT_TRUE(wsrt_idle_transition_worker_to_searching(&idle));
	ASSERT_EQ(wsrt_idle_worker_to_notify(&idle), -1);
	/* Worker 0 parks as the last searcher: it must re-check queues. */
	ASSERT_TRUE(wsrt_idle_transition_worker_to_parked(&idle, 0, true));
	ASSERT_EQ(wsrt_idle_num_unparked(&idle), 1);
	/* Now a notifier wakes one sleeper, who is counted as searching. */
	int w = wsrt_idle_worker_to_notify(&idle);
	ASSERT_TRUE(w == 0 || w == 2);
	ASSERT_FALSE(wsrt_idle_is_parked(&idle, (unsigned)w));
	ASSERT_EQ(wsrt_idle_num_searching(&idle), 1);
	ASSERT_EQ(wsrt_idle_num_unparked(&idle), 2);
	/* ...so the next notifier stays quiet. */
	ASSERT_EQ(wsrt_idle_worker_to_notify(&idle), -1);
	/* A worker that unparks itself leaves the list, not counted searching. */
	unsigned other = w == 0 ? 2 : 0;
	ASSERT_TRUE(wsrt_idle_unpark_worker_by_id(&idle, other));
	ASSERT_FALSE(wsrt_idle_unpark_worker_by_id(&idle, other));
	ASSERT_EQ(wsrt_idle_num_unparked(&idle), 3);
	ASSERT_EQ(wsrt_idle_num_searching(&idle), 1);
	wsrt_idle_destroy(&idle);
}

/* ---- parker ---- */

TEST(park_returns_at_once_after_an_earlier_unpark)
{
	struct wsrt_parker p;

	wsrt_parker_init(&p);
	wsrt_parker_unpark(&p, NULL);
	wsrt_parker_park(&p, -1, NULL);	/* must not block */
	ASSERT_EQ(atomic_load(&p.state), WSRT_PARK_EMPTY);
}

struct pingpong {
	struct wsrt_parker a, b;
	_Atomic unsigned long turn;
	unsigned long rounds;
};

static void *ponger(void *arg)
{
	struct pingpong *pp = arg;

	for (unsigned long i = 0; i < pp->rounds; i++) {
		while (atomic_load(&pp->turn) != 2 * i + 1)
			wsrt_parker_park(&pp->b, -1, NULL);
		atomic_store(&pp->turn, 2 * i + 2);
		wsrt_parker_unpark(&pp->a, NULL);
	}
	return NULL;
}

TEST_T(park_unpark_no_lost_wakeup, 120)
{
	/* Two threads hand a turn back and forth through park/unpark only:
	 * a single lost wakeup hangs the test (and fails it by timeout). */
	struct pingpong pp = { .rounds = 100000 / test_slow_factor() };
	pthread_t th;

	wsrt_parker_init(&pp.a);
	wsrt_parker_init(&pp.b);
	pthread_create(&th, NULL, ponger, &pp);
	for (unsigned long i = 0; i < pp.rounds; i++) {
		atomic_store(&pp.turn, 2 * i + 1);
		wsrt_parker_unpark(&pp.b, NULL);
		while (atomic_load(&pp.turn) != 2 * i + 2)
			wsrt_parker_park(&pp.a, -1, NULL);
	}
	pthread_join(th, NULL);
	ASSERT_EQ(atomic_load(&pp.turn), 2 * pp.rounds);
}
