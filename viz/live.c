/* SPDX-License-Identifier: MIT */
/*
 * stallscope live [-p PID | -- CMD [ARGS...] | FILE]: the live terminal
 * timeline.  The recorder (recorder.h) or a trace file feeds the analyzer
 * one record at a time; its callbacks feed the model (live_model.h), and
 * the model is drawn into a grid that ncurses copies to the screen.
 *
 * Owns: the terminal (ncurses, colours, keys, resizing, restoring it on
 * every way out), the loop and its pacing, the options.  Does not own:
 * the screen's layout and the lanes' cells (live_model.c), recording
 * (recorder.c), the analysis (analyze.c).
 *
 * The loop, one thread, each turn (at most TURN_MS):
 *  1. the source: live, ss_recorder_poll() waits up to TURN_MS for the
 *     ring buffer and drains it into the analyzer; replay, the replay
 *     clock advances by the wall time elapsed x speed and the records up
 *     to it are fed;
 *  2. the analyzer applies what is older than the clock (live: now minus
 *     LIVE_LAG_NS, for the records still on their way);
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
#include <getopt.h>
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
#include "cmds.h"
#include "live_model.h"
#include "prereq.h"
#include "recorder.h"
#include "timeline.h"

#define TURN_MS 20			/* longest wait for records or keys */
#define FRAME_MS 100			/* screen refresh */
#define LIVE_LAG_NS 30000000ULL		/* records may still be on their way */
#define REPLAY_BATCH 200000		/* records fed per turn, at most */
#define MESSAGE_NS 5000000000ULL	/* how long a message stays */
#define LOG_SHOWN (64 * 1024)		/* log bytes printed after, at most */

struct live {
	/* options */
	const char *file;
	double speed;
	bool step;
	__u64 threshold_ns;
	struct ss_recorder_opts ro;

	/* the pipeline */
	struct ss_live_model m;
	struct ss_analyzer *an;
	const struct ss_trace_meta *meta;
	int err;			/* first analyzer error */
	bool finished;			/* no more records will come */

	/* live */
	struct ss_recorder *rec;
	bool target_done;

	/* replay */
	struct ss_trace_reader *rd;
	struct ss_record next;
	bool have_next;
	__u64 first_ts, last_ts, clock, wall;

	/* the screen */
	struct ss_live_view v;
	struct ss_live_grid g;
	bool paused;
	char status[96], message[256];
	__u64 message_at;
	SCREEN *scr;
	FILE *tty_in, *tty_out;
	int saved_fd[3], log_fd;
	chtype attrs[SS_LA_NATTRS];
};

static volatile sig_atomic_t quit_signal;
static struct live *active;	/* for the atexit restore */

static void on_signal(int sig)
{
	quit_signal = sig;
}

static void say(struct live *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct live *l, const char *fmt, ...)
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

static void fwd_record(void *arg, const struct ss_record *r, int worker)
{
	ss_live_model_on_record(&((struct live *)arg)->m, r, worker);
}

static int analyzer_start(struct live *l, const struct ss_trace_meta *meta)
{
	struct ss_analyze_opts ao = {
		.threshold_ns = l->threshold_ns,
		.on_state = fwd_state,
		.on_record = fwd_record,
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

/* ---- the terminal ------------------------------------------------------------------ */

static void restore_fds(struct live *l)
{
	for (int fd = 0; fd < 3; fd++) {
		if (l->saved_fd[fd] < 0)
			continue;
		dup2(l->saved_fd[fd], fd);
		close(l->saved_fd[fd]);
		l->saved_fd[fd] = -1;
	}
}

static void term_restore(struct live *l)
{
	if (l->scr) {
		endwin();
		delscreen(l->scr);
		l->scr = NULL;
	}
	if (l->tty_out) {
		fclose(l->tty_out);
		l->tty_out = NULL;
	}
	if (l->tty_in) {
		fclose(l->tty_in);
		l->tty_in = NULL;
	}
	restore_fds(l);
}

static void restore_at_exit(void)
{
	if (active)
		term_restore(active);
}

/* Points 0, 1, 2 at /dev/null and a log, keeping the originals. */
static int redirect_fds(struct live *l)
{
	char path[] = "/tmp/stallscope-live-XXXXXX";
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC), fd = mkstemp(path);

	if (fd >= 0) {
		close(fd);
		fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
		unlink(path);
	}
	if (null < 0 || fd < 0) {
		int err = -errno;

		if (null >= 0)
			close(null);
		if (fd >= 0)
			close(fd);
		return err;
	}
	for (int i = 0; i < 3; i++)
		l->saved_fd[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
	dup2(null, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	close(null);
	l->log_fd = fd;
	return 0;
}

/* What went to the log, on the restored stderr (its last LOG_SHOWN bytes). */
static void print_log(struct live *l)
{
	char buf[4096];
	off_t size;
	ssize_t n;

	if (l->log_fd < 0)
		return;
	size = lseek(l->log_fd, 0, SEEK_END);
	if (size > LOG_SHOWN) {
		fprintf(stderr, "stallscope: (the first %lld bytes of output are not shown)\n",
			(long long)(size - LOG_SHOWN));
		lseek(l->log_fd, size - LOG_SHOWN, SEEK_SET);
	} else {
		lseek(l->log_fd, 0, SEEK_SET);
	}
	fflush(stderr);
	while ((n = read(l->log_fd, buf, sizeof(buf))) > 0)
		if (write(2, buf, (size_t)n) != n)
			break;
	close(l->log_fd);
	l->log_fd = -1;
}

static int term_init(struct live *l)
{
	static const struct {
		short fg, bg;
		chtype extra;
	} pairs[SS_LA_NATTRS] = {
		[SS_LA_TEXT] = { -1, -1, 0 },
		[SS_LA_RUNNING] = { COLOR_BLACK, COLOR_GREEN, 0 },
		[SS_LA_SEARCHING] = { COLOR_BLACK, COLOR_YELLOW, 0 },
		[SS_LA_DRIVER] = { COLOR_WHITE, COLOR_BLUE, A_BOLD },
		[SS_LA_FUTEX] = { COLOR_CYAN, -1, 0 },
		[SS_LA_IDLE] = { -1, -1, A_DIM },
		[SS_LA_OFFCPU] = { COLOR_WHITE, COLOR_RED, A_BOLD },
		[SS_LA_STALL] = { COLOR_RED, -1, A_BOLD },
		[SS_LA_TITLE] = { -1, -1, A_REVERSE },
		[SS_LA_DIM] = { -1, -1, A_DIM },
		[SS_LA_WARN] = { COLOR_YELLOW, -1, A_BOLD },
		[SS_LA_SELECTED] = { -1, -1, A_REVERSE | A_BOLD },
	};
	int in = l->saved_fd[0], out = l->saved_fd[1];
	bool color;

	l->tty_in = fdopen(fcntl(in, F_DUPFD_CLOEXEC, 3), "r");
	l->tty_out = fdopen(fcntl(out, F_DUPFD_CLOEXEC, 3), "w");
	if (!l->tty_in || !l->tty_out)
		return -errno;
	l->scr = newterm(NULL, l->tty_out, l->tty_in);
	if (!l->scr)
		return -ENOTTY;
	set_term(l->scr);
	cbreak();		/* Ctrl-C stays a signal */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);	/* Esc alone: not a second's wait */
	curs_set(0);
	color = has_colors() && !getenv("NO_COLOR");
	if (color) {
		start_color();
		use_default_colors();
	}
	for (int i = 0; i < SS_LA_NATTRS; i++) {
		l->attrs[i] = pairs[i].extra;
		if (color && (pairs[i].fg >= 0 || pairs[i].bg >= 0) &&
		    init_pair((short)(i + 1), pairs[i].fg, pairs[i].bg) == OK)
			l->attrs[i] |= COLOR_PAIR(i + 1);
	}
	if (!color)
		l->attrs[SS_LA_RUNNING] |= A_BOLD;
	return 0;
}

/* ---- the view --------------------------------------------------------------------------- */

static unsigned lane_cols(const struct live *l)
{
	return ss_live_lane_cols(&l->m, l->g.cols);
}

/* Where the right edge is when following: the newest known time. */
static __u64 follow_edge(const struct live *l)
{
	return l->m.now ? l->m.now : 1;
}

static void view_follow(struct live *l)
{
	if (!l->paused)
		l->v.right_ns = follow_edge(l);
}

static void view_scroll(struct live *l, long cols)
{
	__u64 d = (__u64)(cols < 0 ? -cols : cols) * l->v.col_ns;
	__u64 lo = l->m.first_ts + l->v.col_ns, hi = follow_edge(l);

	/* Back to the first record, forward to now (or as far as a
	 * centred stall had put it). */
	l->paused = true;
	if (cols < 0) {
		l->v.right_ns = l->v.right_ns > d ? l->v.right_ns - d : 0;
		if (l->v.right_ns < lo)
			l->v.right_ns = lo;
	} else if (l->v.right_ns < hi) {
		l->v.right_ns = l->v.right_ns + d < hi ? l->v.right_ns + d : hi;
	}
}

/* Zooms, keeping the centre when paused and the right edge otherwise. */
static void view_zoom(struct live *l, int dir)
{
	__u64 half = (__u64)lane_cols(l) * l->v.col_ns / 2;
	__u64 centre = l->v.right_ns > half ? l->v.right_ns - half : 0;

	l->v.col_ns = ss_live_zoom(l->v.col_ns, dir);
	if (l->paused)
		l->v.right_ns = centre + (__u64)lane_cols(l) * l->v.col_ns / 2;
	view_follow(l);
}

/* Selects the next older stall (the newest first) and centres it. */
static void view_select(struct live *l)
{
	const struct ss_live_det *d;
	unsigned w = lane_cols(l);

	if (!l->m.ndets) {
		say(l, "no stalls detected yet");
		return;
	}
	l->v.selected = l->v.selected + 1 >= (int)l->m.ndets ? 0 : l->v.selected + 1;
	d = ss_live_model_det(&l->m, (size_t)l->v.selected);
	/* The whole stall in at most three quarters of the lanes. */
	while (d->d.duration_ns > (__u64)w * l->v.col_ns * 3 / 4 &&
	       l->v.col_ns < SS_LIVE_COL_MAX_NS)
		l->v.col_ns = ss_live_zoom(l->v.col_ns, 1);
	l->paused = true;
	l->v.right_ns = d->d.start_ns + d->d.duration_ns / 2 + (__u64)w * l->v.col_ns / 2;
}

/* Writes the window on screen to stallscope-live-N.trace. */
static void view_write(struct live *l)
{
	__u64 from = ss_live_view_from(&l->m, &l->v, l->g.cols);
	__u64 to = from + (__u64)lane_cols(l) * l->v.col_ns;
	char path[64];
	size_t n;
	int err;

	if (!l->meta) {
		say(l, "nothing recorded yet");
		return;
	}
	for (unsigned i = 1;; i++) {
		snprintf(path, sizeof(path), "stallscope-live-%u.trace", i);
		if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW))
			break;
	}
	err = ss_live_model_write(&l->m, l->meta, from, to, path, &n);
	if (err == -ENODATA) {
		say(l, "w: no records kept in this window (memory keeps the last %u)", SS_LIVE_KEEP);
		return;
	}
	if (err) {
		say(l, "w: cannot write %s: %s", path, strerror(-err));
		return;
	}
	say(l, "w: wrote %zu records (%.3f-%.3f s) to %s", n,
	    (double)(from > l->m.first_ts ? from - l->m.first_ts : 0) / 1e9,
	    (double)(to > l->m.first_ts ? to - l->m.first_ts : 0) / 1e9, path);
}

/* Returns false to quit. */
static bool on_key(struct live *l, int ch)
{
	if (l->v.help) {	/* any key closes the help */
		l->v.help = false;
		return ch != 'q' && ch != 'Q';
	}
	switch (ch) {
	case 'q':
	case 'Q':
		return false;
	case ' ':
		l->paused = !l->paused;
		if (!l->paused)
			l->wall = ss_mono_ns();	/* replay: no jump */
		view_follow(l);
		break;
	case '+':
	case '=':
		view_zoom(l, -1);
		break;
	case '-':
	case '_':
		view_zoom(l, 1);
		break;
	case KEY_LEFT:
	case 'h':
		view_scroll(l, -(long)lane_cols(l) / 4 - 1);
		break;
	case KEY_RIGHT:
	case 'l':
		view_scroll(l, (long)lane_cols(l) / 4 + 1);
		break;
	case KEY_HOME:		/* the first record at the left edge */
		l->paused = true;
		l->v.right_ns = l->m.first_ts + (__u64)lane_cols(l) * l->v.col_ns;
		break;
	case KEY_END:
	case 27:		/* Esc: back to following now */
		l->v.selected = -1;
		l->paused = false;
		l->wall = ss_mono_ns();
		view_follow(l);
		break;
	case KEY_UP:
	case 'k':
		if (l->v.lane_top)
			l->v.lane_top--;
		break;
	case KEY_DOWN:
	case 'j':
		if (l->v.lane_top + 1 < l->m.nlanes)
			l->v.lane_top++;
		break;
	case 's':
		view_select(l);
		break;
	case 'w':
		view_write(l);
		break;
	case 'n':		/* replay: one column on */
		if (l->file && l->paused && !l->finished) {
			l->clock += l->v.col_ns;
			l->v.right_ns = l->clock;
		}
		break;
	case '>':
		if (l->file && l->speed < 1000)
			l->speed *= 2;
		break;
	case '<':
		if (l->file && l->speed > 0.01)
			l->speed /= 2;
		break;
	case '?':
		l->v.help = true;
		break;
	case KEY_RESIZE:
		break;
	default:
		break;
	}
	return true;
}

static void status_line(struct live *l)
{
	const char *mode = l->paused ? "PAUSED" : "LIVE";

	if (l->file) {
		double at = (double)(l->clock > l->first_ts ? l->clock - l->first_ts : 0) / 1e9;
		double all = (double)(l->last_ts - l->first_ts) / 1e9;

		if (at > all)
			at = all;
		snprintf(l->status, sizeof(l->status), "%s %.3g x  %.1f/%.1f s%s",
			 l->paused ? "PAUSED" : "REPLAY", l->speed, at, all,
			 l->finished ? "  end of recording" : "");
		return;
	}
	if (!l->target_done) {
		snprintf(l->status, sizeof(l->status), "%s", mode);
		return;
	}
	struct ss_recorder_stats st;

	ss_recorder_stats(l->rec, &st);
	if (st.exit_status >= 0 && WIFEXITED(st.exit_status))
		snprintf(l->status, sizeof(l->status), "%starget exited (status %d)",
			 l->paused ? "PAUSED  " : "", WEXITSTATUS(st.exit_status));
	else if (st.exit_status >= 0 && WIFSIGNALED(st.exit_status))
		snprintf(l->status, sizeof(l->status), "%starget killed by signal %d",
			 l->paused ? "PAUSED  " : "", WTERMSIG(st.exit_status));
	else
		snprintf(l->status, sizeof(l->status), "%starget exited",
			 l->paused ? "PAUSED  " : "");
}

static int draw(struct live *l)
{
	int rows, cols;

	getmaxyx(stdscr, rows, cols);
	if (rows < 1 || cols < 1)
		return 0;
	if (((unsigned)rows != l->g.rows || (unsigned)cols != l->g.cols) &&
	    ss_live_grid_resize(&l->g, (unsigned)rows, (unsigned)cols))
		return -ENOMEM;
	if (l->an && !l->finished)
		ss_analyzer_sync(l->an);
	status_line(l);
	l->v.status = l->status;
	if (l->message[0] && ss_mono_ns() - l->message_at > MESSAGE_NS)
		l->message[0] = '\0';
	l->v.message = l->message[0] ? l->message : NULL;
	if (l->v.selected >= (int)l->m.ndets)
		l->v.selected = -1;
	ss_live_render(&l->m, &l->v, &l->g);
	for (unsigned r = 0; r < l->g.rows; r++) {
		for (unsigned c = 0; c < l->g.cols; c++) {
			const struct ss_live_cell *cell = &l->g.cells[(size_t)r * l->g.cols + c];
			chtype a = l->attrs[cell->attr & ~SS_LA_HILITE & 0x7f];

			if (cell->attr & SS_LA_HILITE)
				a |= A_UNDERLINE | A_BOLD;
			/* The bottom right cell would scroll some terminals. */
			if (r + 1 == l->g.rows && c + 1 == l->g.cols)
				break;
			mvaddch((int)r, (int)c, (chtype)(unsigned char)cell->ch | a);
		}
	}
	refresh();
	return 0;
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
		__u64 upto = ss_mono_ns() - LIVE_LAG_NS;

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

/* Reads the whole file once (its range, and any problem, before the
 * screen is taken), then opens it again for the replay. */
static int replay_open(struct live *l, char *err, size_t errlen)
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
		say(l, "%s", ss_trace_partial(r));
	ss_trace_close(r);
	if (ret < 0)
		return ret;
	if (l->first_ts > l->last_ts)
		l->first_ts = l->last_ts = 0;

	ret = ss_trace_open(l->file, &l->rd);
	if (ret < 0 || (ret = ss_trace_next(l->rd, &l->next)) < 0) {
		snprintf(err, errlen, "%s", l->rd && ss_trace_error(l->rd)[0] ?
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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stallscope live [OPTIONS] (-p PID | -- CMD [ARGS...] | FILE)\n"
		"Watches a runtime's workers as it runs: one lane per worker, the stalls as\n"
		"they are found.  FILE replays a recording the same way.\n"
		"  -p, --pid PID    attach to a running process\n"
		"  -- CMD [ARGS]    start CMD and watch it (its output is shown after)\n"
		"  --threshold MS   shortest stall reported (default 10)\n"
		"  --kernel-only    kernel events only (live)\n"
		"  --no-preload     start CMD without the preload shim (live)\n"
		"  --speed X        replay at X times real time (default 1)\n"
		"  --step           replay paused: n steps one column, space plays\n"
		"  -v, --verbose    show libbpf's messages (live)\n"
		"keys: q quit, space pause, +/- zoom, arrows scroll, s stall, w write, ? help\n");
}

static int parse_args(struct live *l, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "threshold", required_argument, NULL, 'T' },
		{ "kernel-only", no_argument, NULL, 'k' },
		{ "no-preload", no_argument, NULL, 'n' },
		{ "speed", required_argument, NULL, 'S' },
		{ "step", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool dashdash;
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!ss_parse_pid("-p", optarg, &l->ro.pid))
				return -EINVAL;
			break;
		case 'T':
			if (!ss_parse_ms("--threshold", optarg, true, &l->threshold_ns))
				return -EINVAL;
			break;
		case 'k':
			l->ro.kernel_only = true;
			break;
		case 'n':
			l->ro.no_preload = true;
			break;
		case 'S':
			l->speed = strtod(optarg, &end);
			if (end == optarg || *end || !(l->speed >= 0.01 && l->speed <= 1000)) {
				fprintf(stderr, "stallscope: --speed: want 0.01..1000: %s\n", optarg);
				return -EINVAL;
			}
			break;
		case 's':
			l->step = true;
			break;
		case 'v':
			l->ro.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	dashdash = optind > 1 && !strcmp(argv[optind - 1], "--");
	if (optind < argc && !dashdash && !l->ro.pid && optind == argc - 1)
		l->file = argv[optind];
	else if (optind < argc && !l->ro.pid)
		l->ro.cmd = argv + optind;
	if (!!l->ro.pid + !!l->ro.cmd + !!l->file != 1) {
		fprintf(stderr, "stallscope: live: give one of -p PID, -- CMD [ARGS...] or FILE\n");
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

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

int ss_cmd_live(int argc, char **argv)
{
	static struct live l;	/* large (the model): not on the stack */
	char err[400];
	int ret = 0, e;
	bool running = true;

	memset(&l, 0, sizeof(l));
	l.saved_fd[0] = l.saved_fd[1] = l.saved_fd[2] = l.log_fd = -1;
	l.speed = 1;
	l.v.col_ns = SS_LIVE_COL_DEFAULT_NS;
	l.v.selected = -1;
	if ((e = parse_args(&l, argc, argv)))
		return e > 0 ? 0 : 2;
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
	if (redirect_fds(&l)) {
		fprintf(stderr, "stallscope: live: cannot redirect output: %s\n", strerror(errno));
		live_free(&l);
		return 1;
	}
	active = &l;
	atexit(restore_at_exit);
	if (!l.file) {
		l.ro.cmd_name = "live";
		l.ro.on_start = sink_start;
		l.ro.on_records = sink_records;
		l.ro.arg = &l;
		if (ss_recorder_open(&l.ro, &l.rec)) {
			ret = 1;
			goto out;
		}
	}
	if ((e = term_init(&l))) {
		term_restore(&l);
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
			term_restore(&l);
			if (l.file)
				fprintf(stderr, "stallscope: %s: %s\n", l.file,
					ss_trace_error(l.rd)[0] ? ss_trace_error(l.rd) : strerror(-e));
			else
				fprintf(stderr, "stallscope: live: %s\n", strerror(-e));
			ret = l.file ? 2 : 1;
			goto out;
		}
		while (running && (ch = getch()) != ERR) {
			running = on_key(&l, ch);
			dirty = true;
		}
		view_follow(&l);
		if (running && (dirty || ss_mono_ns() - last_draw >= FRAME_MS * 1000000ULL)) {
			if ((e = draw(&l)) < 0) {
				term_restore(&l);
				fprintf(stderr, "stallscope: live: %s\n", strerror(-e));
				ret = 1;
				goto out;
			}
			last_draw = ss_mono_ns();
		}
	}
	term_restore(&l);
out:
	if (l.rec && !l.target_done)
		ss_recorder_stop(l.rec);	/* a started command is terminated */
	restore_fds(&l);
	print_log(&l);
	active = NULL;
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
