/* SPDX-License-Identifier: MIT */
/*
 * stallscope timeline FILE [--width N] [--from MS] [--to MS] [--threshold MS]:
 * the options; the drawing is userspace/timeline.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "timeline.h"

static const char usage[] =
	"usage: stallscope timeline FILE [--width N] [--from MS] [--to MS] [--threshold MS]\n"
	"Draws each worker's states over time, one column per time bucket, and\n"
	"marks the stalls found under the lanes.\n"
	"  --width N        columns (default " SS_STR(SS_TIMELINE_WIDTH) ", at most "
	SS_STR(SS_TIMELINE_WIDTH_MAX) ")\n"
	"  --from MS        start of the window, ms after the first record (default 0)\n"
	"  --to MS          end of the window (default: the last record)\n"
	"  --threshold MS   shortest stall reported (default 10)\n";

int ss_cmd_timeline(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "width", required_argument, NULL, 'w' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "threshold", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ss_timeline_opts o = { 0 };
	bool has_to = false;
	char err[400], *end;
	int c, ret, status;

	while ((c = ss_cli_getopt(argc, argv, "h", opts, usage, &status)) != -1) {
		switch (c) {
		case 'w': {
			long v = strtol(optarg, &end, 10);
			if (end == optarg || *end || v < 1 || v > SS_TIMELINE_WIDTH_MAX) {
				fprintf(stderr, "stallscope: --width: want 1..%u columns: %s\n",
					SS_TIMELINE_WIDTH_MAX, optarg);
				return 2;
			}
			o.width = (unsigned)v;
			break;
		}
		case 'f':
			if (!ss_parse_ms("--from", optarg, false, &o.from_ns))
				return 2;
			break;
		case 't':
			if (!ss_parse_ms("--to", optarg, true, &o.to_ns))
				return 2;
			has_to = true;
			break;
		case 'T':
			if (!ss_parse_ms("--threshold", optarg, true, &o.threshold_ns))
				return 2;
			break;
		}
	}
	if (status >= 0)
		return status;
	if (optind != argc - 1)
		return ss_cli_bad_usage(usage);
	if (has_to && o.from_ns >= o.to_ns) {
		fprintf(stderr, "stallscope: --from must be before --to\n");
		return 2;
	}

	ret = ss_timeline_render(stdout, argv[optind], &o, NULL, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "stallscope: %s: %s\n", argv[optind], err);
		return 2;
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "stallscope: cannot write the timeline: %s\n",
			strerror(errno));
		return 1;
	}
	return 0;
}
