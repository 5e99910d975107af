/* SPDX-License-Identifier: MIT */
/*
 * The live view's model (live_model.c): what `stallscope live` knows and
 * how it becomes a screen, with no terminal in sight.
 *
 * Fed by the analyzer's callbacks (on_state, on_step, on_detection) and
 * by the raw records as they arrive, it keeps, all bounded:
 *   - per worker, a ring of state changes (SS_LIVE_SEGS), so any window at
 *     any zoom can be drawn exactly;
 *   - the most recent detections (SS_LIVE_DETS) with their one-line label
 *     and their paragraph;
 *   - the header figures (events/s over the last second of trace time);
 *   - the most recent raw records, and the records that name threads, so
 *     the on-screen window can be written back out as a trace (`w`).
 * ss_live_render() draws the whole screen into a grid of glyph + attribute
 * cells; viz/live.c only copies that grid to the terminal, so what the
 * unit tests check is what the user sees.
 *
 * Times are absolute CLOCK_MONOTONIC ns, as in the records.
 */
#ifndef STALLSCOPE_LIVE_MODEL_H
#define STALLSCOPE_LIVE_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "analyze.h"
#include "present.h"
#include "trace.h"

#define SS_LIVE_SEGS (1U << 16)		/* state changes kept per worker */
#define SS_LIVE_DETS 256		/* detections kept (newest) */
#define SS_LIVE_KEEP (1U << 17)		/* raw records kept for `w` (8 MiB) */
#define SS_LIVE_CONTEXT 1024		/* thread-naming records kept */
#define SS_LIVE_RATE_SLOTS 10		/* events/s: ten 100 ms slots */
#define SS_LIVE_RATE_SLOT_NS 100000000ULL
#define SS_LIVE_MIN_COLS 40		/* smaller terminals get a notice */
#define SS_LIVE_MIN_ROWS 12
#define SS_LIVE_COL_MIN_NS 10000ULL		/* zoom range: 10 us .. */
#define SS_LIVE_COL_MAX_NS 10000000000ULL	/* .. 10 s a column */
#define SS_LIVE_COL_DEFAULT_NS 10000000ULL	/* 10 ms a column */

/* What a cell is drawn as (live.c maps each to a colour pair). */
enum ss_live_attr {
	SS_LA_TEXT = 0,		/* plain text, and unknown/exited lanes */
	SS_LA_RUNNING,
	SS_LA_SEARCHING,
	SS_LA_DRIVER,
	SS_LA_FUTEX,
	SS_LA_IDLE,
	SS_LA_OFFCPU,
	SS_LA_STALL,		/* stall markers, the stall count */
	SS_LA_TITLE,		/* the title bar */
	SS_LA_DIM,		/* axis, hints */
	SS_LA_WARN,		/* lost events, errors */
	SS_LA_SELECTED,		/* the selected stall's line and marker */
	SS_LA_NATTRS
};
#define SS_LA_HILITE 0x80	/* flag: a stalled lane's cells during the stall */

struct ss_live_cell {
	char ch;
	unsigned char attr;	/* enum ss_live_attr | SS_LA_HILITE */
};

struct ss_live_grid {
	unsigned rows, cols;
	struct ss_live_cell *cells;	/* rows x cols */
};

/* One state change: the worker is in state from ts on. */
struct ss_live_seg {
	__u64 ts;
	unsigned char state;	/* enum ss_wstate */
};

struct ss_live_lane {
	struct ss_live_seg *segs;	/* ring of SS_LIVE_SEGS */
	size_t head, n;			/* oldest at head; before it: unknown */
};

struct ss_live_det {
	struct ss_detection d;
	char label[200];	/* one line (ss_timeline_det_label) */
	char text[800];		/* the paragraph (ss_detection_describe) */
};

struct ss_live_model {
	/* The analyzer writes here (pass &m->a to ss_analyzer_new). */
	struct ss_analysis a;
	char comm[17];
	__u32 pid;
	bool kernel_only;

	__u64 first_ts;		/* first record seen (0: none yet) */
	__u64 now;		/* known up to here (ss_live_model_advance) */
	struct ss_live_lane lanes[SS_MAX_WORKERS];
	unsigned nlanes;	/* highest worker seen + 1 */

	struct ss_live_det *dets;	/* ring of SS_LIVE_DETS */
	size_t det_head, ndets;		/* newest at (head + n - 1) */
	size_t dets_total;		/* all seen, also those dropped */

	__u64 rate_slot[SS_LIVE_RATE_SLOTS];	/* slot number (ts / 100 ms) */
	__u64 rate_n[SS_LIVE_RATE_SLOTS];

	/* Raw records for `w`: a ring of keep_cap, plus the latest
	 * thread-naming record per thread (names, worker_start). */
	struct ss_record *keep;
	size_t keep_cap, keep_head, nkeep;
	struct ss_record context[SS_LIVE_CONTEXT];
	size_t ncontext;
};

/* What is on screen: live.c owns it and the keys change it. */
struct ss_live_view {
	__u64 col_ns;		/* time a column stands for */
	__u64 right_ns;		/* the right edge (live: now) */
	unsigned lane_top;	/* first lane shown (up/down) */
	int selected;		/* detection shown in detail: 0 newest; -1 none */
	bool help;		/* the help box over everything */
	const char *status;	/* right of the title: "LIVE", "PAUSED", ... */
	const char *message;	/* the bottom line instead of the key hints */
};

/* keep_cap: raw records kept for `w` (0: SS_LIVE_KEEP). */
int ss_live_model_init(struct ss_live_model *m, const struct ss_trace_meta *meta,
		       size_t keep_cap);
void ss_live_model_free(struct ss_live_model *m);

/* The analyzer's callbacks; arg is the model. */
void ss_live_model_on_state(void *arg, unsigned worker, __u64 ts,
			    enum ss_wstate state, __u64 task);
void ss_live_model_on_step(void *arg, const struct ss_step *s);
/* A detection with its label and paragraph (the caller formats them:
 * the model needs no analyzer code). */
void ss_live_model_add_detection(struct ss_live_model *m,
				 const struct ss_detection *d,
				 const char *label, const char *text);
/* Each raw record as it arrives (before the analyzer's reordering). */
void ss_live_model_keep(struct ss_live_model *m, const struct ss_record *r);
/* Everything up to t is known: lanes extend to t.  Never goes back. */
void ss_live_model_advance(struct ss_live_model *m, __u64 t);

/* The i-th most recent detection (0: newest), NULL past the end. */
const struct ss_live_det *ss_live_model_det(const struct ss_live_model *m,
					    size_t i);
/* Events per second over the last second of trace time before now. */
double ss_live_model_rate(const struct ss_live_model *m);

/*
 * The state shown in each of ncols columns of worker's lane, column c
 * covering [from + c * col_ns, from + (c + 1) * col_ns): the state that
 * held it for most of the column (ties: what the runtime did over why it
 * waited, as in the static timeline).  SS_W_UNKNOWN where nothing is
 * known (before its first change, after now, or dropped from the ring).
 */
void ss_live_lane_states(const struct ss_live_model *m, unsigned worker,
			 __u64 from, __u64 col_ns, unsigned ncols,
			 enum ss_wstate *out);
char ss_live_glyph(enum ss_wstate s);
enum ss_live_attr ss_live_state_attr(enum ss_wstate s);

/* The zoom steps, 1-2-5 x 10^k ns within the range: dir > 0 wider
 * columns (zoom out), < 0 narrower. */
__u64 ss_live_zoom(__u64 col_ns, int dir);
/* The columns the lanes get on a screen cols wide. */
unsigned ss_live_lane_cols(const struct ss_live_model *m, unsigned cols);
/* The window's left edge for a view drawn cols wide. */
__u64 ss_live_view_from(const struct ss_live_model *m,
			const struct ss_live_view *v, unsigned cols);
/* The lanes: how many, worker i's label ("w3 wsrt-w3"), and the columns
 * the labels take. */
unsigned ss_live_nlanes_of(const struct ss_live_model *m);
void ss_live_lane_label(const struct ss_live_model *m, unsigned i, char *buf,
			size_t len);
int ss_live_label_width(const struct ss_live_model *m);

/* live_render.c */

int ss_live_grid_resize(struct ss_live_grid *g, unsigned rows, unsigned cols);
void ss_live_grid_free(struct ss_live_grid *g);
/* Row r as a string (for tests): glyphs only, trailing blanks cut. */
void ss_live_grid_row(const struct ss_live_grid *g, unsigned r, char *buf,
		      size_t len);
/* Draws the whole screen into g (its size is the screen's). */
void ss_live_render(const struct ss_live_model *m, const struct ss_live_view *v,
		    struct ss_live_grid *g);

/*
 * Writes the records of [from, to) kept in memory to path as a trace:
 * meta's header, first the thread-naming records older than from (their
 * time moved to from, so names and workers are known), then the kept
 * records of the window in arrival order.  *n: records written.  0 or
 * -errno (-ENODATA: none kept in the window).
 */
int ss_live_model_write(const struct ss_live_model *m,
			const struct ss_trace_meta *meta, __u64 from, __u64 to,
			const char *path, size_t *n);

#endif
