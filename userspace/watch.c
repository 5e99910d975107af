// SPDX-License-Identifier: MIT
/*
 * `stallscope watch` (watch.h, docs/watch.md): the flight recorder.
 *
 * One thread, each turn (at most TURN_MS):
 *  1. ss_recorder_poll() drains the ring buffer into the sink, which puts
 *     every record into the window (window.h) and the analyzer;
 *  2. the analyzer applies what is older than the recorder says is all
 *     there (ss_recorder_complete_ns: the threads' rings come in pulls,
 *     5-15 ms apart; a fixed 30 ms held events in vain, and cold: watch
 *     under HTTP load took 17-35 % more CPU an event, bench/README.md);
 *     each detection it ends is
 *     counted (metrics.h) and, if at least the trigger, opens a snapshot
 *     due once applied up to after_ns after its end — or joins the open one it
 *     overlaps: one file per stall, however many detections say it;
 *  3. snapshots that are due are cut from the window and written (trace
 *     writer: PATH.partial, renamed when whole), the oldest stall-*.trace
 *     beyond max_snapshots removed;
 *  4. the metrics endpoint does what is ready, and the metrics file is
 *     rewritten every metrics_every_ms.
 * Detections are forgotten once counted, so memory is the window, the
 * analyzer's per-worker and per-live-task state, and constants.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyze.h"
#include "clock.h"
#include "cli.h"
#include "metrics.h"
#include "metrics_http.h"
#include "outfile.h"
#include "prereq.h"
#include "present.h"
#include "window.h"
#include "watch.h"

#define TURN_MS 100
#define PENDING_MAX 4
#define MS 1000000ULL

static volatile sig_atomic_t quit_signal;

static void on_signal(int sig)
{
	quit_signal = sig;
}

struct snapshot {
	__u64 start_ns, end_ns;		/* the stall(s) it is for */
	__u64 to;			/* the window's end: end_ns + after */
	enum ss_det_kind kind;		/* the first stall's */
	__u64 duration_ns;
	unsigned stalls;
};

struct watch {
	const struct ss_watch_opts *o;
	struct ss_recorder_opts ro;
	struct ss_recorder *rec;
	const struct ss_trace_meta *meta;
	struct ss_analyzer *an;
	struct ss_analysis a;
	struct ss_window *win;
	struct ss_metrics m;
	struct ss_httpd *httpd;
	__u64 applied;			/* the analyzer has applied up to here */
	struct snapshot pending[PENDING_MAX];
	unsigned npending;
	__u64 recent[SS_WATCH_PER_MINUTE];	/* the last snapshots' stall ends */
	unsigned nrecent;
	char **saved;			/* stall-*.trace in out_dir, oldest first */
	size_t nsaved;
	char last_saved[4096];
	__u64 last_metrics;
	int err;
};

/* ---- snapshots ------------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The snapshots already in out_dir (an earlier watch's count too): the
 * names sort in time order. */
static int list_saved(struct watch *w)
{
	char pat[4096];
	glob_t g;

	snprintf(pat, sizeof(pat), "%s/stall-*Z-*.trace", w->o->out_dir);
	if (glob(pat, 0, NULL, &g))
		return 0;
	w->saved = calloc(g.gl_pathc + 1, sizeof(*w->saved));
	for (size_t i = 0; w->saved && i < g.gl_pathc; i++)
		if ((w->saved[w->nsaved] = strdup(g.gl_pathv[i])))
			w->nsaved++;
	globfree(&g);
	if (!w->saved)
		return -ENOMEM;
	qsort(w->saved, w->nsaved, sizeof(*w->saved), cmp_str);
	return 0;
}

static void keep_saved(struct watch *w, const char *path)
{
	char **n = realloc(w->saved, (w->nsaved + 1) * sizeof(*n));

	if (!n || !(n[w->nsaved] = strdup(path))) {
		if (n)
			w->saved = n;
		return;
	}
	w->saved = n;
	w->nsaved++;
	while (w->nsaved > w->o->max_snapshots) {
		if (unlink(w->saved[0]) && errno != ENOENT)
			fprintf(stderr, "stallscope: cannot remove the oldest snapshot %s: %s\n",
				w->saved[0], strerror(errno));
		else
			fprintf(stderr, "stallscope: removed %s (--max-snapshots %u)\n",
				w->saved[0], w->o->max_snapshots);
		free(w->saved[0]);
		memmove(w->saved, w->saved + 1, --w->nsaved * sizeof(*w->saved));
	}
}

/* Wall-clock time of a trace timestamp. */
static time_t wall_of(const struct watch *w, __u64 ts)
{
	__s64 d = (__s64)(ts - w->meta->start_mono_ns);

	return (time_t)(((__s64)w->meta->start_realtime_ns + d) / 1000000000LL);
}

struct cut {
	struct watch *w;
	struct ss_trace_writer *tw;
	__u64 from, to, lost, n;
};

static int cut_record(void *arg, const struct ss_record *r, bool context)
{
	struct cut *c = arg;
	struct ss_record copy;

	if (context) {
		if (r->ts >= c->from)
			return 0;	/* in the span: written with it */
		copy = *r;
		copy.ts = c->from;	/* so the names are known from the start */
		r = &copy;
	} else if (r->type == SS_LOST) {
		c->lost += r->args[0];
	}
	if (!(++c->n & 0xffff) && quit_signal)
		return -EINTR;	/* interrupted: nothing partial stays */
	return ss_trace_write(c->tw, r, 1);
}

static void write_snapshot(struct watch *w, const struct snapshot *s)
{
	struct ss_window_stats ws;
	struct cut c = { .w = w, .to = s->to };
	char stamp[32], path[4096], partial[4200];
	struct tm tm;
	time_t t = wall_of(w, s->start_ns);
	int err;

	ss_window_stats(w->win, &ws);
	c.from = ws.complete_from > ws.first_ts ? ws.complete_from : ws.first_ts;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(path, sizeof(path), "%s/stall-%s-%s.trace", w->o->out_dir, stamp,
		 ss_det_kind_name(s->kind));
	for (unsigned i = 2; i < 100 && access(path, F_OK) == 0; i++)
		snprintf(path, sizeof(path), "%s/stall-%s-%s-%u.trace", w->o->out_dir, stamp,
			 ss_det_kind_name(s->kind), i);
	if ((err = ss_trace_create(path, w->meta, &c.tw)))
		goto fail;
	snprintf(partial, sizeof(partial), "%s", ss_trace_partial_path(c.tw));
	if ((err = ss_window_each(w->win, c.from, c.to, cut_record, &c))) {
		ss_trace_abort(c.tw);
		goto fail;
	}
	if ((err = ss_trace_finish(c.tw, c.lost, c.to, SS_STOP_WINDOW, -1))) {
		unlink(partial);
		goto fail;
	}
	w->m.snapshots++;
	snprintf(w->last_saved, sizeof(w->last_saved), "%s", path);
	fprintf(stderr, "stallscope: saved %s: %s%s of %.1f ms, %.1f s before it and %.1f s "
		"after (%llu events)%s\n", path, ss_det_kind_name(s->kind),
		s->stalls > 1 ? " and more" : "", (double)s->duration_ns / 1e6,
		(double)(s->start_ns > c.from ? s->start_ns - c.from : 0) / 1e9,
		(double)(c.to > s->end_ns ? c.to - s->end_ns : 0) / 1e9,
		(unsigned long long)c.n,
		c.from > s->start_ns ? " (the window no longer held its start)" : "");
	keep_saved(w, path);
	return;
fail:
	if (err == -EINTR)
		return;
	w->m.snapshot_errors++;
	fprintf(stderr, "stallscope: the stall at %s was not saved: %s: %s\n", stamp, path,
		ss_outfile_strerror(err));
}

/* Writes the snapshots whose span has been applied (all: the end). */
static void write_due(struct watch *w, bool all)
{
	unsigned k = 0;

	for (unsigned i = 0; i < w->npending; i++) {
		struct snapshot *s = &w->pending[i];

		if (all || s->to <= w->applied) {
			if (all && s->to > w->applied + 1)
				s->to = w->applied + 1;	/* the target is gone */
			write_snapshot(w, s);
		} else {
			w->pending[k++] = *s;
		}
	}
	w->npending = k;
}

/* A detection that deserves a snapshot: joins the open one it overlaps,
 * or opens one if the rate allows. */
static void want_snapshot(struct watch *w, const struct ss_detection *d)
{
	__u64 end = d->start_ns + d->duration_ns;
	struct snapshot *s;
	char stamp[32];
	struct tm tm;
	time_t t;

	for (unsigned i = 0; i < w->npending; i++) {
		s = &w->pending[i];
		if (d->start_ns < s->to) {
			if (end > s->end_ns) {
				s->end_ns = end;
				s->to = end + w->o->after_ns;
			}
			s->stalls++;
			return;
		}
	}
	if ((w->nrecent == SS_WATCH_PER_MINUTE && end - w->recent[0] < 60000 * MS) ||
	    w->npending == PENDING_MAX) {
		w->m.snapshots_skipped++;
		t = wall_of(w, d->start_ns);
		gmtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%SZ", &tm);
		fprintf(stderr, "stallscope: the %s at %s (%.1f ms) was not saved: "
			"%d snapshots in the last minute already\n", ss_det_kind_name(d->kind),
			stamp, (double)d->duration_ns / 1e6, SS_WATCH_PER_MINUTE);
		return;
	}
	if (w->nrecent == SS_WATCH_PER_MINUTE)
		memmove(w->recent, w->recent + 1, --w->nrecent * sizeof(*w->recent));
	w->recent[w->nrecent++] = end;
	s = &w->pending[w->npending++];
	*s = (struct snapshot){ .start_ns = d->start_ns, .end_ns = end,
				.to = end + w->o->after_ns, .kind = d->kind,
				.duration_ns = d->duration_ns, .stalls = 1 };
}

static void say_start(const struct watch *w)
{
	const struct ss_watch_opts *o = w->o;

	fprintf(stderr, "stallscope: watching %d (%s): a snapshot of each stall of %.0f ms or "
		"more into %s/, the last %.0f s kept (%zu MB at most)\n",
		(int)w->m.pid, w->m.comm, (double)o->trigger_ns / 1e6, o->out_dir,
		(double)o->keep_ns / 1e9, o->max_memory >> 20);
	if (o->ro.no_readiness)
		fprintf(stderr, "stallscope: readiness not recorded (--no-readiness): "
				"no idle_but_parked stall will be seen\n");
}

/* ---- the analyzer and the recorder's sink ------------------------------------------ */

static void on_detection(void *arg, const struct ss_detection *d)
{
	struct watch *w = arg;

	ss_metrics_add_detection(&w->m, d);
	if (d->duration_ns >= w->o->trigger_ns)
		want_snapshot(w, d);
}

static int sink_start(void *arg, const struct ss_trace_meta *meta)
{
	struct watch *w = arg;
	struct ss_analyze_opts ao = {
		.threshold_ns = w->o->threshold_ns,
		.on_detection = on_detection,
		.arg = w,
	};

	w->meta = meta;
	w->m.pid = (pid_t)meta->pid;
	snprintf(w->m.comm, sizeof(w->m.comm), "%s", meta->comm);
	w->an = ss_analyzer_new(meta, &ao, &w->a);
	say_start(w);
	return w->an ? 0 : -ENOMEM;
}

static int sink_records(void *arg, const struct ss_record *recs, size_t n)
{
	struct watch *w = arg;

	for (size_t i = 0; i < n && !w->err; i++) {
		if ((w->err = ss_window_add(w->win, &recs[i])))
			break;
		w->err = ss_analyzer_feed(w->an, &recs[i]);
	}
	return w->err;
}

/* ---- metrics ---------------------------------------------------------------------------- */

static void update_metrics(struct watch *w)
{
	struct ss_recorder_stats rs;
	struct ss_window_stats ws;

	ss_recorder_stats(w->rec, &rs);
	w->m.events = rs.events;
	w->m.lost = rs.lost > w->a.lost ? rs.lost : w->a.lost;
	ss_window_stats(w->win, &ws);
	w->m.window_bytes = ws.bytes;
	w->m.window_events = ws.events;
	w->m.window_ns = ws.last_ts - ws.first_ts;
	if (w->an)
		ss_analyzer_sync(w->an);
}

static char *render(void *arg, size_t *len)
{
	struct watch *w = arg;
	char *text;

	update_metrics(w);
	return ss_metrics_render(&w->m, w->an ? &w->a : NULL, &text, len) ? NULL : text;
}

static void write_metrics_file(struct watch *w)
{
	struct ss_outfile of;
	size_t len;
	char *text = render(w, &len);
	int err;

	if (!text)
		return;
	if (!(err = ss_outfile_create(&of, w->o->metrics_path, 0644))) {
		if (write(of.fd, text, len) != (ssize_t)len)
			err = -(errno ? errno : EIO);
		if (err)
			ss_outfile_discard(&of);
		else if ((err = ss_outfile_commit(&of)))
			ss_outfile_discard(&of);
	}
	if (err && !w->last_metrics)
		fprintf(stderr, "stallscope: --metrics %s: %s\n", w->o->metrics_path,
			ss_outfile_strerror(err));
	free(text);
}

/* ---- the loop ----------------------------------------------------------------------------- */

static int turn(struct watch *w)
{
	int rc = ss_recorder_poll(w->rec, TURN_MS);

	if (rc < 0 && rc != -EINTR)
		return w->err ? w->err : rc;
	if (rc == 1)
		return 1;
	if (w->an && !w->err) {
		__u64 upto = ss_recorder_complete_ns(w->rec);

		if ((w->err = ss_analyzer_flush(w->an, upto)))
			return w->err;
		if (upto > w->applied)
			w->applied = upto;
		ss_analysis_forget_detections(&w->a);
		write_due(w, false);
	}
	if (w->httpd)	/* what is ready, never waiting: a scrape waits a turn at most */
		ss_httpd_serve(w->httpd, 0, render, w);
	if (w->o->metrics_path && ss_mono_ns() - w->last_metrics >=
	    (__u64)w->o->metrics_every_ms * MS) {
		write_metrics_file(w);
		w->last_metrics = ss_mono_ns();
	}
	return 0;
}

/* The target exited: the rest of the ring, the analysis to the end,
 * every open snapshot with what there is. */
static int finish(struct watch *w)
{
	int err = ss_recorder_stop(w->rec);

	if (!err && w->an && !w->err) {
		w->err = ss_analyzer_finish(w->an, 0);
		w->applied = w->a.end_ns;
		write_due(w, true);
	}
	return err ? err : w->err;
}

static int check_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK)) {
		fprintf(stderr, "stallscope: --out %s: %s\n", dir,
			errno ? strerror(errno) : "not a directory");
		return -1;
	}
	return 0;
}

static void say_end(const struct watch *w, __u64 began, bool interrupted)
{
	__u64 stalls = 0;

	for (unsigned k = 0; k < SS_DET_NKINDS; k++)
		stalls += w->m.stalls[k];
	fprintf(stderr, "stallscope: watched %.1f s%s: %llu stall%s, %llu snapshot%s saved%s%s%s;"
		" %llu events, %llu lost\n",
		(double)(ss_mono_ns() - began) / 1e9, interrupted ? " (interrupted)" : "",
		(unsigned long long)stalls, stalls == 1 ? "" : "s",
		(unsigned long long)w->m.snapshots, w->m.snapshots == 1 ? "" : "s",
		w->m.snapshots ? " (the last: " : "", w->last_saved, w->m.snapshots ? ")" : "",
		(unsigned long long)w->m.events, (unsigned long long)w->m.lost);
	for (unsigned i = 0; i < w->npending; i++)
		fprintf(stderr, "stallscope: the %s of %.1f ms was not saved: interrupted before "
			"its %.1f s after\n", ss_det_kind_name(w->pending[i].kind),
			(double)w->pending[i].duration_ns / 1e6, (double)w->o->after_ns / 1e9);
}

int ss_watch_run(const struct ss_watch_opts *o)
{
	struct watch w = { .o = o };
	struct sigaction sa = { .sa_handler = on_signal }, old_hup;
	char err[400];
	int ret = 0, rc;
	__u64 began;
	bool exited = false;

	/* First: a signal from here on ends watch cleanly. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (check_dir(o->out_dir))
		return 2;
	if (o->listen && (rc = ss_httpd_open(o->listen, &w.httpd, err, sizeof(err)))) {
		fprintf(stderr, "stallscope: %s\n", err);
		return rc == -EINVAL ? 2 : 1;
	}
	if (w.httpd)
		fprintf(stderr, "stallscope: metrics at http://%s/metrics\n",
			ss_httpd_address(w.httpd));
	if (list_saved(&w) || !(w.win = ss_window_new(o->keep_ns, o->max_memory))) {
		fprintf(stderr, "stallscope: watch: %s\n", strerror(ENOMEM));
		ret = 1;
		goto out;
	}
	if (ss_prereq_prepare("watch")) {
		ret = 2;
		goto out;
	}
	/* A hangup ends it too, unless it runs under nohup (left ignored). */
	if (!sigaction(SIGHUP, NULL, &old_hup) && old_hup.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	w.m.start_time = (double)ss_real_ns() / 1e9;
	w.m.kernel_only = o->ro.kernel_only;
	w.m.no_readiness = o->ro.no_readiness;
	w.ro = o->ro;
	w.ro.cmd_name = "watch";
	w.ro.on_start = sink_start;
	w.ro.on_records = sink_records;
	w.ro.on_warning = ss_print_warning;
	w.ro.arg = &w;
	if (ss_recorder_open(&w.ro, &w.rec, err, sizeof(err))) {
		fprintf(stderr, "stallscope: %s\n", err);
		ret = 1;
		goto out;
	}
	began = ss_mono_ns();
	while (!quit_signal) {
		if ((rc = turn(&w)) == 1) {
			exited = true;
			break;
		}
		if (rc < 0) {
			fprintf(stderr, "stallscope: watch: %s\n", *ss_recorder_error(w.rec) ?
				ss_recorder_error(w.rec) : strerror(-rc));
			ret = 1;
			break;
		}
	}
	if (exited && (rc = finish(&w)) < 0) {
		fprintf(stderr, "stallscope: watch: %s\n", strerror(-rc));
		ret = 1;
	} else if (!exited) {
		ss_recorder_stop(w.rec);	/* a started command is terminated */
	}
	update_metrics(&w);
	if (o->metrics_path)
		write_metrics_file(&w);
	say_end(&w, began, !exited && !ret);
out:
	ss_analyzer_free(w.an);
	ss_analysis_free(&w.a);
	ss_recorder_free(w.rec);
	ss_window_free(w.win);
	ss_httpd_free(w.httpd);
	for (size_t i = 0; i < w.nsaved; i++)
		free(w.saved[i]);
	free(w.saved);
	return ret;
}
