/* SPDX-License-Identifier: MIT */
/*
 * A trace as a static text timeline (`stallscope timeline`, cmds/timeline.c;
 * `demo` draws its runs with it too).
 *
 *    time (ms)  0         50        100       150       200
 *               +---------+---------+---------+---------+------
 *   w0 wsrt-w0 | DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD |
 *   w1 wsrt-w1 | ##############################################.. |
 *                ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^     stuck_lifo task 1 ...
 *
 * One lane per worker, one column per time bucket, each column showing the
 * state that held the worker for most of the bucket; each detection is
 * marked under the lanes over the buckets it spans.
 *
 * Owns: the window and its buckets, the drawing.  Does not own: what a
 * worker is doing when (the analyzer's on_state callback says so) or
 * which stalls there are (its detections).
 *
 * Memory: a window needs the trace's first record: the trailer says when
 * it and the last were (or, in a file from before that or cut short, a
 * raw pass over the records finds them first); then each
 * state change the analysis reports is folded into its worker's current
 * bucket, which becomes one character as soon as time leaves it.  So
 * memory is workers x width, whatever the trace's length.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanes.h"
#include "timeline.h"
#include "present.h"

#define DEFAULT_THRESHOLD_NS 10000000ULL	/* analyze.h: 0 means 10 ms */
#define MAX_MARKED 20		/* detection lines drawn; the rest counted */
#define LABEL_GAP 10		/* columns between time labels, at least */


/* One worker's lane: finished buckets as characters, the current one as
 * time per state. */
struct lane {
	enum ss_wstate state;	/* since `since` */
	__u64 since;
	struct ss_lane_fold fold;
	enum ss_wstate *cells;	/* width columns */
};

struct window {
	__u64 first, last;	/* the trace's first and last record */
	struct ss_lane_window lw; /* the window, absolute ns, and its columns */
	struct lane *lanes[SS_MAX_WORKERS];
	unsigned nlanes;	/* highest worker seen + 1 */
	int err;		/* -ENOMEM from the callback */
	/* what window_open needs */
	const struct ss_timeline_opts *o;
	const char *path;
	char *err_msg;
	size_t errlen;
};

/* ---- lanes ------------------------------------------------------------------- */

/* Credits l's state with the time from l->since to ts, inside the window. */
static void lane_advance(const struct window *w, struct lane *l, __u64 ts)
{
	ss_lane_fold_add(&w->lw, &l->fold, l->state, l->since, ts, l->cells);
	if (ts > l->since)
		l->since = ts;
}

static struct lane *lane_get(struct window *w, unsigned worker)
{
	struct lane *l = w->lanes[worker];

	if (l)
		return l;
	l = calloc(1, sizeof(*l));
	if (!l || !(l->cells = calloc(w->lw.width, sizeof(*l->cells)))) {
		free(l);
		return NULL;
	}
	l->state = SS_W_UNKNOWN;	/* and every cell */
	l->since = w->lw.from;
	ss_lane_fold_init(&l->fold);
	w->lanes[worker] = l;
	if (worker >= w->nlanes)
		w->nlanes = worker + 1;
	return l;
}

static void on_state(void *arg, unsigned worker, __u64 ts,
		     enum ss_wstate state, __u64 task)
{
	struct window *w = arg;
	struct lane *l;

	(void)task;
	if (worker >= SS_MAX_WORKERS || (unsigned)state >= SS_W_NSTATES)
		return;
	l = lane_get(w, worker);
	if (!l) {
		w->err = -ENOMEM;
		return;
	}
	lane_advance(w, l, ts);
	l->state = state;
}

static void window_free(struct window *w)
{
	for (unsigned i = 0; i < SS_MAX_WORKERS; i++) {
		if (w->lanes[i])
			free(w->lanes[i]->cells);
		free(w->lanes[i]);
	}
}

/* ---- reading ----------------------------------------------------------------- */

/* The first and last record's time: a raw pass, before the analysis. */
static int scan_range(const char *path, __u64 *first, __u64 *last,
		      char *err, size_t errlen)
{
	struct ss_trace_reader *r;
	struct ss_record rec;
	int ret;

	*first = UINT64_MAX;
	*last = 0;
	ret = ss_trace_open(path, &r);
	if (!r) {
		snprintf(err, errlen, "%s", strerror(-ret));
		return ret;
	}
	while (!ret && (ret = ss_trace_next(r, &rec)) == 1) {
		if (rec.ts < *first)
			*first = rec.ts;
		if (rec.ts > *last)
			*last = rec.ts;
		ret = 0;
	}
	if (ret < 0)
		snprintf(err, errlen, "%s", ss_trace_error(r));
	else if (ss_trace_partial(r))
		fprintf(stderr, "stallscope: %s: %s\n", path, ss_trace_partial(r));
	ss_trace_close(r);
	if (*first > *last)	/* no records */
		*first = *last = 0;
	return ret;
}

/* ---- drawing ------------------------------------------------------------------- */

void ss_timeline_det_label(const struct ss_detection *d, char *buf, size_t len)
{
	char dur[32], task[SS_NAME_MAX + 32], blocker[SS_NAME_MAX + 32];
	struct ss_det_words w = { .task = task, .blocker = blocker, .tail = "",
				  .kind = ss_det_kind_name(d->kind), .dur = dur,
				  .unsure = d->uncertain ? " (uncertain)" : "" };

	ss_fmt_dur(dur, sizeof(dur), d->duration_ns);
	ss_fmt_task(task, sizeof(task), d->task, d->task_name);
	ss_fmt_task(blocker, sizeof(blocker), d->blocker_task, d->blocker_name);
	/* The line is the detector's (detect_<kind>.c). */
	ss_det_label(d, &w, buf, len);
}

/* 1, 2 or 5 x 10^k ns: the smallest such step with labels LABEL_GAP
 * columns apart; *decimals: the digits its ms labels need. */
static __u64 axis_step(const struct window *w, int *decimals)
{
	int k;
	__u64 step = ss_step_125((w->lw.to - w->lw.from) * LABEL_GAP / w->lw.width + 1, &k);

	*decimals = k >= 6 ? 0 : 6 - k;
	return step;
}

/* Time labels (ms since the first record) over a ruler with a '+' at
 * each labelled column; a label that would touch the previous one is
 * skipped. */
static void draw_axis(FILE *out, const struct window *w, int pad)
{
	int decimals, col = 0;	/* characters printed after the border */
	__u64 step = axis_step(w, &decimals);
	__u64 rel_from = w->lw.from - w->first, rel_to = w->lw.to - w->first;
	char ruler[SS_TIMELINE_WIDTH_MAX + 1];

	memset(ruler, '-', w->lw.width);
	ruler[w->lw.width] = '\0';
	fprintf(out, "%*s  ", pad, "time (ms)");
	for (__u64 t = (rel_from + step - 1) / step * step; t < rel_to; t += step) {
		unsigned b = ss_lane_col(&w->lw, w->first + t);
		char label[32];
		int n = snprintf(label, sizeof(label), "%.*f", decimals,
				 (double)t / 1e6);

		if ((col && (int)b <= col) || b + (unsigned)n > w->lw.width + 8)
			continue;
		fprintf(out, "%*s%s", (int)b - col, "", label);
		col = (int)b + n;
		ruler[b] = '+';
	}
	fprintf(out, "\n%*s  %s\n", pad, "", ruler);
}

/* analyze.h: workers[i] is worker i. */
static const char *worker_comm(const struct ss_analysis *a, unsigned i)
{
	return i < a->nworkers && a->workers[i].comm[0] ? a->workers[i].comm : "?";
}

/* Draws one marker line for d: '^' over its buckets, then its label. */
static void draw_marker(FILE *out, const struct window *w, int pad,
			const struct ss_detection *d, char *line)
{
	__u64 s = d->start_ns > w->lw.from ? d->start_ns : w->lw.from;
	__u64 e = d->start_ns + d->duration_ns;
	unsigned b0, b1;
	char label[256];

	if (e > w->lw.to)
		e = w->lw.to;
	b0 = ss_lane_col(&w->lw, s);
	b1 = e > s ? ss_lane_col(&w->lw, e - 1) : b0;
	memset(line, ' ', w->lw.width);
	memset(line + b0, '^', b1 - b0 + 1);
	line[w->lw.width] = '\0';
	ss_timeline_det_label(d, label, sizeof(label));
	fprintf(out, "%*s  %s  %s\n", pad, "", line, label);
}

static void draw(FILE *out, const char *path, const struct window *w,
		 const struct ss_analysis *a, const char *comm, __u32 pid,
		 __u64 threshold_ns)
{
	unsigned nlanes = w->nlanes > a->nworkers ? w->nlanes : a->nworkers;
	size_t marked = 0, outside = 0, counts[SS_DET_NKINDS] = { 0 };
	char label[64], col[32], line[SS_TIMELINE_WIDTH_MAX + 1];
	int pad = (int)strlen("time (ms)");

	if (nlanes > SS_MAX_WORKERS)
		nlanes = SS_MAX_WORKERS;
	ss_fmt_dur(col, sizeof(col), (w->lw.to - w->lw.from) / w->lw.width);
	fprintf(out, "%s: %s, pid %u, %u worker%s, %.1f ms, %llu events, %llu lost%s%s\n",
		path, comm[0] ? comm : "?", pid, a->nworkers,
		a->nworkers == 1 ? "" : "s", (double)(w->last - w->first) / 1e6,
		(unsigned long long)a->events, (unsigned long long)a->lost,
		ss_sources_label(a), ss_readiness_label(a));
	int dec;		/* as many digits as the axis labels, at least one */
	axis_step(w, &dec);
	if (dec < 1)
		dec = 1;
	fprintf(out, "window %.*f-%.*f ms, one column = %s\n",
		dec, (double)(w->lw.from - w->first) / 1e6,
		dec, (double)(w->lw.to - w->first) / 1e6, col);
	if (a->lost)
		fprintf(out, "warning: %llu events lost: lanes and detections may be wrong where they were\n",
			(unsigned long long)a->lost);
	putc('\n', out);

	for (unsigned i = 0; i < nlanes; i++) {
		int n = snprintf(label, sizeof(label), "w%u %.16s", i, worker_comm(a, i));
		if (n > pad)
			pad = n;
	}
	draw_axis(out, w, pad);
	for (unsigned i = 0; i < nlanes; i++) {
		const struct lane *l = w->lanes[i];

		snprintf(label, sizeof(label), "w%u %.16s", i, worker_comm(a, i));
		if (l) {
			for (unsigned c = 0; c < w->lw.width; c++)
				line[c] = ss_wstate_glyph(l->cells[c]);
			fprintf(out, "%-*s |%.*s|\n", pad, label, (int)w->lw.width, line);
		} else
			fprintf(out, "%-*s |%*s|\n", pad, label, (int)w->lw.width, "");
	}

	if (!nlanes)
		fprintf(out, "%*s  (no worker threads found)\n", pad, "");
	for (size_t i = 0; i < a->ndets; i++) {
		const struct ss_detection *d = &a->dets[i];

		if ((unsigned)d->kind < SS_DET_NKINDS)
			counts[d->kind]++;
		if (d->start_ns >= w->lw.to || d->start_ns + d->duration_ns <= w->lw.from) {
			outside++;
			continue;
		}
		if (marked++ < MAX_MARKED)
			draw_marker(out, w, pad, d, line);
	}
	if (marked > MAX_MARKED)
		fprintf(out, "%*s  ... and %zu more (stallscope report lists them all)\n",
			pad, "", marked - MAX_MARKED);

	fprintf(out, "\nlegend: # running  s searching  D parked on the driver (epoll)  "
		". parked on futex\n        - idle, between polls  R runnable, off-CPU  "
		"(blank) unknown or exited  ^ a detection\n");
	ss_fmt_dur(col, sizeof(col), threshold_ns);
	if (!a->ndets) {
		fprintf(out, "detections: none (threshold %s)\n", col);
		return;
	}
	fprintf(out, "detections:");
	for (unsigned k = 0, first = 1; k < SS_DET_NKINDS; k++) {
		if (!counts[k])
			continue;
		fprintf(out, "%s %zu %s", first ? "" : ",", counts[k],
			ss_det_kind_name((enum ss_det_kind)k));
		first = 0;
	}
	fprintf(out, " (threshold %s", col);
	if (outside)
		fprintf(out, "; %zu outside the window", outside);
	fprintf(out, ")\n");
}

/* The file is open: the window, from the trace's span (the trailer's, or
 * a raw pass's for a file from before it or cut short). */
static int window_open(void *arg, struct ss_trace_reader *r)
{
	struct window *w = arg;
	const struct ss_timeline_opts *o = w->o;
	int ret = 0;

	if (!ss_trace_span(r, &w->first, &w->last))
		ret = scan_range(w->path, &w->first, &w->last, w->err_msg, w->errlen);
	if (!ret && o->from_ns && o->from_ns >= w->last - w->first) {
		snprintf(w->err_msg, w->errlen, "--from %.1f ms is past the trace's end (%.1f ms)",
			 (double)o->from_ns / 1e6, (double)(w->last - w->first) / 1e6);
		ret = -ERANGE;
	}
	w->lw.from = w->first + o->from_ns;
	w->lw.to = o->to_ns ? w->first + o->to_ns : w->last;
	if (w->lw.to < w->lw.from + w->lw.width)	/* at least a nanosecond a column */
		w->lw.to = w->lw.from + w->lw.width;
	return ret;
}

int ss_timeline_render(FILE *out, const char *path,
		       const struct ss_timeline_opts *o, struct ss_analysis *a,
		       char *err, size_t errlen)
{
	struct window w = { .lw.width = o->width ? o->width : SS_TIMELINE_WIDTH,
			    .o = o, .path = path, .err_msg = err, .errlen = errlen };
	struct ss_analyze_opts ao = { .threshold_ns = o->threshold_ns,
				      .on_open = window_open, .on_state = on_state,
				      .arg = &w };
	struct ss_analysis local, *an = a ? a : &local;
	struct ss_trace_reader *r;
	int ret;

	memset(an, 0, sizeof(*an));
	if (w.lw.width > SS_TIMELINE_WIDTH_MAX || (o->to_ns && o->from_ns >= o->to_ns)) {
		snprintf(err, errlen, "bad window or width");
		return -EINVAL;
	}
	ret = ss_analyze_path(path, &ao, an, &r, err, errlen);
	if (!ret && w.err) {
		ret = w.err;
		snprintf(err, errlen, "%s", strerror(-ret));
	} else if (!ret) {
		const struct ss_trace_meta *m = ss_trace_meta(r);

		/* Each worker's last state lasts to the end of the trace. */
		for (unsigned i = 0; i < w.nlanes; i++) {
			if (!w.lanes[i])
				continue;
			lane_advance(&w, w.lanes[i], w.last);
			ss_lane_fold_close(&w.lanes[i]->fold, w.lanes[i]->cells);
		}
		draw(out, path, &w, an, m->comm, m->pid,
		     o->threshold_ns ? o->threshold_ns : DEFAULT_THRESHOLD_NS);
	}
	ss_trace_close(r);
	window_free(&w);
	if (!a)
		ss_analysis_free(&local);
	return ret;
}
