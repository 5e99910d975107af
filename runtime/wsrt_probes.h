/* SPDX-License-Identifier: MIT */
/*
 * Every USDT probe of the runtime (provider `wsrt`), with its arguments.
 * This is the single emit point per event: the runtime never calls
 * STAP_PROBE directly, so a second sink (a per-worker shared-memory ring)
 * can be added here in one place.  docs/probes.md is the user-facing list;
 * keep both in step.
 *
 * Probes are the stock sys/sdt.h 1-byte nops: unattached they cost a nop
 * and the argument moves (bench/ measures it).  The numeric constants below
 * are part of the trace ABI: never renumber, only append.
 *
 * Conventions: `worker` is the worker index (int, -1 = not a worker
 * thread), `task` is the task id (u64, never reused, 0 = none).
 */
#ifndef WSRT_PROBES_H
#define WSRT_PROBES_H

#ifndef WSRT_NO_PROBES
#include <sys/sdt.h>
#define WSRT_SDT1(n, a) STAP_PROBE1(wsrt, n, a)
#define WSRT_SDT2(n, a, b) STAP_PROBE2(wsrt, n, a, b)
#define WSRT_SDT3(n, a, b, c) STAP_PROBE3(wsrt, n, a, b, c)
#define WSRT_SDT4(n, a, b, c, d) STAP_PROBE4(wsrt, n, a, b, c, d)
#else
/* Compiled out (bench/ only): arguments are not evaluated. */
#define WSRT_SDT1(n, a) ((void)sizeof(a))
#define WSRT_SDT2(n, a, b) ((void)sizeof(a), (void)sizeof(b))
#define WSRT_SDT3(n, a, b, c) ((void)sizeof(a), (void)sizeof(b), (void)sizeof(c))
#define WSRT_SDT4(n, a, b, c, d) \
	((void)sizeof(a), (void)sizeof(b), (void)sizeof(c), (void)sizeof(d))
#endif

/* notify destination */
#define WSRT_DEST_LIFO   0	/* the waker worker's LIFO slot */
#define WSRT_DEST_LOCAL  1	/* the back of the waker worker's local queue */
#define WSRT_DEST_INJECT 2	/* the global inject queue */

/* park/unpark kind */
#define WSRT_PARK_FUTEX  0	/* sleeping on the worker's futex */
#define WSRT_PARK_DRIVER 1	/* blocked in the I/O driver (epoll_wait) */

/* where poll_start found the task */
#define WSRT_SRC_LIFO    0
#define WSRT_SRC_LOCAL   1
#define WSRT_SRC_INJECT  2
#define WSRT_SRC_STEAL   3

/* poll_end result */
#define WSRT_RES_PENDING 0
#define WSRT_RES_READY   1
#define WSRT_RES_YIELD   2	/* PENDING, but woken during its own poll */

/* worker_start(worker, tid): the worker thread runs its loop. */
#define WSRT_PROBE_WORKER_START(worker, tid) \
	WSRT_SDT2(worker_start, (int)(worker), (int)(tid))
/* worker_stop(worker, tid): the worker thread leaves its loop. */
#define WSRT_PROBE_WORKER_STOP(worker, tid) \
	WSRT_SDT2(worker_stop, (int)(worker), (int)(tid))
/* spawn(task, parent task or 0, poll function address, state address) */
#define WSRT_PROBE_SPAWN(task, parent, fn, state) \
	WSRT_SDT4(spawn, (unsigned long long)(task), \
		    (unsigned long long)(parent), (unsigned long long)(fn), \
		    (unsigned long long)(state))
/* notify(task, waker worker or -1, destination WSRT_DEST_*, displaced task
 * or 0): a task became runnable and was queued.  A displaced task went from
 * the LIFO slot to the back of the same worker's local queue. */
#define WSRT_PROBE_NOTIFY(task, worker, dest, displaced) \
	WSRT_SDT4(notify, (unsigned long long)(task), (int)(worker), \
		    (int)(dest), (unsigned long long)(displaced))
/* poll_start(worker, task, source WSRT_SRC_*) */
#define WSRT_PROBE_POLL_START(worker, task, src) \
	WSRT_SDT3(poll_start, (int)(worker), \
		    (unsigned long long)(task), (int)(src))
/* poll_end(worker, task, result WSRT_RES_*) */
#define WSRT_PROBE_POLL_END(worker, task, res) \
	WSRT_SDT3(poll_end, (int)(worker), \
		    (unsigned long long)(task), (int)(res))
/* steal(thief, victim, count, LIFO task taken or 0): count includes the
 * LIFO task. */
#define WSRT_PROBE_STEAL(thief, victim, count, lifo) \
	WSRT_SDT4(steal, (int)(thief), (int)(victim), \
		    (unsigned)(count), (unsigned long long)(lifo))
/* park(worker, kind WSRT_PARK_*): about to sleep. */
#define WSRT_PROBE_PARK(worker, kind) \
	WSRT_SDT2(park, (int)(worker), (int)(kind))
/* unpark(worker, kind WSRT_PARK_*): back from sleep. */
#define WSRT_PROBE_UNPARK(worker, kind) \
	WSRT_SDT2(unpark, (int)(worker), (int)(kind))
/* wake_worker(waker worker or -1, target worker): the idle set picked a
 * parked worker to wake (it reports unpark when it runs). */
#define WSRT_PROBE_WAKE_WORKER(worker, target) \
	WSRT_SDT2(wake_worker, (int)(worker), (int)(target))
/* inject_push(task or 0 for a batch, count, inject length after) */
#define WSRT_PROBE_INJECT_PUSH(task, count, len) \
	WSRT_SDT3(inject_push, (unsigned long long)(task), \
		    (unsigned)(count), (unsigned long long)(len))
/* inject_pop(worker, count, inject length after) */
#define WSRT_PROBE_INJECT_POP(worker, count, len) \
	WSRT_SDT3(inject_pop, (int)(worker), (unsigned)(count), \
		    (unsigned long long)(len))
/* overflow(worker, count): the local queue was full; count tasks (half the
 * queue plus the new one) moved to the inject queue. */
#define WSRT_PROBE_OVERFLOW(worker, count) \
	WSRT_SDT2(overflow, (int)(worker), (unsigned)(count))
/* search_start(worker) / search_end(worker, found 0|1) */
#define WSRT_PROBE_SEARCH_START(worker) \
	WSRT_SDT1(search_start, (int)(worker))
#define WSRT_PROBE_SEARCH_END(worker, found) \
	WSRT_SDT2(search_end, (int)(worker), (int)(found))
/* driver_poll(worker, timeout_us, events): a driver turn ended; it waited
 * up to timeout_us (-1: no timer, until woken; 0: a non-blocking poll)
 * and harvested `events` readiness events (the eventfd not counted). */
#define WSRT_PROBE_DRIVER_POLL(worker, timeout_us, events) \
	WSRT_SDT3(driver_poll, (int)(worker), (long long)(timeout_us), \
		  (int)(events))
/* io_register(fd, token): fd joined the epoll set (token = gen << 32 |
 * slot, what epoll carries). */
#define WSRT_PROBE_IO_REGISTER(fd, token) \
	WSRT_SDT2(io_register, (int)(fd), (unsigned long long)(token))
/* io_ready(worker, fd, epoll event mask): readiness harvested for fd. */
#define WSRT_PROBE_IO_READY(worker, fd, mask) \
	WSRT_SDT3(io_ready, (int)(worker), (int)(fd), (unsigned)(mask))
/* timer_fire(worker, timer id, lateness ns past its deadline) */
#define WSRT_PROBE_TIMER_FIRE(worker, timer, late_ns) \
	WSRT_SDT3(timer_fire, (int)(worker), (unsigned long long)(timer), \
		  (unsigned long long)(late_ns))
/* task_cancel(task): dropped unfinished at shutdown. */
#define WSRT_PROBE_TASK_CANCEL(task) \
	WSRT_SDT1(task_cancel, (unsigned long long)(task))

#endif /* WSRT_PROBES_H */
