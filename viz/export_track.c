/* SPDX-License-Identifier: MIT */
/*
 * The export's tracks (export_model.h): making them, and the rules that
 * keep what the writers get valid (export.h) whatever the trace holds:
 *
 *  - a track is declared (with its parents) just before its first event,
 *    at that event's time, and keeps its name from then on;
 *  - each track keeps its stack of open slices: an end always closes the
 *    innermost; closing a kind closes what is nested in it; a slice that
 *    would nest too deep becomes an instant, so a flow on it survives;
 *  - times never go back on a track: an event older than the track's last
 *    (a record the analyzer's reorder window applied late) is drawn at
 *    the track's latest time, and none is before the trace's first record;
 *  - a counter writes a value only when it changes, from 0 at the start of
 *    the trace;
 *  - slices that may overlap (stalls, lost-event ranges) go on lanes: the
 *    first lane free by the slice's start, else a new one;
 *  - JSON pseudo-tids for the tracks that are not threads: 1, 2, ...,
 *    skipping every tid the trace names.
 *
 * Does not own: what goes on which track (export_model.c,
 * export_records.c), the encodings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_model.h"

void ss_x_sanitize(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	for (; *src && i + 1 < len; src++)
		dst[i++] = (*src >= ' ' && *src < 0x7f) ? *src : '?';
	dst[i] = '\0';
}

/* The next JSON pseudo-tid: the smallest number above the last one that
 * no thread of the trace has (Perfetto shows it after the name, so small
 * is better; a real tid would merge two tracks into one thread). */
static __u32 pseudo_tid(struct ss_export *x)
{
	const struct ss_export_prepass *pre = x->pre;

	for (;;) {
		__u32 tid = ++x->next_pseudo_tid;
		size_t lo = 0, hi = pre ? pre->ntids : 0;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (pre->tids[mid] < tid)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (tid != x->meta->pid && !(pre && lo < pre->ntids && pre->tids[lo] == tid))
			return tid;
	}
}

struct ss_export_track *ss_x_track_new(struct ss_export *x, enum ss_xtrack_kind kind,
			       struct ss_export_track *parent, int rank, const char *fmt, ...)
{
	struct ss_export_track *t;
	va_list ap;

	if (x->ntracks == x->captracks) {
		size_t cap = x->captracks ? 2 * x->captracks : 64;
		struct ss_export_track **n = realloc(x->tracks, cap * sizeof(*n));

		if (!n) {
			x->err = -ENOMEM;
			return NULL;
		}
		x->tracks = n;
		x->captracks = cap;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		x->err = -ENOMEM;
		return NULL;
	}
	x->tracks[x->ntracks++] = t;
	/* Any unique non-zero number: "SS" and the track's index. */
	t->t.uuid = (0x5353ULL << 48) | x->ntracks;
	t->t.kind = kind;
	t->parent = parent;
	t->t.parent = parent ? parent->t.uuid : 0;
	t->t.pid = x->meta->pid;
	t->t.rank = rank;
	if (kind == SS_XT_LANE)
		t->t.tid = pseudo_tid(x);
	va_start(ap, fmt);
	vsnprintf(t->t.name, sizeof(t->t.name), fmt, ap);
	va_end(ap);
	snprintf(t->t.json_name, sizeof(t->t.json_name), "%s", t->t.name);
	return t;
}

/* Declares t (and its parents) before its first event, at ts. */
void ss_x_declare(struct ss_export *x, struct ss_export_track *t, __u64 ts)
{
	if (t->declared)
		return;
	if (t->parent)
		ss_x_declare(x, t->parent, ts);
	t->declared = true;
	x->w->ops->track(x->w, &t->t, ts);
}

/* ts, clamped so that a track's times never go back, nor before the
 * trace's first record (when the root track was declared). */
static __u64 at(struct ss_export *x, struct ss_export_track *t, __u64 ts)
{
	if (ts < x->first_ts)
		ts = x->first_ts;
	if (ts < t->last_ts)
		ts = t->last_ts;
	t->last_ts = ts;
	return ts;
}

void ss_x_ev_init(struct ss_xevent *e, const char *cat, const char *fmt, ...)
{
	va_list ap;

	memset(e, 0, sizeof(*e));
	e->cat = cat;
	va_start(ap, fmt);
	vsnprintf(e->name, sizeof(e->name), fmt, ap);
	va_end(ap);
}

void ss_x_arg_u(struct ss_xevent *e, const char *name, __u64 v)
{
	if (e->nargs < SS_X_ARGS_MAX)
		e->args[e->nargs++] = (struct ss_xarg){ .name = name,
			.type = SS_XA_UINT, .u = v };
}

void ss_x_arg_i(struct ss_xevent *e, const char *name, __s64 v)
{
	if (e->nargs < SS_X_ARGS_MAX)
		e->args[e->nargs++] = (struct ss_xarg){ .name = name,
			.type = SS_XA_INT, .i = v };
}

void ss_x_arg_d(struct ss_xevent *e, const char *name, double v)
{
	if (e->nargs < SS_X_ARGS_MAX)
		e->args[e->nargs++] = (struct ss_xarg){ .name = name,
			.type = SS_XA_DOUBLE, .d = v };
}

void ss_x_arg_s(struct ss_xevent *e, const char *name, const char *v)
{
	if (e->nargs < SS_X_ARGS_MAX)
		e->args[e->nargs++] = (struct ss_xarg){ .name = name,
			.type = SS_XA_STRING, .s = v };
}

void ss_x_arg_b(struct ss_xevent *e, const char *name, bool v)
{
	if (e->nargs < SS_X_ARGS_MAX)
		e->args[e->nargs++] = (struct ss_xarg){ .name = name,
			.type = SS_XA_BOOL, .b = v };
}

void ss_x_instant(struct ss_export *x, struct ss_export_track *t, __u64 ts,
		    struct ss_xevent *e)
{
	e->ts = at(x, t, ts);
	ss_x_declare(x, t, e->ts);
	x->w->ops->instant(x->w, &t->t, e);
	x->ninstants++;
}

/* Opens a slice on t (e->ts is set here).  A stack already full never
 * happens with this model's nesting; if it did, the slice becomes an
 * instant so that a flow it ends or starts is not lost. */
void ss_x_slice_open(struct ss_export *x, struct ss_export_track *t, __u64 ts,
		       enum ss_export_open_kind kind, __u64 task, struct ss_xevent *e)
{
	struct ss_export_open *o;

	if (t->depth == SS_X_STACK_MAX) {
		ss_x_instant(x, t, ts, e);
		return;
	}
	e->ts = at(x, t, ts);
	ss_x_declare(x, t, e->ts);
	o = &t->stack[t->depth++];
	o->kind = kind;
	o->task = task;
	o->ev = *e;
	x->w->ops->begin(x->w, &t->t, &o->ev);
	x->nslices++;
}

/* Closes the innermost open slice on t, with end annotations. */
void ss_x_slice_close_top(struct ss_export *x, struct ss_export_track *t, __u64 ts,
			    const struct ss_xarg *args, unsigned nargs)
{
	struct ss_export_open *o = &t->stack[--t->depth];

	x->w->ops->end(x->w, &t->t, &o->ev, at(x, t, ts), args, nargs);
}

void ss_x_slice_close_all(struct ss_export *x, struct ss_export_track *t, __u64 ts)
{
	while (t && t->depth)
		ss_x_slice_close_top(x, t, ts, NULL, 0);
}

/* Closes the innermost slice of this kind and what is nested in it; does
 * nothing if none is open (its begin was before the thread's track). */
void ss_x_slice_close_kind(struct ss_export *x, struct ss_export_track *t, __u64 ts,
			     enum ss_export_open_kind kind)
{
	unsigned i = t->depth;

	while (i > 0 && t->stack[i - 1].kind != kind)
		i--;
	if (!i)
		return;
	while (t->depth >= i)
		ss_x_slice_close_top(x, t, ts, NULL, 0);
}

void ss_x_counter_set(struct ss_export *x, struct ss_export_track *t, __u64 ts, __s64 v)
{
	if (!t)
		return;
	if (!t->declared) {
		/* Zero from the start of the trace, so the graph has a
		 * baseline before the first change. */
		ss_x_declare(x, t, v && ts > x->first_ts ? x->first_ts : ts);
		if (v && ts > x->first_ts) {
			x->w->ops->counter(x->w, &t->t, at(x, t, x->first_ts), 0);
			x->ncounters++;
		}
	} else if (v == t->value) {
		return;
	}
	t->value = v;
	x->w->ops->counter(x->w, &t->t, at(x, t, ts), v);
	x->ncounters++;
}

struct ss_export_track *ss_x_counter_track(struct ss_export *x, struct ss_export_track **slot,
				   int rank, const char *description, const char *name,
				   const char *json_name, const char *series)
{
	if (!*slot && (*slot = ss_x_track_new(x, SS_XT_COUNTER, x->root, rank, "%s", name))) {
		snprintf((*slot)->t.json_name, sizeof((*slot)->t.json_name), "%s", json_name);
		(*slot)->t.series = series;
		snprintf((*slot)->t.description, sizeof((*slot)->t.description),
			 "%s", description);
	}
	return *slot;
}

void ss_x_lane_slice(struct ss_export *x, struct ss_export_track **head, unsigned group,
		     const char *name, const char *description, __u64 from,
		     __u64 to, struct ss_xevent *e)
{
	struct ss_export_track **lane = head;
	unsigned n = 1;

	while (*lane && (*lane)->last_ts > from) {
		lane = &(*lane)->next_lane;
		n++;
	}
	if (!*lane) {
		*lane = n == 1 ? ss_x_track_new(x, SS_XT_LANE, x->stalls_group,
						 SS_XR_KEY(group, n), "%s", name)
			       : ss_x_track_new(x, SS_XT_LANE, x->stalls_group,
						 SS_XR_KEY(group, n), "%s #%u", name, n);
		if (!*lane)
			return;
		/* JSON: Perfetto shows the pseudo-tid after the name. */
		snprintf((*lane)->t.json_name, sizeof((*lane)->t.json_name), "%s, lane", name);
		snprintf((*lane)->t.description, sizeof((*lane)->t.description), "%s",
			 description);
	}
	ss_x_slice_open(x, *lane, from, SS_XK_STALL, 0, e);
	ss_x_slice_close_top(x, *lane, to, NULL, 0);
}
