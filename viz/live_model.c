/* SPDX-License-Identifier: MIT */
/*
 * The live view's model (see live_model.h); its rendering into a cell
 * grid is live_render.c's.  Owns: the bounded history the screen is
 * drawn from, the header figures, lanes into columns, the lane labels.  Does not own: the terminal,
 * the keys or the pacing (live.c), what a worker is doing (the analyzer's
 * on_state says so), how a stall is worded (the caller passes the label
 * and paragraph).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanes.h"
#include "live_model.h"
#include "window.h"
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

#define LABEL_MAX 24		/* lane label columns, at most */

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

void ss_live_model_on_step(void *arg, const struct ss_step *s)
{
	struct ss_live_model *m = arg;
	__u64 slot = s->ts / SS_LIVE_RATE_SLOT_NS;
	unsigned i = (unsigned)(slot % SS_LIVE_RATE_SLOTS);

	if (!m->first_ts || s->ts < m->first_ts)
		m->first_ts = s->ts;
	if (s->ts > m->now)
		m->now = s->ts;
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

void ss_live_model_keep(struct ss_live_model *m, const struct ss_record *r)
{
	if (m->nkeep == m->keep_cap) {
		m->keep_head = (m->keep_head + 1) % m->keep_cap;
		m->nkeep--;
	}
	m->keep[(m->keep_head + m->nkeep) % m->keep_cap] = *r;
	m->nkeep++;
	if (!ss_record_is_context(r))
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

void ss_live_lane_states(const struct ss_live_model *m, unsigned worker,
			 __u64 from, __u64 col_ns, unsigned ncols,
			 enum ss_wstate *out)
{
	const struct ss_live_lane *l = worker < SS_MAX_WORKERS ? &m->lanes[worker] : NULL;
	struct ss_lane_window w = { from, from + col_ns * ncols, ncols };
	struct ss_lane_fold fold;
	size_t lo = 0, hi;

	for (unsigned c = 0; c < ncols; c++)
		out[c] = SS_W_UNKNOWN;
	if (!l || !l->n || !col_ns || !ncols)
		return;
	ss_lane_fold_init(&fold);
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
		__u64 e = k + 1 < l->n ? seg_at(l, k + 1)->ts : m->now;

		if (sg->ts >= w.to)
			break;
		ss_lane_fold_add(&w, &fold, sg->state, sg->ts, e, out);
	}
	ss_lane_fold_close(&fold, out);
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
void ss_live_lane_label(const struct ss_live_model *m, unsigned i, char *buf,
		       size_t len)
{
	const char *comm = i < m->a.nworkers && m->a.workers[i].comm[0] ?
		m->a.workers[i].comm : "?";

	snprintf(buf, len, "w%u %.16s", i, comm);
}

unsigned ss_live_nlanes_of(const struct ss_live_model *m)
{
	unsigned n = m->nlanes > m->a.nworkers ? m->nlanes : m->a.nworkers;

	return n > SS_MAX_WORKERS ? SS_MAX_WORKERS : n;
}

int ss_live_label_width(const struct ss_live_model *m)
{
	int pad = (int)strlen("stalls");
	char label[64];

	for (unsigned i = 0; i < ss_live_nlanes_of(m); i++) {
		int n;

		ss_live_lane_label(m, i, label, sizeof(label));
		n = (int)strlen(label);
		if (n > pad)
			pad = n;
	}
	return pad > LABEL_MAX ? LABEL_MAX : pad;
}

/* A lane line is "LABEL |cells|". */
unsigned ss_live_lane_cols(const struct ss_live_model *m, unsigned cols)
{
	int n = (int)cols - ss_live_label_width(m) - 3;

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
	return ss_trace_finish(w, lost, to, SS_STOP_WINDOW, -1);
}
