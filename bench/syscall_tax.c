/* SPDX-License-Identifier: MIT */
/*
 * bench/syscall_tax.sh's two halves:
 *
 *   syscall-tax loop [N]     ns per getppid(2), the best of 5 loops of N
 *                            (default 500000): what one system call costs
 *   syscall-tax hooks OBJ    attaches OBJ's programs (syscall_tax.bpf.o),
 *                            says "attached" and holds them until a
 *                            signal ends it (root)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int loop(long n)
{
	double best = 0;

	for (int r = 0; r < 5; r++) {
		double t = now_ns();
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		double d = (now_ns() - t) / (double)n;
		if (!r || d < best)
			best = d;
	}
	printf("%.1f\n", best);
	return 0;
}

static int hooks(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;

	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "syscall-tax: cannot load %s\n", path);
		return 1;
	}
	bpf_object__for_each_program(p, obj)
		if (!bpf_program__attach(p)) {
			fprintf(stderr, "syscall-tax: cannot attach %s\n", bpf_program__name(p));
			return 1;
		}
	printf("attached\n");
	fflush(stdout);
	for (;;)
		pause();	/* the links go with the process */
}

int main(int argc, char **argv)
{
	if (argc >= 2 && argc <= 3 && !strcmp(argv[1], "loop")) {
		long n = argc > 2 ? atol(argv[2]) : 500000;

		if (n > 0)
			return loop(n);
	}
	if (argc == 3 && !strcmp(argv[1], "hooks"))
		return hooks(argv[2]);
	fprintf(stderr, "usage: syscall-tax loop [N] | syscall-tax hooks OBJ\n");
	return 2;
}
