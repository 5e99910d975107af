/* SPDX-License-Identifier: MIT */
/*
 * The analyzer's detectors (analyze_int.h): their table, the core's
 * calls into them, and what they share.  When a task's wait ends the
 * core classifies its delay here (the figures every report shows), then
 * each detector with a wait_ended hook decides whether it was a stall of
 * its kind; readiness goes to the detectors that watch it.  Each detector
 * is a file, detect_ID.c, listed in analyze.h's SS_DETECTIONS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_int.h"
#include "present.h"

static const struct an_detector *const detectors[SS_DET_NKINDS] = {
#define AN_DETECTOR_ENTRY_(kind, id) [kind] = &an_detect_##id,
	SS_DETECTIONS(AN_DETECTOR_ENTRY_)
#undef AN_DETECTOR_ENTRY_
};

const char *ss_det_kind_name(enum ss_det_kind k)
{
	return k < SS_DET_NKINDS && detectors[k] ? detectors[k]->name : "unknown";
}

/* What a detector takes says what it needs: tasks' waits (wait_ended)
 * the tasks, readiness arriving (readiness_arrived) the readiness. */
bool ss_det_findable(enum ss_det_kind k, bool tasks, bool readiness)
{
	const struct an_detector *d = k < SS_DET_NKINDS ? detectors[k] : NULL;

	return d && (tasks || !d->wait_ended) && (readiness || !d->readiness_arrived);
}

int ss_det_describe(const struct ss_detection *d, const struct ss_det_words *w,
		    char *buf, size_t len)
{
	unsigned k = (unsigned)d->kind;

	if (k < SS_DET_NKINDS && detectors[k] && detectors[k]->describe)
		return detectors[k]->describe(d, w, buf, len);
	return snprintf(buf, len, "unknown detection");
}

void ss_det_label(const struct ss_detection *d, const struct ss_det_words *w,
		  char *buf, size_t len)
{
	unsigned k = (unsigned)d->kind;

	if (k < SS_DET_NKINDS && detectors[k] && detectors[k]->label)
		detectors[k]->label(d, w, buf, len);
	else
		snprintf(buf, len, "%s %s%s", w->kind ? w->kind : "?", w->dur, w->unsure);
}

void ss_det_fields(const struct ss_detection *d, ss_det_put_fn *put, void *arg)
{
	unsigned k = (unsigned)d->kind;

	if (k < SS_DET_NKINDS && detectors[k] && detectors[k]->fields)
		detectors[k]->fields(d, put, arg);
}

bool an_lost_within(struct an *an, __u64 from, __u64 to)
{
	for (size_t i = 0; i < an->nlost; i++)
		if (an->lost_ts[i] >= from && an->lost_ts[i] <= to)
			return true;
	return false;
}

void an_name_fn(struct an *an, __u64 fn, char *buf)
{
	buf[0] = '\0';
	if (fn && an->syms)
		ss_symbols_name(an->syms, fn, buf, SS_NAME_MAX);
}

void an_name_task(struct an *an, __u64 id, char *buf)
{
	struct task *t = id ? an_task_get(an, id, false) : NULL;

	an_name_fn(an, t ? t->fn : 0, buf);
}

struct ss_detection *an_add_det(struct an *an, enum ss_det_kind kind,
				    __u64 start, __u64 end)
{
	struct ss_analysis *a = an->a;
	struct ss_detection *d;

	if ((a->ndets & (a->ndets - 1)) == 0) {	/* 0, 1, 2, 4, ...: grow */
		size_t ncap = a->ndets ? 2 * a->ndets : 1;
		d = realloc(a->dets, ncap * sizeof(*d));
		if (!d) {
			an->err = -ENOMEM;
			return NULL;
		}
		a->dets = d;
	}
	d = &a->dets[a->ndets++];
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->start_ns = start;
	d->duration_ns = end - start;
	d->holder = -1;
	d->uncertain = an_lost_within(an, start, end);
	return d;
}

/* How many other workers were idle / parked for most of the wait. */
void an_count_idle_others(struct an *an, struct task *t, int except,
			      __u64 wait, unsigned *idle, unsigned *parked)
{
	*idle = *parked = 0;
	for (unsigned i = 0; i < an->nw; i++) {
		struct worker *w = &an->w[i];
		if (w->index == except)
			continue;
		if (2 * an_since_w(an, t, w, IW_IDLE) >= wait)
			(*idle)++;
		if (2 * an_since_w(an, t, w, IW_PARKED) >= wait)
			(*parked)++;
	}
}


/* The wait of task t ended at ts (polled by `poller`, or the trace ended:
 * poller NULL).  Classify the delay; past the threshold, ask the
 * detectors. */
void an_wait_ended(struct an *an, struct task *t, struct worker *poller, __u64 ts)
{
	struct ss_analysis *a = an->a;
	struct an_wait w = { .t = t, .poller = poller, .ts = ts };
	enum ss_cause cause;

	w.wait = ts > t->since ? ts - t->since : 0;
	w.owner = t->owner >= 0 ? an_worker_find(an, t->owner) : NULL;
	w.others_idle = w.owner ? an_since_w(an, t, w.owner, IW_OTHERS_IDLE)
				: an_since_g(an, t, IG_ANY_IDLE);
	__u64 offcpu = poller ? an_since_w(an, t, poller, IW_OFFCPU) : 0;

	if (poller && 2 * offcpu >= w.wait && w.wait)
		cause = SS_CAUSE_KERNEL_RUNQ;
	else if (t->dest == SS_DEST_LIFO && 2 * w.others_idle >= w.wait && w.wait)
		cause = SS_CAUSE_LIFO_PINNED;
	else if (2 * an_since_g(an, t, IG_ANY_IDLE) < w.wait || !w.wait)
		cause = SS_CAUSE_ALL_BUSY;
	else
		cause = SS_CAUSE_INJECT_LAG;	/* queued while others idled */
	a->delay_ns[cause] += w.wait;
	a->delays++;

	if (w.wait < an->threshold)
		return;
	for (unsigned k = 0; k < SS_DET_NKINDS; k++)
		if (detectors[k] && detectors[k]->wait_ended)
			detectors[k]->wait_ended(an, &w);
}

struct ss_detection *an_wait_det(struct an *an, enum ss_det_kind kind,
				 const struct an_wait *w)
{
	struct task *t = w->t;
	struct ss_detection *d = an_add_det(an, kind, t->since, w->ts);

	if (!d)
		return NULL;
	d->holder = t->owner;
	d->task = t->id;
	d->idle_ns = w->others_idle;
	d->steal_ns = w->owner ? an_since_w(an, t, w->owner, IW_STOLEN) : 0;
	an_name_task(an, t->id, d->task_name);
	an_count_idle_others(an, t, t->owner, w->wait, &d->idle_workers, &d->parked_workers);
	if (!w->poller)
		d->uncertain = true;	/* still waiting when the trace ended */
	return d;
}

void an_readiness_arrived(struct an *an, __u64 ts, __u64 sock)
{
	for (unsigned k = 0; k < SS_DET_NKINDS; k++)
		if (detectors[k] && detectors[k]->readiness_arrived)
			detectors[k]->readiness_arrived(an, ts, sock);
}

void an_readiness_harvested(struct an *an, __u64 ts, bool at_end)
{
	for (unsigned k = 0; k < SS_DET_NKINDS; k++)
		if (detectors[k] && detectors[k]->readiness_harvested)
			detectors[k]->readiness_harvested(an, ts, at_end);
}
