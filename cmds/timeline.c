/* SPDX-License-Identifier: MIT */
/*
 * stallscope timeline FILE [--width N] [--from MS] [--to MS] [--threshold MS]:
 * the options; the drawing is userspace/timeline.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
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
	struct ss_timeline_opts t = { 0 };
	const struct ss_opt opt[] = {
		SS_UINT("width", 0, &t.width, 1, SS_TIMELINE_WIDTH_MAX, "columns 1.."
			SS_STR(SS_TIMELINE_WIDTH_MAX)),
		SS_MSEC("from", 0, &t.from_ns, 0, 1e10, "milliseconds >= 0"),
		SS_CLI_MS("to", &t.to_ns),
		SS_CLI_THRESHOLD(&t.threshold_ns),
		{ 0 },
	};
	const struct ss_opts o = { SS_CLI_OPTS("timeline"), .usage = usage, .opt = opt,
				   .min_args = 1, .max_args = 1 };
	char err[400];
	int c, i, ret;

	if ((c = ss_opts_parse(&o, argc, argv, &i)) >= 0)
		return c;
	if (t.to_ns && t.from_ns >= t.to_ns) {	/* --to is > 0 when given */
		fprintf(stderr, "stallscope: --from must be before --to\n");
		return 2;
	}

	ret = ss_timeline_render(stdout, argv[i], &t, NULL, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "stallscope: %s: %s\n", argv[i], err);
		return 2;
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "stallscope: cannot write the timeline: %s\n",
			strerror(errno));
		return 1;
	}
	return 0;
}
