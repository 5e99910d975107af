/* SPDX-License-Identifier: MIT */
/*
 * sched: ns per operation for Tokio's scheduler benchmark shapes
 * (tokio/benches/rt_multi_threaded.rs), in both LIFO modes.
 *
 * Built twice from this one file: `sched` against the runtime with its
 * USDT probes compiled in (and, when run, not attached), `sched-noprobes`
 * against the runtime built with -DWSRT_NO_PROBES.  bench/run.sh runs both
 * and compares.
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
#include <getopt.h>
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

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt,
								 ...)
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

/* ---- a one-shot latch: the last task sets it, block_on waits on it ----------- */

struct latch {
	pthread_mutex_t lock;
	bool set;			/* under lock */
	struct wsrt_waker waker;	/* under lock */
};

static void latch_init(struct latch *l)
{
	pthread_mutex_init(&l->lock, NULL);
	l->set = false;
	l->waker = (struct wsrt_waker){ 0 };
}

static void latch_destroy(struct latch *l)
{
	wsrt_waker_drop(&l->waker);
	pthread_mutex_destroy(&l->lock);
}

/* Only between runs, when no task can touch it. */
static void latch_reset(struct latch *l)
{
	pthread_mutex_lock(&l->lock);
	l->set = false;
	pthread_mutex_unlock(&l->lock);
}

static void latch_set(struct latch *l)
{
	struct wsrt_waker w;

	pthread_mutex_lock(&l->lock);
	l->set = true;
	w = l->waker;
	l->waker = (struct wsrt_waker){ 0 };
	pthread_mutex_unlock(&l->lock);
	wsrt_waker_wake(&w);
}

static enum wsrt_poll latch_poll(struct wsrt_cx *cx, void *arg)
{
	struct latch *l = arg;
	struct wsrt_waker old = { 0 };
	bool set;

	pthread_mutex_lock(&l->lock);
	set = l->set;
	if (!set && !wsrt_waker_will_wake(&l->waker, wsrt_cx_waker(cx))) {
		old = l->waker;
		l->waker = wsrt_waker_clone(wsrt_cx_waker(cx));
	}
	pthread_mutex_unlock(&l->lock);
	wsrt_waker_drop(&old);
	return set ? WSRT_READY : WSRT_PENDING;
}

/* ---- the benchmark state --------------------------------------------------------- */

struct bench {
	struct wsrt_runtime *rt;
	uint64_t n;		/* tasks / pairs / depth / messages */
	uint64_t m;		/* yields per task; channel capacity */
	_Atomic uint64_t rem;	/* tasks still to finish this run */
	struct latch done;
	void *arr;		/* per-benchmark task states */
	_Atomic uint64_t sink;	/* keeps short_handler's work alive */
};

static void spawn_or_die(struct wsrt_runtime *rt, wsrt_poll_fn poll, void *st)
{
	int err = wsrt_spawn_detached(rt, poll, st, NULL);

	if (err)
		die("spawn failed: %s", strerror(-err));
}

/* The last of b->rem tasks sets the latch.  After this a task must not
 * touch any benchmark state: the next run may already be starting. */
static void finish_one(struct bench *b)
{
	if (atomic_fetch_sub_explicit(&b->rem, 1, memory_order_acq_rel) == 1)
		latch_set(&b->done);
}

static void wait_done(struct bench *b)
{
	int err = wsrt_block_on(b->rt, latch_poll, &b->done);

	if (err)
		die("wsrt_block_on: %s", strerror(-err));
}

static enum wsrt_poll leaf(struct wsrt_cx *cx, void *arg)
{
	finish_one(arg);
	return WSRT_READY;
}

/* ---- spawn_many_local: one task spawns n tasks from a worker ---------------------- */

static enum wsrt_poll spawner(struct wsrt_cx *cx, void *arg)
{
	struct bench *b = arg;
	uint64_t n = b->n;	/* read before the first leaf can finish */

	for (uint64_t i = 0; i < n; i++)
		spawn_or_die(wsrt_cx_runtime(cx), leaf, b);
	return WSRT_READY;
}

static void run_spawn_many_local(struct bench *b)
{
	atomic_store(&b->rem, b->n);
	spawn_or_die(b->rt, spawner, b);
	wait_done(b);
}

/* ---- spawn_many_remote: the main thread spawns n tasks (inject queue) ----------- */

static void run_spawn_many_remote(struct bench *b)
{
	atomic_store(&b->rem, b->n);
	for (uint64_t i = 0; i < b->n; i++)
		spawn_or_die(b->rt, leaf, b);
	wait_done(b);
}

/* ---- yield_many: n tasks each yield m times --------------------------------------- */

struct yielder {
	struct bench *b;
	uint64_t left;
};

static enum wsrt_poll yielder_poll(struct wsrt_cx *cx, void *arg)
{
	struct yielder *y = arg;

	if (y->left) {
		y->left--;
		return wsrt_yield(cx);
	}
	finish_one(y->b);
	return WSRT_READY;
}

static void setup_yield_many(struct bench *b)
{
	struct yielder *ys = calloc(b->n, sizeof(*ys));

	if (!ys)
		die("out of memory");
	for (uint64_t i = 0; i < b->n; i++)
		ys[i].b = b;
	b->arr = ys;
}

static void run_yield_many(struct bench *b)
{
	struct yielder *ys = b->arr;

	atomic_store(&b->rem, b->n);
	for (uint64_t i = 0; i < b->n; i++)
		ys[i].left = b->m;
	for (uint64_t i = 0; i < b->n; i++)
		spawn_or_die(b->rt, yielder_poll, &ys[i]);
	wait_done(b);
}

/* ---- ping_pong: n spawned pairs, each bounces one message each way ------------- */

/*
 * As in Tokio: the main thread spawns n pingers; each creates two oneshots,
 * spawns its ponger (from a worker), sends on the first and waits on the
 * second; the ponger waits on the first and answers on the second.  Two
 * messages (and one local spawn) per pair.
 */
struct pair {
	struct bench *b;
	struct wsrt_oneshot *ping, *pong;	/* set before the ponger exists */
	bool started;
};

static enum wsrt_poll ponger(struct wsrt_cx *cx, void *arg)
{
	struct pair *p = arg;
	/* Copies: once pong is sent the pair may be reused by the next run. */
	struct wsrt_oneshot *ping = p->ping, *pong = p->pong;
	int ret;

	if (wsrt_oneshot_poll_recv(ping, cx, NULL, &ret) == WSRT_PENDING)
		return WSRT_PENDING;
	if (ret)
		die("ping_pong: ping lost: %s", strerror(-ret));
	wsrt_oneshot_close_rx(ping);
	if ((ret = wsrt_oneshot_send(pong, NULL)))
		die("ping_pong: pong: %s", strerror(-ret));
	wsrt_oneshot_close_tx(pong);
	return WSRT_READY;
}

static enum wsrt_poll pinger(struct wsrt_cx *cx, void *arg)
{
	struct pair *p = arg;
	int ret;

	if (!p->started) {
		p->started = true;
		p->ping = wsrt_oneshot_new();
		p->pong = wsrt_oneshot_new();
		if (!p->ping || !p->pong)
			die("out of memory");
		spawn_or_die(wsrt_cx_runtime(cx), ponger, p);
		if ((ret = wsrt_oneshot_send(p->ping, NULL)))
			die("ping_pong: ping: %s", strerror(-ret));
		wsrt_oneshot_close_tx(p->ping);
	}
	if (wsrt_oneshot_poll_recv(p->pong, cx, NULL, &ret) == WSRT_PENDING)
		return WSRT_PENDING;
	if (ret)
		die("ping_pong: pong lost: %s", strerror(-ret));
	wsrt_oneshot_close_rx(p->pong);
	finish_one(p->b);
	return WSRT_READY;
}

static void setup_ping_pong(struct bench *b)
{
	struct pair *ps = calloc(b->n, sizeof(*ps));

	if (!ps)
		die("out of memory");
	for (uint64_t i = 0; i < b->n; i++)
		ps[i].b = b;
	b->arr = ps;
}

static void run_ping_pong(struct bench *b)
{
	struct pair *ps = b->arr;

	atomic_store(&b->rem, b->n);
	for (uint64_t i = 0; i < b->n; i++)
		ps[i].started = false;
	for (uint64_t i = 0; i < b->n; i++)
		spawn_or_die(b->rt, pinger, &ps[i]);
	wait_done(b);
}

/* ---- chained_spawn: each task spawns the next, n deep ------------------------------ */

struct link {
	struct bench *b;
	struct link *next;	/* NULL: the last one */
};

static enum wsrt_poll link_poll(struct wsrt_cx *cx, void *arg)
{
	struct link *l = arg;

	if (l->next)
		spawn_or_die(wsrt_cx_runtime(cx), link_poll, l->next);
	else
		latch_set(&l->b->done);
	return WSRT_READY;
}

static void setup_chained_spawn(struct bench *b)
{
	/* n + 1 tasks: the first is spawned from main, the n others by
	 * their predecessor. */
	struct link *ls = calloc(b->n + 1, sizeof(*ls));

	if (!ls)
		die("out of memory");
	for (uint64_t i = 0; i <= b->n; i++) {
		ls[i].b = b;
		ls[i].next = i < b->n ? &ls[i + 1] : NULL;
	}
	b->arr = ls;
}

static void run_chained_spawn(struct bench *b)
{
	spawn_or_die(b->rt, link_poll, b->arr);
	wait_done(b);
}

/* ---- short_handler: a producer task streams n messages to a consumer ------------ */

/*
 * Both are spawned from main; after that every wake of the consumer comes
 * from the producer's worker (into its LIFO slot) and vice versa.  Legacy:
 * a task put into an empty LIFO slot wakes nobody, so the pair tends to
 * stay on one worker.  Stealable: every such notification may wake a
 * parked worker that steals the task — the extra wakeups Tokio measured as
 * a throughput regression.
 */
struct stream {
	struct bench *b;
	struct wsrt_mpsc *ch;
	uint64_t sent;		/* producer only */
	uint64_t acc;		/* consumer only */
};

static inline uint64_t tiny_work(uint64_t x)
{
	for (int i = 0; i < 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

static enum wsrt_poll producer(struct wsrt_cx *cx, void *arg)
{
	struct stream *s = arg;
	struct bench *b = s->b;
	int ret;

	while (s->sent < b->n) {
		if (wsrt_mpsc_poll_send(s->ch, cx, (void *)(uintptr_t)(s->sent + 1),
					&ret) == WSRT_PENDING)
			return WSRT_PENDING;
		if (ret)
			die("short_handler: send: %s", strerror(-ret));
		s->sent++;
	}
	wsrt_mpsc_tx_release(s->ch);
	return WSRT_READY;
}

static enum wsrt_poll consumer(struct wsrt_cx *cx, void *arg)
{
	struct stream *s = arg;
	void *v;
	int ret;

	for (;;) {
		if (wsrt_mpsc_poll_recv(s->ch, cx, &v, &ret) == WSRT_PENDING)
			return WSRT_PENDING;
		if (ret == -EPIPE)
			break;
		s->acc += tiny_work((uintptr_t)v);
	}
	atomic_fetch_add_explicit(&s->b->sink, s->acc, memory_order_relaxed);
	wsrt_mpsc_rx_release(s->ch);	/* frees it: the producer is done */
	latch_set(&s->b->done);
	return WSRT_READY;
}

static void setup_short_handler(struct bench *b)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s)
		die("out of memory");
	s->b = b;
	b->arr = s;
}

static void run_short_handler(struct bench *b)
{
	struct stream *s = b->arr;

	s->ch = wsrt_mpsc_new(b->m);
	if (!s->ch)
		die("out of memory");
	s->sent = 0;
	s->acc = 0;
	spawn_or_die(b->rt, consumer, s);
	spawn_or_die(b->rt, producer, s);
	wait_done(b);
}

/* ---- the table of benchmarks ---------------------------------------------------------- */

struct bench_def {
	const char *name;
	const char *op;		/* what one operation is */
	uint64_t n, m;		/* full counts */
	uint64_t qn, qm;	/* --quick counts */
	void (*setup)(struct bench *b);	/* may be NULL */
	void (*run)(struct bench *b);
	/* operations per run */
	uint64_t (*ops)(const struct bench *b);
};

static uint64_t ops_n(const struct bench *b)
{
	return b->n;
}

static uint64_t ops_nm(const struct bench *b)
{
	return b->n * b->m;
}

static uint64_t ops_2n(const struct bench *b)
{
	return 2 * b->n;
}

static const struct bench_def benches[] = {
	{ "spawn_many_local", "spawn", 10000, 0, 500, 0,
	  NULL, run_spawn_many_local, ops_n },
	{ "spawn_many_remote", "spawn", 10000, 0, 500, 0,
	  NULL, run_spawn_many_remote, ops_n },
	{ "yield_many", "yield", 200, 1000, 20, 50,
	  setup_yield_many, run_yield_many, ops_nm },
	{ "ping_pong", "msg", 1000, 0, 100, 0,
	  setup_ping_pong, run_ping_pong, ops_2n },
	{ "chained_spawn", "spawn", 1000, 0, 100, 0,
	  setup_chained_spawn, run_chained_spawn, ops_n },
	/* m: the channel's capacity */
	{ "short_handler", "msg", 100000, 64, 2000, 64,
	  setup_short_handler, run_short_handler, ops_n },
};
#define NBENCHES (sizeof(benches) / sizeof(benches[0]))

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

static void usage(FILE *f)
{
	fprintf(f,
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
		"  --list          print the benchmark names and exit\n");
}

static bool parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || *s == '-' || v < lo || v > hi)
		return false;
	*out = (unsigned)v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "workers", required_argument, NULL, 'w' },
		{ "filter", required_argument, NULL, 'f' },
		{ "mode", required_argument, NULL, 'M' },
		{ "runs", required_argument, NULL, 'r' },
		{ "quick", no_argument, NULL, 'q' },
		{ "run-ms", required_argument, NULL, 'R' },
		{ "timeout", required_argument, NULL, 't' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct options o = { .timeout_s = 120, .mode = -1, .filter = "" };
	bool runs_given = false, list = false;
	unsigned run_ms = 25;
	int c;

	opterr = 0;	/* one error line of our own, below */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (!parse_uint(optarg, 1, 1024, &o.workers)) {
				fprintf(stderr, "sched: --workers: need a number in 1..1024, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'f':
			o.filter = optarg;
			break;
		case 'M':
			if (!strcmp(optarg, "legacy")) {
				o.mode = 0;
			} else if (!strcmp(optarg, "stealable")) {
				o.mode = 1;
			} else if (!strcmp(optarg, "both")) {
				o.mode = -1;
			} else {
				fprintf(stderr, "sched: --mode: need legacy, stealable or both, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'r':
			if (!parse_uint(optarg, 1, MAX_RUNS, &o.runs)) {
				fprintf(stderr, "sched: --runs: need a number in 1..%d, got '%s'\n", MAX_RUNS, optarg);
				return 2;
			}
			runs_given = true;
			break;
		case 'q':
			o.quick = true;
			break;
		case 'R':
			if (!parse_uint(optarg, 0, 60000, &run_ms)) {
				fprintf(stderr, "sched: --run-ms: need milliseconds in 0..60000, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 't':
			if (!parse_uint(optarg, 1, 86400, &o.timeout_s)) {
				fprintf(stderr, "sched: --timeout: need seconds in 1..86400, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'l':
			list = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			if (optopt && strchr("wfMrRt", optopt))
				fprintf(stderr, "sched: option '%s' needs a value (see --help)\n", argv[optind - 1]);
			else
				fprintf(stderr, "sched: unknown option '%s' (see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sched: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}

	unsigned selected = 0;
	for (size_t i = 0; i < NBENCHES; i++)
		if (strstr(benches[i].name, o.filter))
			selected++;
	if (!selected) {
		fprintf(stderr, "sched: --filter '%s' matches no benchmark (see --list)\n", o.filter);
		return 2;
	}
	if (list) {
		for (size_t i = 0; i < NBENCHES; i++)
			if (strstr(benches[i].name, o.filter))
				printf("%s\n", benches[i].name);
		return 0;
	}
	if (!runs_given)
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
	for (size_t i = 0; i < NBENCHES; i++) {
		if (!strstr(benches[i].name, o.filter))
			continue;
		for (int s = 0; s <= 1; s++)
			if (o.mode < 0 || o.mode == s)
				measure(&benches[i], s, &o);
	}
	printf("# total_ops %" PRIu64 "\n", total_ops);
	return 0;
}
