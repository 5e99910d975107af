/* SPDX-License-Identifier: MIT */
/*
 * stallscope live: the view (live.c has the whole) — following, scrolling,
 * zooming, selecting a stall, writing the window to a file, the keys that
 * do it, the status line, and one frame from the model's grid to ncurses.
 */
#define _GNU_SOURCE
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "live_int.h"

static unsigned lane_cols(const struct live *l)
{
	return ss_live_lane_cols(&l->m, l->g.cols);
}

/* Where the right edge is when following: the newest known time. */
static __u64 follow_edge(const struct live *l)
{
	return l->m.now ? l->m.now : 1;
}

void live_view_follow(struct live *l)
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
	live_view_follow(l);
}

/* Selects the next older stall (the newest first) and centres it. */
static void view_select(struct live *l)
{
	const struct ss_live_det *d;
	unsigned w = lane_cols(l);

	if (!l->m.ndets) {
		live_say(l, "no stalls detected yet");
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
		live_say(l, "nothing recorded yet");
		return;
	}
	for (unsigned i = 1;; i++) {
		snprintf(path, sizeof(path), "stallscope-live-%u.trace", i);
		if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW))
			break;
	}
	err = ss_live_model_write(&l->m, l->meta, from, to, path, &n);
	if (err == -ENODATA) {
		live_say(l, "w: no records kept in this window (memory keeps the last %u)", SS_LIVE_KEEP);
		return;
	}
	if (err) {
		live_say(l, "w: cannot write %s: %s", path, strerror(-err));
		return;
	}
	live_say(l, "w: wrote %zu records (%.3f-%.3f s) to %s", n,
	    (double)(from > l->m.first_ts ? from - l->m.first_ts : 0) / 1e9,
	    (double)(to > l->m.first_ts ? to - l->m.first_ts : 0) / 1e9, path);
}

/* Returns false to quit. */
bool live_on_key(struct live *l, int ch)
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
		live_view_follow(l);
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
		live_view_follow(l);
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

int live_draw(struct live *l)
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

