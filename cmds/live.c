/* SPDX-License-Identifier: MIT */
/*
 * stallscope live [OPTIONS] (-p PID | -- CMD [ARGS...] | FILE): the
 * options; the terminal timeline is viz/live.c's.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "live.h"

static const char usage[] =
	"usage: stallscope live [OPTIONS] (-p PID | -- CMD [ARGS...] | FILE)\n"
	"Watches a runtime's workers as it runs: one lane per worker, the stalls as\n"
	"they are found.  FILE replays a recording the same way.\n"
	"  -p, --pid PID    attach to a running process\n"
	"  -- CMD [ARGS]    start CMD and watch it (its output is shown after)\n"
	"  --threshold MS   shortest stall reported (default 10)\n"
	"  --kernel-only    kernel events only (live)\n"
	"  --no-preload     start CMD without the preload shim (live)\n"
	"  --syscalls       hook the futex and epoll syscalls even with the shim (live)\n"
	"  --no-tokio       no uprobes on a Tokio executable's task entry points (live)\n"
	"  --no-readiness   no I/O readiness recorded: no idle_but_parked (live)\n"
	"  --speed X        replay at X times real time (default 1)\n"
	"  --step           replay paused: n steps one column, space plays\n"
	"  -v, --verbose    show libbpf's messages (live)\n"
	"keys: q quit, space pause, +/- zoom, arrows scroll, s stall, w write, ? help\n";

int ss_cmd_live(int argc, char **argv)
{
	struct ss_live_opts l = { .speed = 1 };
	const struct ss_opt opt[] = {
		SS_CLI_RECORDER(&l.ro),
		SS_CLI_THRESHOLD(&l.threshold_ns),
		SS_NUM("speed", 0, &l.speed, 0.01, 1000, NULL),
		SS_FLAG("step", 0, &l.step),
		{ 0 },
	};
	const struct ss_opts o = { SS_CLI_OPTS("live"), .usage = usage, .opt = opt,
				   .in_order = true, .max_args = -1 };
	bool dashdash;
	int c, i;

	if ((c = ss_opts_parse(&o, argc, argv, &i)) >= 0)
		return c;
	dashdash = i > 1 && !strcmp(argv[i - 1], "--");
	if (i < argc && !dashdash && !l.ro.pid && i == argc - 1)
		l.file = argv[i];
	else if (i < argc && !l.ro.pid)
		l.ro.cmd = argv + i;
	if (!!l.ro.pid + !!l.ro.cmd + !!l.file != 1) {
		fprintf(stderr, "stallscope: live: give one of -p PID, -- CMD [ARGS...] or FILE\n");
		return 2;
	}
	return ss_live_run(&l);
}
