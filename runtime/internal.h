/* SPDX-License-Identifier: MIT */
/*
 * wsrt internals shared between the runtime's files: the task header, the
 * local run queue, the inject queue, the idle set, the parker, the worker
 * and the runtime.  Each shared field says who writes it and who reads it.
 * Not installed; tests include it to reach the queue and idle primitives.
 */
#ifndef WSRT_INTERNAL_H
#define WSRT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/types.h>

#include "wsrt.h"

#define WSRT_CACHELINE 64

/* Tokio's defaults (runtime/scheduler/multi_thread). */
#define WSRT_LOCAL_QUEUE_CAP 256	/* must be a power of two */
#define WSRT_MAX_LIFO_POLLS 3		/* MAX_LIFO_POLLS_PER_TICK */
#define WSRT_GLOBAL_QUEUE_INTERVAL 61
#define WSRT_EVENT_INTERVAL 61
#define WSRT_MAX_WORKERS 1024

_Static_assert((WSRT_LOCAL_QUEUE_CAP & (WSRT_LOCAL_QUEUE_CAP - 1)) == 0,
	       "local queue capacity must be a power of two");

/* ---- task (task.c) ------------------------------------------------------- */

/*
 * Task state word.  The low bits are flags, the rest a reference count.
 * References are held by: the owned-task list (until the task finishes or
 * is cancelled), the scheduler (while NOTIFIED and not RUNNING: exactly one
 * queue or LIFO slot holds the task), the join handle, and every waker.
 */
#define WSRT_TASK_RUNNING  (1U << 0)
#define WSRT_TASK_COMPLETE (1U << 1)
#define WSRT_TASK_NOTIFIED (1U << 2)
#define WSRT_TASK_CANCELLED (1U << 3)
#define WSRT_TASK_JOIN_INTEREST (1U << 4)
#define WSRT_TASK_REF_SHIFT 8
#define WSRT_TASK_REF_ONE (1ULL << WSRT_TASK_REF_SHIFT)

struct wsrt_task {
	_Atomic uint64_t state;
	/* Link in the inject queue or an overflow batch: written by whoever
	 * holds the scheduler reference. */
	struct wsrt_task *next;
	/* Owned-task list links: under its shard's lock (runtime.owned). */
	struct wsrt_task *owned_prev, *owned_next;
	struct wsrt_runtime *rt;	/* immutable */
	wsrt_poll_fn poll;		/* immutable */
	void *arg;			/* the caller's state; immutable */
	wsrt_drop_fn drop;		/* immutable */
	uint64_t id;			/* immutable, never reused */
	/* Written by the polling worker before COMPLETE is published; read
	 * by the join handle after it observes COMPLETE. */
	void *output;
	/* The join handle's waker: under join_lock, a spinlock (task.c) held
	 * for a copy and a clone — a pthread mutex made the task 136 bytes,
	 * past malloc's fast bins, so that every free from another worker
	 * took the spawning thread's arena lock (spawn_many_local, 2
	 * workers: 38 % of the profile in that lock's futex waits and
	 * wakes).  104 bytes now. */
	_Atomic uint32_t join_lock;
	struct wsrt_waker join_waker;
};

enum wsrt_task_idle_result {
	WSRT_TASK_IDLE_OK,	/* parked until woken: scheduler ref dropped */
	WSRT_TASK_IDLE_NOTIFIED, /* woken during its poll: reschedule (yield) */
};

struct wsrt_task *wsrt_task_new(struct wsrt_runtime *rt, wsrt_poll_fn poll,
				void *arg, wsrt_drop_fn drop, bool join);
void wsrt_task_ref(struct wsrt_task *t);
void wsrt_task_unref(struct wsrt_task *t);
void wsrt_task_transition_to_running(struct wsrt_task *t);
enum wsrt_task_idle_result wsrt_task_transition_to_idle(struct wsrt_task *t);
void wsrt_task_complete(struct wsrt_task *t, void *output, bool cancelled);
/* Wake from a waker: schedules the task when it was idle. */
void wsrt_task_wake_by_ref(struct wsrt_task *t);
struct wsrt_waker wsrt_task_waker(struct wsrt_task *t); /* borrowed */
/* With the slot's lock held: make *slot a clone of w unless it already
 * wakes the same thing.  The waker it replaces lands in *old, for the
 * caller to drop after unlocking (a drop may free a task). */
void wsrt_waker_store(struct wsrt_waker *slot, const struct wsrt_waker *w,
		      struct wsrt_waker *old);

/* ---- local run queue (queue.c) ------------------------------------------ */

/*
 * Bounded single-producer, multi-consumer ring (Tokio's queue.rs).  The
 * owner pushes at the tail and pops at the head; stealers take half from
 * the head.  head packs two u32 indices: `real` (the next task to take) and
 * `steal` (where an in-progress steal began; equal to real when no steal is
 * in progress, so at most one stealer works on a queue at a time).
 */
struct wsrt_queue {
	/* Written by the owner (pop) and by stealers (CAS); read by all. */
	_Atomic uint64_t head;
	/* Written by the owner only (release); read by stealers (acquire). */
	_Atomic uint32_t tail;
	/* The LIFO slot.  Filled by the owner only; emptied by the owner, and
	 * by stealers when LIFO stealing is on. */
	_Atomic(struct wsrt_task *) lifo;
	/* Slots in [steal, tail) belong to the queue; the owner writes slots
	 * beyond tail, a stealer reads the slots it claimed. */
	struct wsrt_task *buf[WSRT_LOCAL_QUEUE_CAP];
};

void wsrt_queue_init(struct wsrt_queue *q, uint32_t start);
unsigned wsrt_queue_len(struct wsrt_queue *q);		/* any thread */
bool wsrt_queue_is_empty(struct wsrt_queue *q);		/* any thread */
bool wsrt_queue_has_stealable(struct wsrt_queue *q, bool lifo_stealable);
unsigned wsrt_queue_remaining_slots(struct wsrt_queue *q);	/* owner */
/* Owner.  Returns NULL, or when the queue was full, a batch (linked by
 * ->next, *n tasks: half the queue and `t`) that the caller must push to
 * the inject queue. */
struct wsrt_task *wsrt_queue_push_back_or_overflow(struct wsrt_queue *q,
						   struct wsrt_task *t,
						   unsigned *n);
/* Owner; there must be room for n (see remaining_slots). */
void wsrt_queue_push_back_n(struct wsrt_queue *q, struct wsrt_task **ts,
			    unsigned n);
struct wsrt_task *wsrt_queue_pop(struct wsrt_queue *q);	/* owner */
/* Thief (owner of dst).  Moves half of src into dst and returns one task
 * to run now, or NULL.  With take_lifo, also empties src's LIFO slot; a
 * LIFO task taken is the one returned (*lifo_taken is set to it).
 * *count is the number of tasks taken in all. */
struct wsrt_task *wsrt_queue_steal_into(struct wsrt_queue *src,
					struct wsrt_queue *dst, bool take_lifo,
					unsigned *count,
					struct wsrt_task **lifo_taken);
/* Test support: every index is consistent (single-threaded only). */
bool wsrt_queue_valid(struct wsrt_queue *q);

static inline struct wsrt_task *wsrt_queue_lifo_take(struct wsrt_queue *q)
{
	/* Fast path avoids the RMW when empty (the common case). Acquire
	 * pairs with the release in lifo_swap: the task's fields are ours. */
	if (!atomic_load_explicit(&q->lifo, memory_order_relaxed))
		return NULL;
	return atomic_exchange_explicit(&q->lifo, NULL, memory_order_acq_rel);
}

static inline struct wsrt_task *wsrt_queue_lifo_swap(struct wsrt_queue *q,
						     struct wsrt_task *t)
{
	/* Release publishes the task to a stealer's exchange. */
	return atomic_exchange_explicit(&q->lifo, t, memory_order_acq_rel);
}

/* ---- inject queue (inject.c) --------------------------------------------- */

struct wsrt_inject {
	pthread_mutex_t lock;
	struct wsrt_task *head, *tail;	/* under lock */
	bool closed;			/* under lock */
	/* Written under lock; read anywhere as a hint (is_empty). */
	_Atomic size_t len;
};

void wsrt_inject_init(struct wsrt_inject *q);
void wsrt_inject_destroy(struct wsrt_inject *q);
/* false if closed: the caller keeps the task's scheduler reference. */
bool wsrt_inject_push(struct wsrt_inject *q, struct wsrt_task *t,
		      size_t *len_after);
/* A batch linked by ->next; false if closed. */
bool wsrt_inject_push_batch(struct wsrt_inject *q, struct wsrt_task *head,
			    unsigned n, size_t *len_after);
/* Pops up to n tasks into out[]; returns how many. */
unsigned wsrt_inject_pop_n(struct wsrt_inject *q, struct wsrt_task **out,
			   unsigned n, size_t *len_after);
void wsrt_inject_close(struct wsrt_inject *q);
static inline size_t wsrt_inject_len(struct wsrt_inject *q)
{
	return atomic_load_explicit(&q->len, memory_order_acquire);
}

/* ---- idle set (idle.c) --------------------------------------------------- */

struct wsrt_idle {
	/* num_searching in the low 32 bits, num_unparked in the high 32.
	 * All RMWs are SeqCst: see the protocol in idle.c. */
	_Atomic uint64_t state;
	unsigned num_workers;		/* immutable */
	pthread_mutex_t lock;
	unsigned *sleepers;		/* under lock */
	unsigned num_sleepers;		/* under lock */
};

int wsrt_idle_init(struct wsrt_idle *idle, unsigned num_workers);
void wsrt_idle_destroy(struct wsrt_idle *idle);
/* Index of a parked worker to wake (now counted searching), or -1. */
int wsrt_idle_worker_to_notify(struct wsrt_idle *idle);
bool wsrt_idle_transition_worker_to_parked(struct wsrt_idle *idle,
					   unsigned worker, bool is_searching);
bool wsrt_idle_transition_worker_to_searching(struct wsrt_idle *idle);
bool wsrt_idle_transition_worker_from_searching(struct wsrt_idle *idle);
bool wsrt_idle_unpark_worker_by_id(struct wsrt_idle *idle, unsigned worker);
bool wsrt_idle_is_parked(struct wsrt_idle *idle, unsigned worker);
unsigned wsrt_idle_num_searching(struct wsrt_idle *idle);
unsigned wsrt_idle_num_unparked(struct wsrt_idle *idle);

/* ---- parker (park.c) ----------------------------------------------------- */

enum wsrt_park_state {
	WSRT_PARK_EMPTY = 0,
	WSRT_PARK_STATE_FUTEX = 1,	/* sleeping in FUTEX_WAIT on state */
	WSRT_PARK_STATE_DRIVER = 2,	/* blocked in the I/O driver */
	WSRT_PARK_NOTIFIED = 3,
};

struct wsrt_parker {
	/* Written by the owner (park) and by any unparker (swap). */
	_Atomic uint32_t state;
};

struct wsrt_driver;
void wsrt_parker_init(struct wsrt_parker *p);
/* Sleeps until unparked (returns at once if an unpark is pending).  With
 * a driver, first tries to take it and sleep in epoll_wait instead of on
 * the futex; returns true if it did (then it may return spuriously, e.g.
 * on I/O: the caller re-checks).  `worker` is for the probes (-1: not a
 * worker). */
bool wsrt_parker_park(struct wsrt_parker *p, int worker,
		      struct wsrt_driver *driver);
void wsrt_parker_unpark(struct wsrt_parker *p, struct wsrt_driver *driver);

/* ---- I/O driver and timers (driver.c, timer.c) ----------------------------- */

enum wsrt_io_dir { WSRT_IO_READ = 0, WSRT_IO_WRITE = 1 };

/* A registration: one fd in the runtime's epoll set (edge-triggered). */
struct wsrt_io {
	_Atomic uint32_t refs;		/* the table's, the owner's, a dispatch's */
	int fd;				/* immutable */
	uint32_t index, gen;		/* table slot; immutable after register */
	pthread_mutex_t lock;
	/* Bumped under lock on every readiness edge for that direction; a
	 * poller compares it with what it saw before its EAGAIN. */
	_Atomic uint64_t seq[2];
	struct wsrt_waker waker[2];	/* under lock */
};

struct wsrt_driver {
	int epfd, evfd;			/* immutable */
	/* Whoever wins try_lock owns `events` and runs turns; at most one
	 * parked (or maintenance-polling) worker at a time. */
	_Atomic bool locked;
	struct epoll_event *events;	/* owned by the lock holder */
	unsigned max_events;

	pthread_mutex_t reg_lock;
	struct wsrt_io **regs;		/* under reg_lock: slot -> registration */
	uint32_t *gens;			/* under reg_lock: slot generation */
	uint32_t *free_slots;		/* under reg_lock */
	uint32_t nregs, cap, nfree;

	pthread_mutex_t timer_lock;
	struct wsrt_sleep **heap;	/* under timer_lock: min-heap by deadline */
	size_t nheap, capheap;
	/* Under timer_lock: the deadline the lock holder's blocking turn will
	 * wake at (UINT64_MAX: none), 0 when nobody waits in the driver.  A
	 * timer armed earlier than it writes the eventfd. */
	uint64_t sleep_until;
	_Atomic uint64_t next_timer_id;
};

int wsrt_driver_init(struct wsrt_driver *d);
void wsrt_driver_destroy(struct wsrt_driver *d);
bool wsrt_driver_try_lock(struct wsrt_driver *d);
void wsrt_driver_unlock(struct wsrt_driver *d);
/* One turn (lock held): wait for I/O up to the nearest timer (block: until
 * something happens; else timeout 0), wake what is ready, fire due timers.
 * Returns the number of events harvested. */
int wsrt_driver_turn(struct wsrt_driver *d, int worker, bool block);
/* Wakes the lock holder out of epoll_wait (eventfd write). */
void wsrt_driver_unpark(struct wsrt_driver *d);
int wsrt_io_register(struct wsrt_driver *d, int fd, struct wsrt_io **out);
void wsrt_io_deregister(struct wsrt_driver *d, struct wsrt_io *io);
void wsrt_io_unref(struct wsrt_io *io);
/* False if readiness arrived since `seq` was read: retry the operation. */
bool wsrt_io_wait(struct wsrt_io *io, enum wsrt_io_dir dir, uint64_t seq,
		  struct wsrt_cx *cx);
static inline uint64_t wsrt_io_seq(struct wsrt_io *io, enum wsrt_io_dir dir)
{
	/* Acquire pairs with the driver's bump: a retry after a changed
	 * seq sees the data that made the fd ready. */
	return atomic_load_explicit(&io->seq[dir], memory_order_acquire);
}
/* Fires due timers (any thread that may run wakes). */
unsigned wsrt_timer_fire_due(struct wsrt_driver *d, int worker, uint64_t now);
/* The nearest deadline, or UINT64_MAX; timer_lock held. */
uint64_t wsrt_timer_next_locked(struct wsrt_driver *d);

/* ---- worker and runtime (worker.c, runtime.c) ---------------------------- */

struct wsrt_worker {
	/* Shared: stealers read the queue, notifiers unpark the parker. */
	struct wsrt_queue queue;
	struct wsrt_parker parker;

	/* Owned by the worker thread. */
	struct wsrt_runtime *rt;
	unsigned index;
	uint32_t tick;
	bool is_searching;
	bool in_driver;		/* running a driver turn: notifications wait */
	bool left_driver;	/* back from parking on the driver */
	bool lifo_enabled;	/* false after WSRT_MAX_LIFO_POLLS in a row */
	/* Id of the task we last put in our LIFO slot: the probes name the
	 * displaced task from it, never by dereferencing the slot (a thief
	 * may have taken and freed that task). */
	uint64_t lifo_id;
	uint64_t polling_id;	/* the task being polled, for its poll_end */
	uint64_t rand;		/* xorshift state for the steal start */
	pid_t tid;		/* written before the thread runs tasks */
	pthread_t thread;	/* written by the creator */
} __attribute__((aligned(WSRT_CACHELINE)));

/*
 * The owned-task list (every live task, for shutdown to cancel), sharded
 * by task id as Tokio's is since late 2023 (tokio PR 6001): the spawning
 * worker inserts and the completing one removes, and with one list behind
 * one lock they took it from each other on every task (spawn_many_local,
 * 2 workers: 9 % of the samples in pthread_mutex_lock; 206 -> 182 ns/op
 * with 32 shards).  A shard is a cache line's worth.
 */
#define WSRT_OWNED_SHARDS 32
struct wsrt_owned_shard {
	union {
		struct {
			pthread_mutex_t lock;
			struct wsrt_task *head;	/* under lock */
			bool closed;		/* under lock: no more inserts */
		};
		char line[WSRT_CACHELINE];
	};
};
_Static_assert(sizeof(struct wsrt_owned_shard) == WSRT_CACHELINE, "a shard a line");

struct wsrt_runtime {
	struct wsrt_config cfg;		/* immutable after new() */
	unsigned nworkers;		/* immutable */
	struct wsrt_worker *workers;	/* immutable array */
	struct wsrt_inject inject;
	struct wsrt_idle idle;
	struct wsrt_driver driver;
	/* Set once by wsrt_runtime_free (SeqCst, before the unparks). */
	_Atomic bool shutdown;
	_Atomic uint64_t next_task_id;

	struct wsrt_owned_shard owned[WSRT_OWNED_SHARDS];
};

/* Per-thread context: which worker this thread is, what it polls. */
struct wsrt_context {
	struct wsrt_worker *worker;	/* NULL off the workers */
	struct wsrt_task *task;		/* the task being polled, or NULL */
	unsigned budget;		/* coop budget left in this poll */
};
extern __thread struct wsrt_context wsrt_ctx;

struct wsrt_cx {
	struct wsrt_waker waker;	/* borrowed */
	struct wsrt_runtime *rt;
	struct wsrt_task *task;		/* NULL in block_on */
	int worker;
	void *output;
};

/* Schedules a task that was just notified (holds a scheduler ref). */
void wsrt_schedule(struct wsrt_task *t, bool is_yield);
void *wsrt_worker_main(void *arg);
void wsrt_runtime_owned_remove(struct wsrt_runtime *rt, struct wsrt_task *t);
int wsrt_runtime_owned_insert(struct wsrt_runtime *rt, struct wsrt_task *t);

static inline int wsrt_current_worker_index(struct wsrt_runtime *rt)
{
	struct wsrt_worker *w = wsrt_ctx.worker;
	return (w && w->rt == rt) ? (int)w->index : -1;
}

#endif /* WSRT_INTERNAL_H */
