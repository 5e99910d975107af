/* SPDX-License-Identifier: MIT */
/*
 * How the views show what the analyzer found (analyze.h): a worker
 * state's character, a task's and a duration's wording, a detection's
 * paragraph — one place, so that report, timeline, demo, export and live
 * say the same things the same way.  The analyzer itself never prints.
 */
#ifndef STALLSCOPE_PRESENT_H
#define STALLSCOPE_PRESENT_H

#include <stdio.h>

#include "analyze.h"

/* Its character in the text timeline and the live view (one table, so
 * the two always agree). */
static inline char ss_wstate_glyph(enum ss_wstate s)
{
	static const char glyphs[SS_W_NSTATES] = {
		[SS_W_UNKNOWN] = ' ', [SS_W_RUNNING] = '#',
		[SS_W_SEARCHING] = 's', [SS_W_PARKED_DRIVER] = 'D',
		[SS_W_PARKED_FUTEX] = '.', [SS_W_IDLE] = '-',
		[SS_W_OFFCPU] = 'R', [SS_W_EXITED] = ' ',
	};
	return (unsigned)s < SS_W_NSTATES ? glyphs[s] : '?';
}
/* ns as ms, for the "%.1f ms" the views print. */
/* What the analysis had to go on, for a view's title: "" (a runtime's
 * probes), ", kernel events only", or with Tokio's own records. */
static inline const char *ss_sources_label(const struct ss_analysis *a)
{
	return !a->kernel_only ? "" : a->tokio ? ", kernel events and Tokio's own (uprobes)"
					       : ", kernel events only";
}

/* ", readiness not recorded" for a trace made --no-readiness (no
 * idle_but_parked can be found in it), else "": after the sources. */
static inline const char *ss_readiness_label(const struct ss_analysis *a)
{
	return a->no_readiness ? ", readiness not recorded" : "";
}

static inline double ss_ms(__u64 ns)
{
	return (double)ns / 1e6;
}
/* "task 17 (handle_request)", or "task 17" if it has no name. */
static inline void ss_fmt_task(char *buf, size_t len, __u64 id, const char *name)
{
	if (name && name[0])
		snprintf(buf, len, "task %llu (%s)", (unsigned long long)id, name);
	else
		snprintf(buf, len, "task %llu", (unsigned long long)id);
}
/* A duration for people, as the text views print it: "40 ns", "12.5 us",
 * "4.2 ms", "201 ms", "12.3 s". */
static inline void ss_fmt_dur(char *buf, size_t len, __u64 ns)
{
	double ms = (double)ns / 1e6;

	if (ns < 1000)
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	else if (ns < 100000)
		snprintf(buf, len, "%.1f us", (double)ns / 1e3);
	else if (ns < 10000000000ULL)
		snprintf(buf, len, ms >= 10 ? "%.0f ms" : "%.1f ms", ms);
	else
		snprintf(buf, len, "%.1f s", ms / 1e3);
}
/* What the views have worded already, for a detection to word itself
 * (each detector's describe and label, userspace/detect_<kind>.c). */
struct ss_det_words {
	double at_ms;		/* its start, ms into the trace */
	const char *task;	/* "task 17 (name)", or "an unknown task" */
	const char *blocker;	/* the same for what blocked it */
	const char *tail;	/* steal time and uncertainty sentences, or "" */
	const char *kind;	/* its kind's name */
	const char *dur;	/* its duration, as ss_fmt_dur words it */
	const char *unsure;	/* " (uncertain)" or "" */
	int kernel_only;	/* the trace has no task names */
};
/* d's paragraph (report, demo) and one-line label (timeline, live), as
 * its detector words them; 0 / nothing if this build knows no such kind. */
int ss_det_describe(const struct ss_detection *d, const struct ss_det_words *w,
		    char *buf, size_t len);
void ss_det_label(const struct ss_detection *d, const struct ss_det_words *w,
		  char *buf, size_t len);
/* d's own fields (its kind's, beyond the header), as its detector names
 * them: put(arg, name, value) for each (the export's args). */
void ss_det_fields(const struct ss_detection *d, ss_det_put_fn *put, void *arg);

/* One readable paragraph about d (no trailing newline). */
int ss_detection_describe(const struct ss_detection *d,
			  const struct ss_analysis *a, char *buf, size_t len);

#endif
