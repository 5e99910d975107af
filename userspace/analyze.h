/* SPDX-License-Identifier: MIT */
/*
 * The analyzer: rebuilds per-worker timelines from a trace and finds the
 * stalls (DESIGN.md, "The analyzer").  Library code: returns 0 / -errno,
 * never prints.  Every subcommand that reads a trace's meaning (report,
 * check, timeline, demo, export, live) goes through ss_analyze().
 *
 * Streaming: records are put back in time order through a bounded reorder
 * window, state is kept per worker and per live task, so memory grows with
 * workers and live tasks, never with the trace's length.
 */
#ifndef STALLSCOPE_ANALYZE_H
#define STALLSCOPE_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "trace.h"

#define SS_MAX_WORKERS 256
#define SS_NAME_MAX 64

/* What a worker is doing, as the timeline shows it. */
enum ss_wstate {
	SS_W_UNKNOWN = 0,	/* before its first event */
	SS_W_RUNNING,		/* polling a task (task is set) */
	SS_W_SEARCHING,		/* looking for work to steal */
	SS_W_PARKED_DRIVER,	/* asleep in epoll_wait: holds the I/O driver */
	SS_W_PARKED_FUTEX,	/* asleep on its futex */
	SS_W_IDLE,		/* between polls, not parked (scheduling) */
	SS_W_OFFCPU,		/* runnable but not on a CPU (kernel) */
	SS_W_EXITED,
	SS_W_NSTATES
};

/* The detections, a line each: the kind and its detector, the file
 * userspace/detect_ID.c (DESIGN.md and docs/analyzer.md define them).  A
 * new detection is its line here, its file and its golden streams. */
#define SS_DETECTIONS(X)                                                     \
	X(SS_DET_STUCK_LIFO, stuck_lifo)                                     \
	X(SS_DET_IDLE_BUT_PARKED, idle_but_parked)                           \
	X(SS_DET_RUNNABLE_WHILE_PARKED, runnable_while_parked)

enum ss_det_kind {
#define SS_DET_KIND_(kind, id) kind,
	SS_DETECTIONS(SS_DET_KIND_)
#undef SS_DET_KIND_
	SS_DET_NKINDS
};

/* Why a wake -> poll delay lasted (DESIGN.md). */
enum ss_cause {
	SS_CAUSE_ALL_BUSY = 0,	/* every worker was running something */
	SS_CAUSE_LIFO_PINNED,	/* in a LIFO slot while others idled */
	SS_CAUSE_DRIVER_STARVED,/* readiness waited: nobody in epoll_wait */
	SS_CAUSE_INJECT_LAG,	/* in the inject queue while others idled */
	SS_CAUSE_KERNEL_RUNQ,	/* the worker was runnable but off-CPU */
	SS_NCAUSES
};

/*
 * A stall: a header every kind fills, then its kind's own fields.  What
 * waited was a task (stuck_lifo, runnable_while_parked) or socket
 * readiness (idle_but_parked); in every kind it waited behind one worker
 * that held it, the holder, busy running the blocker.  report --json
 * names the holder "worker" (docs/analyzer.md).
 */
struct ss_detection {
	enum ss_det_kind kind;
	__u64 start_ns, duration_ns;	/* absolute CLOCK_MONOTONIC ns */
	int holder;		/* the worker that held what waited: whose LIFO
				 * slot or local queue the task sat in, or the
				 * I/O driver's last owner; -1: none (the
				 * inject queue) or not known */
	__u64 blocker_task;	/* what the holder was running (0 unknown) */
	char blocker_name[SS_NAME_MAX];
	__u64 steal_ns;		/* of the stall, what the hypervisor stole
				 * from the holder's vCPU (vcpu_steal) */
	unsigned idle_workers;	/* workers other than the holder idle for
				 * most of it (idle_but_parked: on a futex) */
	unsigned parked_workers;/* ... of which parked (futex or driver) */
	__u64 idle_ns;		/* time at least one of the others was idle
				 * (idle_but_parked: on a futex) */
	bool uncertain;		/* lost events inside, or still going on when
				 * the trace ended: may be wrong */
	__u64 task;		/* the task that waited (0: readiness) */
	char task_name[SS_NAME_MAX];
	union {			/* each kind's own */
		struct {
			bool inferred;	/* the slot is inferred from Tokio's
					 * rules (its own records, not a
					 * runtime's probe: docs/tokio.md) */
		} stuck_lifo;
		struct {
			__u64 sock_inode;	/* the socket, 0 if not known */
		} idle_but_parked;
	};
};

/* A detection's own fields, one at a time (ss_det_fields, present.h). */
typedef void ss_det_put_fn(void *arg, const char *name, __u64 v);

struct ss_worker_info {
	int index;		/* worker index (kernel-only: 0.. by first seen) */
	__u32 tid;
	char comm[17];
	__u64 state_ns[SS_W_NSTATES];	/* time spent in each state */
	__u64 steal_ns;			/* vCPU time the hypervisor stole */
};

struct ss_analysis {
	__u64 start_ns, end_ns;		/* first and last record */
	__u64 events, lost;
	bool kernel_only;		/* no runtime records in the trace */
	bool tokio;			/* ... but Tokio's own (record --tokio) */
	bool workers_by_parking;	/* kernel-only, no name matched: the
					 * workers are threads that park */
	bool no_readiness;		/* recorded --no-readiness: no readiness
					 * in it, so no idle_but_parked */
	bool runtime_probes;		/* the runtime's (wsrt's) probes, or
					 * Tokio's uprobes, were attached:
					 * tasks, before any is seen */
	unsigned nworkers;
	struct ss_worker_info workers[SS_MAX_WORKERS];
	__u64 wasted_worker_ns;
	__u64 delay_ns[SS_NCAUSES];	/* summed wake -> poll delays by cause */
	__u64 delays;			/* how many were classified */
	__u64 tasks_spawned, polls;
	struct ss_detection *dets;	/* sorted by start */
	size_t ndets;
};

/* Called for every worker state change, in time order (the timeline,
 * Perfetto and live views draw from it).  task: what it runs (RUNNING).
 * When the analyzer forgets the workers it had (kernel-only workers
 * replaced by the runtime's own at its first probe, or by threads with
 * matching names), each of them first goes to SS_W_UNKNOWN: its index
 * may be another thread from then on. */
typedef void (*ss_state_fn)(void *arg, unsigned worker, __u64 ts,
			    enum ss_wstate state, __u64 task);
/* The end of each record's step, in time order: the analyzer has applied
 * it and told what it caused (states, task changes, names); its marks,
 * counters and detections follow.  What a view needs of the record is
 * here, not the record: its time and thread, the worker that thread is,
 * and the thread a worker_start names. */
struct ss_step {
	__u64 ts;
	__u32 tid;		/* the thread the record is about */
	int worker;		/* tid's worker (-1: not a worker) */
	int started;		/* a worker_start: the worker it names (-1:
				 * none, or not a worker_start) ... */
	__u32 started_tid;	/* ... and its thread (0: not named) */
};
typedef void (*ss_step_fn)(void *arg, const struct ss_step *s);
/* Called once per detection, when its wait ends (so in order of end
 * time, not start).  Copy what is needed: the array it lives in grows. */
typedef void (*ss_detection_fn)(void *arg, const struct ss_detection *d);

/* What the queues hold, derived from the runtime's probes (docs/probes.md)
 * and the kernel's epoll and readiness records: called after on_step
 * for the record that changed it, before its detections. */
enum ss_counter {
	SS_CTR_LOCAL_DEPTH,	/* worker's local queue: notify local +1, a
				 * task displaced from the LIFO slot +1, poll
				 * from local -1, overflow -count, inject_pop
				 * +count-1, steal: the victim -count (less its
				 * LIFO task), the thief +count-1; clamped at 0 */
	SS_CTR_LIFO,		/* worker's LIFO slot: 1 occupied, 0 empty */
	SS_CTR_INJECT_DEPTH,	/* the inject queue: the runtime's own figure
				 * (worker -1) */
	SS_CTR_READINESS_PENDING, /* sk_data_ready while no worker was in
				 * epoll_wait, not yet harvested (worker -1) */
};
typedef void (*ss_counter_fn)(void *arg, enum ss_counter c, int worker,
			      __u64 ts, __s64 value);

/*
 * What becomes of a task's wait (from the notify that queues it to the
 * poll that ends it), as the analyzer decides it: called in time order,
 * while the record that causes it is applied (before its on_step).
 * Export draws its notifies, polls and notify -> poll flows from it.
 */
enum ss_task_change {
	SS_TASK_QUEUED,		/* notified while not waiting: a wait begins */
	SS_TASK_MOVED,		/* notified again while waiting (a budget
				 * requeue, a LIFO slot's displaced task) */
	SS_TASK_POLLED,		/* a worker polls it (waited: its wait ends
				 * here); its RUNNING state comes with it */
	SS_TASK_CANCELLED,	/* its wait ended unpolled: dropped at
				 * shutdown (task_cancel), done in the poll
				 * it was woken during, or polled outside the
				 * workers (Tokio's block_on, blocking pool) */
	SS_TASK_UNPOLLED,	/* still waiting when the trace ended (from
				 * ss_analyzer_finish, after the last record) */
	SS_TASK_POLL_ENDED,	/* a poll of it ended (its worker's state
				 * change comes with it) */
};
/* How a wait ended unpolled (SS_TASK_CANCELLED). */
enum ss_task_unqueued {
	SS_UNQUEUED_CANCELLED,	/* dropped at shutdown (task_cancel) */
	SS_UNQUEUED_DONE,	/* done in the poll it was woken during */
	SS_UNQUEUED_OUTSIDE,	/* polled outside the workers */
};
#define SS_TASK_VIEW_WORDS 3
struct ss_task_event {
	enum ss_task_change change;
	__u64 ts;
	__u64 id, fn;		/* fn: its poll function (0: not known) */
	__u32 tid;		/* the thread whose record made the change
				 * (0: none, UNPOLLED at the trace's end) */
	int worker;		/* POLLED: the poller; QUEUED, MOVED: the
				 * notifier (-1: not a worker); else -1 */
	bool waited;		/* POLLED: a wait ended (it was queued) */
	/* QUEUED, MOVED: what the notify itself named — the queue
	 * (SS_DEST_*), the notifying worker (-1: none) and the task it
	 * displaced from a LIFO slot (0: none).  Tokio's probe names
	 * neither queue nor worker (SS_DEST_UNKNOWN, -1): what the
	 * analyzer infers of them is its own (stuck_lifo), not told. */
	__u32 dest;
	int waker;
	__u64 displaced;
	/* POLLED: what the poll_start named — the queue it came from
	 * (SS_SRC_*) and the polling worker (-1: none, as Tokio's says);
	 * POLL_ENDED: the poll_end's result (SS_RES_*). */
	__u32 src;
	int poller;
	__u32 result;
	enum ss_task_unqueued how;	/* CANCELLED */
	/* Words the analyzer keeps with the task's wait for the view (the
	 * export: its flow), zero when the wait begins; writable through
	 * view until this record's on_step returns, NULL where the task
	 * is gone (CANCELLED); words is their value. */
	__u64 *view;
	__u64 words[SS_TASK_VIEW_WORDS];
};
typedef void (*ss_task_fn)(void *arg, const struct ss_task_event *e);

/* A thread named (the kernel's comm at a rename or at attach, or the
 * shim's thread_name): name is as recorded (up to 16 bytes, not
 * sanitized).  Called while the record is applied (before its
 * on_step: the states it causes may show the thread by that name). */
typedef void (*ss_name_fn)(void *arg, __u32 tid, __u64 ts, const char *name);

/*
 * What a record says happened that views show as a mark rather than a
 * state: an instant (a steal, a wake, events lost) or a wait of a thread
 * that is not a worker (the main thread's block_on, its futex and epoll
 * waits).  Called after the record's on_step, before its counters.
 */
enum ss_mark_kind {
	SS_MARK_STEAL,		/* steal: thief took count tasks from victim
				 * (lifo_task: the LIFO slot's among them) */
	SS_MARK_WAKE,		/* the thread asked worker target to wake */
	SS_MARK_WAIT_BEGIN,	/* a thread that is not a worker: wait */
	SS_MARK_WAIT_END,	/* (a futex or epoll one that began before
				 * the trace, or none: ends nothing) */
	SS_MARK_EXIT,		/* a thread that is not a worker exits */
	SS_MARK_LOST,		/* lost: count events lost on cpu */
};
enum ss_wait_kind {
	SS_WAIT_PARK_DRIVER,	/* parked on the I/O driver (block_on) */
	SS_WAIT_PARK,		/* parked on its own (block_on) */
	SS_WAIT_FUTEX,		/* FUTEX_WAIT, WAIT_BITSET */
	SS_WAIT_EPOLL,
};
struct ss_mark {
	enum ss_mark_kind kind;
	__u64 ts;
	__u32 tid;		/* the thread it happened on */
	int worker;		/* tid's worker index (-1: not a worker) */
	union {
		struct { int thief, victim; __u64 count, lifo_task; } steal;
		struct { int target; } wake;
		enum ss_wait_kind wait;		/* WAIT_BEGIN, WAIT_END */
		struct { __u32 cpu; __u64 count; } lost;
	};
};
typedef void (*ss_mark_fn)(void *arg, const struct ss_mark *m);

struct ss_analyze_opts {
	__u64 threshold_ns;		/* 0: 10 ms */
	const char *worker_pattern;	/* kernel-only: fnmatch pattern(s),
					 * comma-separated; NULL: defaults */
	ss_state_fn on_state;		/* each may be NULL */
	ss_step_fn on_step;
	ss_detection_fn on_detection;
	ss_counter_fn on_counter;
	ss_task_fn on_task;
	ss_name_fn on_name;
	ss_mark_fn on_mark;
	/* ss_analyze_path() only: the file is open (its header read, its
	 * span known if the trailer has it), no record read yet; < 0 stops
	 * (it may write the message into the caller's err first). */
	int (*on_open)(void *arg, struct ss_trace_reader *r);
	void *arg;
};

/* Reads r to the end.  On a bad file returns < 0 (the reader's message in
 * ss_trace_error(r)); a stall still open at the end of the trace is
 * reported up to the end, marked uncertain. */
int ss_analyze(struct ss_trace_reader *r, const struct ss_analyze_opts *o,
	       struct ss_analysis *out);
void ss_analysis_free(struct ss_analysis *a);
/* Empties dets (a consumer that runs for days copies what it needs from
 * on_detection and calls this between feeds: memory stays flat). */
void ss_analysis_forget_detections(struct ss_analysis *a);

/* Opens path and analyzes it, every view's way in: on success *rp is the
 * reader, at its end (its meta, trailer and partial note; close it); on
 * failure -errno, err says what in one line (the reader's words, or the
 * error's) and nothing is left to free. */
int ss_analyze_path(const char *path, const struct ss_analyze_opts *o,
		    struct ss_analysis *out, struct ss_trace_reader **rp,
		    char *err, size_t errlen);

/*
 * The same, fed one record at a time (live views): ss_analyze() is
 * new + feed every record + finish.  Records may come in any order within
 * the reorder window (the ring buffer interleaves per-CPU streams); feed
 * holds them back and applies them in time order, so callbacks lag the
 * feed.  ss_analyzer_flush() applies every held record with ts <= upto
 * (a live view calls it with "now minus a little" so the screen keeps
 * up); a record fed later with an earlier ts than one already applied is
 * applied late, not dropped.  ss_analyzer_sync() fills out->workers,
 * out->nworkers and state_ns up to the last applied record, so out can be
 * read between feeds; dets is always current.  ss_analyzer_finish()
 * applies the rest, closes waits still open (uncertain), sorts dets and
 * fills out; lost: the trailer's count if no lost records were seen.
 * Errors are -errno; after one, the analyzer only frees.
 */
struct ss_analyzer;
struct ss_analyzer *ss_analyzer_new(const struct ss_trace_meta *meta,
				    const struct ss_analyze_opts *o,
				    struct ss_analysis *out);
int ss_analyzer_feed(struct ss_analyzer *an, const struct ss_record *r);
int ss_analyzer_flush(struct ss_analyzer *an, __u64 upto);
void ss_analyzer_sync(struct ss_analyzer *an);
int ss_analyzer_finish(struct ss_analyzer *an, __u64 trailer_lost);
/* Frees the analyzer, not out (ss_analysis_free). */
void ss_analyzer_free(struct ss_analyzer *an);

const char *ss_det_kind_name(enum ss_det_kind k);	/* "stuck_lifo", ... */
/* Whether stalls of kind k can be found at all in a recording with
 * tasks (a runtime's probes, or Tokio's own records) or without (kernel
 * events only), with readiness or without (--no-readiness): as its
 * detector's hooks need (idle_but_parked readiness, the others tasks). */
bool ss_det_findable(enum ss_det_kind k, bool tasks, bool readiness);
/* ... in the trace a was made from. */
static inline bool ss_analysis_findable(const struct ss_analysis *a, enum ss_det_kind k)
{
	return ss_det_findable(k, !a->kernel_only || a->tokio || a->runtime_probes,
			       !a->no_readiness);
}
const char *ss_cause_name(enum ss_cause c);		/* "all_busy", ... */
const char *ss_wstate_name(enum ss_wstate s);		/* "running", ... */
#endif
