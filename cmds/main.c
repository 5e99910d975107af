/* SPDX-License-Identifier: MIT */
/* stallscope: the command; dispatches to one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cmds.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "record", ss_cmd_record, "record a process's scheduling events into a trace file" },
	{ "dump", ss_cmd_dump, "print a trace file, one record per line" },
	{ "timeline", ss_cmd_timeline, "draw each worker's states over time, stalls marked" },
	{ "demo", ss_cmd_demo, "record the stall scenarios, legacy vs fixed, and show them" },
	{ "report", ss_cmd_report, "find the stalls in a trace and explain them" },
	{ "check", ss_cmd_check, "exit 1 if a trace has a stall of at least MS (for CI)" },
	{ "export", ss_cmd_export, "write a trace as a Perfetto (or Chrome JSON) timeline" },
	{ "live", ss_cmd_live, "watch the workers live in the terminal, or replay a trace" },
	{ "watch", ss_cmd_watch, "stay attached: save a trace around each stall, export metrics" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: stallscope COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\noptions:\n"
		   "  -h, --help  this text\n"
		   "  --version   stallscope's version\n"
		   "\n`stallscope COMMAND --help` for a command's options; man stallscope.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("stallscope %s\n", SS_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "stallscope: unknown command: %s\n", argv[1]);
	usage(stderr);
	return 2;
}
