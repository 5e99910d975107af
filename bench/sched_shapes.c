/* SPDX-License-Identifier: MIT */
/*
 * The six shapes of bench/sched.c (Tokio's tokio/benches/rt_multi_threaded.rs
 * shapes, on wsrt): each a setup, a run (one iteration, from the first
 * spawn until wsrt_block_on() sees the last task finish) and its count of
 * operations; the table sched.c measures (sched.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"
#include "wsrt.h"

/* ---- a one-shot latch: the last task sets it, block_on waits on it ----------- */

void latch_init(struct latch *l)
{
	pthread_mutex_init(&l->lock, NULL);
	l->set = false;
	l->waker = (struct wsrt_waker){ 0 };
}

void latch_destroy(struct latch *l)
{
	wsrt_waker_drop(&l->waker);
	pthread_mutex_destroy(&l->lock);
}

/* Only between runs, when no task can touch it. */
void latch_reset(struct latch *l)
{
	pthread_mutex_lock(&l->lock);
	l->set = false;
	pthread_mutex_unlock(&l->lock);
}

static void latch_set(struct latch *l)
{
	struct wsrt_waker w;

	pthread_mutex_lock(&l->lock);
	l->set = true;
	w = l->waker;
	l->waker = (struct wsrt_waker){ 0 };
	pthread_mutex_unlock(&l->lock);
	wsrt_waker_wake(&w);
}

static enum wsrt_poll latch_poll(struct wsrt_cx *cx, void *arg)
{
	struct latch *l = arg;
	struct wsrt_waker old = { 0 };
	bool set;

	pthread_mutex_lock(&l->lock);
	set = l->set;
	if (!set && !wsrt_waker_will_wake(&l->waker, wsrt_cx_waker(cx))) {
		old = l->waker;
		l->waker = wsrt_waker_clone(wsrt_cx_waker(cx));
	}
	pthread_mutex_unlock(&l->lock);
	wsrt_waker_drop(&old);
	return set ? WSRT_READY : WSRT_PENDING;
}

/* ---- the benchmark state --------------------------------------------------------- */


static void spawn_or_die(struct wsrt_runtime *rt, wsrt_poll_fn poll, void *st)
{
	int err = wsrt_spawn_detached(rt, poll, st, NULL);

	if (err)
		die("spawn failed: %s", strerror(-err));
}

/* The last of b->rem tasks sets the latch.  After this a task must not
 * touch any benchmark state: the next run may already be starting. */
static void finish_one(struct bench *b)
{
	if (atomic_fetch_sub_explicit(&b->rem, 1, memory_order_acq_rel) == 1)
		latch_set(&b->done);
}

static void wait_done(struct bench *b)
{
	int err = wsrt_block_on(b->rt, latch_poll, &b->done);

	if (err)
		die("wsrt_block_on: %s", strerror(-err));
}

static enum wsrt_poll leaf(struct wsrt_cx *cx, void *arg)
{
	finish_one(arg);
	return WSRT_READY;
}

/* ---- spawn_many_local: one task spawns n tasks from a worker ---------------------- */

static enum wsrt_poll spawner(struct wsrt_cx *cx, void *arg)
{
	struct bench *b = arg;
	uint64_t n = b->n;	/* read before the first leaf can finish */

	for (uint64_t i = 0; i < n; i++)
		spawn_or_die(wsrt_cx_runtime(cx), leaf, b);
	return WSRT_READY;
}

static void run_spawn_many_local(struct bench *b)
{
	atomic_store(&b->rem, b->n);
	spawn_or_die(b->rt, spawner, b);
	wait_done(b);
}

/* ---- spawn_many_remote: the main thread spawns n tasks (inject queue) ----------- */

static void run_spawn_many_remote(struct bench *b)
{
	atomic_store(&b->rem, b->n);
	for (uint64_t i = 0; i < b->n; i++)
		spawn_or_die(b->rt, leaf, b);
	wait_done(b);
}

/* ---- yield_many: n tasks each yield m times --------------------------------------- */

struct yielder {
	struct bench *b;
	uint64_t left;
};

static enum wsrt_poll yielder_poll(struct wsrt_cx *cx, void *arg)
{
	struct yielder *y = arg;

	if (y->left) {
		y->left--;
		return wsrt_yield(cx);
	}
	finish_one(y->b);
	return WSRT_READY;
}

static void setup_yield_many(struct bench *b)
{
	struct yielder *ys = calloc(b->n, sizeof(*ys));

	if (!ys)
		die("out of memory");
	for (uint64_t i = 0; i < b->n; i++)
		ys[i].b = b;
	b->arr = ys;
}

static void run_yield_many(struct bench *b)
{
	struct yielder *ys = b->arr;

	atomic_store(&b->rem, b->n);
	for (uint64_t i = 0; i < b->n; i++)
		ys[i].left = b->m;
	for (uint64_t i = 0; i < b->n; i++)
		spawn_or_die(b->rt, yielder_poll, &ys[i]);
	wait_done(b);
}

/* ---- ping_pong: n spawned pairs, each bounces one message each way ------------- */

/*
 * As in Tokio: the main thread spawns n pingers; each creates two oneshots,
 * spawns its ponger (from a worker), sends on the first and waits on the
 * second; the ponger waits on the first and answers on the second.  Two
 * messages (and one local spawn) per pair.
 */
struct pair {
	struct bench *b;
	struct wsrt_oneshot *ping, *pong;	/* set before the ponger exists */
	bool started;
};

static enum wsrt_poll ponger(struct wsrt_cx *cx, void *arg)
{
	struct pair *p = arg;
	/* Copies: once pong is sent the pair may be reused by the next run. */
	struct wsrt_oneshot *ping = p->ping, *pong = p->pong;
	int ret;

	if (wsrt_oneshot_poll_recv(ping, cx, NULL, &ret) == WSRT_PENDING)
		return WSRT_PENDING;
	if (ret)
		die("ping_pong: ping lost: %s", strerror(-ret));
	wsrt_oneshot_close_rx(ping);
	if ((ret = wsrt_oneshot_send(pong, NULL)))
		die("ping_pong: pong: %s", strerror(-ret));
	wsrt_oneshot_close_tx(pong);
	return WSRT_READY;
}

static enum wsrt_poll pinger(struct wsrt_cx *cx, void *arg)
{
	struct pair *p = arg;
	int ret;

	if (!p->started) {
		p->started = true;
		p->ping = wsrt_oneshot_new();
		p->pong = wsrt_oneshot_new();
		if (!p->ping || !p->pong)
			die("out of memory");
		spawn_or_die(wsrt_cx_runtime(cx), ponger, p);
		if ((ret = wsrt_oneshot_send(p->ping, NULL)))
			die("ping_pong: ping: %s", strerror(-ret));
		wsrt_oneshot_close_tx(p->ping);
	}
	if (wsrt_oneshot_poll_recv(p->pong, cx, NULL, &ret) == WSRT_PENDING)
		return WSRT_PENDING;
	if (ret)
		die("ping_pong: pong lost: %s", strerror(-ret));
	wsrt_oneshot_close_rx(p->pong);
	finish_one(p->b);
	return WSRT_READY;
}

static void setup_ping_pong(struct bench *b)
{
	struct pair *ps = calloc(b->n, sizeof(*ps));

	if (!ps)
		die("out of memory");
	for (uint64_t i = 0; i < b->n; i++)
		ps[i].b = b;
	b->arr = ps;
}

static void run_ping_pong(struct bench *b)
{
	struct pair *ps = b->arr;

	atomic_store(&b->rem, b->n);
	for (uint64_t i = 0; i < b->n; i++)
		ps[i].started = false;
	for (uint64_t i = 0; i < b->n; i++)
		spawn_or_die(b->rt, pinger, &ps[i]);
	wait_done(b);
}

/* ---- chained_spawn: each task spawns the next, n deep ------------------------------ */

struct link {
	struct bench *b;
	struct link *next;	/* NULL: the last one */
};

static enum wsrt_poll link_poll(struct wsrt_cx *cx, void *arg)
{
	struct link *l = arg;

	if (l->next)
		spawn_or_die(wsrt_cx_runtime(cx), link_poll, l->next);
	else
		latch_set(&l->b->done);
	return WSRT_READY;
}

static void setup_chained_spawn(struct bench *b)
{
	/* n + 1 tasks: the first is spawned from main, the n others by
	 * their predecessor. */
	struct link *ls = calloc(b->n + 1, sizeof(*ls));

	if (!ls)
		die("out of memory");
	for (uint64_t i = 0; i <= b->n; i++) {
		ls[i].b = b;
		ls[i].next = i < b->n ? &ls[i + 1] : NULL;
	}
	b->arr = ls;
}

static void run_chained_spawn(struct bench *b)
{
	spawn_or_die(b->rt, link_poll, b->arr);
	wait_done(b);
}

/* ---- short_handler: a producer task streams n messages to a consumer ------------ */

/*
 * Both are spawned from main; after that every wake of the consumer comes
 * from the producer's worker (into its LIFO slot) and vice versa.  Legacy:
 * a task put into an empty LIFO slot wakes nobody, so the pair tends to
 * stay on one worker.  Stealable: every such notification may wake a
 * parked worker that steals the task — the extra wakeups Tokio measured as
 * a throughput regression.
 */
struct stream {
	struct bench *b;
	struct wsrt_mpsc *ch;
	uint64_t sent;		/* producer only */
	uint64_t acc;		/* consumer only */
};

static inline uint64_t tiny_work(uint64_t x)
{
	for (int i = 0; i < 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

static enum wsrt_poll producer(struct wsrt_cx *cx, void *arg)
{
	struct stream *s = arg;
	struct bench *b = s->b;
	int ret;

	while (s->sent < b->n) {
		if (wsrt_mpsc_poll_send(s->ch, cx, (void *)(uintptr_t)(s->sent + 1),
					&ret) == WSRT_PENDING)
			return WSRT_PENDING;
		if (ret)
			die("short_handler: send: %s", strerror(-ret));
		s->sent++;
	}
	wsrt_mpsc_tx_release(s->ch);
	return WSRT_READY;
}

static enum wsrt_poll consumer(struct wsrt_cx *cx, void *arg)
{
	struct stream *s = arg;
	void *v;
	int ret;

	for (;;) {
		if (wsrt_mpsc_poll_recv(s->ch, cx, &v, &ret) == WSRT_PENDING)
			return WSRT_PENDING;
		if (ret == -EPIPE)
			break;
		s->acc += tiny_work((uintptr_t)v);
	}
	atomic_fetch_add_explicit(&s->b->sink, s->acc, memory_order_relaxed);
	wsrt_mpsc_rx_release(s->ch);	/* frees it: the producer is done */
	latch_set(&s->b->done);
	return WSRT_READY;
}

static void setup_short_handler(struct bench *b)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s)
		die("out of memory");
	s->b = b;
	b->arr = s;
}

static void run_short_handler(struct bench *b)
{
	struct stream *s = b->arr;

	s->ch = wsrt_mpsc_new(b->m);
	if (!s->ch)
		die("out of memory");
	s->sent = 0;
	s->acc = 0;
	spawn_or_die(b->rt, consumer, s);
	spawn_or_die(b->rt, producer, s);
	wait_done(b);
}

/* ---- the table of benchmarks ---------------------------------------------------------- */


static uint64_t ops_n(const struct bench *b)
{
	return b->n;
}

static uint64_t ops_nm(const struct bench *b)
{
	return b->n * b->m;
}

static uint64_t ops_2n(const struct bench *b)
{
	return 2 * b->n;
}

const struct bench_def sched_benches[] = {
	{ "spawn_many_local", "spawn", 10000, 0, 500, 0,
	  NULL, run_spawn_many_local, ops_n },
	{ "spawn_many_remote", "spawn", 10000, 0, 500, 0,
	  NULL, run_spawn_many_remote, ops_n },
	{ "yield_many", "yield", 200, 1000, 20, 50,
	  setup_yield_many, run_yield_many, ops_nm },
	{ "ping_pong", "msg", 1000, 0, 100, 0,
	  setup_ping_pong, run_ping_pong, ops_2n },
	{ "chained_spawn", "spawn", 1000, 0, 100, 0,
	  setup_chained_spawn, run_chained_spawn, ops_n },
	/* m: the channel's capacity */
	{ "short_handler", "msg", 100000, 64, 2000, 64,
	  setup_short_handler, run_short_handler, ops_n },
};
const size_t sched_nbenches = sizeof(sched_benches) / sizeof(sched_benches[0]);
