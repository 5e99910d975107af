/* SPDX-License-Identifier: MIT */
/* The test runner behind harness.h: fork per test, timeout, summary. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MAX_TESTS 256

static struct {
	const char *name;
	test_fn fn;
	unsigned timeout_s;
} tests[MAX_TESTS];
static unsigned ntests;

void test_register(const char *name, test_fn fn, unsigned timeout_s)
{
	if (ntests == MAX_TESTS) {
		fprintf(stderr, "harness: too many tests\n");
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	tests[ntests].timeout_s = timeout_s;
	ntests++;
}

unsigned test_slow_factor(void)
{
	const char *s = getenv("TEST_SLOW");
	int n = s ? atoi(s) : 1;
	return n > 0 ? (unsigned)n : 1;
}

void test_fail(const char *file, int line, const char *expr, long long a,
	       long long b)
{
	fprintf(stderr, "  %s:%d: assertion failed: %s (left %lld, right %lld)\n",
		file, line, expr, a, b);
	fflush(NULL);
	_exit(1);
}

void test_failf(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(NULL);
	_exit(1);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	const char *suite = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1
						  : argv[0];
	unsigned passed = 0, failed = 0;

	for (unsigned i = 0; i < ntests; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		unsigned timeout = tests[i].timeout_s * test_slow_factor();
		double t0 = now_ms();
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0) {
			alarm(timeout);
			tests[i].fn();
			fflush(NULL);
			exit(0);
		}
		int st;
		while (waitpid(pid, &st, 0) < 0)
			;
		double ms = now_ms() - t0;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			printf("ok - %s/%s (%.0f ms)\n", suite, tests[i].name, ms);
			passed++;
		} else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) {
			printf("not ok - %s/%s: timed out after %u s\n", suite,
			       tests[i].name, timeout);
			failed++;
		} else if (WIFSIGNALED(st)) {
			printf("not ok - %s/%s: killed by signal %d (%s)\n",
			       suite, tests[i].name, WTERMSIG(st),
			       strsignal(WTERMSIG(st)));
			failed++;
		} else {
			printf("not ok - %s/%s: exit status %d\n", suite,
			       tests[i].name, WEXITSTATUS(st));
			failed++;
		}
		fflush(stdout);
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}

struct bytes test_slurp(const char *path)
{
	struct bytes b = { 0 };
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		FAILF("%s: %s", path, strerror(errno));
	b.len = (size_t)st.st_size;
	b.p = malloc(b.len ? b.len : 1);
	if (!b.p || read(fd, b.p, b.len) != (ssize_t)b.len)
		FAILF("reading %s", path);
	close(fd);
	return b;
}

char *test_built(const char *rel)
{
	char self[PATH_MAX], *path;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		FAILF("readlink /proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	if (asprintf(&path, "%s/%s", self, rel) < 0)
		FAILF("out of memory");
	if (access(path, R_OK))
		FAILF("%s: %s (make builds it)", path, strerror(errno));
	return path;
}
