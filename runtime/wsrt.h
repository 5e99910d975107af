/* SPDX-License-Identifier: MIT */
/*
 * wsrt — a work-stealing task runtime modelled on Tokio's multi-thread
 * scheduler.  This is the whole public API.
 *
 * Tasks are poll functions over caller-owned state.  A poll function returns
 * WSRT_READY when the task is done, or WSRT_PENDING after arranging for the
 * waker it got from wsrt_cx_waker() to be woken when it can make progress.
 * There is no hidden stack switching: a task that blocks its thread blocks
 * its worker, which is exactly the behaviour stallscope exists to show.
 *
 * Threading: every function may be called from any thread unless it says
 * otherwise.  Errors: functions returning int return 0 or -errno; functions
 * returning pointers return NULL with errno set.  Nothing here prints.
 */
#ifndef WSRT_H
#define WSRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct wsrt_runtime;
struct wsrt_task;
struct wsrt_join;
struct wsrt_cx;
struct wsrt_oneshot;
struct wsrt_mpsc;

enum wsrt_poll {
	WSRT_PENDING = 0,
	WSRT_READY = 1,
};

typedef enum wsrt_poll (*wsrt_poll_fn)(struct wsrt_cx *cx, void *state);
/* Called once when a task's future is dropped: after it returned READY, or
 * when it is cancelled at shutdown.  May be NULL. */
typedef void (*wsrt_drop_fn)(void *state);

/* ---- configuration ------------------------------------------------------ */

struct wsrt_config {
	unsigned workers;	/* 0: number of online CPUs */
	bool lifo_stealable;	/* a LIFO-slot task is stealable work (Tokio >= 1.51) */
	bool eager_handoff;	/* hand the I/O driver off before running tasks (Tokio PR 8010) */
	unsigned global_queue_interval; /* ticks between inject checks; 0: 61 */
	unsigned event_interval;	/* ticks between driver polls; 0: 61 */
	const char *thread_name;	/* worker name prefix; NULL: "wsrt-w" */
};

/* Defaults: workers = CPUs, lifo_stealable = true, eager_handoff = true. */
void wsrt_config_default(struct wsrt_config *cfg);
/* Apply WSRT_WORKERS, WSRT_LIFO_STEALABLE=0|1, WSRT_EAGER_HANDOFF=0|1.
 * Returns -EINVAL (and leaves cfg untouched) if a variable is malformed; the
 * name of the offending variable is stored in *bad when bad is not NULL. */
int wsrt_config_from_env(struct wsrt_config *cfg, const char **bad);

/* ---- runtime ------------------------------------------------------------ */

/* Starts cfg->workers worker threads.  cfg is used as given; NULL means
 * the defaults with the environment overrides applied (EINVAL if one is
 * malformed).  Programs that take a config call wsrt_config_from_env(). */
struct wsrt_runtime *wsrt_runtime_new(const struct wsrt_config *cfg);
/* Shuts down: stops the workers, cancels every task that has not finished
 * (dropping its state), and frees everything.  Must not be called from a
 * worker thread. */
void wsrt_runtime_free(struct wsrt_runtime *rt);
const struct wsrt_config *wsrt_runtime_config(const struct wsrt_runtime *rt);

/* Runs poll(cx, state) on the calling thread until it returns READY, running
 * spawned tasks on the workers meanwhile.  Not from a worker thread. */
int wsrt_block_on(struct wsrt_runtime *rt, wsrt_poll_fn poll, void *state);

/* Point-in-time metrics, from any thread (Tokio's RuntimeMetrics). */
struct wsrt_metrics {
	unsigned workers;
	unsigned parked;	/* workers asleep right now (futex or driver) */
	unsigned parked_on_driver; /* 1 while a worker sleeps in epoll_wait */
	unsigned searching;	/* workers looking for work to steal */
	uint64_t inject_depth;
	uint64_t tasks_spawned;
};
void wsrt_runtime_metrics(struct wsrt_runtime *rt, struct wsrt_metrics *m);
/* Tasks in a worker's local queue plus its LIFO slot. */
unsigned wsrt_runtime_local_queue_depth(struct wsrt_runtime *rt,
					unsigned worker);

/* ---- tasks -------------------------------------------------------------- */

/* Spawns a task.  From a worker of rt it is notified from that worker (so it
 * lands in the worker's LIFO slot, as in Tokio); from anywhere else it goes
 * to the inject queue.  Returns a join handle, which the caller must either
 * poll to completion or release; wsrt_spawn_detached() releases it at once. */
struct wsrt_join *wsrt_spawn(struct wsrt_runtime *rt, wsrt_poll_fn poll,
			     void *state, wsrt_drop_fn drop);
int wsrt_spawn_detached(struct wsrt_runtime *rt, wsrt_poll_fn poll,
			void *state, wsrt_drop_fn drop);

/* READY once the task has finished or was cancelled; *output (may be NULL)
 * receives what the task passed to wsrt_cx_set_output(), or NULL. */
enum wsrt_poll wsrt_join_poll(struct wsrt_join *jh, struct wsrt_cx *cx,
			      void **output);
bool wsrt_join_is_finished(const struct wsrt_join *jh);
bool wsrt_join_was_cancelled(const struct wsrt_join *jh);
uint64_t wsrt_join_task_id(const struct wsrt_join *jh);
/* Drops the handle; the task keeps running (detached). */
void wsrt_join_release(struct wsrt_join *jh);

/* ---- the poll context ---------------------------------------------------- */

struct wsrt_waker_vtable {
	void (*clone)(const void *data);	/* take one more reference */
	void (*wake_by_ref)(const void *data);
	void (*drop)(const void *data);		/* release one reference */
};

/* A waker is a value: copy it with wsrt_waker_clone, never with '='. */
struct wsrt_waker {
	const struct wsrt_waker_vtable *vtable;
	const void *data;
};

/* The waker of whatever is being polled (borrowed: clone it to keep it). */
const struct wsrt_waker *wsrt_cx_waker(struct wsrt_cx *cx);
struct wsrt_runtime *wsrt_cx_runtime(struct wsrt_cx *cx);
/* Id of the task being polled, 0 inside wsrt_block_on. */
uint64_t wsrt_cx_task_id(const struct wsrt_cx *cx);
/* Worker index polling this task, -1 inside wsrt_block_on. */
int wsrt_cx_worker(const struct wsrt_cx *cx);
/* The value wsrt_join_poll() hands out once the task returns READY. */
void wsrt_cx_set_output(struct wsrt_cx *cx, void *output);

struct wsrt_waker wsrt_waker_clone(const struct wsrt_waker *w);
void wsrt_waker_wake(struct wsrt_waker *w);	/* wakes and drops */
void wsrt_waker_wake_by_ref(const struct wsrt_waker *w);
void wsrt_waker_drop(struct wsrt_waker *w);	/* idempotent */
bool wsrt_waker_is_set(const struct wsrt_waker *w);
bool wsrt_waker_will_wake(const struct wsrt_waker *a, const struct wsrt_waker *b);

/* Yields: reschedules the current task at the back of its worker's queue.
 * Use as `return wsrt_yield(cx);`. */
enum wsrt_poll wsrt_yield(struct wsrt_cx *cx);

/* Cooperative budget (Tokio's coop): every task poll starts with
 * WSRT_COOP_BUDGET units; resources (channels) spend one per operation.
 * Returns false once the budget is spent, after waking the current task so
 * it is rescheduled: the caller must then return WSRT_PENDING. */
#define WSRT_COOP_BUDGET 128
bool wsrt_coop_proceed(struct wsrt_cx *cx);

/* ---- channels ----------------------------------------------------------- */

/* A single value from one sender to one receiver.  Both ends are one object
 * with two references: each side calls its close/free once. */
struct wsrt_oneshot *wsrt_oneshot_new(void);
/* 0, or -EPIPE if the receiver is gone (value not taken), -EALREADY if
 * already sent.  Wakes the receiver. */
int wsrt_oneshot_send(struct wsrt_oneshot *ch, void *value);
/* READY with 0 and *value set, or READY with -EPIPE (*ret) if the sender
 * closed without sending. */
enum wsrt_poll wsrt_oneshot_poll_recv(struct wsrt_oneshot *ch,
				      struct wsrt_cx *cx, void **value, int *ret);
void wsrt_oneshot_close_tx(struct wsrt_oneshot *ch);
void wsrt_oneshot_close_rx(struct wsrt_oneshot *ch);

/* A bounded multi-producer, single-consumer queue of pointers. */
struct wsrt_mpsc *wsrt_mpsc_new(size_t capacity);
/* Each sender handle is a reference: the channel closes for the receiver
 * when every sender has been released. wsrt_mpsc_new() returns with one. */
void wsrt_mpsc_tx_clone(struct wsrt_mpsc *ch);
void wsrt_mpsc_tx_release(struct wsrt_mpsc *ch);
void wsrt_mpsc_rx_release(struct wsrt_mpsc *ch);
/* 0, -EAGAIN if full, -EPIPE if the receiver is gone. */
int wsrt_mpsc_try_send(struct wsrt_mpsc *ch, void *value);
/* READY with *ret = 0 once sent, or -EPIPE; PENDING while full. */
enum wsrt_poll wsrt_mpsc_poll_send(struct wsrt_mpsc *ch, struct wsrt_cx *cx,
				   void *value, int *ret);
/* READY with *ret = 0 and *value, or *ret = -EPIPE when empty and closed. */
enum wsrt_poll wsrt_mpsc_poll_recv(struct wsrt_mpsc *ch, struct wsrt_cx *cx,
				   void **value, int *ret);
size_t wsrt_mpsc_len(struct wsrt_mpsc *ch);

/* ---- timers ----------------------------------------------------------------- */

/* A sleep/deadline future.  Deadlines are CLOCK_MONOTONIC ns
 * (wsrt_now_ns()).  A timer fires within about 1 ms of its deadline when
 * a worker is free: the worker holding the I/O driver sleeps in epoll_wait
 * until the nearest deadline. */
struct wsrt_sleep;
struct wsrt_sleep *wsrt_sleep_new(struct wsrt_runtime *rt, uint64_t deadline_ns);
/* READY once the deadline has passed. */
enum wsrt_poll wsrt_sleep_poll(struct wsrt_sleep *s, struct wsrt_cx *cx);
/* Re-arms the same timer (READY again only after the new deadline). */
void wsrt_sleep_reset(struct wsrt_sleep *s, uint64_t deadline_ns);
uint64_t wsrt_sleep_deadline(const struct wsrt_sleep *s);
/* Cancels (if pending) and frees. */
void wsrt_sleep_free(struct wsrt_sleep *s);

/* ---- TCP ---------------------------------------------------------------------- */

/* A non-blocking TCP socket registered with the runtime's I/O driver
 * (edge-triggered epoll).  Poll functions return PENDING on EAGAIN after
 * registering the task's waker for that direction, and READY with a result
 * (>= 0) or a negative errno in *ret.  One task at a time may wait in each
 * direction (read side: accept/read; write side: connect/write). */
struct wsrt_tcp;

/* Binds and listens on host:port (IPv4 dotted quad; port 0 = ephemeral). */
int wsrt_tcp_listen(struct wsrt_runtime *rt, const char *host, uint16_t port,
		    int backlog, struct wsrt_tcp **out);
/* *conn is a new registered connection when *ret == 0. */
enum wsrt_poll wsrt_tcp_poll_accept(struct wsrt_tcp *l, struct wsrt_cx *cx,
				    struct wsrt_tcp **conn, int *ret);
/* Starts a connect; finish it with wsrt_tcp_poll_connect. */
int wsrt_tcp_connect(struct wsrt_runtime *rt, const char *host, uint16_t port,
		     struct wsrt_tcp **out);
enum wsrt_poll wsrt_tcp_poll_connect(struct wsrt_tcp *s, struct wsrt_cx *cx,
				     int *ret);
/* *ret: bytes read (0 = end of stream) or -errno (-ECONNRESET, ...). */
enum wsrt_poll wsrt_tcp_poll_read(struct wsrt_tcp *s, struct wsrt_cx *cx,
				  void *buf, size_t len, ssize_t *ret);
/* *ret: bytes written (may be short) or -errno (-EPIPE, ...). */
enum wsrt_poll wsrt_tcp_poll_write(struct wsrt_tcp *s, struct wsrt_cx *cx,
				   const void *buf, size_t len, ssize_t *ret);
/* shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR.  0 or -errno. */
int wsrt_tcp_shutdown(struct wsrt_tcp *s, int how);
/* Deregisters, closes the fd, frees; wakers waiting on it are dropped. */
void wsrt_tcp_close(struct wsrt_tcp *s);
int wsrt_tcp_fd(const struct wsrt_tcp *s);
/* The bound local port (for an ephemeral listener). */
uint16_t wsrt_tcp_local_port(const struct wsrt_tcp *s);

/* ---- misc ---------------------------------------------------------------- */

/* CLOCK_MONOTONIC in ns: the clock of every probe and trace. */
uint64_t wsrt_now_ns(void);

#ifdef __cplusplus
}
#endif
#endif /* WSRT_H */
