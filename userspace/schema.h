/* SPDX-License-Identifier: MIT */
/*
 * The record schema, written once: for every record type (bpf/record.h)
 * its name, where it comes from, and its fields — each field's name, how
 * it prints and parses, and its enumeration's value names.
 *
 * `dump` prints records through it, mktrace (and anything reading dump's
 * text back) parses them through it, ss_type_name() answers from it, and
 * docs/trace-format.md's record tables are checked against it
 * (`stallscope dump --schema`, tests/scenario/docs_example.sh).  A new
 * record type is one entry here (and its number in bpf/record.h).
 *
 * Owns: names and text forms.  Does not own: what the fields mean to the
 * analyzer, nor the binary layout (record.h, ringdec.c).
 */
#ifndef STALLSCOPE_SCHEMA_H
#define STALLSCOPE_SCHEMA_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "bpf/record.h"

/* How a field prints (dump) and parses (mktrace). */
enum ss_fmt {
	SS_F_NONE = 0,		/* no more fields */
	SS_F_U,			/* unsigned decimal */
	SS_F_S32,		/* an int probe argument: -1 stays -1 */
	SS_F_S64,		/* a long / long long */
	SS_F_HEX,		/* addresses, masks, tokens */
	SS_F_ENUM,		/* a name from the field's enumeration, else the number */
	SS_F_FUTEX_OP,		/* FUTEX_* command |private |clock_realtime */
	SS_F_TASK_STATE,	/* prev_state as ps(1) letters */
	SS_F_COMM,		/* this word and the next: a 16-byte thread name */
	SS_F_SKIP,		/* the second word of the field before: not printed */
	SS_F_SHIM_OBJECT,	/* per kind (field 0): the epoll fd, or an address */
	SS_F_SHIM_OP,		/* per kind (field 0), with the timeout flags */
	SS_F_SHIM_TIMEOUT,	/* this word and the next: seconds (-1: none), ns */
	SS_F_SHIM_FAULTS,	/* faults injected into a park: a | of names */
	SS_F_U_OPT,		/* unsigned decimal, printed only when not 0 (what
				 * only some sources give: Tokio's extras) */
	SS_F_HEX_OPT,		/* hex, printed only when not 0 */
};

struct ss_enum_name {
	const char *name;
	__u64 value;
};

struct ss_enum {
	const struct ss_enum_name *v;
	unsigned n;
	unsigned char unsigned_other;	/* a value without a name prints unsigned */
};

struct ss_field {
	const char *name;
	enum ss_fmt fmt;
	const struct ss_enum *e;	/* SS_F_ENUM's names */
};

struct ss_schema_type {
	const char *name;		/* as dump prints it; NULL: no such type */
	const char *source;		/* where records of it come from */
	struct ss_field f[SS_RECORD_ARGS];
};

/* The schema of type, or NULL if this build knows no such type. */
const struct ss_schema_type *ss_schema(__u32 type);

/* The type named name (as dump prints it), or 0. */
__u32 ss_schema_type_by_name(const char *name);

/* The index of type's field named name, or -1. */
int ss_schema_field(__u32 type, const char *name);

/* The name of value v of type's field i (an enumeration), or NULL. */
const char *ss_schema_value_name(__u32 type, unsigned i, __u64 v);

/* " name=value" for every printed field of r (dump's form); a type this
 * build does not know as " type=N"-less raw words: " a0=0x.. .. a4=0x..". */
void ss_schema_put_fields(FILE *f, const struct ss_record *r);

/*
 * Parses s as field i of type into args (what ss_schema_put_fields prints
 * for it; numbers too: decimal, negative ones sign-extended, or 0x hex).
 * Fields that depend on the kind (field 0) need args[0] set first.
 * Returns 0, or -1 with why (a phrase) filled in.
 */
int ss_schema_parse_field(__u32 type, unsigned i, const char *s, __u64 *args,
			  char *why, size_t whylen);

/* A whole-token number as parse_field reads them: 0 or -1. */
int ss_schema_parse_u64(const char *s, __u64 *out);

/* The inverse of ss_put_escaped: s up to its end or a byte of stops, with
 * \xNN, \\\\ and \\" undone, into out (at most max bytes, no NUL added).
 * Returns the bytes, -1 for a bad escape, -2 if more than max; *end is
 * where it stopped. */
int ss_unescape(const char *s, const char *stops, char *out, size_t max,
		const char **end);

/* Bytes from a file, line-safe: printable ASCII stays, the rest (and
 * spaces unless keep_spaces) become \xNN, a backslash \\. */
void ss_put_escaped(FILE *f, const char *s, size_t n, int keep_spaces);

/* The schema as a table, one line a type: number, name, source, fields
 * (`stallscope dump --schema`; docs/trace-format.md is checked against it). */
void ss_schema_print(FILE *f);

/* v as e names it, else the number (signed unless e says unsigned). */
void ss_schema_put_enum(FILE *f, const struct ss_enum *e, __u64 v);

/* The trailer's stop reasons by name (dump's trailer, mktrace's `meta stop`). */
extern const struct ss_enum ss_stop_enum;

#endif
