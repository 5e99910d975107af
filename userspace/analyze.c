/* SPDX-License-Identifier: MIT */
/*
 * The analyzer: per-worker state over time and the stall detections of
 * DESIGN.md, from one pass over a trace.
 *
 * Owns: putting records back in time order (a bounded reorder heap: the
 * ring buffer delivers per-CPU streams interleaved), the worker and task
 * state machines, the integrals behind every figure, the detections.
 * Does not own: reading the file (trace.c), naming tasks (symbols.c),
 * printing (report.c, timeline.c).
 *
 * How the figures are computed: between two events the state is constant,
 * so at every event the analyzer first advances a few integrals over the
 * elapsed time, then applies the event.  Per worker w: "some other worker
 * idle" (others_idle[w]), "w off-CPU while runnable" (offcpu[w]), "w
 * idle", "w parked"; globally: "some worker parked, none looking for work",
 * "some worker parked on a futex", "some worker idle", and wasted worker
 * time, min(idle workers, ready items).  A queued task or pending
 * readiness snapshots the integrals it needs when it starts waiting; when
 * the wait ends, differences give how long each condition held during it.
 * Memory: O(workers + live tasks), never O(records).
 *
 * Detections (threshold T, default 10 ms):
 *  stuck_lifo: a task notified into worker w's LIFO slot, polled from it
 *    after >= T, while some other worker was idle for >= T of the wait.
 *  idle_but_parked: readiness (sk_data_ready on a polled socket) arriving
 *    while no worker is in epoll_wait, harvested (an epoll_wait returning
 *    events) >= T later, while some worker was parked on a futex >= T.
 *  runnable_while_parked: a task in a local or the inject queue for >= T
 *    while some worker was parked and none looking for work (searching,
 *    or between tasks) for >= T of it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "symbols.h"

#define REORDER_CAP (1U << 18)		/* records held back for ordering */
#define DEFAULT_THRESHOLD_NS 10000000ULL
#define DEFAULT_PATTERNS "wsrt-w*,tokio-runtime-w*"

/* ---- integrals -------------------------------------------------------------- */

enum { IW_OTHERS_IDLE, IW_OFFCPU, IW_IDLE, IW_PARKED, IW_FUTEX, IW_STOLEN, IW_N };
enum { IG_PARKED_NOSEARCH, IG_FUTEX_PARKED, IG_ANY_IDLE, IG_N };

struct worker {
	int index;
	__u32 tid;
	char comm[17];
	bool started;		/* seen worker_start or a probe */
	/* runtime view */
	enum ss_wstate base;	/* from the runtime probes (or syscalls) */
	__u64 task;		/* running */
	__u64 lifo_task;
	/* kernel view */
	bool offcpu;		/* runnable but switched out */
	bool in_epoll, in_futex;
	/* output */
	enum ss_wstate shown;
	__u64 shown_since;
	__u64 cum[IW_N];
};

struct task {
	__u64 id;
	__u64 fn;		/* poll function address */
	bool queued;
	int dest;		/* SS_DEST_* while queued */
	int owner;		/* worker whose LIFO/queue holds it, -1 inject */
	__u64 since;		/* first notify of this wait */
	__u64 pns_queued;	/* cum[IG_PARKED_NOSEARCH] when it entered a
				 * queue others can take it from (a LIFO slot
				 * is not one: that wait is stuck_lifo's) */
	__u64 blocker;		/* LIFO: what the slot's worker ran then */
	__u64 blocker_fn;	/* ... and its poll function (it may be gone) */
	__u64 *snap;		/* [nworkers_at_snap][IW_N] + [IG_N] */
	unsigned snap_n;
	struct task *next;	/* hash chain */
};

struct pending_ready {
	bool active;
	__u64 since, sock;
	int last_owner;		/* last worker in epoll before */
	__u64 blocker;		/* what it ran when readiness arrived */
	__u64 snap[IG_N];
	__u64 wsnap[SS_MAX_WORKERS];	/* per worker: IW_FUTEX at arrival */
	unsigned nwsnap;
	__u64 owner_stolen;		/* last_owner's IW_STOLEN at arrival */
};

struct an {
	const struct ss_analyze_opts *o;
	struct ss_analysis *a;
	__u64 threshold;
	char patterns[256];
	struct worker w[SS_MAX_WORKERS];
	unsigned nw;
	bool have_runtime;
	bool by_parking;	/* kernel-only workers are threads that park:
				 * no name matched (yet) */
	__u32 pid;		/* the target's main thread: never a worker */
	bool meta_kernel_only;	/* recorded --kernel-only */
	bool runtime_probes;	/* the runtime's probes were attached */
	__u64 now;		/* time of the last event applied */
	__u64 cum[IG_N];
	/* tasks */
	struct task **ht;
	size_t htcap, ntasks, nqueued;
	/* readiness */
	struct pending_ready rd;
	int last_driver_owner;
	/* lost-event times, to mark detections uncertain */
	__u64 *lost_ts;
	size_t nlost, caplost;
	/* Every thread name seen (workers may be known only later). */
	struct { __u32 tid; char comm[17]; } names[4096];
	unsigned nnames;
	struct ss_symbols *syms;
	int err;
};

/* ---- small helpers -------------------------------------------------------------- */

static bool idle_state(enum ss_wstate s)
{
	return s == SS_W_SEARCHING || s == SS_W_PARKED_DRIVER ||
	       s == SS_W_PARKED_FUTEX;
}

static bool parked_state(enum ss_wstate s)
{
	return s == SS_W_PARKED_DRIVER || s == SS_W_PARKED_FUTEX;
}

/* The state a worker shows: the runtime's, unless the kernel says the
 * thread is runnable but not on a CPU. */
static enum ss_wstate effective(const struct worker *w)
{
	if (w->offcpu && !parked_state(w->base) && w->base != SS_W_EXITED)
		return SS_W_OFFCPU;
	return w->base;
}

static unsigned count_state(struct an *an, bool (*pred)(enum ss_wstate))
{
	unsigned n = 0;
	for (unsigned i = 0; i < an->nw; i++)
		n += pred(an->w[i].shown);
	return n;
}

/* The same over the runtime's own view, whatever the kernel does with
 * the thread: a searcher preempted mid-search still counts as searching
 * for the runtime (it will find the work when it runs again). */
static unsigned count_base(struct an *an, bool (*pred)(enum ss_wstate))
{
	unsigned n = 0;
	for (unsigned i = 0; i < an->nw; i++)
		n += pred(an->w[i].base);
	return n;
}

static bool futex_state(enum ss_wstate s) { return s == SS_W_PARKED_FUTEX; }

/* Looking for work, for the runtime: searching, or between tasks (idle),
 * which always looks (next task, inject queue, a steal) before it parks.
 * A worker preempted there for 45 ms leaves work waiting: the kernel's
 * doing, not a lost wakeup — the runtime counted it as a searcher. */
static bool looking_state(enum ss_wstate s)
{
	return s == SS_W_SEARCHING || s == SS_W_IDLE;
}

/* Advance every integral to ts under the current states. */
static void advance(struct an *an, __u64 ts)
{
	if (ts <= an->now) {
		if (!an->now)
			an->now = ts;
		return;
	}
	__u64 dt = ts - an->now;
	unsigned idle = count_state(an, idle_state);
	unsigned parked = count_state(an, parked_state);
	unsigned looking = count_base(an, looking_state);
	unsigned futex = count_state(an, futex_state);

	for (unsigned i = 0; i < an->nw; i++) {
		struct worker *w = &an->w[i];
		bool self_idle = idle_state(w->shown);
		if (idle - self_idle > 0)
			w->cum[IW_OTHERS_IDLE] += dt;
		if (w->shown == SS_W_OFFCPU)
			w->cum[IW_OFFCPU] += dt;
		if (self_idle)
			w->cum[IW_IDLE] += dt;
		if (parked_state(w->shown))
			w->cum[IW_PARKED] += dt;
		if (w->shown == SS_W_PARKED_FUTEX)
			w->cum[IW_FUTEX] += dt;
	}
	if (parked && !looking)
		an->cum[IG_PARKED_NOSEARCH] += dt;
	if (futex)
		an->cum[IG_FUTEX_PARKED] += dt;
	if (idle)
		an->cum[IG_ANY_IDLE] += dt;
	unsigned ready = (unsigned)an->nqueued + (an->rd.active ? 1 : 0);
	an->a->wasted_worker_ns += (__u64)(idle < ready ? idle : ready) * dt;
	an->now = ts;
}

static void show(struct an *an, struct worker *w, __u64 ts)
{
	enum ss_wstate s = effective(w);

	if (s == w->shown)
		return;
	if (w->shown_since && ts > w->shown_since)
		an->a->workers[w->index].state_ns[w->shown] += ts - w->shown_since;
	w->shown = s;
	w->shown_since = ts;
	if (an->o->on_state)
		an->o->on_state(an->o->arg, (unsigned)w->index, ts, s,
				s == SS_W_RUNNING ? w->task : 0);
}

static struct worker *worker_by_index(struct an *an, int index, __u32 tid)
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

static struct worker *worker_find(struct an *an, int index)
{
	for (unsigned i = 0; i < an->nw; i++)
		if (an->w[i].index == index)
			return &an->w[i];
	return NULL;
}

static struct worker *worker_by_tid(struct an *an, __u32 tid)
{
	for (unsigned i = 0; i < an->nw; i++)
		if (an->w[i].tid == tid)
			return &an->w[i];
	return NULL;
}

static bool name_is_worker(struct an *an, const char *comm)
{
	char pats[256], *save, *p;

	snprintf(pats, sizeof(pats), "%s", an->patterns);
	for (p = strtok_r(pats, ",", &save); p; p = strtok_r(NULL, ",", &save))
		if (!fnmatch(p, comm, 0))
			return true;
	return false;
}

/* ---- tasks ----------------------------------------------------------------------------- */

static size_t hslot(struct an *an, __u64 id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ULL) >> 20) & (an->htcap - 1);
}

static struct task *task_get(struct an *an, __u64 id, bool create)
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

static void task_free(struct an *an, __u64 id)
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

static void snapshot(struct an *an, struct task *t)
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
static __u64 since_w(struct an *an, struct task *t, struct worker *w, int k)
{
	unsigned pos = (unsigned)(w - an->w);
	if (!t->snap || pos >= t->snap_n)
		return 0;
	return w->cum[k] - t->snap[pos * IW_N + k];
}

static __u64 since_g(struct an *an, struct task *t, int k)
{
	if (!t->snap)
		return 0;
	return an->cum[k] - t->snap[t->snap_n * IW_N + k];
}

/* ---- detections -------------------------------------------------------------------------- */

static bool lost_within(struct an *an, __u64 from, __u64 to)
{
	for (size_t i = 0; i < an->nlost; i++)
		if (an->lost_ts[i] >= from && an->lost_ts[i] <= to)
			return true;
	return false;
}

static void name_fn(struct an *an, __u64 fn, char *buf)
{
	buf[0] = '\0';
	if (fn && an->syms)
		ss_symbols_name(an->syms, fn, buf, SS_NAME_MAX);
}

static void name_task(struct an *an, __u64 id, char *buf)
{
	struct task *t = id ? task_get(an, id, false) : NULL;

	name_fn(an, t ? t->fn : 0, buf);
}

static struct ss_detection *add_det(struct an *an, enum ss_det_kind kind,
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
	d->worker = -1;
	d->uncertain = lost_within(an, start, end);
	return d;
}

/* How many other workers were idle / parked for most of the wait. */
static void count_idle_others(struct an *an, struct task *t, int except,
			      __u64 wait, unsigned *idle, unsigned *parked)
{
	*idle = *parked = 0;
	for (unsigned i = 0; i < an->nw; i++) {
		struct worker *w = &an->w[i];
		if (w->index == except)
			continue;
		if (2 * since_w(an, t, w, IW_IDLE) >= wait)
			(*idle)++;
		if (2 * since_w(an, t, w, IW_PARKED) >= wait)
			(*parked)++;
	}
}

/* The wait of task t ended at ts (polled by `poller`, or the trace ended:
 * poller NULL).  Classify the delay, maybe report a stall. */
static void wait_ended(struct an *an, struct task *t, struct worker *poller,
		       __u64 ts)
{
	struct ss_analysis *a = an->a;
	__u64 wait = ts > t->since ? ts - t->since : 0;
	struct worker *owner = t->owner >= 0 ? worker_find(an, t->owner) : NULL;
	__u64 others_idle = owner ? since_w(an, t, owner, IW_OTHERS_IDLE)
				  : since_g(an, t, IG_ANY_IDLE);
	__u64 offcpu = poller ? since_w(an, t, poller, IW_OFFCPU) : 0;
	enum ss_cause cause;

	if (poller && 2 * offcpu >= wait && wait)
		cause = SS_CAUSE_KERNEL_RUNQ;
	else if (t->dest == SS_DEST_LIFO && 2 * others_idle >= wait && wait)
		cause = SS_CAUSE_LIFO_PINNED;
	else if (2 * since_g(an, t, IG_ANY_IDLE) < wait || !wait)
		cause = SS_CAUSE_ALL_BUSY;
	else
		cause = SS_CAUSE_INJECT_LAG;	/* queued while others idled */
	a->delay_ns[cause] += wait;
	a->delays++;

	if (wait < an->threshold)
		return;
	enum ss_det_kind kind;
	if (t->dest == SS_DEST_LIFO) {
		if (others_idle < an->threshold)
			return;
		kind = SS_DET_STUCK_LIFO;
	} else {
		/* Counted from when others could take it: a task displaced
		 * from a LIFO slot was not runnable by anyone else before. */
		if (an->cum[IG_PARKED_NOSEARCH] - t->pns_queued < an->threshold)
			return;
		kind = SS_DET_RUNNABLE_WHILE_PARKED;
	}
	struct ss_detection *d = add_det(an, kind, t->since, ts);
	if (!d)
		return;
	d->worker = t->owner;
	d->task = t->id;
	d->idle_ns = others_idle;
	d->steal_ns = owner ? since_w(an, t, owner, IW_STOLEN) : 0;
	name_task(an, t->id, d->task_name);
	if (kind == SS_DET_STUCK_LIFO) {
		d->blocker_task = t->blocker;
		name_fn(an, t->blocker_fn, d->blocker_name);
	} else {
		d->blocker_task = owner && owner->base == SS_W_RUNNING ? owner->task : 0;
		name_task(an, d->blocker_task, d->blocker_name);
	}
	count_idle_others(an, t, t->owner, wait, &d->idle_workers, &d->parked_workers);
	if (!poller)
		d->uncertain = true;	/* still waiting when the trace ended */
}

/* ---- readiness (kernel view) ------------------------------------------------------------ */

static unsigned in_epoll_count(struct an *an)
{
	unsigned n = 0;
	for (unsigned i = 0; i < an->nw; i++)
		n += an->w[i].in_epoll;
	return n;
}

static void readiness_arrived(struct an *an, __u64 ts, __u64 sock)
{
	if (an->rd.active || in_epoll_count(an))
		return;	/* a worker in epoll_wait harvests it at once */
	struct pending_ready *rd = &an->rd;
	rd->active = true;
	rd->since = ts;
	rd->sock = sock;
	rd->last_owner = an->last_driver_owner;
	struct worker *o = an->last_driver_owner >= 0 ?
		worker_find(an, an->last_driver_owner) : NULL;
	rd->blocker = o && o->base == SS_W_RUNNING ? o->task : 0;
	rd->owner_stolen = o ? o->cum[IW_STOLEN] : 0;
	memcpy(rd->snap, an->cum, sizeof(an->cum));
	for (unsigned i = 0; i < an->nw; i++)
		rd->wsnap[i] = an->w[i].cum[IW_FUTEX];
	rd->nwsnap = an->nw;
}

static void readiness_harvested(struct an *an, __u64 ts, bool at_end)
{
	struct pending_ready *rd = &an->rd;

	if (!rd->active)
		return;
	rd->active = false;
	__u64 wait = ts - rd->since;
	an->a->delay_ns[SS_CAUSE_DRIVER_STARVED] += wait;
	an->a->delays++;
	__u64 futexed = an->cum[IG_FUTEX_PARKED] - rd->snap[IG_FUTEX_PARKED];
	if (wait < an->threshold || futexed < an->threshold)
		return;
	struct ss_detection *d = add_det(an, SS_DET_IDLE_BUT_PARKED, rd->since, ts);
	if (!d)
		return;
	d->worker = rd->last_owner;
	d->sock = rd->sock;
	d->blocker_task = rd->blocker;
	name_task(an, rd->blocker, d->blocker_name);
	/* Workers parked on a futex for most of the wait. */
	for (unsigned i = 0; i < rd->nwsnap && i < an->nw; i++)
		if (2 * (an->w[i].cum[IW_FUTEX] - rd->wsnap[i]) >= wait)
			d->parked_workers++;
	d->idle_workers = d->parked_workers;
	d->idle_ns = futexed;
	struct worker *o = rd->last_owner >= 0 ? worker_find(an, rd->last_owner) : NULL;
	d->steal_ns = o ? o->cum[IW_STOLEN] - rd->owner_stolen : 0;
	if (at_end)
		d->uncertain = true;
}

/* ---- applying one record ------------------------------------------------------------------- */

static void set_base(struct an *an, struct worker *w, enum ss_wstate s, __u64 ts)
{
	w->base = s;
	show(an, w, ts);
}

/* Kernel-only: a worker's state from what its thread is doing. */
static void kernel_state(struct an *an, struct worker *w, __u64 ts)
{
	if (an->have_runtime)
		return;
	enum ss_wstate s = w->in_epoll ? SS_W_PARKED_DRIVER
			 : w->in_futex ? SS_W_PARKED_FUTEX : SS_W_RUNNING;
	set_base(an, w, s, ts);
}

/* Forget every worker (their lanes and figures): the real ones are found
 * another way from here on. */
static void drop_workers(struct an *an)
{
	/* Their lanes end here (analyze.h): views close what they drew. */
	for (unsigned i = 0; i < an->nw && an->o->on_state; i++)
		if (an->w[i].shown != SS_W_UNKNOWN)
			an->o->on_state(an->o->arg, (unsigned)an->w[i].index, an->now,
					SS_W_UNKNOWN, 0);
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
	if (d < len && len - d < 4 && !worker_find(an, atoi(comm + d)))
		index = atoi(comm + d);
	while (worker_find(an, index))
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
		if (name_is_worker(an, an->w[i].comm))
			keep[nk++] = an->w[i];
	drop_workers(an);
	for (unsigned k = 0; k < nk; k++) {
		struct worker *w = worker_by_index(an, lane_for(an, keep[k].comm), keep[k].tid);
		if (!w)
			continue;
		int index = w->index;
		*w = keep[k];
		w->index = index;
		w->shown = SS_W_UNKNOWN;
		w->shown_since = 0;
		show(an, w, an->now);
	}
}

static void new_kernel_worker(struct an *an, __u32 tid, const char *comm)
{
	struct worker *w;

	if (an->have_runtime || !name_is_worker(an, comm))
		return;
	if ((w = worker_by_tid(an, tid))) {
		/* Taken for a worker by parking, now named as one. */
		if (an->by_parking)
			names_decide(an);
		return;
	}
	if (an->by_parking)
		names_decide(an);
	if ((w = worker_by_index(an, lane_for(an, comm), tid)))
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
static struct worker *parking_worker(struct an *an, __u32 tid)
{
	struct worker *w = worker_by_tid(an, tid);

	if (w || an->have_runtime || an->runtime_probes || tid == an->pid ||
	    (an->nw && !an->by_parking))
		return w;
	if ((w = worker_by_index(an, (int)an->nw, tid)))
		an->by_parking = true;
	return w;
}

static void apply_runtime(struct an *an, const struct ss_record *r)
{
	__u64 ts = r->ts;
	int wi = (int)(__s32)(__u32)r->args[0];
	struct worker *w;
	struct task *t;

	switch (r->type) {
	case SS_WSRT_WORKER_START:
		if ((w = worker_by_index(an, wi, (__u32)r->args[1]))) {
			w->tid = (__u32)r->args[1];
			for (unsigned i = 0; i < an->nnames; i++)
				if (an->names[i].tid == w->tid)
					memcpy(w->comm, an->names[i].comm, sizeof(w->comm));
			w->started = true;
			set_base(an, w, SS_W_IDLE, ts);
		}
		break;
	case SS_WSRT_WORKER_STOP:
		if ((w = worker_by_index(an, wi, r->tid)))
			set_base(an, w, SS_W_EXITED, ts);
		break;
	case SS_WSRT_SPAWN:
		if ((t = task_get(an, r->args[0], true)))
			t->fn = r->args[2];
		an->a->tasks_spawned++;
		break;
	case SS_WSRT_NOTIFY: {
		__u64 id = r->args[0];
		int waker = (int)(__s32)(__u32)r->args[1];
		int dest = (int)r->args[2];
		if (!(t = task_get(an, id, true)))
			break;
		struct worker *ww = waker >= 0 ? worker_by_index(an, waker, r->tid) : NULL;
		if (!t->queued) {
			t->queued = true;
			an->nqueued++;
			t->since = ts;
			snapshot(an, t);
			t->pns_queued = an->cum[IG_PARKED_NOSEARCH];
		} else if (t->dest == SS_DEST_LIFO && t->owner >= 0) {
			/* A move out of a LIFO slot (budget or displacement). */
			struct worker *o = worker_find(an, t->owner);
			if (o && o->lifo_task == id)
				o->lifo_task = 0;
			t->pns_queued = an->cum[IG_PARKED_NOSEARCH];
		}
		t->dest = dest;
		t->owner = dest == SS_DEST_INJECT ? -1 : waker;
		if (dest == SS_DEST_LIFO && ww) {
			if (ww->lifo_task && ww->lifo_task != id) {
				struct task *old = task_get(an, ww->lifo_task, false);
				if (old && old->queued && old->dest == SS_DEST_LIFO) {
					old->dest = SS_DEST_LOCAL;
					old->pns_queued = an->cum[IG_PARKED_NOSEARCH];
				}
			}
			ww->lifo_task = id;
			/* Pinned behind whatever its worker runs now: usually
			 * the task that notified it. */
			t->blocker = ww->base == SS_W_RUNNING ? ww->task : 0;
			struct task *b = t->blocker ? task_get(an, t->blocker, false) : NULL;
			t->blocker_fn = b ? b->fn : 0;
		}
		break;
	}
	case SS_WSRT_POLL_START:
		if (!(w = worker_by_index(an, wi, r->tid)))
			break;
		if (!w->tid)
			w->tid = r->tid;
		w->task = r->args[1];
		if (w->lifo_task == w->task)
			w->lifo_task = 0;
		if ((t = task_get(an, w->task, true)) && t->queued) {
			t->queued = false;
			an->nqueued--;
			wait_ended(an, t, w, ts);
		}
		an->a->polls++;
		set_base(an, w, SS_W_RUNNING, ts);
		break;
	case SS_WSRT_POLL_END:
		if (!(w = worker_by_index(an, wi, r->tid)))
			break;
		set_base(an, w, SS_W_IDLE, ts);
		if (r->args[2] == SS_RES_READY)
			task_free(an, r->args[1]);
		w->task = 0;
		break;
	case SS_WSRT_STEAL: {
		int victim = (int)(__s32)(__u32)r->args[1];
		struct worker *v = worker_find(an, victim);
		if (v && r->args[3] && v->lifo_task == r->args[3])
			v->lifo_task = 0;
		if (r->args[3] && (t = task_get(an, r->args[3], false))) {
			t->dest = SS_DEST_LOCAL;	/* out of the slot */
			t->pns_queued = an->cum[IG_PARKED_NOSEARCH];
		}
		break;
	}
	case SS_WSRT_PARK:
		if ((w = worker_by_index(an, wi, r->tid)))
			set_base(an, w, r->args[1] == SS_PARK_DRIVER ?
				 SS_W_PARKED_DRIVER : SS_W_PARKED_FUTEX, ts);
		break;
	case SS_WSRT_UNPARK:
		/* Woken by a notifier (wake_worker), it is searching for the
		 * runtime until its own search_end, whatever it says on the
		 * way (and however long the kernel keeps it from saying it). */
		if ((w = worker_by_index(an, wi, r->tid)) &&
		    w->base != SS_W_SEARCHING)
			set_base(an, w, SS_W_IDLE, ts);
		break;
	case SS_WSRT_WAKE_WORKER:
		/* The idle set counts the chosen worker as searching from
		 * here (as Tokio's does): woken, on its way to a CPU, no
		 * longer parked — however long the kernel takes to run it.
		 * A wakeup the runtime did not ask for (a spurious one)
		 * changes nothing until the worker's own probes say so. */
		if ((w = worker_find(an, (int)(__s32)(__u32)r->args[1])) &&
		    parked_state(w->base))
			set_base(an, w, SS_W_SEARCHING, ts);
		break;
	case SS_WSRT_SEARCH_START:
		if ((w = worker_by_index(an, wi, r->tid)) && w->base != SS_W_RUNNING)
			set_base(an, w, SS_W_SEARCHING, ts);
		break;
	case SS_WSRT_SEARCH_END:
		if ((w = worker_by_index(an, wi, r->tid)) && w->base == SS_W_SEARCHING)
			set_base(an, w, SS_W_IDLE, ts);
		break;
	default:
		break;
	}
}

static void apply_kernel(struct an *an, const struct ss_record *r)
{
	__u64 ts = r->ts;
	struct worker *w;

	switch (r->type) {
	case SS_COMM:
	case SS_THREAD_AT_ATTACH: {
		char comm[17] = "";
		unsigned k;
		memcpy(comm, r->args, 16);
		for (k = 0; k < an->nnames && an->names[k].tid != r->tid; k++)
			;
		if (k < sizeof(an->names) / sizeof(an->names[0])) {
			an->names[k].tid = r->tid;
			memcpy(an->names[k].comm, comm, sizeof(comm));
			if (k == an->nnames)
				an->nnames++;
		}
		if ((w = worker_by_tid(an, r->tid)))
			snprintf(w->comm, sizeof(w->comm), "%s", comm);
		new_kernel_worker(an, r->tid, comm);
		break;
	}
	case SS_SCHED_SWITCH: {
		__u32 prev = (__u32)r->args[0], next = (__u32)r->args[1];
		if ((w = worker_by_tid(an, prev))) {
			w->offcpu = r->args[2] == 0;	/* preempted, still runnable */
			show(an, w, ts);
		}
		if ((w = worker_by_tid(an, next))) {
			w->offcpu = false;
			show(an, w, ts);
		}
		break;
	}
	case SS_FUTEX_ENTER: {
		int cmd = (int)(r->args[1] & 0x7f);
		bool waits = cmd == 0 || cmd == 9;
		if ((w = waits ? parking_worker(an, r->tid) : worker_by_tid(an, r->tid))) {
			w->in_futex = waits;	/* FUTEX_WAIT, WAIT_BITSET */
			kernel_state(an, w, ts);
		}
		break;
	}
	case SS_FUTEX_EXIT:
		if ((w = worker_by_tid(an, r->tid))) {
			w->in_futex = false;
			kernel_state(an, w, ts);
		}
		break;
	case SS_EPOLL_ENTER:
		if ((w = parking_worker(an, r->tid))) {
			w->in_epoll = true;
			an->last_driver_owner = w->index;
			kernel_state(an, w, ts);
		}
		break;
	case SS_EPOLL_EXIT:
		if ((w = worker_by_tid(an, r->tid))) {
			w->in_epoll = false;
			/* Back from the wait, handling what it harvested: no
			 * longer parked, even before the unpark probe. */
			if (an->have_runtime && w->base == SS_W_PARKED_DRIVER)
				set_base(an, w, SS_W_IDLE, ts);
			if ((__s64)r->args[0] > 0)
				readiness_harvested(an, ts, false);
			kernel_state(an, w, ts);
		}
		break;
	case SS_SK_DATA_READY:
		readiness_arrived(an, ts, r->args[0]);
		break;
	case SS_VCPU_STEAL:
		/* The thread looked on-CPU, but its vCPU was not running: off
		 * the CPU for that long, within [since, ts] (charged now: the
		 * waits that matter span it). */
		if ((w = worker_by_tid(an, r->tid))) {
			w->cum[IW_OFFCPU] += r->args[0];
			w->cum[IW_STOLEN] += r->args[0];
			an->a->workers[w->index].steal_ns += r->args[0];
		}
		break;
	case SS_THREAD_EXIT:
		if ((w = worker_by_tid(an, r->tid)))
			set_base(an, w, SS_W_EXITED, ts);
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

static void apply(struct an *an, const struct ss_record *r)
{
	struct ss_analysis *a = an->a;
	size_t ndets = a->ndets;

	if (!a->start_ns)
		a->start_ns = r->ts;
	if (r->ts > a->end_ns)
		a->end_ns = r->ts;
	advance(an, r->ts);
	if (r->type >= 1 && r->type <= SS_WSRT_LAST) {
		if (!an->have_runtime) {
			/* The first runtime record: workers come from it,
			 * not from thread names. */
			drop_workers(an);
			an->have_runtime = true;
		}
		apply_runtime(an, r);
	} else {
		apply_kernel(an, r);
	}
	if (an->o->on_record) {
		struct worker *w = worker_by_tid(an, r->tid);
		an->o->on_record(an->o->arg, r, w ? w->index : -1);
	}
	if (an->o->on_detection)
		for (size_t i = ndets; i < a->ndets; i++)
			an->o->on_detection(an->o->arg, &a->dets[i]);
}

/* ---- the reorder heap --------------------------------------------------------------------- */

struct heap {
	struct ss_record *v;
	size_t n;
};

static bool before(const struct ss_record *a, const struct ss_record *b)
{
	return a->ts < b->ts;
}

static void heap_push(struct heap *h, const struct ss_record *r)
{
	size_t i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(r, &h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = *r;
}

static struct ss_record heap_pop(struct heap *h)
{
	struct ss_record top = h->v[0], last = h->v[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(&h->v[c + 1], &h->v[c]))
			c++;
		if (!before(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

/* ---- the entry points ----------------------------------------------------------------------- */

struct ss_analyzer {
	struct an an;
	struct heap h;
	struct ss_analyze_opts o;
	bool finished;
};

struct ss_analyzer *ss_analyzer_new(const struct ss_trace_meta *meta,
				    const struct ss_analyze_opts *o,
				    struct ss_analysis *out)
{
	struct ss_analyzer *z = calloc(1, sizeof(*z));
	struct an *an;

	memset(out, 0, sizeof(*out));
	if (!z)
		return NULL;
	z->h.v = malloc(REORDER_CAP * sizeof(*z->h.v));
	if (!z->h.v) {
		free(z);
		return NULL;
	}
	if (o)
		z->o = *o;
	an = &z->an;
	an->o = &z->o;
	an->a = out;
	an->threshold = z->o.threshold_ns ? z->o.threshold_ns : DEFAULT_THRESHOLD_NS;
	snprintf(an->patterns, sizeof(an->patterns), "%s",
		 z->o.worker_pattern ? z->o.worker_pattern : DEFAULT_PATTERNS);
	an->last_driver_owner = -1;
	an->syms = ss_symbols_new(meta);
	an->pid = meta->pid;
	an->meta_kernel_only = meta->flags & SS_FILE_KERNEL_ONLY;
	an->runtime_probes = meta->flags & SS_FILE_RUNTIME_PROBES;
	out->kernel_only = an->meta_kernel_only;
	return z;
}

int ss_analyzer_feed(struct ss_analyzer *z, const struct ss_record *r)
{
	if (z->an.err || z->finished)
		return z->an.err ? z->an.err : -EINVAL;
	z->an.a->events++;
	if (z->h.n == REORDER_CAP) {
		struct ss_record first = heap_pop(&z->h);
		apply(&z->an, &first);
	}
	heap_push(&z->h, r);
	return z->an.err;
}

int ss_analyzer_flush(struct ss_analyzer *z, __u64 upto)
{
	while (!z->an.err && z->h.n && z->h.v[0].ts <= upto) {
		struct ss_record first = heap_pop(&z->h);
		apply(&z->an, &first);
	}
	return z->an.err;
}

void ss_analyzer_sync(struct ss_analyzer *z)
{
	struct an *an = &z->an;
	struct ss_analysis *out = an->a;

	out->kernel_only = an->meta_kernel_only || !an->have_runtime;
	out->workers_by_parking = an->by_parking;
	out->nworkers = 0;
	for (unsigned i = 0; i < an->nw; i++) {
		struct worker *w = &an->w[i];
		struct ss_worker_info *wi = &out->workers[w->index];
		wi->index = w->index;
		wi->tid = w->tid;
		snprintf(wi->comm, sizeof(wi->comm), "%s", w->comm);
		if ((unsigned)w->index + 1 > out->nworkers)
			out->nworkers = (unsigned)w->index + 1;
		/* Close the open interval up to now (restarted from now). */
		if (w->shown_since && an->now > w->shown_since) {
			wi->state_ns[w->shown] += an->now - w->shown_since;
			w->shown_since = an->now;
		}
	}
}

int ss_analyzer_finish(struct ss_analyzer *z, __u64 trailer_lost)
{
	struct an *an = &z->an;
	struct ss_analysis *out = an->a;

	if (an->err || z->finished)
		return an->err ? an->err : -EINVAL;
	z->finished = true;
	while (z->h.n && !an->err) {
		struct ss_record first = heap_pop(&z->h);
		apply(an, &first);
	}
	if (an->err)
		return an->err;
	/* Still waiting when the trace ended: report up to the end — unless
	 * the runtime shut down under it (its worker, or for the inject
	 * queue every worker, exited): dropped at shutdown, not a stall. */
	size_t ndets = out->ndets;
	bool all_exited = an->nw > 0;
	for (unsigned i = 0; i < an->nw; i++)
		all_exited = all_exited && an->w[i].base == SS_W_EXITED;
	for (size_t i = 0; i < an->htcap; i++)
		for (struct task *t = an->ht[i]; t; t = t->next) {
			struct worker *o = t->owner >= 0 ? worker_find(an, t->owner) : NULL;
			if (!t->queued || (o ? o->base == SS_W_EXITED : all_exited))
				continue;
			wait_ended(an, t, NULL, out->end_ns);
		}
	readiness_harvested(an, out->end_ns, true);
	if (an->o->on_detection)
		for (size_t i = ndets; i < out->ndets; i++)
			an->o->on_detection(an->o->arg, &out->dets[i]);
	advance(an, out->end_ns);
	ss_analyzer_sync(z);
	if (!out->lost)
		out->lost = trailer_lost;
	/* Detections in time order (insertion sort: they are few). */
	for (size_t i = 1; i < out->ndets; i++) {
		struct ss_detection d = out->dets[i];
		size_t j = i;
		while (j > 0 && out->dets[j - 1].start_ns > d.start_ns) {
			out->dets[j] = out->dets[j - 1];
			j--;
		}
		out->dets[j] = d;
	}
	return an->err;
}

void ss_analyzer_free(struct ss_analyzer *z)
{
	struct an *an;

	if (!z)
		return;
	an = &z->an;
	for (size_t i = 0; i < an->htcap; i++)
		for (struct task *t = an->ht[i], *n; t; t = n) {
			n = t->next;
			free(t->snap);
			free(t);
		}
	free(an->ht);
	free(an->lost_ts);
	ss_symbols_free(an->syms);
	free(z->h.v);
	free(z);
}

int ss_analyze(struct ss_trace_reader *r, const struct ss_analyze_opts *o,
	       struct ss_analysis *out)
{
	struct ss_analyzer *z = ss_analyzer_new(ss_trace_meta(r), o, out);
	struct ss_record rec;
	int ret;

	if (!z)
		return -ENOMEM;
	while ((ret = ss_trace_next(r, &rec)) > 0)
		if ((ret = ss_analyzer_feed(z, &rec)) < 0)
			break;
	if (ret == 0)
		ret = ss_analyzer_finish(z, ss_trace_trailer(r) ?
					 ss_trace_trailer(r)->lost : 0);
	ss_analyzer_free(z);
	if (ret < 0)
		ss_analysis_free(out);
	return ret < 0 ? ret : 0;
}

void ss_analysis_free(struct ss_analysis *a)
{
	free(a->dets);
	a->dets = NULL;
	a->ndets = 0;
}

const char *ss_det_kind_name(enum ss_det_kind k)
{
	static const char *const n[] = { "stuck_lifo", "idle_but_parked",
					 "runnable_while_parked" };
	return k < SS_DET_NKINDS ? n[k] : "unknown";
}

const char *ss_cause_name(enum ss_cause c)
{
	static const char *const n[] = { "all_busy", "lifo_pinned",
					 "driver_starved", "inject_lag",
					 "kernel_runq" };
	return c < SS_NCAUSES ? n[c] : "unknown";
}

const char *ss_wstate_name(enum ss_wstate s)
{
	static const char *const n[] = { "unknown", "running", "searching",
					 "parked_driver", "parked_futex", "idle",
					 "offcpu", "exited" };
	return s < SS_W_NSTATES ? n[s] : "unknown";
}
