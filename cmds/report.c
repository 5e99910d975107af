/* SPDX-License-Identifier: MIT */
/*
 * stallscope report FILE [--json] [--threshold MS] [--workers PATTERN]:
 * the options; what it prints is userspace/report.c's.
 */
#define _GNU_SOURCE
#include <stdio.h>

#include "cmds.h"
#include "report.h"

static const char usage[] =
	"usage: stallscope report FILE [--json] [--threshold MS] [--workers PATTERN]\n"
	"Finds the stalls in a trace and explains each; sums up every worker's\n"
	"states, the wake -> run delays by cause and the wasted worker time.\n"
	"  --json              one line of JSON instead of text\n"
	"  --threshold MS      shortest stall reported (default 10)\n"
	SS_CLI_WORKERS_USAGE;

int ss_cmd_report(int argc, char **argv)
{
	__u64 ms = SS_CLI_THRESHOLD_NS;
	const char *pattern = NULL;
	bool json = false;
	const struct ss_opt opt[] = {
		SS_FLAG("json", 0, &json),
		SS_CLI_THRESHOLD(&ms),
		SS_CLI_WORKERS(&pattern),
		{ 0 },
	};
	const struct ss_opts o = { SS_CLI_OPTS("report"), .usage = usage, .opt = opt,
				   .min_args = 1, .max_args = 1 };
	struct ss_trace_reader *r;
	struct ss_analysis a;
	int c, i;

	if ((c = ss_opts_parse(&o, argc, argv, &i)) >= 0)
		return c;
	if (ss_cli_analyze(argv[i], ms, pattern, &a, &r))
		return 2;
	if (json)
		ss_report_json(stdout, &a, ss_trace_partial(r) != NULL);
	else
		ss_report_human(stdout, argv[i], r, &a, ms);
	ss_analysis_free(&a);
	ss_trace_close(r);
	return 0;
}
