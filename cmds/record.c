/* SPDX-License-Identifier: MIT */
/*
 * `stallscope record`: the recorder (recorder.h) with a trace file for a
 * sink (trace_write.c: written as FILE.partial, renamed when complete), until
 * the target exits, Ctrl-C/SIGTERM, or --duration.
 *
 *   stallscope record [-o FILE] [--duration S] [--kernel-only] [--no-preload]
 *                     [--no-tokio] [--no-readiness] [--syscalls]
 *                     (-p PID | -- CMD [ARGS...])
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cmds.h"
#include "outfile.h"
#include "prereq.h"
#include "procfs.h"
#include "recorder.h"
#include "ringdec.h"
#include "ringrec.h"
#include "ringreg.h"
#include "bpf/ring.h"
#include "self.h"
#include "target.h"
#include "trace.h"
#include "uprobe_multi.h"

#define DEFAULT_OUT "stallscope.trace"
#define FLUSH_NS 1000000000ULL		/* the trace file, at least this often */

/* ---- the command ------------------------------------------------------------------------------------ */

struct rec_cmd {
	const char *out_path;
	__u64 duration_ns;	/* 0: until the target exits or a signal */
	struct ss_trace_writer *w;
	int write_err;		/* the file's, printed once */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static const char usage[] =
	"usage: stallscope record [-o FILE] [--duration S] [--kernel-only] [--no-preload]\n"
	"                         [--no-tokio] [--no-readiness] [--syscalls]\n"
	"                         (-p PID | -- CMD [ARGS...])\n"
	"  -o, --output FILE  the trace file (default " DEFAULT_OUT ")\n"
	"  --duration S       stop after S seconds (a started CMD is then terminated)\n"
	"  --kernel-only      kernel events only, as for any unmodified binary\n"
	"  --no-preload       start CMD without the preload shim\n"
	"  --syscalls         hook the futex and epoll syscalls even when the shim\n"
	"                     records the waits (costs every syscall of the machine)\n"
	"  --no-tokio         no uprobes on Tokio's task entry points in a Tokio\n"
	"                     executable (found in its symbols): the kernel's view\n"
	"  --no-readiness     do not record I/O readiness (sk_data_ready, which runs\n"
	"                     for every packet of the machine): cheaper, but no\n"
	"                     idle_but_parked stall can be found\n"
	"  -p, --pid PID      attach to a running process\n"
	"  -v, --verbose      show libbpf's messages\n";

/* The sink: the trace file (PATH.partial until it is complete). */
static int file_start(void *arg, const struct ss_trace_meta *meta)
{
	struct rec_cmd *c = arg;
	int err = ss_trace_create(c->out_path, meta, &c->w);

	if (err)
		fprintf(stderr, "stallscope: cannot create %s: %s\n", c->out_path,
			ss_outfile_strerror(err));
	return err;
}

static int file_records(void *arg, const struct ss_record *recs, size_t n)
{
	struct rec_cmd *c = arg;
	int err = ss_trace_write(c->w, recs, n);

	if (err && !c->write_err) {
		c->write_err = err;
		fprintf(stderr, "stallscope: writing %s: %s\n", c->out_path, strerror(-err));
	}
	return err;
}

static struct ss_ring_slot *file_block_begin(void *arg, const struct ss_ring_chunk *hdr,
					     __u32 n)
{
	struct rec_cmd *c = arg;

	return ss_trace_block_begin(c->w, hdr, n);
}

static int file_block_end(void *arg, const struct ss_block_done *d)
{
	struct rec_cmd *c = arg;
	int err = d->packed ? ss_trace_block_end_packed(c->w, d->used, d->packed, d->min_ts,
							d->max_ts) :
			      ss_trace_block_end_checked(c->w, d->used, d->min_ts, d->max_ts);

	if (err && !c->write_err) {
		c->write_err = err;
		fprintf(stderr, "stallscope: writing %s: %s\n", c->out_path, strerror(-err));
	}
	return err;
}

static int parse_args(struct rec_cmd *c, struct ss_recorder_opts *o, int argc,
		      char **argv)
{
	unsigned ring_kb = 0;
	const struct ss_opt opt[] = {
		SS_STRING("output", 'o', &c->out_path),
		SS_SEC("duration", 0, &c->duration_ns, 1e-9, 1e7, "seconds > 0"),
		SS_CLI_RECORDER(o),
		SS_UINT("ring-kb", 0, &ring_kb, 4, 1 << 20, NULL),	/* hidden: tests */
		{ 0 },
	};
	const struct ss_opts so = { SS_CLI_OPTS("record"), .usage = usage, .opt = opt,
				    .in_order = true, .max_args = -1 };
	int ret, i;

	if ((ret = ss_opts_parse(&so, argc, argv, &i)) >= 0)
		return ret;
	/* A power of two, at least a page: the ring's rules. */
	if (ring_kb & (ring_kb - 1)) {
		fprintf(stderr, "stallscope: --ring-kb: want a power of two >= 4: %u\n", ring_kb);
		return 2;
	}
	o->ring_bytes = ring_kb * 1024;
	if (i < argc)
		o->cmd = argv + i;
	if (!!o->pid == !!o->cmd) {
		fprintf(stderr, "stallscope: record: give either -p PID or -- CMD [ARGS...]\n");
		return 2;
	}
	return -1;
}

/* User and system CPU seconds of this process, all its threads. */
static double self_cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int ss_cmd_record(int argc, char **argv)
{
	struct rec_cmd c = { .out_path = DEFAULT_OUT };
	struct ss_recorder_opts o = { .cmd_name = "record", .ring_bytes = 0 /* the recorder's default */,
				      .on_start = file_start, .on_records = file_records,
				      .on_block_begin = file_block_begin,
				      .on_block_end = file_block_end,
				      .on_warning = ss_print_warning,
				      .arg = &c };
	struct ss_recorder *r = NULL;
	struct ss_recorder_stats st;
	char msg[512];
	__u32 stop_reason = 0;
	int err, ret = 1;

	if ((err = parse_args(&c, &o, argc, argv)) >= 0)
		return err;
	/* Before the target starts: an output that can't be one is bad input. */
	if ((err = ss_outfile_check(c.out_path))) {
		fprintf(stderr, "stallscope: cannot write %s: %s\n", c.out_path,
			ss_outfile_strerror(err));
		return 2;
	}
	/* Before the target starts: a Ctrl-C while loading stops cleanly. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (ss_prereq_prepare("record"))
		return 2;
	if (ss_recorder_open(&o, &r, msg, sizeof(msg))) {
		fprintf(stderr, "stallscope: %s\n", msg);
		goto out;
	}
	/* A running process: say when its events start to count. */
	if (o.pid) {
		if (c.duration_ns)
			fprintf(stderr, "stallscope: recording pid %d for %g s\n",
				(int)o.pid, (double)c.duration_ns / 1e9);
		else
			fprintf(stderr, "stallscope: recording pid %d; Ctrl-C to stop\n",
				(int)o.pid);
	}

	ss_recorder_stats(r, &st);
	/* What recording costs that a user can see without tools: this
	 * process's CPU (the recorder and its writers) while it records —
	 * not loading and attaching, which happen once. */
	double cpu0 = self_cpu_s();
	__u64 deadline = c.duration_ns ? st.start_ns + c.duration_ns : UINT64_MAX;
	__u64 flushed = st.start_ns;
	for (;;) {
		err = ss_recorder_poll(r, 50);
		/* A recorder killed (SIGKILL) loses at most the last second
		 * (and what the disk has not caught up with: not waited for). */
		if (c.w && ss_mono_ns() - flushed >= FLUSH_NS) {
			(void)ss_trace_push(c.w);	/* sticky: finish reports it */
			flushed = ss_mono_ns();
		}
		if (err < 0) {
			if (*ss_recorder_error(r))
				fprintf(stderr, "stallscope: %s\n", ss_recorder_error(r));
			stop_reason = SS_STOP_ERROR;
			break;
		}
		if (stop_signal) {
			stop_reason = SS_STOP_SIGNAL;
			break;
		}
		if (ss_mono_ns() >= deadline) {
			stop_reason = SS_STOP_DURATION;
			break;
		}
		if (err == 1) {
			stop_reason = SS_STOP_EXITED;
			break;
		}
	}
	/* Its error is the file's (sticky: finish returns it too) or the
	 * header's (then there is no file). */
	(void)ss_recorder_stop(r);
	if (!c.w)
		goto out;
	ss_recorder_stats(r, &st);
	__u64 end = ss_mono_ns();
	char partial[PATH_MAX + 16];
	snprintf(partial, sizeof(partial), "%s", ss_trace_partial_path(c.w));
	err = ss_trace_finish(c.w, st.lost, end, stop_reason,
			      st.exited ? st.exit_status : -1);
	c.w = NULL;
	if (err) {
		if (!c.write_err)
			fprintf(stderr, "stallscope: writing %s: %s\n", c.out_path, strerror(-err));
		if (!access(partial, F_OK))
			fprintf(stderr, "stallscope: what was recorded is in %s\n", partial);
		goto out;
	}
	fprintf(stderr, "stallscope: %llu events, %llu lost, %.2f s, recorder CPU %.2f s, "
		"written to %s\n", (unsigned long long)st.events, (unsigned long long)st.lost,
		(double)(end - st.start_ns) / 1e9, self_cpu_s() - cpu0, c.out_path);
	ret = stop_reason == SS_STOP_ERROR ? 1 : 0;
out:
	if (c.w)
		ss_trace_abort(c.w);
	ss_recorder_free(r);
	return ret;
}

