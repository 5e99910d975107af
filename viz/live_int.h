/* SPDX-License-Identifier: MIT */
/*
 * stallscope live, inside (live.c): the state the loop (live.c), the
 * terminal (live_term.c) and the view and keys (live_view.c) share.
 */
#ifndef STALLSCOPE_LIVE_INT_H
#define STALLSCOPE_LIVE_INT_H

#include <curses.h>
#include <stdbool.h>

#include "analyze.h"
#include "live_model.h"
#include "recorder.h"

#define TURN_MS 20			/* longest wait for records or keys */
#define FRAME_MS 100			/* screen refresh */
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

/* live.c */
void live_say(struct live *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* live_term.c: the terminal, and the fds around it */
int live_redirect_fds(struct live *l);
void live_restore_fds(struct live *l);
int live_term_init(struct live *l);
void live_term_restore(struct live *l);
void live_restore_at_exit(struct live *l);
void live_print_log(struct live *l);

/* live_view.c: the view, the keys, the frame */
bool live_on_key(struct live *l, int ch);	/* false: quit */
int live_draw(struct live *l);
void live_view_follow(struct live *l);	/* the right edge to now, unless paused */

#endif
