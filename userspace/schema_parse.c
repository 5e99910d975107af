/* SPDX-License-Identifier: MIT */
/*
 * The record schema (schema.h), read back: a field's text as `dump`
 * prints it (schema.c) parsed into the record's words — what mktrace
 * makes traces from, `dump | mktrace` round-tripping (tests/scenario/
 * schema.sh).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "schema_int.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- parsing: the inverse of printing ------------------------------------------------------- */

int ss_schema_parse_u64(const char *s, __u64 *out)
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

static int name_of(const struct ss_enum *e, const char *s, __u64 *out);

/* A name of e, or a number. */
static int parse_enum(const struct ss_enum *e, const char *s, __u64 *out)
{
	return name_of(e, s, out) ? ss_schema_parse_u64(s, out) : 0;
}

/* Only a name of e: 0, or -1. */
static int name_of(const struct ss_enum *e, const char *s, __u64 *out)
{
	for (unsigned i = 0; i < e->n; i++)
		if (!strcmp(e->v[i].name, s)) {
			*out = e->v[i].value;
			return 0;
		}
	return -1;
}

/* A number, or names joined by '|', or'd: the first from head (if any),
 * the rest from bits (numbers too if numbers). */
static int parse_bits(const char *s, __u64 *out, const struct ss_enum *head,
		      const struct ss_enum *bits, bool numbers)
{
	char buf[128], *save, *tok;
	bool first = true;

	if (!ss_schema_parse_u64(s, out))
		return 0;
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*out = 0;
	for (tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
		__u64 v;
		int err = head && first ? name_of(head, tok, &v)
			: numbers ? parse_enum(bits, tok, &v) : name_of(bits, tok, &v);

		if (err)
			return -1;
		*out |= v;
		first = false;
	}
	return head && first ? -1 : 0;
}

/* "wait|private|clock_realtime" or a number. */
static int parse_futex_op(const char *s, __u64 *out)
{
	return parse_bits(s, out, &ss_futex_cmd_e, &ss_futex_flag_e, false);
}

/* A shim park's op as printed for kind: "wait_bitset|private|abs",
 * "waitv/2|abs", "timedwait|abs|realtime", "pwait2", or a number; then
 * |abs, |realtime and |0xN for the high bits. */
static int parse_shim_op(__u64 kind, const char *s, __u64 *out)
{
	char buf[128], *bar;
	__u64 v, flags = 0;
	int err;

	if (!ss_schema_parse_u64(s, out))
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
		else if (!strncmp(bar, "|0x", 3) && !ss_schema_parse_u64(bar + 1, &v))
			flags |= v;
		else
			break;
		*bar = 0;
	}
	if (kind == SS_SHIM_KIND_EPOLL)
		err = parse_enum(&ss_which_e, buf, &v);
	else if (kind == SS_SHIM_KIND_FUTEX && !strncmp(buf, "waitv/", 6)) {
		err = ss_schema_parse_u64(buf + 6, &v) || v > 0xff;
		v |= SS_SHIM_FUTEX_WAITV;
	} else if (kind == SS_SHIM_KIND_FUTEX)
		err = parse_futex_op(buf, &v);
	else if (kind == SS_SHIM_KIND_COND || kind == SS_SHIM_KIND_SEM)
		err = parse_enum(&ss_shim_wait_e, buf, &v);
	else
		err = ss_schema_parse_u64(buf, &v);
	*out = v | flags;
	return err;
}

/* "none" or "spurious|delay" (or a number). */
static int parse_shim_faults(const char *s, __u64 *out)
{
	if (!strcmp(s, "none")) {
		*out = 0;
		return 0;
	}
	return *s ? parse_bits(s, out, NULL, &ss_shim_fault_e, true) : -1;
}

int ss_unescape(const char *s, const char *stops, char *out, size_t max,
		const char **end)
{
	size_t n = 0;

	while (*s && !strchr(stops, *s)) {
		unsigned char c = (unsigned char)*s++;

		if (c == '\\') {
			if (*s == '\\' || *s == '"') {
				c = (unsigned char)*s++;
			} else if (*s == 'x' && isxdigit((unsigned char)s[1]) &&
				   isxdigit((unsigned char)s[2])) {
				char hex[3] = { s[1], s[2], 0 };

				c = (unsigned char)strtoul(hex, NULL, 16);
				s += 3;
			} else {
				*end = s - 1;
				return -1;
			}
		}
		if (n == max) {
			*end = s;
			return -2;
		}
		out[n++] = (char)c;
	}
	*end = s;
	return (int)n;
}

/* A thread name: at most 16 bytes after \xNN and \\ escapes. */
static int parse_comm(const char *s, char out[16], const char **why)
{
	const char *end;
	int n;

	memset(out, 0, 16);
	if ((n = ss_unescape(s, "", out, 16, &end)) >= 0)
		return 0;
	*why = n == -1 ? "bad escape in name (\\xNN or \\\\)" : "name longer than 16 bytes";
	return -1;
}

int ss_schema_parse_field(__u32 type, unsigned i, const char *s, __u64 *args,
			  char *why, size_t whylen)
{
	const struct ss_schema_type *t = ss_schema(type);
	const struct ss_field *d = t && i < SS_RECORD_ARGS ? &t->f[i] : NULL;
	const char *name = d && d->name && d->name[0] ? d->name : "the argument";
	const char *reason = NULL;
	int err = 0;

	switch (d ? d->fmt : SS_F_NONE) {
	case SS_F_NONE:		/* unknown types and a0..a4: numbers */
	case SS_F_U:
	case SS_F_U_OPT:
	case SS_F_S32:
	case SS_F_S64:
	case SS_F_HEX:
	case SS_F_HEX_OPT:
	case SS_F_SHIM_OBJECT:
		err = ss_schema_parse_u64(s, &args[i]);
		break;
	case SS_F_ENUM:
		err = parse_enum(d->e, s, &args[i]);
		break;
	case SS_F_FUTEX_OP:
		err = parse_futex_op(s, &args[i]);
		break;
	case SS_F_TASK_STATE:
		err = parse_enum(&ss_state_e, s, &args[i]);
		break;
	case SS_F_SKIP:
		err = -1;	/* not a name anyone gives */
		break;
	case SS_F_SHIM_OP:
		if (!args[0]) {
			snprintf(why, whylen, "give kind before %s", name);
			return -1;
		}
		err = parse_shim_op(args[0], s, &args[i]);
		break;
	case SS_F_SHIM_TIMEOUT: {
		__u64 ns;

		if (i + 1 >= SS_RECORD_ARGS) {
			snprintf(why, whylen, "no room for a timeout in %s", name);
			return -1;
		}
		if (!strcmp(s, "none")) {
			args[i] = (__u64)-1LL;	/* seconds -1: none */
			args[i + 1] = 0;
		} else if (!(err = ss_schema_parse_u64(s, &ns))) {
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
	case SS_F_SHIM_FAULTS:
		err = parse_shim_faults(s, &args[i]);
		break;
	case SS_F_COMM: {
		char comm[16];

		if (i + 1 >= SS_RECORD_ARGS) {
			snprintf(why, whylen, "no room for a name in %s", name);
			return -1;
		}
		if (parse_comm(s, comm, &reason)) {
			snprintf(why, whylen, "%s", reason);
			return -1;
		}
		memcpy(&args[i], comm, sizeof(comm));
		break;
	}
	}
	if (err)
		snprintf(why, whylen, "bad value for %s: '%s'", name, s);
	return err ? -1 : 0;
}

