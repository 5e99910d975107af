/* SPDX-License-Identifier: MIT */
/*
 * A command line as a table (common/opts.h): each kind of value stored,
 * each kind of mistake one line on stderr and exit status 2, --help the
 * usage on stdout and 0, the operands counted.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/opts.h"
#include "harness.h"

static const char usage[] = "usage: t [OPTIONS] FILE [FILE]\nmore words\n";
static const char *const colours[] = { "red", "green", "blue", NULL };

/* What one parse stored, with every destination at its default first. */
struct got {
	bool flag;
	const char *str;
	unsigned u;
	int pid, colour;
	double num;
	unsigned long long ms, sec;
	int status, first;
	char out[512], err[512];
	char *argv[32];
	int argc;
};

/* fd's bytes as a string into buf (len bytes), and fd closed. */
static void take(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = 0;
	close(fd);
}

/* Parses line (words split at spaces, after "t") with o's flags; what it
 * printed in g->out and g->err. */
static void parse(struct got *g, const char *line, bool in_order, int min, int max)
{
	static char words[512];
	const struct ss_opt opt[] = {
		SS_FLAG("flag", 'f', &g->flag),
		SS_STRING("str", 's', &g->str),
		SS_UINT("uint", 0, &g->u, 1, 10, NULL),
		SS_INT("pid", 'p', &g->pid, 1, 2147483647, "a pid"),
		SS_NUM("num", 0, &g->num, 0.01, 1000, NULL),
		SS_MSEC("ms", 0, &g->ms, 1e-6, 1e10, "milliseconds > 0"),
		SS_SEC("sec", 0, &g->sec, 0.1, 3600, "seconds, 0.1..3600"),
		SS_CHOICE("colour", 0, &g->colour, colours),
		{ 0 },
	};
	const struct ss_opts o = { .prog = "t", .usage = usage, .opt = opt,
				   .in_order = in_order, .min_args = min, .max_args = max };
	int efd = memfd_create("stderr", 0), ofd = memfd_create("stdout", 0);
	int saved_err = dup(2), saved_out = dup(1);

	memset(g, 0, sizeof(*g));
	g->u = 7;
	g->colour = -1;
	snprintf(words, sizeof(words), "%s", line);
	g->argv[g->argc++] = "t";
	for (char *w = strtok(words, " "); w && g->argc < 31; w = strtok(NULL, " "))
		g->argv[g->argc++] = w;
	g->argv[g->argc] = NULL;
	if (efd < 0 || ofd < 0 || saved_err < 0 || saved_out < 0)
		FAILF("memfd/dup");
	fflush(stdout);
	fflush(stderr);
	dup2(efd, 2);
	dup2(ofd, 1);
	g->status = ss_opts_parse(&o, g->argc, g->argv, &g->first);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_err, 2);
	dup2(saved_out, 1);
	close(saved_err);
	close(saved_out);
	take(efd, g->err, sizeof(g->err));
	take(ofd, g->out, sizeof(g->out));
}

/* One line on stderr, status 2, containing part. */
static void bad(const char *line, const char *part)
{
	struct got g;

	parse(&g, line, false, 1, 2);
	ASSERT_EQ(g.status, 2);
	ASSERT_STREQ(g.out, "");
	ASSERT_HAS(g.err, part);
	ASSERT_STREQ(strchr(g.err, '\n'), "\n");
	ASSERT_EQ(strncmp(g.err, "t: ", 3), 0);
}

TEST(every_kind_of_value_is_stored_where_its_entry_says)
{
	struct got g;

	parse(&g, "-f -s hi --uint 3 -p 42 --num 2.5 --ms 1.5 --sec 2 --colour blue a b",
	      false, 1, 2);
	ASSERT_STREQ(g.err, "");
	ASSERT_EQ(g.status, -1);
	ASSERT_TRUE(g.flag);
	ASSERT_STREQ(g.str, "hi");
	ASSERT_EQ(g.u, 3);
	ASSERT_EQ(g.pid, 42);
	ASSERT_TRUE(g.num == 2.5);
	ASSERT_EQ(g.ms, 1500000);
	ASSERT_EQ(g.sec, 2000000000ULL);
	ASSERT_EQ(g.colour, 2);
	ASSERT_EQ(g.argc - g.first, 2);
	ASSERT_STREQ(g.argv[g.first], "a");
}

TEST(an_option_not_given_keeps_its_default)
{
	struct got g;

	parse(&g, "a", false, 1, 1);
	ASSERT_EQ(g.status, -1);
	ASSERT_EQ(g.u, 7);
	ASSERT_EQ(g.colour, -1);
	ASSERT_TRUE(g.str == NULL);
	ASSERT_FALSE(g.flag);
}

TEST(glued_values_abbreviations_and_short_clusters_are_getopts)
{
	struct got g;

	parse(&g, "--str=x --fl -fs3 -p7 a", false, 1, 1);
	ASSERT_EQ(g.status, -1);
	ASSERT_STREQ(g.str, "3");
	ASSERT_TRUE(g.flag);
	ASSERT_EQ(g.pid, 7);
}

TEST(a_value_out_of_range_or_not_a_number_is_one_line)
{
	bad("--uint 0 a", "t: --uint: want a whole number 1..10: 0");
	bad("--uint 11 a", "want a whole number 1..10: 11");
	bad("--uint -1 a", ": -1");
	bad("--uint 1e1 a", ": 1e1");
	bad("--uint 3x a", ": 3x");
	bad("--uint 99999999999999999999999 a", "1..10");
	bad("-p 0 a", "t: --pid: want a pid: 0");
	bad("--num nan a", "want a number 0.01..1000: nan");
	bad("--num inf a", ": inf");
	bad("--num 0 a", ": 0");
	bad("--ms 0 a", "want milliseconds > 0: 0");
	bad("--ms -5 a", ": -5");
	bad("--sec 0.05 a", "want seconds, 0.1..3600: 0.05");
	bad("--colour pink a", "want red, green or blue: pink");
	bad("--str", "t: --str needs a value");
	bad("a -s", "t: -s needs a value");
	bad("--bogus a", "t: unknown option --bogus (t --help lists them)");
	bad("--bogus=3 a", "unknown option --bogus (");
	bad("-z a", "unknown option -z");
	bad("a b c", "t: unexpected argument: c");
	bad("", "t: usage: t [OPTIONS] FILE [FILE]");
}

TEST(help_prints_the_usage_on_stdout_and_ends_with_0)
{
	struct got g;

	parse(&g, "--help a b c --bogus", false, 1, 1);
	ASSERT_EQ(g.status, 0);
	ASSERT_STREQ(g.out, usage);
	ASSERT_STREQ(g.err, "");
	parse(&g, "-f -h", false, 1, 1);
	ASSERT_EQ(g.status, 0);
	ASSERT_STREQ(g.out, usage);
}

TEST(in_order_stops_at_the_first_operand)
{
	struct got g;

	parse(&g, "-f cmd -s x --uint 3", true, 0, -1);
	ASSERT_EQ(g.status, -1);
	ASSERT_TRUE(g.flag);
	ASSERT_TRUE(g.str == NULL);
	ASSERT_EQ(g.u, 7);
	ASSERT_STREQ(g.argv[g.first], "cmd");
	ASSERT_EQ(g.argc - g.first, 5);
	/* And after "--", whatever follows. */
	parse(&g, "-f -- -s x", true, 0, -1);
	ASSERT_EQ(g.status, -1);
	ASSERT_STREQ(g.argv[g.first], "-s");
	ASSERT_STREQ(g.argv[g.first - 1], "--");
}

TEST(a_second_parse_starts_afresh)
{
	struct got g;

	parse(&g, "-f a", false, 1, 1);
	ASSERT_EQ(g.status, -1);
	parse(&g, "-s y b", false, 1, 1);
	ASSERT_EQ(g.status, -1);
	ASSERT_STREQ(g.str, "y");
	ASSERT_FALSE(g.flag);
	ASSERT_STREQ(g.argv[g.first], "b");
}
