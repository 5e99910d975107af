/* SPDX-License-Identifier: MIT */
/*
 * The Perfetto writer of `stallscope export`: the model's tracks and
 * events as a Perfetto trace, TrackEvent protobuf
 * (https://perfetto.dev/docs/reference/synthetic-track-event).  The
 * messages and field numbers are those of ../shared/perfetto/
 * perfetto_subset.proto; pb.c does the encoding.
 *
 * The file is a Trace: a stream of `packet` fields, written one at a time
 * (memory does not grow with the trace).  In order:
 *
 *  1. A ClockSnapshot: CLOCK_MONOTONIC (and CLOCK_REALTIME, when the
 *     header has it) at the recording's start, primary_trace_clock =
 *     MONOTONIC.  The trace's time is then the recorder's clock, and
 *     the UI can still show wall-clock time.
 *  2. The first packet of our one sequence (trusted_packet_sequence_id
 *     1): SEQ_INCREMENTAL_STATE_CLEARED and the sequence's defaults,
 *     timestamp_clock_id = BUILTIN_CLOCK_MONOTONIC, so every timestamp
 *     that follows is a raw MONOTONIC ns as the trace file has it.
 *  3. Then, as the model calls: a TrackDescriptor per track, timestamped
 *     with the event that needs it (so it sorts just before that event),
 *     and one TrackEvent per slice begin / end, instant or counter value.
 *     Events set SEQ_NEEDS_INCREMENTAL_STATE: they use the defaults and
 *     interned strings.
 *
 * The tracks as trace_processor reads them (track_event_tracker.cc) and
 * the UI shows them (the TrackEvent plugin): every track is a plain named
 * track under one root track, the target ("lifo-stall (9720)"), whose
 * child_ordering EXPLICIT orders its children by sibling_order_rank, as
 * the stalls group does its lanes.  No process or thread descriptor, on
 * purpose: the UI puts a process's thread groups before its other tracks
 * and orders those by name whatever child_ordering says; a root thread
 * track loses its description and is shown as "thread_name tid"; and a
 * thread descriptor on the sequence would hang a misleading
 * legacy_event.passthrough_utid on every slice of a track that is not a
 * thread.  So a worker's track is "worker 0 (9720)", described.
 *
 * Interning: event names, categories and annotation names are sent once,
 * in the interned_data of the first packet that uses them, and referred
 * to by iid after.  The tables are bounded: when one fills up, a packet
 * clears the incremental state (and repeats the defaults) and interning
 * starts over, as Perfetto's own SDK does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "pb.h"

/* Field numbers (perfetto_subset.proto). */
enum {
	TRACE_PACKET = 1,

	PKT_CLOCK_SNAPSHOT = 6,
	PKT_TIMESTAMP = 8,
	PKT_SEQUENCE_ID = 10,
	PKT_TRACK_EVENT = 11,
	PKT_INTERNED_DATA = 12,
	PKT_SEQUENCE_FLAGS = 13,
	PKT_DEFAULTS = 59,
	PKT_TRACK_DESCRIPTOR = 60,
	PKT_FIRST_ON_SEQUENCE = 87,

	DEFAULTS_TIMESTAMP_CLOCK_ID = 58,

	SNAP_CLOCKS = 1,
	SNAP_PRIMARY_TRACE_CLOCK = 2,
	CLOCK_ID = 1,
	CLOCK_TIMESTAMP = 2,

	TD_UUID = 1,
	TD_NAME = 2,
	TD_PARENT_UUID = 5,
	TD_COUNTER = 8,
	TD_CHILD_ORDERING = 11,
	TD_SIBLING_ORDER_RANK = 12,
	TD_DESCRIPTION = 14,
	CD_UNIT = 3,

	TE_DEBUG_ANNOTATIONS = 4,
	TE_CATEGORY_IIDS = 3,
	TE_TYPE = 9,
	TE_NAME_IID = 10,
	TE_TRACK_UUID = 11,
	TE_COUNTER_VALUE = 30,
	TE_FLOW_IDS = 47,
	TE_TERMINATING_FLOW_IDS = 48,

	DA_NAME_IID = 1,
	DA_BOOL = 2,
	DA_UINT = 3,
	DA_INT = 4,
	DA_DOUBLE = 5,
	DA_STRING = 6,

	ID_EVENT_CATEGORIES = 1,
	ID_EVENT_NAMES = 2,
	ID_DEBUG_ANNOTATION_NAMES = 3,
	INTERNED_IID = 1,
	INTERNED_NAME = 2,
};

/* Enumerations. */
enum {
	BUILTIN_CLOCK_REALTIME = 1,
	BUILTIN_CLOCK_MONOTONIC = 3,
	SEQ_INCREMENTAL_STATE_CLEARED = 1,
	SEQ_NEEDS_INCREMENTAL_STATE = 2,
	TYPE_SLICE_BEGIN = 1,
	TYPE_SLICE_END = 2,
	TYPE_INSTANT = 3,
	TYPE_COUNTER = 4,
	UNIT_COUNT = 2,
	CHILD_ORDERING_EXPLICIT = 3,
};

#define SEQUENCE_ID 1
/* Interned strings per table before the state is cleared and interning
 * starts over; the hash table has twice the slots. */
#define INTERN_MAX 8192
#define INTERN_SLOTS (2 * INTERN_MAX)
#define NEW_MAX (2 + SS_X_ARGS_MAX)	/* strings one event can intern */

/* The three interned tables, by their InternedData field. */
enum { T_CATEGORY, T_NAME, T_ANNOTATION, T_N };
static const unsigned table_field[T_N] = {
	ID_EVENT_CATEGORIES, ID_EVENT_NAMES, ID_DEBUG_ANNOTATION_NAMES,
};

struct slot {
	char *s;		/* NULL: empty */
	__u64 iid;
};

struct table {
	struct slot slots[INTERN_SLOTS];
	unsigned n;
};

struct pw {
	struct ss_xwriter base;
	FILE *out;
	struct ss_pb pkt, ev;		/* the packet; the TrackEvent inside it */
	struct table tables[T_N];
	/* Strings this event interned: sent in its packet's interned_data. */
	struct { unsigned table; __u64 iid; const char *s; } fresh[NEW_MAX];
	unsigned nfresh;
	int err;
};

/* ---- packets ------------------------------------------------------------------ */

static void fail(struct pw *w, int err)
{
	if (!w->err)
		w->err = err;
}

/* Writes w->pkt as one Trace.packet and empties it. */
static void emit_packet(struct pw *w)
{
	uint8_t head[11];
	size_t n;

	if (w->err)
		return;
	if (ss_pb_error(&w->pkt)) {
		fail(w, ss_pb_error(&w->pkt));
		return;
	}
	head[0] = (TRACE_PACKET << 3) | 2;	/* length-delimited */
	n = 1 + ss_pb_put_varint(head + 1, w->pkt.len);
	if (fwrite(head, 1, n, w->out) != n ||
	    fwrite(w->pkt.buf, 1, w->pkt.len, w->out) != w->pkt.len)
		fail(w, errno ? -errno : -EIO);
	ss_pb_reset(&w->pkt);
}

/* The sequence starts (or starts over): everything interned is gone. */
static void clear_incremental_state(struct pw *w, bool first)
{
	for (unsigned t = 0; t < T_N; t++) {
		for (unsigned i = 0; i < INTERN_SLOTS; i++) {
			free(w->tables[t].slots[i].s);
			w->tables[t].slots[i].s = NULL;
		}
		w->tables[t].n = 0;
	}
	ss_pb_varint(&w->pkt, PKT_SEQUENCE_ID, SEQUENCE_ID);
	ss_pb_varint(&w->pkt, PKT_SEQUENCE_FLAGS, SEQ_INCREMENTAL_STATE_CLEARED);
	if (first)
		ss_pb_varint(&w->pkt, PKT_FIRST_ON_SEQUENCE, 1);
	ss_pb_begin(&w->pkt, PKT_DEFAULTS);
	ss_pb_varint(&w->pkt, DEFAULTS_TIMESTAMP_CLOCK_ID, BUILTIN_CLOCK_MONOTONIC);
	ss_pb_end(&w->pkt);
	emit_packet(w);
}

/* FNV-1a */
static unsigned hash_str(const char *s)
{
	__u32 h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The iid of s in table t, interning it (and noting it for this packet)
 * if new.  0 after an allocation failure. */
static __u64 intern(struct pw *w, unsigned t, const char *s)
{
	struct table *tb = &w->tables[t];
	unsigned i = hash_str(s) % INTERN_SLOTS;

	for (; tb->slots[i].s; i = (i + 1) % INTERN_SLOTS)
		if (!strcmp(tb->slots[i].s, s))
			return tb->slots[i].iid;
	if (w->nfresh == NEW_MAX) {	/* cannot happen: NEW_MAX per event */
		fail(w, -E2BIG);
		return 0;
	}
	tb->slots[i].s = strdup(s);
	if (!tb->slots[i].s) {
		fail(w, -ENOMEM);
		return 0;
	}
	tb->slots[i].iid = ++tb->n;	/* iids start at 1 */
	w->fresh[w->nfresh].table = t;
	w->fresh[w->nfresh].iid = tb->slots[i].iid;
	w->fresh[w->nfresh].s = tb->slots[i].s;
	w->nfresh++;
	return tb->slots[i].iid;
}

/* Before an event that may intern up to n strings: start over if a table
 * could overflow. */
static void make_room(struct pw *w, unsigned n)
{
	for (unsigned t = 0; t < T_N; t++) {
		if (w->tables[t].n + n > INTERN_MAX) {
			clear_incremental_state(w, false);
			return;
		}
	}
}

/* Sends w->ev as the TrackEvent of a packet at ts, with what it interned. */
static void emit_event(struct pw *w, __u64 ts)
{
	if (ss_pb_error(&w->ev))
		fail(w, ss_pb_error(&w->ev));
	ss_pb_varint(&w->pkt, PKT_TIMESTAMP, ts);
	ss_pb_varint(&w->pkt, PKT_SEQUENCE_ID, SEQUENCE_ID);
	ss_pb_varint(&w->pkt, PKT_SEQUENCE_FLAGS, SEQ_NEEDS_INCREMENTAL_STATE);
	if (w->nfresh) {
		ss_pb_begin(&w->pkt, PKT_INTERNED_DATA);
		/* Grouped by table (repeated fields of one number need not
		 * be adjacent, but this reads better in a decoder). */
		for (unsigned t = 0; t < T_N; t++) {
			for (unsigned i = 0; i < w->nfresh; i++) {
				if (w->fresh[i].table != t)
					continue;
				ss_pb_begin(&w->pkt, table_field[t]);
				ss_pb_varint(&w->pkt, INTERNED_IID, w->fresh[i].iid);
				ss_pb_string(&w->pkt, INTERNED_NAME, w->fresh[i].s);
				ss_pb_end(&w->pkt);
			}
		}
		ss_pb_end(&w->pkt);
		w->nfresh = 0;
	}
	ss_pb_bytes(&w->pkt, PKT_TRACK_EVENT, w->ev.buf, w->ev.len);
	ss_pb_reset(&w->ev);
	emit_packet(w);
}

static void put_args(struct pw *w, const struct ss_xarg *args, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct ss_xarg *a = &args[i];

		ss_pb_begin(&w->ev, TE_DEBUG_ANNOTATIONS);
		ss_pb_varint(&w->ev, DA_NAME_IID, intern(w, T_ANNOTATION, a->name));
		switch (a->type) {
		case SS_XA_UINT:
			ss_pb_varint(&w->ev, DA_UINT, a->u);
			break;
		case SS_XA_INT:
			ss_pb_int(&w->ev, DA_INT, a->i);
			break;
		case SS_XA_DOUBLE:
			ss_pb_double(&w->ev, DA_DOUBLE, a->d);
			break;
		case SS_XA_STRING:
			ss_pb_string(&w->ev, DA_STRING, a->s ? a->s : "");
			break;
		case SS_XA_BOOL:
			ss_pb_varint(&w->ev, DA_BOOL, a->b);
			break;
		}
		ss_pb_end(&w->ev);
	}
}

/* A slice begin or an instant. */
static void named_event(struct pw *w, const struct ss_xtrack *t,
			const struct ss_xevent *e, unsigned type)
{
	make_room(w, 2 + e->nargs);
	ss_pb_varint(&w->ev, TE_TYPE, type);
	ss_pb_varint(&w->ev, TE_TRACK_UUID, t->uuid);
	ss_pb_varint(&w->ev, TE_CATEGORY_IIDS, intern(w, T_CATEGORY, e->cat));
	ss_pb_varint(&w->ev, TE_NAME_IID, intern(w, T_NAME, e->name));
	if (e->flow_out)
		ss_pb_fixed64(&w->ev, TE_FLOW_IDS, e->flow_out);
	if (e->flow_in)
		ss_pb_fixed64(&w->ev, TE_TERMINATING_FLOW_IDS, e->flow_in);
	put_args(w, e->args, e->nargs);
	emit_event(w, e->ts);
}

/* ---- the writer's operations ---------------------------------------------------- */

static void pw_track(struct ss_xwriter *xw, const struct ss_xtrack *t, __u64 ts)
{
	struct pw *w = (struct pw *)xw;
	struct ss_pb *p = &w->pkt;

	ss_pb_varint(p, PKT_TIMESTAMP, ts);
	ss_pb_varint(p, PKT_SEQUENCE_ID, SEQUENCE_ID);
	ss_pb_begin(p, PKT_TRACK_DESCRIPTOR);
	ss_pb_varint(p, TD_UUID, t->uuid);
	if (t->parent)
		ss_pb_varint(p, TD_PARENT_UUID, t->parent);
	ss_pb_string(p, TD_NAME, t->name);
	if (t->description[0])
		ss_pb_string(p, TD_DESCRIPTION, t->description);
	if (t->parent)
		ss_pb_int(p, TD_SIBLING_ORDER_RANK, t->rank);
	switch (t->kind) {
	case SS_XT_ROOT:
	case SS_XT_GROUP:
		ss_pb_varint(p, TD_CHILD_ORDERING, CHILD_ORDERING_EXPLICIT);
		break;
	case SS_XT_COUNTER:
		ss_pb_begin(p, TD_COUNTER);
		ss_pb_varint(p, CD_UNIT, UNIT_COUNT);
		ss_pb_end(p);
		break;
	case SS_XT_THREAD:
	case SS_XT_LANE:
		break;
	}
	ss_pb_end(p);
	emit_packet(w);
}

static void pw_begin(struct ss_xwriter *xw, const struct ss_xtrack *t,
		     const struct ss_xevent *e)
{
	named_event((struct pw *)xw, t, e, TYPE_SLICE_BEGIN);
}

static void pw_end(struct ss_xwriter *xw, const struct ss_xtrack *t,
		   const struct ss_xevent *begin, __u64 ts,
		   const struct ss_xarg *args, unsigned nargs)
{
	struct pw *w = (struct pw *)xw;

	(void)begin;
	make_room(w, nargs);
	ss_pb_varint(&w->ev, TE_TYPE, TYPE_SLICE_END);
	ss_pb_varint(&w->ev, TE_TRACK_UUID, t->uuid);
	/* Perfetto merges an end's annotations into the slice's. */
	put_args(w, args, nargs);
	emit_event(w, ts);
}

static void pw_instant(struct ss_xwriter *xw, const struct ss_xtrack *t,
		       const struct ss_xevent *e)
{
	named_event((struct pw *)xw, t, e, TYPE_INSTANT);
}

static void pw_counter(struct ss_xwriter *xw, const struct ss_xtrack *t,
		       __u64 ts, __s64 value)
{
	struct pw *w = (struct pw *)xw;

	ss_pb_varint(&w->ev, TE_TYPE, TYPE_COUNTER);
	ss_pb_varint(&w->ev, TE_TRACK_UUID, t->uuid);
	ss_pb_int(&w->ev, TE_COUNTER_VALUE, value);
	emit_event(w, ts);
}

static int pw_finish(struct ss_xwriter *xw)
{
	struct pw *w = (struct pw *)xw;
	int err;

	if (fflush(w->out) || ferror(w->out))
		fail(w, errno ? -errno : -EIO);
	err = w->err;
	for (unsigned t = 0; t < T_N; t++)
		for (unsigned i = 0; i < INTERN_SLOTS; i++)
			free(w->tables[t].slots[i].s);
	ss_pb_free(&w->pkt);
	ss_pb_free(&w->ev);
	free(w);
	return err;
}

static const struct ss_xwriter_ops pw_ops = {
	.track = pw_track,
	.begin = pw_begin,
	.end = pw_end,
	.instant = pw_instant,
	.counter = pw_counter,
	.finish = pw_finish,
};

struct ss_xwriter *ss_xwriter_perfetto(FILE *out, const struct ss_trace_meta *meta)
{
	struct pw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->base.ops = &pw_ops;
	w->out = out;

	/* 1: where MONOTONIC is, and that it is the trace's clock. */
	ss_pb_begin(&w->pkt, PKT_CLOCK_SNAPSHOT);
	ss_pb_begin(&w->pkt, SNAP_CLOCKS);
	ss_pb_varint(&w->pkt, CLOCK_ID, BUILTIN_CLOCK_MONOTONIC);
	ss_pb_varint(&w->pkt, CLOCK_TIMESTAMP, meta->start_mono_ns);
	ss_pb_end(&w->pkt);
	if (meta->start_realtime_ns && meta->start_mono_ns) {	/* one instant, both clocks */
		ss_pb_begin(&w->pkt, SNAP_CLOCKS);
		ss_pb_varint(&w->pkt, CLOCK_ID, BUILTIN_CLOCK_REALTIME);
		ss_pb_varint(&w->pkt, CLOCK_TIMESTAMP, meta->start_realtime_ns);
		ss_pb_end(&w->pkt);
	}
	ss_pb_varint(&w->pkt, SNAP_PRIMARY_TRACE_CLOCK, BUILTIN_CLOCK_MONOTONIC);
	ss_pb_end(&w->pkt);
	emit_packet(w);
	/* 2: our sequence, its defaults. */
	clear_incremental_state(w, true);
	if (w->err) {
		errno = -w->err;
		pw_finish(&w->base);
		return NULL;
	}
	return &w->base;
}
