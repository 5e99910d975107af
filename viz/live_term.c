/* SPDX-License-Identifier: MIT */
/*
 * stallscope live: the terminal (live.c has the whole).  ncurses on
 * duplicates of the original stdin and stdout, fds 0-2 pointed at
 * /dev/null and a log meanwhile, colours, and the terminal restored on
 * every way out (atexit included); what went to the log is printed after.
 */
#define _GNU_SOURCE
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "live_int.h"

void live_restore_fds(struct live *l)
{
	for (int fd = 0; fd < 3; fd++) {
		if (l->saved_fd[fd] < 0)
			continue;
		dup2(l->saved_fd[fd], fd);
		close(l->saved_fd[fd]);
		l->saved_fd[fd] = -1;
	}
}

void live_term_restore(struct live *l)
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
	live_restore_fds(l);
}

static struct live *active;	/* for the atexit restore */

static void restore_at_exit(void)
{
	if (active)
		live_term_restore(active);
}

/* The terminal restored at exit too (whichever way the program ends),
 * while l is set; NULL: no longer. */
void live_restore_at_exit(struct live *l)
{
	static bool registered;

	active = l;
	if (l && !registered) {
		atexit(restore_at_exit);
		registered = true;
	}
}

/* Points 0, 1, 2 at /dev/null and a log, keeping the originals. */
int live_redirect_fds(struct live *l)
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
void live_print_log(struct live *l)
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

int live_term_init(struct live *l)
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

