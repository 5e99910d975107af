/* SPDX-License-Identifier: MIT */
/*
 * stallscope watch [OPTIONS] (-p PID | -- CMD [ARGS...]): the options;
 * the flight recorder is userspace/watch.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
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
	"  --no-readiness        no I/O readiness recorded (cheaper): no idle_but_parked\n"
	"  -v, --verbose         show libbpf's messages\n";

int ss_cmd_watch(int argc, char **argv)
{
	struct ss_watch_opts w = {
		.trigger_ns = 50000000ULL,
		.threshold_ns = SS_CLI_THRESHOLD_NS,
		.keep_ns = 10000000000ULL,
		.after_ns = 1000000000ULL,
		.max_snapshots = 20,
		.out_dir = ".",
		.metrics_every_ms = 5000,
	};
	unsigned max_mb = 64;
	const struct ss_opt opt[] = {
		SS_CLI_RECORDER(&w.ro),
		SS_CLI_MS("trigger", &w.trigger_ns),
		SS_CLI_THRESHOLD(&w.threshold_ns),
		SS_SEC("keep", 0, &w.keep_ns, 0.1, 3600, "seconds, 0.1..3600"),
		SS_UINT("max-memory", 0, &max_mb, 1, 65536, "megabytes, 1..65536"),
		SS_STRING("out", 0, &w.out_dir),
		SS_UINT("max-snapshots", 0, &w.max_snapshots, 1, 100000, NULL),
		SS_STRING("metrics", 0, &w.metrics_path),
		SS_STRING("listen", 0, &w.listen),
		{ 0 },
	};
	const struct ss_opts o = { SS_CLI_OPTS("watch"), .usage = usage, .opt = opt,
				   .in_order = true, .max_args = -1 };
	int c, i;

	if ((c = ss_opts_parse(&o, argc, argv, &i)) >= 0)
		return c;
	if (i < argc && !w.ro.pid)
		w.ro.cmd = argv + i;
	if (!!w.ro.pid + !!w.ro.cmd != 1 || (w.ro.pid && i < argc)) {
		fprintf(stderr, "stallscope: watch: give one of -p PID or -- CMD [ARGS...]\n");
		return 2;
	}
	if (!*w.out_dir || (w.metrics_path && !*w.metrics_path)) {
		fprintf(stderr, "stallscope: watch: --out and --metrics want a name\n");
		return 2;
	}
	w.max_memory = (size_t)max_mb << 20;
	return ss_watch_run(&w);
}
