/* SPDX-License-Identifier: MIT */
/*
 * The record schema (schema.h): the one table of record types, fields and
 * enumeration names, and the text form of a field both ways — printed as
 * `stallscope dump` shows it, parsed back from that (mktrace).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "schema_int.h"
#include "trace.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define ENUM(names) { names, N(names), 0 }

/* ---- enumerations -------------------------------------------------------------------------- */

static const struct ss_enum_name dest_v[] = {
	{ "lifo", 0 }, { "local", 1 }, { "inject", 2 }, { "unknown", 3 } };
static const struct ss_enum_name kind_v[] = { { "futex", 0 }, { "driver", 1 } };
static const struct ss_enum_name src_v[] = {
	{ "lifo", 0 }, { "local", 1 }, { "inject", 2 }, { "steal", 3 }, { "unknown", 4 } };
static const struct ss_enum_name result_v[] = {
	{ "pending", 0 }, { "ready", 1 }, { "yield", 2 }, { "unknown", 3 } };
static const struct ss_enum_name which_v[] = { { "wait", 0 }, { "pwait", 1 }, { "pwait2", 2 } };
static const struct ss_enum_name epoll_op_v[] = { { "add", 1 }, { "del", 2 }, { "mod", 3 } };
static const struct ss_enum_name family_v[] = { { "unix", 1 }, { "inet", 2 }, { "inet6", 10 } };
static const struct ss_enum_name proto_v[] = { { "tcp", 6 }, { "udp", 17 } };
static const struct ss_enum_name shim_kind_v[] = {
	{ "epoll", SS_SHIM_KIND_EPOLL }, { "futex", SS_SHIM_KIND_FUTEX },
	{ "cond", SS_SHIM_KIND_COND }, { "sem", SS_SHIM_KIND_SEM } };
static const struct ss_enum_name shim_wait_v[] = {
	{ "wait", 0 }, { "timedwait", 1 }, { "clockwait", 2 } };
static const struct ss_enum_name shim_fault_v[] = {
	{ "spurious", SS_SHIM_FAULT_SPURIOUS }, { "eintr", SS_SHIM_FAULT_EINTR },
	{ "delay", SS_SHIM_FAULT_DELAY } };
/* FUTEX_* commands (linux/futex.h), the low 7 bits of op. */
static const struct ss_enum_name futex_cmd_v[] = {
	{ "wait", 0 }, { "wake", 1 }, { "fd", 2 }, { "requeue", 3 },
	{ "cmp_requeue", 4 }, { "wake_op", 5 }, { "lock_pi", 6 },
	{ "unlock_pi", 7 }, { "trylock_pi", 8 }, { "wait_bitset", 9 },
	{ "wake_bitset", 10 }, { "wait_requeue_pi", 11 },
	{ "cmp_requeue_pi", 12 }, { "lock_pi2", 13 } };
/* The flags printed after a futex command. */
static const struct ss_enum_name futex_flag_v[] = { { "private", 128 }, { "clock_realtime", 256 } };
/* prev_state letters (TASK_* bits; R = 0, preempted), as parsed. */
static const struct ss_enum_name state_v[] = {
	{ "R", 0 }, { "S", 0x1 }, { "D", 0x2 }, { "T", 0x4 }, { "t", 0x8 },
	{ "X", 0x10 }, { "Z", 0x20 }, { "P", 0x40 }, { "I", 0x402 } };
static const struct ss_enum_name stop_v[] = {
	{ "exited", SS_STOP_EXITED }, { "signal", SS_STOP_SIGNAL },
	{ "duration", SS_STOP_DURATION }, { "error", SS_STOP_ERROR },
	{ "window", SS_STOP_WINDOW } };

static const struct ss_enum dest_e = ENUM(dest_v), kind_e = ENUM(kind_v),
			    src_e = ENUM(src_v), result_e = ENUM(result_v),
			    epoll_op_e = ENUM(epoll_op_v), shim_kind_e = ENUM(shim_kind_v);
/* Also the parser's (schema_parse.c). */
const struct ss_enum ss_which_e = ENUM(which_v), ss_shim_wait_e = ENUM(shim_wait_v),
		     ss_shim_fault_e = ENUM(shim_fault_v), ss_futex_cmd_e = ENUM(futex_cmd_v),
		     ss_futex_flag_e = ENUM(futex_flag_v), ss_state_e = ENUM(state_v);
static const struct ss_enum family_e = { family_v, N(family_v), 1 },
			    proto_e = { proto_v, N(proto_v), 1 };
const struct ss_enum ss_stop_enum = ENUM(stop_v);

/* ---- the types ----------------------------------------------------------------------------- */

#define U(n) { n, SS_F_U, NULL }
#define I32(n) { n, SS_F_S32, NULL }
#define I64(n) { n, SS_F_S64, NULL }
#define HEX(n) { n, SS_F_HEX, NULL }
#define E(n, e) { n, SS_F_ENUM, &e }
#define F(n, fmt) { n, fmt, NULL }
#define SKIP { "", SS_F_SKIP, NULL }

static const struct ss_schema_type types[SS_TOKIO_RUNTIME + 1] = {
	[SS_WSRT_WORKER_START] = { "worker_start", "usdt wsrt:worker_start",
				   { I32("worker"), I32("thread") } },
	[SS_WSRT_WORKER_STOP] = { "worker_stop", "usdt wsrt:worker_stop",
				  { I32("worker"), I32("thread") } },
	[SS_WSRT_SPAWN] = { "spawn", "usdt wsrt:spawn",
			    { U("task"), U("parent"), HEX("poll_fn"), HEX("state") } },
	[SS_WSRT_NOTIFY] = { "notify", "usdt wsrt:notify",
			     { U("task"), I32("waker"), E("dest", dest_e), U("displaced"),
			       F("is_yield", SS_F_U_OPT) } },
	[SS_WSRT_POLL_START] = { "poll_start", "usdt wsrt:poll_start",
				 { I32("worker"), U("task"), E("src", src_e),
				   F("poll_fn", SS_F_HEX_OPT) } },
	[SS_WSRT_POLL_END] = { "poll_end", "usdt wsrt:poll_end",
			       { I32("worker"), U("task"), E("result", result_e) } },
	[SS_WSRT_STEAL] = { "steal", "usdt wsrt:steal",
			    { I32("thief"), I32("victim"), U("count"), U("lifo_task") } },
	[SS_WSRT_PARK] = { "park", "usdt wsrt:park", { I32("worker"), E("kind", kind_e) } },
	[SS_WSRT_UNPARK] = { "unpark", "usdt wsrt:unpark",
			     { I32("worker"), E("kind", kind_e) } },
	[SS_WSRT_WAKE_WORKER] = { "wake_worker", "usdt wsrt:wake_worker",
				  { I32("waker"), I32("target") } },
	[SS_WSRT_INJECT_PUSH] = { "inject_push", "usdt wsrt:inject_push",
				  { U("task"), U("count"), U("len") } },
	[SS_WSRT_INJECT_POP] = { "inject_pop", "usdt wsrt:inject_pop",
				 { I32("worker"), U("count"), U("len") } },
	[SS_WSRT_OVERFLOW] = { "overflow", "usdt wsrt:overflow",
			       { I32("worker"), U("count") } },
	[SS_WSRT_SEARCH_START] = { "search_start", "usdt wsrt:search_start", { I32("worker") } },
	[SS_WSRT_SEARCH_END] = { "search_end", "usdt wsrt:search_end",
				 { I32("worker"), I32("found") } },
	[SS_WSRT_TASK_CANCEL] = { "task_cancel", "usdt wsrt:task_cancel", { U("task") } },
	[SS_WSRT_DRIVER_POLL] = { "driver_poll", "usdt wsrt:driver_poll",
				  { I32("worker"), I64("timeout_us"), I32("events") } },
	[SS_WSRT_IO_REGISTER] = { "io_register", "usdt wsrt:io_register",
				  { I32("fd"), HEX("token") } },
	[SS_WSRT_IO_READY] = { "io_ready", "usdt wsrt:io_ready",
			       { I32("worker"), I32("fd"), HEX("mask") } },
	[SS_WSRT_TIMER_FIRE] = { "timer_fire", "usdt wsrt:timer_fire",
				 { I32("worker"), U("timer"), U("late_ns") } },

	[SS_SHIM_START] = { "start", "usdt stallscope:start",
			    { U("spurious_ppm"), U("eintr_ppm"), U("delay_us"), U("seed") } },
	[SS_SHIM_PARK_ENTER] = { "park_enter", "usdt stallscope:park_enter",
				 { E("kind", shim_kind_e), F("object", SS_F_SHIM_OBJECT),
				   F("op", SS_F_SHIM_OP), F("timeout_ns", SS_F_SHIM_TIMEOUT),
				   SKIP } },
	[SS_SHIM_PARK_EXIT] = { "park_exit", "usdt stallscope:park_exit",
				{ E("kind", shim_kind_e), F("object", SS_F_SHIM_OBJECT),
				  F("op", SS_F_SHIM_OP), I64("result"),
				  F("faults", SS_F_SHIM_FAULTS) } },
	[SS_SHIM_FUTEX_WAKE] = { "futex_wake", "usdt stallscope:futex_wake",
				 { HEX("uaddr"), F("op", SS_F_FUTEX_OP), I32("count"),
				   I64("result") } },
	[SS_SHIM_THREAD_NAME] = { "thread_name", "usdt stallscope:thread_name",
				  { F("comm", SS_F_COMM), SKIP, I32("thread"), I32("result") } },

	[SS_SCHED_SWITCH] = { "sched_switch", "tp_btf sched_switch",
			      { U("prev"), U("next"), F("prev_state", SS_F_TASK_STATE),
				U("prev_target"), U("next_target") } },
	[SS_SCHED_WAKING] = { "sched_waking", "tp_btf sched_waking", { U("waker") } },
	[SS_FUTEX_ENTER] = { "futex_enter", "tp_btf sys_enter (futex); sleep parks: sched_switch",
			     { HEX("uaddr"), F("op", SS_F_FUTEX_OP), U("val"),
			       I64("timeout_ns") } },
	[SS_FUTEX_EXIT] = { "futex_exit", "tp_btf sys_exit (futex); sleep parks: sched_switch",
			    { I64("ret") } },
	[SS_EPOLL_ENTER] = { "epoll_enter", "tp_btf sys_enter (epoll_wait, epoll_pwait, epoll_pwait2); "
					    "sleep parks: sched_switch",
			     { I32("epfd"), I32("maxevents"), I64("timeout"),
			       E("which", ss_which_e) } },
	[SS_EPOLL_EXIT] = { "epoll_exit", "tp_btf sys_exit (epoll_wait, epoll_pwait, epoll_pwait2); "
					  "sleep parks: sched_switch",
			    { I64("ret"), E("which", ss_which_e) } },
	[SS_EPOLL_CTL] = { "epoll_ctl", "tp_btf sys_enter (epoll_ctl)",
			   { I32("epfd"), E("op", epoll_op_e), I32("fd"), HEX("events"),
			     U("ino") } },
	[SS_SK_DATA_READY] = { "sk_data_ready", "tp_btf sk_data_ready",
			       { U("ino"), E("family", family_e), E("protocol", proto_e) } },
	[SS_COMM] = { "comm", "tp_btf task_newtask, task_rename", { F("comm", SS_F_COMM) } },
	[SS_THREAD_EXIT] = { "thread_exit", "tp_btf sched_process_exit", { I64("exit_code") } },
	[SS_THREAD_NEW] = { "thread_new", "tp_btf task_newtask", { U("parent") } },
	[SS_VCPU_STEAL] = { "vcpu_steal", "tp_btf sched_switch and the records (steal time)",
			    { U("ns"), U("since") } },
	[SS_READY_TAKEN] = { "ready_taken", "tp_btf sched_switch, sched_waking, sk_data_ready "
					    "(sleep parks)", { U("ino") } },

	[SS_LOST] = { "lost", "the recorder", { U("count") } },
	[SS_THREAD_AT_ATTACH] = { "thread_at_attach", "the recorder (/proc at attach)",
				  { F("comm", SS_F_COMM) } },
	[SS_TOKIO_RUNTIME] = { "tokio_runtime", "the recorder (the executable's Tokio)",
			       { U("major"), U("minor"), U("patch"), U("poll_sites"),
				 U("schedule_sites") } },
};

const struct ss_schema_type *ss_schema(__u32 type)
{
	return type < N(types) && types[type].name ? &types[type] : NULL;
}

__u32 ss_schema_type_by_name(const char *name)
{
	for (__u32 t = 1; t < N(types); t++)
		if (types[t].name && !strcmp(types[t].name, name))
			return t;
	return 0;
}

int ss_schema_field(__u32 type, const char *name)
{
	const struct ss_schema_type *s = ss_schema(type);

	for (int i = 0; s && i < SS_RECORD_ARGS && s->f[i].name; i++)
		if (s->f[i].fmt != SS_F_SKIP && !strcmp(s->f[i].name, name))
			return i;
	return -1;
}

const char *ss_type_name(__u32 type)
{
	const struct ss_schema_type *s = ss_schema(type);

	return s ? s->name : NULL;
}

const char *ss_schema_value_name(__u32 type, unsigned i, __u64 v)
{
	const struct ss_schema_type *s = ss_schema(type);
	const struct ss_enum *e = s && i < SS_RECORD_ARGS && s->f[i].fmt == SS_F_ENUM ?
					  s->f[i].e : NULL;

	for (unsigned k = 0; e && k < e->n; k++)
		if (e->v[k].value == v)
			return e->v[k].name;
	return NULL;
}

/* ---- printing ------------------------------------------------------------------------------ */

void ss_put_escaped(FILE *f, const char *s, size_t n, int keep_spaces)
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

void ss_schema_put_enum(FILE *f, const struct ss_enum *e, __u64 v)
{
	for (unsigned i = 0; i < e->n; i++)
		if (e->v[i].value == v) {
			fputs(e->v[i].name, f);
			return;
		}
	if (e->unsigned_other)
		fprintf(f, "%llu", (unsigned long long)v);
	else	/* an int probe argument: -1, not 2^64 - 1 */
		fprintf(f, "%lld", (long long)v);
}


static void put_futex_op(FILE *f, __u64 op)
{
	__u64 cmd = op & ~(__u64)(FUTEX_PRIVATE | FUTEX_CLOCK_REALTIME);

	if (cmd >= N(futex_cmd_v)) {
		fprintf(f, "0x%llx", (unsigned long long)op);
		return;
	}
	fputs(futex_cmd_v[cmd].name, f);
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
	const __u64 known = 0xffffff | SS_SHIM_OP_ABS | SS_SHIM_OP_REALTIME;

	if (kind == SS_SHIM_KIND_EPOLL)
		ss_schema_put_enum(f, &ss_which_e, low);
	else if (kind == SS_SHIM_KIND_FUTEX && (low & SS_SHIM_FUTEX_WAITV))
		fprintf(f, "waitv/%llu", (unsigned long long)(low & 0xff));
	else if (kind == SS_SHIM_KIND_FUTEX)
		put_futex_op(f, low);
	else if (kind == SS_SHIM_KIND_COND || kind == SS_SHIM_KIND_SEM)
		ss_schema_put_enum(f, &ss_shim_wait_e, low);
	else
		fprintf(f, "0x%llx", (unsigned long long)low);
	if (op & SS_SHIM_OP_ABS)
		fputs("|abs", f);
	if (op & SS_SHIM_OP_REALTIME)
		fputs("|realtime", f);
	if (op & ~known)
		fprintf(f, "|0x%llx", (unsigned long long)(op & ~known));
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
	const char *sep = "";

	if (!v)
		fputs("none", f);
	for (unsigned b = 0; b < 64; b++) {
		if (!(v & (1ULL << b)))
			continue;
		fputs(sep, f);
		if (b < N(shim_fault_v))
			fputs(shim_fault_v[b].name, f);
		else
			fprintf(f, "0x%llx", 1ULL << b);
		sep = "|";
	}
}

static void put_field(FILE *f, const struct ss_field *d, const __u64 *args, unsigned i)
{
	__u64 v = args[i];

	switch (d->fmt) {
	case SS_F_NONE:
	case SS_F_SKIP:
		break;
	case SS_F_U:
	case SS_F_U_OPT:
		fprintf(f, "%llu", (unsigned long long)v);
		break;
	case SS_F_S32:
		fprintf(f, "%d", (int)(__s32)(__u32)v);
		break;
	case SS_F_S64:
		fprintf(f, "%lld", (long long)v);
		break;
	case SS_F_HEX:
	case SS_F_HEX_OPT:
		fprintf(f, "0x%llx", (unsigned long long)v);
		break;
	case SS_F_ENUM:
		ss_schema_put_enum(f, d->e, v);
		break;
	case SS_F_FUTEX_OP:
		put_futex_op(f, v);
		break;
	case SS_F_TASK_STATE:
		put_task_state(f, v);
		break;
	case SS_F_COMM: {
		/* Two words; the table puts a name first, so args[i + 1] exists. */
		char comm[16];

		if (i + 1 >= SS_RECORD_ARGS)
			break;
		memcpy(comm, &args[i], sizeof(comm));
		ss_put_escaped(f, comm, strnlen(comm, sizeof(comm)), 0);
		break;
	}
	case SS_F_SHIM_OBJECT:
		if (args[0] == SS_SHIM_KIND_EPOLL)
			fprintf(f, "%d", (int)(__s32)(__u32)v);
		else
			fprintf(f, "0x%llx", (unsigned long long)v);
		break;
	case SS_F_SHIM_OP:
		put_shim_op(f, args[0], v);
		break;
	case SS_F_SHIM_TIMEOUT:
		if (i + 1 < SS_RECORD_ARGS)
			put_shim_timeout(f, &args[i]);
		break;
	case SS_F_SHIM_FAULTS:
		put_shim_faults(f, v);
		break;
	}
}

void ss_schema_put_fields(FILE *f, const struct ss_record *r)
{
	const struct ss_schema_type *s = ss_schema(r->type);

	if (!s) {
		for (unsigned i = 0; i < SS_RECORD_ARGS; i++)
			fprintf(f, " a%u=0x%llx", i, (unsigned long long)r->args[i]);
		return;
	}
	for (unsigned i = 0; i < SS_RECORD_ARGS && s->f[i].name; i++) {
		if (s->f[i].fmt == SS_F_SKIP ||
		    ((s->f[i].fmt == SS_F_U_OPT || s->f[i].fmt == SS_F_HEX_OPT) && !r->args[i]))
			continue;
		fprintf(f, " %s=", s->f[i].name);
		put_field(f, &s->f[i], r->args, i);
	}
}

/* ---- the table as text --------------------------------------------------------------------- */

void ss_schema_print(FILE *f)
{
	for (__u32 t = 1; t < N(types); t++) {
		const struct ss_schema_type *s = &types[t];

		if (!s->name)
			continue;
		fprintf(f, "%u\t%s\t%s\t", t, s->name, s->source);
		for (unsigned i = 0, n = 0; i < SS_RECORD_ARGS && s->f[i].name; i++)
			if (s->f[i].fmt != SS_F_SKIP)
				fprintf(f, "%s%s", n++ ? "," : "", s->f[i].name);
		putc('\n', f);
	}
}
