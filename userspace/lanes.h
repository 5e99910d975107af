/* SPDX-License-Identifier: MIT */
/*
 * Lanes (lanes.c): a worker's states folded into columns of time, what
 * `timeline` prints and `live` draws.  A window [from, to) is cut into
 * width columns, column c holding the t with
 *   c <= (t - from) * width / (to - from) < c + 1
 * (exact integer arithmetic: columns of (to - from) / width ns when that
 * divides, as live's do).  Each column shows the state that held the
 * worker longest in it; a tie goes to what the runtime did (running,
 * searching) over why it waited.  Axis labels go at 1-2-5 x 10^k steps.
 */
#ifndef STALLSCOPE_LANES_H
#define STALLSCOPE_LANES_H

#include "analyze.h"

struct ss_lane_window {
	__u64 from, to;		/* from < to */
	unsigned width;		/* columns, > 0 */
};

/* The column of t (from <= t < to). */
unsigned ss_lane_col(const struct ss_lane_window *w, __u64 t);
/* The first t of column c + 1. */
__u64 ss_lane_col_end(const struct ss_lane_window *w, unsigned c);

/* A lane being folded: the open column's time per state. */
struct ss_lane_fold {
	long cur;		/* the open column, -1 none */
	__u64 acc[SS_W_NSTATES];
};

void ss_lane_fold_init(struct ss_lane_fold *f);
/* Credits state s with [start, end) (clipped to the window); each column
 * it leaves behind is closed into out[column]. */
void ss_lane_fold_add(const struct ss_lane_window *w, struct ss_lane_fold *f,
		      enum ss_wstate s, __u64 start, __u64 end, enum ss_wstate *out);
/* Closes the open column, if any, into out[column]. */
void ss_lane_fold_close(struct ss_lane_fold *f, enum ss_wstate *out);

/* The smallest 1, 2 or 5 x 10^k (k >= 0) that is >= want; *k: its k. */
__u64 ss_step_125(__u64 want, int *k);

#endif
