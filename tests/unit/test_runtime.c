/* SPDX-License-Identifier: MIT */
/*
 * The runtime through its public API: spawn and join, where spawned and
 * yielded tasks go, wakes from foreign threads, channels, the coop budget,
 * configuration, and shutdown.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "wsrt_test.h"

static void spin_ms(unsigned ms)
{
	uint64_t end = wsrt_now_ns() + ms * 1000000ULL;
	while (wsrt_now_ns() < end)
		;
}

/* ---- spawn, join ---- */

static enum wsrt_poll return_42(struct wsrt_cx *cx, void *arg)
{
	wsrt_cx_set_output(cx, (void *)(uintptr_t)42);
	return WSRT_READY;
}

static enum wsrt_poll await_output(struct wsrt_cx *cx, void *arg)
{
	void **out = arg;
	return wsrt_join_poll(out[0], cx, &out[1]);
}

TEST(spawn_join_returns_the_output)
{
	struct wsrt_runtime *rt = test_rt_start(2, true);
	void *st[2] = { wsrt_spawn(rt, return_42, NULL, NULL), NULL };

	ASSERT_TRUE(st[0] != NULL);
	ASSERT_TRUE(wsrt_join_task_id(st[0]) > 0);
	ASSERT_EQ(wsrt_block_on(rt, await_output, st), 0);
	ASSERT_EQ((uintptr_t)st[1], 42);
	ASSERT_TRUE(wsrt_join_is_finished(st[0]));
	ASSERT_FALSE(wsrt_join_was_cancelled(st[0]));
	wsrt_join_release(st[0]);
	wsrt_runtime_free(rt);
}

/* A task awaiting another task's join handle, both on workers. */
struct parent {
	struct wsrt_join *child;
	void *out;
};

static enum wsrt_poll parent_task(struct wsrt_cx *cx, void *arg)
{
	struct parent *p = arg;

	if (!p->child)
		p->child = wsrt_spawn(wsrt_cx_runtime(cx), return_42, NULL, NULL);
	if (wsrt_join_poll(p->child, cx, &p->out) == WSRT_PENDING)
		return WSRT_PENDING;
	wsrt_join_release(p->child);
	return WSRT_READY;
}

TEST(a_task_can_await_a_task_it_spawned)
{
	struct wsrt_runtime *rt = test_rt_start(2, false);
	struct parent p = { 0 };
	struct wsrt_join *jh = wsrt_spawn(rt, parent_task, &p, NULL);

	test_rt_join(rt, jh);
	ASSERT_EQ((uintptr_t)p.out, 42);
	wsrt_join_release(jh);
	wsrt_runtime_free(rt);
}

/* ---- where spawned tasks go: the LIFO slot ---- */

struct lifo_probe {
	int parent_worker, child_worker;
	uint64_t parent_end, child_start;
	struct wsrt_join *child;
};

static enum wsrt_poll lifo_child(struct wsrt_cx *cx, void *arg)
{
	struct lifo_probe *p = arg;
	p->child_start = wsrt_now_ns();
	p->child_worker = wsrt_cx_worker(cx);
	return WSRT_READY;
}

static enum wsrt_poll lifo_parent(struct wsrt_cx *cx, void *arg)
{
	struct lifo_probe *p = arg;

	p->parent_worker = wsrt_cx_worker(cx);
	p->child = wsrt_spawn(wsrt_cx_runtime(cx), lifo_child, p, NULL);
	/* Hog the worker without yielding, long enough for a woken worker
	 * to steal the child even under TSan. */
	spin_ms(100 * test_slow_factor());
	p->parent_end = wsrt_now_ns();
	return WSRT_READY;
}

static void spawn_from_worker(bool stealable, struct lifo_probe *p)
{
	struct wsrt_runtime *rt = test_rt_start(2, stealable);
	struct wsrt_join *jh;

	/* From the steady state: both workers idle. */
	test_rt_wait_idle(rt);
	jh = wsrt_spawn(rt, lifo_parent, p, NULL);

	test_rt_join(rt, jh);
	test_rt_join(rt, p->child);
	wsrt_join_release(jh);
	wsrt_join_release(p->child);
	wsrt_runtime_free(rt);
}

TEST(spawn_from_a_worker_lands_in_its_unstealable_lifo_slot_in_legacy_mode)
{
	struct lifo_probe p = { 0 };

	spawn_from_worker(false, &p);
	/* The child waited for its parent's worker: nobody else could run it. */
	ASSERT_EQ(p.child_worker, p.parent_worker);
	ASSERT_GE(p.child_start, p.parent_end);
}

TEST(spawn_from_a_worker_is_stolen_from_the_lifo_slot_when_stealable)
{
	struct lifo_probe p = { 0 };

	spawn_from_worker(true, &p);
	/* An idle worker was woken and stole it while the parent spun. */
	ASSERT_NE(p.child_worker, p.parent_worker);
	ASSERT_LT(p.child_start, p.parent_end);
}

/* ---- yield goes to the back of the queue ---- */

struct order_log {
	_Atomic int n;
	char ev[8];
	struct wsrt_join *a, *b;
	int a_polls;
};

static void log_ev(struct order_log *l, char c)
{
	int i = atomic_fetch_add(&l->n, 1);
	if (i < 8)
		l->ev[i] = c;
}

static enum wsrt_poll order_b(struct wsrt_cx *cx, void *arg)
{
	log_ev(arg, 'B');
	return WSRT_READY;
}

static enum wsrt_poll order_a(struct wsrt_cx *cx, void *arg)
{
	struct order_log *l = arg;

	if (l->a_polls++ == 0) {
		log_ev(l, 'a');
		/* B goes to the LIFO slot; our yield must not jump it. */
		l->b = wsrt_spawn(wsrt_cx_runtime(cx), order_b, l, NULL);
		return wsrt_yield(cx);
	}
	log_ev(l, 'A');
	return WSRT_READY;
}

static enum wsrt_poll order_root(struct wsrt_cx *cx, void *arg)
{
	struct order_log *l = arg;

	l->a = wsrt_spawn(wsrt_cx_runtime(cx), order_a, l, NULL);
	return WSRT_READY;
}

TEST(yield_requeues_behind_the_lifo_task)
{
	struct wsrt_runtime *rt = test_rt_start(1, false);
	struct order_log l = { 0 };
	struct wsrt_join *root = wsrt_spawn(rt, order_root, &l, NULL);

	test_rt_join(rt, root);
	test_rt_join(rt, l.a);
	test_rt_join(rt, l.b);
	ASSERT_EQ(atomic_load(&l.n), 3);
	if (memcmp(l.ev, "aBA", 3))
		FAILF("poll order %.3s, want aBA", l.ev);
	ASSERT_EQ(l.a_polls, 2);
	wsrt_join_release(root);
	wsrt_join_release(l.a);
	wsrt_join_release(l.b);
	wsrt_runtime_free(rt);
}

/* ---- yields keep every worker busy ---- */

/* Tasks that spin in 1 ms slices and yield between them: a yield wakes
 * nobody when it goes behind a queue, so this checks that tasks queued on
 * one worker still end up running on both. */
struct slicers {
	_Atomic int running, max_running;
	_Atomic unsigned slices_left[4];
	struct wsrt_join *jh[4];
};

struct slicer {
	struct slicers *s;
	unsigned i;
};

static enum wsrt_poll slicer_poll(struct wsrt_cx *cx, void *arg)
{
	struct slicer *sl = arg;
	struct slicers *s = sl->s;
	int now = atomic_fetch_add(&s->running, 1) + 1, max = atomic_load(&s->max_running);

	while (now > max && !atomic_compare_exchange_weak(&s->max_running, &max, now))
		;
	spin_ms(1);
	atomic_fetch_sub(&s->running, 1);
	if (atomic_fetch_sub(&s->slices_left[sl->i], 1) > 1)
		return wsrt_yield(cx);
	return WSRT_READY;
}

static enum wsrt_poll slicers_parent(struct wsrt_cx *cx, void *arg)
{
	struct slicer *sls = arg;

	spin_ms(20);	/* the other worker, woken for us, parks again */
	for (unsigned i = 0; i < 4; i++)
		sls[i].s->jh[i] = wsrt_spawn(wsrt_cx_runtime(cx), slicer_poll, &sls[i], NULL);
	return WSRT_READY;
}

TEST(yielding_tasks_queued_on_one_worker_run_on_both)
{
	struct wsrt_runtime *rt = test_rt_start(2, false);
	struct slicers s = { 0 };
	struct slicer sls[4];
	struct wsrt_join *parent;

	for (unsigned i = 0; i < 4; i++) {
		sls[i] = (struct slicer){ .s = &s, .i = i };
		atomic_init(&s.slices_left[i], 40);
	}
	test_rt_wait_idle(rt);
	/* From a worker: into its LIFO slot and queue, legacy mode. */
	parent = wsrt_spawn(rt, slicers_parent, sls, NULL);
	test_rt_join(rt, parent);
	for (unsigned i = 0; i < 4; i++) {
		test_rt_join(rt, s.jh[i]);
		ASSERT_EQ(atomic_load(&s.slices_left[i]), 0);
		wsrt_join_release(s.jh[i]);
	}
	/* 160 slices of 1 ms: the second worker was woken and took some. */
	int most_at_once = atomic_load(&s.max_running);
	ASSERT_EQ(most_at_once, 2);
	wsrt_join_release(parent);
	wsrt_runtime_free(rt);
}

/* ---- wakes from a foreign thread (inject path) ---- */

struct counter_rx {
	struct wsrt_mpsc *ch;
	unsigned long received, sum;
};

static enum wsrt_poll counting_receiver(struct wsrt_cx *cx, void *arg)
{
	struct counter_rx *c = arg;
	void *v;
	int ret;

	for (;;) {
		if (wsrt_mpsc_poll_recv(c->ch, cx, &v, &ret) == WSRT_PENDING)
			return WSRT_PENDING;
		if (ret == -EPIPE)
			return WSRT_READY;
		c->received++;
		c->sum += (uintptr_t)v;
	}
}

struct sender_thread {
	struct wsrt_mpsc *ch;
	unsigned long n;
};

static void *send_from_thread(void *arg)
{
	struct sender_thread *s = arg;

	for (unsigned long i = 1; i <= s->n; i++) {
		int err;
		while ((err = wsrt_mpsc_try_send(s->ch, (void *)i)) == -EAGAIN)
			sched_yield();
		if (err)
			FAILF("try_send: %d", err);
	}
	wsrt_mpsc_tx_release(s->ch);
	return NULL;
}

TEST_T(wakes_from_a_foreign_thread_are_never_lost, 60)
{
	struct wsrt_runtime *rt = test_rt_start(2, true);
	struct counter_rx c = { .ch = wsrt_mpsc_new(4) };
	struct sender_thread s = { .ch = c.ch, .n = 100000 / test_slow_factor() };
	pthread_t th;

	struct wsrt_join *jh = wsrt_spawn(rt, counting_receiver, &c, NULL);
	pthread_create(&th, NULL, send_from_thread, &s);
	test_rt_join(rt, jh);
	pthread_join(th, NULL);
	ASSERT_EQ(c.received, s.n);
	ASSERT_EQ(c.sum, s.n * (s.n + 1) / 2);
	wsrt_join_release(jh);
	wsrt_mpsc_rx_release(c.ch);
	wsrt_runtime_free(rt);
}

/* ---- channels ---- */

struct oneshot_rx {
	struct wsrt_oneshot *ch;
	void *value;
	int ret;
};

static enum wsrt_poll oneshot_receiver(struct wsrt_cx *cx, void *arg)
{
	struct oneshot_rx *r = arg;
	return wsrt_oneshot_poll_recv(r->ch, cx, &r->value, &r->ret);
}

TEST(oneshot_delivers_the_value_or_reports_a_closed_sender)
{
	struct wsrt_runtime *rt = test_rt_start(2, true);
	struct oneshot_rx r = { .ch = wsrt_oneshot_new(), .ret = 1 };
	struct wsrt_join *jh = wsrt_spawn(rt, oneshot_receiver, &r, NULL);

	ASSERT_EQ(wsrt_oneshot_send(r.ch, (void *)7), 0);
	ASSERT_EQ(wsrt_oneshot_send(r.ch, (void *)8), -EALREADY);
	wsrt_oneshot_close_tx(r.ch);
	test_rt_join(rt, jh);
	ASSERT_EQ(r.ret, 0);
	ASSERT_EQ((uintptr_t)r.value, 7);
	wsrt_oneshot_close_rx(r.ch);
	wsrt_join_release(jh);

	/* The sender goes away without sending. */
	struct oneshot_rx r2 = { .ch = wsrt_oneshot_new(), .ret = 1 };
	jh = wsrt_spawn(rt, oneshot_receiver, &r2, NULL);
	wsrt_oneshot_close_tx(r2.ch);
	test_rt_join(rt, jh);
	ASSERT_EQ(r2.ret, -EPIPE);
	wsrt_oneshot_close_rx(r2.ch);
	wsrt_join_release(jh);

	/* The receiver goes away first. */
	struct wsrt_oneshot *ch = wsrt_oneshot_new();
	wsrt_oneshot_close_rx(ch);
	ASSERT_EQ(wsrt_oneshot_send(ch, NULL), -EPIPE);
	wsrt_oneshot_close_tx(ch);
	wsrt_runtime_free(rt);
}

struct producer {
	struct wsrt_mpsc *ch;
	unsigned long next, n;
	unsigned long full_waits;
};

static enum wsrt_poll producer_task(struct wsrt_cx *cx, void *arg)
{
	struct producer *p = arg;
	int ret;

	while (p->next <= p->n) {
		if (wsrt_mpsc_poll_send(p->ch, cx, (void *)p->next, &ret) ==
		    WSRT_PENDING) {
			p->full_waits++;
			return WSRT_PENDING;
		}
		if (ret)
			FAILF("poll_send: %d", ret);
		p->next++;
	}
	wsrt_mpsc_tx_release(p->ch);
	return WSRT_READY;
}

TEST(mpsc_backpressure_blocks_the_sender_until_there_is_room)
{
	struct wsrt_runtime *rt = test_rt_start(2, true);
	struct wsrt_mpsc *ch = wsrt_mpsc_new(2);
	struct producer p = { .ch = ch, .next = 1, .n = 5000 };
	struct counter_rx c = { .ch = ch };

	struct wsrt_join *jp = wsrt_spawn(rt, producer_task, &p, NULL);
	struct wsrt_join *jc = wsrt_spawn(rt, counting_receiver, &c, NULL);
	test_rt_join(rt, jp);
	test_rt_join(rt, jc);
	ASSERT_EQ(c.received, p.n);
	ASSERT_EQ(c.sum, p.n * (p.n + 1) / 2);
	ASSERT_GT(p.full_waits, 0);	/* capacity 2 did push back */
	wsrt_join_release(jp);
	wsrt_join_release(jc);
	wsrt_mpsc_rx_release(ch);
	wsrt_runtime_free(rt);
}

TEST(mpsc_receiver_sees_close_once_every_sender_is_released)
{
	struct wsrt_runtime *rt = test_rt_start(2, true);
	struct wsrt_mpsc *ch = wsrt_mpsc_new(8);
	struct counter_rx c = { .ch = ch };

	wsrt_mpsc_tx_clone(ch);	/* two senders */
	struct wsrt_join *jc = wsrt_spawn(rt, counting_receiver, &c, NULL);
	ASSERT_EQ(wsrt_mpsc_try_send(ch, (void *)1), 0);
	wsrt_mpsc_tx_release(ch);
	ASSERT_EQ(wsrt_mpsc_try_send(ch, (void *)2), 0);
	ASSERT_FALSE(wsrt_join_is_finished(jc));
	wsrt_mpsc_tx_release(ch);
	test_rt_join(rt, jc);
	ASSERT_EQ(c.received, 2);
	wsrt_join_release(jc);
	wsrt_mpsc_rx_release(ch);

	/* Sending to a dropped receiver fails. */
	ch = wsrt_mpsc_new(1);
	wsrt_mpsc_rx_release(ch);
	ASSERT_EQ(wsrt_mpsc_try_send(ch, NULL), -EPIPE);
	wsrt_mpsc_tx_release(ch);
	wsrt_runtime_free(rt);
}

/* ---- coop budget ---- */

struct greedy {
	struct wsrt_mpsc *ch;
	unsigned long received, polls;
	_Atomic unsigned long received_when_marker_ran;
};

static enum wsrt_poll greedy_receiver(struct wsrt_cx *cx, void *arg)
{
	struct greedy *g = arg;
	void *v;
	int ret;

	g->polls++;
	for (;;) {
		if (wsrt_mpsc_poll_recv(g->ch, cx, &v, &ret) == WSRT_PENDING)
			return WSRT_PENDING;
		if (ret == -EPIPE)
			return WSRT_READY;
		g->received++;
	}
}

static enum wsrt_poll marker(struct wsrt_cx *cx, void *arg)
{
	struct greedy *g = arg;
	atomic_store(&g->received_when_marker_ran, g->received);
	return WSRT_READY;
}

struct greedy_root {
	struct greedy *g;
	struct wsrt_join *jr, *jm;
};

static enum wsrt_poll greedy_root(struct wsrt_cx *cx, void *arg)
{
	struct greedy_root *r = arg;

	/* On the one worker: the marker goes to the LIFO slot, then the
	 * receiver displaces it to the local queue and runs next. */
	r->jm = wsrt_spawn(wsrt_cx_runtime(cx), marker, r->g, NULL);
	r->jr = wsrt_spawn(wsrt_cx_runtime(cx), greedy_receiver, r->g, NULL);
	return WSRT_READY;
}

TEST(coop_budget_makes_a_greedy_receiver_let_others_run)
{
	/* One worker; 1000 messages already buffered; the marker is queued
	 * behind the receiver.  Without a budget the receiver would drain all
	 * 1000 in one poll before the marker ran. */
	struct wsrt_runtime *rt = test_rt_start(1, false);
	struct greedy g = { .ch = wsrt_mpsc_new(1000) };
	struct greedy_root r = { .g = &g };

	for (uintptr_t i = 0; i < 1000; i++)
		ASSERT_EQ(wsrt_mpsc_try_send(g.ch, (void *)i), 0);
	wsrt_mpsc_tx_release(g.ch);
	struct wsrt_join *root = wsrt_spawn(rt, greedy_root, &r, NULL);
	test_rt_join(rt, root);
	struct wsrt_join *jr = r.jr, *jm = r.jm;
	test_rt_join(rt, jr);
	test_rt_join(rt, jm);
	wsrt_join_release(root);
	ASSERT_EQ(g.received, 1000);
	ASSERT_GE(g.polls, 1000 / WSRT_COOP_BUDGET);
	/* The marker ran right after the receiver's first, budget-capped poll. */
	ASSERT_EQ(atomic_load(&g.received_when_marker_ran), WSRT_COOP_BUDGET);
	wsrt_join_release(jr);
	wsrt_join_release(jm);
	wsrt_mpsc_rx_release(g.ch);
	wsrt_runtime_free(rt);
}

/* ---- local queue overflow ---- */

struct fanout {
	_Atomic unsigned long done;
	unsigned n;
};

static enum wsrt_poll fan_leaf(struct wsrt_cx *cx, void *arg)
{
	atomic_fetch_add(&((struct fanout *)arg)->done, 1);
	return WSRT_READY;
}

static enum wsrt_poll fan_root(struct wsrt_cx *cx, void *arg)
{
	struct fanout *f = arg;

	/* Far more than a local queue holds: half goes to the inject queue
	 * each time it fills. */
	for (unsigned i = 0; i < f->n; i++)
		if (wsrt_spawn_detached(wsrt_cx_runtime(cx), fan_leaf, f, NULL))
			FAILF("spawn failed");
	return WSRT_READY;
}

static enum wsrt_poll wait_fanout(struct wsrt_cx *cx, void *arg)
{
	struct fanout *f = arg;

	if (atomic_load(&f->done) == f->n)
		return WSRT_READY;
	return wsrt_yield(cx);	/* poll again soon (block_on spins) */
}

TEST(spawning_past_the_local_queue_overflows_to_inject_and_loses_nothing)
{
	struct wsrt_runtime *rt = test_rt_start(2, true);
	struct fanout f = { .n = 5000 };
	struct wsrt_join *jh = wsrt_spawn(rt, fan_root, &f, NULL);

	test_rt_join(rt, jh);
	ASSERT_EQ(wsrt_block_on(rt, wait_fanout, &f), 0);
	ASSERT_EQ(atomic_load(&f.done), f.n);
	struct wsrt_metrics m;
	wsrt_runtime_metrics(rt, &m);
	ASSERT_EQ(m.tasks_spawned, f.n + 1);
	wsrt_join_release(jh);
	wsrt_runtime_free(rt);
}

/* ---- shutdown ---- */

struct forever {
	_Atomic int *drops;
	struct wsrt_waker peer;	/* a waker of another task: a cycle */
	struct wsrt_waker self;
	struct forever *next;
	_Atomic int polled;
};

static enum wsrt_poll pend_forever(struct wsrt_cx *cx, void *arg)
{
	struct forever *f = arg;

	if (!wsrt_waker_is_set(&f->self))
		f->self = wsrt_waker_clone(wsrt_cx_waker(cx));
	atomic_store(&f->polled, 1);
	return WSRT_PENDING;
}

static void drop_forever(void *arg)
{
	struct forever *f = arg;
	wsrt_waker_drop(&f->self);
	wsrt_waker_drop(&f->peer);
	atomic_fetch_add(f->drops, 1);
}

TEST(shutdown_cancels_unfinished_tasks_and_drops_their_state)
{
	enum { N = 100 };
	struct wsrt_runtime *rt = test_rt_start(2, true);
	static struct forever fs[N];
	struct wsrt_join *jh[N];
	_Atomic int drops = 0;

	for (int i = 0; i < N; i++) {
		fs[i] = (struct forever){ .drops = &drops };
		jh[i] = wsrt_spawn(rt, pend_forever, &fs[i], drop_forever);
		ASSERT_TRUE(jh[i] != NULL);
	}
	for (int i = 0; i < N; i++)
		while (!atomic_load(&fs[i].polled))
			sched_yield();
	/* Each task holds a waker of the next: reference cycles that only
	 * cancellation (dropping state) can break.  LSan checks it did. */
	for (int i = 0; i < N; i++)
		fs[i].peer = wsrt_waker_clone(&fs[(i + 1) % N].self);
	wsrt_runtime_free(rt);
	ASSERT_EQ(atomic_load(&drops), N);
	for (int i = 0; i < N; i++) {
		ASSERT_TRUE(wsrt_join_is_finished(jh[i]));
		ASSERT_TRUE(wsrt_join_was_cancelled(jh[i]));
		wsrt_join_release(jh[i]);
	}
}

static enum wsrt_poll nested_block_on(struct wsrt_cx *cx, void *arg)
{
	*(int *)arg = wsrt_block_on(wsrt_cx_runtime(cx), return_42, NULL);
	return WSRT_READY;
}

TEST(block_on_from_a_worker_is_refused)
{
	struct wsrt_runtime *rt = test_rt_start(2, true);
	int ret = 0;
	struct wsrt_join *jh = wsrt_spawn(rt, nested_block_on, &ret, NULL);

	test_rt_join(rt, jh);
	ASSERT_EQ(ret, -EDEADLK);
	wsrt_join_release(jh);
	wsrt_runtime_free(rt);
}

/* ---- configuration ---- */

TEST(config_env_overrides_and_rejects_garbage)
{
	struct wsrt_config cfg;
	const char *bad = NULL;

	wsrt_config_default(&cfg);
	ASSERT_TRUE(cfg.lifo_stealable);
	ASSERT_TRUE(cfg.eager_handoff);
	setenv("WSRT_WORKERS", "3", 1);
	setenv("WSRT_LIFO_STEALABLE", "0", 1);
	setenv("WSRT_EAGER_HANDOFF", "0", 1);
	ASSERT_EQ(wsrt_config_from_env(&cfg, &bad), 0);
	ASSERT_EQ(cfg.workers, 3);
	ASSERT_FALSE(cfg.lifo_stealable);
	ASSERT_FALSE(cfg.eager_handoff);

	struct wsrt_runtime *rt = wsrt_runtime_new(NULL);	/* env applies */
	ASSERT_TRUE(rt != NULL);
	ASSERT_EQ(wsrt_runtime_config(rt)->workers, 3);
	ASSERT_FALSE(wsrt_runtime_config(rt)->lifo_stealable);
	wsrt_runtime_free(rt);

	const char *garbage[][2] = {
		{ "WSRT_WORKERS", "0" }, { "WSRT_WORKERS", "-1" },
		{ "WSRT_WORKERS", "2x" }, { "WSRT_WORKERS", "99999" },
		{ "WSRT_LIFO_STEALABLE", "yes" }, { "WSRT_EAGER_HANDOFF", "2" },
	};
	for (unsigned i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		struct wsrt_config before = cfg;
		setenv(garbage[i][0], garbage[i][1], 1);
		ASSERT_EQ(wsrt_config_from_env(&cfg, &bad), -EINVAL);
		ASSERT_EQ(strcmp(bad, garbage[i][0]), 0);
		ASSERT_EQ(memcmp(&before, &cfg, sizeof(cfg)), 0);
		ASSERT_TRUE(wsrt_runtime_new(NULL) == NULL);
		ASSERT_EQ(errno, EINVAL);
		setenv(garbage[i][0], "1", 1);
	}
}
