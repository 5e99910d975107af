/* SPDX-License-Identifier: MIT */
/*
 * sched: ns per operation for Tokio's scheduler benchmark shapes
 * (tokio/benches/rt_multi_threaded.rs), in both LIFO modes.
 *
 * This file is the harness (the runs, the timing, the futex counts, the
 * command line); sched_shapes.c has the shapes.  Built twice: `sched`
 * against the runtime with its USDT probes compiled in (and, when run, not
 * attached), `sched-noprobes` against the runtime built with
 * -DWSRT_NO_PROBES.  bench/run.sh runs both and compares.
 *
 * Every benchmark runs once per mode, legacy (lifo_stealable = false) and
 * stealable (lifo_stealable = true), on its own runtime (reused for all its
 * runs), built from an explicit config: WSRT_* environment variables are
 * ignored.
 *
 * One iteration is one Tokio-shaped run (e.g. spawn 10,000 tasks and wait
 * for them all), timed on the main thread from the first spawn until
 * wsrt_block_on() sees the last task finish.  Most shapes last well under
 * a millisecond, too short to time alone on a noisy machine, so a timed
 * run is a fixed number of back-to-back iterations: as many as the warm-up
 * run fitted into --run-ms (--quick: one).  Then --runs timed runs;
 * reported: the median and the minimum, in ns per operation.
 *
 * Futex counts: the runtime makes its park/unpark futex calls through
 * libc's syscall() (park.c: that is how the preload shim sees them), so
 * this program defines syscall() itself, counts FUTEX_WAKE and FUTEX_WAIT
 * calls, and forwards everything to libc's.  Wakes are the wakeups of a
 * parked worker (or of the wsrt_block_on() thread: about one per
 * iteration); waits are the times a thread went to sleep.  glibc's own
 * mutex futexes don't go through syscall() and are not counted.  It costs
 * a relaxed atomic add per futex call, in both binaries alike.
 *
 * Output: comment lines start with '#'; then one row per benchmark x mode,
 * whitespace-separated columns:
 *   benchmark mode median_ns/op min_ns/op wakes/iter parks/iter iters op
 * wakes/iter and parks/iter are medians over the timed runs, divided by
 * iters (iterations per timed run); op names what one operation is.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/opts.h"
#include "sched.h"
#include "wsrt.h"

#ifdef WSRT_NO_PROBES
#define PROBES_DESC "compiled-out"
#else
#define PROBES_DESC "compiled-in"
#endif

#define MAX_RUNS 1000

/* Operations done in this process, warm-ups included: with the events a
 * recorder counted, gives events per operation (bench/record_cost.sh). */
static uint64_t total_ops;
#define MAX_ITERS 100000	/* shape iterations per timed run */

/* ---- futex wake counting ---------------------------------------------------- */

typedef long (*syscall_fn)(long, ...);

static _Atomic uint64_t futex_wakes, futex_waits;
static _Atomic(syscall_fn) real_syscall;

/* Every caller in this program (the runtime's parker) passes all six
 * arguments, so reading six is well defined here. */
long syscall(long nr, ...)
{
	va_list ap;
	long a[6];
	syscall_fn fn;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_futex) {
		int cmd = (int)a[1] & FUTEX_CMD_MASK;
		if (cmd == FUTEX_WAKE)
			atomic_fetch_add_explicit(&futex_wakes, 1,
						  memory_order_relaxed);
		else if (cmd == FUTEX_WAIT)
			atomic_fetch_add_explicit(&futex_waits, 1,
						  memory_order_relaxed);
	}
	fn = atomic_load_explicit(&real_syscall, memory_order_acquire);
	if (!fn) {
		fn = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
		if (!fn) {
			static const char msg[] =
				"sched: cannot find libc's syscall()\n";
			ssize_t r = write(2, msg, sizeof(msg) - 1);
			(void)r;
			_exit(1);
		}
		atomic_store_explicit(&real_syscall, fn, memory_order_release);
	}
	return fn(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static uint64_t futex_count(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* ---- errors and the watchdog -------------------------------------------------- */

void die(const char *fmt, ...)
{
	va_list ap;

	fputs("sched: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(1);
}

/* What is running, for the watchdog's message (written before alarm()). */
static char watchdog_msg[256];

static void on_alarm(int sig)
{
	ssize_t r = write(2, watchdog_msg, strlen(watchdog_msg));
	(void)r;
	(void)sig;
	_exit(3);
}

/* ---- measuring -------------------------------------------------------------------------- */

struct options {
	unsigned workers;
	unsigned runs;
	unsigned timeout_s;
	uint64_t target_ns;	/* wanted length of a timed run; 0: 1 iteration */
	unsigned alarm_s;	/* watchdog per run: timeout_s + 2 x run length */
	bool quick;
	const char *filter;
	int mode;		/* -1: both, else lifo_stealable */
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v); for even n the mean of the middle two. */
static double median_u64(uint64_t *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	if (n % 2)
		return (double)v[n / 2];
	return ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
}

static void measure(const struct bench_def *d, bool stealable,
		    const struct options *o)
{
	const char *mode = stealable ? "stealable" : "legacy";
	uint64_t ns[MAX_RUNS], wakes[MAX_RUNS], parks[MAX_RUNS];
	struct wsrt_config cfg;
	struct bench b = { 0 };
	uint64_t iters = 1;

	wsrt_config_default(&cfg);
	cfg.workers = o->workers;
	cfg.lifo_stealable = stealable;
	b.rt = wsrt_runtime_new(&cfg);
	if (!b.rt)
		die("cannot start a runtime with %u workers: %s", o->workers,
		    strerror(errno));
	b.n = o->quick ? d->qn : d->n;
	b.m = o->quick ? d->qm : d->m;
	latch_init(&b.done);
	if (d->setup)
		d->setup(&b);

	for (unsigned r = 0; r <= o->runs; r++) {	/* run 0: warm-up */
		snprintf(watchdog_msg, sizeof(watchdog_msg),
			 "sched: %s/%s: %s did not finish within %u s (hang?); "
			 "reproduce with: sched --filter %s --mode %s "
			 "--workers %u%s\n",
			 d->name, mode, r ? "a timed run" : "the warm-up run",
			 o->alarm_s, d->name, mode, o->workers,
			 o->quick ? " --quick" : "");
		alarm(o->alarm_s);
		uint64_t w0 = futex_count(&futex_wakes);
		uint64_t p0 = futex_count(&futex_waits);
		uint64_t t0 = wsrt_now_ns(), t1, i = 0;
		do {
			latch_reset(&b.done);
			d->run(&b);
			i++;
			t1 = wsrt_now_ns();
			/* The warm-up counts how many iterations fill
			 * target_ns (the first ones are the slowest). */
		} while (r ? i < iters : t1 - t0 < o->target_ns && i < MAX_ITERS);
		total_ops += (uint64_t)d->ops(&b) * i;
		uint64_t w1 = futex_count(&futex_wakes);
		uint64_t p1 = futex_count(&futex_waits);
		alarm(0);
		if (r) {
			ns[r - 1] = t1 - t0;
			wakes[r - 1] = w1 - w0;
			parks[r - 1] = p1 - p0;
		} else {
			iters = i;
		}
	}

	double ops = (double)d->ops(&b) * (double)iters;
	double med = median_u64(ns, o->runs) / ops;
	double min = (double)ns[0] / ops;	/* sorted by median_u64 */
	double wmed = median_u64(wakes, o->runs) / (double)iters;
	double pmed = median_u64(parks, o->runs) / (double)iters;
	printf("%-20s %-10s %12.1f %12.1f %10.1f %10.1f %6" PRIu64 "  %s\n",
	       d->name, mode, med, min, wmed, pmed, iters, d->op);
	fflush(stdout);

	wsrt_runtime_free(b.rt);
	latch_destroy(&b.done);
	free(b.arr);
}

/* ---- command line -------------------------------------------------------------------------- */

static const char usage[] =
	"usage: sched [--workers N] [--filter SUBSTR] [--mode legacy|stealable|both]\n"
	"             [--runs N] [--quick] [--timeout S] [--list]\n"
	"  --workers N     worker threads (default: online CPUs)\n"
	"  --filter SUBSTR only benchmarks whose name contains SUBSTR\n"
	"  --mode M        legacy (lifo_stealable=0), stealable (=1) or both (default)\n"
	"  --runs N        timed runs after one warm-up (default 7; --quick: 2)\n"
	"  --run-ms MS     length of one timed run: as many iterations as fit (default 25)\n"
	"  --quick         small counts, one iteration per run (smoke test)\n"
	"  --timeout S     give up (exit 3) if a run takes S seconds more than it should\n"
	"                  (a hang; default 120)\n"
	"  --list          print the benchmark names and exit\n";

int main(int argc, char **argv)
{
	static const char *const modes[] = { "legacy", "stealable", "both", NULL };
	struct options o = { .timeout_s = 120, .filter = "" };
	bool list = false;
	unsigned run_ms = 25;
	int mode = 2, c, first;
	const struct ss_opt opt[] = {
		SS_UINT("workers", 0, &o.workers, 1, 1024, NULL),
		SS_STRING("filter", 0, &o.filter),
		SS_CHOICE("mode", 0, &mode, modes),
		SS_UINT("runs", 0, &o.runs, 1, MAX_RUNS, NULL),	/* 0: not given */
		SS_FLAG("quick", 0, &o.quick),
		SS_UINT("run-ms", 0, &run_ms, 0, 60000, "milliseconds, 0..60000"),
		SS_UINT("timeout", 0, &o.timeout_s, 1, 86400, "seconds, 1..86400"),
		SS_FLAG("list", 0, &list),
		{ 0 },
	};
	const struct ss_opts so = { .prog = "sched", .usage = usage, .opt = opt };

	if ((c = ss_opts_parse(&so, argc, argv, &first)) >= 0)
		return c;
	o.mode = mode == 2 ? -1 : mode;

	unsigned selected = 0;
	for (size_t i = 0; i < sched_nbenches; i++)
		if (strstr(sched_benches[i].name, o.filter))
			selected++;
	if (!selected) {
		fprintf(stderr, "sched: --filter '%s' matches no benchmark (see --list)\n", o.filter);
		return 2;
	}
	if (list) {
		for (size_t i = 0; i < sched_nbenches; i++)
			if (strstr(sched_benches[i].name, o.filter))
				printf("%s\n", sched_benches[i].name);
		return 0;
	}
	if (!o.runs)
		o.runs = o.quick ? 2 : 7;
	o.target_ns = o.quick ? 0 : (uint64_t)run_ms * 1000000;
	o.alarm_s = o.timeout_s + 2 * (unsigned)((o.target_ns + 999999999) / 1000000000);
	if (!o.workers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		o.workers = n > 0 ? (unsigned)n : 1;
	}
	signal(SIGALRM, on_alarm);

	printf("# sched: probes=%s workers=%u runs=%u warmup=1 counts=%s "
	       "run_ms=%u\n", PROBES_DESC, o.workers, o.runs,
	       o.quick ? "quick" : "full", o.quick ? 0 : run_ms);
	printf("# %-18s %-10s %12s %12s %10s %10s %6s  %s\n", "benchmark",
	       "mode", "median_ns/op", "min_ns/op", "wakes/iter", "parks/iter",
	       "iters", "op");
	fflush(stdout);
	for (size_t i = 0; i < sched_nbenches; i++) {
		if (!strstr(sched_benches[i].name, o.filter))
			continue;
		for (int s = 0; s <= 1; s++)
			if (o.mode < 0 || o.mode == s)
				measure(&sched_benches[i], s, &o);
	}
	printf("# total_ops %" PRIu64 "\n", total_ops);
	return 0;
}
