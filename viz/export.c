/* SPDX-License-Identifier: MIT */
/*
 * `stallscope export FILE -o OUT [--format perfetto|json]`: a trace as a
 * timeline for the Perfetto UI (TrackEvent protobuf, the default) or for
 * chrome://tracing (JSON).  docs/export.md is the user's view.
 *
 *   process track (the target)
 *     stalls                       a group:
 *       stalls: worker N           one slice per detection, spanning the
 *       stalls: runtime            stall, named by its kind; overlapping
 *                                  ones take another lane (" #2")
 *       lost events                where ring-buffer drops may be
 *     worker N (tid)               a thread track per worker: task polls
 *                                  ("task 17 (handle_request)"), searching,
 *                                  parked on the driver / a futex, off-CPU
 *                                  while runnable (nested in a poll);
 *                                  instants: notify, steal, wake worker
 *     main (tid), other threads    the main thread, and threads that hit a
 *                                  runtime probe: their parks, futex waits
 *                                  and epoll_waits, notifies from outside
 *     counters                     idle workers, inject queue, readiness
 *                                  pending, per worker local queue and
 *                                  LIFO slot
 *   flows: notify -> the poll it caused; victim -> thief for a steal.
 *
 * Owns: the command (options, the output file written under a temporary
 * name and renamed when complete, the messages and exit codes) and the
 * pass over the trace: records fed to the analyzer, whose callbacks
 * (on_state, on_record, on_detection) drive the model (export_model.h).
 * Memory: per worker, per thread that matters, per live task and per
 * stall lane; not per record.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds.h"
#include "outfile.h"
#include "export_model.h"

struct export_opts {
	const char *in, *out;
	bool json;
	__u64 threshold_ns;
	const char *workers;
};

/* Whose fault a failure was: the exit status and the message differ. */
enum export_fail { FAIL_INPUT = 2, FAIL_OUTPUT = 1, FAIL_OTHER = 3 };

struct export_result {
	__u64 slices, instants, flows, counters, stalls, lost;
	unsigned workers;
	char partial[400];	/* the trace is partial: why ("" if not) */
};

/*
 * Reads the trace at o->in, writes the export onto out.  Returns 0, or a
 * -errno with the reason in err and *fail saying whether the trace, the
 * output or something else (memory) failed.
 */
static int export_trace(const struct export_opts *o, FILE *out,
			struct export_result *res, enum export_fail *fail,
			char *err, size_t errlen)
{
	struct ss_trace_reader *r = NULL;
	struct ss_analyzer *an = NULL;
	struct ss_analysis a;
	struct ss_export *x;
	struct ss_record rec;
	int ret, wret;

	*fail = FAIL_INPUT;
	memset(&a, 0, sizeof(a));
	ret = ss_trace_open(o->in, &r);
	if (ret < 0 || !r) {
		snprintf(err, errlen, "%s", r && ss_trace_error(r)[0] ?
			 ss_trace_error(r) : strerror(-ret));
		ss_trace_close(r);
		return ret;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		ss_trace_close(r);
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		*fail = FAIL_OTHER;
		return -ENOMEM;
	}
	x->meta = ss_trace_meta(r);
	x->a = &a;
	x->syms = ss_symbols_new(x->meta);
	x->symcache = calloc(SS_X_SYM_SLOTS, sizeof(*x->symcache));
	x->w = o->json ? ss_xwriter_json(out, x->meta) : ss_xwriter_perfetto(out, x->meta);
	{
		struct ss_analyze_opts ao = {
			.threshold_ns = o->threshold_ns, .worker_pattern = o->workers,
			.on_state = ss_x_on_state, .on_record = ss_x_on_record,
			.on_detection = ss_x_on_detection, .arg = x,
		};
		char comm[17];

		ss_x_sanitize(comm, sizeof(comm), x->meta->comm);
		if (x->w)
			an = ss_analyzer_new(x->meta, &ao, &a);
		x->process = ss_x_track_new(x, SS_XT_PROCESS, NULL, 0, "%s",
				       comm[0] ? comm : "target");
		x->stalls_group = ss_x_track_new(x, SS_XT_GROUP, x->process, SS_XR_STALLS, "stalls");
		if (x->stalls_group)
			snprintf(x->stalls_group->t.description,
				 sizeof(x->stalls_group->t.description), "%s",
				 "stalls the analyzer found, and where events were lost");
	}
	if (!x->w || !an || !x->symcache || x->err) {
		ret = -ENOMEM;
		*fail = FAIL_OTHER;
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}
	ss_x_declare(x, x->process);

	while ((ret = ss_trace_next(r, &rec)) > 0)
		if ((ret = ss_analyzer_feed(an, &rec)) < 0 || (ret = x->err) < 0)
			break;
	if (ret == 0)
		ret = ss_analyzer_finish(an, ss_trace_trailer(r) ?
					 ss_trace_trailer(r)->lost : 0);
	if (ret == 0 && (ret = x->err) == 0) {
		ss_x_finish(x, a.end_ns);
		ret = x->err;
	}
	if (ret < 0) {
		*fail = ss_trace_error(r)[0] ? FAIL_INPUT : FAIL_OTHER;
		snprintf(err, errlen, "%s", ss_trace_error(r)[0] ? ss_trace_error(r)
			 : strerror(-ret));
	}
out:
	if (x->w) {
		wret = x->w->ops->finish(x->w);
		if (!ret && wret < 0) {
			ret = wret;
			*fail = FAIL_OUTPUT;
			snprintf(err, errlen, "%s", strerror(-wret));
		}
	}
	if (!ret) {
		res->slices = x->nslices;
		res->instants = x->ninstants;
		res->flows = x->nflows;
		res->counters = x->ncounters;
		res->stalls = x->nstalls;
		res->lost = a.lost;
		res->workers = a.nworkers;
		snprintf(res->partial, sizeof(res->partial), "%s",
			 ss_trace_partial(r) ? ss_trace_partial(r) : "");
	}
	ss_analyzer_free(an);
	ss_analysis_free(&a);
	ss_x_exporter_free(x);
	free(x);
	ss_trace_close(r);
	return ret;
}

static void usage(FILE *f)
{
	fputs("usage: stallscope export FILE -o OUT [--format perfetto|json]\n"
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
	      "                     wsrt-w*,tokio-runtime-w*)\n", f);
}

int ss_cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "threshold", required_argument, NULL, 'T' },
		{ "workers", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct export_opts o = { 0 };
	struct export_result res = { 0 };
	char err[400];
	struct ss_outfile of = { .fd = -1 };
	enum export_fail fail = FAIL_OTHER;
	bool to_stdout;
	FILE *out;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.out = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "json")) {
				o.json = true;
			} else if (!strcmp(optarg, "perfetto")) {
				o.json = false;
			} else {
				fprintf(stderr, "stallscope: --format: want perfetto or json: %s\n",
					optarg);
				return 2;
			}
			break;
		case 'T':
			if (!ss_parse_ms("--threshold", optarg, true, &o.threshold_ns))
				return 2;
			break;
		case 'W':
			o.workers = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || !o.out || !o.out[0]) {
		if (optind == argc - 1 && !o.out)
			fprintf(stderr, "stallscope: export: -o OUT is required\n");
		usage(stderr);
		return 2;
	}
	o.in = strcmp(argv[optind], "-") ? argv[optind] : "/dev/stdin";
	to_stdout = !strcmp(o.out, "-");
	if (to_stdout) {
		out = stdout;
	} else {
		/* PATH.partial, renamed over PATH when complete (outfile.h). */
		ret = ss_outfile_check(o.out);
		if (!ret)
			ret = ss_outfile_create(&of, o.out, 0666);
		if (ret) {
			fprintf(stderr, "stallscope: cannot write %s: %s\n", o.out,
				ss_outfile_strerror(ret));
			return ret == -EISDIR || ret == SS_OUTFILE_NOT_REGULAR ? 2 : 1;
		}
		int fd = fcntl(of.fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0 || !(out = fdopen(fd, "w"))) {
			fprintf(stderr, "stallscope: cannot write %s: %s\n", o.out,
				strerror(errno));
			if (fd >= 0)
				close(fd);
			ss_outfile_discard(&of);
			return 1;
		}
	}

	ret = export_trace(&o, out, &res, &fail, err, sizeof(err));
	if (!to_stdout) {
		if (fclose(out) && !ret) {
			ret = -errno;
			fail = FAIL_OUTPUT;
			snprintf(err, sizeof(err), "%s", strerror(errno));
		}
		if (!ret && (ret = ss_outfile_commit(&of))) {
			fail = FAIL_OUTPUT;
			snprintf(err, sizeof(err), "%s", strerror(-ret));
		}
		ss_outfile_discard(&of);	/* after a commit: nothing left */
	}
	if (res.partial[0])
		fprintf(stderr, "stallscope: %s: %s\n", argv[optind], res.partial);
	if (ret < 0) {
		if (fail == FAIL_INPUT)
			fprintf(stderr, "stallscope: %s: %s\n", argv[optind], err);
		else if (fail == FAIL_OUTPUT)
			fprintf(stderr, "stallscope: cannot write %s: %s\n", o.out, err);
		else
			fprintf(stderr, "stallscope: cannot export %s: %s\n", argv[optind], err);
		return fail == FAIL_INPUT ? 2 : 1;
	}
	fprintf(stderr, "stallscope: %u worker%s, %llu slices, %llu instants, %llu flows, "
		"%llu counter values, %llu stall%s%s, written to %s\n",
		res.workers, res.workers == 1 ? "" : "s",
		(unsigned long long)res.slices, (unsigned long long)res.instants,
		(unsigned long long)res.flows, (unsigned long long)res.counters,
		(unsigned long long)res.stalls, res.stalls == 1 ? "" : "s",
		res.lost ? " (events were lost: see the lost events track)" : "",
		to_stdout ? "standard output" : o.out);
	return 0;
}

