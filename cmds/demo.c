/* SPDX-License-Identifier: MIT */
/*
 * stallscope demo [lifo|http|all] [-o DIR]: the options; the demo is
 * userspace/demo.c's.
 */
#define _GNU_SOURCE
#include <getopt.h>
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
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dir = NULL, *which = "all";
	int c, status;

	while ((c = ss_cli_getopt(argc, argv, "o:h", opts, usage, &status)) != -1)
		if (c == 'o')
			dir = optarg;
	if (status >= 0)
		return status;
	if (optind < argc)
		which = argv[optind++];
	if (optind < argc)
		return ss_cli_bad_usage(usage);
	return ss_demo_run(which, dir);
}
