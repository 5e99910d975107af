/* SPDX-License-Identifier: MIT */
/*
 * Detector runnable_while_parked (DESIGN.md): a task in a local or the
 * inject queue for at least the threshold while some worker was parked
 * and none looking for work (searching, or between tasks) for at least
 * the threshold of it — counted from when others could take it: a task
 * displaced from a LIFO slot was not runnable by anyone else before.
 * The blocker is what the queue's worker was running at the end.
 */
#include "analyze_int.h"

static void wait_ended(struct an *an, const struct an_wait *w)
{
	struct ss_detection *d;

	if (w->t->dest == SS_DEST_LIFO ||
	    an->cum[IG_PARKED_NOSEARCH] - w->t->pns_queued < an->threshold)
		return;
	if (!(d = an_wait_det(an, SS_DET_RUNNABLE_WHILE_PARKED, w)))
		return;
	d->blocker_task = w->owner && w->owner->base == SS_W_RUNNING ? w->owner->task : 0;
	an_name_task(an, d->blocker_task, d->blocker_name);
}

const struct an_detector an_detect_runnable_while_parked = {
	.kind = SS_DET_RUNNABLE_WHILE_PARKED,
	.name = "runnable_while_parked",
	.wait_ended = wait_ended,
};
