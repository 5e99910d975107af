/* SPDX-License-Identifier: MIT */
/*
 * What `watch` does with each event, apart from recording it, timed on a
 * recorded trace: the flight recorder's window (ss_window_add) and the
 * analyzer fed as watch feeds it — held back for ordering and applied up
 * to 7 ms behind the newest event every 5 ms of the trace's time, as
 * watch's turns do under load (a pull behind, and the 2 ms the recorder
 * allows for a preempted emit: ss_recorder_complete_ns) — and, for comparison, as `report` feeds it (applied only
 * when its reordering is full, and at the end).  The trace is read into
 * memory first (its first MAX_EVENTS), so no file decoding is timed.
 * Each part runs REPEAT
 * times; the fastest run counts (the host's noise only adds).  Prints CPU
 * ns per event for each.  Alone on a quiet CPU, with warm caches: live,
 * beside the target and its load, the same work costs several times
 * more (bench/README.md).  A benchmark: numbers, no verdicts.
 *
 *   watch_replay TRACE [REPEAT]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze.h"
#include "trace.h"
#include "window.h"

#define LAG_NS 7000000ULL	/* a pull (5 ms) and 2 ms behind */
#define TURN_NS 5000000ULL	/* a turn per pull, under load */
#define MAX_EVENTS (4U << 20)	/* 256 MiB of records */

static double cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static struct ss_record *recs;
static size_t nrecs;
static const struct ss_trace_meta *meta;

static int window_run(void)
{
	struct ss_window *w = ss_window_new(10000000000ULL, 64U << 20);
	int err = 0;

	if (!w)
		return -ENOMEM;
	for (size_t i = 0; i < nrecs && !err; i++)
		err = ss_window_add(w, &recs[i]);
	ss_window_free(w);
	return err;
}

static int analyze_run(bool as_watch)
{
	static struct ss_analysis a;	/* large: not on the stack */
	struct ss_analyze_opts o = { 0 };
	struct ss_analyzer *z;
	__u64 newest = 0, turn = 0;
	int err = 0;

	memset(&a, 0, sizeof(a));
	if (!(z = ss_analyzer_new(meta, &o, &a)))
		return -ENOMEM;
	for (size_t i = 0; i < nrecs && !err; i++) {
		err = ss_analyzer_feed(z, &recs[i]);
		if (recs[i].ts > newest)
			newest = recs[i].ts;
		if (as_watch && newest >= turn + TURN_NS) {
			turn = newest;
			if (newest > LAG_NS)
				err = err ? err : ss_analyzer_flush(z, newest - LAG_NS);
		}
	}
	if (!err)
		err = ss_analyzer_finish(z, 0);
	ss_analyzer_free(z);
	ss_analysis_free(&a);
	return err;
}

int main(int argc, char **argv)
{
	struct ss_trace_reader *r = NULL;
	size_t cap = 1 << 20;
	int repeat = argc > 2 ? atoi(argv[2]) : 5, rc;

	if (argc < 2 || repeat < 1) {
		fprintf(stderr, "usage: watch_replay TRACE [REPEAT]\n");
		return 2;
	}
	if ((rc = ss_trace_open(argv[1], &r))) {
		fprintf(stderr, "watch_replay: %s: %s\n", argv[1],
			r ? ss_trace_error(r) : strerror(-rc));
		ss_trace_close(r);
		return 1;
	}
	meta = ss_trace_meta(r);
	recs = malloc(cap * sizeof(*recs));
	while (recs && nrecs < MAX_EVENTS && (rc = ss_trace_next(r, &recs[nrecs])) == 1)
		if (++nrecs == cap && !(recs = realloc(recs, (cap *= 2) * sizeof(*recs))))
			break;
	if (!recs || rc < 0) {
		fprintf(stderr, "watch_replay: %s: %s\n", argv[1],
			recs ? ss_trace_error(r) : "out of memory");
		return 1;
	}
	const char *names[] = { "window", "analyze as watch", "analyze as report" };
	double best[3] = { 0, 0, 0 };

	for (int k = 0; k < repeat; k++) {
		for (int part = 0; part < 3; part++) {
			double t0 = cpu_ns();

			rc = part == 0 ? window_run() : analyze_run(part == 1);
			double t = cpu_ns() - t0;

			if (rc) {
				fprintf(stderr, "watch_replay: %s: %s\n", names[part], strerror(-rc));
				return 1;
			}
			if (!k || t < best[part])
				best[part] = t;
		}
	}
	printf("# %zu events%s, the fastest of %d runs\n", nrecs,
	       nrecs == MAX_EVENTS ? " (the trace's first)" : "", repeat);
	for (int part = 0; part < 3; part++)
		printf("  %-18s %6.1f ns/event\n", names[part], best[part] / nrecs);
	free(recs);
	ss_trace_close(r);
	return 0;
}
