/* SPDX-License-Identifier: MIT */
/*
 * The analyzer as a library: the golden event streams (tests/golden/, *.txt)
 * read with mktrace's reader (tests/tools/golden_text.c, through the record
 * schema's parser) and fed to ss_analyzer_*() directly — no trace file, no
 * report, no JSON — with assertions on struct ss_analysis itself.
 *
 * tests/scenario/analyze.sh checks every golden's "# expect:" lines
 * through `report --json`; here: the detections of one golden per
 * detector and the edges (threshold, losses, kernel-only, ordering), and,
 * over every golden, that the analysis does not depend on the order the
 * records are fed in (the reorder heap's promise) or on how often the
 * analyzer is flushed and synced in between (what live does).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "golden_text.h"
#include "harness.h"

#define MS 1000000ULL

struct counter { enum ss_counter c; int worker; __u64 ts; __s64 v; };

struct run {
	struct mk_input in;
	struct ss_analysis a;
	struct counter ctr[256];
	unsigned nctr;
	struct ss_task_event tev[256];
	unsigned ntev;
	struct { __u32 tid; char name[17]; } names[16];
	unsigned nnames;
	struct ss_mark marks[64];
	unsigned nmarks;
};

static void on_counter(void *arg, enum ss_counter c, int worker, __u64 ts, __s64 v)
{
	struct run *r = arg;

	if (r->nctr < sizeof(r->ctr) / sizeof(r->ctr[0]))
		r->ctr[r->nctr++] = (struct counter){ c, worker, ts, v };
}

/* Keeps what it is told, and marks each wait as a view would (export's
 * flow): 1000 + the task's id, read back when the wait ends. */
static void on_task(void *arg, const struct ss_task_event *e)
{
	struct run *r = arg;

	if (r->ntev < sizeof(r->tev) / sizeof(r->tev[0]))
		r->tev[r->ntev++] = *e;
	if (e->change == SS_TASK_QUEUED && e->view)
		e->view[0] = 1000 + e->id;
}

static void on_name(void *arg, __u32 tid, __u64 ts, const char *name)
{
	struct run *r = arg;

	(void)ts;
	if (r->nnames < sizeof(r->names) / sizeof(r->names[0])) {
		r->names[r->nnames].tid = tid;
		snprintf(r->names[r->nnames++].name, 17, "%s", name);
	}
}

static void on_mark(void *arg, const struct ss_mark *m)
{
	struct run *r = arg;

	if (r->nmarks < sizeof(r->marks) / sizeof(r->marks[0]))
		r->marks[r->nmarks++] = *m;
}

/* The first mark of kind (a wait: of that wait), or NULL. */
static const struct ss_mark *marked_wait(const struct run *r, enum ss_mark_kind kind,
					 enum ss_wait_kind wait)
{
	for (unsigned k = 0; k < r->nmarks; k++)
		if (r->marks[k].kind == kind &&
		    (r->marks[k].wait == wait || (kind != SS_MARK_WAIT_BEGIN &&
						  kind != SS_MARK_WAIT_END)))
			return &r->marks[k];
	return NULL;
}
#define marked(r, kind) marked_wait(r, kind, 0)

/* The i-th event told of task id (0 the first), or NULL. */
static const struct ss_task_event *told(const struct run *r, __u64 id, unsigned i)
{
	for (unsigned k = 0; k < r->ntev; k++)
		if (r->tev[k].id == id && !i--)
			return &r->tev[k];
	return NULL;
}

enum feed { IN_ORDER, REVERSED, FLUSHED };

/* The golden NAME's records into r->in, r cleared. */
static void load(const char *name, struct run *r)
{
	char path[512];
	FILE *f;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, name);
	if (!(f = fopen(path, "r")))
		FAILF("%s: cannot open", path);
	mk_read(f, path, &r->in);
	fclose(f);
}

/* The golden NAME analyzed, its records fed as `how` says, then extra
 * (NULL: none). */
static void analyze_plus(const char *name, __u64 threshold_ns, enum feed how,
			 const struct ss_record *extra, struct run *r)
{
	struct ss_analyze_opts o = { .threshold_ns = threshold_ns,
				     .on_counter = on_counter, .on_task = on_task,
				     .on_name = on_name, .on_mark = on_mark, .arg = r };
	struct ss_analyzer *an;

	load(name, r);
	if (!(an = ss_analyzer_new(&r->in.meta, &o, &r->a)))
		FAILF("%s: ss_analyzer_new", name);
	for (size_t i = 0; i < r->in.nrecs; i++) {
		size_t k = how == REVERSED ? r->in.nrecs - 1 - i : i;

		ASSERT_GE(ss_analyzer_feed(an, &r->in.recs[k]), 0);
		if (how == FLUSHED && i % 3 == 2) {
			/* live's pattern: apply what is old enough, read. */
			ASSERT_GE(ss_analyzer_flush(an, r->in.recs[k].ts - 1 * MS), 0);
			ss_analyzer_sync(an);
		}
	}
	if (extra)
		ASSERT_GE(ss_analyzer_feed(an, extra), 0);
	ASSERT_EQ(ss_analyzer_finish(an, r->in.have_lost ? r->in.lost : r->in.lost_sum), 0);
	ss_analyzer_free(an);
}

static void analyze(const char *name, __u64 threshold_ns, enum feed how, struct run *r)
{
	analyze_plus(name, threshold_ns, how, NULL, r);
}

/* The one detection r found, which must be of kind. */
static const struct ss_detection *only_det(struct run *r, enum ss_det_kind kind)
{
	ASSERT_EQ(r->a.ndets, 1);
	ASSERT_EQ(r->a.dets[0].kind, kind);
	return &r->a.dets[0];
}

static void done(struct run *r)
{
	ss_analysis_free(&r->a);
	mk_input_free(&r->in);
}

/* d's start, in ms after the trace's first record, within tol ms. */
#define ASSERT_OFFSET_MS(r, d, ms, tol)                                        \
	do {                                                                   \
		ASSERT_GE((d)->start_ns + (tol) * MS, (r)->a.start_ns + (ms) * MS); \
		ASSERT_LE((d)->start_ns, (r)->a.start_ns + ((ms) + (tol)) * MS); \
	} while (0)
#define ASSERT_NEAR_MS(v, ms, tol)                                             \
	do {                                                                   \
		ASSERT_GE((v) + (tol) * MS, (ms) * MS);                        \
		ASSERT_LE((v), ((ms) + (tol)) * MS);                           \
	} while (0)

TEST(stuck_lifo_found_with_its_blocker_and_idle_workers)
{
	struct run r;
	const struct ss_detection *d;

	analyze("stuck_lifo.txt", 0, IN_ORDER, &r);
	d = only_det(&r, SS_DET_STUCK_LIFO);
	ASSERT_EQ(d->task, 2);
	ASSERT_EQ(d->holder, 1);
	ASSERT_EQ(d->blocker_task, 1);
	ASSERT_NEAR_MS(d->duration_ns, 200, 10);
	ASSERT_OFFSET_MS(&r, d, 10, 1);
	ASSERT_EQ(d->idle_workers, 1);
	ASSERT_EQ(d->parked_workers, 1);
	ASSERT_FALSE(d->uncertain);
	ASSERT_GE(r.a.delay_ns[SS_CAUSE_LIFO_PINNED], 190 * MS);
	ASSERT_LT(r.a.delay_ns[SS_CAUSE_ALL_BUSY], 1 * MS);
	ASSERT_GE(r.a.wasted_worker_ns, 190 * MS);
	ASSERT_EQ(r.a.nworkers, 2);
	ASSERT_EQ(r.a.lost, 0);
	ASSERT_FALSE(r.a.kernel_only);
	done(&r);
}

/* Tokio's uprobes attached (the runtime record the recorder writes as it
 * attaches them), before any of their records: tasks can be found —
 * watch's stallscope_stalls_findable says so from the start.  Without it,
 * kernel events only, they cannot. */
TEST(tokio_runtime_record_alone_makes_tasks_findable)
{
	struct ss_analyze_opts o = { 0 };
	struct run r;

	load("tokio_stuck_lifo.txt", &r);
	ASSERT_EQ(r.in.recs[0].type, SS_TOKIO_RUNTIME);
	for (int with = 0; with < 2; with++) {
		struct ss_analyzer *an = ss_analyzer_new(&r.in.meta, &o, &r.a);

		ASSERT_TRUE(an != NULL);
		if (with)
			ASSERT_GE(ss_analyzer_feed(an, &r.in.recs[0]), 0);
		ASSERT_EQ(ss_analyzer_finish(an, 0), 0);
		ss_analyzer_free(an);
		ASSERT_TRUE(r.a.kernel_only && !r.a.tokio);
		ASSERT_EQ(ss_analysis_findable(&r.a, SS_DET_STUCK_LIFO), with);
		ASSERT_EQ(ss_analysis_findable(&r.a, SS_DET_RUNNABLE_WHILE_PARKED), with);
		ASSERT_TRUE(ss_analysis_findable(&r.a, SS_DET_IDLE_BUT_PARKED));
		ss_analysis_free(&r.a);
	}
	mk_input_free(&r.in);
}

/* Tokio's own records (a real recording of examples/tokio-lifo): the
 * slot inferred, the wake and the poll on the same worker, the blocker
 * the task that made it runnable; 1.51's stealable slot: no slot. */
TEST(tokio_stuck_lifo_inferred_from_its_own_records)
{
	struct run r;
	const struct ss_detection *d;

	analyze("tokio_stuck_lifo.txt", 0, IN_ORDER, &r);
	ASSERT_TRUE(r.a.tokio);
	ASSERT_TRUE(r.a.kernel_only);
	ASSERT_EQ(r.a.nworkers, 2);
	d = only_det(&r, SS_DET_STUCK_LIFO);
	ASSERT_TRUE(d->stuck_lifo.inferred);
	ASSERT_TRUE(d->holder == 0 || d->holder == 1);
	ASSERT_NE(d->task, 0);
	ASSERT_NE(d->blocker_task, 0);
	ASSERT_NE(d->blocker_task, d->task);
	ASSERT_NEAR_MS(d->duration_ns, 100, 10);
	ASSERT_EQ(d->parked_workers, 1);
	ASSERT_FALSE(d->uncertain);
	done(&r);

	analyze("tokio_stuck_lifo_stealable.txt", 0, IN_ORDER, &r);
	only_det(&r, SS_DET_RUNNABLE_WHILE_PARKED);
	done(&r);

	analyze("tokio_yield_control.txt", 0, IN_ORDER, &r);
	ASSERT_TRUE(r.a.tokio);
	ASSERT_EQ(r.a.ndets, 0);
	ASSERT_LT(r.a.delay_ns[SS_CAUSE_LIFO_PINNED], 5 * MS);
	done(&r);
}

TEST(idle_but_parked_found_with_its_socket)
{
	struct run r;
	const struct ss_detection *d;

	analyze("idle_but_parked.txt", 0, IN_ORDER, &r);
	d = only_det(&r, SS_DET_IDLE_BUT_PARKED);
	ASSERT_EQ(d->holder, 0);
	ASSERT_EQ(d->blocker_task, 2);
	ASSERT_EQ(d->task, 0);
	ASSERT_EQ(d->idle_but_parked.sock_inode, 40960);
	ASSERT_NEAR_MS(d->duration_ns, 200, 10);
	ASSERT_OFFSET_MS(&r, d, 30, 1);
	ASSERT_EQ(d->parked_workers, 1);
	ASSERT_FALSE(d->uncertain);
	ASSERT_GE(r.a.delay_ns[SS_CAUSE_DRIVER_STARVED], 190 * MS);
	done(&r);
}

TEST(idle_but_parked_found_from_kernel_events_alone)
{
	struct run r;
	const struct ss_detection *d;

	analyze("idle_but_parked_kernel_only.txt", 0, IN_ORDER, &r);
	ASSERT_TRUE(r.a.kernel_only);
	d = only_det(&r, SS_DET_IDLE_BUT_PARKED);
	ASSERT_EQ(d->idle_but_parked.sock_inode, 40960);
	ASSERT_NEAR_MS(d->duration_ns, 200, 10);
	ASSERT_GE(d->parked_workers, 1);
	done(&r);
}

/* --kernel-only as recorded now: the waits from sched_switch, and the
 * harvest by a wait that did not sleep from ready_taken. */
TEST(idle_but_parked_found_from_sleeps_alone)
{
	struct run r;
	const struct ss_detection *d;

	analyze("idle_but_parked_sleep_parks.txt", 0, IN_ORDER, &r);
	ASSERT_TRUE(r.a.kernel_only);
	d = only_det(&r, SS_DET_IDLE_BUT_PARKED);
	ASSERT_EQ(d->idle_but_parked.sock_inode, 40960);
	ASSERT_NEAR_MS(d->duration_ns, 200, 1);
	ASSERT_EQ(d->holder, 0);
	ASSERT_EQ(d->parked_workers, 1);
	done(&r);
	/* Taken after 1 ms: a wait, not a stall. */
	analyze("idle_but_parked_sleep_parks_negative.txt", 0, IN_ORDER, &r);
	ASSERT_EQ(r.a.ndets, 0);
	ASSERT_EQ(r.a.delay_ns[SS_CAUSE_DRIVER_STARVED], 1021000);	/* arrived to taken */
	done(&r);
}

/* A worker preempted by a thread whose switches go unseen comes back
 * without a switch to say so: its own records say it runs (40 ms of
 * task 2), not 40 ms off-CPU until it next leaves its CPU. */
TEST(a_worker_back_unseen_is_running_by_its_own_records)
{
	struct run r;

	analyze("worker_back_unseen.txt", 0, IN_ORDER, &r);
	ASSERT_EQ(r.a.ndets, 0);
	ASSERT_EQ(r.a.nworkers, 2);
	ASSERT_EQ(r.a.workers[1].index, 1);
	ASSERT_LE(r.a.workers[1].state_ns[SS_W_OFFCPU], 1 * MS);
	ASSERT_GE(r.a.workers[1].state_ns[SS_W_RUNNING], 39 * MS);
	done(&r);
}

TEST(runnable_while_parked_found_in_the_inject_queue)
{
	struct run r;
	const struct ss_detection *d;

	analyze("runnable_while_parked.txt", 0, IN_ORDER, &r);
	d = only_det(&r, SS_DET_RUNNABLE_WHILE_PARKED);
	ASSERT_EQ(d->task, 2);
	ASSERT_EQ(d->holder, 1);
	ASSERT_NEAR_MS(d->duration_ns, 50, 2);
	ASSERT_OFFSET_MS(&r, d, 10, 1);
	ASSERT_GE(d->parked_workers, 1);
	ASSERT_GE(r.a.delay_ns[SS_CAUSE_INJECT_LAG], 45 * MS);
	done(&r);
}

TEST(threshold_decides_what_is_a_stall)
{
	struct run r;

	analyze("threshold.txt", 0, IN_ORDER, &r);	/* 0: the 10 ms default */
	ASSERT_EQ(r.a.ndets, 1);
	ASSERT_EQ(r.a.dets[0].task, 4);
	done(&r);
	analyze("threshold.txt", 5 * MS, IN_ORDER, &r);
	ASSERT_EQ(r.a.ndets, 2);
	ASSERT_EQ(r.a.dets[0].task, 2);	/* sorted by start */
	ASSERT_EQ(r.a.dets[1].task, 4);
	ASSERT_NEAR_MS(r.a.dets[0].duration_ns, 9, 0.5);
	ASSERT_NEAR_MS(r.a.dets[1].duration_ns, 11, 0.5);
	done(&r);
	analyze("threshold.txt", 12 * MS, IN_ORDER, &r);
	ASSERT_EQ(r.a.ndets, 0);
	done(&r);
}

TEST(losses_inside_a_stall_make_it_uncertain)
{
	struct run r;

	analyze("lost_in_stall.txt", 0, IN_ORDER, &r);
	ASSERT_EQ(r.a.ndets, 1);
	ASSERT_TRUE(r.a.dets[0].uncertain);
	ASSERT_EQ(r.a.lost, 3);
	done(&r);
}

/* Two analyses agree on everything the views and report read. */
static void assert_same(const char *name, const struct ss_analysis *x,
			const struct ss_analysis *y)
{
	if (x->ndets != y->ndets)
		FAILF("%s: %zu detections, then %zu", name, x->ndets, y->ndets);
	for (size_t i = 0; i < x->ndets; i++) {
		const struct ss_detection *a = &x->dets[i], *b = &y->dets[i];

		if (a->kind != b->kind || a->start_ns != b->start_ns ||
		    a->duration_ns != b->duration_ns || a->task != b->task ||
		    a->holder != b->holder || a->blocker_task != b->blocker_task ||
		    a->idle_workers != b->idle_workers ||
		    a->parked_workers != b->parked_workers || a->idle_ns != b->idle_ns ||
		    a->uncertain != b->uncertain ||
		    (a->kind == SS_DET_IDLE_BUT_PARKED &&
		     a->idle_but_parked.sock_inode != b->idle_but_parked.sock_inode))
			FAILF("%s: detection %zu differs", name, i);
	}
	if (memcmp(x->delay_ns, y->delay_ns, sizeof(x->delay_ns)) ||
	    x->wasted_worker_ns != y->wasted_worker_ns || x->nworkers != y->nworkers ||
	    x->lost != y->lost || x->events != y->events || x->polls != y->polls)
		FAILF("%s: totals differ", name);
	for (unsigned w = 0; w < x->nworkers; w++)
		if (memcmp(x->workers[w].state_ns, y->workers[w].state_ns,
			   sizeof(x->workers[w].state_ns)))
			FAILF("%s: worker %u's state times differ", name, w);
}

/* Whether two records share a time (their order is then the feed's). */
static bool has_ties(const struct mk_input *in)
{
	for (size_t i = 0; i < in->nrecs; i++)
		for (size_t j = i + 1; j < in->nrecs; j++)
			if (in->recs[i].ts == in->recs[j].ts)
				return true;
	return false;
}

TEST(every_golden_the_same_in_any_feed_order_and_flush_pattern)
{
	DIR *d = opendir(GOLDEN_DIR);
	struct dirent *e;
	unsigned n = 0, reversed = 0;

	if (!d)
		FAILF("%s: cannot open", GOLDEN_DIR);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		struct run base, other;

		if (len < 5 || strcmp(e->d_name + len - 4, ".txt"))
			continue;
		analyze(e->d_name, 0, IN_ORDER, &base);
		/* Within the reorder window (every golden fits in it), the
		 * order records arrive in does not matter. */
		if (!has_ties(&base.in)) {
			analyze(e->d_name, 0, REVERSED, &other);
			assert_same(e->d_name, &base.a, &other.a);
			done(&other);
			reversed++;
		}
		analyze(e->d_name, 0, FLUSHED, &other);
		assert_same(e->d_name, &base.a, &other.a);
		done(&other);
		/* Detections sorted by start, inside the trace. */
		for (size_t i = 0; i < base.a.ndets; i++) {
			const struct ss_detection *x = &base.a.dets[i];

			ASSERT_GE(x->start_ns, base.a.start_ns);
			ASSERT_LE(x->start_ns + x->duration_ns, base.a.end_ns);
			if (i)
				ASSERT_GE(x->start_ns, base.a.dets[i - 1].start_ns);
		}
		done(&base);
		n++;
	}
	closedir(d);
	ASSERT_GE(n, 25);	/* the goldens were found */
	ASSERT_GE(reversed, n / 2);
}

/* The first counter of kind c (on worker w) at or after ts: its value. */
static __s64 counter_at(const struct run *r, enum ss_counter c, int w, __u64 ts)
{
	for (unsigned i = 0; i < r->nctr; i++)
		if (r->ctr[i].c == c && r->ctr[i].worker == w && r->ctr[i].ts >= ts)
			return r->ctr[i].v;
	FAILF("no counter %d on worker %d from %llu", c, w, (unsigned long long)ts);
	return -1;
}

TEST(queues_counted_from_the_probes_and_readiness)
{
	struct run r;

	/* Task 2 woken into worker 1's LIFO slot at 1010.001 ms, polled from
	 * it at 1210.005: the slot full, then empty. */
	analyze("stuck_lifo.txt", 0, IN_ORDER, &r);
	ASSERT_EQ(counter_at(&r, SS_CTR_LIFO, 1, 1010001000ULL), 1);
	ASSERT_EQ(counter_at(&r, SS_CTR_LIFO, 1, 1010001001ULL), 0);
	for (unsigned i = 0; i < r.nctr; i++)
		if (r.ctr[i].c == SS_CTR_LIFO && r.ctr[i].v == 0)
			ASSERT_EQ(r.ctr[i].ts, 1210005000ULL);
	done(&r);
	/* Readiness at 1010 ms, worker 0 in epoll_wait: taken at once, none
	 * pending.  At 1030, nobody in epoll_wait: pending until the wait
	 * that returns it (1230.010). */
	analyze("idle_but_parked.txt", 0, IN_ORDER, &r);
	for (unsigned i = 0; i < r.nctr; i++) {
		if (r.ctr[i].c != SS_CTR_READINESS_PENDING)
			continue;
		ASSERT_EQ(r.ctr[i].ts, 1030000000ULL);	/* the first */
		ASSERT_EQ(r.ctr[i].v, 1);
		break;
	}
	ASSERT_EQ(counter_at(&r, SS_CTR_READINESS_PENDING, -1, 1030000001ULL), 0);
	ASSERT_EQ(counter_at(&r, SS_CTR_READINESS_PENDING, -1, 1230010000ULL), 0);
	done(&r);
}

/* What becomes of each wait, as a view hears it (on_task): the stream
 * export draws its notify -> poll flows from. */
TEST(task_waits_told_from_notify_to_poll_cancel_or_the_end)
{
	const struct ss_task_event *e;
	struct run r;

	/* Task 1 woken into the inject queue from the main thread, polled by
	 * worker 1; task 2 woken by worker 1 into its LIFO slot, polled 200
	 * ms later; the view's words come back when the wait ends. */
	analyze("stuck_lifo.txt", 0, IN_ORDER, &r);
	ASSERT_TRUE((e = told(&r, 1, 0)) != NULL);
	ASSERT_EQ(e->change, SS_TASK_QUEUED);
	ASSERT_EQ(e->worker, -1);
	ASSERT_EQ(e->fn, 0x401000);
	/* The notify's own words, and its thread. */
	ASSERT_EQ(e->tid, 100);
	ASSERT_EQ(e->dest, SS_DEST_INJECT);
	ASSERT_EQ(e->waker, -1);
	ASSERT_EQ(e->displaced, 0);
	ASSERT_TRUE((e = told(&r, 1, 1)) != NULL);
	ASSERT_EQ(e->change, SS_TASK_POLLED);
	ASSERT_EQ(e->worker, 1);
	ASSERT_EQ(e->poller, 1);
	ASSERT_EQ(e->src, SS_SRC_INJECT);
	ASSERT_TRUE(e->waited);
	ASSERT_EQ(e->words[0], 1001);
	ASSERT_TRUE((e = told(&r, 2, 0)) != NULL);
	ASSERT_EQ(e->change, SS_TASK_QUEUED);
	ASSERT_EQ(e->ts, 1010001000ULL);
	ASSERT_EQ(e->worker, 1);
	ASSERT_EQ(e->tid, 102);
	ASSERT_EQ(e->dest, SS_DEST_LIFO);
	ASSERT_EQ(e->waker, 1);
	ASSERT_TRUE((e = told(&r, 2, 1)) != NULL);
	ASSERT_EQ(e->change, SS_TASK_POLLED);
	ASSERT_EQ(e->ts, 1210005000ULL);
	ASSERT_EQ(e->words[0], 1002);
	for (unsigned i = 0; i < r.ntev; i++)
		ASSERT_NE(r.tev[i].change, SS_TASK_UNPOLLED);
	done(&r);

	/* Task 2 woken just before the runtime shuts down, never polled:
	 * still waiting at the end ... */
	analyze("queued_at_shutdown.txt", 0, IN_ORDER, &r);
	ASSERT_TRUE((e = told(&r, 2, 1)) != NULL);
	ASSERT_EQ(e->change, SS_TASK_UNPOLLED);
	ASSERT_EQ(e->ts, r.a.end_ns);
	ASSERT_EQ(e->words[0], 1002);
	ASSERT_TRUE(e->view == NULL);
	__u64 end = r.a.end_ns;
	done(&r);

	/* ... unless the runtime drops it (task_cancel): its wait ends there,
	 * unpolled, and the task is gone. */
	struct ss_record cancel = { .ts = end - 50 * MS, .type = SS_WSRT_TASK_CANCEL,
				    .tid = 102, .cpu = 1, .args = { 2 } };
	analyze_plus("queued_at_shutdown.txt", 0, IN_ORDER, &cancel, &r);
	ASSERT_TRUE((e = told(&r, 2, 1)) != NULL);
	ASSERT_EQ(e->change, SS_TASK_CANCELLED);
	ASSERT_EQ(e->how, SS_UNQUEUED_CANCELLED);
	ASSERT_EQ(e->tid, 102);
	ASSERT_EQ(e->ts, end - 50 * MS);
	ASSERT_EQ(e->words[0], 1002);
	ASSERT_TRUE(told(&r, 2, 2) == NULL);
	ASSERT_EQ(r.a.ndets, 0);
	done(&r);

	/* ... or a poll of it ends done (woken during the poll that
	 * finished it): the poll's end, with its result, then the wait
	 * ends unpolled, the poll's doing. */
	struct ss_record done_ = { .ts = end - 50 * MS, .type = SS_WSRT_POLL_END,
				   .tid = 102, .cpu = 1, .args = { 1, 2, SS_RES_READY } };
	analyze_plus("queued_at_shutdown.txt", 0, IN_ORDER, &done_, &r);
	ASSERT_TRUE((e = told(&r, 2, 1)) != NULL);
	ASSERT_EQ(e->change, SS_TASK_POLL_ENDED);
	ASSERT_EQ(e->result, SS_RES_READY);
	ASSERT_EQ(e->worker, 1);
	ASSERT_TRUE((e = told(&r, 2, 2)) != NULL);
	ASSERT_EQ(e->change, SS_TASK_CANCELLED);
	ASSERT_EQ(e->how, SS_UNQUEUED_DONE);
	done(&r);

	/* Tokio's notifies name neither queue nor worker: the event says
	 * so (the analyzer's own inference stays its own), with the
	 * notifier's worker as the analyzer knows it; a poll from the main
	 * thread (block_on) ends a wait unpolled, outside the workers. */
	struct ss_record outside = { .ts = 37987344500000ULL, .type = SS_WSRT_POLL_START,
				     .tid = 16976, .cpu = 1, .flags = SS_F_TOKIO,
				     .args = { (__u64)-1, 94147429343408ULL, 0 } };
	analyze_plus("tokio_stuck_lifo.txt", 0, IN_ORDER, &outside, &r);
	ASSERT_TRUE((e = told(&r, 94147429343408ULL, 0)) != NULL);
	ASSERT_EQ(e->change, SS_TASK_QUEUED);
	ASSERT_EQ(e->tid, 16976);
	ASSERT_EQ(e->dest, SS_DEST_UNKNOWN);
	ASSERT_EQ(e->waker, -1);
	ASSERT_TRUE((e = told(&r, 94147429343408ULL, 1)) != NULL);
	ASSERT_EQ(e->change, SS_TASK_CANCELLED);
	ASSERT_EQ(e->how, SS_UNQUEUED_OUTSIDE);
	ASSERT_EQ(e->tid, 16976);
	ASSERT_TRUE((e = told(&r, 94147429343280ULL, 1)) != NULL);
	ASSERT_EQ(e->change, SS_TASK_POLLED);	/* on worker thread 16977 */
	ASSERT_EQ(e->poller, -1);		/* not named by Tokio's probe */
	ASSERT_TRUE(e->worker >= 0);
	ASSERT_TRUE((e = told(&r, 94147429343280ULL, 2)) != NULL);
	ASSERT_EQ(e->change, SS_TASK_POLL_ENDED);
	ASSERT_TRUE((e = told(&r, 94147429343280ULL, 3)) != NULL);
	ASSERT_EQ(e->change, SS_TASK_QUEUED);	/* from worker thread 16977 */
	ASSERT_EQ(e->tid, 16977);
	ASSERT_TRUE(e->worker >= 0);
	ASSERT_EQ(e->waker, -1);
	done(&r);
}

TEST(names_and_marks_told_for_the_views)
{
	const struct ss_mark *m;
	struct run r;

	/* Threads named as their comm records say; the main thread's
	 * block_on park and its futex waits (not a worker's: those are
	 * states) waits, its exit; its wake_worker. */
	analyze("stuck_lifo.txt", 0, IN_ORDER, &r);
	ASSERT_EQ(r.nnames, 3);
	ASSERT_EQ(r.names[1].tid, 101);
	ASSERT_STREQ(r.names[1].name, "wsrt-w0");
	ASSERT_TRUE((m = marked_wait(&r, SS_MARK_WAIT_BEGIN, SS_WAIT_PARK)) != NULL);
	ASSERT_EQ(m->tid, 100);
	ASSERT_EQ(m->worker, -1);
	ASSERT_EQ(m->ts, 1001100000ULL);
	ASSERT_TRUE((m = marked_wait(&r, SS_MARK_WAIT_END, SS_WAIT_PARK)) != NULL);
	ASSERT_EQ(m->ts, 1210060000ULL);
	ASSERT_TRUE((m = marked_wait(&r, SS_MARK_WAIT_BEGIN, SS_WAIT_FUTEX)) != NULL);
	ASSERT_EQ(m->ts, 1001105000ULL);	/* a wait; the wakes before are not */
	ASSERT_TRUE((m = marked(&r, SS_MARK_WAKE)) != NULL);
	ASSERT_EQ(m->worker, -1);
	ASSERT_EQ(m->wake.target, 1);
	ASSERT_TRUE((m = marked(&r, SS_MARK_EXIT)) != NULL);
	ASSERT_EQ(m->ts, 1212000000ULL);
	for (unsigned i = 0; i < r.nmarks; i++)
		ASSERT_EQ(r.marks[i].tid, 100);
	done(&r);

	/* The shim's pthread_setname_np names the thread it says; a call
	 * that failed names nothing. */
	struct ss_record named = { .ts = 1211100000ULL, .type = SS_SHIM_THREAD_NAME,
				   .tid = 100, .args = { 0, 0, 103, 0 } };
	memcpy(named.args, "tp-worker", 10);
	analyze_plus("stuck_lifo.txt", 0, IN_ORDER, &named, &r);
	ASSERT_EQ(r.nnames, 4);
	ASSERT_EQ(r.names[3].tid, 103);
	ASSERT_STREQ(r.names[3].name, "tp-worker");
	done(&r);
	named.args[3] = (__u64)-22;
	analyze_plus("stuck_lifo.txt", 0, IN_ORDER, &named, &r);
	ASSERT_EQ(r.nnames, 3);
	done(&r);

	/* Events lost: where, how many. */
	analyze("lost_in_stall.txt", 0, IN_ORDER, &r);
	ASSERT_TRUE((m = marked(&r, SS_MARK_LOST)) != NULL);
	ASSERT_EQ(m->lost.cpu, 1);
	ASSERT_EQ(m->lost.count, 3);
	ASSERT_EQ(m->ts, 1100000000ULL);
	done(&r);

	/* A worker's wake_worker: from worker 0's thread, for worker 1. */
	analyze("idle_but_parked_negative.txt", 0, IN_ORDER, &r);
	ASSERT_TRUE((m = marked(&r, SS_MARK_WAKE)) != NULL);
	ASSERT_EQ(m->tid, 101);
	ASSERT_EQ(m->worker, 0);
	ASSERT_EQ(m->wake.target, 1);
	done(&r);
}
