/* SPDX-License-Identifier: MIT */
/*
 * mktrace: a hand-written event stream (text) made into a real trace file,
 * through the same writer the recorder uses (userspace/trace_write.c).  The
 * analyzer's golden tests (tests/golden/, tests/scenario/analyze.sh) are
 * written this way.
 *
 *   mktrace IN.txt OUT.trace        (IN may be - for standard input)
 *
 * The text, one item a line:
 *
 *   # a comment (a line starting with #, or the rest of a line from a
 *   #   word starting with #)
 *   meta KEY VALUE                  the header; any order, anywhere
 *   TS_MS TYPE tid=N [cpu=N] [ARG=VALUE ...] [flags=N]
 *
 * meta keys: pid N, comm NAME, workers N, flags kernel-only|runtime-probes|shim-parks|sleep-parks|none|N,
 * host NAME, kernel RELEASE, cmdline ARG..., start_ms MS (default: the
 * first record's time), end_ms MS (trailer; default: the last record's),
 * stop exited|signal|duration|error, status N (default 0), lost N
 * (trailer; default: the sum of the `lost` records' counts).
 *
 * A record: TS_MS is CLOCK_MONOTONIC in milliseconds, a decimal with at
 * most 6 fraction digits (exact: 1000.0005 is 1000000500 ns).  TYPE is
 * the name ss_type_name() prints (notify, poll_start, park, sched_switch,
 * futex_enter, epoll_enter, sk_data_ready, comm, lost, thread_at_attach,
 * ...) or a type number (N or type=N).  tid is required, cpu is 0 unless
 * given.
 * Arguments go by position, a0=..a4=, or by the names `stallscope dump`
 * prints (docs/trace-format.md): `notify task=2 waker=1 dest=lifo`.
 * Numbers are decimal (negative ones are stored sign-extended, as the
 * probes do: waker=-1) or 0x hex.  Enumerations take their dump names or
 * numbers: dest lifo|local|inject, kind futex|driver, src
 * lifo|local|inject|steal, result pending|ready|yield, which
 * wait|pwait|pwait2, epoll op add|del|mod, family unix|inet|inet6,
 * protocol tcp|udp, prev_state R|S|D|T|t|X|Z|P|I, futex op
 * wait|wake|wait_bitset|...  with |private and |clock_realtime, the
 * preload shim's park kind epoll|futex|cond|sem, op as dump prints it for
 * that kind (give kind first), timeout_ns none|N, faults
 * none|spurious|eintr|delay.  A comm (comm=wsrt-w0) is at most 16 bytes;
 * \xNN and \\ escape bytes.
 *
 * `stallscope dump`'s own text is read too (known by its first line,
 * "# stallscope trace: ..."): its header and trailer lines, and records as
 * it prints them (TS_NS cpu=N tid=N TYPE fields), so that `dump | mktrace`
 * makes the same trace again (tests/scenario/schema.sh).  Field names,
 * formats and enumerations are the record schema's (userspace/schema.c).
 *
 * Records are written in the order given (a real trace is not strictly
 * time-ordered either).  Strict: anything it does not understand is an
 * error naming the line; then nothing is written and it exits 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "golden_text.h"

int main(int argc, char **argv)
{
	struct mk_input in;
	struct ss_trace_writer *w;
	FILE *f;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: mktrace IN.txt OUT.trace\n");
		return 2;
	}
	f = strcmp(argv[1], "-") ? fopen(argv[1], "r") : stdin;
	if (!f) {
		fprintf(stderr, "mktrace: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	mk_read(f, argv[1], &in);
	if (f != stdin)
		fclose(f);
	err = ss_trace_create(argv[2], &in.meta, &w);
	if (err) {
		fprintf(stderr, "mktrace: %s: %s\n", argv[2], strerror(-err));
		return 2;
	}
	err = ss_trace_write(w, in.recs, in.nrecs);
	if (err) {
		ss_trace_abort(w);
		unlink(argv[2]);
		fprintf(stderr, "mktrace: %s: %s\n", argv[2], strerror(-err));
		return 2;
	}
	err = ss_trace_finish(w, in.have_lost ? in.lost : in.lost_sum, in.end_ns,
			      in.stop, in.have_status || in.stop == SS_STOP_EXITED ? in.status : -1);
	if (err) {
		unlink(argv[2]);
		fprintf(stderr, "mktrace: %s: %s\n", argv[2], strerror(-err));
		return 2;
	}
	mk_input_free(&in);
	return 0;
}
