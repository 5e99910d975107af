/* SPDX-License-Identifier: MIT */
/* The static text timeline (timeline.c): `stallscope timeline` and the
 * demo draw it through ss_timeline_render(). */
#ifndef STALLSCOPE_TIMELINE_H
#define STALLSCOPE_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "analyze.h"

#define SS_TIMELINE_WIDTH 100		/* columns when width is 0 */
#define SS_TIMELINE_WIDTH_MAX 2000

struct ss_timeline_opts {
	unsigned width;		/* columns (time buckets); 0: default */
	/* The window, in ns after the trace's first record; to_ns 0: up to
	 * its last.  Requires from_ns < to_ns when to_ns is set. */
	__u64 from_ns, to_ns;
	__u64 threshold_ns;	/* the analyzer's; 0: its default */
};

/*
 * Reads the trace at path, analyzes it and draws its timeline on out: one
 * lane per worker, a time axis, each detection in the window marked under
 * the lanes, a legend and a summary line.  Memory grows with workers x
 * width, not with the trace.
 *
 * Returns 0, or -errno for a file that can't be read or analyzed (-ERANGE:
 * the window starts past the trace's end), with the reason in err (one
 * line, without the file name).  Nothing is drawn then.
 * If a is not NULL it receives the analysis (free it with
 * ss_analysis_free(), also after a failure).
 */
int ss_timeline_render(FILE *out, const char *path,
		       const struct ss_timeline_opts *o, struct ss_analysis *a,
		       char *err, size_t errlen);

/* A detection in one line, without a newline: `stuck_lifo task 2
 * (task_b) 201 ms on w1`. */
void ss_timeline_det_label(const struct ss_detection *d, char *buf,
			   size_t len);

#endif
