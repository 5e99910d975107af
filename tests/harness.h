/* SPDX-License-Identifier: MIT */
/*
 * A small unit-test harness: each TEST runs in a forked child with a
 * timeout, so a crash or a hang fails that test alone.  Output is one
 * "ok - suite/name" or "not ok - suite/name: reason" line per test, which
 * tests/run.sh counts; the binary ends with "N passed, N failed".
 *
 * Assertions print both sides.  Tests are named as specs.
 */
#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn, unsigned timeout_s);
void test_fail(const char *file, int line, const char *expr,
	       long long a, long long b) __attribute__((noreturn));
void test_failf(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
/* Scale for timeouts and iteration counts under slow sanitizers (TSan). */
unsigned test_slow_factor(void);

/* A file's bytes (malloc'd, len may be 0), or the test fails. */
struct bytes {
	unsigned char *p;
	size_t len;
};
struct bytes test_slurp(const char *path);
/* rel, relative to the directory of the test's binary (BUILD/tests/), as
 * a malloc'd path to a file make built; else the test fails. */
char *test_built(const char *rel);

/* A reproducible pseudo-random stream (xorshift64): *state, not 0, moves on. */
static inline uint64_t test_rand(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

#define TEST_T(name, timeout_s)                                              \
	static void name(void);                                              \
	__attribute__((constructor)) static void register_##name(void)      \
	{                                                                    \
		test_register(#name, name, timeout_s);                       \
	}                                                                    \
	static void name(void)
#define TEST(name) TEST_T(name, 30)

#define ASSERT_CMP(a, op, b)                                                 \
	do {                                                                 \
		long long a_ = (long long)(a), b_ = (long long)(b);          \
		if (!(a_ op b_))                                             \
			test_fail(__FILE__, __LINE__, #a " " #op " " #b, a_, \
				  b_);                                       \
	} while (0)
#define ASSERT_EQ(a, b) ASSERT_CMP(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_CMP(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_CMP(a, <, b)
#define ASSERT_LE(a, b) ASSERT_CMP(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_CMP(a, >, b)
#define ASSERT_GE(a, b) ASSERT_CMP(a, >=, b)
#define ASSERT_TRUE(x) ASSERT_CMP(!!(x), ==, 1)
#define ASSERT_FALSE(x) ASSERT_CMP(!!(x), ==, 0)
#define FAILF(...) test_failf(__FILE__, __LINE__, __VA_ARGS__)
/* Strings: equal, or containing a part; both sides printed. */
#define ASSERT_STREQ(a, b)                                                   \
	do {                                                                 \
		const char *a_ = (a), *b_ = (b);                             \
		if (strcmp(a_, b_))                                          \
			FAILF("%s is \"%s\", want \"%s\"", #a, a_, b_);      \
	} while (0)
#define ASSERT_HAS(s, part)                                                  \
	do {                                                                 \
		const char *s_ = (s), *p_ = (part);                          \
		if (!strstr(s_, p_))                                         \
			FAILF("%s is \"%s\", want it to contain \"%s\"", #s, \
			      s_, p_);                                       \
	} while (0)

#endif
