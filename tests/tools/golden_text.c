/* SPDX-License-Identifier: MIT */
/*
 * The golden event-stream text (tests/tools/mktrace.c describes it), read
 * into a header, records and trailer: what mktrace writes to a trace file
 * and tests/unit/test_analyze.c feeds to the analyzer directly.
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
#include <time.h>
#include <unistd.h>

#include "golden_text.h"
#include "schema.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *in_name;
static unsigned line_no;

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s:%u: ", program_invocation_short_name, in_name, line_no);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

#define parse_u64 ss_schema_parse_u64

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
	__u32 t = ss_schema_type_by_name(s);
	__u64 v;

	if (t)
		return t;
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


static __u32 parse_stop(const char *s)
{
	for (unsigned i = 0; i < ss_stop_enum.n; i++)
		if (!strcmp(ss_stop_enum.v[i].name, s))
			return (__u32)ss_stop_enum.v[i].value;
	fail("bad stop '%s' (exited, signal, duration, error)", s);
	return 0;
}

static __s32 parse_status(const char *s)
{
	__u64 v;

	if (parse_u64(s, &v) || (__s64)v < INT_MIN || (__s64)v > INT_MAX)
		fail("bad status '%s'", s);
	return (__s32)(__s64)v;
}

/* "none", or any of kernel-only, runtime-probes, shim-parks, sleep-parks, no-readiness and 0xN (as dump prints
 * them, several words), or a number. */
static __u32 parse_flags(char **w, int n)
{
	__u32 flags = 0;

	for (int i = 0; i < n; i++) {
		if (!strcmp(w[i], "none") && n == 1)
			return 0;
		if (!strcmp(w[i], "kernel-only"))
			flags |= SS_FILE_KERNEL_ONLY;
		else if (!strcmp(w[i], "runtime-probes"))
			flags |= SS_FILE_RUNTIME_PROBES;
		else if (!strcmp(w[i], "shim-parks"))
			flags |= SS_FILE_SHIM_PARKS;
		else if (!strcmp(w[i], "sleep-parks"))
			flags |= SS_FILE_SLEEP_PARKS;
		else if (!strcmp(w[i], "no-readiness"))
			flags |= SS_FILE_NO_READINESS;
		else
			flags |= parse_u32(w[i], "flags");
	}
	return flags;
}

static void parse_meta(struct mk_input *in, char **w, int n)
{
	struct ss_trace_meta *m = &in->meta;
	const char *key = w[1];

	if (n < 3 && strcmp(key, "cmdline"))
		fail("meta %s needs a value", key);
	if (n > 3 && strcmp(key, "cmdline") && strcmp(key, "flags"))
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
		m->flags = parse_flags(w + 2, n - 2);
	} else if (!strcmp(key, "start_ms")) {
		in->start_ns = parse_ms(w[2], "start_ms");
		in->have_start = 1;
	} else if (!strcmp(key, "end_ms")) {
		in->end_ns = parse_ms(w[2], "end_ms");
		in->have_end = 1;
	} else if (!strcmp(key, "stop")) {
		in->stop = parse_stop(w[2]);
	} else if (!strcmp(key, "status")) {
		in->status = parse_status(w[2]);
		in->have_status = 1;
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

static void add_record(struct mk_input *in, const struct ss_record *rec)
{
	if (rec->type == SS_LOST)
		in->lost_sum += rec->args[0];
	if (in->nrecs == in->cap) {
		size_t cap = in->cap ? 2 * in->cap : 256;
		struct ss_record *p = realloc(in->recs, cap * sizeof(*p));

		if (!p)
			fail("out of memory");
		in->recs = p;
		in->cap = cap;
	}
	in->recs[in->nrecs++] = *rec;
}

/*
 * The words of a record after its time: TYPE, then tid=, cpu=, flags=,
 * a0..a4= and the schema's field names, in any order.  Dump's own order
 * (cpu= tid= TYPE ...) too: the type is the first word without '=' or
 * type=N.
 */
static void parse_record(struct mk_input *in, __u64 ts, char **w, int n)
{
	struct ss_record rec = { .ts = ts };
	unsigned set = 0;	/* bit i: args[i] given; bit 5 tid; 6 cpu; 7 flags */
	int have_tid = 0, t = -1;
	char why[160];

	for (int k = 0; k < n && t < 0; k++)
		if (!strchr(w[k], '=') || !strncmp(w[k], "type=", 5))
			t = k;
	if (t < 0)
		fail("a record needs a type after its timestamp");
	rec.type = parse_type(w[t]);
	for (int k = 0; k < n; k++) {
		char *eq = strchr(w[k], '=');
		const char *key = w[k], *val;
		unsigned bit;
		int i;

		if (k == t)
			continue;
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
			if (parse_u64(val, &rec.args[bit]))
				fail("bad value for %s: '%s'", key, val);
		} else {
			if ((i = ss_schema_field(rec.type, key)) < 0)
				fail("%s has no argument '%s'", w[t], key);
			bit = (unsigned)i;
			if (ss_schema_parse_field(rec.type, bit, val, rec.args, why, sizeof(why)))
				fail("%s", why);
			enum ss_fmt fmt = ss_schema(rec.type)->f[bit].fmt;
			if (fmt == SS_F_COMM || fmt == SS_F_SHIM_TIMEOUT) {	/* two words */
				if (set & (1U << (bit + 1)))
					fail("%s given twice", key);
				set |= 1U << (bit + 1);
			}
		}
		if (set & (1U << bit))
			fail("%s given twice", key);
		set |= 1U << bit;
	}
	if (!have_tid)
		fail("a record needs tid=N");
	add_record(in, &rec);
}

/* ---- `stallscope dump`'s text, read back ---------------------------------------------------- */

/* s with dump's escapes undone (schema.h), into out (cap bytes with the
 * NUL); stops at a space unless spaces are kept, at a '"' if quoted.
 * Returns where it stopped. */
static const char *unescape(const char *s, char *out, size_t cap, int stop_at_space,
			    int quoted)
{
	const char *end;
	int n = ss_unescape(s, stop_at_space ? " " : quoted ? "\"" : "", out, cap - 1, &end);

	if (n == -1)
		fail("bad escape (\\xNN, \\\\ or \\\")");
	if (n == -2)
		fail("a value longer than %zu bytes", cap - 1);
	out[n] = 0;
	return end;
}

static void dump_cmdline(struct ss_trace_meta *m, const char *s)
{
	char arg[8192];

	while (*s == ' ') {
		s++;
		if (*s == '"') {
			s = unescape(s + 1, arg, sizeof(arg), 0, 1);
			if (*s++ != '"')
				fail("an argument's closing quote is missing");
		} else {
			s = unescape(s, arg, sizeof(arg), 1, 0);
		}
		char **a = realloc(m->argv, (m->argc + 2) * sizeof(*a));
		if (!a || !(a[m->argc] = strdup(arg)))
			fail("out of memory");
		m->argv = a;
		m->argv[++m->argc] = NULL;
	}
	if (*s)
		fail("bad cmdline");
}

/* "N ns" or "N ns, 2026-12-02T11:10:17.720892919Z". */
static void dump_start(struct ss_trace_meta *m, const char *s)
{
	unsigned long long mono, ns;
	struct tm tm = { 0 };
	int pos = 0;

	if (sscanf(s, "%llu ns%n", &mono, &pos) != 1 || !pos)
		fail("bad start '%s'", s);
	m->start_mono_ns = mono;
	s += pos;
	if (!*s)
		return;
	if (sscanf(s, ", %d-%d-%dT%d:%d:%d.%9lluZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ns, &pos) != 7 || s[pos])
		fail("bad start time '%s'", s);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	m->start_realtime_ns = (__u64)timegm(&tm) * 1000000000ULL + ns;
}

static void dump_mapping(struct ss_trace_meta *m, const char *s)
{
	unsigned long long start, end, off;
	char id[64];
	int pos = 0;
	struct ss_mapping *mp;

	if (sscanf(s, "0x%llx-0x%llx offset=0x%llx build_id=%63s %n", &start, &end, &off,
		   id, &pos) != 4 || !pos)
		fail("bad mapping '%s'", s);
	mp = realloc(m->mappings, (m->nmappings + 1) * sizeof(*mp));
	if (!mp)
		fail("out of memory");
	m->mappings = mp;
	mp = &m->mappings[m->nmappings++];
	memset(mp, 0, sizeof(*mp));
	mp->start = start;
	mp->end = end;
	mp->offset = off;
	if (strcmp(id, "none")) {
		size_t len = strlen(id);

		if (len % 2 || len / 2 > sizeof(mp->build_id))
			fail("bad build_id '%s'", id);
		for (size_t k = 0; k < len / 2; k++) {
			char hex[3] = { id[2 * k], id[2 * k + 1], 0 };

			if (!isxdigit((unsigned char)hex[0]) || !isxdigit((unsigned char)hex[1]))
				fail("bad build_id '%s'", id);
			mp->build_id[k] = (__u8)strtoul(hex, NULL, 16);
		}
		mp->build_id_len = (__u8)(len / 2);
	}
	unescape(s + pos, mp->path, sizeof(mp->path), 0, 0);
}

static void dump_trailer(struct mk_input *in, char *s)
{
	unsigned long long records, lost, end;
	char stop[32];
	int status, pos = 0;

	/* records= (the file's 64-byte units) is the new file's own. */
	if (sscanf(s, "records=%llu %n", &records, &pos) == 1 && pos)
		s += pos;
	pos = 0;
	if (sscanf(s, "lost=%llu end=%llu stop=%31s status=%d%n", &lost, &end, stop,
		   &status, &pos) != 4 || s[pos])
		fail("bad trailer '%s'", s);
	in->lost = lost;
	in->have_lost = 1;
	in->end_ns = end;
	in->have_end = 1;
	in->stop = parse_stop(stop);
	in->status = status;
	in->have_status = 1;
}

/* "# key: value" of dump's header and trailer; other # lines are comments. */
static void dump_header(struct mk_input *in, char *line)
{
	struct ss_trace_meta *m = &in->meta;
	char *colon, *v, *w[16];
	int n;

	line[strcspn(line, "\r\n")] = 0;
	if (strncmp(line, "# ", 2) || !(colon = strstr(line, ": ")))
		return;
	*colon = 0;
	v = colon + 2;
	const char *key = line + 2;
	if (!strcmp(key, "recorder"))
		unescape(v, m->recorder, sizeof(m->recorder), 0, 0);
	else if (!strcmp(key, "host"))
		unescape(v, m->host, sizeof(m->host), 0, 0);
	else if (!strcmp(key, "kernel"))
		unescape(v, m->kernel, sizeof(m->kernel), 0, 0);
	else if (!strcmp(key, "clock"))
		unescape(v, m->clock, sizeof(m->clock), 0, 0);
	else if (!strcmp(key, "comm"))
		unescape(v, m->comm, sizeof(m->comm), 0, 0);
	else if (!strcmp(key, "cmdline"))
		dump_cmdline(m, v - 1);	/* each argument after a space */
	else if (!strcmp(key, "start")) {
		dump_start(m, v);
		in->start_ns = m->start_mono_ns;
		in->have_start = 1;
	} else if (!strcmp(key, "pid"))
		m->pid = parse_u32(v, "pid");
	else if (!strcmp(key, "workers"))
		m->workers = strcmp(v, "unknown") ? parse_u32(v, "workers") : 0;
	else if (!strcmp(key, "flags")) {
		if ((n = split(v, w, (int)N(w))) < 1)
			fail("flags needs a value");
		m->flags = parse_flags(w, n);
	} else if (!strcmp(key, "ring_bytes")) {
		if (parse_u64(v, &m->ring_bytes))
			fail("bad ring_bytes '%s'", v);
	} else if (!strcmp(key, "mapping"))
		dump_mapping(m, v);
	else if (!strcmp(key, "trailer"))
		dump_trailer(in, v);
}

/* A record as dump prints it: TS_NS cpu=N tid=N TYPE fields... */
static void dump_record(struct mk_input *in, char **w, int n)
{
	__u64 ts;

	if (parse_u64(w[0], &ts))
		fail("bad timestamp '%s' (ns)", w[0]);
	parse_record(in, ts, w + 1, n - 1);
}

void mk_read(FILE *f, const char *name, struct mk_input *out)
{
	struct mk_input in = { .stop = SS_STOP_EXITED };
	char *line = NULL, *words[64];
	size_t cap = 0;
	ssize_t len;

	in_name = name;
	line_no = 0;
	snprintf(in.meta.host, sizeof(in.meta.host), "golden");
	snprintf(in.meta.kernel, sizeof(in.meta.kernel), "golden");
	snprintf(in.meta.recorder, sizeof(in.meta.recorder), "mktrace");
	while ((len = getline(&line, &cap, f)) >= 0) {
		int n;

		line_no++;
		if (strlen(line) != (size_t)len)
			fail("NUL byte in the line");
		if (line_no == 1 && !strncmp(line, "# stallscope trace: ", 20))
			in.dump = 1;
		if (in.dump && line[0] == '#') {
			dump_header(&in, line);
			continue;
		}
		n = split(line, words, (int)N(words));
		if (!n)
			continue;
		if (in.dump)
			dump_record(&in, words, n);
		else if (!strcmp(words[0], "meta"))
			parse_meta(&in, words, n);
		else if (n < 2)
			fail("a record needs a type after its timestamp");
		else
			parse_record(&in, parse_ms(words[0], "timestamp"), words + 1, n - 1);
	}
	if (ferror(f))
		fail("read error: %s", strerror(errno));
	free(line);

	if (!in.have_start)
		in.start_ns = in.nrecs ? in.recs[0].ts : 0;
	if (!in.have_end) {
		in.end_ns = in.start_ns;
		for (size_t i = 0; i < in.nrecs; i++)
			if (in.recs[i].ts > in.end_ns)
				in.end_ns = in.recs[i].ts;
	}
	in.meta.start_mono_ns = in.start_ns;
	if (!in.meta.clock[0])
		snprintf(in.meta.clock, sizeof(in.meta.clock), "CLOCK_MONOTONIC");

	*out = in;
}

void mk_input_free(struct mk_input *in)
{
	for (unsigned i = 0; i < in->meta.argc; i++)
		free(in->meta.argv[i]);
	free(in->meta.argv);
	free(in->meta.mappings);
	free(in->recs);
}
