/* SPDX-License-Identifier: MIT */
/*
 * stallscope export FILE -o OUT [--format perfetto|json] [--threshold MS]
 * [--workers PATTERN]: the options, the output file (written under a
 * temporary name, renamed when complete), a pipe spooled to a file for
 * JSON's two passes, the messages and exit codes; the export itself is
 * viz/export.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds.h"
#include "export.h"
#include "outfile.h"

static const char usage[] =
	"usage: stallscope export FILE -o OUT [--format perfetto|json]\n"
	"                         [--threshold MS] [--workers PATTERN]\n"
	"Writes a trace as a timeline: one track per worker (task polls,\n"
	"searching, parked), flows from each notify to the poll it caused and\n"
	"for steals, queue-depth and idle-worker counters, and a stalls track\n"
	"with each detection.\n"
	"  -o, --output OUT   the file to write (- for standard output)\n"
	"  --format perfetto  Perfetto TrackEvent protobuf, for ui.perfetto.dev (default)\n"
	"  --format json      Chrome Trace Event JSON, for chrome://tracing or Perfetto\n"
	"  --threshold MS     shortest stall reported (default 10)\n"
	"  --workers PATTERN  kernel-only traces: worker thread names (default\n"
	"                     wsrt-w*,tokio-runtime-w*)\n";

/* If in is not a regular file (a pipe), copies it to a temporary file,
 * named in *path (NULL otherwise).  0 or -errno. */
static int spool(const char *in, char **path)
{
	const char *dir = getenv("TMPDIR");
	char buf[65536];
	struct stat st;
	ssize_t n;
	int ifd, ofd, ret = 0;

	*path = NULL;
	if (stat(in, &st) == 0 && S_ISREG(st.st_mode))
		return 0;
	if ((ifd = open(in, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (asprintf(path, "%s/stallscope-export.XXXXXX", dir && dir[0] ? dir : "/tmp") < 0) {
		*path = NULL;
		close(ifd);
		return -ENOMEM;
	}
	if ((ofd = mkstemp(*path)) < 0) {
		ret = -errno;
		free(*path);
		*path = NULL;
		close(ifd);
		return ret;
	}
	while ((n = read(ifd, buf, sizeof(buf))) != 0) {
		ssize_t w;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if ((w = write(ofd, buf, (size_t)n)) != n) {
			ret = w < 0 ? -errno : -ENOSPC;	/* short: the disk is full */
			break;
		}
	}
	if (close(ofd) && !ret)
		ret = -errno;
	close(ifd);
	if (ret) {
		unlink(*path);
		free(*path);
		*path = NULL;
	}
	return ret;
}

static void unspool(char *path)
{
	if (path)
		unlink(path);
	free(path);
}

int ss_cmd_export(int argc, char **argv)
{
	static const char *const formats[] = { "perfetto", "json", NULL };
	struct ss_export_opts o = { 0 };
	const char *out_path = NULL;
	int format = 0;
	const struct ss_opt opt[] = {
		SS_STRING("output", 'o', &out_path),
		SS_CHOICE("format", 0, &format, formats),
		SS_CLI_THRESHOLD(&o.threshold_ns),
		SS_CLI_WORKERS(&o.workers),
		{ 0 },
	};
	const struct ss_opts so = { SS_CLI_OPTS("export"), .usage = usage, .opt = opt,
				    .min_args = 1, .max_args = 1 };
	struct ss_export_result res = { 0 };
	char err[400], *spooled = NULL;
	struct ss_outfile of = { .fd = -1 };
	enum ss_export_fail fail = SS_EXPORT_FAIL_OTHER;
	bool to_stdout;
	FILE *out;
	int c, ret, i;

	if ((c = ss_opts_parse(&so, argc, argv, &i)) >= 0)
		return c;
	if (!out_path || !out_path[0]) {
		fprintf(stderr, "stallscope: export: -o OUT is required\n");
		return 2;
	}
	o.json = format == 1;
	o.in = strcmp(argv[i], "-") ? argv[i] : "/dev/stdin";
	/* JSON reads the trace twice: a pipe is copied to a file first. */
	if (o.json && (ret = spool(o.in, &spooled)) < 0) {
		fprintf(stderr, "stallscope: %s: %s\n", argv[i], strerror(-ret));
		return 2;
	}
	if (spooled)
		o.in = spooled;
	to_stdout = !strcmp(out_path, "-");
	if (to_stdout) {
		out = stdout;
	} else {
		/* PATH.partial, renamed over PATH when complete (outfile.h). */
		ret = ss_outfile_check(out_path);
		if (!ret)
			ret = ss_outfile_create(&of, out_path, 0666);
		if (ret) {
			fprintf(stderr, "stallscope: cannot write %s: %s\n", out_path,
				ss_outfile_strerror(ret));
			unspool(spooled);
			return ret == -EISDIR || ret == SS_OUTFILE_NOT_REGULAR ? 2 : 1;
		}
		int fd = fcntl(of.fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0 || !(out = fdopen(fd, "w"))) {
			fprintf(stderr, "stallscope: cannot write %s: %s\n", out_path,
				strerror(errno));
			if (fd >= 0)
				close(fd);
			ss_outfile_discard(&of);
			unspool(spooled);
			return 1;
		}
	}

	ret = ss_export_trace(&o, out, &res, &fail, err, sizeof(err));
	unspool(spooled);
	if (!to_stdout) {
		if (fclose(out) && !ret) {
			ret = -errno;
			fail = SS_EXPORT_FAIL_OUTPUT;
			snprintf(err, sizeof(err), "%s", strerror(errno));
		}
		if (!ret && (ret = ss_outfile_commit(&of))) {
			fail = SS_EXPORT_FAIL_OUTPUT;
			snprintf(err, sizeof(err), "%s", strerror(-ret));
		}
		ss_outfile_discard(&of);	/* after a commit: nothing left */
	}
	if (res.partial[0])
		fprintf(stderr, "stallscope: %s: %s\n", argv[i], res.partial);
	if (ret < 0) {
		if (fail == SS_EXPORT_FAIL_INPUT)
			fprintf(stderr, "stallscope: %s: %s\n", argv[i], err);
		else if (fail == SS_EXPORT_FAIL_OUTPUT)
			fprintf(stderr, "stallscope: cannot write %s: %s\n", out_path, err);
		else
			fprintf(stderr, "stallscope: cannot export %s: %s\n", argv[i], err);
		return fail == SS_EXPORT_FAIL_INPUT ? 2 : 1;
	}
	fprintf(stderr, "stallscope: %u worker%s, %llu slices, %llu instants, %llu flows, "
		"%llu counter values, %llu stall%s%s, written to %s\n",
		res.workers, res.workers == 1 ? "" : "s",
		(unsigned long long)res.slices, (unsigned long long)res.instants,
		(unsigned long long)res.flows, (unsigned long long)res.counters,
		(unsigned long long)res.stalls, res.stalls == 1 ? "" : "s",
		res.lost ? " (events were lost: see the lost events track)" : "",
		to_stdout ? "standard output" : out_path);
	return 0;
}

