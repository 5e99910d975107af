/* SPDX-License-Identifier: MIT */
/*
 * Every probe of the runtime (USDT provider `wsrt`), with its arguments.
 * This is the single emit point per event: the runtime never calls
 * STAP_PROBE or the ring directly.  docs/probes.md is the user-facing
 * list; keep both in step.
 *
 * Each probe has two sinks, behind one load and one branch: the library's
 * one USDT semaphore (ring.h), up while anything is attached to any of its
 * probes.  Then
 *  - this thread's event ring (ring.h, bpf/ring.h) gets the event: a
 *    call, an rdtsc and a 32-byte store, no trap.  How each probe's
 *    arguments sit in a ring slot is written here, in its macro, and read
 *    back by userspace/ringdec.c (tests/unit/test_ring.c holds the two
 *    together).  stallscope attaches only to ring_flush and ring_retire;
 *  - the USDT probe site runs: a nop and its argument moves, a trap for
 *    whoever attached to it (bpftrace, perf).
 * Unattached, a probe costs a load and a branch (bench/ measures it in
 * instructions).  The numeric constants below are part of the trace ABI
 * (bpf/record.h repeats them): never renumber, only append.
 *
 * Conventions: `worker` is the worker index (int, -1 = not a worker
 * thread), `task` is the task id (u64, never reused, 0 = none).
 */
#ifndef WSRT_PROBES_H
#define WSRT_PROBES_H

#include <linux/types.h>

#ifndef WSRT_NO_PROBES
#include "../bpf/record.h"
#include "ring.h"

/* The one emit point: a load and a branch; the rest is out of line, in
 * the probe's cold emit function, called so that it keeps every register
 * (SS_RING_CALL, ring.h): the scheduler's hot functions stay as small, as
 * inlined and as register-light as without probes. */
#define WSRT_EMIT(fn, args, sizes)                                           \
	do {                                                                 \
		if (ss_ring_gate())                                          \
			SS_RING_CALL(fn, args);                              \
	} while (0)
#else
/* Compiled out (bench/ only): arguments are not evaluated, only named;
 * the emit functions are never called, so never emitted. */
#define WSRT_EMIT(fn, args, sizes) ((void)(sizes))
#define ss_ring_put(t, a, x, y) ((void)0)
#define ss_ring_put2(t, a, x, y, e, a2, x2, y2) ((void)0)
#define SS_RING_A16(lo, hi) 0
#define STAP_PROBE1(p, n, a) ((void)0)
#define STAP_PROBE2(p, n, a, b) ((void)0)
#define STAP_PROBE3(p, n, a, b, c) ((void)0)
#define STAP_PROBE4(p, n, a, b, c, d) ((void)0)
#endif

/* In a ring slot's 64-bit fields, as the USDT probe reads the argument (an
 * int sign-extends, an unsigned does not). */
#define WSRT_I(v) ((__u64)(__s64)(int)(v))
#define WSRT_U(v) ((__u64)(unsigned)(v))
#define WSRT_L(v) ((__u64)(unsigned long long)(v))
#define WSRT_A(v) ((__u32)(int)(v))

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

/* Ring slot layout, per probe (a: 32 bits, x/y: 64 bits; A16 = two 16-bit
 * halves of a; a second slot adds e, a2, x2, y2) — in each macro's ring
 * call, in argument order. */

/* worker_start(worker, tid): the worker thread runs its loop.
 * ring: a = worker, x = tid */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_worker_start(long long worker, long long tid)
{
	ss_ring_put(SS_WSRT_WORKER_START, WSRT_A(worker), WSRT_I(tid), 0);
	STAP_PROBE2(wsrt, worker_start, (int)(worker), (int)(tid));
}
#define WSRT_PROBE_WORKER_START(worker, tid) \
	WSRT_EMIT(wsrt_emit_worker_start, ((long long)(worker), (long long)(tid)), sizeof(worker) + sizeof(tid))
/* worker_stop(worker, tid): the worker thread leaves its loop.
 * ring: a = worker, x = tid */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_worker_stop(long long worker, long long tid)
{
	ss_ring_put(SS_WSRT_WORKER_STOP, WSRT_A(worker), WSRT_I(tid), 0);
	STAP_PROBE2(wsrt, worker_stop, (int)(worker), (int)(tid));
}
#define WSRT_PROBE_WORKER_STOP(worker, tid) \
	WSRT_EMIT(wsrt_emit_worker_stop, ((long long)(worker), (long long)(tid)), sizeof(worker) + sizeof(tid))
/* spawn(task, parent task or 0, poll function address, state address)
 * ring, two slots: x = task, y = fn, e = parent, x2 = state */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_spawn(long long task, long long parent, long long fn, long long state)
{
	ss_ring_put2(SS_WSRT_SPAWN, 0, WSRT_L(task), WSRT_L(fn), WSRT_L(parent), 0, WSRT_L(state), 0);
	STAP_PROBE4(wsrt, spawn, (unsigned long long)(task), (unsigned long long)(parent), (unsigned long long)(fn), (unsigned long long)(state));
}
#define WSRT_PROBE_SPAWN(task, parent, fn, state) \
	WSRT_EMIT(wsrt_emit_spawn, ((long long)(task), (long long)(parent), (long long)(fn), (long long)(state)), sizeof(task) + sizeof(parent) + sizeof(fn) + sizeof(state))
/* notify(task, waker worker or -1, destination WSRT_DEST_*, displaced task
 * or 0): a task became runnable and was queued.  A displaced task went from
 * the LIFO slot to the back of the same worker's local queue.
 * ring: a = A16(worker, dest), x = task, y = displaced */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_notify(long long task, long long worker, long long dest, long long displaced)
{
	ss_ring_put(SS_WSRT_NOTIFY, SS_RING_A16(worker, dest), WSRT_L(task), WSRT_L(displaced));
	STAP_PROBE4(wsrt, notify, (unsigned long long)(task), (int)(worker), (int)(dest), (unsigned long long)(displaced));
}
#define WSRT_PROBE_NOTIFY(task, worker, dest, displaced) \
	WSRT_EMIT(wsrt_emit_notify, ((long long)(task), (long long)(worker), (long long)(dest), (long long)(displaced)), sizeof(task) + sizeof(worker) + sizeof(dest) + sizeof(displaced))
/* poll_start(worker, task, source WSRT_SRC_*)
 * ring: a = A16(worker, src), x = task */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_poll_start(long long worker, long long task, long long src)
{
	ss_ring_put(SS_WSRT_POLL_START, SS_RING_A16(worker, src), WSRT_L(task), 0);
	STAP_PROBE3(wsrt, poll_start, (int)(worker), (unsigned long long)(task), (int)(src));
}
#define WSRT_PROBE_POLL_START(worker, task, src) \
	WSRT_EMIT(wsrt_emit_poll_start, ((long long)(worker), (long long)(task), (long long)(src)), sizeof(worker) + sizeof(task) + sizeof(src))
/* poll_end(worker, task, result WSRT_RES_*)
 * ring: a = A16(worker, res), x = task */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_poll_end(long long worker, long long task, long long res)
{
	ss_ring_put(SS_WSRT_POLL_END, SS_RING_A16(worker, res), WSRT_L(task), 0);
	STAP_PROBE3(wsrt, poll_end, (int)(worker), (unsigned long long)(task), (int)(res));
}
#define WSRT_PROBE_POLL_END(worker, task, res) \
	WSRT_EMIT(wsrt_emit_poll_end, ((long long)(worker), (long long)(task), (long long)(res)), sizeof(worker) + sizeof(task) + sizeof(res))
/* steal(thief, victim, count, LIFO task taken or 0): count includes the
 * LIFO task.
 * ring: a = A16(thief, victim), x = count, y = lifo */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_steal(long long thief, long long victim, long long count, long long lifo)
{
	ss_ring_put(SS_WSRT_STEAL, SS_RING_A16(thief, victim), WSRT_U(count), WSRT_L(lifo));
	STAP_PROBE4(wsrt, steal, (int)(thief), (int)(victim), (unsigned)(count), (unsigned long long)(lifo));
}
#define WSRT_PROBE_STEAL(thief, victim, count, lifo) \
	WSRT_EMIT(wsrt_emit_steal, ((long long)(thief), (long long)(victim), (long long)(count), (long long)(lifo)), sizeof(thief) + sizeof(victim) + sizeof(count) + sizeof(lifo))
/* park(worker, kind WSRT_PARK_*): about to sleep.
 * ring: a = A16(worker, kind) */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_park(long long worker, long long kind)
{
	ss_ring_put(SS_WSRT_PARK, SS_RING_A16(worker, kind), 0, 0);
	STAP_PROBE2(wsrt, park, (int)(worker), (int)(kind));
}
#define WSRT_PROBE_PARK(worker, kind) \
	WSRT_EMIT(wsrt_emit_park, ((long long)(worker), (long long)(kind)), sizeof(worker) + sizeof(kind))
/* unpark(worker, kind WSRT_PARK_*): back from sleep.
 * ring: a = A16(worker, kind) */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_unpark(long long worker, long long kind)
{
	ss_ring_put(SS_WSRT_UNPARK, SS_RING_A16(worker, kind), 0, 0);
	STAP_PROBE2(wsrt, unpark, (int)(worker), (int)(kind));
}
#define WSRT_PROBE_UNPARK(worker, kind) \
	WSRT_EMIT(wsrt_emit_unpark, ((long long)(worker), (long long)(kind)), sizeof(worker) + sizeof(kind))
/* wake_worker(waker worker or -1, target worker): the idle set picked a
 * parked worker to wake (it reports unpark when it runs).
 * ring: a = A16(worker, target) */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_wake_worker(long long worker, long long target)
{
	ss_ring_put(SS_WSRT_WAKE_WORKER, SS_RING_A16(worker, target), 0, 0);
	STAP_PROBE2(wsrt, wake_worker, (int)(worker), (int)(target));
}
#define WSRT_PROBE_WAKE_WORKER(worker, target) \
	WSRT_EMIT(wsrt_emit_wake_worker, ((long long)(worker), (long long)(target)), sizeof(worker) + sizeof(target))
/* inject_push(task or 0 for a batch, count, inject length after)
 * ring: a = count, x = task, y = len */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_inject_push(long long task, long long count, long long len)
{
	ss_ring_put(SS_WSRT_INJECT_PUSH, (__u32)(unsigned)(count), WSRT_L(task), WSRT_L(len));
	STAP_PROBE3(wsrt, inject_push, (unsigned long long)(task), (unsigned)(count), (unsigned long long)(len));
}
#define WSRT_PROBE_INJECT_PUSH(task, count, len) \
	WSRT_EMIT(wsrt_emit_inject_push, ((long long)(task), (long long)(count), (long long)(len)), sizeof(task) + sizeof(count) + sizeof(len))
/* inject_pop(worker, count, inject length after)
 * ring: a = worker, x = count, y = len */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_inject_pop(long long worker, long long count, long long len)
{
	ss_ring_put(SS_WSRT_INJECT_POP, WSRT_A(worker), WSRT_U(count), WSRT_L(len));
	STAP_PROBE3(wsrt, inject_pop, (int)(worker), (unsigned)(count), (unsigned long long)(len));
}
#define WSRT_PROBE_INJECT_POP(worker, count, len) \
	WSRT_EMIT(wsrt_emit_inject_pop, ((long long)(worker), (long long)(count), (long long)(len)), sizeof(worker) + sizeof(count) + sizeof(len))
/* overflow(worker, count): the local queue was full; count tasks (half the
 * queue plus the new one) moved to the inject queue.
 * ring: a = worker, x = count */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_overflow(long long worker, long long count)
{
	ss_ring_put(SS_WSRT_OVERFLOW, WSRT_A(worker), WSRT_U(count), 0);
	STAP_PROBE2(wsrt, overflow, (int)(worker), (unsigned)(count));
}
#define WSRT_PROBE_OVERFLOW(worker, count) \
	WSRT_EMIT(wsrt_emit_overflow, ((long long)(worker), (long long)(count)), sizeof(worker) + sizeof(count))
/* search_start(worker) / search_end(worker, found 0|1)
 * ring: a = worker / a = A16(worker, found) */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_search_start(long long worker)
{
	ss_ring_put(SS_WSRT_SEARCH_START, WSRT_A(worker), 0, 0);
	STAP_PROBE1(wsrt, search_start, (int)(worker));
}
#define WSRT_PROBE_SEARCH_START(worker) \
	WSRT_EMIT(wsrt_emit_search_start, ((long long)(worker)), sizeof(worker))
static __attribute__((cold, noinline, unused)) void
wsrt_emit_search_end(long long worker, long long found)
{
	ss_ring_put(SS_WSRT_SEARCH_END, SS_RING_A16(worker, found), 0, 0);
	STAP_PROBE2(wsrt, search_end, (int)(worker), (int)(found));
}
#define WSRT_PROBE_SEARCH_END(worker, found) \
	WSRT_EMIT(wsrt_emit_search_end, ((long long)(worker), (long long)(found)), \
		  sizeof(worker) + sizeof(found))
/* driver_poll(worker, timeout_us, events): a driver turn ended; it waited
 * up to timeout_us (-1: no timer, until woken; 0: a non-blocking poll)
 * and harvested `events` readiness events (the eventfd not counted).
 * ring: a = worker, x = timeout_us, y = events */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_driver_poll(long long worker, long long timeout_us, long long events)
{
	ss_ring_put(SS_WSRT_DRIVER_POLL, WSRT_A(worker), (__u64)(long long)(timeout_us), WSRT_I(events));
	STAP_PROBE3(wsrt, driver_poll, (int)(worker), (long long)(timeout_us), (int)(events));
}
#define WSRT_PROBE_DRIVER_POLL(worker, timeout_us, events) \
	WSRT_EMIT(wsrt_emit_driver_poll, ((long long)(worker), (long long)(timeout_us), (long long)(events)), sizeof(worker) + sizeof(timeout_us) + sizeof(events))
/* io_register(fd, token): fd joined the epoll set (token = gen << 32 |
 * slot, what epoll carries).
 * ring: a = fd, x = token */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_io_register(long long fd, long long token)
{
	ss_ring_put(SS_WSRT_IO_REGISTER, WSRT_A(fd), WSRT_L(token), 0);
	STAP_PROBE2(wsrt, io_register, (int)(fd), (unsigned long long)(token));
}
#define WSRT_PROBE_IO_REGISTER(fd, token) \
	WSRT_EMIT(wsrt_emit_io_register, ((long long)(fd), (long long)(token)), sizeof(fd) + sizeof(token))
/* io_ready(worker, fd, epoll event mask): readiness harvested for fd.
 * ring: a = worker, x = fd, y = mask */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_io_ready(long long worker, long long fd, long long mask)
{
	ss_ring_put(SS_WSRT_IO_READY, WSRT_A(worker), WSRT_I(fd), WSRT_U(mask));
	STAP_PROBE3(wsrt, io_ready, (int)(worker), (int)(fd), (unsigned)(mask));
}
#define WSRT_PROBE_IO_READY(worker, fd, mask) \
	WSRT_EMIT(wsrt_emit_io_ready, ((long long)(worker), (long long)(fd), (long long)(mask)), sizeof(worker) + sizeof(fd) + sizeof(mask))
/* timer_fire(worker, timer id, lateness ns past its deadline)
 * ring: a = worker, x = timer, y = late_ns */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_timer_fire(long long worker, long long timer, long long late_ns)
{
	ss_ring_put(SS_WSRT_TIMER_FIRE, WSRT_A(worker), WSRT_L(timer), WSRT_L(late_ns));
	STAP_PROBE3(wsrt, timer_fire, (int)(worker), (unsigned long long)(timer), (unsigned long long)(late_ns));
}
#define WSRT_PROBE_TIMER_FIRE(worker, timer, late_ns) \
	WSRT_EMIT(wsrt_emit_timer_fire, ((long long)(worker), (long long)(timer), (long long)(late_ns)), sizeof(worker) + sizeof(timer) + sizeof(late_ns))
/* task_cancel(task): dropped unfinished at shutdown.
 * ring: x = task */
static __attribute__((cold, noinline, unused)) void
wsrt_emit_task_cancel(long long task)
{
	ss_ring_put(SS_WSRT_TASK_CANCEL, 0, WSRT_L(task), 0);
	STAP_PROBE1(wsrt, task_cancel, (unsigned long long)(task));
}
#define WSRT_PROBE_TASK_CANCEL(task) \
	WSRT_EMIT(wsrt_emit_task_cancel, ((long long)(task)), sizeof(task))

#endif /* WSRT_PROBES_H */
