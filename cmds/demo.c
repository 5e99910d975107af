/* SPDX-License-Identifier: MIT */
/*
 * stallscope demo [lifo|http|all] [-o DIR]: the options; the demo is
 * userspace/demo.c's.
 */
#define _GNU_SOURCE
#include <stdio.h>

#include "cmds.h"
#include "demo.h"

static const char usage[] =
	"usage: stallscope demo [lifo|http|all] [-o DIR]\n"
	"Records each stall scenario twice, legacy and fixed, then shows what the\n"
	"example measured, the stalls found and the timeline of each run.  Needs\n"
	"root (it records with BPF) and the examples installed with stallscope\n"
	"(BIN/../libexec/stallscope/, or BIN/ itself in a build tree).\n"
	"  -o, --output DIR   where the traces and the examples' output go\n"
	"                     (default ./stallscope-demo-YYYYmmdd-HHMMSS)\n";

int ss_cmd_demo(int argc, char **argv)
{
	const char *dir = NULL;
	const struct ss_opt opt[] = {
		SS_STRING("output", 'o', &dir),
		{ 0 },
	};
	const struct ss_opts o = { SS_CLI_OPTS("demo"), .usage = usage, .opt = opt,
				   .min_args = 0, .max_args = 1 };
	int c, i;

	if ((c = ss_opts_parse(&o, argc, argv, &i)) >= 0)
		return c;
	return ss_demo_run(i < argc ? argv[i] : "all", dir);
}
