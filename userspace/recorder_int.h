/* SPDX-License-Identifier: MIT */
/*
 * The recorder's inside (recorder.h is its outside).  One concept a file:
 *
 *   recorder.c          the life cycle (open, poll, stop, free) and the
 *                       trace header
 *   recorder_events.c   what arrives from BPF: records, ring chunks, lost
 *                       counts, the periodic pull of the rings
 *   recorder_attach.c   which probes of which files: uprobe_multi links,
 *                       the rings' flush and retire probes and registries
 *
 * Only these include the BPF skeleton; `stallscope record`, the command,
 * is cmds/record.c.
 */
#ifndef STALLSCOPE_RECORDER_INT_H
#define STALLSCOPE_RECORDER_INT_H

#include <bpf/libbpf.h>
#include <stdbool.h>

#include "recorder.h"
#include "ringrec.h"
#include "ringreg.h"
#include "target.h"
#include "trace.h"
#include "usdt.h"
#include "bpf/ring.h"


#define DEFAULT_RING_BYTES (64U << 20)
#define HEADER_DELAY_NS 20000000ULL	/* after exec: let ld.so map libraries */
#define HEADER_WAIT_NS 500000000ULL	/* ... and the runtime start its workers */
#define HEADER_PENDING_MAX 65536	/* records held before the header, at most */
#define HEADER_RING_SHARE 4		/* a file's header at the latest once this
					 * share of the ring buffer waits (1/4) */
#define HEADER_STABLE_NS 50000000ULL	/* workers counted the same for this long */
#define LOST_CHECK_NS 100000000ULL
#define PULL_NS 5000000ULL		/* the event rings, at least this often */
#define PULL_QUIET_NS 15000000ULL	/* ... while every thread is quiet (doubling) */
/* How late an event may come past complete_ns: its thread preempted
 * between taking its time and publishing its slot (a slice or so). */
#define EMIT_SLACK_NS 2000000ULL
#define WAKE_BYTES_MAX (2U << 20)	/* the recorder woken at this much waiting
					 * in the ring buffer (bpf/emit.bpf.h) */

/* Records handled per ring_buffer__consume(), at most: a target that
 * writes faster than we read must not keep us there (the header, the
 * pulls and the file wait on the loop). */
#define CONSUME_BUDGET_BYTES (1U << 20)
#define BUDGET_SPENT (-EAGAIN)

struct stallscope_bpf;

struct ss_recorder {
	struct ss_recorder_opts o;
	struct ss_record tokio_rec;	/* SS_TOKIO_RUNTIME, written at start
					 * (type 0: none) */

	struct ss_target t;
	char *exe;
	struct stallscope_bpf *skel;
	struct ring_buffer *rb;
	int *links;			/* uprobe_multi link fds, one per file */
	unsigned nlinks, caplinks;
	struct ss_usdt_spec *specs;	/* in usdt_specs, by id */
	unsigned nspecs, capspecs;
	bool started_sink;		/* on_start was called (and worked) */
	int start_err;			/* on_start failed: never retried */
	struct ss_record *pending;	/* before on_start */
	size_t npending, cappending;
	__u64 events, lost;
	__u64 *lost_seen;		/* per CPU */
	int ncpus;
	int err;			/* first sink error */
	char msg[512];			/* the last failure (recorder.h) */
	__u64 start_ns, start_real_ns, exec_ns, last_lost;
	struct ss_trace_meta meta;
	bool own_argv;			/* meta.argv is ours (-p) */
	struct ss_ringrec *rr;		/* the event rings' records */
	struct bpf_link *pull;		/* the rings' periodic pull (iterator) */
	__u64 last_pull;
	__u64 complete_ns;		/* ss_recorder_complete_ns() */
	__u64 pull_ns;			/* the pull's period now: PULL_NS, or longer
					 * while it finds every thread quiet */
	size_t consumed;		/* bytes this consume (CONSUME_BUDGET_BYTES) */
	/* The ring buffer's consumer and producer positions (its first two
	 * pages, mapped read-only; NULL if not): how much waits in it. */
	const void *rb_pos;
	size_t page;
	bool more;			/* the budget ran out: more is waiting */
	/* The threads at the header (thread_at_attach records, taken then),
	 * written once the ring buffer was read up to attach_prod, its
	 * producer position then: after what waited for the header in it. */
	struct ss_record *attach_recs;
	size_t nattach, capattach;
	__u64 attach_prod;
	bool real_time;			/* real time took (until free) */
	bool runtime_probes;		/* the runtime's (wsrt's) probes are attached */
	bool shim_exit;			/* the shim's ring_exit is attached */
	bool shim_parks;		/* the shim's parks stand for the syscall programs */
	bool sleep_parks;		/* so do sched_switch's (--kernel-only) */
	bool ring_pieces;		/* the rings' drains copy in 2^k-slot pieces */
	struct ss_ringreg_anchor *anchors;	/* libraries with rings */
	unsigned nanchors;
	__u64 unringed_seen;		/* their count of events without a ring */
	bool scanned;			/* unringed_seen has its first value */
	__u32 workers_seen;		/* header_due's last count, */
	__u64 workers_since;		/* unchanged since */
};

/* The ring buffer's consumer (0) or producer (1) position; rb_pos set. */
static inline __u64 rec_ring_pos(const struct ss_recorder *r, int producer)
{
	return __atomic_load_n((const __u64 *)((const char *)r->rb_pos + producer * r->page),
			       __ATOMIC_ACQUIRE);
}

/* ---- events (recorder_events.c) ---- */
void rec_emit(struct ss_recorder *r, const struct ss_record *rec);
/* A file's events wait in the ring buffer until its header (recorder.c). */
bool rec_holds_in_ring(const struct ss_recorder *r);
void rec_emit_ring_record(void *arg, const struct ss_record *rec);
/* recorder.c: a failure into r->msg; a warning to on_warning. */
void rec_error(struct ss_recorder *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void rec_warn(struct ss_recorder *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int rec_on_event_record(struct ss_recorder *r, void *data, size_t size);
int rec_on_event(void *ctx, void *data, size_t size);
bool rec_pull_rings(struct ss_recorder *r);
void rec_account_lost(struct ss_recorder *r);
/* A thread_at_attach record for each thread: emitted, or kept in
 * attach_recs (rec_attach_records emits them). */
void rec_thread_at_attach(void *arg, int tid, const char *comm);
void rec_hold_thread_at_attach(void *arg, int tid, const char *comm);
void rec_count_worker(void *arg, int tid, const char *comm);
extern const struct ss_ringrec_blocks rec_ring_blocks;

/* ---- the header (recorder.c) ---- */
int rec_start_sink(struct ss_recorder *r);

/* ---- attaching (recorder_attach.c) ---- */
/* The probes of exe (and, for a running process, of its libraries; for a
 * command, of the preload shim), as uprobe_multi links; sets
 * runtime_probes when the runtime's are among them. */
void rec_attach_usdt(struct ss_recorder *r, const char *exe);
/* Tokio's task entry points in exe, if it is Tokio's: attached, or one
 * line on why not (recording `what` instead); a tokio_runtime record.
 * False if exe is not Tokio's (nothing said). */
bool rec_attach_tokio(struct ss_recorder *r, const char *exe, const char *what);
/* The target's rings the BPF map does not know yet, and the events its
 * libraries dropped for want of a ring. */
void rec_scan_rings(struct ss_recorder *r);

#endif
