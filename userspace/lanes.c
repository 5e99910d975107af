/* SPDX-License-Identifier: MIT */
/*
 * Lanes: states folded into columns (lanes.h).  Shared by timeline.c and
 * viz/live_model.c, so the two views cut time, and break ties, alike.
 */
#include <string.h>

#include "lanes.h"

/* Who wins a tie for a column: what the runtime did over why it waited. */
static const enum ss_wstate tie_order[SS_W_NSTATES] = {
	SS_W_RUNNING, SS_W_SEARCHING, SS_W_PARKED_DRIVER, SS_W_PARKED_FUTEX,
	SS_W_OFFCPU, SS_W_IDLE, SS_W_EXITED, SS_W_UNKNOWN,
};

unsigned ss_lane_col(const struct ss_lane_window *w, __u64 t)
{
	unsigned __int128 x = (unsigned __int128)(t - w->from) * w->width;

	return (unsigned)(x / (w->to - w->from));
}

/* from + ceil((c + 1) * range / width). */
__u64 ss_lane_col_end(const struct ss_lane_window *w, unsigned c)
{
	unsigned __int128 x = (unsigned __int128)(c + 1) * (w->to - w->from);

	return w->from + (__u64)((x + w->width - 1) / w->width);
}

void ss_lane_fold_init(struct ss_lane_fold *f)
{
	memset(f->acc, 0, sizeof(f->acc));
	f->cur = -1;
}

void ss_lane_fold_close(struct ss_lane_fold *f, enum ss_wstate *out)
{
	enum ss_wstate best = SS_W_UNKNOWN;
	__u64 most = 0;

	if (f->cur < 0)
		return;
	for (unsigned i = 0; i < SS_W_NSTATES; i++) {
		enum ss_wstate s = tie_order[i];

		if (f->acc[s] > most) {
			most = f->acc[s];
			best = s;
		}
	}
	out[f->cur] = best;
	ss_lane_fold_init(f);
}

void ss_lane_fold_add(const struct ss_lane_window *w, struct ss_lane_fold *f,
		      enum ss_wstate s, __u64 start, __u64 end, enum ss_wstate *out)
{
	__u64 t = start > w->from ? start : w->from;

	if (end > w->to)
		end = w->to;
	if ((unsigned)s >= SS_W_NSTATES)
		s = SS_W_UNKNOWN;
	while (t < end) {
		unsigned c = ss_lane_col(w, t);
		__u64 ce = ss_lane_col_end(w, c);

		if (ce > end)
			ce = end;
		if ((long)c != f->cur) {
			ss_lane_fold_close(f, out);
			f->cur = c;
		}
		f->acc[s] += ce - t;
		t = ce;
	}
}

__u64 ss_step_125(__u64 want, int *k)
{
	static const unsigned mult[] = { 1, 2, 5 };
	__u64 pow = 1;

	for (*k = 0;; (*k)++, pow *= 10)
		for (unsigned i = 0; i < 3; i++)
			if (pow * mult[i] >= want)
				return pow * mult[i];
}
