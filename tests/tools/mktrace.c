/* SPDX-License-Identifier: MIT */
/*
 * mktrace: a hand-written event stream (text) made into a real trace file,
 * through the same writer the recorder uses (userspace/trace.c).  The
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
 * meta keys: pid N, comm NAME, workers N, flags kernel-only|runtime-probes|none|N,
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
 * Records are written in the order given (a real trace is not strictly
 * time-ordered either).  Strict: anything it does not understand is an
 * error naming the line; then nothing is written and it exits 2.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* How one argument is written. */
enum val_kind {
	V_NUM = 0,	/* decimal (sign-extended if negative) or 0x hex */
	V_DEST,
	V_KIND,
	V_SRC,
	V_RESULT,
	V_FUTEX_OP,
	V_EPOLL_OP,
	V_WHICH,
	V_FAMILY,
	V_PROTO,
	V_TASK_STATE,
	V_COMM,		/* args[i..i+1]: a 16-byte name */
	V_SKIP,		/* the second word of the argument before */
	V_SHIM_KIND,	/* epoll|futex|cond|sem */
	V_SHIM_OP,	/* per the record's kind (args[0], given first) */
	V_SHIM_TIMEOUT,	/* args[i..i+1]: none, or ns */
	V_SHIM_FAULTS,	/* none, or spurious|eintr|delay */
};

struct arg_name {
	const char *name;
	enum val_kind kind;
};

/* The names `stallscope dump` prints (userspace/dump.c), by type. */
#define NUM(n) { n, V_NUM }
#define ENUM(n, k) { n, k }
static const struct arg_name layouts[SS_THREAD_AT_ATTACH + 1][SS_RECORD_ARGS] = {
	[SS_WSRT_WORKER_START] = { NUM("worker"), NUM("thread") },
	[SS_WSRT_WORKER_STOP] = { NUM("worker"), NUM("thread") },
	[SS_WSRT_SPAWN] = { NUM("task"), NUM("parent"), NUM("poll_fn"), NUM("state") },
	[SS_WSRT_NOTIFY] = { NUM("task"), NUM("waker"), ENUM("dest", V_DEST),
			     NUM("displaced") },
	[SS_WSRT_POLL_START] = { NUM("worker"), NUM("task"), ENUM("src", V_SRC) },
	[SS_WSRT_POLL_END] = { NUM("worker"), NUM("task"), ENUM("result", V_RESULT) },
	[SS_WSRT_STEAL] = { NUM("thief"), NUM("victim"), NUM("count"), NUM("lifo_task") },
	[SS_WSRT_PARK] = { NUM("worker"), ENUM("kind", V_KIND) },
	[SS_WSRT_UNPARK] = { NUM("worker"), ENUM("kind", V_KIND) },
	[SS_WSRT_WAKE_WORKER] = { NUM("waker"), NUM("target") },
	[SS_WSRT_INJECT_PUSH] = { NUM("task"), NUM("count"), NUM("len") },
	[SS_WSRT_INJECT_POP] = { NUM("worker"), NUM("count"), NUM("len") },
	[SS_WSRT_OVERFLOW] = { NUM("worker"), NUM("count") },
	[SS_WSRT_SEARCH_START] = { NUM("worker") },
	[SS_WSRT_SEARCH_END] = { NUM("worker"), NUM("found") },
	[SS_WSRT_TASK_CANCEL] = { NUM("task") },
	[SS_WSRT_DRIVER_POLL] = { NUM("worker"), NUM("timeout_us"), NUM("events") },
	[SS_WSRT_IO_REGISTER] = { NUM("fd"), NUM("token") },
	[SS_WSRT_IO_READY] = { NUM("worker"), NUM("fd"), NUM("mask") },
	[SS_WSRT_TIMER_FIRE] = { NUM("worker"), NUM("timer"), NUM("late_ns") },
	[SS_SCHED_SWITCH] = { NUM("prev"), NUM("next"), ENUM("prev_state", V_TASK_STATE),
			      NUM("prev_target"), NUM("next_target") },
	[SS_SCHED_WAKING] = { NUM("waker") },
	[SS_FUTEX_ENTER] = { NUM("uaddr"), ENUM("op", V_FUTEX_OP), NUM("val"),
			     NUM("timeout_ns") },
	[SS_FUTEX_EXIT] = { NUM("ret") },
	[SS_EPOLL_ENTER] = { NUM("epfd"), NUM("maxevents"), NUM("timeout"),
			     ENUM("which", V_WHICH) },
	[SS_EPOLL_EXIT] = { NUM("ret"), ENUM("which", V_WHICH) },
	[SS_EPOLL_CTL] = { NUM("epfd"), ENUM("op", V_EPOLL_OP), NUM("fd"),
			   NUM("events"), NUM("sock") },
	[SS_SK_DATA_READY] = { NUM("sock"), ENUM("family", V_FAMILY),
			       ENUM("protocol", V_PROTO) },
	[SS_COMM] = { ENUM("comm", V_COMM) },
	[SS_THREAD_EXIT] = { NUM("exit_code") },
	[SS_THREAD_NEW] = { NUM("parent") },
	[SS_VCPU_STEAL] = { NUM("ns"), NUM("since") },
	[SS_SHIM_START] = { NUM("spurious_ppm"), NUM("eintr_ppm"), NUM("delay_us"),
			    NUM("seed") },
	[SS_SHIM_PARK_ENTER] = { ENUM("kind", V_SHIM_KIND), NUM("object"),
				 ENUM("op", V_SHIM_OP), ENUM("timeout_ns", V_SHIM_TIMEOUT),
				 ENUM("", V_SKIP) },
	[SS_SHIM_PARK_EXIT] = { ENUM("kind", V_SHIM_KIND), NUM("object"),
				ENUM("op", V_SHIM_OP), NUM("result"),
				ENUM("faults", V_SHIM_FAULTS) },
	[SS_SHIM_FUTEX_WAKE] = { NUM("uaddr"), ENUM("op", V_FUTEX_OP), NUM("count"),
				 NUM("result") },
	[SS_SHIM_THREAD_NAME] = { ENUM("comm", V_COMM), ENUM("", V_SKIP), NUM("thread"),
				  NUM("result") },
	[SS_LOST] = { NUM("count") },
	[SS_THREAD_AT_ATTACH] = { ENUM("comm", V_COMM) },
};

struct enum_name {
	const char *name;
	__u64 value;
};

static const struct enum_name dest_names[] = { { "lifo", 0 }, { "local", 1 }, { "inject", 2 } };
static const struct enum_name kind_names[] = { { "futex", 0 }, { "driver", 1 } };
static const struct enum_name src_names[] = {
	{ "lifo", 0 }, { "local", 1 }, { "inject", 2 }, { "steal", 3 } };
static const struct enum_name result_names[] = {
	{ "pending", 0 }, { "ready", 1 }, { "yield", 2 } };
static const struct enum_name which_names[] = { { "wait", 0 }, { "pwait", 1 }, { "pwait2", 2 } };
static const struct enum_name epoll_op_names[] = { { "add", 1 }, { "del", 2 }, { "mod", 3 } };
static const struct enum_name family_names[] = { { "unix", 1 }, { "inet", 2 }, { "inet6", 10 } };
static const struct enum_name proto_names[] = { { "tcp", 6 }, { "udp", 17 } };
/* prev_state letters as dump prints them (TASK_* bits; R = 0, preempted). */
static const struct enum_name state_names[] = {
	{ "R", 0 }, { "S", 0x1 }, { "D", 0x2 }, { "T", 0x4 }, { "t", 0x8 },
	{ "X", 0x10 }, { "Z", 0x20 }, { "P", 0x40 }, { "I", 0x402 } };
/* FUTEX_* commands (linux/futex.h); |private is 128, |clock_realtime 256. */
static const struct enum_name futex_cmd_names[] = {
	{ "wait", 0 }, { "wake", 1 }, { "fd", 2 }, { "requeue", 3 },
	{ "cmp_requeue", 4 }, { "wake_op", 5 }, { "lock_pi", 6 },
	{ "unlock_pi", 7 }, { "trylock_pi", 8 }, { "wait_bitset", 9 },
	{ "wake_bitset", 10 }, { "wait_requeue_pi", 11 },
	{ "cmp_requeue_pi", 12 }, { "lock_pi2", 13 } };
static const struct enum_name shim_kind_names[] = {
	{ "epoll", SS_SHIM_KIND_EPOLL }, { "futex", SS_SHIM_KIND_FUTEX },
	{ "cond", SS_SHIM_KIND_COND }, { "sem", SS_SHIM_KIND_SEM } };
static const struct enum_name shim_wait_names[] = {
	{ "wait", 0 }, { "timedwait", 1 }, { "clockwait", 2 } };
static const struct enum_name shim_fault_names[] = {
	{ "spurious", SS_SHIM_FAULT_SPURIOUS }, { "eintr", SS_SHIM_FAULT_EINTR },
	{ "delay", SS_SHIM_FAULT_DELAY } };
static const struct enum_name stop_names[] = {
	{ "exited", SS_STOP_EXITED }, { "signal", SS_STOP_SIGNAL },
	{ "duration", SS_STOP_DURATION }, { "error", SS_STOP_ERROR } };

static const char *in_name;
static unsigned line_no;

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mktrace: %s:%u: ", in_name, line_no);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* A whole-token number: decimal (a leading - stores the two's complement)
 * or 0x hex.  Returns 0 or -1. */
static int parse_u64(const char *s, __u64 *out)
{
	const char *p = s;
	int neg = 0, base = 10;
	unsigned long long v;
	char *end;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!isxdigit((unsigned char)*p) || (base == 10 && !isdigit((unsigned char)*p)))
		return -1;
	errno = 0;
	v = strtoull(p, &end, base);
	if (errno || *end)
		return -1;
	if (neg && v > (unsigned long long)LLONG_MAX + 1)
		return -1;
	*out = neg ? (__u64)(-(long long)v) : (__u64)v;
	return 0;
}

static int lookup(const struct enum_name *names, size_t n, const char *s,
		  __u64 *out)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i].name, s)) {
			*out = names[i].value;
			return 0;
		}
	return parse_u64(s, out);
}

/* "wait|private|clock_realtime" or a number. */
static int parse_futex_op(const char *s, __u64 *out)
{
	char buf[128], *save, *tok;
	int first = 1;

	if (!parse_u64(s, out))
		return 0;
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*out = 0;
	for (tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
		__u64 v;

		if (first) {
			size_t i;

			for (i = 0; i < N(futex_cmd_names); i++)
				if (!strcmp(futex_cmd_names[i].name, tok))
					break;
			if (i == N(futex_cmd_names))
				return -1;
			v = futex_cmd_names[i].value;
			first = 0;
		} else if (!strcmp(tok, "private")) {
			v = 128;
		} else if (!strcmp(tok, "clock_realtime")) {
			v = 256;
		} else {
			return -1;
		}
		*out |= v;
	}
	return first ? -1 : 0;
}

/* A shim park's op as dump prints it for kind: "wait_bitset|private|abs",
 * "waitv/2|abs", "timedwait|abs|realtime", "pwait2", or a number; then
 * |abs, |realtime and |0xN for the high bits. */
static int parse_shim_op(__u64 kind, const char *s, __u64 *out)
{
	char buf[128], *bar;
	__u64 v, flags = 0;
	int err;

	if (!parse_u64(s, out))
		return 0;
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	/* Peel the flags off the end. */
	while ((bar = strrchr(buf, '|'))) {
		if (!strcmp(bar, "|abs"))
			flags |= SS_SHIM_OP_ABS;
		else if (!strcmp(bar, "|realtime"))
			flags |= SS_SHIM_OP_REALTIME;
		else if (!strncmp(bar, "|0x", 3) && !parse_u64(bar + 1, &v))
			flags |= v;
		else
			break;
		*bar = 0;
	}
	if (kind == SS_SHIM_KIND_EPOLL)
		err = lookup(which_names, N(which_names), buf, &v);
	else if (kind == SS_SHIM_KIND_FUTEX && !strncmp(buf, "waitv/", 6)) {
		err = parse_u64(buf + 6, &v) || v > 0xff;
		v |= SS_SHIM_FUTEX_WAITV;
	} else if (kind == SS_SHIM_KIND_FUTEX)
		err = parse_futex_op(buf, &v);
	else if (kind == SS_SHIM_KIND_COND || kind == SS_SHIM_KIND_SEM)
		err = lookup(shim_wait_names, N(shim_wait_names), buf, &v);
	else
		err = parse_u64(buf, &v);
	*out = v | flags;
	return err;
}

/* "none" or "spurious|delay" (or a number). */
static int parse_shim_faults(const char *s, __u64 *out)
{
	char buf[128], *save, *tok;

	if (!strcmp(s, "none")) {
		*out = 0;
		return 0;
	}
	if (!*s)
		return -1;
	if (!parse_u64(s, out))
		return 0;
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*out = 0;
	for (tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
		__u64 v;

		if (lookup(shim_fault_names, N(shim_fault_names), tok, &v))
			return -1;
		*out |= v;
	}
	return 0;
}

/* A thread name: at most 16 bytes after \xNN and \\ escapes. */
static void parse_comm(const char *s, char out[16])
{
	size_t n = 0;

	memset(out, 0, 16);
	while (*s) {
		unsigned char c = (unsigned char)*s++;

		if (c == '\\') {
			if (*s == '\\') {
				c = '\\';
				s++;
			} else if (*s == 'x' && isxdigit((unsigned char)s[1]) &&
				   isxdigit((unsigned char)s[2])) {
				char hex[3] = { s[1], s[2], 0 };

				c = (unsigned char)strtoul(hex, NULL, 16);
				s += 3;
			} else {
				fail("bad escape in name (\\xNN or \\\\)");
			}
		}
		if (n == 16)
			fail("name longer than 16 bytes");
		out[n++] = (char)c;
	}
}

static void parse_value(enum val_kind kind, const char *name, const char *s,
			__u64 *args, unsigned i)
{
	int err = 0;

	switch (kind) {
	case V_NUM:
		err = parse_u64(s, &args[i]);
		break;
	case V_DEST:
		err = lookup(dest_names, N(dest_names), s, &args[i]);
		break;
	case V_KIND:
		err = lookup(kind_names, N(kind_names), s, &args[i]);
		break;
	case V_SRC:
		err = lookup(src_names, N(src_names), s, &args[i]);
		break;
	case V_RESULT:
		err = lookup(result_names, N(result_names), s, &args[i]);
		break;
	case V_FUTEX_OP:
		err = parse_futex_op(s, &args[i]);
		break;
	case V_EPOLL_OP:
		err = lookup(epoll_op_names, N(epoll_op_names), s, &args[i]);
		break;
	case V_WHICH:
		err = lookup(which_names, N(which_names), s, &args[i]);
		break;
	case V_FAMILY:
		err = lookup(family_names, N(family_names), s, &args[i]);
		break;
	case V_PROTO:
		err = lookup(proto_names, N(proto_names), s, &args[i]);
		break;
	case V_TASK_STATE:
		err = lookup(state_names, N(state_names), s, &args[i]);
		break;
	case V_SKIP:
		err = -1;	/* not a name anyone gives */
		break;
	case V_SHIM_KIND:
		err = lookup(shim_kind_names, N(shim_kind_names), s, &args[i]);
		break;
	case V_SHIM_OP:
		if (!args[0])
			fail("give kind before %s", name);
		err = parse_shim_op(args[0], s, &args[i]);
		break;
	case V_SHIM_TIMEOUT: {
		__u64 ns;

		if (i + 1 >= SS_RECORD_ARGS)
			fail("no room for a timeout in %s", name);
		if (!strcmp(s, "none")) {
			args[i] = (__u64)-1LL;	/* seconds -1: none */
			args[i + 1] = 0;
		} else if (!(err = parse_u64(s, &ns))) {
			/* As seconds and nanoseconds; a negative total all in
			 * the nanoseconds (seconds -1 would read as none). */
			if ((__s64)ns < 0) {
				args[i] = 0;
				args[i + 1] = ns;
			} else {
				args[i] = ns / 1000000000ULL;
				args[i + 1] = ns % 1000000000ULL;
			}
		}
		break;
	}
	case V_SHIM_FAULTS:
		err = parse_shim_faults(s, &args[i]);
		break;
	case V_COMM: {
		char comm[16];

		if (i + 1 >= SS_RECORD_ARGS)
			fail("no room for a name in %s", name);
		parse_comm(s, comm);
		memcpy(&args[i], comm, sizeof(comm));
		break;
	}
	}
	if (err)
		fail("bad value for %s: '%s'", name, s);
}

/* Milliseconds with at most 6 fraction digits, to ns, exactly. */
static __u64 parse_ms(const char *s, const char *what)
{
	__u64 ms = 0, frac = 0;
	unsigned digits = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		fail("bad %s '%s' (milliseconds, e.g. 1000.25)", what, s);
	for (; isdigit((unsigned char)*p); p++) {
		if (ms > (~0ULL / 1000000ULL - 10) / 10)
			fail("%s '%s' out of range", what, s);
		ms = ms * 10 + (__u64)(*p - '0');
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++) {
			if (++digits > 6)
				fail("%s '%s' has more than 6 fraction digits (ns)", what, s);
			frac = frac * 10 + (__u64)(*p - '0');
		}
		if (!digits)
			fail("bad %s '%s'", what, s);
	}
	if (*p)
		fail("bad %s '%s' (milliseconds, e.g. 1000.25)", what, s);
	for (; digits < 6; digits++)
		frac *= 10;
	return ms * 1000000ULL + frac;
}

static __u32 parse_type(const char *s)
{
	__u64 v;

	for (__u32 t = 1; t <= SS_THREAD_AT_ATTACH; t++) {
		const char *name = ss_type_name(t);

		if (name && !strcmp(name, s))
			return t;
	}
	if (!strncmp(s, "type=", 5))	/* as dump prints unknown types */
		s += 5;
	if (!parse_u64(s, &v) && v >= 1 && v <= UINT32_MAX)
		return (__u32)v;
	fail("unknown record type '%s'", s);
	return 0;
}

static __u32 parse_u32(const char *s, const char *what)
{
	__u64 v;

	if (parse_u64(s, &v) || v > UINT32_MAX)
		fail("bad %s '%s' (a number up to 2^32-1)", what, s);
	return (__u32)v;
}

/* Splits line in place into at most max words; # starts a comment. */
static int split(char *line, char **w, int max)
{
	int n = 0;
	char *save, *tok;

	for (tok = strtok_r(line, " \t\r\n", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (tok[0] == '#')
			break;
		if (n == max)
			fail("too many words");
		w[n++] = tok;
	}
	return n;
}

struct input {
	struct ss_trace_meta meta;
	struct ss_record *recs;
	size_t nrecs, cap;
	__u64 start_ns, end_ns, lost, lost_sum;
	int have_start, have_end, have_lost;
	__u32 stop;
	__s32 status;
};

static void parse_meta(struct input *in, char **w, int n)
{
	struct ss_trace_meta *m = &in->meta;
	const char *key = w[1];

	if (n < 3 && strcmp(key, "cmdline"))
		fail("meta %s needs a value", key);
	if (n > 3 && strcmp(key, "cmdline"))
		fail("meta %s takes one value", key);
	if (!strcmp(key, "pid")) {
		m->pid = parse_u32(w[2], "pid");
	} else if (!strcmp(key, "workers")) {
		m->workers = parse_u32(w[2], "workers");
	} else if (!strcmp(key, "comm")) {
		if (strlen(w[2]) > 16)
			fail("comm longer than 16 bytes");
		snprintf(m->comm, sizeof(m->comm), "%s", w[2]);
	} else if (!strcmp(key, "host")) {
		snprintf(m->host, sizeof(m->host), "%s", w[2]);
	} else if (!strcmp(key, "kernel")) {
		snprintf(m->kernel, sizeof(m->kernel), "%s", w[2]);
	} else if (!strcmp(key, "flags")) {
		if (!strcmp(w[2], "kernel-only"))
			m->flags = SS_FILE_KERNEL_ONLY;
		else if (!strcmp(w[2], "runtime-probes"))
			m->flags = SS_FILE_RUNTIME_PROBES;
		else if (!strcmp(w[2], "none"))
			m->flags = 0;
		else
			m->flags = parse_u32(w[2], "flags");
	} else if (!strcmp(key, "start_ms")) {
		in->start_ns = parse_ms(w[2], "start_ms");
		in->have_start = 1;
	} else if (!strcmp(key, "end_ms")) {
		in->end_ns = parse_ms(w[2], "end_ms");
		in->have_end = 1;
	} else if (!strcmp(key, "stop")) {
		__u64 v;

		if (lookup(stop_names, N(stop_names), w[2], &v) || v > UINT32_MAX)
			fail("bad stop '%s' (exited, signal, duration, error)", w[2]);
		in->stop = (__u32)v;
	} else if (!strcmp(key, "status")) {
		__u64 v;

		if (parse_u64(w[2], &v) || (__s64)v < INT_MIN || (__s64)v > INT_MAX)
			fail("bad status '%s'", w[2]);
		in->status = (__s32)(__s64)v;
	} else if (!strcmp(key, "lost")) {
		if (parse_u64(w[2], &in->lost))
			fail("bad lost '%s'", w[2]);
		in->have_lost = 1;
	} else if (!strcmp(key, "cmdline")) {
		for (unsigned i = 0; i < m->argc; i++)
			free(m->argv[i]);
		free(m->argv);
		m->argc = (unsigned)(n - 2);
		m->argv = calloc(m->argc + 1, sizeof(*m->argv));
		if (!m->argv)
			fail("out of memory");
		for (unsigned i = 0; i < m->argc; i++)
			if (!(m->argv[i] = strdup(w[2 + i])))
				fail("out of memory");
	} else {
		fail("unknown meta key '%s' (pid, comm, workers, flags, host, kernel, "
		     "cmdline, start_ms, end_ms, stop, status, lost)", key);
	}
}

static void parse_record(struct input *in, char **w, int n)
{
	struct ss_record rec = { 0 };
	const struct arg_name *names = NULL;
	unsigned set = 0;	/* bit i: args[i] given; bit 5 tid; 6 cpu; 7 flags */
	int have_tid = 0;

	rec.ts = parse_ms(w[0], "timestamp");
	if (n < 2)
		fail("a record needs a type after its timestamp");
	rec.type = parse_type(w[1]);
	if (rec.type < N(layouts))
		names = layouts[rec.type];
	for (int k = 2; k < n; k++) {
		char *eq = strchr(w[k], '=');
		const char *key = w[k], *val;
		unsigned bit;

		/* An empty VALUE is a valid name only (dump prints a failed
		 * thread_name's as comm=); every other parser rejects it. */
		if (!eq || eq == w[k])
			fail("'%s' is not NAME=VALUE", w[k]);
		*eq = 0;
		val = eq + 1;
		if (!strcmp(key, "tid")) {
			bit = 5;
			rec.tid = parse_u32(val, "tid");
			have_tid = 1;
		} else if (!strcmp(key, "cpu")) {
			bit = 6;
			rec.cpu = parse_u32(val, "cpu");
		} else if (!strcmp(key, "flags")) {
			bit = 7;
			rec.flags = parse_u32(val, "flags");
		} else if (key[0] == 'a' && key[1] >= '0' &&
			   key[1] < '0' + SS_RECORD_ARGS && !key[2]) {
			bit = (unsigned)(key[1] - '0');
			parse_value(V_NUM, key, val, rec.args, bit);
		} else {
			unsigned i;

			for (i = 0; names && i < SS_RECORD_ARGS && names[i].name; i++)
				if (!strcmp(names[i].name, key))
					break;
			if (!names || i == SS_RECORD_ARGS || !names[i].name)
				fail("%s has no argument '%s'", w[1], key);
			bit = i;
			parse_value(names[i].kind, key, val, rec.args, i);
			if (names[i].kind == V_COMM || names[i].kind == V_SHIM_TIMEOUT) {
				if (set & (1U << (i + 1)))
					fail("%s given twice", key);
				set |= 1U << (i + 1);
			}
		}
		if (set & (1U << bit))
			fail("%s given twice", key);
		set |= 1U << bit;
	}
	if (!have_tid)
		fail("a record needs tid=N");
	if (rec.type == SS_LOST)
		in->lost_sum += rec.args[0];
	if (in->nrecs == in->cap) {
		size_t cap = in->cap ? 2 * in->cap : 256;
		struct ss_record *p = realloc(in->recs, cap * sizeof(*p));

		if (!p)
			fail("out of memory");
		in->recs = p;
		in->cap = cap;
	}
	in->recs[in->nrecs++] = rec;
}

int main(int argc, char **argv)
{
	struct input in = { .stop = SS_STOP_EXITED };
	struct ss_trace_writer *w;
	char *line = NULL, *words[64];
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: mktrace IN.txt OUT.trace\n");
		return 2;
	}
	in_name = argv[1];
	f = strcmp(argv[1], "-") ? fopen(argv[1], "r") : stdin;
	if (!f) {
		fprintf(stderr, "mktrace: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	snprintf(in.meta.host, sizeof(in.meta.host), "golden");
	snprintf(in.meta.kernel, sizeof(in.meta.kernel), "golden");
	snprintf(in.meta.recorder, sizeof(in.meta.recorder), "mktrace");
	while ((len = getline(&line, &cap, f)) >= 0) {
		int n;

		line_no++;
		if (strlen(line) != (size_t)len)
			fail("NUL byte in the line");
		n = split(line, words, (int)N(words));
		if (!n)
			continue;
		if (!strcmp(words[0], "meta"))
			parse_meta(&in, words, n);
		else
			parse_record(&in, words, n);
	}
	if (ferror(f))
		fail("read error: %s", strerror(errno));
	free(line);
	if (f != stdin)
		fclose(f);

	if (!in.have_start)
		in.start_ns = in.nrecs ? in.recs[0].ts : 0;
	if (!in.have_end) {
		in.end_ns = in.start_ns;
		for (size_t i = 0; i < in.nrecs; i++)
			if (in.recs[i].ts > in.end_ns)
				in.end_ns = in.recs[i].ts;
	}
	in.meta.start_mono_ns = in.start_ns;
	snprintf(in.meta.clock, sizeof(in.meta.clock), "CLOCK_MONOTONIC");

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
			      in.stop, in.stop == SS_STOP_EXITED ? in.status : -1);
	if (err) {
		unlink(argv[2]);
		fprintf(stderr, "mktrace: %s: %s\n", argv[2], strerror(-err));
		return 2;
	}
	for (unsigned i = 0; i < in.meta.argc; i++)
		free(in.meta.argv[i]);
	free(in.meta.argv);
	free(in.recs);
	return 0;
}
