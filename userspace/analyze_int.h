/* SPDX-License-Identifier: MIT */
/*
 * The analyzer's inside (analyze.h is its outside): the state every part
 * of it shares, and how the parts call each other.  One concept a file:
 *
 *   analyze.c               the core: integrals, worker states, the
 *                           runtime's records, the entry points
 *   analyze_workers.c       which threads are workers, and the kernel's
 *                           view of them (futex, epoll, switches, names)
 *   analyze_tasks.c         the task table, its integral snapshots, a
 *                           wait from notify to poll, on_task
 *   analyze_queues.c        the queues' counters (on_counter)
 *   analyze_tokio.c         Tokio's own records (record --tokio)
 *   analyze_shim.c          the preload shim's parks as the syscall
 *                           records they stand for (shim-parks traces)
 *   analyze_reorder.c       putting records back in time order
 *   detect.c                the detectors' table and what they share
 *   detect_<kind>.c         one detector each (DESIGN.md's definitions)
 *
 * A new detection: its kind in analyze.h, one detect_<kind>.c with a
 * struct an_detector (what it detects, how it words it), its line in
 * detect.c's table, its goldens.
 */
#ifndef STALLSCOPE_ANALYZE_INT_H
#define STALLSCOPE_ANALYZE_INT_H

#include <stdbool.h>

#include "analyze.h"
#include "symbols.h"

#define REORDER_CAP (1U << 18)		/* records held back for ordering */
#define DEFAULT_THRESHOLD_NS 10000000ULL
#define DEFAULT_PATTERNS "wsrt-w*,tokio-runtime-w*"

/* ---- integrals -------------------------------------------------------------- */

/* Per worker w: some other worker idle; w off-CPU while runnable; w idle;
 * w parked; w parked on a futex; w's vCPU stolen (charged at once); some
 * worker parked on a futex while w was not waiting for a CPU. */
enum { IW_OTHERS_IDLE, IW_OFFCPU, IW_IDLE, IW_PARKED, IW_FUTEX, IW_STOLEN,
       IW_FUTEX_NOT_OFFCPU, IW_N };
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
	bool offcpu;		/* runnable but switched out ... */
	__u64 offcpu_at;	/* ... since */
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
	bool inferred;		/* its LIFO slot inferred (Tokio's records) */
	__u64 view[SS_TASK_VIEW_WORDS];	/* the view's (ss_task_event) */
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
	__u64 owner_offcpu;		/* ... its IW_OFFCPU */
	__u64 owner_futex;		/* ... its IW_FUTEX_NOT_OFFCPU */
};

struct an {
	const struct ss_analyze_opts *o;
	struct ss_analysis *a;
	__u64 threshold;
	char patterns[256];
	struct worker w[SS_MAX_WORKERS];
	unsigned nw;
	bool have_runtime;
	bool tokio;		/* Tokio's own records seen (analyze_tokio.c) */
	bool tokio_lifo_stealable;	/* ... of a Tokio >= 1.51 */
	bool tokio_attached;		/* Tokio's uprobes were (its runtime
					 * record), before any record of theirs */
	bool by_parking;	/* kernel-only workers are threads that park:
				 * no name matched (yet) */
	__u32 pid;		/* the target's main thread: never a worker */
	bool meta_kernel_only;	/* recorded --kernel-only */
	bool runtime_probes;	/* the runtime's probes were attached */
	bool shim_parks;	/* the shim's parks stand for syscall records */
	__u64 now;		/* time of the last event applied */
	const struct ss_record *cur;	/* the record being applied (NULL
					 * between records) */
	__u64 cum[IG_N];
	/* tasks */
	struct task **ht;
	size_t htcap, ntasks, nqueued;
	/* readiness */
	struct pending_ready rd;
	int last_driver_owner;
	/* the queues' counters (analyze_queues.c), if on_counter */
	struct {
		__s64 local[SS_MAX_WORKERS];
		__u64 lifo[SS_MAX_WORKERS];	/* the task in the slot, 0 none */
		bool in_epoll[SS_MAX_WORKERS];
		__u64 ready_pending;
	} q;
	/* lost-event times, to mark detections uncertain */
	__u64 *lost_ts;
	size_t nlost, caplost;
	/* Every thread name seen (workers may be known only later). */
	struct { __u32 tid; char comm[17]; } names[4096];
	unsigned nnames;
	struct ss_symbols *syms;
	int err;
};


/* ---- the core (analyze.c) ---- */
void an_advance(struct an *an, __u64 ts);
void an_show(struct an *an, struct worker *w, __u64 ts);
void an_set_base(struct an *an, struct worker *w, enum ss_wstate s, __u64 ts);
/* A record of Tokio's (SS_F_TOKIO, SS_TOKIO_RUNTIME): analyze_tokio.c. */
void an_apply_tokio(struct an *an, const struct ss_record *r);

/* ---- workers and the kernel's view (analyze_workers.c) ---- */
struct worker *an_worker_by_index(struct an *an, int index, __u32 tid);
struct worker *an_worker_find(struct an *an, int index);
struct worker *an_worker_by_tid(struct an *an, __u32 tid);
bool an_name_is_worker(struct an *an, const char *comm);
void an_kernel_state(struct an *an, struct worker *w, __u64 ts);
void an_drop_workers(struct an *an);
void an_new_kernel_worker(struct an *an, __u32 tid, const char *comm);
struct worker *an_parking_worker(struct an *an, __u32 tid);
void an_apply_kernel(struct an *an, const struct ss_record *r);

/* ---- the shim's parks as syscall records (analyze_shim.c) ---- */
/* The record a shim park_enter / park_exit stands for, into *out (same
 * time and thread): SS_EPOLL_ENTER / EXIT for an epoll wait, and
 * SS_FUTEX_ENTER (a FUTEX_WAIT) / EXIT for a futex, condition variable
 * or semaphore wait.  False for any other record. */
bool an_shim_park_as_syscall(const struct ss_record *r, struct ss_record *out);

/* A futex_enter record that sleeps: FUTEX_WAIT or FUTEX_WAIT_BITSET (a
 * wake, a requeue, ... do not). */
static inline bool an_futex_waits(const struct ss_record *r)
{
	int cmd = (int)(r->args[1] & 0x7f);

	return cmd == 0 || cmd == 9;
}

/* ---- marks (analyze_marks.c) ---- */
/* After on_step for r (worker: r->tid's index, -1 none): on_mark for
 * what r says happened, if it says anything a view marks. */
void an_marks(struct an *an, const struct ss_record *r, int worker);

/* ---- the queues' counters (analyze_queues.c) ---- */
/* After on_step for r (worker: r->tid's index, -1 none). */
void an_queues_apply(struct an *an, const struct ss_record *r, int worker);
/* A worker the analyzer forgets (its state goes to SS_W_UNKNOWN). */
void an_queues_forget(struct an *an, int worker);

/* ---- tasks (analyze_tasks.c) ---- */
/* Task id made runnable at ts into dest (SS_DEST_*) by worker number
 * waker (-1: not a worker), ww (NULL if none; LIFO: into ww's slot). */
void an_notify(struct an *an, __u64 id, int waker, struct worker *ww, int dest, __u64 ts);
/* Worker w starts to poll task id at ts: a wait that ends. */
void an_poll_start(struct an *an, struct worker *w, __u64 id, __u64 ts);
struct task *an_task_get(struct an *an, __u64 id, bool create);
void an_task_free(struct an *an, __u64 id);
void an_snapshot(struct an *an, struct task *t);
/* Tells the view (on_task) what became of t's wait. */
void an_task_event(struct an *an, struct task *t, enum ss_task_change c, __u64 ts,
		   int worker, bool waited);
/* A queued task's wait ends unpolled (SS_TASK_CANCELLED), as how says. */
void an_task_unqueue(struct an *an, struct task *t, __u64 ts, enum ss_task_unqueued how);
/* How long an integral grew since the task's snapshot: per worker, global. */
__u64 an_since_w(struct an *an, struct task *t, struct worker *w, int k);
__u64 an_since_g(struct an *an, struct task *t, int k);

/* ---- reordering (analyze_reorder.c) ---- */
#define SS_REORDER_OPEN 8
struct heap_key {
	__u64 ts, seq;		/* the run's first record's */
	__u32 run;
};
/* Records held back for ordering (analyze_reorder.c says how): in slots,
 * chained into sorted runs, the runs in a min-heap by their first. */
struct heap {
	struct ss_record *rec;	/* [cap] the slots */
	__u64 *seq;		/* [cap] each slot's arrival number (ties) */
	__u32 *next;		/* [cap] the run's next slot */
	struct heap_key *keys;	/* [cap] the runs' heap */
	__u32 *free, *head, *tail, *free_runs;
	size_t n, cap, nfree, nruns, nfree_runs;
	__u64 nseq;
	__u32 open[SS_REORDER_OPEN];	/* runs a record may extend, most
					 * recently extended first */
	unsigned nopen;
};
int an_heap_init(struct heap *h, size_t cap);
void an_heap_free(struct heap *h);
void an_heap_push(struct heap *h, const struct ss_record *r);
struct ss_record an_heap_pop(struct heap *h);
/* The oldest record's time (n > 0). */
__u64 an_heap_min_ts(const struct heap *h);

/* ---- detections (detect.c, detect_*.c) ---- */

/* A task's wait that just ended, as the core classified it. */
struct an_wait {
	struct task *t;
	struct worker *poller;	/* NULL: the trace ended first */
	struct worker *owner;	/* whose LIFO slot or queue held it, or NULL */
	__u64 ts, wait;
	__u64 others_idle;	/* some worker other than the owner idle */
};

/*
 * A detector: what it is called, and the moments it looks at.  Every
 * hook is optional.  wait_ended: a queued task was polled (or the trace
 * ended) after at least the threshold; readiness_arrived / _harvested:
 * socket readiness arriving while no worker waits in epoll, and taken by
 * one (at_end: the trace ended first).
 */
struct ss_det_words;
struct an_detector {
	enum ss_det_kind kind;
	const char *name;
	void (*wait_ended)(struct an *an, const struct an_wait *w);
	void (*readiness_arrived)(struct an *an, __u64 ts, __u64 sock);
	void (*readiness_harvested)(struct an *an, __u64 ts, bool at_end);
	/* How it words a detection of its kind (present.h): a paragraph
	 * for report and demo, a line for timeline and live. */
	int (*describe)(const struct ss_detection *d, const struct ss_det_words *w,
			char *buf, size_t len);
	void (*label)(const struct ss_detection *d, const struct ss_det_words *w,
		      char *buf, size_t len);
	/* Its kind's own fields by name (ss_det_fields), if it has any to
	 * show beyond the header. */
	void (*fields)(const struct ss_detection *d, ss_det_put_fn *put, void *arg);
};

/* A detector's table, at the end of its file detect_ID.c: its kind, its
 * name (ID), its words (the file's static describe and label) and the
 * hooks it takes, e.g. .wait_ended = wait_ended. */
#define AN_DETECTOR(id, kind_, ...)                                          \
	const struct an_detector an_detect_##id = {                          \
		.kind = (kind_), .name = #id, .describe = describe,          \
		.label = label, __VA_ARGS__ }

#define AN_DETECTOR_DECL_(kind, id) extern const struct an_detector an_detect_##id;
SS_DETECTIONS(AN_DETECTOR_DECL_)
#undef AN_DETECTOR_DECL_

/* The core's calls into the detectors. */
void an_wait_ended(struct an *an, struct task *t, struct worker *poller, __u64 ts);
void an_readiness_arrived(struct an *an, __u64 ts, __u64 sock);
void an_readiness_harvested(struct an *an, __u64 ts, bool at_end);

/* What detectors share. */
struct ss_detection *an_add_det(struct an *an, enum ss_det_kind kind, __u64 start,
				__u64 end);
/* A detection of a task's wait, its common fields filled. */
struct ss_detection *an_wait_det(struct an *an, enum ss_det_kind kind,
				 const struct an_wait *w);
bool an_lost_within(struct an *an, __u64 from, __u64 to);
void an_name_fn(struct an *an, __u64 fn, char *buf);
void an_name_task(struct an *an, __u64 id, char *buf);
void an_count_idle_others(struct an *an, struct task *t, int except, __u64 wait,
			  unsigned *idle, unsigned *parked);

#endif
