/* SPDX-License-Identifier: MIT */
/*
 * The analyzer (analyze_int.h): the tasks it has seen, by id (a hash
 * table; memory O(live tasks)); the snapshot of the integrals a task
 * takes when it starts to wait, whose differences at the wait's end say
 * how long each condition held during it; a wait's start (notify) and end
 * (poll); and what the view hears of them (on_task).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_int.h"

/* ---- tasks ----------------------------------------------------------------------------- */

static size_t hslot(struct an *an, __u64 id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ULL) >> 20) & (an->htcap - 1);
}

struct task *an_task_get(struct an *an, __u64 id, bool create)
{
	if (!an->htcap) {
		an->htcap = 1024;
		an->ht = calloc(an->htcap, sizeof(*an->ht));
		if (!an->ht) {
			an->err = -ENOMEM;
			an->htcap = 0;
			return NULL;
		}
	}
	for (struct task *t = an->ht[hslot(an, id)]; t; t = t->next)
		if (t->id == id)
			return t;
	if (!create)
		return NULL;
	if (an->ntasks >= an->htcap) {	/* grow: rehash */
		size_t ncap = an->htcap * 2;
		struct task **nt = calloc(ncap, sizeof(*nt));
		if (!nt) {
			an->err = -ENOMEM;
			return NULL;
		}
		size_t ocap = an->htcap;
		struct task **ot = an->ht;
		an->ht = nt;
		an->htcap = ncap;
		for (size_t i = 0; i < ocap; i++)
			for (struct task *t = ot[i], *n; t; t = n) {
				n = t->next;
				size_t s = hslot(an, t->id);
				t->next = an->ht[s];
				an->ht[s] = t;
			}
		free(ot);
	}
	struct task *t = calloc(1, sizeof(*t));
	if (!t) {
		an->err = -ENOMEM;
		return NULL;
	}
	t->id = id;
	t->owner = -1;
	size_t s = hslot(an, id);
	t->next = an->ht[s];
	an->ht[s] = t;
	an->ntasks++;
	return t;
}

void an_task_free(struct an *an, __u64 id)
{
	if (!an->htcap)		/* no task seen yet (a trace begun mid-poll) */
		return;
	struct task **pp = &an->ht[hslot(an, id)];
	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct task *t = *pp;
			*pp = t->next;
			if (t->queued)
				an->nqueued--;
			free(t->snap);
			free(t);
			an->ntasks--;
			return;
		}
	}
}

void an_snapshot(struct an *an, struct task *t)
{
	unsigned n = an->nw;
	__u64 *s = realloc(t->snap, (n * IW_N + IG_N) * sizeof(*s));

	if (!s) {
		an->err = -ENOMEM;
		return;
	}
	for (unsigned i = 0; i < n; i++)
		memcpy(&s[i * IW_N], an->w[i].cum, sizeof(an->w[i].cum));
	memcpy(&s[n * IW_N], an->cum, sizeof(an->cum));
	t->snap = s;
	t->snap_n = n;
}

/* How long a per-worker integral grew since the task's snapshot. */
__u64 an_since_w(struct an *an, struct task *t, struct worker *w, int k)
{
	unsigned pos = (unsigned)(w - an->w);
	if (!t->snap || pos >= t->snap_n)
		return 0;
	return w->cum[k] - t->snap[pos * IW_N + k];
}

__u64 an_since_g(struct an *an, struct task *t, int k)
{
	if (!t->snap)
		return 0;
	return an->cum[k] - t->snap[t->snap_n * IW_N + k];
}

/* ---- a task's wait: from the notify that queues it to the poll that ends it ---- */

void an_notify(struct an *an, __u64 id, int waker, struct worker *ww, int dest, __u64 ts)
{
	struct task *t = an_task_get(an, id, true);

	if (!t)
		return;
	bool was_queued = t->queued;

	if (!t->queued) {
		t->queued = true;
		an->nqueued++;
		t->since = ts;
		an_snapshot(an, t);
		t->pns_queued = an->cum[IG_PARKED_NOSEARCH];
		memset(t->view, 0, sizeof(t->view));
	} else if (t->dest == SS_DEST_LIFO && t->owner >= 0) {
		/* A move out of a LIFO slot (budget or displacement). */
		struct worker *o = an_worker_find(an, t->owner);
		if (o && o->lifo_task == id)
			o->lifo_task = 0;
		t->pns_queued = an->cum[IG_PARKED_NOSEARCH];
	}
	t->dest = dest;
	t->owner = dest == SS_DEST_INJECT ? -1 : waker;
	if (dest == SS_DEST_LIFO && ww) {
		if (ww->lifo_task && ww->lifo_task != id) {
			struct task *old = an_task_get(an, ww->lifo_task, false);
			if (old && old->queued && old->dest == SS_DEST_LIFO) {
				old->dest = SS_DEST_LOCAL;
				old->pns_queued = an->cum[IG_PARKED_NOSEARCH];
			}
		}
		ww->lifo_task = id;
		/* Pinned behind whatever its worker runs now: usually
		 * the task that notified it. */
		t->blocker = ww->base == SS_W_RUNNING ? ww->task : 0;
		struct task *b = t->blocker ? an_task_get(an, t->blocker, false) : NULL;
		t->blocker_fn = b ? b->fn : 0;
	}
	an_task_event(an, t, was_queued ? SS_TASK_MOVED : SS_TASK_QUEUED, ts,
		      ww ? ww->index : -1, false);
}

void an_poll_start(struct an *an, struct worker *w, __u64 id, __u64 ts)
{
	struct task *t;

	w->task = id;
	if (w->lifo_task == w->task)
		w->lifo_task = 0;
	if ((t = an_task_get(an, w->task, true))) {
		bool waited = t->queued;

		if (waited) {
			t->queued = false;
			an->nqueued--;
			an_wait_ended(an, t, w, ts);
		}
		an_task_event(an, t, SS_TASK_POLLED, ts, w->index, waited);
	}
	an->a->polls++;
	an_set_base(an, w, SS_W_RUNNING, ts);
}

/* ---- what the view hears of them (on_task) ----------------------------------------------- */

static void task_event(struct an *an, struct task *t, enum ss_task_change c, __u64 ts,
		       int worker, bool waited, enum ss_task_unqueued how)
{
	const struct ss_record *r = an->cur;
	struct ss_task_event e;

	/* Every notify and poll comes here: nothing to do without a view
	 * that listens (report, check, timeline, live, watch). */
	if (!an->o->on_task)
		return;
	e = (struct ss_task_event){
		.change = c, .ts = ts, .id = t->id, .fn = t->fn,
		.tid = r ? r->tid : 0, .worker = worker, .waited = waited,
		.dest = SS_DEST_UNKNOWN, .waker = -1, .poller = -1, .how = how,
		/* After these, the task may be forgotten before on_step. */
		.view = c == SS_TASK_CANCELLED || c == SS_TASK_UNPOLLED ? NULL : t->view,
	};
	/* The record's own words for the change. */
	if ((c == SS_TASK_QUEUED || c == SS_TASK_MOVED) && r && r->type == SS_WSRT_NOTIFY) {
		e.waker = (int)(__s32)(__u32)r->args[1];
		e.dest = (__u32)r->args[2];
		e.displaced = r->args[3];
	} else if (c == SS_TASK_POLLED && r && r->type == SS_WSRT_POLL_START) {
		e.poller = (int)(__s32)(__u32)r->args[0];
		e.src = (__u32)r->args[2];
	} else if (c == SS_TASK_POLL_ENDED && r && r->type == SS_WSRT_POLL_END) {
		e.result = (__u32)r->args[2];
	}
	memcpy(e.words, t->view, sizeof(e.words));
	an->o->on_task(an->o->arg, &e);
}

void an_task_event(struct an *an, struct task *t, enum ss_task_change c, __u64 ts,
		   int worker, bool waited)
{
	task_event(an, t, c, ts, worker, waited, SS_UNQUEUED_CANCELLED);
}

void an_task_unqueue(struct an *an, struct task *t, __u64 ts, enum ss_task_unqueued how)
{
	t->queued = false;
	an->nqueued--;
	task_event(an, t, SS_TASK_CANCELLED, ts, -1, true, how);
}
