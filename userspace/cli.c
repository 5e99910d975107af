/* SPDX-License-Identifier: MIT */
/*
 * What the commands share on their outputs (cli.h): JSON strings, warnings,
 * a trace analyzed with its errors said.  Files for the sudo user
 * are outfile.c's, the clocks clock.h's.
 */
#include <stdio.h>

#include "analyze.h"
#include "cli.h"

/* Every byte outside printable ASCII escaped: valid JSON whatever a
 * thread or symbol name holds. */
void ss_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void ss_print_warning(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "stallscope: %s\n", msg);
}

int ss_cli_analyze(const char *path, __u64 threshold_ns, const char *pattern,
		   struct ss_analysis *a, struct ss_trace_reader **rp)
{
	struct ss_analyze_opts o = { .threshold_ns = threshold_ns,
				     .worker_pattern = pattern };
	char err[400];
	int ret = ss_analyze_path(path, &o, a, rp, err, sizeof(err));

	if (ret < 0) {
		fprintf(stderr, "stallscope: %s: %s\n", path, err);
		return ret;
	}
	if (ss_trace_partial(*rp))
		fprintf(stderr, "stallscope: %s: %s\n", path, ss_trace_partial(*rp));
	return 0;
}
