/* SPDX-License-Identifier: MIT */
/*
 * stallscope watch [OPTIONS] (-p PID | -- CMD [ARGS...]): the options;
 * the flight recorder is userspace/watch.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "watch.h"

static const char usage[] =
	"usage: stallscope watch [OPTIONS] (-p PID | -- CMD [ARGS...])\n"
	"Stays attached: keeps the last seconds in memory, saves a trace around each\n"
	"stall, and keeps stall metrics for Prometheus.  Ends when the target exits\n"
	"or on Ctrl-C / SIGTERM.\n"
	"  -p, --pid PID         attach to a running process\n"
	"  -- CMD [ARGS]         start CMD and watch it\n"
	"  --trigger MS          save a trace for a stall this long (default 50)\n"
	"  --threshold MS        shortest stall counted in the metrics (default 10)\n"
	"  --keep S              seconds of events kept in memory (default 10)\n"
	"  --max-memory MB       memory for them, at most (default 64)\n"
	"  --out DIR             where traces go (default .): stall-TIME-KIND.trace\n"
	"  --max-snapshots N     stall-*.trace files kept in DIR, oldest removed (default 20)\n"
	"  --metrics FILE        rewrite the metrics into FILE every 5 s (node_exporter's\n"
	"                        textfile collector)\n"
	"  --listen [ADDR:]PORT  serve them at http://ADDR:PORT/metrics (ADDR default\n"
	"                        127.0.0.1)\n"
	"  --kernel-only         kernel events only\n"
	"  --no-preload          start CMD without the preload shim\n"
	"  --syscalls            hook the futex and epoll syscalls even with the shim\n"
	"  --no-tokio            no uprobes on a Tokio executable's task entry points\n"
	"  -v, --verbose         show libbpf's messages\n";

/* A whole number in [min, max]; else one line naming opt, and false. */
static bool parse_uint(const char *opt, const char *s, unsigned long min,
		       unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	if (end == s || *end || errno || *s == '-' || *v < min || *v > max) {
		fprintf(stderr, "stallscope: %s: want a whole number %lu..%lu: %s\n", opt, min,
			max, s);
		return false;
	}
	return true;
}

static int parse_args(struct ss_watch_opts *w, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "trigger", required_argument, NULL, 'T' },
		{ "threshold", required_argument, NULL, 'H' },
		{ "keep", required_argument, NULL, 'K' },
		{ "max-memory", required_argument, NULL, 'M' },
		{ "out", required_argument, NULL, 'o' },
		{ "max-snapshots", required_argument, NULL, 'N' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "listen", required_argument, NULL, 'l' },
		{ "kernel-only", no_argument, NULL, 'k' },
		{ "no-preload", no_argument, NULL, 'n' },
		{ "syscalls", no_argument, NULL, 'Y' },
		{ "no-tokio", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned long v;
	double s;
	char *end;
	int c, status;

	while ((c = ss_cli_getopt(argc, argv, "+p:vh", opts, usage, &status)) != -1) {
		switch (c) {
		case 'T':
			if (!ss_parse_ms("--trigger", optarg, true, &w->trigger_ns))
				return -EINVAL;
			break;
		case 'H':
			if (!ss_parse_ms("--threshold", optarg, true, &w->threshold_ns))
				return -EINVAL;
			break;
		case 'K':
			s = strtod(optarg, &end);
			if (end == optarg || *end || !(s >= 0.1 && s <= 3600)) {
				fprintf(stderr, "stallscope: --keep: want seconds, 0.1..3600: %s\n",
					optarg);
				return -EINVAL;
			}
			w->keep_ns = (__u64)(s * 1e9);
			break;
		case 'M':
			if (!parse_uint("--max-memory", optarg, 1, 65536, &v))
				return -EINVAL;
			w->max_memory = (size_t)v << 20;
			break;
		case 'N':
			if (!parse_uint("--max-snapshots", optarg, 1, 100000, &v))
				return -EINVAL;
			w->max_snapshots = (unsigned)v;
			break;
		case 'o':
			w->out_dir = optarg;
			break;
		case 'm':
			w->metrics_path = optarg;
			break;
		case 'l':
			w->listen = optarg;
			break;
		default:	/* -p, --kernel-only, --no-preload, --no-tokio, --syscalls, -v */
			if (ss_cli_recorder_opt(c, optarg, &w->ro) < 0)
				return -EINVAL;
		}
	}
	if (status >= 0)
		return status ? -EINVAL : 1;
	if (optind < argc && !w->ro.pid)
		w->ro.cmd = argv + optind;
	if (!!w->ro.pid + !!w->ro.cmd != 1 || (w->ro.pid && optind < argc)) {
		fprintf(stderr, "stallscope: watch: give one of -p PID or -- CMD [ARGS...]\n");
		ss_cli_bad_usage(usage);
		return -EINVAL;
	}
	if (!*w->out_dir || (w->metrics_path && !*w->metrics_path)) {
		fprintf(stderr, "stallscope: watch: --out and --metrics want a name\n");
		return -EINVAL;
	}
	return 0;
}

int ss_cmd_watch(int argc, char **argv)
{
	struct ss_watch_opts o = {
		.trigger_ns = 50000000ULL,
		.threshold_ns = 10000000ULL,
		.keep_ns = 10000000000ULL,
		.after_ns = 1000000000ULL,
		.max_memory = 64U << 20,
		.max_snapshots = 20,
		.out_dir = ".",
		.metrics_every_ms = 5000,
	};
	int e = parse_args(&o, argc, argv);

	if (e)
		return e > 0 ? 0 : 2;
	return ss_watch_run(&o);
}
