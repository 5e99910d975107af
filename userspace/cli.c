/* SPDX-License-Identifier: MIT */
/*
 * What the commands share on their command lines and outputs (cli.h):
 * milliseconds and pid options, JSON strings.  Files for the sudo user
 * are outfile.c's, the clocks clock.h's.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "analyze.h"
#include "cli.h"
#include "recorder.h"

bool ss_parse_ms(const char *opt, const char *s, bool positive, __u64 *ns)
{
	char *end;
	double v = strtod(s, &end);

	/* Also refuses NaN and infinities. */
	if (end == s || *end || !(v >= 0 && v <= 1e10) || (positive && v <= 0)) {
		fprintf(stderr, "stallscope: %s: want milliseconds%s: %s\n", opt,
			positive ? " > 0" : " >= 0", s);
		return false;
	}
	*ns = (__u64)(v * 1e6 + 0.5);
	return true;
}

bool ss_parse_pid(const char *opt, const char *s, pid_t *pid)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v <= 0 || v > INT_MAX) {
		fprintf(stderr, "stallscope: %s: not a pid: %s\n", opt, s);
		return false;
	}
	*pid = (pid_t)v;
	return true;
}

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

int ss_cli_getopt(int argc, char **argv, const char *shortopts,
		  const struct option *opts, const char *usage, int *status)
{
	int c = getopt_long(argc, argv, shortopts, opts, NULL);

	*status = -1;
	if (c == 'h') {
		fputs(usage, stdout);
		*status = 0;
		return -1;
	}
	if (c == '?' || c == ':') {
		fputs(usage, stderr);
		*status = 2;
		return -1;
	}
	return c;
}

int ss_cli_bad_usage(const char *usage)
{
	fputs(usage, stderr);
	return 2;
}

int ss_cli_trace_args(int argc, char **argv, const struct option *opts,
		      const char *usage, const char *ms_opt,
		      struct ss_cli_trace_args *a)
{
	int c, status;

	a->ms = 10000000ULL;
	while ((c = ss_cli_getopt(argc, argv, "h", opts, usage, &status)) != -1) {
		switch (c) {
		case 'j':
			a->json = true;
			break;
		case 'm':
			if (!ss_parse_ms(ms_opt, optarg, true, &a->ms))
				return 2;
			break;
		case 'w':
			a->pattern = optarg;
			break;
		}
	}
	if (status >= 0)
		return status;
	if (optind != argc - 1)
		return ss_cli_bad_usage(usage);
	a->file = argv[optind];
	return -1;
}

int ss_cli_recorder_opt(int c, const char *arg, struct ss_recorder_opts *o)
{
	switch (c) {
	case 'p':
		return ss_parse_pid("-p", arg, &o->pid) ? 1 : -EINVAL;
	case 'k':
		o->kernel_only = true;
		return 1;
	case 'n':
		o->no_preload = true;
		return 1;
	case 't':
		o->no_tokio = true;
		return 1;
	case 'Y':
		o->syscalls = true;
		return 1;
	case 'v':
		o->verbose = true;
		return 1;
	default:
		return 0;
	}
}
