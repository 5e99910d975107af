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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stallscope demo [lifo|http|all] [-o DIR]\n"
		"Records each stall scenario twice, legacy and fixed, then shows what the\n"
		"example measured, the stalls found and the timeline of each run.  Needs\n"
		"root (it records with BPF) and the examples installed with stallscope\n"
		"(BIN/../libexec/stallscope/, or BIN/ itself in a build tree).\n"
		"  -o, --output DIR   where the traces and the examples' output go\n"
		"                     (default ./stallscope-demo-YYYYmmdd-HHMMSS)\n");
}

int ss_cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dir = NULL, *which = "all";
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		which = argv[optind++];
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	return ss_demo_run(which, dir);
}
