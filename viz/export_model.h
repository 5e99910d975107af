/* SPDX-License-Identifier: MIT */
/*
 * The export's model, shared by its files (not a public interface):
 *
 *   export_track.c    tracks and what keeps the writer's stream valid:
 *                     declaration before use, slice stacks, per-track
 *                     clamped times, counters, lanes
 *   export_model.c    the runtime as tracks: tasks and their names,
 *                     worker and thread tracks, worker states
 *   export_records.c  the records and detections: notifies, steals, queue
 *                     depths, parks of other threads, lost events, stalls
 *   export.c          the command: options, reading, the output file
 *
 * export.h is the writers' interface (export_perfetto.c, export_json.c).
 */
#ifndef STALLSCOPE_EXPORT_MODEL_H
#define STALLSCOPE_EXPORT_MODEL_H

#include <stdbool.h>

#include "analyze.h"
#include "export.h"
#include "symbols.h"

#define SS_X_STACK_MAX 4		/* open slices per track: poll + off-CPU, ... */
#define SS_X_MAX_THREADS 1024	/* thread tracks, and worker tracks (one per worker and thread) */
#define SS_X_MAX_NAMES 4096		/* thread names remembered */
#define SS_X_MAX_CPUS 1024		/* lost-event ranges are per CPU */
#define SS_X_SYM_SLOTS 1024		/* poll-function names cached */
#define SS_X_QUEUED_MAX 16		/* state changes of one record */

/*
 * Ranks: the order of the tracks, unique among siblings (Perfetto's UI
 * orders EXPLICIT children by rank, and ties in no stated way; JSON's
 * thread_sort_index, the same numbers, orders a process's threads).
 * Under the root: the stalls group, then the workers by number (a
 * worker's tracks in the order its threads took its number), the main
 * thread, other threads by first use, the counters.  In the stalls group:
 * per worker, then the runtime's, then lost events; each with its lanes.
 * Stall lanes rank below the workers also as JSON pseudo-threads.
 */
#define SS_XR_KEY(major, minor) ((int)(((unsigned)(major) << 16) | \
				       ((minor) < 0xffffU ? (unsigned)(minor) : 0xffffU)))
enum {
	SS_XR_STALLS = 0,		/* the group; its lanes: SS_XR_KEY(group, lane) */
	SS_XR_LANES_RUNTIME = SS_MAX_WORKERS,	/* lane group of stalls on no worker */
	SS_XR_LANES_LOST = SS_MAX_WORKERS + 1,	/* ... of lost-event ranges */
	SS_XR_WORKER = 1 << 25,		/* + SS_XR_KEY(worker, its n-th track) */
	SS_XR_MAIN = 1 << 26,
	SS_XR_THREAD = (1 << 26) + 1,	/* + the n-th thread track */
	SS_XR_COUNTER = 1 << 27,	/* idle, inject, readiness pending, then */
	SS_XR_COUNTER_WORKER = (1 << 27) + 16,	/* + 2 w: LIFO slot, + 2 w + 1: local queue */
};

/* What opened a slice: closing one kind closes what is nested in it. */
enum ss_export_open_kind {
	SS_XK_POLL = 1, SS_XK_STATE, SS_XK_OFFCPU, SS_XK_PARK, SS_XK_FUTEX,
	SS_XK_EPOLL, SS_XK_STALL,
};

struct ss_export_open {
	enum ss_export_open_kind kind;
	__u64 task;
	struct ss_xevent ev;
};

struct ss_export_track {
	struct ss_xtrack t;
	struct ss_export_track *parent;
	bool declared;
	__u64 last_ts;		/* the latest time written on it */
	unsigned depth;
	struct ss_export_open stack[SS_X_STACK_MAX];
	__s64 value;		/* COUNTER: the last value written */
	struct ss_export_track *next_lane;	/* LANE: the next lane of its group */
};

/* A worker's track on one thread: a new one when the worker's number
 * moves to another thread, since a declared track keeps its name. */
struct ss_export_wtrack {
	unsigned w;
	__u32 tid;		/* 0: a worker whose thread the trace never named */
	struct ss_export_track *track;
};

struct ss_export_worker {
	struct ss_export_track *thread, *local, *lifo, *stalls;
	__u32 tid;
	__u32 thread_tid;	/* the tid `thread` is for */
	unsigned ntracks;	/* tracks it had: the rank of the next */
	enum ss_wstate state;
	/* Its last poll as the analyzer told it (SS_TASK_POLLED): the task,
	 * its function, and the flow of the notify whose wait it ended (0:
	 * none, or drawn already) with that flow's time. */
	__u64 poll_task, poll_fn, poll_flow, poll_flow_ts;
};

/* A thread that is not a worker: the main thread, or one that hit a
 * runtime probe.  While its tid is a worker's, its events are the
 * worker's (one thread, one JSON thread: nothing of it is left open). */
struct ss_export_thread {
	__u32 tid;
	struct ss_export_track *track;
};

/* A flow still open when the trace ended (SS_TASK_UNPOLLED). */
struct ss_export_unpolled {
	__u64 task, flow;
	struct ss_export_track *track;	/* where it started */
};

struct ss_export_sym {
	__u64 addr;
	char name[SS_NAME_MAX];
};

/* What a first pass over the trace learnt (export.c), for JSON names. */
struct ss_export_prepass {
	unsigned worker_digits;	/* of the highest worker number: names sort right */
	__u32 *tids;		/* every tid the trace names, sorted: pseudo-tids avoid them */
	size_t ntids;
};

struct ss_export {
	struct ss_xwriter *w;
	const struct ss_trace_meta *meta;
	struct ss_analysis *a;
	struct ss_symbols *syms;
	struct ss_export_sym *symcache;
	const struct ss_export_prepass *pre;
	struct ss_export_track **tracks;
	size_t ntracks, captracks;
	__u32 next_pseudo_tid;
	struct ss_export_track *root, *stalls_group, *runtime_stalls, *lost_lanes;
	struct ss_export_track *idle, *inject, *ready;
	struct ss_export_worker wx[SS_MAX_WORKERS];
	struct ss_export_wtrack wtracks[SS_X_MAX_THREADS];
	unsigned nwtracks;
	struct ss_export_thread threads[SS_X_MAX_THREADS];
	unsigned nthreads;
	struct { __u32 tid; char comm[17]; } names[SS_X_MAX_NAMES];
	unsigned nnames;
	struct { unsigned w; __u64 ts; enum ss_wstate s; __u64 task; } q[SS_X_QUEUED_MAX];
	unsigned nq;
	/* What the analyzer said of tasks during this record's step
	 * (on_task): drawn at its end, in on_step. */
	struct ss_task_event tq[SS_X_QUEUED_MAX];
	unsigned ntq;
	unsigned polled[SS_X_QUEUED_MAX];	/* workers told SS_TASK_POLLED */
	unsigned npolled;
	struct ss_export_unpolled *unpolled;
	size_t nunpolled, capunpolled;
	bool have_first;
	__u64 first_ts;
	__u64 now;		/* the time of the record being applied */
	__u64 next_flow;
	unsigned idle_workers;
	__u64 lost_since[SS_X_MAX_CPUS];
	/* for the summary line */
	__u64 nslices, ninstants, nflows, ncounters, nstalls;
	int err;
};

/* ts, or the start of the flow an event ends if that is later: a flow's
 * end must not come before its start in Perfetto's sorted order. */
static inline __u64 ss_x_not_before(__u64 ts, __u64 start)
{
	return ts < start ? start : ts;
}

static inline bool ss_x_valid_worker(__s64 w)
{
	return w >= 0 && w < SS_MAX_WORKERS;
}

/* ---- export_track.c ---- */

struct ss_export_track *ss_x_track_new(struct ss_export *x, enum ss_xtrack_kind kind,
			     struct ss_export_track *parent, int rank, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Declares t (and its parents) before its first event, at ts. */
void ss_x_declare(struct ss_export *x, struct ss_export_track *t, __u64 ts);
void ss_x_ev_init(struct ss_xevent *e, const char *cat, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Annotations (at most SS_X_ARGS_MAX; more are dropped). */
void ss_x_arg_u(struct ss_xevent *e, const char *name, __u64 v);
void ss_x_arg_i(struct ss_xevent *e, const char *name, __s64 v);
void ss_x_arg_d(struct ss_xevent *e, const char *name, double v);
void ss_x_arg_s(struct ss_xevent *e, const char *name, const char *v);
void ss_x_arg_b(struct ss_xevent *e, const char *name, bool v);
void ss_x_instant(struct ss_export *x, struct ss_export_track *t, __u64 ts,
		  struct ss_xevent *e);
void ss_x_slice_open(struct ss_export *x, struct ss_export_track *t, __u64 ts,
		     enum ss_export_open_kind kind, __u64 task, struct ss_xevent *e);
void ss_x_slice_close_top(struct ss_export *x, struct ss_export_track *t, __u64 ts,
			  const struct ss_xarg *args, unsigned nargs);
/* t may be NULL. */
void ss_x_slice_close_all(struct ss_export *x, struct ss_export_track *t, __u64 ts);
void ss_x_slice_close_kind(struct ss_export *x, struct ss_export_track *t, __u64 ts,
			   enum ss_export_open_kind kind);
/* Writes v if it changed (t may be NULL: nothing). */
void ss_x_counter_set(struct ss_export *x, struct ss_export_track *t, __u64 ts, __s64 v);
/* *slot, made on first use: a counter track under the root. */
struct ss_export_track *ss_x_counter_track(struct ss_export *x, struct ss_export_track **slot,
				 int rank, const char *description, const char *name,
				 const char *json_name, const char *series);
/* A slice from..to on the first lane of group (SS_XR_KEY) at *head free
 * by `from`; all busy: a new lane "NAME #N".  e->ts is set here. */
void ss_x_lane_slice(struct ss_export *x, struct ss_export_track **head, unsigned group,
		     const char *name, const char *description, __u64 from,
		     __u64 to, struct ss_xevent *e);

/* ---- export_model.c ---- */

const char *ss_x_dest_name(__u64 dest);		/* "lifo", ... */
/* The analyzer's on_name: the thread's name, sanitized, for its track. */
void ss_x_on_name(void *arg, __u32 tid, __u64 ts, const char *name);
/* "task 17 (handle_request)", or "task 17" if its function fn (0: not
 * known) has no name. */
void ss_x_task_label(struct ss_export *x, char *buf, size_t len, __u64 id, __u64 fn);
struct ss_export_track *ss_x_worker_track(struct ss_export *x, unsigned w);
struct ss_export_track *ss_x_local_track(struct ss_export *x, unsigned w);
struct ss_export_track *ss_x_lifo_track(struct ss_export *x, unsigned w);
struct ss_export_track *ss_x_thread_track(struct ss_export *x, __u32 tid, bool create);
struct ss_export_track *ss_x_event_track(struct ss_export *x, __u32 tid, int worker,
					 bool create);
/* What the analyzer told of task in this record's step (on_task), of
 * kind change: the event, or NULL. */
const struct ss_task_event *ss_x_told(const struct ss_export *x, __u64 task,
				      enum ss_task_change change);
/* A poll of task by worker w on its track t (task 0: kernel-only, on a
 * CPU): ends the flow of the notify whose wait it ended.  in_step: at
 * the end of the step that made it (its source is then told). */
void ss_x_poll_open(struct ss_export *x, unsigned w, struct ss_export_track *t,
		    __u64 ts, __u64 task, bool in_step);
void ss_x_worker_close(struct ss_export *x, struct ss_export_track *t, __u64 ts,
		       bool in_step);
void ss_x_worker_learn_tid(struct ss_export *x, const struct ss_step *s, unsigned w);
void ss_x_worker_apply_state(struct ss_export *x, unsigned w, __u64 ts,
			     enum ss_wstate s, __u64 task, bool in_step);
void ss_x_on_state(void *arg, unsigned worker, __u64 ts,
		   enum ss_wstate state, __u64 task);
void ss_x_exporter_free(struct ss_export *x);

/* ---- export_records.c ---- */

void ss_x_on_step(void *arg, const struct ss_step *s);
void ss_x_on_detection(void *arg, const struct ss_detection *det);
void ss_x_on_counter(void *arg, enum ss_counter c, int worker, __u64 ts, __s64 v);
void ss_x_on_task(void *arg, const struct ss_task_event *e);
void ss_x_on_mark(void *arg, const struct ss_mark *m);
/* After the last record: close what is open, end the flows left. */
void ss_x_finish(struct ss_export *x, __u64 end);

#endif
