/* SPDX-License-Identifier: MIT */
/* What the commands (cmds/) share with the libraries they call: the
 * version, and the helpers of a command line (cli.c). */
#ifndef STALLSCOPE_CLI_H
#define STALLSCOPE_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/types.h>

#define SS_VERSION "0.1"

/* A milliseconds option (--threshold, --from ...) into ns: a number,
 * > 0 if positive else >= 0, at most 1e10; else one line on stderr
 * naming opt, and false. */
bool ss_parse_ms(const char *opt, const char *s, bool positive, __u64 *ns);
/* A pid option: a number > 0; else one line on stderr naming opt, and false. */
bool ss_parse_pid(const char *opt, const char *s, pid_t *pid);
/* s as a JSON string, quotes included. */
void ss_json_string(FILE *f, const char *s);
/* A library's warning (the recorder's on_warning): "stallscope: MSG" on
 * stderr. */
void ss_print_warning(void *arg, const char *msg);
/* Analyzes path (ss_analyze_path) for report and check: the error, or
 * the note that the file was cut short, on stderr as one line. */
struct ss_analysis;
struct ss_trace_reader;
int ss_cli_analyze(const char *path, __u64 threshold_ns, const char *pattern,
		   struct ss_analysis *a, struct ss_trace_reader **rp);

/* --workers in report's and check's usage. */
#define SS_CLI_WORKERS_USAGE \
	"  --workers PATTERN   kernel-only traces: worker thread names (default\n" \
	"                      wsrt-w*,tokio-runtime-w*)\n"

/* getopt_long for a command (optind 1 at the first call), with what every
 * command does for -h/--help (usage on stdout: *status 0) and an unknown
 * option or a missing value (getopt's message, usage on stderr: *status
 * 2): the next option to take, optarg set; -1 when parsing stops, with
 * *status -1 if the options simply ended (optind: the first operand). */
struct option;
int ss_cli_getopt(int argc, char **argv, const char *shortopts,
		  const struct option *opts, const char *usage, int *status);
/* A bad command line found after the options: usage on stderr; 2. */
int ss_cli_bad_usage(const char *usage);
/* A number macro as a string, for usage texts. */
#define SS_STR(x) SS_STR_(x)
#define SS_STR_(x) #x

/* report's and check's command line: FILE and the options of opts among
 * 'j' (--json), 'm' (ms_opt MS: a->ms, default 10 ms), 'w' (--workers) and
 * 'h'.  -1 to go on, else the exit status (after the usage or a message). */
struct ss_cli_trace_args {
	const char *file, *pattern;
	__u64 ms;
	bool json;
};
int ss_cli_trace_args(int argc, char **argv, const struct option *opts,
		      const char *usage, const char *ms_opt,
		      struct ss_cli_trace_args *a);

/* The recorder's options that record and live share: getopt's c for
 * -p/--pid, --kernel-only ('k'), --no-preload ('n'), --no-tokio ('t') and
 * -v/--verbose into
 * o.  1: taken; 0: not one of them; -EINVAL: a bad value (said). */
struct ss_recorder_opts;
int ss_cli_recorder_opt(int c, const char *arg, struct ss_recorder_opts *o);

#endif
