/* SPDX-License-Identifier: MIT */
/*
 * The runtime as the export draws it (export_model.h): tasks' names, the
 * worker and thread tracks, and each worker's states.
 *
 * Worker states are the analyzer's on_state, the same the timeline draws;
 * on a worker's track they become slices: a poll per task
 * ("task 17 (handle_request)"; "running" in a kernel-only trace),
 * searching, parked on the driver or a futex, and off-CPU while runnable
 * (nested in the poll it interrupted).  Idle between polls: no slice.
 * A state change is applied at the end of the step that caused it
 * (on_step comes right after): the step names the worker's thread, and
 * the task changes told during it the poll's source and result.
 *
 * Which thread a worker is can change: workers found by name (kernel
 * view) give way to the runtime's own numbering at its first probe; the
 * analyzer then reports each old worker as unknown.  A worker has a track
 * per thread it was (a declared track keeps its name); a thread's tracks
 * never have slices open at once.
 *
 * Does not own: the records' other meaning (export_records.c), the
 * stream's rules (export_track.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_model.h"
#include "schema.h"
#include "present.h"

/* An enumeration's value by the record schema's name for it, "?" if none. */
static const char *value_name(__u32 type, unsigned field, __u64 v)
{
	const char *name = ss_schema_value_name(type, field, v);

	return name ? name : "?";
}

const char *ss_x_dest_name(__u64 dest)
{
	return value_name(SS_WSRT_NOTIFY, 2, dest);
}

static const char *comm_of(struct ss_export *x, __u32 tid)
{
	for (unsigned i = 0; i < x->nnames; i++)
		if (x->names[i].tid == tid)
			return x->names[i].comm;
	return NULL;
}

void ss_x_on_name(void *arg, __u32 tid, __u64 ts, const char *name)
{
	struct ss_export *x = arg;
	unsigned i;

	(void)ts;
	for (i = 0; i < x->nnames && x->names[i].tid != tid; i++)
		;
	if (i == SS_X_MAX_NAMES)
		return;
	x->names[i].tid = tid;
	ss_x_sanitize(x->names[i].comm, sizeof(x->names[i].comm), name);
	if (i == x->nnames)
		x->nnames++;
}

/* The poll function's name, cached (libdwfl lookups are not cheap). */
static const char *fn_name(struct ss_export *x, __u64 fn)
{
	struct ss_export_sym *s;
	char raw[SS_NAME_MAX];

	if (!fn || !x->syms || !x->symcache)
		return "";
	s = &x->symcache[(fn * 0x9E3779B97F4A7C15ULL >> 32) % SS_X_SYM_SLOTS];
	if (s->addr != fn) {
		s->addr = fn;
		if (ss_symbols_name(x->syms, fn, raw, sizeof(raw)) < 0)
			raw[0] = '\0';
		ss_x_sanitize(s->name, sizeof(s->name), raw);
	}
	return s->name;
}

void ss_x_task_label(struct ss_export *x, char *buf, size_t len, __u64 id, __u64 fn)
{
	ss_fmt_task(buf, len, id, fn_name(x, fn));
}

static struct ss_export_track *find_thread(struct ss_export *x, __u32 tid)
{
	for (unsigned i = 0; i < x->nthreads; i++)
		if (x->threads[i].tid == tid)
			return x->threads[i].track;
	return NULL;
}

static bool is_worker_tid(struct ss_export *x, __u32 tid)
{
	for (unsigned i = 0; i < SS_MAX_WORKERS; i++)
		if (x->wx[i].tid == tid)
			return true;
	return false;
}

/*
 * Before a track shows thread tid: every other track of that thread (a
 * worker's under another number, the thread's own) closes what it has
 * open.  One thread is one JSON thread: its slices must nest there too.
 */
static void claim_tid(struct ss_export *x, __u32 tid, struct ss_export_track *keep)
{
	struct ss_export_track *t = find_thread(x, tid);

	if (t && t != keep)
		ss_x_slice_close_all(x, t, x->now);
	for (unsigned i = 0; i < x->nwtracks; i++)
		if (x->wtracks[i].tid == tid && x->wtracks[i].track != keep)
			ss_x_slice_close_all(x, x->wtracks[i].track, x->now);
}

/* Worker w's track on thread tid (0: unnamed), made on first use. */
static struct ss_export_track *wtrack_get(struct ss_export *x, unsigned w, __u32 tid)
{
	struct ss_export_worker *wx = &x->wx[w];
	const char *comm = tid ? comm_of(x, tid) : NULL;
	struct ss_export_track *t;
	int rank;

	for (unsigned i = 0; i < x->nwtracks; i++)
		if (x->wtracks[i].w == w && x->wtracks[i].tid == tid)
			return x->wtracks[i].track;
	if (x->nwtracks == SS_X_MAX_THREADS)
		return NULL;
	rank = SS_XR_WORKER + SS_XR_KEY(w, wx->ntracks);
	if (tid) {
		t = ss_x_track_new(x, SS_XT_THREAD, x->root, rank, "worker %u (%u)", w, tid);
		if (t) {
			t->t.tid = tid;
			/* JSON: Perfetto shows "worker 0 9720". */
			snprintf(t->t.json_name, sizeof(t->t.json_name), "worker %u", w);
		}
	} else {	/* JSON: a pseudo-thread, shown "worker 3, lane 7" */
		t = ss_x_track_new(x, SS_XT_LANE, x->root, rank, "worker %u", w);
		if (t)
			snprintf(t->t.json_name, sizeof(t->t.json_name), "worker %u, lane", w);
	}
	if (!t)
		return NULL;
	wx->ntracks++;
	if (tid)
		snprintf(t->t.description, sizeof(t->t.description),
			 "runtime worker %u, thread %s (tid %u): task polls, searching, parked "
			 "on the I/O driver or a futex, off-CPU while runnable", w,
			 comm && comm[0] ? comm : "?", tid);
	else
		snprintf(t->t.description, sizeof(t->t.description),
			 "runtime worker %u, its thread never named in the trace: task polls, "
			 "searching, parked on the I/O driver or a futex", w);
	x->wtracks[x->nwtracks].w = w;
	x->wtracks[x->nwtracks].tid = tid;
	x->wtracks[x->nwtracks++].track = t;
	return t;
}

/*
 * Worker w's track: the track of worker w on its thread.  Which thread a
 * worker is can change: a kernel-only start (workers found by name) gives
 * way to the runtime's own numbering at its first probe.  A declared
 * track keeps the name it was declared with (Perfetto takes a track's
 * first name), so the worker then gets another track, and nothing left
 * open on the old one survives.
 */
struct ss_export_track *ss_x_worker_track(struct ss_export *x, unsigned w)
{
	struct ss_export_worker *wx = &x->wx[w];
	struct ss_export_track *t = wx->thread;

	if (t && wx->thread_tid == wx->tid)
		return t;
	if (t) {	/* the worker moved to another thread */
		ss_x_slice_close_all(x, t, x->now);
		wx->thread = NULL;
	}
	if (!(t = wtrack_get(x, w, wx->tid)))
		return NULL;
	if (wx->tid) {
		/* Another worker number on this thread before: its time is over. */
		for (unsigned i = 0; i < SS_MAX_WORKERS; i++)
			if (i != w && x->wx[i].thread && x->wx[i].thread_tid == wx->tid)
				x->wx[i].thread = NULL;
		claim_tid(x, wx->tid, t);
	}
	wx->thread = t;
	wx->thread_tid = wx->tid;
	return t;
}

/* The counter of worker w named "worker N WHAT WORD": JSON pads N to the
 * width of the highest worker number, since Perfetto orders a process's
 * counters by name. */
static struct ss_export_track *worker_counter(struct ss_export *x, struct ss_export_track **slot,
					      unsigned w, int rank, const char *what,
					      const char *word, const char *description)
{
	char name[SS_X_NAME_MAX], json_name[SS_X_NAME_MAX];
	int digits = x->pre ? (int)x->pre->worker_digits : 1;

	if (*slot)
		return *slot;
	snprintf(name, sizeof(name), "worker %u %s %s", w, what, word);
	snprintf(json_name, sizeof(json_name), "worker %0*u %s", digits, w, what);
	return ss_x_counter_track(x, slot, rank, description, name, json_name, word);
}

struct ss_export_track *ss_x_local_track(struct ss_export *x, unsigned w)
{
	return worker_counter(x, &x->wx[w].local, w, SS_XR_COUNTER_WORKER + 2 * (int)w + 1,
			      "local", "queue",
			      "tasks in the worker's local run queue (from the probes)");
}

struct ss_export_track *ss_x_lifo_track(struct ss_export *x, unsigned w)
{
	return worker_counter(x, &x->wx[w].lifo, w, SS_XR_COUNTER_WORKER + 2 * (int)w,
			      "LIFO", "slot", "1 while a task waits in the worker's LIFO slot");
}

/* The track of a thread that is not a worker: the main thread, or one
 * that hit a runtime probe (create); NULL for others, and for a thread
 * that is a worker now. */
struct ss_export_track *ss_x_thread_track(struct ss_export *x, __u32 tid, bool create)
{
	struct ss_export_track *t;
	const char *comm;
	char main_comm[17];
	bool main = tid == x->meta->pid;

	if (!tid || is_worker_tid(x, tid))
		return NULL;
	if ((t = find_thread(x, tid)))
		return t;
	if ((!create && !main) || x->nthreads == SS_X_MAX_THREADS)
		return NULL;
	if (main && x->meta->comm[0]) {
		ss_x_sanitize(main_comm, sizeof(main_comm), x->meta->comm);
		comm = main_comm;
	} else {
		comm = comm_of(x, tid);
	}
	if (main)
		t = ss_x_track_new(x, SS_XT_THREAD, x->root, SS_XR_MAIN, "main (%u)", tid);
	else
		t = ss_x_track_new(x, SS_XT_THREAD, x->root, SS_XR_THREAD + (int)x->nthreads,
				   "%s (%u)", comm && comm[0] ? comm : "thread", tid);
	if (!t)
		return NULL;
	t->t.tid = tid;
	/* JSON: Perfetto shows "main 9719". */
	snprintf(t->t.json_name, sizeof(t->t.json_name), "%s",
		 main ? "main" : comm && comm[0] ? comm : "thread");
	snprintf(t->t.description, sizeof(t->t.description), "%s%s (tid %u): %s",
		 main ? "the target's main thread " : "thread ",
		 comm && comm[0] ? comm : "?", tid, main ? "block_on parks, futex and "
		 "epoll waits, tasks woken from outside the runtime"
		 : "a thread of the target that is not a worker");
	x->threads[x->nthreads].tid = tid;
	x->threads[x->nthreads++].track = t;
	claim_tid(x, tid, t);
	return t;
}

/* Where an event of thread tid shows: the track of worker, the analyzer's
 * worker of tid (-1: none), or the thread's (made if create). */
struct ss_export_track *ss_x_event_track(struct ss_export *x, __u32 tid, int worker,
					 bool create)
{
	if (worker >= 0)
		return ss_x_worker_track(x, (unsigned)worker);
	return ss_x_thread_track(x, tid, create);
}

static bool idle_state(enum ss_wstate s)
{
	return s == SS_W_SEARCHING || s == SS_W_PARKED_DRIVER ||
	       s == SS_W_PARKED_FUTEX;
}

const struct ss_task_event *ss_x_told(const struct ss_export *x, __u64 task,
				      enum ss_task_change change)
{
	for (unsigned i = 0; i < x->ntq; i++)
		if (x->tq[i].id == task && x->tq[i].change == change)
			return &x->tq[i];
	return NULL;
}

void ss_x_poll_open(struct ss_export *x, unsigned w, struct ss_export_track *t,
		    __u64 ts, __u64 task, bool in_step)
{
	struct ss_export_worker *wx = &x->wx[w];
	bool told = wx->poll_task == task;	/* the analyzer's SS_TASK_POLLED */
	const struct ss_task_event *started = in_step && task ?
		ss_x_told(x, task, SS_TASK_POLLED) : NULL;
	char label[SS_X_NAME_MAX];
	struct ss_xevent e;

	if (!task) {	/* kernel-only: on CPU, not parked */
		ss_x_ev_init(&e, "running", "running");
		ss_x_slice_open(x, t, ts, SS_XK_POLL, 0, &e);
		return;
	}
	ss_x_task_label(x, label, sizeof(label), task, told ? wx->poll_fn : 0);
	ss_x_ev_init(&e, "poll", "%s", label);
	ss_x_arg_u(&e, "task", task);
	if (started)
		ss_x_arg_s(&e, "source", value_name(SS_WSRT_POLL_START, 2, started->src));
	if (told && wx->poll_flow) {
		e.flow_in = wx->poll_flow;
		wx->poll_flow = 0;
		ts = ss_x_not_before(ts, wx->poll_flow_ts);
	}
	ss_x_slice_open(x, t, ts, SS_XK_POLL, task, &e);
}

/* Closes everything on a worker's track; a poll whose end the step told
 * (SS_TASK_POLL_ENDED) gets its result. */
void ss_x_worker_close(struct ss_export *x, struct ss_export_track *t, __u64 ts,
		       bool in_step)
{
	while (t->depth) {
		struct ss_export_open *o = &t->stack[t->depth - 1];
		struct ss_xarg res = { .name = "result", .type = SS_XA_STRING };
		const struct ss_task_event *ended = in_step && o->kind == SS_XK_POLL && o->task ?
			ss_x_told(x, o->task, SS_TASK_POLL_ENDED) : NULL;

		if (ended) {
			res.s = value_name(SS_WSRT_POLL_END, 2, ended->result);
			ss_x_slice_close_top(x, t, ts, &res, 1);
		} else {
			ss_x_slice_close_top(x, t, ts, NULL, 0);
		}
	}
}

/* What step s says of worker w's thread: a worker_start names it, and
 * s->tid is w's if the analyzer says so (s->worker). */
void ss_x_worker_learn_tid(struct ss_export *x, const struct ss_step *s, unsigned w)
{
	if (w >= SS_MAX_WORKERS)
		return;
	if (s->started == (int)w && s->started_tid)
		x->wx[w].tid = s->started_tid;
	else if (s->worker == (int)w)
		x->wx[w].tid = s->tid;
}

void ss_x_worker_apply_state(struct ss_export *x, unsigned w, __u64 ts,
			enum ss_wstate s, __u64 task, bool in_step)
{
	struct ss_export_worker *wx = &x->wx[w];
	struct ss_export_track *t;
	struct ss_export_open *top;
	struct ss_xevent e;
	unsigned idle = x->idle_workers - idle_state(wx->state) + idle_state(s);

	wx->state = s;
	if (idle != x->idle_workers || !x->idle) {
		x->idle_workers = idle;
		ss_x_counter_set(x, ss_x_counter_track(x, &x->idle, SS_XR_COUNTER,
			    "workers searching or parked", "idle workers", "idle", "workers"),
			    ts, idle);
	}
	if (s == SS_W_UNKNOWN) {	/* the analyzer forgot this worker */
		if (wx->thread)
			ss_x_worker_close(x, wx->thread, ts, in_step);
		wx->thread = NULL;
		wx->tid = 0;
		return;
	}
	if (!(t = ss_x_worker_track(x, w)))
		return;
	top = t->depth ? &t->stack[t->depth - 1] : NULL;
	switch (s) {
	case SS_W_RUNNING:
		if (top && top->kind == SS_XK_OFFCPU && t->depth >= 2 &&
		    t->stack[t->depth - 2].kind == SS_XK_POLL &&
		    t->stack[t->depth - 2].task == task) {
			ss_x_slice_close_top(x, t, ts, NULL, 0);	/* back on CPU */
			return;
		}
		if (top && top->kind == SS_XK_POLL && top->task == task)
			return;
		ss_x_worker_close(x, t, ts, in_step);
		ss_x_poll_open(x, w, t, ts, task, in_step);
		return;
	case SS_W_OFFCPU:
		if (top && top->kind == SS_XK_OFFCPU)
			return;
		if (!top || top->kind != SS_XK_POLL)
			ss_x_worker_close(x, t, ts, in_step);
		ss_x_ev_init(&e, "offcpu", "runnable (off-CPU)");
		ss_x_slice_open(x, t, ts, SS_XK_OFFCPU, 0, &e);
		return;
	case SS_W_SEARCHING:
	case SS_W_PARKED_DRIVER:
	case SS_W_PARKED_FUTEX:
		ss_x_worker_close(x, t, ts, in_step);
		if (s == SS_W_SEARCHING)
			ss_x_ev_init(&e, "search", "searching");
		else
			ss_x_ev_init(&e, "park", "%s", s == SS_W_PARKED_DRIVER ?
				     "parked: driver (epoll_wait)" : "parked: futex");
		ss_x_slice_open(x, t, ts, SS_XK_STATE, 0, &e);
		return;
	default:	/* idle between polls, exited, unknown: no slice */
		ss_x_worker_close(x, t, ts, in_step);
		return;
	}
}

void ss_x_on_state(void *arg, unsigned worker, __u64 ts,
		     enum ss_wstate state, __u64 task)
{
	struct ss_export *x = arg;

	if (worker >= SS_MAX_WORKERS)
		return;
	/* Applied at the end of the step that caused it (on_step, right
	 * after), which names the worker's thread and the poll's source. */
	if (x->nq == SS_X_QUEUED_MAX) {
		ss_x_worker_apply_state(x, worker, ts, state, task, false);
		return;
	}
	x->q[x->nq].w = worker;
	x->q[x->nq].ts = ts;
	x->q[x->nq].s = state;
	x->q[x->nq++].task = task;
}

void ss_x_exporter_free(struct ss_export *x)
{
	for (size_t i = 0; i < x->ntracks; i++)
		free(x->tracks[i]);
	free(x->tracks);
	free(x->unpolled);
	free(x->symcache);
	ss_symbols_free(x->syms);
}

