/* SPDX-License-Identifier: MIT */
/*
 * The live terminal timeline, `stallscope live` (its options:
 * cmds/live.c).  The recorder (recorder.h) or a trace file feeds the analyzer
 * one record at a time; its callbacks feed the model (live_model.h), and
 * the model is drawn into a grid that ncurses copies to the screen.
 *
 * Owns: the loop and its pacing, the sources (recorder or file), the
 * options.  Beside it: the terminal (ncurses, colours, restoring it on
 * every way out: live_term.c), the view and its keys (live_view.c), the
 * state they share (live_int.h).  Does not own: the screen's layout and
 * the lanes' cells (live_model.c), recording (recorder.c), the analysis
 * (analyze.c).
 *
 * The loop, one thread, each turn (at most TURN_MS):
 *  1. the source: live, ss_recorder_poll() waits up to TURN_MS for the
 *     ring buffer and drains it into the analyzer; replay, the replay
 *     clock advances by the wall time elapsed x speed and the records up
 *     to it are fed;
 *  2. the analyzer applies what is older than the clock (live: what the
 *     recorder says is all there, ss_recorder_complete_ns);
 *  3. keys;
 *  4. at most every FRAME_MS, or at once after a key, the screen.
 * Drawing a frame costs about a millisecond, between two drains of a
 * ring that holds a quarter of a second at a million events a second, so
 * it never makes the recorder lose events; analysis costs what it costs
 * and, if it falls behind, the ring's losses are counted and shown.
 *
 * The terminal: ncurses draws on duplicates of the original stdin and
 * stdout; fds 0, 1 and 2 are pointed at /dev/null and a temporary log for
 * the session, so neither a started command's output nor a library's
 * message can scribble on the screen.  Whatever went to the log is
 * printed after the screen is restored.
 */
#define _GNU_SOURCE
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "analyze.h"
#include "present.h"
#include "cli.h"
#include "live_model.h"
#include "prereq.h"
#include "recorder.h"
#include "timeline.h"

#include "live.h"
#include "live_int.h"

static volatile sig_atomic_t quit_signal;

static void on_signal(int sig)
{
	quit_signal = sig;
}

void live_say(struct live *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->message, sizeof(l->message), fmt, ap);
	va_end(ap);
	l->message_at = ss_mono_ns();
}

/* ---- the analyzer's callbacks ------------------------------------------------------- */

static void on_detection(void *arg, const struct ss_detection *d)
{
	struct live *l = arg;
	char label[200], text[800];

	ss_timeline_det_label(d, label, sizeof(label));
	ss_detection_describe(d, &l->m.a, text, sizeof(text));
	ss_live_model_add_detection(&l->m, d, label, text);
}

/* The analyzer has one arg for its three callbacks: the live struct
 * (on_detection formats with the analyzer's words); these forward. */
static void fwd_state(void *arg, unsigned worker, __u64 ts, enum ss_wstate s,
		      __u64 task)
{
	ss_live_model_on_state(&((struct live *)arg)->m, worker, ts, s, task);
}

static void fwd_step(void *arg, const struct ss_step *s)
{
	ss_live_model_on_step(&((struct live *)arg)->m, s);
}

static int analyzer_start(struct live *l, const struct ss_trace_meta *meta)
{
	struct ss_analyze_opts ao = {
		.threshold_ns = l->threshold_ns,
		.on_state = fwd_state,
		.on_step = fwd_step,
		.on_detection = on_detection,
		.arg = l,
	};

	l->meta = meta;
	snprintf(l->m.comm, sizeof(l->m.comm), "%s", meta->comm);
	l->m.pid = meta->pid;
	l->m.kernel_only = meta->flags & SS_FILE_KERNEL_ONLY;
	l->an = ss_analyzer_new(meta, &ao, &l->m.a);
	return l->an ? 0 : -ENOMEM;
}

static void feed(struct live *l, const struct ss_record *r)
{
	int err;

	ss_live_model_keep(&l->m, r);
	if (!l->err && (err = ss_analyzer_feed(l->an, r)) < 0)
		l->err = err;
}

/* ---- the recorder's sink ----------------------------------------------------------- */

static int sink_start(void *arg, const struct ss_trace_meta *meta)
{
	return analyzer_start(arg, meta);
}

static int sink_records(void *arg, const struct ss_record *recs, size_t n)
{
	struct live *l = arg;

	for (size_t i = 0; i < n; i++)
		feed(l, &recs[i]);
	return l->err;
}

/* ---- the sources ------------------------------------------------------------------------ */

/* Live: drain the ring, apply what is old enough. */
static int live_turn(struct live *l)
{
	int rc;

	if (l->target_done) {
		struct pollfd p = { .fd = fileno(l->tty_in), .events = POLLIN };
		poll(&p, 1, TURN_MS);
		return 0;
	}
	rc = ss_recorder_poll(l->rec, TURN_MS);
	if (rc < 0 && rc != -EINTR)
		return l->err ? l->err : rc;
	if (rc == 1) {
		/* The target exited: the rest of the ring, then the end. */
		int err = ss_recorder_stop(l->rec);

		l->target_done = true;
		if (err)
			return err;
		if (l->an && !l->err)
			l->err = ss_analyzer_finish(l->an, 0);
		l->finished = true;
		return l->err;
	}
	if (l->an && !l->err) {
		__u64 upto = ss_recorder_complete_ns(l->rec);

		l->err = ss_analyzer_flush(l->an, upto);
		ss_live_model_advance(&l->m, upto);
	}
	return l->err;
}

/* Replay: move the clock, feed the records up to it. */
static int replay_turn(struct live *l)
{
	struct pollfd p = { .fd = fileno(l->tty_in), .events = POLLIN };
	__u64 now;
	int ret;

	poll(&p, 1, TURN_MS);
	now = ss_mono_ns();
	if (!l->paused && !l->finished)
		l->clock += (__u64)((double)(now - l->wall) * l->speed);
	l->wall = now;
	for (unsigned i = 0; l->have_next && l->next.ts <= l->clock && i < REPLAY_BATCH; i++) {
		feed(l, &l->next);
		ret = ss_trace_next(l->rd, &l->next);
		if (ret < 0)
			return -EBADMSG;
		l->have_next = ret == 1;
	}
	if (l->err)
		return l->err;
	if (!l->have_next && !l->finished) {
		const struct ss_file_trailer *t = ss_trace_trailer(l->rd);

		l->err = ss_analyzer_finish(l->an, t ? t->lost : 0);
		l->finished = true;
		ss_live_model_advance(&l->m, l->last_ts);
		return l->err;
	}
	if (!l->finished) {
		l->err = ss_analyzer_flush(l->an, l->clock);
		ss_live_model_advance(&l->m, l->clock < l->last_ts ? l->clock : l->last_ts);
	}
	return l->err;
}

/* The span of a file whose trailer does not say it (one from before
 * that, or cut short): a raw pass, before the screen is taken. */
static int replay_scan(struct live *l, char *err, size_t errlen)
{
	struct ss_trace_reader *r;
	struct ss_record rec;
	int ret;

	l->first_ts = UINT64_MAX;
	ret = ss_trace_open(l->file, &r);
	if (!r) {
		snprintf(err, errlen, "%s", strerror(-ret));
		return ret;
	}
	while (!ret && (ret = ss_trace_next(r, &rec)) == 1) {
		if (rec.ts < l->first_ts)
			l->first_ts = rec.ts;
		if (rec.ts > l->last_ts)
			l->last_ts = rec.ts;
		ret = 0;
	}
	if (ret < 0)
		snprintf(err, errlen, "%s", ss_trace_error(r)[0] ? ss_trace_error(r) :
			 strerror(-ret));
	else if (ss_trace_partial(r))
		live_say(l, "%s", ss_trace_partial(r));
	ss_trace_close(r);
	if (l->first_ts > l->last_ts)
		l->first_ts = l->last_ts = 0;
	return ret;
}

/* Opens the file for the replay: its span from the trailer (so the file
 * is read once, as it plays) or a raw pass first. */
static int replay_open(struct live *l, char *err, size_t errlen)
{
	int ret = ss_trace_open(l->file, &l->rd);

	if (!ret && !ss_trace_span(l->rd, &l->first_ts, &l->last_ts))
		ret = replay_scan(l, err, errlen);
	else if (ret < 0)
		snprintf(err, errlen, "%s", l->rd && ss_trace_error(l->rd)[0] ?
			 ss_trace_error(l->rd) : strerror(-ret));
	if (ret < 0)
		return ret;
	if ((ret = ss_trace_next(l->rd, &l->next)) < 0) {
		snprintf(err, errlen, "%s", ss_trace_error(l->rd)[0] ?
			 ss_trace_error(l->rd) : strerror(-ret));
		return ret;
	}
	l->have_next = ret == 1;
	l->clock = l->first_ts;
	if (analyzer_start(l, ss_trace_meta(l->rd))) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	return 0;
}

/* ---- the command ------------------------------------------------------------------------ */

static void live_free(struct live *l)
{
	ss_analyzer_free(l->an);
	l->an = NULL;
	ss_recorder_free(l->rec);
	l->rec = NULL;
	ss_trace_close(l->rd);
	l->rd = NULL;
	ss_live_model_free(&l->m);
	ss_live_grid_free(&l->g);
}

int ss_live_run(const struct ss_live_opts *o)
{
	static struct live l;	/* large (the model): not on the stack */
	char err[400];
	int ret = 0, e;
	bool running = true;

	memset(&l, 0, sizeof(l));
	l.saved_fd[0] = l.saved_fd[1] = l.saved_fd[2] = l.log_fd = -1;
	l.file = o->file;
	l.speed = o->speed > 0 ? o->speed : 1;
	l.step = o->step;
	l.threshold_ns = o->threshold_ns;
	l.ro = o->ro;
	l.v.col_ns = SS_LIVE_COL_DEFAULT_NS;
	l.v.selected = -1;
	if (ss_live_model_init(&l.m, NULL, 0)) {
		fprintf(stderr, "stallscope: live: %s\n", strerror(ENOMEM));
		return 1;
	}
	/* A bad file is a bad file, terminal or not. */
	if (l.file && replay_open(&l, err, sizeof(err)) < 0) {
		fprintf(stderr, "stallscope: %s: %s\n", l.file, err);
		live_free(&l);
		return 2;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		live_free(&l);
		fprintf(stderr, "stallscope: live needs a terminal (%s is not one): "
			"record with `stallscope record -o FILE -- CMD`, then read it with "
			"`stallscope timeline FILE` or `stallscope report FILE`\n",
			isatty(STDIN_FILENO) ? "stdout" : "stdin");
		return 2;
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	if (!l.file && ss_prereq_prepare("live")) {
		live_free(&l);
		return 2;
	}
	if (live_redirect_fds(&l)) {
		fprintf(stderr, "stallscope: live: cannot redirect output: %s\n", strerror(errno));
		live_free(&l);
		return 1;
	}
	live_restore_at_exit(&l);
	if (!l.file) {
		l.ro.cmd_name = "live";
		l.ro.on_start = sink_start;
		l.ro.on_records = sink_records;
		l.ro.on_warning = ss_print_warning;	/* into the log */
		l.ro.arg = &l;
		if (ss_recorder_open(&l.ro, &l.rec, err, sizeof(err))) {
			fprintf(stderr, "stallscope: %s\n", err);	/* the log */
			ret = 1;
			goto out;
		}
	}
	if ((e = live_term_init(&l))) {
		live_term_restore(&l);
		fprintf(stderr, "stallscope: live: cannot use this terminal (TERM=%s): %s\n",
			getenv("TERM") ? getenv("TERM") : "", strerror(-e));
		ret = 1;
		goto out;
	}
	l.paused = l.step;
	l.wall = ss_mono_ns();
	__u64 last_draw = 0;
	while (running && !quit_signal) {
		bool dirty = false;
		int ch;

		e = l.file ? replay_turn(&l) : live_turn(&l);
		if (e < 0) {
			live_term_restore(&l);
			if (l.file)
				fprintf(stderr, "stallscope: %s: %s\n", l.file,
					ss_trace_error(l.rd)[0] ? ss_trace_error(l.rd) : strerror(-e));
			else if (*ss_recorder_error(l.rec))
				fprintf(stderr, "stallscope: %s\n", ss_recorder_error(l.rec));
			else
				fprintf(stderr, "stallscope: live: %s\n", strerror(-e));
			ret = l.file ? 2 : 1;
			goto out;
		}
		while (running && (ch = getch()) != ERR) {
			running = live_on_key(&l, ch);
			dirty = true;
		}
		live_view_follow(&l);
		if (running && (dirty || ss_mono_ns() - last_draw >= FRAME_MS * 1000000ULL)) {
			if ((e = live_draw(&l)) < 0) {
				live_term_restore(&l);
				fprintf(stderr, "stallscope: live: %s\n", strerror(-e));
				ret = 1;
				goto out;
			}
			last_draw = ss_mono_ns();
		}
	}
	live_term_restore(&l);
out:
	if (l.rec && !l.target_done)
		ss_recorder_stop(l.rec);	/* a started command is terminated */
	live_restore_fds(&l);
	live_print_log(&l);
	live_restore_at_exit(NULL);
	if (!ret && l.rec) {
		struct ss_recorder_stats st;

		ss_recorder_stats(l.rec, &st);
		/* Detaching uprobes waits for RCU grace periods: seconds. */
		fprintf(stderr, "stallscope: %llu events, %llu lost, %zu stall%s; detaching the probes\n",
			(unsigned long long)st.events, (unsigned long long)st.lost,
			l.m.dets_total, l.m.dets_total == 1 ? "" : "s");
	}
	live_free(&l);
	return ret;
}
