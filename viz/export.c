/* SPDX-License-Identifier: MIT */
/*
 * A trace as a timeline for the Perfetto UI (TrackEvent protobuf, the
 * default) or for chrome://tracing (JSON): `stallscope export`
 * (cmds/export.c).  docs/export.md is the user's view.
 *
 *   the target ("lifo-stall (9720)"), in this order:
 *     stalls                       a group:
 *       stalls: worker N           one slice per detection, spanning the
 *       stalls: runtime            stall, named by its kind; overlapping
 *                                  ones take another lane (" #2")
 *       lost events                where ring-buffer drops may be
 *     worker N (tid)               a track per worker (and thread it was):
 *                                  task polls ("task 17 (handle_request)"),
 *                                  searching, parked on the driver / a
 *                                  futex, off-CPU while runnable (nested in
 *                                  a poll); instants: notify, steal, wake
 *     main (tid), other threads    the main thread, and threads that hit a
 *                                  runtime probe: their parks, futex waits
 *                                  and epoll_waits, notifies from outside
 *     idle workers, inject queue,  counters; then per worker its LIFO slot
 *     readiness pending            and local queue
 *   flows: notify -> the poll it caused; victim -> thief for a steal.
 *
 * Owns: the passes over the trace (the command, cmds/export.c, owns the
 * options, the output file written under a temporary name and renamed
 * when complete, a pipe spooled to a file, the messages and exit codes): for JSON a first one learning its tids and
 * highest worker number, then the one
 * that feeds records to the analyzer, whose callbacks (on_state,
 * on_step, on_task, on_name, on_mark, on_counter, on_detection) drive
 * the model (export_model.h).  Memory:
 * per worker, per thread that matters, per live task and per stall lane;
 * not per record.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export_model.h"

/* ---- the first pass (JSON) --------------------------------------------------------- */

/* Every tid the trace names, and the highest worker number, so that the
 * JSON's pseudo-tids are no thread's and its counter names sort by
 * worker number.  A set of tids: open addressing, 0 is empty. */
struct prepass_state {
	__u32 *slots;
	size_t cap, n;
	int max_worker;
	int err;
};

static void tid_add(struct prepass_state *p, __u32 tid)
{
	size_t i;

	if (!tid || p->err)
		return;
	if (2 * (p->n + 1) > p->cap) {
		size_t ocap = p->cap, cap = ocap ? 2 * ocap : 1024;
		__u32 *old = p->slots, *n = calloc(cap, sizeof(*n));

		if (!n) {
			p->err = -ENOMEM;
			return;
		}
		p->slots = n;
		p->cap = cap;
		p->n = 0;
		for (size_t j = 0; j < ocap; j++)
			if (old[j])
				tid_add(p, old[j]);
		free(old);
	}
	for (i = (tid * 2654435761U) % p->cap; p->slots[i]; i = (i + 1) % p->cap)
		if (p->slots[i] == tid)
			return;
	p->slots[i] = tid;
	p->n++;
}

static void worker_seen(struct prepass_state *p, __s64 w)
{
	if (ss_x_valid_worker(w) && w > p->max_worker)
		p->max_worker = (int)w;
}

static void prepass_state_fn(void *arg, unsigned worker, __u64 ts, enum ss_wstate state,
			     __u64 task)
{
	(void)ts, (void)state, (void)task;
	worker_seen(arg, worker);
}

/* The tids and worker numbers the model may make tracks of, as the
 * analysis tells them: each step's thread and worker, a worker_start's,
 * a thread named, a notify's waker, a poll's worker, a steal's two, a
 * queue's worker. */
static void prepass_step(void *arg, const struct ss_step *s)
{
	struct prepass_state *p = arg;

	tid_add(p, s->tid);
	worker_seen(p, s->worker);
	tid_add(p, s->started_tid);
	worker_seen(p, s->started);
}

static void prepass_name(void *arg, __u32 tid, __u64 ts, const char *name)
{
	(void)ts, (void)name;
	tid_add(arg, tid);
}

static void prepass_task(void *arg, const struct ss_task_event *e)
{
	worker_seen(arg, e->waker);
	worker_seen(arg, e->poller);
}

static void prepass_mark(void *arg, const struct ss_mark *m)
{
	if (m->kind == SS_MARK_STEAL) {
		worker_seen(arg, m->steal.thief);
		worker_seen(arg, m->steal.victim);
	}
}

static void prepass_counter(void *arg, enum ss_counter c, int worker, __u64 ts, __s64 v)
{
	(void)c, (void)ts, (void)v;
	worker_seen(arg, worker);
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Reads the trace once for pre; 0 or -errno (a bad trace is left for the
 * pass that writes to report). */
static int prepass(const struct ss_export_opts *o, struct ss_export_prepass *pre)
{
	struct prepass_state p = { .max_worker = 0 };
	struct ss_analyze_opts ao = {
		.threshold_ns = o->threshold_ns, .worker_pattern = o->workers,
		.on_state = prepass_state_fn, .on_step = prepass_step,
		.on_name = prepass_name, .on_task = prepass_task, .on_mark = prepass_mark,
		.on_counter = prepass_counter, .arg = &p,
	};
	struct ss_trace_reader *r;
	struct ss_analysis a;
	size_t n = 0;

	pre->worker_digits = 1;
	/* A bad file: the main pass says so. */
	if (!ss_analyze_path(o->in, &ao, &a, &r, NULL, 0)) {
		ss_analysis_free(&a);
		ss_trace_close(r);
	}
	if (p.err) {
		free(p.slots);
		return p.err;
	}
	for (int m = p.max_worker; m >= 10; m /= 10)
		pre->worker_digits++;
	for (size_t i = 0; i < p.cap; i++)
		if (p.slots[i])
			p.slots[n++] = p.slots[i];
	if (n)	/* p.slots is NULL for a trace without a tid */
		qsort(p.slots, n, sizeof(*p.slots), cmp_u32);
	pre->tids = p.slots;
	pre->ntids = n;
	return 0;
}

/* ---- the export ------------------------------------------------------------------- */

/* The root track (the target), its description, and the stalls group. */
static void make_root(struct ss_export *x)
{
	const struct ss_trace_meta *m = x->meta;
	char comm[17], *d;
	size_t len, used;

	ss_x_sanitize(comm, sizeof(comm), m->comm);
	x->root = ss_x_track_new(x, SS_XT_ROOT, NULL, 0, "%s (%u)", comm[0] ? comm : "target",
				 m->pid);
	if (!x->root)
		return;
	snprintf(x->root->t.json_name, sizeof(x->root->t.json_name), "%s",
		 comm[0] ? comm : "target");
	d = x->root->t.description;
	len = sizeof(x->root->t.description);
	/* The note before the command line, which may fill the rest. */
	used = (size_t)snprintf(d, len, "the traced process, pid %u%s%s", m->pid,
				m->flags & SS_FILE_NO_READINESS ?
					", readiness not recorded (--no-readiness: no "
					"idle_but_parked stall can be found in this trace)" : "",
				m->argc ? ":" : "");
	for (unsigned i = 0; i < m->argc && used + 1 < len; i++) {
		char arg[256];

		ss_x_sanitize(arg, sizeof(arg), m->argv[i]);
		used += (size_t)snprintf(d + used, len - used, " %s", arg);
	}
	x->stalls_group = ss_x_track_new(x, SS_XT_GROUP, x->root, SS_XR_STALLS, "stalls");
	if (x->stalls_group)
		snprintf(x->stalls_group->t.description,
			 sizeof(x->stalls_group->t.description), "%s",
			 "stalls the analyzer found, and where events were lost");
}

/*
 * Reads the trace at o->in, writes the export onto out.  Returns 0, or a
 * -errno with the reason in err and *fail saying whether the trace, the
 * output or something else (memory) failed.
 */
int ss_export_trace(const struct ss_export_opts *o, FILE *out,
			struct ss_export_result *res, enum ss_export_fail *fail,
			char *err, size_t errlen)
{
	struct ss_trace_reader *r = NULL;
	struct ss_analyzer *an = NULL;
	struct ss_export_prepass pre = { .worker_digits = 1 };
	struct ss_analysis a;
	struct ss_export *x;
	struct ss_record rec;
	int ret, wret;

	*fail = SS_EXPORT_FAIL_INPUT;
	memset(&a, 0, sizeof(a));
	if (o->json && (ret = prepass(o, &pre)) < 0) {
		snprintf(err, errlen, "%s", strerror(-ret));
		*fail = SS_EXPORT_FAIL_OTHER;
		return ret;
	}
	ret = ss_trace_open(o->in, &r);
	if (ret < 0 || !r) {
		snprintf(err, errlen, "%s", r && ss_trace_error(r)[0] ?
			 ss_trace_error(r) : strerror(-ret));
		ss_trace_close(r);
		free(pre.tids);
		return ret;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		ss_trace_close(r);
		free(pre.tids);
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		*fail = SS_EXPORT_FAIL_OTHER;
		return -ENOMEM;
	}
	x->meta = ss_trace_meta(r);
	x->a = &a;
	x->pre = &pre;
	x->syms = ss_symbols_new(x->meta);
	x->symcache = calloc(SS_X_SYM_SLOTS, sizeof(*x->symcache));
	x->w = o->json ? ss_xwriter_json(out, x->meta) : ss_xwriter_perfetto(out, x->meta);
	{
		struct ss_analyze_opts ao = {
			.threshold_ns = o->threshold_ns, .worker_pattern = o->workers,
			.on_state = ss_x_on_state, .on_step = ss_x_on_step,
			.on_detection = ss_x_on_detection, .on_counter = ss_x_on_counter,
			.on_task = ss_x_on_task, .on_name = ss_x_on_name,
			.on_mark = ss_x_on_mark, .arg = x,
		};

		if (x->w)
			an = ss_analyzer_new(x->meta, &ao, &a);
		make_root(x);
	}
	if (!x->w || !an || !x->symcache || x->err) {
		ret = -ENOMEM;
		*fail = SS_EXPORT_FAIL_OTHER;
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}

	while ((ret = ss_trace_next(r, &rec)) > 0)
		if ((ret = ss_analyzer_feed(an, &rec)) < 0 || (ret = x->err) < 0)
			break;
	if (ret == 0)
		ret = ss_analyzer_finish(an, ss_trace_trailer(r) ?
					 ss_trace_trailer(r)->lost : 0);
	if (ret == 0 && (ret = x->err) == 0) {
		ss_x_finish(x, a.end_ns);
		ret = x->err;
	}
	if (ret < 0) {
		*fail = ss_trace_error(r)[0] ? SS_EXPORT_FAIL_INPUT : SS_EXPORT_FAIL_OTHER;
		snprintf(err, errlen, "%s", ss_trace_error(r)[0] ? ss_trace_error(r)
			 : strerror(-ret));
	}
out:
	if (x->w) {
		wret = x->w->ops->finish(x->w);
		if (!ret && wret < 0) {
			ret = wret;
			*fail = SS_EXPORT_FAIL_OUTPUT;
			snprintf(err, errlen, "%s", strerror(-wret));
		}
	}
	if (!ret) {
		res->slices = x->nslices;
		res->instants = x->ninstants;
		res->flows = x->nflows;
		res->counters = x->ncounters;
		res->stalls = x->nstalls;
		res->lost = a.lost;
		res->workers = a.nworkers;
		snprintf(res->partial, sizeof(res->partial), "%s",
			 ss_trace_partial(r) ? ss_trace_partial(r) : "");
	}
	ss_analyzer_free(an);
	ss_analysis_free(&a);
	ss_x_exporter_free(x);
	free(x);
	ss_trace_close(r);
	free(pre.tids);
	return ret;
}
