/* SPDX-License-Identifier: MIT */
/*
 * The analyzer (analyze_int.h): which threads are workers, and the
 * kernel's view of them.  With the runtime's probes, workers are the
 * runtime's, by its own numbering; kernel-only, the threads whose name
 * matches the patterns (wsrt-w3 is worker 3), failing that the threads
 * that park (docs/analyzer.md).  The kernel's records — switches,
 * futex and epoll waits, names, exits, steal time, readiness — apply
 * here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_int.h"

struct worker *an_worker_by_index(struct an *an, int index, __u32 tid)
{
	if (index < 0 || index >= SS_MAX_WORKERS)
		return NULL;
	for (unsigned i = 0; i < an->nw; i++)
		if (an->w[i].index == index)
			return &an->w[i];
	if (an->nw == SS_MAX_WORKERS)
		return NULL;
	/* Workers are kept in index order for the lanes. */
	unsigned pos = an->nw;
	while (pos > 0 && an->w[pos - 1].index > index) {
		an->w[pos] = an->w[pos - 1];
		pos--;
	}
	struct worker *w = &an->w[pos];
	memset(w, 0, sizeof(*w));
	w->index = index;
	w->tid = tid;
	w->base = SS_W_UNKNOWN;
	for (unsigned i = 0; i < an->nnames; i++)
		if (an->names[i].tid == tid)
			memcpy(w->comm, an->names[i].comm, sizeof(w->comm));
	an->nw++;
	return w;
}

struct worker *an_worker_find(struct an *an, int index)
{
	for (unsigned i = 0; i < an->nw; i++)
		if (an->w[i].index == index)
			return &an->w[i];
	return NULL;
}

struct worker *an_worker_by_tid(struct an *an, __u32 tid)
{
	for (unsigned i = 0; i < an->nw; i++)
		if (an->w[i].tid == tid)
			return &an->w[i];
	return NULL;
}

bool an_name_is_worker(struct an *an, const char *comm)
{
	char pats[256], *save, *p;

	snprintf(pats, sizeof(pats), "%s", an->patterns);
	for (p = strtok_r(pats, ",", &save); p; p = strtok_r(NULL, ",", &save))
		if (!fnmatch(p, comm, 0))
			return true;
	return false;
}


/* Kernel-only: a worker's state from what its thread is doing. */
void an_kernel_state(struct an *an, struct worker *w, __u64 ts)
{
	if (an->have_runtime)
		return;
	/* With Tokio's records, between its polls a worker is idle (looking
	 * for work); without, all the kernel knows is that it is awake. */
	enum ss_wstate s = w->in_epoll ? SS_W_PARKED_DRIVER
			 : w->in_futex ? SS_W_PARKED_FUTEX
			 : an->tokio && !w->task ? SS_W_IDLE : SS_W_RUNNING;
	an_set_base(an, w, s, ts);
}


/* Forget every worker (their lanes and figures): the real ones are found
 * another way from here on. */
void an_drop_workers(struct an *an)
{
	/* Their lanes end here (analyze.h): views close what they drew. */
	for (unsigned i = 0; i < an->nw; i++) {
		if (an->w[i].shown == SS_W_UNKNOWN)
			continue;
		an_queues_forget(an, an->w[i].index);
		if (an->o->on_state)
			an->o->on_state(an->o->arg, (unsigned)an->w[i].index, an->now,
					SS_W_UNKNOWN, 0);
	}
	an->nw = 0;
	an->by_parking = false;
	an->last_driver_owner = -1;
	memset(an->a->workers, 0, sizeof(an->a->workers));
}

/* A named worker's lane: the runtime's numbering when the name carries
 * it (wsrt-w3 is worker 3), else the next free one. */
static int lane_for(struct an *an, const char *comm)
{
	int index = (int)an->nw;
	size_t len = strlen(comm), d = len;

	while (d > 0 && comm[d - 1] >= '0' && comm[d - 1] <= '9')
		d--;
	if (d < len && len - d < 4 && !an_worker_find(an, atoi(comm + d)))
		index = atoi(comm + d);
	while (an_worker_find(an, index))
		index++;
	return index;
}

/*
 * A name matched: names decide from now on.  The threads taken for
 * workers because they parked leave — except those whose name matches
 * (a worker that parked in its start-up handshake before the runtime
 * named it), which keep their state and move to the lane the name gives.
 */
static void names_decide(struct an *an)
{
	struct worker keep[SS_MAX_WORKERS];	/* ~30 KiB, once per trace */
	unsigned nk = 0;

	for (unsigned i = 0; i < an->nw; i++)
		if (an_name_is_worker(an, an->w[i].comm))
			keep[nk++] = an->w[i];
	an_drop_workers(an);
	for (unsigned k = 0; k < nk; k++) {
		struct worker *w = an_worker_by_index(an, lane_for(an, keep[k].comm), keep[k].tid);
		if (!w)
			continue;
		int index = w->index;
		*w = keep[k];
		w->index = index;
		w->shown = SS_W_UNKNOWN;
		w->shown_since = 0;
		an_show(an, w, an->now);
	}
}

void an_new_kernel_worker(struct an *an, __u32 tid, const char *comm)
{
	struct worker *w;

	if (an->have_runtime || !an_name_is_worker(an, comm))
		return;
	if ((w = an_worker_by_tid(an, tid))) {
		/* Taken for a worker by parking, now named as one. */
		if (an->by_parking)
			names_decide(an);
		return;
	}
	if (an->by_parking)
		names_decide(an);
	if ((w = an_worker_by_index(an, lane_for(an, comm), tid)))
		snprintf(w->comm, sizeof(w->comm), "%s", comm);
}

/*
 * Kernel-only, when no thread name matches the patterns (a runtime that
 * names its threads otherwise, or not at all): a thread that parks in a
 * futex wait or epoll_wait is taken for a worker — except the main thread,
 * which parks in block_on or join and runs no tasks.  Lanes in the order
 * threads are found; dropped as soon as a thread with a matching name
 * appears.  Never when the runtime's probes were attached: it will number
 * its workers itself, and a thread that parks before its first probe (in
 * a sanitizer's thread start-up, say) would show as a worker it is not.
 */
struct worker *an_parking_worker(struct an *an, __u32 tid)
{
	struct worker *w = an_worker_by_tid(an, tid);

	if (w || an->have_runtime || an->runtime_probes || tid == an->pid ||
	    (an->nw && !an->by_parking))
		return w;
	if ((w = an_worker_by_index(an, (int)an->nw, tid)))
		an->by_parking = true;
	return w;
}


/* Thread tid is named by r (the name in its first two words): kept, its
 * worker's name if it is one, and said to the view. */
static void name_thread(struct an *an, const struct ss_record *r, __u32 tid, char *comm)
{
	struct worker *w;
	unsigned k;

	memcpy(comm, r->args, 16);
	comm[16] = 0;
	for (k = 0; k < an->nnames && an->names[k].tid != tid; k++)
		;
	if (k < sizeof(an->names) / sizeof(an->names[0])) {
		an->names[k].tid = tid;
		memcpy(an->names[k].comm, comm, 17);
		if (k == an->nnames)
			an->nnames++;
	}
	if ((w = an_worker_by_tid(an, tid)))
		snprintf(w->comm, sizeof(w->comm), "%s", comm);
	if (an->o->on_name)
		an->o->on_name(an->o->arg, tid, r->ts, comm);
}

/* Worker w left or came to a CPU at ts: awake then, so one whose state
 * is not known yet (named as it started and given a task before its
 * first park, or asleep since before the recording) has its kernel-only
 * state from here on; then shown. */
static void switched(struct an *an, struct worker *w, __u64 ts)
{
	if (w->base == SS_W_UNKNOWN)
		an_kernel_state(an, w, ts);
	an_show(an, w, ts);
}

void an_apply_kernel(struct an *an, const struct ss_record *r)
{
	__u64 ts = r->ts;
	struct worker *w;

	switch (r->type) {
	case SS_COMM:
	case SS_THREAD_AT_ATTACH: {
		char comm[17];
		name_thread(an, r, r->tid, comm);
		an_new_kernel_worker(an, r->tid, comm);
		break;
	}
	case SS_SHIM_THREAD_NAME: {
		/* pthread_setname_np through the shim: the thread it named
		 * (0: not known), and 0 if it worked. */
		char comm[17];
		if (r->args[2] && !r->args[3])
			name_thread(an, r, (__u32)r->args[2], comm);
		break;
	}
	case SS_SCHED_SWITCH: {
		__u32 prev = (__u32)r->args[0], next = (__u32)r->args[1];
		if ((w = an_worker_by_tid(an, prev))) {
			w->offcpu = r->args[2] == 0;	/* preempted, still runnable */
			w->offcpu_at = ts;
			switched(an, w, ts);
		}
		if ((w = an_worker_by_tid(an, next))) {
			w->offcpu = false;
			switched(an, w, ts);
		}
		break;
	}
	case SS_FUTEX_ENTER: {
		bool waits = an_futex_waits(r);
		if ((w = waits ? an_parking_worker(an, r->tid) : an_worker_by_tid(an, r->tid))) {
			w->in_futex = waits;
			an_kernel_state(an, w, ts);
		}
		break;
	}
	case SS_FUTEX_EXIT:
		if ((w = an_worker_by_tid(an, r->tid))) {
			w->in_futex = false;
			an_kernel_state(an, w, ts);
		}
		break;
	case SS_EPOLL_ENTER:
		if ((w = an_parking_worker(an, r->tid))) {
			w->in_epoll = true;
			an->last_driver_owner = w->index;
			an_kernel_state(an, w, ts);
		}
		break;
	case SS_EPOLL_EXIT:
		if ((w = an_worker_by_tid(an, r->tid))) {
			w->in_epoll = false;
			/* Back from the wait, handling what it harvested: no
			 * longer parked, even before the unpark probe. */
			if (an->have_runtime && w->base == SS_W_PARKED_DRIVER)
				an_set_base(an, w, SS_W_IDLE, ts);
			if ((__s64)r->args[0] > 0)
				an_readiness_harvested(an, ts, false);
			an_kernel_state(an, w, ts);
		}
		break;
	case SS_SK_DATA_READY:
		an_readiness_arrived(an, ts, r->args[0]);
		break;
	case SS_READY_TAKEN:
		/* Recorded with sleep parks: harvested by a wait that did
		 * not sleep (no epoll exit says it). */
		an_readiness_harvested(an, ts, false);
		break;
	case SS_VCPU_STEAL:
		/* The thread looked on-CPU, but its vCPU was not running: off
		 * the CPU for that long, within [since, ts] (charged now: the
		 * waits that matter span it). */
		if ((w = an_worker_by_tid(an, r->tid))) {
			w->cum[IW_OFFCPU] += r->args[0];
			w->cum[IW_STOLEN] += r->args[0];
			an->a->workers[w->index].steal_ns += r->args[0];
		}
		break;
	case SS_THREAD_EXIT:
		if ((w = an_worker_by_tid(an, r->tid)))
			an_set_base(an, w, SS_W_EXITED, ts);
		break;
	case SS_LOST:
		an->a->lost += r->args[0];
		if (an->nlost == an->caplost) {
			size_t nc = an->caplost ? 2 * an->caplost : 64;
			__u64 *n = realloc(an->lost_ts, nc * sizeof(*n));
			if (!n) {
				an->err = -ENOMEM;
				break;
			}
			an->lost_ts = n;
			an->caplost = nc;
		}
		an->lost_ts[an->nlost++] = ts;
		break;
	default:
		break;
	}
}

