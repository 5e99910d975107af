/* SPDX-License-Identifier: MIT */
/*
 * `stallscope watch` (its options: cmds/watch.c; docs/watch.md): stays
 * attached, keeps the last seconds in memory (window.h), analyzes as it
 * goes, saves a trace around each stall of at least the trigger, and
 * keeps Prometheus metrics (metrics.h), served (metrics_http.h) and/or
 * written to a file.
 */
#ifndef STALLSCOPE_WATCH_H
#define STALLSCOPE_WATCH_H

#include <stddef.h>
#include <linux/types.h>

#include "recorder.h"

#define SS_WATCH_PER_MINUTE 3	/* snapshots in any minute, at most */

struct ss_watch_opts {
	struct ss_recorder_opts ro;	/* -p PID or -- CMD, and their options */
	__u64 trigger_ns;	/* a snapshot for a stall this long */
	__u64 threshold_ns;	/* shortest stall counted (the analyzer's) */
	__u64 keep_ns;		/* the window's span */
	__u64 after_ns;		/* a snapshot's time after its stall */
	size_t max_memory;	/* the window's bytes */
	unsigned max_snapshots;	/* stall-*.trace files in out_dir, at most */
	const char *out_dir;
	const char *metrics_path;	/* NULL: no file */
	const char *listen;		/* NULL: no endpoint */
	unsigned metrics_every_ms;	/* the file's rewrite period */
};

/* The exit status: 0 (the target exited, or a signal), 1 (recording or
 * writing failed), 2 (a bad directory, address or machine: said). */
int ss_watch_run(const struct ss_watch_opts *o);

#endif
