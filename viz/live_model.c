/* SPDX-License-Identifier: MIT */
/*
 * The live view's model and its rendering into a cell grid (see
 * live_model.h).  Owns: the bounded history the screen is drawn from,
 * the header figures, the screen layout.  Does not own: the terminal,
 * the keys or the pacing (live.c), what a worker is doing (the analyzer's
 * on_state says so), how a stall is worded (the caller passes the label
 * and paragraph).
 *
 * Screen layout, top to bottom:
 *   title                     stallscope live - COMM (pid N), W workers   STATUS
 *   figures                   events/s ...  events ...  lost ...  wasted ...  stalls ...
 *   time axis                 s since the first record, a '+' per label
 *   one lane per worker       wN COMM |cells|
 *   the stall markers         stalls  |  ^^^^  |
 *   legend
 *   recent stalls, newest first, and the selected one's paragraph
 *   key hints, or a message
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_model.h"
#include "present.h"


static const enum ss_live_attr state_attrs[SS_W_NSTATES] = {
	[SS_W_UNKNOWN] = SS_LA_TEXT,
	[SS_W_RUNNING] = SS_LA_RUNNING,
	[SS_W_SEARCHING] = SS_LA_SEARCHING,
	[SS_W_PARKED_DRIVER] = SS_LA_DRIVER,
	[SS_W_PARKED_FUTEX] = SS_LA_FUTEX,
	[SS_W_IDLE] = SS_LA_IDLE,
	[SS_W_OFFCPU] = SS_LA_OFFCPU,
	[SS_W_EXITED] = SS_LA_TEXT,
};

/* Who wins a tie for a column: what the runtime did over why it waited
 * (timeline.c's order). */
static const enum ss_wstate tie_order[SS_W_NSTATES] = {
	SS_W_RUNNING, SS_W_SEARCHING, SS_W_PARKED_DRIVER, SS_W_PARKED_FUTEX,
	SS_W_OFFCPU, SS_W_IDLE, SS_W_EXITED, SS_W_UNKNOWN,
};

#define LABEL_MAX 24		/* lane label columns, at most */
#define LABEL_GAP 10		/* columns between axis labels, at least */
#define PANEL_MIN 4		/* rows kept for the stall panel */
#define DETAIL_ROWS 4		/* rows for the selected stall's paragraph */

char ss_live_glyph(enum ss_wstate s)
{
	return ss_wstate_glyph(s);
}

enum ss_live_attr ss_live_state_attr(enum ss_wstate s)
{
	return (unsigned)s < SS_W_NSTATES ? state_attrs[s] : SS_LA_TEXT;
}

/* ---- the model ---------------------------------------------------------------- */

int ss_live_model_init(struct ss_live_model *m, const struct ss_trace_meta *meta,
		       size_t keep_cap)
{
	memset(m, 0, sizeof(*m));
	if (meta) {
		snprintf(m->comm, sizeof(m->comm), "%s", meta->comm);
		m->pid = meta->pid;
		m->kernel_only = meta->flags & SS_FILE_KERNEL_ONLY;
	}
	m->keep_cap = keep_cap ? keep_cap : SS_LIVE_KEEP;
	m->dets = calloc(SS_LIVE_DETS, sizeof(*m->dets));
	m->keep = malloc(m->keep_cap * sizeof(*m->keep));
	if (!m->dets || !m->keep) {
		ss_live_model_free(m);
		return -ENOMEM;
	}
	return 0;
}

void ss_live_model_free(struct ss_live_model *m)
{
	for (unsigned i = 0; i < SS_MAX_WORKERS; i++)
		free(m->lanes[i].segs);
	free(m->dets);
	free(m->keep);
	free(m->a.dets);	/* ss_analysis_free(), without the analyzer */
	memset(m, 0, sizeof(*m));
}

static const struct ss_live_seg *seg_at(const struct ss_live_lane *l, size_t k)
{
	return &l->segs[(l->head + k) % SS_LIVE_SEGS];
}

void ss_live_model_on_state(void *arg, unsigned worker, __u64 ts,
			    enum ss_wstate state, __u64 task)
{
	struct ss_live_model *m = arg;
	struct ss_live_lane *l;
	struct ss_live_seg *last;

	(void)task;
	if (worker >= SS_MAX_WORKERS || (unsigned)state >= SS_W_NSTATES)
		return;
	l = &m->lanes[worker];
	if (!l->segs && !(l->segs = malloc(SS_LIVE_SEGS * sizeof(*l->segs))))
		return;		/* that lane stays blank */
	if (worker + 1 > m->nlanes)
		m->nlanes = worker + 1;
	if (ts > m->now)
		m->now = ts;
	if (l->n) {
		last = &l->segs[(l->head + l->n - 1) % SS_LIVE_SEGS];
		if (last->state == state)
			return;
		/* A record applied late: the change happens no earlier
		 * than the last one, so the ring stays in time order. */
		if (ts <= last->ts) {
			last->state = (unsigned char)state;
			return;
		}
	}
	if (l->n == SS_LIVE_SEGS) {	/* drop the oldest */
		l->head = (l->head + 1) % SS_LIVE_SEGS;
		l->n--;
	}
	l->segs[(l->head + l->n) % SS_LIVE_SEGS] =
		(struct ss_live_seg){ .ts = ts, .state = (unsigned char)state };
	l->n++;
}

void ss_live_model_on_record(void *arg, const struct ss_record *r, int worker)
{
	struct ss_live_model *m = arg;
	__u64 slot = r->ts / SS_LIVE_RATE_SLOT_NS;
	unsigned i = (unsigned)(slot % SS_LIVE_RATE_SLOTS);

	(void)worker;
	if (!m->first_ts || r->ts < m->first_ts)
		m->first_ts = r->ts;
	if (r->ts > m->now)
		m->now = r->ts;
	if (m->rate_slot[i] != slot) {
		if (m->rate_slot[i] > slot)
			return;		/* older than what the slot counts */
		m->rate_slot[i] = slot;
		m->rate_n[i] = 0;
	}
	m->rate_n[i]++;
}

void ss_live_model_add_detection(struct ss_live_model *m,
				 const struct ss_detection *d,
				 const char *label, const char *text)
{
	struct ss_live_det *e;

	if (m->ndets == SS_LIVE_DETS) {
		m->det_head = (m->det_head + 1) % SS_LIVE_DETS;
		m->ndets--;
	}
	e = &m->dets[(m->det_head + m->ndets) % SS_LIVE_DETS];
	e->d = *d;
	snprintf(e->label, sizeof(e->label), "%s", label ? label : "");
	snprintf(e->text, sizeof(e->text), "%s", text ? text : "");
	m->ndets++;
	m->dets_total++;
}

const struct ss_live_det *ss_live_model_det(const struct ss_live_model *m,
					    size_t i)
{
	if (i >= m->ndets)
		return NULL;
	return &m->dets[(m->det_head + m->ndets - 1 - i) % SS_LIVE_DETS];
}

/* Records that say who a thread is: kept apart so that a window written
 * out still names its workers. */
static bool names_a_thread(const struct ss_record *r)
{
	return r->type == SS_COMM || r->type == SS_THREAD_AT_ATTACH ||
	       r->type == SS_SHIM_THREAD_NAME || r->type == SS_WSRT_WORKER_START;
}

void ss_live_model_keep(struct ss_live_model *m, const struct ss_record *r)
{
	if (m->nkeep == m->keep_cap) {
		m->keep_head = (m->keep_head + 1) % m->keep_cap;
		m->nkeep--;
	}
	m->keep[(m->keep_head + m->nkeep) % m->keep_cap] = *r;
	m->nkeep++;
	if (!names_a_thread(r))
		return;
	/* The latest per (type, thread); a full table keeps the first. */
	for (size_t i = 0; i < m->ncontext; i++) {
		if (m->context[i].type == r->type && m->context[i].tid == r->tid) {
			if (r->ts >= m->context[i].ts)
				m->context[i] = *r;
			return;
		}
	}
	if (m->ncontext < SS_LIVE_CONTEXT)
		m->context[m->ncontext++] = *r;
}

void ss_live_model_advance(struct ss_live_model *m, __u64 t)
{
	if (t > m->now)
		m->now = t;
}

double ss_live_model_rate(const struct ss_live_model *m)
{
	__u64 cur = m->now / SS_LIVE_RATE_SLOT_NS, n = 0, since;

	if (!m->first_ts || m->now <= m->first_ts)
		return 0;
	for (unsigned i = 0; i < SS_LIVE_RATE_SLOTS; i++)
		if (m->rate_slot[i] + SS_LIVE_RATE_SLOTS > cur && m->rate_slot[i] <= cur)
			n += m->rate_n[i];
	since = cur >= SS_LIVE_RATE_SLOTS - 1 ?
		(cur - (SS_LIVE_RATE_SLOTS - 1)) * SS_LIVE_RATE_SLOT_NS : 0;
	if (since < m->first_ts)
		since = m->first_ts;
	/* At least 10 ms of span: the first events don't make a rate. */
	if (m->now - since < 10000000ULL)
		return 0;
	return (double)n * 1e9 / (double)(m->now - since);
}

/* ---- lanes into columns ----------------------------------------------------------- */

static void column_close(__u64 *acc, enum ss_wstate *out, long c)
{
	enum ss_wstate best = SS_W_UNKNOWN;
	__u64 most = 0;

	if (c < 0)
		return;
	for (unsigned i = 0; i < SS_W_NSTATES; i++) {
		enum ss_wstate s = tie_order[i];

		if (acc[s] > most) {
			most = acc[s];
			best = s;
		}
	}
	out[c] = best;
	memset(acc, 0, SS_W_NSTATES * sizeof(*acc));
}

void ss_live_lane_states(const struct ss_live_model *m, unsigned worker,
			 __u64 from, __u64 col_ns, unsigned ncols,
			 enum ss_wstate *out)
{
	const struct ss_live_lane *l = worker < SS_MAX_WORKERS ? &m->lanes[worker] : NULL;
	__u64 acc[SS_W_NSTATES] = { 0 };
	__u64 to = from + col_ns * ncols;
	size_t lo = 0, hi;
	long cur = -1;

	for (unsigned c = 0; c < ncols; c++)
		out[c] = SS_W_UNKNOWN;
	if (!l || !l->n || !col_ns || !ncols)
		return;
	/* The last change at or before from (or the first one). */
	hi = l->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (seg_at(l, mid)->ts <= from)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t k = lo; k < l->n; k++) {
		const struct ss_live_seg *sg = seg_at(l, k);
		__u64 s = sg->ts > from ? sg->ts : from;
		__u64 e = k + 1 < l->n ? seg_at(l, k + 1)->ts : m->now;

		if (sg->ts >= to)
			break;
		if (e > to)
			e = to;
		while (s < e) {
			long c = (long)((s - from) / col_ns);
			__u64 ce = from + (__u64)(c + 1) * col_ns;

			if (ce > e)
				ce = e;
			if (c != cur) {
				column_close(acc, out, cur);
				cur = c;
			}
			acc[sg->state < SS_W_NSTATES ? sg->state : SS_W_UNKNOWN] += ce - s;
			s = ce;
		}
	}
	column_close(acc, out, cur);
}

__u64 ss_live_zoom(__u64 col_ns, int dir)
{
	static const unsigned mult[] = { 1, 2, 5 };
	__u64 prev = SS_LIVE_COL_MIN_NS;

	/* Walk the steps from the smallest: the first above (zoom out) or
	 * the last below (zoom in) col_ns. */
	for (__u64 pow = 1; pow <= SS_LIVE_COL_MAX_NS; pow *= 10) {
		for (unsigned i = 0; i < 3; i++) {
			__u64 s = pow * mult[i];

			if (s < SS_LIVE_COL_MIN_NS || s > SS_LIVE_COL_MAX_NS)
				continue;
			if (dir > 0 && s > col_ns)
				return s;
			if (dir < 0 && s >= col_ns)
				return prev;
			prev = s;
		}
	}
	return dir > 0 ? SS_LIVE_COL_MAX_NS : prev;
}

/* "w3 wsrt-w3", at most LABEL_MAX characters. */
static void lane_label(const struct ss_live_model *m, unsigned i, char *buf,
		       size_t len)
{
	const char *comm = i < m->a.nworkers && m->a.workers[i].comm[0] ?
		m->a.workers[i].comm : "?";

	snprintf(buf, len, "w%u %.16s", i, comm);
}

static unsigned nlanes_of(const struct ss_live_model *m)
{
	unsigned n = m->nlanes > m->a.nworkers ? m->nlanes : m->a.nworkers;

	return n > SS_MAX_WORKERS ? SS_MAX_WORKERS : n;
}

static int label_width(const struct ss_live_model *m)
{
	int pad = (int)strlen("stalls");
	char label[64];

	for (unsigned i = 0; i < nlanes_of(m); i++) {
		int n;

		lane_label(m, i, label, sizeof(label));
		n = (int)strlen(label);
		if (n > pad)
			pad = n;
	}
	return pad > LABEL_MAX ? LABEL_MAX : pad;
}

/* A lane line is "LABEL |cells|". */
unsigned ss_live_lane_cols(const struct ss_live_model *m, unsigned cols)
{
	int n = (int)cols - label_width(m) - 3;

	return n > 1 ? (unsigned)n : 1;
}

__u64 ss_live_view_from(const struct ss_live_model *m,
			const struct ss_live_view *v, unsigned cols)
{
	__u64 w = (__u64)ss_live_lane_cols(m, cols) * v->col_ns;
	/* The right edge on a column boundary: cells keep their place as
	 * time goes by, only the newest one fills. */
	__u64 to = (v->right_ns + v->col_ns - 1) / v->col_ns * v->col_ns;

	return to > w ? to - w : 0;
}

/* ---- the grid ------------------------------------------------------------------- */

int ss_live_grid_resize(struct ss_live_grid *g, unsigned rows, unsigned cols)
{
	struct ss_live_cell *c;

	if (!rows || !cols)
		return -EINVAL;
	c = realloc(g->cells, (size_t)rows * cols * sizeof(*c));
	if (!c)
		return -ENOMEM;
	g->cells = c;
	g->rows = rows;
	g->cols = cols;
	return 0;
}

void ss_live_grid_free(struct ss_live_grid *g)
{
	free(g->cells);
	memset(g, 0, sizeof(*g));
}

void ss_live_grid_row(const struct ss_live_grid *g, unsigned r, char *buf,
		      size_t len)
{
	size_t n = 0;

	if (!len)
		return;
	for (unsigned c = 0; r < g->rows && c < g->cols && n + 1 < len; c++)
		buf[n++] = g->cells[(size_t)r * g->cols + c].ch;
	while (n && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
}

static void put(struct ss_live_grid *g, unsigned r, unsigned c, const char *s,
		unsigned char attr)
{
	if (r >= g->rows)
		return;
	for (; *s && c < g->cols; s++, c++) {
		struct ss_live_cell *cell = &g->cells[(size_t)r * g->cols + c];

		cell->ch = (*s >= 32 && *s < 127) ? *s : '?';
		cell->attr = attr;
	}
}

static void putf(struct ss_live_grid *g, unsigned r, unsigned c,
		 unsigned char attr, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void putf(struct ss_live_grid *g, unsigned r, unsigned c,
		 unsigned char attr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(g, r, c, buf, attr);
}

static void fill_row(struct ss_live_grid *g, unsigned r, unsigned char attr)
{
	for (unsigned c = 0; r < g->rows && c < g->cols; c++)
		g->cells[(size_t)r * g->cols + c] = (struct ss_live_cell){ ' ', attr };
}

/* ---- drawing -------------------------------------------------------------------- */

/* "950", "12.3k", "4.56M". */
static void fmt_rate(char *buf, size_t len, double v)
{
	if (v < 10000)
		snprintf(buf, len, "%.0f", v);
	else if (v < 1e6)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.2fM", v / 1e6);
}

static void draw_title(const struct ss_live_model *m, const struct ss_live_view *v,
		       struct ss_live_grid *g)
{
	unsigned nw = nlanes_of(m);
	const char *status = v->status ? v->status : "";
	size_t sl = strlen(status);

	fill_row(g, 0, SS_LA_TITLE);
	putf(g, 0, 0, SS_LA_TITLE, "stallscope live - %s (pid %u), %u worker%s%s",
	     m->comm[0] ? m->comm : "?", m->pid, nw, nw == 1 ? "" : "s",
	     m->a.kernel_only && m->first_ts ? ", kernel events only" : "");
	if (sl + 1 < g->cols)
		put(g, 0, g->cols - (unsigned)sl - 1, status, SS_LA_TITLE);
}

static void draw_figures(const struct ss_live_model *m, const struct ss_live_view *v,
			 struct ss_live_grid *g, unsigned r)
{
	char rate[32], wasted[32], col[32], buf[64];
	unsigned c = 0;

	fmt_rate(rate, sizeof(rate), ss_live_model_rate(m));
	ss_fmt_dur(wasted, sizeof(wasted), m->a.wasted_worker_ns);
	ss_fmt_dur(col, sizeof(col), v->col_ns);
	fill_row(g, r, SS_LA_TEXT);
	c += (unsigned)snprintf(buf, sizeof(buf), "events/s %s  ", rate);
	put(g, r, 0, buf, SS_LA_TEXT);
	snprintf(buf, sizeof(buf), "events %llu  ", (unsigned long long)m->a.events);
	put(g, r, c, buf, SS_LA_TEXT);
	c += (unsigned)strlen(buf);
	snprintf(buf, sizeof(buf), "lost %llu", (unsigned long long)m->a.lost);
	put(g, r, c, buf, m->a.lost ? SS_LA_WARN : SS_LA_TEXT);
	c += (unsigned)strlen(buf) + 2;
	snprintf(buf, sizeof(buf), "wasted %s  ", wasted);
	put(g, r, c, buf, SS_LA_TEXT);
	c += (unsigned)strlen(buf);
	snprintf(buf, sizeof(buf), "stalls %zu", m->dets_total);
	put(g, r, c, buf, m->dets_total ? SS_LA_STALL : SS_LA_TEXT);
	c += (unsigned)strlen(buf) + 2;
	snprintf(buf, sizeof(buf), "column %s", col);
	put(g, r, c, buf, SS_LA_DIM);
}

/* Labels (s since the first record) every 1, 2 or 5 x 10^k ns, at least
 * LABEL_GAP columns apart, over a ruler with a '+' under each. */
static void draw_axis(const struct ss_live_model *m, struct ss_live_grid *g,
		      unsigned r, unsigned x0, __u64 from, __u64 col_ns,
		      unsigned ncols, const char *note)
{
	__u64 want = col_ns * LABEL_GAP, step = 0, pow = 1;
	int exp = 0, decimals;
	long next_free = 0;

	fill_row(g, r, SS_LA_DIM);
	fill_row(g, r + 1, SS_LA_DIM);
	put(g, r, 0, note, SS_LA_DIM);
	for (unsigned c = 0; c < ncols; c++)
		put(g, r + 1, x0 + c, "-", SS_LA_DIM);
	if (!m->first_ts)
		return;
	while (!step) {
		static const unsigned mult[] = { 1, 2, 5 };

		for (unsigned i = 0; i < 3 && !step; i++)
			if (pow * mult[i] >= want)
				step = pow * mult[i];
		if (!step) {
			pow *= 10;
			exp++;
		}
	}
	decimals = exp >= 9 ? 0 : 9 - exp;
	for (__u64 t = (from > m->first_ts ? from - m->first_ts : 0) / step * step;
	     m->first_ts + t < from + col_ns * ncols; t += step) {
		__u64 abs = m->first_ts + t;
		char label[32];
		long c;
		int n;

		if (abs < from)
			continue;
		c = (long)((abs - from) / col_ns);
		n = snprintf(label, sizeof(label), "%.*fs", decimals, (double)t / 1e9);
		if (c < next_free || c + n > (long)ncols)
			continue;
		put(g, r, x0 + (unsigned)c, label, SS_LA_DIM);
		put(g, r + 1, x0 + (unsigned)c, "+", SS_LA_DIM);
		next_free = c + n + 1;
	}
}

/* Columns [c0, c1] a span covers in the window, false if none. */
static bool span_cols(__u64 s, __u64 e, __u64 from, __u64 col_ns,
		      unsigned ncols, unsigned *c0, unsigned *c1)
{
	__u64 to = from + col_ns * ncols;

	if (e <= s)
		e = s + 1;
	if (s >= to || e <= from)
		return false;
	if (s < from)
		s = from;
	if (e > to)
		e = to;
	*c0 = (unsigned)((s - from) / col_ns);
	*c1 = (unsigned)((e - 1 - from) / col_ns);
	return true;
}

static void draw_lanes(const struct ss_live_model *m, const struct ss_live_view *v,
		       struct ss_live_grid *g, unsigned r, unsigned nshow,
		       unsigned pad, __u64 from, unsigned ncols,
		       enum ss_wstate *states)
{
	char label[64];

	for (unsigned k = 0; k < nshow; k++) {
		unsigned w = v->lane_top + k, x0 = pad + 2;

		fill_row(g, r + k, SS_LA_TEXT);
		lane_label(m, w, label, sizeof(label));
		putf(g, r + k, 0, SS_LA_TEXT, "%-*.*s |", (int)pad, (int)pad, label);
		ss_live_lane_states(m, w, from, v->col_ns, ncols, states);
		for (unsigned c = 0; c < ncols; c++) {
			char s[2] = { ss_live_glyph(states[c]), 0 };

			put(g, r + k, x0 + c, s, (unsigned char)ss_live_state_attr(states[c]));
		}
		put(g, r + k, x0 + ncols, "|", SS_LA_TEXT);
		/* Where a stall held this worker: its cells stand out. */
		for (size_t i = 0; i < m->ndets; i++) {
			const struct ss_live_det *d = ss_live_model_det(m, i);
			unsigned c0, c1;

			if (d->d.worker != (int)w ||
			    !span_cols(d->d.start_ns, d->d.start_ns + d->d.duration_ns,
				       from, v->col_ns, ncols, &c0, &c1))
				continue;
			for (unsigned c = c0; c <= c1; c++)
				g->cells[(size_t)(r + k) * g->cols + x0 + c].attr |= SS_LA_HILITE;
		}
	}
}

static void draw_markers(const struct ss_live_model *m, const struct ss_live_view *v,
			 struct ss_live_grid *g, unsigned r, unsigned pad,
			 __u64 from, unsigned ncols)
{
	unsigned x0 = pad + 2;

	fill_row(g, r, SS_LA_TEXT);
	putf(g, r, 0, SS_LA_TEXT, "%-*s |", (int)pad, "stalls");
	put(g, r, x0 + ncols, "|", SS_LA_TEXT);
	/* Oldest first, so the selected and the newest end up on top. */
	for (size_t i = m->ndets; i-- > 0;) {
		const struct ss_live_det *d = ss_live_model_det(m, i);
		unsigned c0, c1;

		if (!span_cols(d->d.start_ns, d->d.start_ns + d->d.duration_ns,
			       from, v->col_ns, ncols, &c0, &c1))
			continue;
		for (unsigned c = c0; c <= c1; c++)
			put(g, r, x0 + c, "^", (int)i == v->selected ?
			    SS_LA_SELECTED : SS_LA_STALL);
	}
}

static void draw_legend(struct ss_live_grid *g, unsigned r)
{
	static const struct {
		enum ss_wstate s;
		const char *what;
	} items[] = {
		{ SS_W_RUNNING, "running" },
		{ SS_W_SEARCHING, "searching" },
		{ SS_W_PARKED_DRIVER, "parked on driver" },
		{ SS_W_PARKED_FUTEX, "parked on futex" },
		{ SS_W_IDLE, "idle" },
		{ SS_W_OFFCPU, "runnable, off-CPU" },
	};
	unsigned c = 0;

	fill_row(g, r, SS_LA_DIM);
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		char s[2] = { ss_live_glyph(items[i].s), 0 };

		put(g, r, c, s, (unsigned char)ss_live_state_attr(items[i].s));
		put(g, r, c + 2, items[i].what, SS_LA_DIM);
		c += 2 + (unsigned)strlen(items[i].what) + 2;
	}
	put(g, r, c, "^", SS_LA_STALL);
	put(g, r, c + 2, "stall", SS_LA_DIM);
}

/* Wraps text into rows [r, r + n) from column x; returns the rows used. */
static unsigned put_wrapped(struct ss_live_grid *g, unsigned r, unsigned n,
			    unsigned x, const char *text, unsigned char attr)
{
	unsigned width = g->cols > x ? g->cols - x : 0, used = 0;
	const char *p = text;

	while (*p && used < n && width > 0) {
		size_t len = strlen(p), cut = len;
		char line[1024];

		if (len > width) {
			cut = width;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (!cut)
				cut = width;
		}
		if (cut >= sizeof(line))
			cut = sizeof(line) - 1;
		memcpy(line, p, cut);
		line[cut] = '\0';
		fill_row(g, r + used, SS_LA_TEXT);
		put(g, r + used, x, line, attr);
		used++;
		p += cut;
		while (*p == ' ')
			p++;
	}
	return used;
}

static void draw_panel(const struct ss_live_model *m, const struct ss_live_view *v,
		       struct ss_live_grid *g, unsigned r, unsigned n)
{
	const struct ss_live_det *sel = v->selected >= 0 ?
		ss_live_model_det(m, (size_t)v->selected) : NULL;
	unsigned list = n, first = 0;

	for (unsigned k = 0; k < n; k++)
		fill_row(g, r + k, SS_LA_TEXT);
	if (!n)
		return;
	if (!m->dets_total) {
		put(g, r, 0, "recent stalls: none detected yet", SS_LA_DIM);
		return;
	}
	if (m->dets_total > m->ndets)
		putf(g, r, 0, SS_LA_DIM, "recent stalls, newest first (%zu in all, the last %zu kept):",
		     m->dets_total, m->ndets);
	else
		putf(g, r, 0, SS_LA_DIM, "recent stalls, newest first (%zu):", m->dets_total);
	if (sel && n > 3) {
		unsigned rows = n - 2 < DETAIL_ROWS ? n - 2 : DETAIL_ROWS;

		list = n - rows;
		put_wrapped(g, r + list, rows, 2, sel->text[0] ? sel->text : sel->label,
			    SS_LA_TEXT);
	}
	/* Keep the selected line in the list. */
	if (v->selected >= 0 && list > 1 && (unsigned)v->selected >= list - 1)
		first = (unsigned)v->selected - (list - 2);
	for (unsigned k = 1; k < list; k++) {
		size_t i = first + k - 1;
		const struct ss_live_det *d = ss_live_model_det(m, i);
		double at;

		if (!d)
			break;
		at = (double)(d->d.start_ns > m->first_ts ? d->d.start_ns - m->first_ts : 0) / 1e9;
		putf(g, r + k, 0, (int)i == v->selected ? SS_LA_SELECTED : SS_LA_TEXT,
		     "%c +%.3fs  %s", (int)i == v->selected ? '>' : ' ', at, d->label);
	}
}

static void draw_help(struct ss_live_grid *g)
{
	static const char *const lines[] = {
		"stallscope live - keys",
		"",
		"q          quit (Ctrl-C too)",
		"space      pause / resume",
		"+ -        zoom in / out (the time a column stands for)",
		"left right scroll back / forward (pauses)",
		"up down    scroll the lanes",
		"s          select the next older stall and centre it",
		"esc        back to following now",
		"w          write the window on screen to a trace file",
		"n          step one column (replay, paused)",
		"> <        replay faster / slower",
		"?          this help; any key closes it",
	};
	unsigned n = sizeof(lines) / sizeof(lines[0]), w = 0;

	for (unsigned i = 0; i < n; i++)
		if (strlen(lines[i]) > w)
			w = (unsigned)strlen(lines[i]);
	w += 4;
	if (w > g->cols)
		w = g->cols;
	unsigned r0 = g->rows > n + 2 ? (g->rows - n - 2) / 2 : 0;
	unsigned c0 = (g->cols - w) / 2;
	for (unsigned i = 0; i < n + 2 && r0 + i < g->rows; i++) {
		for (unsigned c = 0; c < w; c++) {
			char ch = ' ';

			if (i == 0 || i == n + 1)
				ch = (c == 0 || c == w - 1) ? '+' : '-';
			else if (c == 0 || c == w - 1)
				ch = '|';
			g->cells[(size_t)(r0 + i) * g->cols + c0 + c] =
				(struct ss_live_cell){ ch, SS_LA_TITLE };
		}
		if (i > 0 && i <= n)
			put(g, r0 + i, c0 + 2, lines[i - 1], SS_LA_TITLE);
	}
}

void ss_live_render(const struct ss_live_model *m, const struct ss_live_view *v,
		    struct ss_live_grid *g)
{
	unsigned nl = nlanes_of(m), pad, ncols, avail, nshow, r;
	enum ss_wstate *states;
	char note[64] = "";
	__u64 from;

	for (unsigned i = 0; i < g->rows; i++)
		fill_row(g, i, SS_LA_TEXT);
	if (g->cols < SS_LIVE_MIN_COLS || g->rows < SS_LIVE_MIN_ROWS) {
		putf(g, 0, 0, SS_LA_WARN, "terminal too small: need %ux%u", SS_LIVE_MIN_COLS,
		     SS_LIVE_MIN_ROWS);
		put(g, 1, 0, "q quits", SS_LA_DIM);
		return;
	}
	pad = (unsigned)label_width(m);
	ncols = ss_live_lane_cols(m, g->cols);
	from = ss_live_view_from(m, v, g->cols);
	/* title, figures, axis x2, markers, legend, hints: 7 rows */
	avail = g->rows - 7 > PANEL_MIN ? g->rows - 7 - PANEL_MIN : 1;
	nshow = nl > v->lane_top ? nl - v->lane_top : 0;
	if (nshow > avail)
		nshow = avail;
	if (nshow < nl)
		snprintf(note, sizeof(note), "w%u-w%u of %u", v->lane_top,
			 v->lane_top + (nshow ? nshow - 1 : 0), nl);
	else if (!nl)
		snprintf(note, sizeof(note), "(no workers yet)");

	draw_title(m, v, g);
	draw_figures(m, v, g, 1);
	draw_axis(m, g, 2, pad + 2, from, v->col_ns, ncols, note);
	r = 4;
	states = malloc(ncols * sizeof(*states));
	if (states)
		draw_lanes(m, v, g, r, nshow, pad, from, ncols, states);
	free(states);
	r += nshow;
	draw_markers(m, v, g, r++, pad, from, ncols);
	draw_legend(g, r++);
	draw_panel(m, v, g, r, g->rows - 1 - r);
	fill_row(g, g->rows - 1, SS_LA_DIM);
	put(g, g->rows - 1, 0, v->message ? v->message :
	    "q quit  space pause  +/- zoom  arrows scroll  s stall  w write  ? help",
	    v->message ? SS_LA_WARN : SS_LA_DIM);
	if (v->help)
		draw_help(g);
}

/* ---- writing the window out -------------------------------------------------------- */

int ss_live_model_write(const struct ss_live_model *m,
			const struct ss_trace_meta *meta, __u64 from, __u64 to,
			const char *path, size_t *n)
{
	struct ss_trace_writer *w;
	__u64 lost = 0;
	size_t inside = 0;
	int err;

	*n = 0;
	for (size_t i = 0; i < m->nkeep; i++) {
		const struct ss_record *r = &m->keep[(m->keep_head + i) % m->keep_cap];

		inside += r->ts >= from && r->ts < to;
	}
	if (!inside)
		return -ENODATA;
	if ((err = ss_trace_create(path, meta, &w)))
		return err;
	for (size_t i = 0; i < m->ncontext && !err; i++) {
		struct ss_record r = m->context[i];

		if (r.ts >= from)
			continue;	/* in the window: written with it */
		r.ts = from;
		if (!(err = ss_trace_write(w, &r, 1)))
			(*n)++;
	}
	for (size_t i = 0; i < m->nkeep && !err; i++) {
		const struct ss_record *r = &m->keep[(m->keep_head + i) % m->keep_cap];

		if (r->ts < from || r->ts >= to)
			continue;
		if (r->type == SS_LOST)
			lost += r->args[0];
		if (!(err = ss_trace_write(w, r, 1)))
			(*n)++;
	}
	if (err) {
		ss_trace_abort(w);
		return err;
	}
	return ss_trace_finish(w, lost, to, SS_STOP_DURATION, -1);
}
