/* SPDX-License-Identifier: MIT */
/*
 * stallscope check FILE [--max-stall MS] [--workers PATTERN]: for CI.
 * Exit 0: no stall of at least MS; 1: stalls, one line each; 2: a bad
 * file (or bad options).
 */
#define _GNU_SOURCE
#include <stdio.h>

#include "analyze.h"
#include "cmds.h"
#include "present.h"

static const char usage[] =
	"usage: stallscope check FILE [--max-stall MS] [--workers PATTERN]\n"
	"Exits 1, with one line per stall, if the trace has a stall of at least\n"
	"MS; 0 if it has none; 2 if the file is bad.  For CI.\n"
	"  --max-stall MS      fail on a stall this long or longer (default 10)\n"
	SS_CLI_WORKERS_USAGE;

int ss_cmd_check(int argc, char **argv)
{
	__u64 ms = SS_CLI_THRESHOLD_NS;
	const char *pattern = NULL;
	const struct ss_opt opt[] = {
		SS_CLI_MS("max-stall", &ms),
		SS_CLI_WORKERS(&pattern),
		{ 0 },
	};
	const struct ss_opts o = { SS_CLI_OPTS("check"), .usage = usage, .opt = opt,
				   .min_args = 1, .max_args = 1 };
	struct ss_trace_reader *r;
	struct ss_analysis a;
	unsigned found = 0;
	int c, i;

	if ((c = ss_opts_parse(&o, argc, argv, &i)) >= 0)
		return c;
	/* Detect at the same bar as the check. */
	if (ss_cli_analyze(argv[i], ms, pattern, &a, &r))
		return 2;
	if (a.no_readiness)
		fprintf(stderr, "stallscope: %s: recorded with --no-readiness: "
				"idle_but_parked stalls are not checked\n", argv[i]);
	for (size_t k = 0; k < a.ndets; k++) {
		const struct ss_detection *d = &a.dets[k];
		char task[96];

		if (d->duration_ns < ms)
			continue;
		found++;
		ss_fmt_task(task, sizeof(task), d->task, d->task_name);
		printf("%s: %s %.1f ms at +%.1f ms on worker %d%s%s\n", argv[i],
		       ss_det_kind_name(d->kind), ss_ms(d->duration_ns),
		       ss_ms(d->start_ns - a.start_ns), d->holder,
		       d->task ? ": " : "", d->task ? task : "");
	}
	ss_analysis_free(&a);
	ss_trace_close(r);
	return found ? 1 : 0;
}
