/* SPDX-License-Identifier: MIT */
/*
 * stallscope report FILE [--json] [--threshold MS] [--workers PATTERN]:
 * the options; what it prints is userspace/report.c's.
 */
#define _GNU_SOURCE
#include <getopt.h>
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
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "threshold", required_argument, NULL, 'm' },
		{ "workers", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ss_cli_trace_args o = { 0 };
	struct ss_trace_reader *r;
	struct ss_analysis a;
	int c;

	if ((c = ss_cli_trace_args(argc, argv, opts, usage, "--threshold", &o)) >= 0)
		return c;
	if (ss_cli_analyze(o.file, o.ms, o.pattern, &a, &r))
		return 2;
	if (o.json)
		ss_report_json(stdout, &a, ss_trace_partial(r) != NULL);
	else
		ss_report_human(stdout, o.file, r, &a, o.ms);
	ss_analysis_free(&a);
	ss_trace_close(r);
	return 0;
}
