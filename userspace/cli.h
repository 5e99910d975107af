/* SPDX-License-Identifier: MIT */
/* What the commands (cmds/) share with the libraries they call: the
 * version, the option-table entries they have in common (common/opts.h),
 * and cli.c's helpers for their outputs. */
#ifndef STALLSCOPE_CLI_H
#define STALLSCOPE_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/types.h>

#define SS_VERSION "0.1"

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

/* The commands' options (common/opts.h), and the entries they share. */
#include "common/opts.h"

/* A command's struct ss_opts: its errors start "stallscope: ". */
#define SS_CLI_OPTS(cmd) .prog = "stallscope", .help = "stallscope " cmd " --help"
#define SS_CLI_MS(name, p) SS_MSEC(name, 0, p, 1e-6, 1e10, "milliseconds > 0")
#define SS_CLI_THRESHOLD(p) SS_CLI_MS("threshold", p)
#define SS_CLI_THRESHOLD_NS 10000000ULL	/* --threshold's default: 10 ms */
/* -p/--pid, --kernel-only, --no-preload, --syscalls, --no-tokio,
 * --no-readiness and -v/--verbose into a struct ss_recorder_opts:
 * record's, live's, watch's. */
#define SS_CLI_RECORDER(ro) \
	SS_INT("pid", 'p', &(ro)->pid, 1, 2147483647, "a pid"), \
	SS_FLAG("kernel-only", 0, &(ro)->kernel_only), \
	SS_FLAG("no-preload", 0, &(ro)->no_preload), \
	SS_FLAG("syscalls", 0, &(ro)->syscalls), \
	SS_FLAG("no-tokio", 0, &(ro)->no_tokio), \
	SS_FLAG("no-readiness", 0, &(ro)->no_readiness), \
	SS_FLAG("verbose", 'v', &(ro)->verbose)

/* --workers in report's and check's usage, and its entry. */
#define SS_CLI_WORKERS_USAGE \
	"  --workers PATTERN   kernel-only traces: worker thread names (default\n" \
	"                      wsrt-w*,tokio-runtime-w*)\n"
#define SS_CLI_WORKERS(p) SS_STRING("workers", 0, p)

/* A number macro as a string, for usage texts. */
#define SS_STR(x) SS_STR_(x)
#define SS_STR_(x) #x

#endif
