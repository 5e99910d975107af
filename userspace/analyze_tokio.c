/* SPDX-License-Identifier: MIT */
/*
 * The analyzer (analyze_int.h): Tokio's own records (record --tokio,
 * SS_F_TOKIO; docs/tokio.md), on workers found as in a kernel-only trace,
 * by their threads' names.  What the records say, and what is inferred:
 *
 *  - poll_start on a worker's thread: it polls that task (polls nest: a
 *    worker thread runs inside its launch's poll, a blocking-pool task's;
 *    the innermost is the task it runs); poll_end: back between polls.
 *  - notify (schedule_task, or raw::schedule) from a worker's thread while
 *    it polls a task, not a yield: into that worker's LIFO slot — Tokio's
 *    rule (schedule_local) for a task made runnable by a worker holding
 *    its core; from a worker between polls, or a yield: its local queue;
 *    from any other thread: the inject queue.  From Tokio 1.51 (the
 *    version is the tokio_runtime record's) the slot can be stolen from,
 *    and is taken for the local queue.
 *
 * A task polled again only after its wait ended is then a delay like any
 * other, and a stuck LIFO task is detect_stuck_lifo.c's, with the slot
 * marked inferred.
 */
#include "analyze_int.h"

void an_apply_tokio(struct an *an, const struct ss_record *r)
{
	struct worker *w = an_worker_by_tid(an, r->tid);
	struct task *t;

	if (r->type == SS_TOKIO_RUNTIME) {
		an->tokio_attached = true;
		an->tokio_lifo_stealable = r->args[0] > 1 || (r->args[0] == 1 && r->args[1] >= 51);
		return;
	}
	an->tokio = true;
	switch (r->type) {
	case SS_WSRT_NOTIFY: {
		bool yield = r->args[4] != 0;
		int dest = !w ? SS_DEST_INJECT :
			   w->base == SS_W_RUNNING && w->task && !yield &&
			   !an->tokio_lifo_stealable ? SS_DEST_LIFO : SS_DEST_LOCAL;

		an_notify(an, r->args[0], w ? w->index : -1, w, dest, r->ts);
		if ((t = an_task_get(an, r->args[0], false)))
			t->inferred = dest == SS_DEST_LIFO;
		break;
	}
	case SS_WSRT_POLL_START:
		/* Its raw::poll names the future (symbols.c): known before
		 * the wait it ends is judged. */
		if (r->args[3] && (t = an_task_get(an, r->args[1], true)) && !t->fn)
			t->fn = r->args[3];
		if (w) {
			an_poll_start(an, w, r->args[1], r->ts);
		} else if ((t = an_task_get(an, r->args[1], false)) && t->queued) {
			/* Polled outside the workers (block_on, the blocking
			 * pool): its wait ended, not one a worker could end. */
			an_task_unqueue(an, t, r->ts, SS_UNQUEUED_OUTSIDE);
		}
		break;
	case SS_WSRT_POLL_END:
		/* A task made runnable again during its poll stays known;
		 * one that is done is forgotten (its address is reused), on
		 * any thread: memory stays O(live tasks). */
		if ((t = an_task_get(an, r->args[1], false))) {
			an_task_event(an, t, SS_TASK_POLL_ENDED, r->ts, w ? w->index : -1, false);
			if (!t->queued)
				an_task_free(an, r->args[1]);
		}
		if (w) {
			w->task = 0;
			an_kernel_state(an, w, r->ts);
		}
		break;
	default:
		break;
	}
}
