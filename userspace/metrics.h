/* SPDX-License-Identifier: MIT */
/*
 * `stallscope watch`'s metrics in the Prometheus text exposition format
 * (version 0.0.4: HELP and TYPE lines, then the samples), every series
 * labelled with the target's pid and comm.  docs/watch.md lists them.
 *
 * Owns: the counters watch adds to (detections by kind, a duration
 * histogram, snapshots) and the text.  Does not own: the analysis
 * (struct ss_analysis: integrals, delays, workers' state times) nor
 * serving or writing the text (metrics_http.c, watch.c).
 */
#ifndef STALLSCOPE_METRICS_H
#define STALLSCOPE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#include "analyze.h"

/* The stall duration histogram's upper bounds, seconds (and +Inf). */
#define SS_METRICS_BUCKETS 10

struct ss_metrics {
	pid_t pid;
	char comm[17];
	__u64 stalls[SS_DET_NKINDS];
	__u64 bucket[SS_DET_NKINDS][SS_METRICS_BUCKETS];	/* not cumulative */
	__u64 duration_ns[SS_DET_NKINDS];
	__u64 events, lost;		/* the recorder's */
	__u64 snapshots, snapshots_skipped, snapshot_errors;
	__u64 window_bytes, window_events, window_ns;
	double start_time;		/* unix seconds, when watch began */
	/* The recording's options (--kernel-only, --no-readiness): what
	 * can be found before the recording has started (no analysis). */
	bool kernel_only, no_readiness;
};

extern const double ss_metrics_bounds[SS_METRICS_BUCKETS];

void ss_metrics_add_detection(struct ss_metrics *m, const struct ss_detection *d);

/* The exposition, from m and the analysis so far (a: its integrals and
 * workers, read after ss_analyzer_sync(); NULL before the target's first
 * records), as a malloc'd string (*len bytes, NUL-terminated): 0 or
 * -ENOMEM. */
int ss_metrics_render(const struct ss_metrics *m, const struct ss_analysis *a,
		      char **text, size_t *len);

#endif
