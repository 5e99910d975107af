/* SPDX-License-Identifier: MIT */
/*
 * A trace file as text, one line per item (`stallscope dump`,
 * cmds/dump.c).
 *
 *   # key: value                      the header's metadata
 *   TS_NS cpu=N tid=N TYPE k=v ...    one line per record
 *   # trailer: records=N lost=N end=NS stop=REASON status=N
 *
 * Argument names and enumerations are the record schema's (schema.c);
 * a type this build doesn't know prints as `type=N a0=0x.. .. a4=0x..`.
 * Strings from the file are escaped (\xNN for anything but printable
 * ASCII; in record fields spaces too) so each item stays one line.
 *
 * Streams: memory does not depend on the file size.  This file owns the
 * text format only; reading and checking the file is userspace/trace_read.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dump.h"
#include "schema.h"
#include "trace.h"

static void print_record(FILE *f, const struct ss_record *rec)
{
	const char *name = ss_type_name(rec->type);

	fprintf(f, "%llu cpu=%u tid=%u ", (unsigned long long)rec->ts,
		rec->cpu, rec->tid);
	if (name)
		fputs(name, f);
	else
		fprintf(f, "type=%u", rec->type);
	ss_schema_put_fields(f, rec);
	if (rec->flags)
		fprintf(f, " flags=0x%x", rec->flags);
	putc('\n', f);
}

static void put_str_line(FILE *f, const char *key, const char *s)
{
	fprintf(f, "# %s: ", key);
	ss_put_escaped(f, s, strlen(s), 1);
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
				ss_put_escaped(f, a, 1, 1);
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
	if (m->flags & SS_FILE_SHIM_PARKS)
		fputs(" shim-parks", f);
	if (m->flags & SS_FILE_SLEEP_PARKS)
		fputs(" sleep-parks", f);
	if (m->flags & SS_FILE_RING_PIECES)
		fputs(" ring-pieces", f);
	if (m->flags & SS_FILE_NO_READINESS)
		fputs(" no-readiness", f);
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
		ss_put_escaped(f, mp->path, strlen(mp->path), 1);
		putc('\n', f);
	}
}

static void print_trailer(FILE *f, const struct ss_file_trailer *t)
{
	fprintf(f, "# trailer: records=%llu lost=%llu end=%llu stop=",
		(unsigned long long)t->records, (unsigned long long)t->lost,
		(unsigned long long)t->end_mono_ns);
	ss_schema_put_enum(f, &ss_stop_enum, t->stop_reason);
	fprintf(f, " status=%d\n", t->exit_status);
}

int ss_dump(FILE *f, struct ss_trace_reader *r)
{
	struct ss_record rec;
	int err;

	print_header(f, r);
	while ((err = ss_trace_next(r, &rec)) == 1)
		print_record(f, &rec);
	if (err == 0 && ss_trace_trailer(r))
		print_trailer(f, ss_trace_trailer(r));
	return err;
}
