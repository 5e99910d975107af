/* SPDX-License-Identifier: MIT */
/*
 * Detector runnable_while_parked (DESIGN.md): a task in a local or the
 * inject queue for at least the threshold while some worker was parked
 * and none looking for work (searching, or between tasks) for at least
 * the threshold of it — counted from when others could take it: a task
 * displaced from a LIFO slot was not runnable by anyone else before.
 * The blocker is what the queue's worker was running at the end.
 */
#include <stdio.h>

#include "analyze_int.h"
#include "present.h"

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

static int describe(const struct ss_detection *d, const struct ss_det_words *w,
		    char *buf, size_t len)
{
	char where[48];

	if (d->holder >= 0)
		snprintf(where, sizeof(where), "worker %d's queue", d->holder);
	else
		snprintf(where, sizeof(where), "the inject queue");
	return snprintf(buf, len,
		"runnable_while_parked at +%.1f ms for %.1f ms: %s sat runnable in %s "
		"while a worker was parked and none was searching (a lost wakeup?); "
		"%u other worker%s idle.%s",
		w->at_ms, ss_ms(d->duration_ns), w->task, where, d->idle_workers,
		d->idle_workers == 1 ? " was" : "s were", w->tail);
}

static void label(const struct ss_detection *d, const struct ss_det_words *w,
		  char *buf, size_t len)
{
	if (d->holder >= 0)
		snprintf(buf, len, "%s %s %s in w%d's queue, %u parked%s", w->kind,
			 w->task, w->dur, d->holder, d->parked_workers, w->unsure);
	else
		snprintf(buf, len, "%s %s %s in the inject queue, %u parked%s",
			 w->kind, w->task, w->dur, d->parked_workers, w->unsure);
}

AN_DETECTOR(runnable_while_parked, SS_DET_RUNNABLE_WHILE_PARKED,
	    .wait_ended = wait_ended);
