/* SPDX-License-Identifier: MIT */
/*
 * A command line as a table: each option says where its value goes and what
 * it may be; ss_opts_parse checks every value, stores it, prints the usage
 * for -h/--help and one line for anything wrong.  What every program of the
 * project shares (stallscope's commands, the examples, the benchmarks), so
 * that a program's options read as a list, not as a switch.
 */
#ifndef SS_COMMON_OPTS_H
#define SS_COMMON_OPTS_H

#include <stdbool.h>

enum ss_opt_type {
	SS_OPT_FLAG,		/* bool *: set */
	SS_OPT_STR,		/* const char **: the value as given */
	SS_OPT_UINT,		/* unsigned *: a whole number in [min, max] */
	SS_OPT_INT,		/* int *: a whole number in [min, max] (a pid: 1..INT_MAX) */
	SS_OPT_NUM,		/* double *: a number in [min, max] */
	SS_OPT_MS,		/* unsigned long long * (ns): milliseconds in [min, max] */
	SS_OPT_SEC,		/* unsigned long long * (ns): seconds in [min, max] */
	SS_OPT_CHOICE,		/* int *: the index of the value among choices */
};

struct ss_opt {
	const char *name;	/* --NAME (without the dashes) */
	char letter;		/* -L too; 0: none */
	enum ss_opt_type type;
	void *dst;
	double min, max;	/* the numbers' range */
	/* The error's "want ...": e.g. "milliseconds > 0".  NULL: "a whole
	 * number MIN..MAX" or "a number MIN..MAX"; CHOICE: the choices. */
	const char *want;
	const char *const *choices;	/* CHOICE: NULL-terminated */
};

struct ss_opts {
	const char *prog;	/* what an error line starts with: "PROG: " */
	const char *help;	/* the command that shows the usage ("stallscope
				 * record --help"); NULL: "PROG --help" */
	const char *usage;	/* -h/--help prints it on stdout */
	const struct ss_opt *opt;	/* up to 40, ended by a { 0 } */
	bool in_order;		/* options end at the first operand (a command
				 * and its own options follow) */
	int min_args, max_args;	/* operands allowed; max_args -1: any */
};

/* The table's entries, each with its destination's type checked (a
 * mismatch is a compiler warning, an error with -Werror). */
#define SS_OPT_DST(p, T) ((void)sizeof((p) == (T *)0), (void *)(p))
#define SS_OPT_(n, l, t, p, T, ...) \
	{ .name = (n), .letter = (l), .type = (t), .dst = SS_OPT_DST(p, T), __VA_ARGS__ }
#define SS_FLAG(name, letter, p) SS_OPT_(name, letter, SS_OPT_FLAG, p, bool, .want = NULL)
#define SS_STRING(name, letter, p) SS_OPT_(name, letter, SS_OPT_STR, p, const char *, .want = NULL)
#define SS_UINT(name, letter, p, lo, hi, w) \
	SS_OPT_(name, letter, SS_OPT_UINT, p, unsigned, .min = (lo), .max = (hi), .want = (w))
#define SS_INT(name, letter, p, lo, hi, w) \
	SS_OPT_(name, letter, SS_OPT_INT, p, int, .min = (lo), .max = (hi), .want = (w))
#define SS_NUM(name, letter, p, lo, hi, w) \
	SS_OPT_(name, letter, SS_OPT_NUM, p, double, .min = (lo), .max = (hi), .want = (w))
#define SS_MSEC(name, letter, p, lo, hi, w) \
	SS_OPT_(name, letter, SS_OPT_MS, p, unsigned long long, .min = (lo), .max = (hi), .want = (w))
#define SS_SEC(name, letter, p, lo, hi, w) \
	SS_OPT_(name, letter, SS_OPT_SEC, p, unsigned long long, .min = (lo), .max = (hi), .want = (w))
#define SS_CHOICE(name, letter, p, list) \
	SS_OPT_(name, letter, SS_OPT_CHOICE, p, int, .choices = (list))

/*
 * Parses argv[1..argc-1] by o.  Returns -1 to go on, *first the index of
 * the first operand; else the exit status: 0 after the usage (-h, --help),
 * 2 after one line on stderr (an unknown option, a missing or bad value, a
 * wrong number of operands).
 */
int ss_opts_parse(const struct ss_opts *o, int argc, char **argv, int *first);

#endif
