/* SPDX-License-Identifier: MIT */
/*
 * Detector stuck_lifo (DESIGN.md): a task notified into worker w's LIFO
 * slot, polled from it after at least the threshold, while some other
 * worker was idle for at least the threshold of the wait: it could have
 * run there, but a LIFO slot cannot be stolen (Tokio before PR 7431).
 * The blocker is what w was running when the task went into the slot.
 */
#include <stdio.h>

#include "analyze_int.h"
#include "present.h"

static void wait_ended(struct an *an, const struct an_wait *w)
{
	struct ss_detection *d;

	if (w->t->dest != SS_DEST_LIFO || w->others_idle < an->threshold)
		return;
	/* Inferred (Tokio's records): only if the slot's worker polled it,
	 * as nobody else could take it from there. */
	if (w->t->inferred && (!w->poller || w->poller != w->owner))
		return;
	if (!(d = an_wait_det(an, SS_DET_STUCK_LIFO, w)))
		return;
	d->stuck_lifo.inferred = w->t->inferred;
	d->blocker_task = w->t->blocker;
	an_name_fn(an, w->t->blocker_fn, d->blocker_name);
}

static int describe(const struct ss_detection *d, const struct ss_det_words *w,
		    char *buf, size_t len)
{
	/* No blocker task, and names known: the worker notified it into its
	 * own slot outside any poll. */
	const char *blocker = !d->blocker_task && !w->kernel_only ?
		"scheduler code, not a task (e.g. its I/O driver turn)" : w->blocker;
	char seen[400] = "";

	if (d->stuck_lifo.inferred)
		snprintf(seen, sizeof(seen),
			 " Seen through Tokio's own symbols: worker %d made it runnable while "
			 "polling %s and polled it only after that poll returned; the LIFO slot "
			 "is inferred from Tokio's rule that a task made runnable from a worker's "
			 "own poll goes there (before Tokio 1.51, whose workers may steal it).",
			 d->holder, w->blocker);

	return snprintf(buf, len,
		"stuck_lifo at +%.1f ms for %.1f ms: %s waited in worker %d's LIFO slot "
		"while worker %d ran %s without yielding. %u other worker%s %s idle "
		"(%u parked) for %.1f ms of that time, but a task in a LIFO slot "
		"cannot be stolen and placing it there woke nobody.%s%s",
		w->at_ms, ss_ms(d->duration_ns), w->task, d->holder, d->holder, blocker,
		d->idle_workers, d->idle_workers == 1 ? "" : "s",
		d->idle_workers == 1 ? "was" : "were", d->parked_workers,
		ss_ms(d->idle_ns), seen, w->tail);
}

static void label(const struct ss_detection *d, const struct ss_det_words *w,
		  char *buf, size_t len)
{
	snprintf(buf, len, "%s %s %s on w%d%s%s%s", w->kind, w->task, w->dur,
		 d->holder, d->blocker_task ? " behind " : "",
		 d->blocker_task ? w->blocker : "", w->unsure);
}

AN_DETECTOR(stuck_lifo, SS_DET_STUCK_LIFO,
	    .wait_ended = wait_ended);
