/* SPDX-License-Identifier: MIT */
/*
 * The Chrome JSON writer of `stallscope export --format json`: the model's
 * tracks and events in the Trace Event Format
 * (https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU),
 * which chrome://tracing and the Perfetto UI both load.
 *
 *   {"traceEvents":[
 *   {"ph":"M","name":"process_name",...},       names, and the threads' order
 *   {"ph":"B","ts":..,"name":..,...},            a slice begins ...
 *   {"ph":"E","ts":..,"name":..,...},            ... and ends (its name again)
 *   {"ph":"i","s":"t",...},                      an instant
 *   {"ph":"B",..,"bind_id":N,"flow_out":true},   an instant a flow starts or
 *   {"ph":"E",..},                               ends at: a slice of no
 *                                                length (flows bind to slices)
 *   {"ph":"C","name":..,"args":{"queue":N}},     a counter value
 *   ]}
 *
 * Threads are the target's own pid/tid; the tracks that are not threads
 * (stall and lost-event lanes, a worker whose thread was never named)
 * are pseudo-threads of the process whose tids no thread of the trace has
 * (export_track.c), so overlapping stalls keep their lanes.  Perfetto
 * shows a thread as "NAME TID", so names carry no tid: "worker 0",
 * "stalls: worker 0, lane".  thread_sort_index gives the model's order
 * (Perfetto >= 57 and chrome://tracing honour it).  A counter is
 * "NAME SERIES" in Perfetto: json_name and series split its name.  Flows
 * are version 2 (bind_id with flow_out / flow_in on the slices they join).
 *
 * Slices are B/E pairs, written as they happen, not X events: Perfetto
 * sorts by time and then file order, so a B/E stream nests exactly as the
 * model's calls do, zero-length slices and flows included; with X events
 * it sorts ties by duration and end order, and breaks both.
 *
 * Times: "ts" is microseconds, CLOCK_MONOTONIC as in the trace file,
 * printed exactly to the nanosecond (N.NNN).  Perfetto >= 51 reads it as
 * llround((double(N) + NNN / 1000.0) * 1000) ns (json_trace_tokenizer.cc
 * CoerceToTs): the exact ns while the clock is under about 2^52 ns (52
 * days of uptime); past that a double
 * can't hold the ns and a time may read 1 ns off, but never out of
 * order, since that reading is monotonic and B/E carry no durations.  No
 * "displayTimeUnit": it only says how to display times, and Perfetto
 * ignores it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"

struct jw {
	struct ss_xwriter base;
	FILE *out;
	__u32 pid;
	bool first;		/* no event written yet (no comma before it) */
	int err;
};

/* ---- pieces ------------------------------------------------------------------- */

/* ns as microseconds, exactly (see the top of the file). */
static void put_us(FILE *f, __u64 ns)
{
	fprintf(f, "%llu.%03llu", (unsigned long long)(ns / 1000),
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

/* Opens one event object: the separator, phase, pid and tid (counters
 * and the process's name are the process's: its main thread). */
static void open_event(struct jw *w, const char *ph, const struct ss_xtrack *t)
{
	__u32 tid = t->kind == SS_XT_THREAD || t->kind == SS_XT_LANE ? t->tid : w->pid;

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

/* ts, name and cat of a slice or instant. */
static void put_common(struct jw *w, __u64 ts, const struct ss_xevent *e)
{
	fputs(",\"ts\":", w->out);
	put_us(w->out, ts);
	fputs(",\"name\":", w->out);
	ss_json_string(w->out, e->name);
	fputs(",\"cat\":", w->out);
	ss_json_string(w->out, e->cat);
}

/* The flow binding of a slice's begin. */
static void put_flow(struct jw *w, const struct ss_xevent *e)
{
	if (!e->flow_out && !e->flow_in)
		return;
	/* One event carries at most one flow in this exporter. */
	fprintf(w->out, ",\"bind_id\":%llu",
		(unsigned long long)(e->flow_out ? e->flow_out : e->flow_in));
	if (e->flow_out)
		fputs(",\"flow_out\":true", w->out);
	if (e->flow_in)
		fputs(",\"flow_in\":true", w->out);
}

static void put_args(struct jw *w, const struct ss_xarg *a, unsigned n)
{
	if (!n)
		return;
	fputs(",\"args\":{", w->out);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			putc(',', w->out);
		put_arg(w->out, &a[i]);
	}
	putc('}', w->out);
}

/* ---- the writer's operations ---------------------------------------------------- */

static void jw_track(struct ss_xwriter *xw, const struct ss_xtrack *t, __u64 ts)
{
	struct jw *w = (struct jw *)xw;

	(void)ts;	/* metadata has no time */
	switch (t->kind) {
	case SS_XT_ROOT:
		metadata(w, t, "process_name", "name", t->json_name, 0);
		break;
	case SS_XT_THREAD:
	case SS_XT_LANE:
		metadata(w, t, "thread_name", "name", t->json_name, 0);
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
	struct jw *w = (struct jw *)xw;

	open_event(w, "B", t);
	put_common(w, e->ts, e);
	put_flow(w, e);
	put_args(w, e->args, e->nargs);
	putc('}', w->out);
}

/* The name and category again: Perfetto then ends the slice they name. */
static void jw_end(struct ss_xwriter *xw, const struct ss_xtrack *t,
		   const struct ss_xevent *begin, __u64 ts,
		   const struct ss_xarg *args, unsigned nargs)
{
	struct jw *w = (struct jw *)xw;

	open_event(w, "E", t);
	put_common(w, ts, begin);
	put_args(w, args, nargs);
	putc('}', w->out);
}

static void jw_instant(struct ss_xwriter *xw, const struct ss_xtrack *t,
		       const struct ss_xevent *e)
{
	struct jw *w = (struct jw *)xw;

	if (e->flow_out || e->flow_in) {
		/* Flows bind to slices: a slice of no length. */
		jw_begin(xw, t, e);
		jw_end(xw, t, e, e->ts, NULL, 0);
		return;
	}
	open_event(w, "i", t);
	put_common(w, e->ts, e);
	fputs(",\"s\":\"t\"", w->out);
	put_args(w, e->args, e->nargs);
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
	ss_json_string(w->out, t->json_name);
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
