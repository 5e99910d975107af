/* SPDX-License-Identifier: MIT */
/*
 * The runtime object: configuration, starting the workers, block_on, the
 * owned-task list and shutdown.
 *
 * Owns: the runtime's lifetime.  Does not own: the run loop (worker.c) or
 * task state (task.c).
 *
 * Shutdown (wsrt_runtime_free), in order:
 *  1. Close the owned-task list (spawns now fail with ESHUTDOWN) and the
 *     inject queue (remote notifications now drop their reference), then
 *     publish `shutdown`.
 *  2. Unpark every worker; each sees `shutdown` at its next loop turn or
 *     park return, and exits.  (A task that never returns from its poll
 *     keeps its worker, and shutdown, waiting: that is the task's bug.)
 *  3. Join every worker thread.  From here on only this thread touches the
 *     queues.
 *  4. Drain every LIFO slot, local queue and the inject queue, dropping
 *     their scheduler references.
 *  5. Cancel every task still on the owned list: drop its state, mark it
 *     COMPLETE|CANCELLED, wake its join handle.  Dropping state may wake
 *     other tasks; those wakes find the inject queue closed (step 1).
 *  6. Free the runtime and its driver.  Join handles stay valid until
 *     released; wakers must not be woken, nor TCP sockets or timers used,
 *     after this point (tasks that own them close them in their drop).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "wsrt_probes.h"

uint64_t wsrt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- configuration ------------------------------------------------------- */

void wsrt_config_default(struct wsrt_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = 0;
	cfg->lifo_stealable = true;
	cfg->eager_handoff = true;
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "0"))
		*out = false;
	else if (!strcmp(s, "1"))
		*out = true;
	else
		return -EINVAL;
	return 0;
}

int wsrt_config_from_env(struct wsrt_config *cfg, const char **bad)
{
	struct wsrt_config c = *cfg;
	const char *v;

	if ((v = getenv("WSRT_WORKERS")) && *v) {
		char *end;
		errno = 0;
		unsigned long n = strtoul(v, &end, 10);
		if (errno || *end || n == 0 || n > WSRT_MAX_WORKERS ||
		    *v == '-') {
			if (bad)
				*bad = "WSRT_WORKERS";
			return -EINVAL;
		}
		c.workers = (unsigned)n;
	}
	if ((v = getenv("WSRT_LIFO_STEALABLE")) && *v &&
	    parse_bool(v, &c.lifo_stealable)) {
		if (bad)
			*bad = "WSRT_LIFO_STEALABLE";
		return -EINVAL;
	}
	if ((v = getenv("WSRT_EAGER_HANDOFF")) && *v &&
	    parse_bool(v, &c.eager_handoff)) {
		if (bad)
			*bad = "WSRT_EAGER_HANDOFF";
		return -EINVAL;
	}
	*cfg = c;
	return 0;
}

const struct wsrt_config *wsrt_runtime_config(const struct wsrt_runtime *rt)
{
	return &rt->cfg;
}

void wsrt_runtime_metrics(struct wsrt_runtime *rt, struct wsrt_metrics *m)
{
	m->workers = rt->nworkers;
	/* From the parkers, not the idle set: a worker counts once it is
	 * really asleep, not from the moment it decided to park. */
	m->parked = m->parked_on_driver = 0;
	for (unsigned i = 0; i < rt->nworkers; i++) {
		uint32_t st = atomic_load_explicit(&rt->workers[i].parker.state,
						   memory_order_relaxed);
		m->parked += st == WSRT_PARK_STATE_FUTEX ||
			     st == WSRT_PARK_STATE_DRIVER;
		m->parked_on_driver += st == WSRT_PARK_STATE_DRIVER;
	}
	m->searching = wsrt_idle_num_searching(&rt->idle);
	m->inject_depth = wsrt_inject_len(&rt->inject);
	m->tasks_spawned = atomic_load_explicit(&rt->next_task_id,
						memory_order_relaxed);
}

unsigned wsrt_runtime_local_queue_depth(struct wsrt_runtime *rt,
					unsigned worker)
{
	struct wsrt_queue *q;

	if (worker >= rt->nworkers)
		return 0;
	q = &rt->workers[worker].queue;
	return wsrt_queue_len(q) +
	       (atomic_load_explicit(&q->lifo, memory_order_relaxed) ? 1 : 0);
}

/* ---- the owned-task list -------------------------------------------------- */

static struct wsrt_owned_shard *shard_of(struct wsrt_runtime *rt, const struct wsrt_task *t)
{
	return &rt->owned[t->id % WSRT_OWNED_SHARDS];
}

int wsrt_runtime_owned_insert(struct wsrt_runtime *rt, struct wsrt_task *t)
{
	struct wsrt_owned_shard *s = shard_of(rt, t);

	pthread_mutex_lock(&s->lock);
	if (s->closed) {
		pthread_mutex_unlock(&s->lock);
		return -ESHUTDOWN;
	}
	t->owned_prev = NULL;
	t->owned_next = s->head;
	if (s->head)
		s->head->owned_prev = t;
	s->head = t;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void wsrt_runtime_owned_remove(struct wsrt_runtime *rt, struct wsrt_task *t)
{
	struct wsrt_owned_shard *s = shard_of(rt, t);

	pthread_mutex_lock(&s->lock);
	if (t->owned_prev)
		t->owned_prev->owned_next = t->owned_next;
	else
		s->head = t->owned_next;
	if (t->owned_next)
		t->owned_next->owned_prev = t->owned_prev;
	t->owned_prev = t->owned_next = NULL;
	pthread_mutex_unlock(&s->lock);
}

/* ---- lifecycle ------------------------------------------------------------- */

static void stop_workers(struct wsrt_runtime *rt, unsigned started)
{
	/* Steps 1-3. */
	for (unsigned i = 0; i < WSRT_OWNED_SHARDS; i++) {
		pthread_mutex_lock(&rt->owned[i].lock);
		rt->owned[i].closed = true;
		pthread_mutex_unlock(&rt->owned[i].lock);
	}
	wsrt_inject_close(&rt->inject);
	atomic_store_explicit(&rt->shutdown, true, memory_order_seq_cst);
	for (unsigned i = 0; i < started; i++)
		wsrt_parker_unpark(&rt->workers[i].parker, &rt->driver);
	for (unsigned i = 0; i < started; i++)
		pthread_join(rt->workers[i].thread, NULL);
}

static void destroy(struct wsrt_runtime *rt)
{
	wsrt_driver_destroy(&rt->driver);
	wsrt_idle_destroy(&rt->idle);
	wsrt_inject_destroy(&rt->inject);
	for (unsigned i = 0; i < WSRT_OWNED_SHARDS; i++)
		pthread_mutex_destroy(&rt->owned[i].lock);
	free(rt->workers);
	free((void *)rt->cfg.thread_name);
	free(rt);
}

struct wsrt_runtime *wsrt_runtime_new(const struct wsrt_config *cfg_in)
{
	struct wsrt_runtime *rt;
	struct wsrt_config cfg;
	unsigned i;
	int err;

	if (cfg_in) {
		cfg = *cfg_in;
	} else {
		wsrt_config_default(&cfg);
		if (wsrt_config_from_env(&cfg, NULL)) {
			errno = EINVAL;
			return NULL;
		}
	}
	if (cfg.workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cfg.workers = n > 0 ? (unsigned)n : 1;
	}
	if (cfg.workers > WSRT_MAX_WORKERS) {
		errno = EINVAL;
		return NULL;
	}
	if (cfg.global_queue_interval == 0)
		cfg.global_queue_interval = WSRT_GLOBAL_QUEUE_INTERVAL;
	if (cfg.event_interval == 0)
		cfg.event_interval = WSRT_EVENT_INTERVAL;
	/* Thread names are 15 bytes: leave room for the index. */
	cfg.thread_name = strndup(cfg.thread_name ? cfg.thread_name : "wsrt-w",
				  10);

	rt = calloc(1, sizeof(*rt));
	if (!rt || !cfg.thread_name)
		goto enomem;
	rt->cfg = cfg;
	rt->nworkers = cfg.workers;
	rt->workers = aligned_alloc(WSRT_CACHELINE,
				    cfg.workers * sizeof(*rt->workers));
	if (!rt->workers)
		goto enomem;
	memset(rt->workers, 0, cfg.workers * sizeof(*rt->workers));
	if (wsrt_idle_init(&rt->idle, cfg.workers)) {
		free(rt->workers);
		goto enomem;
	}
	if ((err = wsrt_driver_init(&rt->driver))) {
		wsrt_idle_destroy(&rt->idle);
		free(rt->workers);
		free(rt);
		free((void *)cfg.thread_name);
		errno = -err;
		return NULL;
	}
	wsrt_inject_init(&rt->inject);
	for (i = 0; i < WSRT_OWNED_SHARDS; i++)
		pthread_mutex_init(&rt->owned[i].lock, NULL);
	atomic_init(&rt->shutdown, false);
	atomic_init(&rt->next_task_id, 0);

	uint64_t seed = wsrt_now_ns() | 1;
	for (i = 0; i < cfg.workers; i++) {
		struct wsrt_worker *w = &rt->workers[i];
		wsrt_queue_init(&w->queue, 0);
		wsrt_parker_init(&w->parker);
		w->rt = rt;
		w->index = i;
		w->lifo_enabled = true;
		w->rand = (seed + i) * 0x9E3779B97F4A7C15ULL | 1;
	}
	for (i = 0; i < cfg.workers; i++) {
		err = pthread_create(&rt->workers[i].thread, NULL,
				     wsrt_worker_main, &rt->workers[i]);
		if (err) {
			stop_workers(rt, i);
			destroy(rt);
			errno = err;
			return NULL;
		}
	}
	return rt;
enomem:
	if (rt)
		free(rt);
	free((void *)cfg.thread_name);
	errno = ENOMEM;
	return NULL;
}

static void drain_unref(struct wsrt_task *t)
{
	if (t)
		wsrt_task_unref(t);
}

void wsrt_runtime_free(struct wsrt_runtime *rt)
{
	struct wsrt_task *t;

	if (!rt)
		return;
	stop_workers(rt, rt->nworkers);

	/* Step 4. */
	for (unsigned i = 0; i < rt->nworkers; i++) {
		struct wsrt_queue *q = &rt->workers[i].queue;
		drain_unref(wsrt_queue_lifo_take(q));
		while ((t = wsrt_queue_pop(q)))
			wsrt_task_unref(t);
	}
	while (wsrt_inject_pop_n(&rt->inject, &t, 1, NULL))
		wsrt_task_unref(t);

	/* Step 5. */
	for (unsigned i = 0; i < WSRT_OWNED_SHARDS; i++) {
		for (;;) {
			pthread_mutex_lock(&rt->owned[i].lock);
			t = rt->owned[i].head;
			pthread_mutex_unlock(&rt->owned[i].lock);
			if (!t)
				break;
			WSRT_PROBE_TASK_CANCEL(t->id);
			wsrt_task_complete(t, NULL, true);
		}
	}
	destroy(rt);
}

/* ---- block_on ----------------------------------------------------------------- */

/* The block_on waker: a refcounted parker for the calling thread (it may be
 * cloned into places that outlive the call). */
struct thread_waker {
	_Atomic uint32_t refs;
	struct wsrt_parker parker;
};

static void thread_waker_clone(const void *data)
{
	struct thread_waker *tw = (struct thread_waker *)data;
	atomic_fetch_add_explicit(&tw->refs, 1, memory_order_relaxed);
}

static void thread_waker_wake_by_ref(const void *data)
{
	wsrt_parker_unpark(&((struct thread_waker *)data)->parker, NULL);
}

static void thread_waker_drop(const void *data)
{
	struct thread_waker *tw = (struct thread_waker *)data;
	if (atomic_fetch_sub_explicit(&tw->refs, 1, memory_order_acq_rel) == 1)
		free(tw);
}

static const struct wsrt_waker_vtable thread_waker_vtable = {
	.clone = thread_waker_clone,
	.wake_by_ref = thread_waker_wake_by_ref,
	.drop = thread_waker_drop,
};

int wsrt_block_on(struct wsrt_runtime *rt, wsrt_poll_fn poll, void *state)
{
	struct thread_waker *tw;
	struct wsrt_cx cx;

	if (!rt || !poll)
		return -EINVAL;
	if (wsrt_ctx.worker || wsrt_ctx.task)
		return -EDEADLK;	/* would block a worker on itself */
	tw = malloc(sizeof(*tw));
	if (!tw)
		return -ENOMEM;
	atomic_init(&tw->refs, 1);
	wsrt_parker_init(&tw->parker);
	cx = (struct wsrt_cx){
		.waker = { .vtable = &thread_waker_vtable, .data = tw },
		.rt = rt,
		.task = NULL,
		.worker = -1,
	};
	for (;;) {
		wsrt_ctx.budget = WSRT_COOP_BUDGET;
		if (poll(&cx, state) == WSRT_READY)
			break;
		wsrt_parker_park(&tw->parker, -1, NULL);
	}
	wsrt_waker_drop(&cx.waker);
	return 0;
}
