/* SPDX-License-Identifier: MIT */
/* The live terminal timeline (live.c): `stallscope live`. */
#ifndef STALLSCOPE_LIVE_H
#define STALLSCOPE_LIVE_H

#include <stdbool.h>

#include "recorder.h"

struct ss_live_opts {
	const char *file;	/* replay this trace, or (NULL) record: */
	struct ss_recorder_opts ro;	/* pid or cmd, kernel_only, ... */
	double speed;		/* replay: x real time (0: 1) */
	bool step;		/* replay: start paused */
	__u64 threshold_ns;	/* the analyzer's; 0: its default */
};

/* Runs the screen until q, the end of a command, or a signal; messages
 * (and what the target printed) on stderr after the screen is restored.
 * Returns the exit status: 0, 1 (a failure), 2 (bad input, no terminal). */
int ss_live_run(const struct ss_live_opts *o);

#endif
