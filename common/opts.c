/* SPDX-License-Identifier: MIT */
/* A command line as a table (opts.h): getopt_long underneath. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

#define MAX_OPTS 40
#define LONG_ONLY 256		/* getopt's val for opt[i]: LONG_ONLY + i */

static bool takes_value(const struct ss_opt *p)
{
	return p->type != SS_OPT_FLAG;
}

/* Strictly a decimal number, whole if whole: no sign for whole numbers,
 * nothing after it, finite. */
static bool number(const char *s, bool whole, double *v)
{
	char *end;

	errno = 0;
	if (whole) {
		if (*s == '-' || *s == '+')
			return false;
		unsigned long long u = strtoull(s, &end, 10);
		*v = (double)u;
	} else {
		*v = strtod(s, &end);
	}
	return end != s && !*end && !errno && isfinite(*v);
}

static void want(const struct ss_opts *o, const struct ss_opt *p, const char *s)
{
	char range[96];
	const char *w = p->want;

	if (!w && p->type == SS_OPT_CHOICE) {
		size_t used = 0;

		range[0] = 0;
		for (unsigned i = 0; p->choices[i] && used < sizeof(range); i++)
			used += (size_t)snprintf(range + used, sizeof(range) - used, "%s%s",
						 i ? (p->choices[i + 1] ? ", " : " or ") : "",
						 p->choices[i]);
		w = range;
	} else if (!w) {
		snprintf(range, sizeof(range), "%s %.15g..%.15g",
			 p->type == SS_OPT_NUM ? "a number" : "a whole number", p->min, p->max);
		w = range;
	}
	fprintf(stderr, "%s: --%s: want %s: %s\n", o->prog, p->name, w, s);
}

/* Checks s for p and stores it; false after the error line. */
static bool store(const struct ss_opts *o, const struct ss_opt *p, const char *s)
{
	double v;

	switch (p->type) {
	case SS_OPT_FLAG:
		*(bool *)p->dst = true;
		return true;
	case SS_OPT_STR:
		*(const char **)p->dst = s;
		return true;
	case SS_OPT_CHOICE:
		for (int i = 0; p->choices[i]; i++)
			if (!strcmp(s, p->choices[i])) {
				*(int *)p->dst = i;
				return true;
			}
		break;
	default:		/* a number */
		if (!number(s, p->type == SS_OPT_UINT || p->type == SS_OPT_INT, &v) ||
		    v < p->min || v > p->max)
			break;
		if (p->type == SS_OPT_UINT)
			*(unsigned *)p->dst = (unsigned)v;
		else if (p->type == SS_OPT_INT)
			*(int *)p->dst = (int)v;
		else if (p->type == SS_OPT_NUM)
			*(double *)p->dst = v;
		else		/* MS, SEC: in ns */
			*(unsigned long long *)p->dst =
				(unsigned long long)(v * (p->type == SS_OPT_MS ? 1e6 : 1e9) + 0.5);
		return true;
	}
	want(o, p, s);
	return false;
}

/* The option getopt stopped at, as the user wrote it. */
static const char *named(const struct ss_opts *o, char **argv, char *buf, size_t len)
{
	const char *arg = argv[optind - 1];

	if (optopt >= LONG_ONLY) {
		snprintf(buf, len, "--%s", o->opt[optopt - LONG_ONLY].name);
	} else if (optopt && arg[0] == '-' && arg[1] != '-') {
		snprintf(buf, len, "-%c", optopt);
	} else {
		snprintf(buf, len, "%.*s", (int)strcspn(arg, "="), arg);
	}
	return buf;
}

int ss_opts_parse(const struct ss_opts *o, int argc, char **argv, int *first)
{
	struct option lopts[MAX_OPTS + 2];
	char shortopts[3 + 2 * MAX_OPTS + 2], hint[128], buf[128];
	size_t n = 0, s = 0;
	int c, nargs;

	snprintf(hint, sizeof(hint), "%s", o->help ? o->help : o->prog);
	if (!o->help)
		snprintf(hint + strlen(hint), sizeof(hint) - strlen(hint), " --help");
	if (o->in_order)
		shortopts[s++] = '+';
	shortopts[s++] = ':';
	shortopts[s++] = 'h';
	for (; o->opt[n].name; n++) {
		if (n == MAX_OPTS)
			abort();	/* a table this long is a bug */
		lopts[n] = (struct option){ o->opt[n].name,
					    takes_value(&o->opt[n]) ? required_argument : no_argument,
					    NULL, LONG_ONLY + (int)n };
		if (o->opt[n].letter) {
			shortopts[s++] = o->opt[n].letter;
			if (takes_value(&o->opt[n]))
				shortopts[s++] = ':';
		}
	}
	shortopts[s] = 0;
	lopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[n] = (struct option){ 0 };

	opterr = 0;		/* one line of ours instead of getopt's */
	optind = 0;		/* from argv[1], whatever parsed before */
	while ((c = getopt_long(argc, argv, shortopts, lopts, NULL)) != -1) {
		const struct ss_opt *p = NULL;

		if (c == 'h') {
			fputs(o->usage, stdout);
			return 0;
		}
		if (c == ':') {
			fprintf(stderr, "%s: %s needs a value\n", o->prog,
				named(o, argv, buf, sizeof(buf)));
			return 2;
		}
		if (c == '?') {
			fprintf(stderr, "%s: unknown option %s (%s lists them)\n", o->prog,
				named(o, argv, buf, sizeof(buf)), hint);
			return 2;
		}
		if (c >= LONG_ONLY)
			p = &o->opt[c - LONG_ONLY];
		else
			for (const struct ss_opt *q = o->opt; q->name && !p; q++)
				if (q->letter == c)
					p = q;
		if (!p || !store(o, p, optarg))
			return 2;
	}
	nargs = argc - optind;
	if (o->max_args >= 0 && nargs > o->max_args) {
		fprintf(stderr, "%s: unexpected argument: %s (%s lists the options)\n",
			o->prog, argv[optind + o->max_args], hint);
		return 2;
	}
	if (nargs < o->min_args) {
		/* The usage's first line says what is missing. */
		fprintf(stderr, "%s: %.*s\n", o->prog, (int)strcspn(o->usage, "\n"), o->usage);
		return 2;
	}
	*first = optind;
	return -1;
}
