/* SPDX-License-Identifier: MIT */
/*
 * The analyzer: per-worker state over time and the stall detections of
 * DESIGN.md, from one pass over a trace.
 *
 * This file is its core: the integrals behind every figure, the worker
 * states, the runtime's records, the entry points; analyze_int.h lists
 * the other parts (worker identity and the kernel's view, tasks, the
 * reorder heap, one file per detector).  Does not own: reading the file
 * (trace_read.c), naming tasks (symbols.c), printing (report.c, timeline.c).
 *
 * How the figures are computed: between two events the state is constant,
 * so at every event the analyzer first advances a few integrals over the
 * elapsed time, then applies the event.  Per worker w: "some other worker
 * idle" (others_idle[w]), "w off-CPU while runnable" (offcpu[w]), "w
 * idle", "w parked"; globally: "some worker parked, none looking for work",
 * "some worker parked on a futex", "some worker idle", and wasted worker
 * time, min(idle workers, ready items).  A queued task or pending
 * readiness snapshots the integrals it needs when it starts waiting; when
 * the wait ends, differences give how long each condition held during it.
 * Memory: O(workers + live tasks), never O(records).
 *
 * Detections (threshold T, default 10 ms):
 *  stuck_lifo: a task notified into worker w's LIFO slot, polled from it
 *    after >= T, while some other worker was idle for >= T of the wait.
 *  idle_but_parked: readiness (sk_data_ready on a polled socket) arriving
 *    while no worker is in epoll_wait, harvested (an epoll_wait returning
 *    events) >= T later, while some worker was parked on a futex >= T
 *    (and the driver's last owner not waiting for a CPU meanwhile).
 *  runnable_while_parked: a task in a local or the inject queue for >= T
 *    while some worker was parked and none looking for work (searching,
 *    or between tasks) for >= T of it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_int.h"

/* ---- small helpers -------------------------------------------------------------- */

static bool idle_state(enum ss_wstate s)
{
	return s == SS_W_SEARCHING || s == SS_W_PARKED_DRIVER ||
	       s == SS_W_PARKED_FUTEX;
}

static bool parked_state(enum ss_wstate s)
{
	return s == SS_W_PARKED_DRIVER || s == SS_W_PARKED_FUTEX;
}

/* The state a worker shows: the runtime's, unless the kernel says the
 * thread is runnable but not on a CPU. */
static enum ss_wstate effective(const struct worker *w)
{
	if (w->offcpu && !parked_state(w->base) && w->base != SS_W_EXITED)
		return SS_W_OFFCPU;
	return w->base;
}

static unsigned count_state(struct an *an, bool (*pred)(enum ss_wstate))
{
	unsigned n = 0;
	for (unsigned i = 0; i < an->nw; i++)
		n += pred(an->w[i].shown);
	return n;
}

/* The same over the runtime's own view, whatever the kernel does with
 * the thread: a searcher preempted mid-search still counts as searching
 * for the runtime (it will find the work when it runs again). */
static unsigned count_base(struct an *an, bool (*pred)(enum ss_wstate))
{
	unsigned n = 0;
	for (unsigned i = 0; i < an->nw; i++)
		n += pred(an->w[i].base);
	return n;
}

static bool futex_state(enum ss_wstate s) { return s == SS_W_PARKED_FUTEX; }

/* Looking for work, for the runtime: searching, or between tasks (idle),
 * which always looks (next task, inject queue, a steal) before it parks.
 * A worker preempted there for 45 ms leaves work waiting: the kernel's
 * doing, not a lost wakeup — the runtime counted it as a searcher. */
static bool looking_state(enum ss_wstate s)
{
	return s == SS_W_SEARCHING || s == SS_W_IDLE;
}

/* Advance every integral to ts under the current states. */
void an_advance(struct an *an, __u64 ts)
{
	if (ts <= an->now) {
		if (!an->now)
			an->now = ts;
		return;
	}
	__u64 dt = ts - an->now;
	unsigned idle = count_state(an, idle_state);
	unsigned parked = count_state(an, parked_state);
	unsigned looking = count_base(an, looking_state);
	unsigned futex = count_state(an, futex_state);

	for (unsigned i = 0; i < an->nw; i++) {
		struct worker *w = &an->w[i];
		bool self_idle = idle_state(w->shown);
		if (idle - self_idle > 0)
			w->cum[IW_OTHERS_IDLE] += dt;
		if (w->shown == SS_W_OFFCPU)
			w->cum[IW_OFFCPU] += dt;
		if (self_idle)
			w->cum[IW_IDLE] += dt;
		if (parked_state(w->shown))
			w->cum[IW_PARKED] += dt;
		if (w->shown == SS_W_PARKED_FUTEX)
			w->cum[IW_FUTEX] += dt;
		if (futex && w->shown != SS_W_OFFCPU)
			w->cum[IW_FUTEX_NOT_OFFCPU] += dt;
	}
	if (parked && !looking)
		an->cum[IG_PARKED_NOSEARCH] += dt;
	if (futex)
		an->cum[IG_FUTEX_PARKED] += dt;
	if (idle)
		an->cum[IG_ANY_IDLE] += dt;
	unsigned ready = (unsigned)an->nqueued + (an->rd.active ? 1 : 0);
	an->a->wasted_worker_ns += (__u64)(idle < ready ? idle : ready) * dt;
	an->now = ts;
}

void an_show(struct an *an, struct worker *w, __u64 ts)
{
	enum ss_wstate s = effective(w);

	if (s == w->shown)
		return;
	if (w->shown_since && ts > w->shown_since)
		an->a->workers[w->index].state_ns[w->shown] += ts - w->shown_since;
	w->shown = s;
	w->shown_since = ts;
	if (s == SS_W_UNKNOWN)
		an_queues_forget(an, w->index);
	if (an->o->on_state)
		an->o->on_state(an->o->arg, (unsigned)w->index, ts, s,
				s == SS_W_RUNNING ? w->task : 0);
}


/* ---- applying one record ------------------------------------------------------------------- */

void an_set_base(struct an *an, struct worker *w, enum ss_wstate s, __u64 ts)
{
	w->base = s;
	an_show(an, w, ts);
}


static void apply_runtime(struct an *an, const struct ss_record *r)
{
	__u64 ts = r->ts;
	int wi = (int)(__s32)(__u32)r->args[0];
	struct worker *w;
	struct task *t;

	switch (r->type) {
	case SS_WSRT_WORKER_START:
		if ((w = an_worker_by_index(an, wi, (__u32)r->args[1]))) {
			w->tid = (__u32)r->args[1];
			for (unsigned i = 0; i < an->nnames; i++)
				if (an->names[i].tid == w->tid)
					memcpy(w->comm, an->names[i].comm, sizeof(w->comm));
			w->started = true;
			an_set_base(an, w, SS_W_IDLE, ts);
		}
		break;
	case SS_WSRT_WORKER_STOP:
		if ((w = an_worker_by_index(an, wi, r->tid)))
			an_set_base(an, w, SS_W_EXITED, ts);
		break;
	case SS_WSRT_SPAWN:
		if ((t = an_task_get(an, r->args[0], true)))
			t->fn = r->args[2];
		an->a->tasks_spawned++;
		break;
	case SS_WSRT_NOTIFY: {
		int waker = (int)(__s32)(__u32)r->args[1];

		an_notify(an, r->args[0], waker,
			  waker >= 0 ? an_worker_by_index(an, waker, r->tid) : NULL,
			  (int)r->args[2], ts);
		break;
	}
	case SS_WSRT_POLL_START:
		if (!(w = an_worker_by_index(an, wi, r->tid)))
			break;
		if (!w->tid)
			w->tid = r->tid;
		an_poll_start(an, w, r->args[1], ts);
		break;
	case SS_WSRT_POLL_END:
		if (!(w = an_worker_by_index(an, wi, r->tid)))
			break;
		an_set_base(an, w, SS_W_IDLE, ts);
		if ((t = an_task_get(an, r->args[1], false)))
			an_task_event(an, t, SS_TASK_POLL_ENDED, ts, w->index, false);
		if (r->args[2] == SS_RES_READY) {
			/* Done, though woken again while it ran: that wait
			 * ends here, unpolled. */
			if (t && t->queued)
				an_task_unqueue(an, t, ts, SS_UNQUEUED_DONE);
			an_task_free(an, r->args[1]);
		}
		w->task = 0;
		break;
	case SS_WSRT_STEAL: {
		int victim = (int)(__s32)(__u32)r->args[1];
		struct worker *v = an_worker_find(an, victim);
		if (v && r->args[3] && v->lifo_task == r->args[3])
			v->lifo_task = 0;
		if (r->args[3] && (t = an_task_get(an, r->args[3], false))) {
			t->dest = SS_DEST_LOCAL;	/* out of the slot */
			t->pns_queued = an->cum[IG_PARKED_NOSEARCH];
		}
		break;
	}
	case SS_WSRT_PARK:
		if ((w = an_worker_by_index(an, wi, r->tid)))
			an_set_base(an, w, r->args[1] == SS_PARK_DRIVER ?
				 SS_W_PARKED_DRIVER : SS_W_PARKED_FUTEX, ts);
		break;
	case SS_WSRT_UNPARK:
		/* Woken by a notifier (wake_worker), it is searching for the
		 * runtime until its own search_end, whatever it says on the
		 * way (and however long the kernel keeps it from saying it). */
		if ((w = an_worker_by_index(an, wi, r->tid)) &&
		    w->base != SS_W_SEARCHING)
			an_set_base(an, w, SS_W_IDLE, ts);
		break;
	case SS_WSRT_WAKE_WORKER:
		/* The idle set counts the chosen worker as searching from
		 * here (as Tokio's does): woken, on its way to a CPU, no
		 * longer parked — however long the kernel takes to run it.
		 * A wakeup the runtime did not ask for (a spurious one)
		 * changes nothing until the worker's own probes say so. */
		if ((w = an_worker_find(an, (int)(__s32)(__u32)r->args[1])) &&
		    parked_state(w->base))
			an_set_base(an, w, SS_W_SEARCHING, ts);
		break;
	case SS_WSRT_TASK_CANCEL:
		/* Dropped unfinished at shutdown: a wait that ends unpolled
		 * (not a stall), and a task gone. */
		if ((t = an_task_get(an, r->args[0], false))) {
			if (t->queued)
				an_task_unqueue(an, t, ts, SS_UNQUEUED_CANCELLED);
			an_task_free(an, r->args[0]);
		}
		break;
	case SS_WSRT_SEARCH_START:
		if ((w = an_worker_by_index(an, wi, r->tid)) && w->base != SS_W_RUNNING)
			an_set_base(an, w, SS_W_SEARCHING, ts);
		break;
	case SS_WSRT_SEARCH_END:
		if ((w = an_worker_by_index(an, wi, r->tid)) && w->base == SS_W_SEARCHING)
			an_set_base(an, w, SS_W_IDLE, ts);
		break;
	default:
		break;
	}
}


/*
 * A runtime record is made by its thread, on a CPU: a worker taken for
 * preempted that makes one was brought back by a switch that went unseen
 * (a kernel need not run tracing programs in every context: this VM's
 * runs none in its agent's threads, and a worker it preempted came back
 * unseen), and would show off-CPU until it next left one.  Not within
 * OWN_RECORD_SLACK_NS of the switch out: a ring's clock is converted to
 * the kernel's within a few hundred ns (docs/recording.md), so a record
 * made just before the switch can sort just after it.
 */
#define OWN_RECORD_SLACK_NS 20000
static void own_record(struct an *an, const struct ss_record *r)
{
	struct worker *w = an_worker_by_tid(an, r->tid);

	if (w && w->offcpu && (__s64)(r->ts - w->offcpu_at) >= OWN_RECORD_SLACK_NS) {
		w->offcpu = false;
		an_show(an, w, r->ts);
	}
}

static void apply(struct an *an, const struct ss_record *r)
{
	struct ss_analysis *a = an->a;
	size_t ndets = a->ndets;
	struct ss_record k;

	if (an->shim_parks && an_shim_park_as_syscall(r, &k))
		r = &k;
	an->cur = r;

	if (!a->start_ns)
		a->start_ns = r->ts;
	if (r->ts > a->end_ns)
		a->end_ns = r->ts;
	an_advance(an, r->ts);
	bool runtime = r->type >= 1 && r->type <= SS_WSRT_LAST;

	if (runtime)
		own_record(an, r);
	if ((runtime && (r->flags & SS_F_TOKIO)) || r->type == SS_TOKIO_RUNTIME) {
		/* Tokio's own records: on the kernel's workers. */
		an_apply_tokio(an, r);
	} else if (runtime) {
		if (!an->have_runtime) {
			/* The first runtime record: workers come from it,
			 * not from thread names. */
			an_drop_workers(an);
			an->have_runtime = true;
		}
		apply_runtime(an, r);
	} else {
		an_apply_kernel(an, r);
	}
	if (an->o->on_step || an->o->on_mark || an->o->on_counter) {
		struct worker *w = an_worker_by_tid(an, r->tid);

		if (an->o->on_step) {
			struct ss_step s = { .ts = r->ts, .tid = r->tid,
					     .worker = w ? w->index : -1, .started = -1 };

			if (r->type == SS_WSRT_WORKER_START) {
				s.started = (int)(__s32)(__u32)r->args[0];
				s.started_tid = (__u32)r->args[1];
			}
			an->o->on_step(an->o->arg, &s);
		}
		if (an->o->on_mark)
			an_marks(an, r, w ? w->index : -1);
		if (an->o->on_counter)
			an_queues_apply(an, r, w ? w->index : -1);
	}
	if (an->o->on_detection)
		for (size_t i = ndets; i < a->ndets; i++)
			an->o->on_detection(an->o->arg, &a->dets[i]);
	an->cur = NULL;
}


/* ---- the entry points ----------------------------------------------------------------------- */

struct ss_analyzer {
	struct an an;
	struct heap h;
	struct ss_analyze_opts o;
	bool finished;
};

struct ss_analyzer *ss_analyzer_new(const struct ss_trace_meta *meta,
				    const struct ss_analyze_opts *o,
				    struct ss_analysis *out)
{
	struct ss_analyzer *z = calloc(1, sizeof(*z));
	struct an *an;

	memset(out, 0, sizeof(*out));
	if (!z)
		return NULL;
	if (an_heap_init(&z->h, REORDER_CAP)) {
		free(z);
		return NULL;
	}
	if (o)
		z->o = *o;
	an = &z->an;
	an->o = &z->o;
	an->a = out;
	an->threshold = z->o.threshold_ns ? z->o.threshold_ns : DEFAULT_THRESHOLD_NS;
	snprintf(an->patterns, sizeof(an->patterns), "%s",
		 z->o.worker_pattern ? z->o.worker_pattern : DEFAULT_PATTERNS);
	an->last_driver_owner = -1;
	an->syms = ss_symbols_new(meta);
	an->pid = meta->pid;
	an->meta_kernel_only = meta->flags & SS_FILE_KERNEL_ONLY;
	an->runtime_probes = meta->flags & SS_FILE_RUNTIME_PROBES;
	an->shim_parks = meta->flags & SS_FILE_SHIM_PARKS;
	out->kernel_only = an->meta_kernel_only;
	out->no_readiness = meta->flags & SS_FILE_NO_READINESS;
	out->runtime_probes = an->runtime_probes;
	return z;
}

int ss_analyzer_feed(struct ss_analyzer *z, const struct ss_record *r)
{
	if (z->an.err || z->finished)
		return z->an.err ? z->an.err : -EINVAL;
	z->an.a->events++;
	if (z->h.n == REORDER_CAP) {
		struct ss_record first = an_heap_pop(&z->h);
		apply(&z->an, &first);
	}
	an_heap_push(&z->h, r);
	return z->an.err;
}

int ss_analyzer_flush(struct ss_analyzer *z, __u64 upto)
{
	while (!z->an.err && z->h.n && an_heap_min_ts(&z->h) <= upto) {
		struct ss_record first = an_heap_pop(&z->h);
		apply(&z->an, &first);
	}
	return z->an.err;
}

void ss_analyzer_sync(struct ss_analyzer *z)
{
	struct an *an = &z->an;
	struct ss_analysis *out = an->a;

	out->kernel_only = an->meta_kernel_only || !an->have_runtime;
	out->tokio = an->tokio;
	out->runtime_probes = an->runtime_probes || an->tokio_attached;
	out->workers_by_parking = an->by_parking;
	out->nworkers = 0;
	for (unsigned i = 0; i < an->nw; i++) {
		struct worker *w = &an->w[i];
		struct ss_worker_info *wi = &out->workers[w->index];
		wi->index = w->index;
		wi->tid = w->tid;
		snprintf(wi->comm, sizeof(wi->comm), "%s", w->comm);
		if ((unsigned)w->index + 1 > out->nworkers)
			out->nworkers = (unsigned)w->index + 1;
		/* Close the open interval up to now (restarted from now). */
		if (w->shown_since && an->now > w->shown_since) {
			wi->state_ns[w->shown] += an->now - w->shown_since;
			w->shown_since = an->now;
		}
	}
}

int ss_analyzer_finish(struct ss_analyzer *z, __u64 trailer_lost)
{
	struct an *an = &z->an;
	struct ss_analysis *out = an->a;

	if (an->err || z->finished)
		return an->err ? an->err : -EINVAL;
	z->finished = true;
	while (z->h.n && !an->err) {
		struct ss_record first = an_heap_pop(&z->h);
		apply(an, &first);
	}
	if (an->err)
		return an->err;
	for (size_t i = 0; i < an->htcap; i++)
		for (struct task *t = an->ht[i]; t; t = t->next)
			if (t->queued)
				an_task_event(an, t, SS_TASK_UNPOLLED, out->end_ns, -1, true);
	/* Still waiting when the trace ended: report up to the end — unless
	 * the runtime shut down under it (its worker, or for the inject
	 * queue every worker, exited): dropped at shutdown, not a stall. */
	size_t ndets = out->ndets;
	bool all_exited = an->nw > 0;
	for (unsigned i = 0; i < an->nw; i++)
		all_exited = all_exited && an->w[i].base == SS_W_EXITED;
	for (size_t i = 0; i < an->htcap; i++)
		for (struct task *t = an->ht[i]; t; t = t->next) {
			struct worker *o = t->owner >= 0 ? an_worker_find(an, t->owner) : NULL;
			if (!t->queued || (o ? o->base == SS_W_EXITED : all_exited))
				continue;
			an_wait_ended(an, t, NULL, out->end_ns);
		}
	an_readiness_harvested(an, out->end_ns, true);
	if (an->o->on_detection)
		for (size_t i = ndets; i < out->ndets; i++)
			an->o->on_detection(an->o->arg, &out->dets[i]);
	an_advance(an, out->end_ns);
	ss_analyzer_sync(z);
	if (!out->lost)
		out->lost = trailer_lost;
	/* Detections in time order (insertion sort: they are few). */
	for (size_t i = 1; i < out->ndets; i++) {
		struct ss_detection d = out->dets[i];
		size_t j = i;
		while (j > 0 && out->dets[j - 1].start_ns > d.start_ns) {
			out->dets[j] = out->dets[j - 1];
			j--;
		}
		out->dets[j] = d;
	}
	return an->err;
}

void ss_analyzer_free(struct ss_analyzer *z)
{
	struct an *an;

	if (!z)
		return;
	an = &z->an;
	for (size_t i = 0; i < an->htcap; i++)
		for (struct task *t = an->ht[i], *n; t; t = n) {
			n = t->next;
			free(t->snap);
			free(t);
		}
	free(an->ht);
	free(an->lost_ts);
	ss_symbols_free(an->syms);
	an_heap_free(&z->h);
	free(z);
}

int ss_analyze(struct ss_trace_reader *r, const struct ss_analyze_opts *o,
	       struct ss_analysis *out)
{
	struct ss_analyzer *z = ss_analyzer_new(ss_trace_meta(r), o, out);
	struct ss_record rec;
	int ret;

	if (!z)
		return -ENOMEM;
	while ((ret = ss_trace_next(r, &rec)) > 0)
		if ((ret = ss_analyzer_feed(z, &rec)) < 0)
			break;
	if (ret == 0)
		ret = ss_analyzer_finish(z, ss_trace_trailer(r) ?
					 ss_trace_trailer(r)->lost : 0);
	ss_analyzer_free(z);
	if (ret < 0)
		ss_analysis_free(out);
	return ret < 0 ? ret : 0;
}

int ss_analyze_path(const char *path, const struct ss_analyze_opts *o,
		    struct ss_analysis *out, struct ss_trace_reader **rp,
		    char *err, size_t errlen)
{
	struct ss_trace_reader *r = NULL;
	int ret = ss_trace_open(path, &r);

	*rp = NULL;
	memset(out, 0, sizeof(*out));
	if (errlen)
		err[0] = '\0';
	if (!ret && o->on_open)
		ret = o->on_open(o->arg, r);
	if (!ret)
		ret = ss_analyze(r, o, out);
	if (ret < 0) {
		if (errlen && !err[0])
			snprintf(err, errlen, "%s", r && ss_trace_error(r)[0] ?
				 ss_trace_error(r) : strerror(-ret));
		ss_trace_close(r);
		return ret;
	}
	*rp = r;
	return 0;
}

void ss_analysis_forget_detections(struct ss_analysis *a)
{
	free(a->dets);
	a->dets = NULL;
	a->ndets = 0;
}

void ss_analysis_free(struct ss_analysis *a)
{
	free(a->dets);
	a->dets = NULL;
	a->ndets = 0;
}

const char *ss_cause_name(enum ss_cause c)
{
	static const char *const n[] = { "all_busy", "lifo_pinned",
					 "driver_starved", "inject_lag",
					 "kernel_runq" };
	return c < SS_NCAUSES ? n[c] : "unknown";
}

const char *ss_wstate_name(enum ss_wstate s)
{
	static const char *const n[] = { "unknown", "running", "searching",
					 "parked_driver", "parked_futex", "idle",
					 "offcpu", "exited" };
	return s < SS_W_NSTATES ? n[s] : "unknown";
}

