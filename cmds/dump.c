/* SPDX-License-Identifier: MIT */
/*
 * stallscope dump FILE | --schema: the options; the text is
 * userspace/dump.c's, the schema's listing schema.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "dump.h"
#include "schema.h"

/* Installed on stdout before the first byte is written to it. */
static char out_buf[1 << 20];

static void usage(FILE *f)
{
	fputs("usage: stallscope dump FILE\n"
	      "       stallscope dump --schema\n"
	      "Prints a trace file (- for standard input) as text: the header as\n"
	      "'# key: value' lines, one line per record, then the trailer.\n"
	      "--schema prints the record types instead, one a line: number, name,\n"
	      "source and fields, tab-separated.\n", f);
}

int ss_cmd_dump(int argc, char **argv)
{
	struct ss_trace_reader *r;
	const char *path;
	int err, status = 0;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--schema")) {
		ss_schema_print(stdout);
		return fflush(stdout) ? 1 : 0;
	}
	if (argc != 2 || (argv[1][0] == '-' && argv[1][1])) {
		usage(stderr);
		return 2;
	}
	path = argv[1];
	setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));

	/* "-" is standard input (a pipe reads as well as a file). */
	err = ss_trace_open(strcmp(path, "-") ? path : "/dev/stdin", &r);
	if (!r) {
		fprintf(stderr, "stallscope: %s: %s\n", path, strerror(-err));
		return 2;
	}
	if (!err && (err = ss_dump(stdout, r)) == 0 && !ss_trace_trailer(r))
		fprintf(stderr, "stallscope: %s: %s\n", path, ss_trace_partial(r));
	/* What was read before an error is printed before the error. */
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "stallscope: cannot write the dump: %s\n",
			strerror(errno));
		status = 1;
	}
	if (err < 0) {
		fprintf(stderr, "stallscope: %s: %s\n", path, ss_trace_error(r));
		status = 2;
	}
	ss_trace_close(r);
	return status;
}
