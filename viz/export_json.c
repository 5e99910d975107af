/* SPDX-License-Identifier: MIT */
/*
 * The Chrome JSON writer of `stallscope export --format json`: the model's
 * tracks and events in the Trace Event Format
 * (https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU),
 * which chrome://tracing and the Perfetto UI both load.
 *
 *   {"traceEvents":[
 *   {"ph":"M","name":"process_name",...},       a name per process / thread
 *   {"ph":"X","ts":..,"dur":..,...},             a slice, written when it ends
 *   {"ph":"i","s":"t",...},                      an instant
 *   {"ph":"X","dur":0,"bind_id":N,"flow_out":true,...}
 *                                                an instant a flow starts or
 *                                                ends at (flows bind to slices)
 *   {"ph":"C","name":..,"args":{"tasks":N}},     a counter value
 *   ]}
 *
 * Threads are the target's own pid/tid; the tracks that are not threads
 * (stalls, lost events) get pseudo-threads of their own (json_tid),
 * named by metadata, so overlapping stalls keep their lanes.  Flows are
 * version 2 (bind_id with flow_out / flow_in on the slices they join).
 *
 * Times: "ts" and "dur" are microseconds, CLOCK_MONOTONIC as in the trace
 * file.  Readers multiply by 1000 in floating point and truncate, so a
 * value printed as N.NNN could read back 1 ns short and a child slice
 * could end after its parent: every time is printed half a nanosecond
 * late (N.NNN5), which truncates back to the exact ns.  No
 * "displayTimeUnit": Perfetto takes "ns" there to mean the unit of ts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "export.h"

struct jw {
	struct ss_xwriter base;
	FILE *out;
	__u32 pid;
	bool first;		/* no event written yet (no comma before it) */
	int err;
};

/* ---- pieces ------------------------------------------------------------------- */

/* ns as microseconds, half a ns late (see the top of the file). */
static void put_us(FILE *f, __u64 ns)
{
	fprintf(f, "%llu.%03llu5", (unsigned long long)(ns / 1000),
		(unsigned long long)(ns % 1000));
}

static void put_arg(FILE *f, const struct ss_xarg *a)
{
	ss_json_string(f, a->name);
	putc(':', f);
	switch (a->type) {
	case SS_XA_UINT:
		fprintf(f, "%llu", (unsigned long long)a->u);
		break;
	case SS_XA_INT:
		fprintf(f, "%lld", (long long)a->i);
		break;
	case SS_XA_DOUBLE:
		/* JSON has no NaN or infinities. */
		if (a->d == a->d && a->d < 1e300 && a->d > -1e300)
			fprintf(f, "%.6g", a->d);
		else
			fputs("null", f);
		break;
	case SS_XA_STRING:
		ss_json_string(f, a->s ? a->s : "");
		break;
	case SS_XA_BOOL:
		fputs(a->b ? "true" : "false", f);
		break;
	}
}

/* Opens one event object: the separator, phase, pid and tid. */
static void open_event(struct jw *w, const char *ph, const struct ss_xtrack *t)
{
	__u32 tid = t->kind == SS_XT_THREAD ? t->tid :
		    t->kind == SS_XT_SLICES ? t->json_tid : w->pid;

	fprintf(w->out, "%s\n{\"ph\":\"%s\",\"pid\":%u,\"tid\":%u", w->first ? "" : ",",
		ph, w->pid, tid);
	w->first = false;
}

static void metadata(struct jw *w, const struct ss_xtrack *t, const char *what,
		     const char *key, const char *str, long num)
{
	open_event(w, "M", t);
	fprintf(w->out, ",\"name\":\"%s\",\"args\":{\"%s\":", what, key);
	if (str)
		ss_json_string(w->out, str);
	else
		fprintf(w->out, "%ld", num);
	fputs("}}", w->out);
}

/* name, cat, and the flow binding of a slice or instant. */
static void put_common(struct jw *w, const struct ss_xevent *e)
{
	fputs(",\"name\":", w->out);
	ss_json_string(w->out, e->name);
	fputs(",\"cat\":", w->out);
	ss_json_string(w->out, e->cat);
	if (e->flow_out || e->flow_in) {
		/* One event carries at most one flow in this exporter. */
		fprintf(w->out, ",\"bind_id\":%llu",
			(unsigned long long)(e->flow_out ? e->flow_out : e->flow_in));
		if (e->flow_out)
			fputs(",\"flow_out\":true", w->out);
		if (e->flow_in)
			fputs(",\"flow_in\":true", w->out);
	}
}

static void put_args(struct jw *w, const struct ss_xarg *a, unsigned n,
		     const struct ss_xarg *b, unsigned m)
{
	if (!n && !m)
		return;
	fputs(",\"args\":{", w->out);
	for (unsigned i = 0; i < n + m; i++) {
		if (i)
			putc(',', w->out);
		put_arg(w->out, i < n ? &a[i] : &b[i - n]);
	}
	putc('}', w->out);
}

/* ---- the writer's operations ---------------------------------------------------- */

static void jw_track(struct ss_xwriter *xw, const struct ss_xtrack *t)
{
	struct jw *w = (struct jw *)xw;

	switch (t->kind) {
	case SS_XT_PROCESS:
		metadata(w, t, "process_name", "name", t->name, 0);
		break;
	case SS_XT_THREAD:
	case SS_XT_SLICES:
		metadata(w, t, "thread_name", "name", t->name, 0);
		metadata(w, t, "thread_sort_index", "sort_index", NULL, t->rank);
		break;
	case SS_XT_GROUP:	/* JSON has no track groups */
	case SS_XT_COUNTER:	/* a counter is named by its events */
		break;
	}
}

static void jw_begin(struct ss_xwriter *xw, const struct ss_xtrack *t,
		     const struct ss_xevent *e)
{
	/* Written whole when it ends ("X"): the model keeps the begin. */
	(void)xw, (void)t, (void)e;
}

static void jw_end(struct ss_xwriter *xw, const struct ss_xtrack *t,
		   const struct ss_xevent *begin, __u64 ts,
		   const struct ss_xarg *args, unsigned nargs)
{
	struct jw *w = (struct jw *)xw;

	open_event(w, "X", t);
	fputs(",\"ts\":", w->out);
	put_us(w->out, begin->ts);
	fputs(",\"dur\":", w->out);
	put_us(w->out, ts - begin->ts);
	put_common(w, begin);
	put_args(w, begin->args, begin->nargs, args, nargs);
	putc('}', w->out);
}

static void jw_instant(struct ss_xwriter *xw, const struct ss_xtrack *t,
		       const struct ss_xevent *e)
{
	struct jw *w = (struct jw *)xw;
	bool flow = e->flow_out || e->flow_in;

	/* Flows bind to slices: an instant that carries one is a slice
	 * of no duration. */
	open_event(w, flow ? "X" : "i", t);
	fputs(",\"ts\":", w->out);
	put_us(w->out, e->ts);
	fputs(flow ? ",\"dur\":0" : ",\"s\":\"t\"", w->out);
	put_common(w, e);
	put_args(w, e->args, e->nargs, NULL, 0);
	putc('}', w->out);
}

static void jw_counter(struct ss_xwriter *xw, const struct ss_xtrack *t,
		       __u64 ts, __s64 value)
{
	struct jw *w = (struct jw *)xw;

	open_event(w, "C", t);
	fputs(",\"ts\":", w->out);
	put_us(w->out, ts);
	fputs(",\"name\":", w->out);
	ss_json_string(w->out, t->name);
	fputs(",\"args\":{", w->out);
	ss_json_string(w->out, t->series ? t->series : "value");
	fprintf(w->out, ":%lld}}", (long long)value);
}

static int jw_finish(struct ss_xwriter *xw)
{
	struct jw *w = (struct jw *)xw;
	int err = w->err;

	fputs("\n]}\n", w->out);
	if ((fflush(w->out) || ferror(w->out)) && !err)
		err = errno ? -errno : -EIO;
	free(w);
	return err;
}

static const struct ss_xwriter_ops jw_ops = {
	.track = jw_track,
	.begin = jw_begin,
	.end = jw_end,
	.instant = jw_instant,
	.counter = jw_counter,
	.finish = jw_finish,
};

struct ss_xwriter *ss_xwriter_json(FILE *out, const struct ss_trace_meta *meta)
{
	struct jw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->base.ops = &jw_ops;
	w->out = out;
	w->pid = meta->pid;
	w->first = true;
	fputs("{\"traceEvents\":[", out);
	return &w->base;
}
