/* SPDX-License-Identifier: MIT */
/*
 * `stallscope export`: the tracks, slices, flows and counters drawn from
 * an analysis (export.c), and the two writers that serialise them:
 * Perfetto's TrackEvent protobuf (export_perfetto.c) and Chrome's Trace
 * Event Format JSON (export_json.c).
 *
 * The model calls a writer with an already valid stream: every track is
 * declared once, before its first event, with a name that never changes;
 * slices on a track nest (every end closes the innermost open slice; the
 * model keeps the stack and hands the begin back at the end), timestamps
 * never go back on a track, every flow id is used exactly twice (one
 * start, then one end no earlier than the start).  The writers only
 * encode; both see the same calls, so both files hold the same events.
 */
#ifndef STALLSCOPE_EXPORT_H
#define STALLSCOPE_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "trace.h"

#define SS_X_NAME_MAX 128	/* slice, instant and track names */
#define SS_X_ARGS_MAX 14	/* annotations on one event */

/*
 * What a track is.  Perfetto: every track is a named TrackDescriptor
 * under the one ROOT (no process or thread descriptors: Perfetto would
 * neither keep their order nor their descriptions, see export_perfetto.c).
 * JSON: ROOT is the process, THREAD a thread of it, LANE a pseudo-thread
 * of it (tid: a number no thread of the trace has); GROUP has no JSON
 * form, COUNTER is the process's counter json_name.
 */
enum ss_xtrack_kind {
	SS_XT_ROOT,		/* the target process: parent of every other track */
	SS_XT_THREAD,		/* a thread of it: slices and instants */
	SS_XT_LANE,		/* a named track of slices (stalls, lost, ...) */
	SS_XT_GROUP,		/* a named parent of other tracks, no events */
	SS_XT_COUNTER,		/* a named counter */
};

struct ss_xtrack {
	enum ss_xtrack_kind kind;
	__u64 uuid;			/* unique, non-zero */
	__u64 parent;			/* a parent's uuid; 0 for ROOT */
	char name[SS_X_NAME_MAX];	/* Perfetto: what the track is called */
	/* JSON: the process name (ROOT), the thread name (THREAD, LANE:
	 * Perfetto shows "NAME TID"), the counter event's name (COUNTER:
	 * Perfetto shows "NAME SERIES"). */
	char json_name[SS_X_NAME_MAX];
	char description[256];		/* "" for none */
	const char *series;		/* COUNTER: JSON args key ("queue") */
	__u32 pid;			/* the target's */
	__u32 tid;			/* THREAD: its tid; LANE: the JSON pseudo-tid */
	/* Order among siblings, smaller first, unique among them
	 * (export_model.h): Perfetto's sibling_order_rank, JSON's
	 * thread_sort_index. */
	int rank;
};

enum ss_xarg_type { SS_XA_UINT, SS_XA_INT, SS_XA_DOUBLE, SS_XA_STRING,
		    SS_XA_BOOL };

/* A debug annotation.  A string must outlive the slice it is on (static
 * text; or the slice ends within the same model call). */
struct ss_xarg {
	const char *name;	/* static text: writers intern it */
	enum ss_xarg_type type;
	union {
		__u64 u;
		__s64 i;
		double d;
		const char *s;
		bool b;
	};
};

/* A slice or an instant as the model describes it. */
struct ss_xevent {
	__u64 ts;
	const char *cat;	/* static text */
	char name[SS_X_NAME_MAX];
	__u64 flow_out;		/* a flow starting here, 0 none */
	__u64 flow_in;		/* a flow ending here, 0 none */
	struct ss_xarg args[SS_X_ARGS_MAX];
	unsigned nargs;
};

struct ss_xwriter;

/* Both writers implement this; every call may fail only by setting the
 * error the writer's finish returns. */
struct ss_xwriter_ops {
	/* Declares t (once, before its first event and after its parent's):
	 * ts is the time of the event that needs it. */
	void (*track)(struct ss_xwriter *w, const struct ss_xtrack *t, __u64 ts);
	void (*begin)(struct ss_xwriter *w, const struct ss_xtrack *t,
		      const struct ss_xevent *e);
	/* begin: the slice as it began (ts, name, args); end args follow. */
	void (*end)(struct ss_xwriter *w, const struct ss_xtrack *t,
		    const struct ss_xevent *begin, __u64 ts,
		    const struct ss_xarg *args, unsigned nargs);
	void (*instant)(struct ss_xwriter *w, const struct ss_xtrack *t,
			const struct ss_xevent *e);
	void (*counter)(struct ss_xwriter *w, const struct ss_xtrack *t,
			__u64 ts, __s64 value);
	/* Flushes; 0 or the first -errno any call met. Frees w. */
	int (*finish)(struct ss_xwriter *w);
};

struct ss_xwriter {
	const struct ss_xwriter_ops *ops;
};

/* src made safe for both formats, truncated to fit dst (len >= 1):
 * printable ASCII stays, any other byte becomes '?' (a name from the
 * trace may be anything; protobuf strings must be UTF-8, and Perfetto's
 * JSON reader takes no \u escapes). */
void ss_x_sanitize(char *dst, size_t len, const char *src);

/* The writers, onto an open stream the caller closes.  meta: the trace's
 * header (pid, comm, cmdline, start times).  NULL and errno on failure. */
struct ss_xwriter *ss_xwriter_perfetto(FILE *out, const struct ss_trace_meta *meta);
struct ss_xwriter *ss_xwriter_json(FILE *out, const struct ss_trace_meta *meta);

/* ---- the whole export (export.c) ---- */

struct ss_export_opts {
	const char *in;		/* a file (JSON reads it twice: not a pipe) */
	bool json;		/* Chrome JSON, else Perfetto protobuf */
	__u64 threshold_ns;	/* the analyzer's; 0: its default */
	const char *workers;	/* kernel-only worker names; NULL: default */
};

/* Whose fault a failure was (the command's exit status and words differ). */
enum ss_export_fail {
	SS_EXPORT_FAIL_OUTPUT = 1,
	SS_EXPORT_FAIL_INPUT = 2,
	SS_EXPORT_FAIL_OTHER = 3,
};

struct ss_export_result {
	__u64 slices, instants, flows, counters, stalls, lost;
	unsigned workers;
	char partial[400];	/* the trace is partial: why ("" if not) */
};

/* Writes o->in's timeline to out.  0, or -errno with *fail and err (one
 * line) saying what failed. */
int ss_export_trace(const struct ss_export_opts *o, FILE *out,
		    struct ss_export_result *res, enum ss_export_fail *fail,
		    char *err, size_t errlen);

#endif
