/* SPDX-License-Identifier: MIT */
/*
 * `stallscope dump FILE`: a trace file as text, one line per item.
 *
 *   # key: value                      the header's metadata
 *   TS_NS cpu=N tid=N TYPE k=v ...    one line per record
 *   # trailer: records=N lost=N end=NS stop=REASON status=N
 *
 * Argument names and enumerations follow bpf/record.h and docs/probes.md;
 * a type this build doesn't know prints as `type=N a0=0x.. .. a4=0x..`.
 * Strings from the file are escaped (\xNN for anything but printable
 * ASCII; in record fields spaces too) so each item stays one line.
 *
 * Streams: memory does not depend on the file size.  This file owns the
 * text format only; reading and checking the file is userspace/trace.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "trace.h"

/* Installed on stdout before the first byte is written to it. */
static char out_buf[1 << 20];

/* How one argument prints. */
enum arg_fmt {
	F_NONE = 0,	/* no more arguments */
	F_U,		/* unsigned decimal */
	F_S32,		/* an int probe argument: -1 stays -1 */
	F_S64,		/* a long / long long */
	F_HEX,		/* addresses, masks, tokens */
	F_DEST,		/* notify destination */
	F_KIND,		/* park kind */
	F_SRC,		/* poll_start source */
	F_RESULT,	/* poll_end result */
	F_FUTEX_OP,
	F_EPOLL_OP,
	F_EPOLL_WHICH,
	F_FAMILY,
	F_PROTO,
	F_TASK_STATE,
	F_COMM,		/* args[i..i+1]: a 16-byte thread name */
	F_SKIP,		/* the second word of the argument before: not printed */
	F_SHIM_KIND,	/* a shim park kind */
	F_SHIM_OBJECT,	/* per kind: the epoll fd, or an address */
	F_SHIM_OP,	/* per kind, with the timeout flags */
	F_SHIM_TIMEOUT,	/* args[i..i+1]: seconds (-1: none), nanoseconds */
	F_SHIM_FAULTS,	/* faults injected into a park */
};

struct arg {
	const char *name;
	enum arg_fmt fmt;
};

static const struct arg layouts[SS_THREAD_AT_ATTACH + 1][SS_RECORD_ARGS] = {
	[SS_WSRT_WORKER_START] = { { "worker", F_S32 }, { "thread", F_S32 } },
	[SS_WSRT_WORKER_STOP] = { { "worker", F_S32 }, { "thread", F_S32 } },
	[SS_WSRT_SPAWN] = { { "task", F_U }, { "parent", F_U },
			    { "poll_fn", F_HEX }, { "state", F_HEX } },
	[SS_WSRT_NOTIFY] = { { "task", F_U }, { "waker", F_S32 },
			     { "dest", F_DEST }, { "displaced", F_U } },
	[SS_WSRT_POLL_START] = { { "worker", F_S32 }, { "task", F_U },
				 { "src", F_SRC } },
	[SS_WSRT_POLL_END] = { { "worker", F_S32 }, { "task", F_U },
			       { "result", F_RESULT } },
	[SS_WSRT_STEAL] = { { "thief", F_S32 }, { "victim", F_S32 },
			    { "count", F_U }, { "lifo_task", F_U } },
	[SS_WSRT_PARK] = { { "worker", F_S32 }, { "kind", F_KIND } },
	[SS_WSRT_UNPARK] = { { "worker", F_S32 }, { "kind", F_KIND } },
	[SS_WSRT_WAKE_WORKER] = { { "waker", F_S32 }, { "target", F_S32 } },
	[SS_WSRT_INJECT_PUSH] = { { "task", F_U }, { "count", F_U },
				  { "len", F_U } },
	[SS_WSRT_INJECT_POP] = { { "worker", F_S32 }, { "count", F_U },
				 { "len", F_U } },
	[SS_WSRT_OVERFLOW] = { { "worker", F_S32 }, { "count", F_U } },
	[SS_WSRT_SEARCH_START] = { { "worker", F_S32 } },
	[SS_WSRT_SEARCH_END] = { { "worker", F_S32 }, { "found", F_S32 } },
	[SS_WSRT_TASK_CANCEL] = { { "task", F_U } },
	[SS_WSRT_DRIVER_POLL] = { { "worker", F_S32 }, { "timeout_us", F_S64 },
				  { "events", F_S32 } },
	[SS_WSRT_IO_REGISTER] = { { "fd", F_S32 }, { "token", F_HEX } },
	[SS_WSRT_IO_READY] = { { "worker", F_S32 }, { "fd", F_S32 },
			       { "mask", F_HEX } },
	[SS_WSRT_TIMER_FIRE] = { { "worker", F_S32 }, { "timer", F_U },
				 { "late_ns", F_U } },
	[SS_SCHED_SWITCH] = { { "prev", F_U }, { "next", F_U },
			      { "prev_state", F_TASK_STATE },
			      { "prev_target", F_U }, { "next_target", F_U } },
	[SS_SCHED_WAKING] = { { "waker", F_U } },
	[SS_FUTEX_ENTER] = { { "uaddr", F_HEX }, { "op", F_FUTEX_OP },
			     { "val", F_U }, { "timeout_ns", F_S64 } },
	[SS_FUTEX_EXIT] = { { "ret", F_S64 } },
	[SS_EPOLL_ENTER] = { { "epfd", F_S32 }, { "maxevents", F_S32 },
			     { "timeout", F_S64 }, { "which", F_EPOLL_WHICH } },
	[SS_EPOLL_EXIT] = { { "ret", F_S64 }, { "which", F_EPOLL_WHICH } },
	[SS_EPOLL_CTL] = { { "epfd", F_S32 }, { "op", F_EPOLL_OP },
			   { "fd", F_S32 }, { "events", F_HEX },
			   { "sock", F_HEX } },
	[SS_SK_DATA_READY] = { { "sock", F_HEX }, { "family", F_FAMILY },
			       { "protocol", F_PROTO } },
	[SS_COMM] = { { "comm", F_COMM } },
	[SS_THREAD_EXIT] = { { "exit_code", F_S64 } },
	[SS_THREAD_NEW] = { { "parent", F_U } },
	[SS_VCPU_STEAL] = { { "ns", F_U }, { "since", F_U } },
	[SS_SHIM_START] = { { "spurious_ppm", F_U }, { "eintr_ppm", F_U },
			    { "delay_us", F_U }, { "seed", F_U } },
	[SS_SHIM_PARK_ENTER] = { { "kind", F_SHIM_KIND },
				 { "object", F_SHIM_OBJECT },
				 { "op", F_SHIM_OP },
				 { "timeout_ns", F_SHIM_TIMEOUT },
				 { "", F_SKIP } },
	[SS_SHIM_PARK_EXIT] = { { "kind", F_SHIM_KIND },
				{ "object", F_SHIM_OBJECT },
				{ "op", F_SHIM_OP }, { "result", F_S64 },
				{ "faults", F_SHIM_FAULTS } },
	[SS_SHIM_FUTEX_WAKE] = { { "uaddr", F_HEX }, { "op", F_FUTEX_OP },
				 { "count", F_S32 }, { "result", F_S64 } },
	[SS_SHIM_THREAD_NAME] = { { "comm", F_COMM }, { "", F_SKIP },
				  { "thread", F_S32 }, { "result", F_S32 } },
	[SS_LOST] = { { "count", F_U } },
	[SS_THREAD_AT_ATTACH] = { { "comm", F_COMM } },
};

static const char *const dest_names[] = { "lifo", "local", "inject" };
static const char *const kind_names[] = { "futex", "driver" };
static const char *const src_names[] = { "lifo", "local", "inject", "steal" };
static const char *const result_names[] = { "pending", "ready", "yield" };
static const char *const which_names[] = { "wait", "pwait", "pwait2" };
static const char *const epoll_op_names[] = { NULL, "add", "del", "mod" };
static const char *const shim_kind_names[] = { NULL, "epoll", "futex", "cond", "sem" };
static const char *const shim_wait_names[] = { "wait", "timedwait", "clockwait" };
/* FUTEX_* commands (linux/futex.h), the low 7 bits of op. */
static const char *const futex_cmd_names[] = {
	"wait", "wake", "fd", "requeue", "cmp_requeue", "wake_op",
	"lock_pi", "unlock_pi", "trylock_pi", "wait_bitset", "wake_bitset",
	"wait_requeue_pi", "cmp_requeue_pi", "lock_pi2",
};
#define FUTEX_PRIVATE 128
#define FUTEX_CLOCK_REALTIME 256
#define N(a) (sizeof(a) / sizeof((a)[0]))

static void put_name_or_num(FILE *f, const char *const *names, size_t n,
			    __u64 v)
{
	if (v < n && names[v])
		fputs(names[v], f);
	else	/* an int probe argument: -1, not 2^64 - 1 */
		fprintf(f, "%lld", (long long)v);
}

/* Bytes from the file, one line-safe token: printable ASCII stays,
 * the rest (and spaces where a field can't hold them) become \xNN. */
static void put_escaped(FILE *f, const char *s, size_t n, int keep_spaces)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c > ' ' && c < 0x7f && c != '\\') || (c == ' ' && keep_spaces))
			putc(c, f);
		else if (c == '\\')
			fputs("\\\\", f);
		else
			fprintf(f, "\\x%02x", c);
	}
}

static void put_futex_op(FILE *f, __u64 op)
{
	__u64 cmd = op & ~(__u64)(FUTEX_PRIVATE | FUTEX_CLOCK_REALTIME);

	if (cmd >= N(futex_cmd_names)) {
		fprintf(f, "0x%llx", (unsigned long long)op);
		return;
	}
	fputs(futex_cmd_names[cmd], f);
	if (op & FUTEX_PRIVATE)
		fputs("|private", f);
	if (op & FUTEX_CLOCK_REALTIME)
		fputs("|clock_realtime", f);
}

/*
 * prev->__state at sched_switch as the letter ps(1) and the kernel's own
 * sched_switch tracepoint show (__task_state_index(), bit layout of Linux
 * >= 4.14): R preempted, S sleeping, D uninterruptible, T stopped, t
 * traced, X dead, Z zombie, P parked, I idle.  Anything else in hex.
 */
static void put_task_state(FILE *f, __u64 s)
{
	static const char letters[] = "RSDTtXZP";
	const __u64 report = 0x7f, idle = 0x402, rtlock_wait = 0x1000,
		    dead = 0x80;
	__u64 st = s & report;

	if ((s & idle) == idle)
		putc('I', f);
	else if (s & rtlock_wait)
		putc('D', f);
	else if (st)
		putc(letters[64 - __builtin_clzll(st)], f);	/* fls() */
	else if (s == 0)
		putc('R', f);
	else if (s == dead)
		putc('X', f);	/* TASK_DEAD: its last switch */
	else
		fprintf(f, "0x%llx", (unsigned long long)s);
}

/* A shim park's op: per kind (args[0]), then the timeout flags. */
static void put_shim_op(FILE *f, __u64 kind, __u64 op)
{
	__u64 low = op & 0xffffff;

	if (kind == SS_SHIM_KIND_EPOLL)
		put_name_or_num(f, which_names, N(which_names), low);
	else if (kind == SS_SHIM_KIND_FUTEX && (low & SS_SHIM_FUTEX_WAITV))
		fprintf(f, "waitv/%llu", (unsigned long long)(low & 0xff));
	else if (kind == SS_SHIM_KIND_FUTEX)
		put_futex_op(f, low);
	else if (kind == SS_SHIM_KIND_COND || kind == SS_SHIM_KIND_SEM)
		put_name_or_num(f, shim_wait_names, N(shim_wait_names), low);
	else
		fprintf(f, "0x%llx", (unsigned long long)low);
	if (op & SS_SHIM_OP_ABS)
		fputs("|abs", f);
	if (op & SS_SHIM_OP_REALTIME)
		fputs("|realtime", f);
	if (op & ~(__u64)(0xffffff | SS_SHIM_OP_ABS | SS_SHIM_OP_REALTIME))
		fprintf(f, "|0x%llx", (unsigned long long)(op & ~(__u64)0xffffff &
						   ~(__u64)(SS_SHIM_OP_ABS | SS_SHIM_OP_REALTIME)));
}

/* A timeout as two words: none, or its total in ns (wrapping, not
 * undefined, for words no caller could have passed). */
static void put_shim_timeout(FILE *f, const __u64 *words)
{
	if ((__s64)words[0] == -1)
		fputs("none", f);
	else
		fprintf(f, "%lld", (long long)(words[0] * 1000000000ULL + words[1]));
}

static void put_shim_faults(FILE *f, __u64 v)
{
	static const char *const names[] = { "spurious", "eintr", "delay" };
	const char *sep = "";

	if (!v)
		fputs("none", f);
	for (unsigned b = 0; b < 64; b++) {
		if (!(v & (1ULL << b)))
			continue;
		fputs(sep, f);
		if (b < N(names))
			fputs(names[b], f);
		else
			fprintf(f, "0x%llx", 1ULL << b);
		sep = "|";
	}
}

static void put_comm(FILE *f, const __u64 *words)
{
	char comm[16];

	memcpy(comm, words, sizeof(comm));
	put_escaped(f, comm, strnlen(comm, sizeof(comm)), 0);
}

static void put_arg(FILE *f, enum arg_fmt fmt, const __u64 *args, unsigned i)
{
	__u64 v = args[i];

	switch (fmt) {
	case F_NONE:
		break;
	case F_U:
		fprintf(f, "%llu", (unsigned long long)v);
		break;
	case F_S32:
		fprintf(f, "%d", (int)(__s32)(__u32)v);
		break;
	case F_S64:
		fprintf(f, "%lld", (long long)v);
		break;
	case F_HEX:
		fprintf(f, "0x%llx", (unsigned long long)v);
		break;
	case F_DEST:
		put_name_or_num(f, dest_names, N(dest_names), v);
		break;
	case F_KIND:
		put_name_or_num(f, kind_names, N(kind_names), v);
		break;
	case F_SRC:
		put_name_or_num(f, src_names, N(src_names), v);
		break;
	case F_RESULT:
		put_name_or_num(f, result_names, N(result_names), v);
		break;
	case F_FUTEX_OP:
		put_futex_op(f, v);
		break;
	case F_EPOLL_OP:
		put_name_or_num(f, epoll_op_names, N(epoll_op_names), v);
		break;
	case F_EPOLL_WHICH:
		put_name_or_num(f, which_names, N(which_names), v);
		break;
	case F_FAMILY:
		if (v == 1)
			fputs("unix", f);
		else if (v == 2)
			fputs("inet", f);
		else if (v == 10)
			fputs("inet6", f);
		else
			fprintf(f, "%llu", (unsigned long long)v);
		break;
	case F_PROTO:
		if (v == 6)
			fputs("tcp", f);
		else if (v == 17)
			fputs("udp", f);
		else
			fprintf(f, "%llu", (unsigned long long)v);
		break;
	case F_TASK_STATE:
		put_task_state(f, v);
		break;
	case F_COMM:
		/* Two words; the layouts put it first, so args[i + 1] exists. */
		if (i + 1 < SS_RECORD_ARGS)
			put_comm(f, &args[i]);
		break;
	case F_SKIP:
		break;
	case F_SHIM_KIND:
		put_name_or_num(f, shim_kind_names, N(shim_kind_names), v);
		break;
	case F_SHIM_OBJECT:
		if (args[0] == SS_SHIM_KIND_EPOLL)
			fprintf(f, "%d", (int)(__s32)(__u32)v);
		else
			fprintf(f, "0x%llx", (unsigned long long)v);
		break;
	case F_SHIM_OP:
		put_shim_op(f, args[0], v);
		break;
	case F_SHIM_TIMEOUT:
		if (i + 1 < SS_RECORD_ARGS)
			put_shim_timeout(f, &args[i]);
		break;
	case F_SHIM_FAULTS:
		put_shim_faults(f, v);
		break;
	}
}

static void print_record(FILE *f, const struct ss_record *rec)
{
	const char *name = ss_type_name(rec->type);

	fprintf(f, "%llu cpu=%u tid=%u ", (unsigned long long)rec->ts,
		rec->cpu, rec->tid);
	if (name && rec->type < N(layouts)) {
		const struct arg *a = layouts[rec->type];

		fputs(name, f);
		for (unsigned i = 0; i < SS_RECORD_ARGS && a[i].name; i++) {
			if (a[i].fmt == F_SKIP)
				continue;
			fprintf(f, " %s=", a[i].name);
			put_arg(f, a[i].fmt, rec->args, i);
		}
	} else {
		fprintf(f, "type=%u", rec->type);
		for (unsigned i = 0; i < SS_RECORD_ARGS; i++)
			fprintf(f, " a%u=0x%llx", i,
				(unsigned long long)rec->args[i]);
	}
	if (rec->flags)
		fprintf(f, " flags=0x%x", rec->flags);
	putc('\n', f);
}

static void put_str_line(FILE *f, const char *key, const char *s)
{
	fprintf(f, "# %s: ", key);
	put_escaped(f, s, strlen(s), 1);
	putc('\n', f);
}

/* ns since the epoch as UTC, ISO 8601 with nanoseconds. */
static void put_realtime(FILE *f, __u64 ns)
{
	time_t secs = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	char buf[64];

	if (!gmtime_r(&secs, &tm) ||
	    !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm))
		return;
	fprintf(f, ", %s.%09lluZ", buf, (unsigned long long)(ns % 1000000000ULL));
}

static void print_header(FILE *f, const struct ss_trace_reader *r)
{
	const struct ss_file_header *h = ss_trace_header(r);
	const struct ss_trace_meta *m = ss_trace_meta(r);

	fprintf(f, "# stallscope trace: format %u (readable from format %u)\n",
		h->version, h->min_reader);
	put_str_line(f, "recorder", m->recorder);
	put_str_line(f, "host", m->host);
	put_str_line(f, "kernel", m->kernel);
	put_str_line(f, "clock", m->clock);
	fprintf(f, "# start: %llu ns", (unsigned long long)m->start_mono_ns);
	if (m->start_realtime_ns)
		put_realtime(f, m->start_realtime_ns);
	putc('\n', f);
	fprintf(f, "# pid: %u\n", m->pid);
	put_str_line(f, "comm", m->comm);
	/* Arguments separated by spaces; one holding a space (or none at
	 * all) in double quotes. */
	fputs("# cmdline:", f);
	for (unsigned i = 0; i < m->argc; i++) {
		const char *a = m->argv[i];
		int quote = !*a || strpbrk(a, " \"") != NULL;

		putc(' ', f);
		if (quote)
			putc('"', f);
		for (; *a; a++) {
			if (*a == '"')
				fputs("\\\"", f);
			else
				put_escaped(f, a, 1, 1);
		}
		if (quote)
			putc('"', f);
	}
	putc('\n', f);
	if (m->workers)
		fprintf(f, "# workers: %u\n", m->workers);
	else
		fputs("# workers: unknown\n", f);
	fputs("# flags:", f);
	if (!m->flags)
		fputs(" none", f);
	if (m->flags & SS_FILE_KERNEL_ONLY)
		fputs(" kernel-only", f);
	if (m->flags & SS_FILE_RUNTIME_PROBES)
		fputs(" runtime-probes", f);
	if (m->flags & ~SS_FILE_FLAGS_KNOWN)
		fprintf(f, " 0x%x", m->flags & ~SS_FILE_FLAGS_KNOWN);
	putc('\n', f);
	fprintf(f, "# ring_bytes: %llu\n", (unsigned long long)m->ring_bytes);
	for (unsigned i = 0; i < m->nmappings; i++) {
		const struct ss_mapping *mp = &m->mappings[i];

		fprintf(f, "# mapping: 0x%llx-0x%llx offset=0x%llx build_id=",
			(unsigned long long)mp->start,
			(unsigned long long)mp->end,
			(unsigned long long)mp->offset);
		if (!mp->build_id_len)
			fputs("none", f);
		for (unsigned k = 0; k < mp->build_id_len && k < sizeof(mp->build_id); k++)
			fprintf(f, "%02x", mp->build_id[k]);
		putc(' ', f);
		put_escaped(f, mp->path, strlen(mp->path), 1);
		putc('\n', f);
	}
}

static void print_trailer(FILE *f, const struct ss_file_trailer *t)
{
	static const char *const stops[] = {
		[SS_STOP_EXITED] = "exited",
		[SS_STOP_SIGNAL] = "signal",
		[SS_STOP_DURATION] = "duration",
		[SS_STOP_ERROR] = "error",
	};

	fprintf(f, "# trailer: records=%llu lost=%llu end=%llu stop=",
		(unsigned long long)t->records, (unsigned long long)t->lost,
		(unsigned long long)t->end_mono_ns);
	put_name_or_num(f, stops, N(stops), t->stop_reason);
	fprintf(f, " status=%d\n", t->exit_status);
}

static void usage(FILE *f)
{
	fputs("usage: stallscope dump FILE\n"
	      "Prints a trace file (- for standard input) as text: the header as\n"
	      "'# key: value' lines, one line per record, then the trailer.\n", f);
}

int ss_cmd_dump(int argc, char **argv)
{
	struct ss_trace_reader *r;
	struct ss_record rec;
	const char *path;
	int err, status = 0;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
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
	if (!err) {
		print_header(stdout, r);
		while ((err = ss_trace_next(r, &rec)) == 1)
			print_record(stdout, &rec);
		if (err == 0 && ss_trace_trailer(r))
			print_trailer(stdout, ss_trace_trailer(r));
		else if (err == 0)
			fprintf(stderr, "stallscope: %s: %s\n", path, ss_trace_partial(r));
	}
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
