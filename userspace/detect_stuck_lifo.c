/* SPDX-License-Identifier: MIT */
/*
 * Detector stuck_lifo (DESIGN.md): a task notified into worker w's LIFO
 * slot, polled from it after at least the threshold, while some other
 * worker was idle for at least the threshold of the wait: it could have
 * run there, but a LIFO slot cannot be stolen (Tokio before PR 7431).
 * The blocker is what w was running when the task went into the slot.
 */
#include "analyze_int.h"

static void wait_ended(struct an *an, const struct an_wait *w)
{
	struct ss_detection *d;

	if (w->t->dest != SS_DEST_LIFO || w->others_idle < an->threshold)
		return;
	if (!(d = an_wait_det(an, SS_DET_STUCK_LIFO, w)))
		return;
	d->blocker_task = w->t->blocker;
	an_name_fn(an, w->t->blocker_fn, d->blocker_name);
}

const struct an_detector an_detect_stuck_lifo = {
	.kind = SS_DET_STUCK_LIFO,
	.name = "stuck_lifo",
	.wait_ended = wait_ended,
};
