/* SPDX-License-Identifier: MIT */
/*
 * The analyzer (analyze_int.h): what the queues hold, as counters for the
 * views (analyze.h, enum ss_counter) — each worker's local queue depth
 * and LIFO slot, the inject queue, and readiness waiting for a worker in
 * epoll_wait.  Derived from the probes' arguments (docs/probes.md); probes
 * of different threads race, so a depth is clamped at 0.  Only kept when
 * a view asks (on_counter): the detections do not read it.
 */
#include "analyze_int.h"

static bool valid(__s64 w)
{
	return w >= 0 && w < SS_MAX_WORKERS;
}

static void emit(struct an *an, enum ss_counter c, int w, __u64 ts, __s64 v)
{
	an->o->on_counter(an->o->arg, c, w, ts, v);
}

static void local_add(struct an *an, __s64 w, __s64 delta, __u64 ts)
{
	if (!valid(w))
		return;
	an->q.local[w] += delta;
	if (an->q.local[w] < 0)
		an->q.local[w] = 0;
	emit(an, SS_CTR_LOCAL_DEPTH, (int)w, ts, an->q.local[w]);
}

static void lifo_set(struct an *an, __s64 w, __u64 task, __u64 ts)
{
	if (!valid(w))
		return;
	an->q.lifo[w] = task;
	emit(an, SS_CTR_LIFO, (int)w, ts, task ? 1 : 0);
}

static __s64 arg_int(const struct ss_record *r, int i)
{
	return (__s32)(__u32)r->args[i];
}

static void notify(struct an *an, const struct ss_record *r)
{
	__u64 id = r->args[0], dest = r->args[2], displaced = r->args[3];
	__s64 waker = arg_int(r, 1);

	if (dest == SS_DEST_LOCAL) {
		if (valid(waker) && an->q.lifo[waker] == id)
			lifo_set(an, waker, 0, r->ts);	/* out of the slot */
		local_add(an, waker, 1, r->ts);
	} else if (dest == SS_DEST_LIFO) {
		if (displaced)
			local_add(an, waker, 1, r->ts);
		lifo_set(an, waker, id, r->ts);
	}
}

static void steal(struct an *an, const struct ss_record *r)
{
	__s64 thief = arg_int(r, 0), victim = arg_int(r, 1);
	__u64 count = r->args[2], lifo = r->args[3];

	if (!valid(thief) || !valid(victim) || thief == victim)
		return;
	local_add(an, victim, -(__s64)(count - (lifo ? 1 : 0)), r->ts);
	if (lifo)
		lifo_set(an, victim, 0, r->ts);
	if (count)
		local_add(an, thief, (__s64)count - 1, r->ts);
}

/* What readiness was pending has been harvested. */
static void harvested(struct an *an, __u64 ts)
{
	if (an->q.ready_pending) {
		an->q.ready_pending = 0;
		emit(an, SS_CTR_READINESS_PENDING, -1, ts, 0);
	}
}

void an_queues_forget(struct an *an, int worker)
{
	if (valid(worker))
		an->q.in_epoll[worker] = false;
}

void an_queues_apply(struct an *an, const struct ss_record *r, int worker)
{
	__s64 w0 = arg_int(r, 0);
	bool polled = false;

	switch (r->type) {
	case SS_WSRT_NOTIFY:
		notify(an, r);
		break;
	case SS_WSRT_POLL_START:
		if (!valid(w0))
			break;
		if (r->args[2] == SS_SRC_LOCAL)
			local_add(an, w0, -1, r->ts);
		if (an->q.lifo[w0] == r->args[1])
			lifo_set(an, w0, 0, r->ts);
		break;
	case SS_WSRT_STEAL:
		steal(an, r);
		break;
	case SS_WSRT_INJECT_PUSH:
		emit(an, SS_CTR_INJECT_DEPTH, -1, r->ts, (__s64)r->args[2]);
		break;
	case SS_WSRT_INJECT_POP:
		emit(an, SS_CTR_INJECT_DEPTH, -1, r->ts, (__s64)r->args[2]);
		if (r->args[1])
			local_add(an, w0, (__s64)r->args[1] - 1, r->ts);
		break;
	case SS_WSRT_OVERFLOW:
		local_add(an, w0, -(__s64)r->args[1], r->ts);
		break;
	case SS_EPOLL_ENTER:
		if (valid(worker))
			an->q.in_epoll[worker] = true;
		break;
	case SS_EPOLL_EXIT:
		if (!valid(worker))
			break;
		an->q.in_epoll[worker] = false;
		/* A wait that returned events harvested what was pending. */
		if ((__s64)r->args[0] > 0)
			harvested(an, r->ts);
		break;
	case SS_READY_TAKEN:	/* the same, by a wait that did not sleep */
		harvested(an, r->ts);
		break;
	case SS_SK_DATA_READY:
		for (unsigned i = 0; i < SS_MAX_WORKERS; i++)
			polled |= an->q.in_epoll[i];
		if (polled)
			break;	/* a worker in epoll_wait takes it at once */
		an->q.ready_pending++;
		emit(an, SS_CTR_READINESS_PENDING, -1, r->ts, (__s64)an->q.ready_pending);
		break;
	default:
		break;
	}
}
