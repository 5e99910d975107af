// SPDX-License-Identifier: MIT
/*
 * watch's metrics as Prometheus text (metrics.h).  The format:
 * https://prometheus.io/docs/instrumenting/exposition_formats/ — one
 * HELP and one TYPE line per family, then its samples; label values
 * escape backslash, double quote and newline; a histogram's buckets are
 * cumulative, end with le="+Inf", and come with _sum and _count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

const double ss_metrics_bounds[SS_METRICS_BUCKETS] = {
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

void ss_metrics_add_detection(struct ss_metrics *m, const struct ss_detection *d)
{
	double s = (double)d->duration_ns / 1e9;
	unsigned b = 0;

	if (d->kind >= SS_DET_NKINDS)
		return;
	m->stalls[d->kind]++;
	m->duration_ns[d->kind] += d->duration_ns;
	while (b < SS_METRICS_BUCKETS && s > ss_metrics_bounds[b])
		b++;
	if (b < SS_METRICS_BUCKETS)
		m->bucket[d->kind][b]++;
}

/* A label value, escaped. */
static void label(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

struct out {
	FILE *f;
	const struct ss_metrics *m;
};

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	fprintf(o->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{pid="..",comm=".."  — the caller adds its labels, then closes. */
static void series(struct out *o, const char *name)
{
	fprintf(o->f, "%s{pid=\"%d\",comm=", name, (int)o->m->pid);
	label(o->f, o->m->comm);
}

static void sample_u(struct out *o, const char *name, __u64 v)
{
	series(o, name);
	fprintf(o->f, "} %llu\n", (unsigned long long)v);
}

static void sample_s(struct out *o, const char *name, __u64 ns)
{
	series(o, name);
	fprintf(o->f, "} %.9f\n", (double)ns / 1e9);
}

static void stalls(struct out *o)
{
	const struct ss_metrics *m = o->m;

	family(o, "stallscope_stalls_total", "counter",
	       "Stalls found, by kind (docs/analyzer.md), counted when each ends.");
	for (unsigned k = 0; k < SS_DET_NKINDS; k++) {
		series(o, "stallscope_stalls_total");
		fprintf(o->f, ",kind=\"%s\"} %llu\n", ss_det_kind_name(k),
			(unsigned long long)m->stalls[k]);
	}
	family(o, "stallscope_stall_duration_seconds", "histogram",
	       "How long each stall lasted, by kind.");
	for (unsigned k = 0; k < SS_DET_NKINDS; k++) {
		__u64 cum = 0;

		for (unsigned b = 0; b <= SS_METRICS_BUCKETS; b++) {
			series(o, "stallscope_stall_duration_seconds_bucket");
			fprintf(o->f, ",kind=\"%s\",le=", ss_det_kind_name(k));
			if (b < SS_METRICS_BUCKETS) {
				cum += m->bucket[k][b];
				fprintf(o->f, "\"%g\"} %llu\n", ss_metrics_bounds[b],
					(unsigned long long)cum);
			} else {
				fprintf(o->f, "\"+Inf\"} %llu\n",
					(unsigned long long)m->stalls[k]);
			}
		}
		series(o, "stallscope_stall_duration_seconds_sum");
		fprintf(o->f, ",kind=\"%s\"} %.9f\n", ss_det_kind_name(k),
			(double)m->duration_ns[k] / 1e9);
		series(o, "stallscope_stall_duration_seconds_count");
		fprintf(o->f, ",kind=\"%s\"} %llu\n", ss_det_kind_name(k),
			(unsigned long long)m->stalls[k]);
	}
}

/* 0 for a kind the recording cannot show, so that its counter's 0 is not
 * read as "no stall": idle_but_parked without readiness (--no-readiness),
 * stuck_lifo and runnable_while_parked without tasks (kernel events only:
 * no runtime's probes nor Tokio's attached).  From the options until the
 * recording has started, then from the analysis. */
static void findable(struct out *o, const struct ss_analysis *a)
{
	const struct ss_metrics *m = o->m;

	family(o, "stallscope_stalls_findable", "gauge",
	       "1 if stalls of this kind can be found in what is recorded, 0 if not "
	       "(no readiness: --no-readiness; no tasks: kernel events only).");
	for (unsigned k = 0; k < SS_DET_NKINDS; k++) {
		bool can = a ? ss_analysis_findable(a, k)
			     : ss_det_findable(k, !m->kernel_only, !m->no_readiness);

		series(o, "stallscope_stalls_findable");
		fprintf(o->f, ",kind=\"%s\"} %d\n", ss_det_kind_name(k), can);
	}
}

static void analysis(struct out *o, const struct ss_analysis *a)
{
	family(o, "stallscope_wasted_worker_seconds_total", "counter",
	       "Worker time spent idle or parked while a task waited to run "
	       "(summed over workers).");
	sample_s(o, "stallscope_wasted_worker_seconds_total", a ? a->wasted_worker_ns : 0);
	family(o, "stallscope_delay_seconds_total", "counter",
	       "Wake-to-poll delays of tasks, summed, by why they lasted.");
	for (unsigned c = 0; c < SS_NCAUSES; c++) {
		series(o, "stallscope_delay_seconds_total");
		fprintf(o->f, ",cause=\"%s\"} %.9f\n", ss_cause_name(c),
			a ? (double)a->delay_ns[c] / 1e9 : 0.0);
	}
	family(o, "stallscope_worker_state_seconds_total", "counter",
	       "Time each worker spent in each state (docs/analyzer.md).");
	for (unsigned i = 0; a && i < a->nworkers; i++) {
		const struct ss_worker_info *w = &a->workers[i];

		for (unsigned s = SS_W_RUNNING; s < SS_W_NSTATES; s++) {
			series(o, "stallscope_worker_state_seconds_total");
			fprintf(o->f, ",worker=\"%d\",thread=", w->index);
			label(o->f, w->comm);
			fprintf(o->f, ",state=\"%s\"} %.9f\n", ss_wstate_name(s),
				(double)w->state_ns[s] / 1e9);
		}
	}
}

static void recording(struct out *o)
{
	const struct ss_metrics *m = o->m;

	family(o, "stallscope_events_total", "counter", "Events recorded.");
	sample_u(o, "stallscope_events_total", m->events);
	family(o, "stallscope_lost_events_total", "counter",
	       "Events lost (rings or buffers full): stalls near them may be wrong.");
	sample_u(o, "stallscope_lost_events_total", m->lost);
	family(o, "stallscope_snapshots_total", "counter",
	       "Traces saved around a stall.");
	sample_u(o, "stallscope_snapshots_total", m->snapshots);
	family(o, "stallscope_snapshots_skipped_total", "counter",
	       "Stalls long enough to save that were not saved (too many a minute, "
	       "or a write failed).");
	sample_u(o, "stallscope_snapshots_skipped_total",
		 m->snapshots_skipped + m->snapshot_errors);
	family(o, "stallscope_window_bytes", "gauge",
	       "Memory holding the recent events a snapshot is cut from.");
	sample_u(o, "stallscope_window_bytes", m->window_bytes);
	family(o, "stallscope_window_events", "gauge", "Events in the window.");
	sample_u(o, "stallscope_window_events", m->window_events);
	family(o, "stallscope_window_seconds", "gauge", "The span the window holds.");
	sample_s(o, "stallscope_window_seconds", m->window_ns);
	family(o, "stallscope_start_time_seconds", "gauge",
	       "When watching began, seconds since the epoch.");
	series(o, "stallscope_start_time_seconds");
	fprintf(o->f, "} %.3f\n", m->start_time);
}

int ss_metrics_render(const struct ss_metrics *m, const struct ss_analysis *a,
		      char **text, size_t *len)
{
	struct out o = { .m = m };

	*text = NULL;
	*len = 0;
	if (!(o.f = open_memstream(text, len)))
		return -ENOMEM;
	stalls(&o);
	findable(&o, a);
	analysis(&o, a);
	recording(&o);
	if (fclose(o.f) || !*text) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}
