/* SPDX-License-Identifier: MIT */
/*
 * The recorder (recorder.c, recorder_int.h): loads the BPF programs, attaches them to one
 * target process and hands its records to a sink.  `stallscope record`
 * sinks them into a trace file; `stallscope live` into its analyzer and
 * screen (and a bounded ring it can write out).
 *
 * Life cycle, one thread:
 *   ss_recorder_open()   checks, starts or finds the target, loads and
 *                        attaches, releases a started command;
 *   ss_recorder_poll()   repeatedly: waits up to timeout_ms for the ring
 *                        buffer, drains it into the sink;
 *   ss_recorder_stop()   drains what is left, accounts lost events, stops
 *                        a command we started;
 *   ss_recorder_free().
 * The sink's on_start gets the trace header (struct ss_trace_meta) once,
 * shortly after the target's exec (so its libraries are mapped); events
 * that arrive before follow it (for a sink of blocks they wait in the ring
 * buffer; records are held).  Every record reaches
 * on_records after on_start, in ring order (near time order; per-CPU
 * streams interleave).
 *
 * It never prints (but libbpf's own messages with verbose): functions
 * return 0 or -errno, and what went wrong is one line, without the
 * "stallscope: " a command puts before it — in ss_recorder_open()'s err
 * buffer, or ss_recorder_error() after poll.  What it records
 * without (a probe it cannot attach, no shim, no rings' pull) goes to the
 * on_warning callback, one line each.
 */
#ifndef STALLSCOPE_RECORDER_H
#define STALLSCOPE_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ringrec.h"
#include "trace.h"

/* Return 0, or -errno to stop the recording (ss_recorder_poll returns it). */
typedef int (*ss_recorder_start_fn)(void *arg, const struct ss_trace_meta *meta);
typedef int (*ss_recorder_records_fn)(void *arg, const struct ss_record *recs,
				      size_t n);
/* Events from the threads' rings as checked slots (ringrec.h), for a sink
 * that keeps them so (a trace file): room for up to n slots (NULL: they
 * are lost), then what was written there — the slots, or, with
 * d->packed, the slots packed (ringpack.h; 4-5 bytes a busy runtime's
 * event). */
typedef struct ss_ring_slot *(*ss_recorder_block_begin_fn)(
	void *arg, const struct ss_ring_chunk *hdr, __u32 n);
typedef int (*ss_recorder_block_end_fn)(void *arg, const struct ss_block_done *d);

/* A warning: recording goes on without something (one line, no "\n"). */
typedef void (*ss_recorder_warn_fn)(void *arg, const char *msg);

struct ss_recorder_opts {
	const char *cmd_name;	/* "record", "live": for messages */
	pid_t pid;		/* -p PID, or */
	char **cmd;		/* -- CMD [ARGS...] (NULL-terminated) */
	bool kernel_only;	/* no USDT probes */
	bool no_preload;	/* start CMD without the shim */
	bool syscalls;		/* hook the futex and epoll syscalls even where
				 * the shim's parks carry them */
	bool verbose;		/* libbpf's messages */
	bool no_tokio;		/* no uprobes on Tokio's task entry points
				 * (tokio_syms.h) in a Tokio executable */
	bool no_readiness;	/* no sk_data_ready: readiness arriving goes
				 * unrecorded (idle_but_parked unseen) */
	unsigned ring_bytes;	/* 0: 16 MiB */
	ss_recorder_start_fn on_start;
	ss_recorder_records_fn on_records;
	/* Both NULL: ring events as records too. */
	ss_recorder_block_begin_fn on_block_begin;
	ss_recorder_block_end_fn on_block_end;
	ss_recorder_warn_fn on_warning;	/* NULL: warnings are dropped */
	void *arg;
};

struct ss_recorder_stats {
	__u64 events, lost;	/* records from the ring; events lost */
	__u64 start_ns;		/* CLOCK_MONOTONIC, when recording began */
	bool exited;		/* the target exited */
	int exit_status;	/* its wait status if we reaped it, else -1 */
};

struct ss_recorder;

/* On failure: -errno, and err (errlen bytes) says what. */
int ss_recorder_open(const struct ss_recorder_opts *o, struct ss_recorder **out,
		     char *err, size_t errlen);
/* 0: recording; 1: the target has exited (call ss_recorder_stop); < 0: an
 * error: reading the ring (ss_recorder_error() says what), or the sink's
 * (ss_recorder_error() is "": the sink knows). */
int ss_recorder_poll(struct ss_recorder *r, int timeout_ms);
/*
 * The time (CLOCK_MONOTONIC) before which every event has been delivered
 * to the sink: the start of the last pull of the rings whose chunks the
 * sink has had (their events come a pull behind: 5-15 ms), or, without
 * rings to pull, the last time the ring buffer was read to its end — less
 * 2 ms for an event whose thread was preempted between taking its time
 * and publishing its slot; 0 before that.  Not counted: such an event
 * later still, and rings the recorder found only in a library's registry
 * (their first pull).  A consumer that must see events in time order
 * (the analyzer) applies up to it, rather than guessing a lag.
 */
__u64 ss_recorder_complete_ns(const struct ss_recorder *r);
/* What the last ss_recorder_poll() failed on, "" if it did not or the
 * failure was the sink's. */
const char *ss_recorder_error(const struct ss_recorder *r);
/* Drains, accounts lost events, delivers the header if it was not yet
 * (0 or the sink's error), and stops a command we started. */
int ss_recorder_stop(struct ss_recorder *r);
void ss_recorder_stats(const struct ss_recorder *r, struct ss_recorder_stats *s);
void ss_recorder_free(struct ss_recorder *r);

#endif
