/* SPDX-License-Identifier: MIT */
/*
 * What the analyzer tells, as the export draws it (export_model.h):
 *
 *  - notify (on_task, drawn at the end of its record's step): an instant
 *    on the notifier's track, and a flow to the poll it caused (a notify
 *    of a task already queued, a move, has none); a task cancelled or
 *    never polled ends its flow on an instant;
 *  - marks (on_mark, userspace/analyze_marks.c): a steal, instants on the
 *    victim's and the thief's tracks and a flow from the one to the
 *    other; a wake_worker, an instant; the waits of the main thread and
 *    of threads that hit a runtime probe (block_on parks, futex waits,
 *    epoll_waits); lost events, the range since the CPU's previous report;
 *  - the queues' counters (local depth, LIFO slot, inject depth,
 *    readiness pending) as the analyzer derives them (on_counter,
 *    userspace/analyze_queues.c);
 *  - detections: a slice spanning the stall on its worker's stall lane.
 *
 * Does not own: worker states (export_model.c), the stream's rules
 * (export_track.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_model.h"
#include "present.h"

static struct ss_export_track *inject_track(struct ss_export *x)
{
	return ss_x_counter_track(x, &x->inject, SS_XR_COUNTER + 1,
				  "tasks in the global inject queue", "inject queue",
				  "inject", "queue");
}

/* The flow a notify starts: kept with the task's wait (the analyzer's
 * words for the view) until the poll that ends it (ss_x_on_task). */
enum { FLOW_ID, FLOW_TS, FLOW_TRACK };

/* A notify (SS_TASK_QUEUED, MOVED), on the track of its thread, whose
 * worker (-1: none) the analyzer names. */
static void on_notify(struct ss_export *x, const struct ss_task_event *te, int worker)
{
	__u64 id = te->id, dest = te->dest, displaced = te->displaced;
	__s64 waker = te->waker;
	struct ss_export_track *t = ss_x_event_track(x, te->tid, worker, true);
	char label[SS_X_NAME_MAX];
	struct ss_xevent e;

	if (!t)
		return;
	ss_x_task_label(x, label, sizeof(label), id, te->fn);
	if (te->words[FLOW_ID]) {	/* waiting already: a move (budget, displaced) */
		ss_x_ev_init(&e, "notify", "requeue %s -> %s", label,
			ss_x_dest_name(dest));
	} else {
		ss_x_ev_init(&e, "notify", "notify %s -> %s", label,
			ss_x_dest_name(dest));
		e.flow_out = ++x->next_flow;
		x->nflows++;
	}
	ss_x_arg_u(&e, "task", id);
	ss_x_arg_s(&e, "destination", ss_x_dest_name(dest));
	ss_x_arg_i(&e, "waker_worker", waker);
	if (displaced)
		ss_x_arg_u(&e, "displaced_task", displaced);
	ss_x_instant(x, t, te->ts, &e);
	if (e.flow_out && te->view) {
		te->view[FLOW_ID] = e.flow_out;
		te->view[FLOW_TS] = e.ts;	/* its end may not be earlier */
		te->view[FLOW_TRACK] = (__u64)(uintptr_t)t;
	}
}

/* A wait that ended unpolled (SS_TASK_CANCELLED): its flow ends here, on
 * the thread that ended it (or, if that thread has no track of its own,
 * where the flow started). */
static void on_unqueued(struct ss_export *x, const struct ss_task_event *te, int worker)
{
	struct ss_export_track *t;
	struct ss_xevent e;

	if (!te->words[FLOW_ID])
		return;
	if (!(t = ss_x_event_track(x, te->tid, worker, true)))
		t = (struct ss_export_track *)(uintptr_t)te->words[FLOW_TRACK];
	switch (te->how) {
	case SS_UNQUEUED_CANCELLED:
		ss_x_ev_init(&e, "cancel", "cancel task %llu", (unsigned long long)te->id);
		break;
	case SS_UNQUEUED_DONE:
		ss_x_ev_init(&e, "notify", "task %llu done while queued",
			     (unsigned long long)te->id);
		break;
	case SS_UNQUEUED_OUTSIDE:
		ss_x_ev_init(&e, "notify", "task %llu polled outside the workers",
			     (unsigned long long)te->id);
		break;
	}
	ss_x_arg_u(&e, "task", te->id);
	e.flow_in = te->words[FLOW_ID];
	ss_x_instant(x, t, ss_x_not_before(te->ts, te->words[FLOW_TS]), &e);
}

/* Polls that ended a wait but drew no slice (a poll nested in another,
 * as Tokio's are: the worker's state did not change): the wait's flow
 * ends on an instant at the poll. */
static void polls_not_drawn(struct ss_export *x, __u64 ts)
{
	for (unsigned i = 0; i < x->npolled; i++) {
		struct ss_export_worker *wx = &x->wx[x->polled[i]];
		struct ss_export_track *t;
		char label[SS_X_NAME_MAX];
		struct ss_xevent e;

		if (!wx->poll_flow || !(t = ss_x_worker_track(x, x->polled[i])))
			continue;
		ss_x_task_label(x, label, sizeof(label), wx->poll_task, wx->poll_fn);
		ss_x_ev_init(&e, "poll", "poll %s (nested)", label);
		ss_x_arg_u(&e, "task", wx->poll_task);
		e.flow_in = wx->poll_flow;
		wx->poll_flow = 0;
		ss_x_instant(x, t, ss_x_not_before(ts, wx->poll_flow_ts), &e);
	}
	x->npolled = 0;
}

void ss_x_on_task(void *arg, const struct ss_task_event *te)
{
	struct ss_export *x = arg;

	if (x->err)
		return;
	switch (te->change) {
	case SS_TASK_POLLED:	/* the poll slice, from the state it comes with */
		if (x->ntq < SS_X_QUEUED_MAX)
			x->tq[x->ntq++] = *te;	/* its source, at the step's end */
		if (te->worker >= 0 && te->worker < SS_MAX_WORKERS) {
			struct ss_export_worker *wx = &x->wx[te->worker];

			wx->poll_task = te->id;
			wx->poll_fn = te->fn;
			wx->poll_flow = te->waited ? te->words[FLOW_ID] : 0;
			wx->poll_flow_ts = te->words[FLOW_TS];
			if (wx->poll_flow && x->npolled < SS_X_QUEUED_MAX)
				x->polled[x->npolled++] = (unsigned)te->worker;
		}
		break;
	case SS_TASK_UNPOLLED:	/* ss_x_finish draws it */
		if (!te->words[FLOW_ID])
			break;
		if (x->nunpolled == x->capunpolled) {
			size_t cap = x->capunpolled ? 2 * x->capunpolled : 64;
			struct ss_export_unpolled *n = realloc(x->unpolled, cap * sizeof(*n));

			if (!n) {
				x->err = -ENOMEM;
				break;
			}
			x->unpolled = n;
			x->capunpolled = cap;
		}
		x->unpolled[x->nunpolled++] = (struct ss_export_unpolled){
			.task = te->id, .flow = te->words[FLOW_ID],
			.track = (struct ss_export_track *)(uintptr_t)te->words[FLOW_TRACK],
		};
		break;
	default:		/* drawn with the record that caused it */
		if (x->ntq < SS_X_QUEUED_MAX)
			x->tq[x->ntq++] = *te;
		break;
	}
}

static void on_steal(struct ss_export *x, const struct ss_mark *m)
{
	__s64 thief = m->steal.thief, victim = m->steal.victim;
	__u64 count = m->steal.count, lifo = m->steal.lifo_task;
	struct ss_export_track *from, *to;
	struct ss_xevent e;

	if (!ss_x_valid_worker(thief) || !ss_x_valid_worker(victim) || thief == victim)
		return;
	from = ss_x_worker_track(x, (unsigned)victim);
	to = ss_x_worker_track(x, (unsigned)thief);
	if (from && to) {
		__u64 flow = ++x->next_flow;

		ss_x_ev_init(&e, "steal", "stolen by worker %lld: %llu task%s", (long long)thief,
			(unsigned long long)count, count == 1 ? "" : "s");
		ss_x_arg_u(&e, "count", count);
		ss_x_arg_i(&e, "thief", thief);
		if (lifo)
			ss_x_arg_u(&e, "lifo_task", lifo);
		e.flow_out = flow;
		ss_x_instant(x, from, m->ts, &e);
		ss_x_ev_init(&e, "steal", "steal %llu task%s from worker %lld",
			(unsigned long long)count, count == 1 ? "" : "s", (long long)victim);
		ss_x_arg_u(&e, "count", count);
		ss_x_arg_i(&e, "victim", victim);
		if (lifo)
			ss_x_arg_u(&e, "lifo_task", lifo);
		e.flow_in = flow;
		/* Not before the flow's start, which from's clamp may have
		 * moved: Perfetto drops an arrow whose end it meets first. */
		ss_x_instant(x, to, ss_x_not_before(m->ts, from->last_ts), &e);
		x->nflows++;
	}
}

/* A non-worker thread's own slices: block_on parks, futex and epoll
 * waits.  Parks make the thread a track; the syscalls show on the main
 * thread's and on threads that have one. */
static void thread_wait(struct ss_export *x, const struct ss_mark *m)
{
	static const struct {
		enum ss_export_open_kind kind;
		const char *cat, *name;
	} waits[] = {
		[SS_WAIT_PARK_DRIVER] = { SS_XK_PARK, "park", "parked: driver" },
		[SS_WAIT_PARK] = { SS_XK_PARK, "park", "parked: block_on" },
		[SS_WAIT_FUTEX] = { SS_XK_FUTEX, "syscall", "futex wait" },
		[SS_WAIT_EPOLL] = { SS_XK_EPOLL, "syscall", "epoll_wait" },
	};
	bool park = m->wait == SS_WAIT_PARK_DRIVER || m->wait == SS_WAIT_PARK;
	struct ss_export_track *t = ss_x_thread_track(x, m->tid, park);
	struct ss_xevent e;

	if (!t)
		return;
	if (m->kind == SS_MARK_WAIT_END) {
		ss_x_slice_close_kind(x, t, m->ts, waits[m->wait].kind);
		return;
	}
	ss_x_ev_init(&e, waits[m->wait].cat, "%s", waits[m->wait].name);
	ss_x_slice_open(x, t, m->ts, waits[m->wait].kind, 0, &e);
}

static void on_lost(struct ss_export *x, const struct ss_mark *m)
{
	__u32 cpu = m->lost.cpu;
	__u64 from = cpu < SS_X_MAX_CPUS && x->lost_since[cpu] ? x->lost_since[cpu] : x->first_ts;
	struct ss_xevent e;

	if (cpu < SS_X_MAX_CPUS)
		x->lost_since[cpu] = m->ts;
	if (from > m->ts)
		from = m->ts;
	ss_x_ev_init(&e, "lost", "%llu event%s lost", (unsigned long long)m->lost.count,
		     m->lost.count == 1 ? "" : "s");
	ss_x_arg_u(&e, "count", m->lost.count);
	ss_x_arg_u(&e, "cpu", cpu);
	ss_x_lane_slice(x, &x->lost_lanes, SS_XR_LANES_LOST, "lost events",
			"ring-buffer drops: the events were lost somewhere in each "
			"range (the recorder counts them per CPU)", from, m->ts, &e);
}

void ss_x_on_mark(void *arg, const struct ss_mark *m)
{
	struct ss_export *x = arg;
	struct ss_export_track *t;
	struct ss_xevent e;

	if (x->err)
		return;
	switch (m->kind) {
	case SS_MARK_STEAL:
		on_steal(x, m);
		break;
	case SS_MARK_WAKE:
		if ((t = ss_x_event_track(x, m->tid, m->worker, true))) {
			ss_x_ev_init(&e, "wake", "wake worker %lld", (long long)m->wake.target);
			ss_x_arg_i(&e, "target_worker", m->wake.target);
			ss_x_instant(x, t, m->ts, &e);
		}
		break;
	case SS_MARK_WAIT_BEGIN:
	case SS_MARK_WAIT_END:
		thread_wait(x, m);
		break;
	case SS_MARK_EXIT:
		if ((t = ss_x_thread_track(x, m->tid, false)))
			ss_x_slice_close_all(x, t, m->ts);
		break;
	case SS_MARK_LOST:
		on_lost(x, m);
		break;
	}
}

void ss_x_on_step(void *arg, const struct ss_step *s)
{
	struct ss_export *x = arg;
	int worker = s->worker;
	struct ss_export_track *t;

	if (x->err)
		return;
	if (!x->have_first) {
		/* The root and the stalls group first, at the earliest time
		 * any event can have: an ancestor's descriptor then never
		 * sorts after an event of its descendants. */
		x->have_first = true;
		x->first_ts = s->ts;
		ss_x_declare(x, x->root, s->ts);
		ss_x_declare(x, x->stalls_group, s->ts);
	}
	x->now = s->ts;
	/* The states this step caused, in order: a worker the analyzer
	 * forgets (unknown) comes before one it finds, whose thread this
	 * step names. */
	for (unsigned i = 0; i < x->nq; i++) {
		if (x->q[i].s != SS_W_UNKNOWN)
			ss_x_worker_learn_tid(x, s, x->q[i].w);
		ss_x_worker_apply_state(x, x->q[i].w, x->q[i].ts, x->q[i].s, x->q[i].task, true);
	}
	x->nq = 0;
	if (worker >= 0)
		ss_x_worker_learn_tid(x, s, (unsigned)worker);
	if (ss_x_valid_worker(s->started))
		ss_x_worker_learn_tid(x, s, (unsigned)s->started);

	for (unsigned i = 0; i < x->ntq; i++)
		if (x->tq[i].change == SS_TASK_CANCELLED)
			on_unqueued(x, &x->tq[i], worker);
	for (unsigned i = 0; i < x->ntq; i++)
		if (x->tq[i].change == SS_TASK_QUEUED || x->tq[i].change == SS_TASK_MOVED)
			on_notify(x, &x->tq[i], worker);
	/* A poll the states did not show (back-to-back, a poll_end lost):
	 * opened here, on the worker its poll_start named (Tokio's names
	 * none: its polls nest, polls_not_drawn). */
	for (unsigned i = 0; i < x->ntq; i++) {
		const struct ss_task_event *te = &x->tq[i];

		if (te->change != SS_TASK_POLLED || !ss_x_valid_worker(te->poller))
			continue;
		if ((t = ss_x_worker_track(x, (unsigned)te->poller)) &&
		    !(t->depth && t->stack[0].kind == SS_XK_POLL &&
		      t->stack[0].task == te->id)) {
			ss_x_worker_close(x, t, te->ts, false);
			ss_x_poll_open(x, (unsigned)te->poller, t, te->ts, te->id, true);
		}
	}
	x->ntq = 0;
	polls_not_drawn(x, s->ts);
}

void ss_x_on_counter(void *arg, enum ss_counter c, int worker, __u64 ts, __s64 v)
{
	struct ss_export *x = arg;
	struct ss_export_track *t = NULL;

	if (x->err)
		return;
	switch (c) {
	case SS_CTR_LOCAL_DEPTH:
		t = ss_x_local_track(x, (unsigned)worker);
		break;
	case SS_CTR_LIFO:
		t = ss_x_lifo_track(x, (unsigned)worker);
		break;
	case SS_CTR_INJECT_DEPTH:
		t = inject_track(x);
		break;
	case SS_CTR_READINESS_PENDING:
		t = ss_x_counter_track(x, &x->ready, SS_XR_COUNTER + 2,
			"socket readiness (sk_data_ready) that arrived while no worker "
			"was in epoll_wait, not yet harvested", "readiness pending",
			"readiness", "pending");
		break;
	}
	ss_x_counter_set(x, t, ts, v);
}

static void put_field(void *arg, const char *name, __u64 v)
{
	ss_x_arg_u(arg, name, v);
}

void ss_x_on_detection(void *arg, const struct ss_detection *det)
{
	struct ss_export *x = arg;
	struct ss_detection d = *det;	/* the analyzer's array moves */
	char desc[1024], task[SS_NAME_MAX], blocker[SS_NAME_MAX], name[48];
	struct ss_xevent e;
	bool on_worker = ss_x_valid_worker(d.holder);

	if (x->err)
		return;
	ss_detection_describe(&d, x->a, desc, sizeof(desc));
	ss_x_sanitize(task, sizeof(task), d.task_name);
	ss_x_sanitize(blocker, sizeof(blocker), d.blocker_name);
	ss_x_sanitize(desc, sizeof(desc), desc);
	ss_x_ev_init(&e, "stall", "%s", ss_det_kind_name(d.kind));
	ss_x_arg_s(&e, "kind", ss_det_kind_name(d.kind));
	ss_x_arg_d(&e, "wait_ms", (double)d.duration_ns / 1e6);
	ss_x_arg_i(&e, "worker", d.holder);
	if (d.task) {
		ss_x_arg_u(&e, "task", d.task);
		ss_x_arg_s(&e, "task_name", task);
	}
	if (d.blocker_task) {
		ss_x_arg_u(&e, "blocker_task", d.blocker_task);
		ss_x_arg_s(&e, "blocker_name", blocker);
	}
	ss_x_arg_u(&e, "idle_workers", d.idle_workers);
	ss_x_arg_u(&e, "parked_workers", d.parked_workers);
	ss_x_arg_d(&e, "idle_ms", (double)d.idle_ns / 1e6);
	ss_x_arg_d(&e, "steal_ms", (double)d.steal_ns / 1e6);
	ss_det_fields(&d, put_field, &e);	/* its kind's own (idle_but_parked: sock) */
	ss_x_arg_b(&e, "uncertain", d.uncertain);
	ss_x_arg_s(&e, "description", desc);
	if (on_worker)
		snprintf(name, sizeof(name), "stalls: worker %d", d.holder);
	else
		snprintf(name, sizeof(name), "stalls: runtime");
	ss_x_lane_slice(x, on_worker ? &x->wx[d.holder].stalls : &x->runtime_stalls,
			on_worker ? (unsigned)d.holder : SS_XR_LANES_RUNTIME,
			name, "the analyzer's detections, one slice per stall "
			"spanning it (stallscope report explains each)",
			d.start_ns, d.start_ns + d.duration_ns, &e);
	x->nstalls++;
}

/* After the last record: close what is open, end the flows left. */
void ss_x_finish(struct ss_export *x, __u64 end)
{
	for (size_t i = 0; i < x->ntracks; i++)
		ss_x_slice_close_all(x, x->tracks[i], end);
	for (size_t i = 0; i < x->nunpolled; i++) {
		struct ss_export_unpolled *u = &x->unpolled[i];
		struct ss_xevent e;

		ss_x_ev_init(&e, "notify", "task %llu not polled by the end",
			(unsigned long long)u->task);
		ss_x_arg_u(&e, "task", u->task);
		e.flow_in = u->flow;
		ss_x_instant(x, u->track, end, &e);
	}
}

