/* SPDX-License-Identifier: MIT */
/*
 * The flight recorder's window (`stallscope watch`): the last seconds of
 * a recording, in memory, bounded in time and in bytes, from which a
 * trace of any span still held can be written.
 *
 * Records are kept losslessly in a compact form (window.c: about 12-20
 * bytes an event against a record's 64) in chunks of SS_WINDOW_CHUNK
 * bytes.  Adding past either bound drops whole chunks, oldest first; the
 * window then says from when it is complete: every record with a later
 * ts that was added is still held.  Records are kept in the order they
 * were added (the recorder's, near time order).
 *
 * The records that say who a thread is, and which runtime the process
 * runs (ss_record_is_context()), are also kept apart, the latest per
 * (type, thread), so that a trace written from the window names its
 * workers however long ago they started.
 *
 * Owns: the encoding, the bounds, the context.  Does not own: what a
 * trace file is (trace.h) nor when to write one (watch.c).
 */
#ifndef STALLSCOPE_WINDOW_H
#define STALLSCOPE_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "bpf/record.h"

#define SS_WINDOW_CHUNK (64U << 10)
#define SS_WINDOW_CONTEXT 1024	/* context records kept (then the oldest goes) */

struct ss_window;

struct ss_window_stats {
	__u64 events;		/* held */
	__u64 bytes;		/* the chunks' memory, headers included */
	__u64 complete_from;	/* ts: every later record is held (0: all
				 * ever added are) */
	__u64 first_ts, last_ts;/* the span held (0, 0: empty) */
	__u64 dropped;		/* records dropped, oldest first, so far */
};

/* keep_ns: the span kept (newest ts minus a chunk's newest, > 0);
 * max_bytes: the chunks' memory, at least two chunks.  NULL: no memory. */
struct ss_window *ss_window_new(__u64 keep_ns, size_t max_bytes);
void ss_window_free(struct ss_window *w);

/* Adds r (0 or -ENOMEM, when a chunk cannot be had: r is not held). */
int ss_window_add(struct ss_window *w, const struct ss_record *r);

void ss_window_stats(const struct ss_window *w, struct ss_window_stats *s);

/* Calls fn on every context record (the latest per (type, thread)), then
 * on every record held whose ts is in [from, to), in the order added;
 * stops at fn's first non-zero return and returns it. */
typedef int (*ss_window_fn)(void *arg, const struct ss_record *r, bool context);
int ss_window_each(const struct ss_window *w, __u64 from, __u64 to,
		   ss_window_fn fn, void *arg);

/* The records a trace cut from a longer recording needs even when they
 * are older than the cut: thread names, worker starts, the shim's start,
 * the Tokio runtime's version. */
bool ss_record_is_context(const struct ss_record *r);

#endif
