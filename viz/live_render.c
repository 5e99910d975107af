/* SPDX-License-Identifier: MIT */
/*
 * The live view's screen: the model (live_model.c) drawn into a cell grid,
 * which live.c copies to the terminal and the tests read as text.  Owns
 * the screen layout.
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

#include "lanes.h"
#include "live_model.h"
#include "present.h"

#define LABEL_GAP 10		/* columns between axis labels, at least */
#define PANEL_MIN 4		/* rows kept for the stall panel */
#define DETAIL_ROWS 4		/* rows for the selected stall's paragraph */

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
	unsigned nw = ss_live_nlanes_of(m);
	const char *status = v->status ? v->status : "";
	size_t sl = strlen(status);

	fill_row(g, 0, SS_LA_TITLE);
	putf(g, 0, 0, SS_LA_TITLE, "stallscope live - %s (pid %u), %u worker%s%s%s",
	     m->comm[0] ? m->comm : "?", m->pid, nw, nw == 1 ? "" : "s",
	     m->first_ts ? ss_sources_label(&m->a) : "", ss_readiness_label(&m->a));
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
	__u64 step;
	int exp, decimals;
	long next_free = 0;

	fill_row(g, r, SS_LA_DIM);
	fill_row(g, r + 1, SS_LA_DIM);
	put(g, r, 0, note, SS_LA_DIM);
	for (unsigned c = 0; c < ncols; c++)
		put(g, r + 1, x0 + c, "-", SS_LA_DIM);
	if (!m->first_ts)
		return;
	step = ss_step_125(col_ns * LABEL_GAP, &exp);
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
		ss_live_lane_label(m, w, label, sizeof(label));
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

			if (d->d.holder != (int)w ||
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
	unsigned nl = ss_live_nlanes_of(m), pad, ncols, avail, nshow, r;
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
	pad = (unsigned)ss_live_label_width(m);
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
