/* SPDX-License-Identifier: MIT */
/*
 * stallscope live [OPTIONS] (-p PID | -- CMD [ARGS...] | FILE): the
 * options; the terminal timeline is viz/live.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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
	"  --speed X        replay at X times real time (default 1)\n"
	"  --step           replay paused: n steps one column, space plays\n"
	"  -v, --verbose    show libbpf's messages (live)\n"
	"keys: q quit, space pause, +/- zoom, arrows scroll, s stall, w write, ? help\n";

static int parse_args(struct ss_live_opts *l, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "threshold", required_argument, NULL, 'T' },
		{ "kernel-only", no_argument, NULL, 'k' },
		{ "no-preload", no_argument, NULL, 'n' },
		{ "syscalls", no_argument, NULL, 'Y' },
		{ "no-tokio", no_argument, NULL, 't' },
		{ "speed", required_argument, NULL, 'S' },
		{ "step", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool dashdash;
	char *end;
	int c, status;

	while ((c = ss_cli_getopt(argc, argv, "+p:vh", opts, usage, &status)) != -1) {
		switch (c) {
		case 'T':
			if (!ss_parse_ms("--threshold", optarg, true, &l->threshold_ns))
				return -EINVAL;
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
		default:	/* -p, --kernel-only, --no-preload, --no-tokio, --syscalls, -v */
			if (ss_cli_recorder_opt(c, optarg, &l->ro) < 0)
				return -EINVAL;
		}
	}
	if (status >= 0)
		return status ? -EINVAL : 1;
	dashdash = optind > 1 && !strcmp(argv[optind - 1], "--");
	if (optind < argc && !dashdash && !l->ro.pid && optind == argc - 1)
		l->file = argv[optind];
	else if (optind < argc && !l->ro.pid)
		l->ro.cmd = argv + optind;
	if (!!l->ro.pid + !!l->ro.cmd + !!l->file != 1) {
		fprintf(stderr, "stallscope: live: give one of -p PID, -- CMD [ARGS...] or FILE\n");
		ss_cli_bad_usage(usage);
		return -EINVAL;
	}
	return 0;
}

int ss_cmd_live(int argc, char **argv)
{
	struct ss_live_opts o = { .speed = 1 };
	int e = parse_args(&o, argc, argv);

	if (e)
		return e > 0 ? 0 : 2;
	return ss_live_run(&o);
}
