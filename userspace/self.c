/* SPDX-License-Identifier: MIT */
/*
 * Files that come with this binary: the preload shim that `record` puts
 * into the targets it starts, and the examples `demo` runs.  They are
 * found from this binary's own location (/proc/self/exe), never from a
 * build directory or a compiled-in prefix, so one rule serves the build
 * tree (build/bin/stallscope: build/lib/, build/bin/), an installed tree
 * (PREFIX/bin/stallscope: PREFIX/lib/, PREFIX/libexec/stallscope/) and a
 * DESTDIR staging tree alike.  The directories are in self.h.
 *
 * Owns: the lookup.  Does not own: which files are wanted (target.c,
 * demo.c) or where `make install` puts them (Makefile, which follows the
 * same layout).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "self.h"

int ss_self_exe(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len);

	if (n < 0)
		return -errno;
	if (n == 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}

char *ss_self_find(const char *const dirs[], const char *name, int mode)
{
	char self[PATH_MAX], path[PATH_MAX];
	int err = ss_self_exe(self, sizeof(self));

	if (err) {
		errno = -err;
		return NULL;
	}
	*strrchr(self, '/') = '\0';	/* the kernel gives an absolute path */
	errno = ENOENT;
	for (size_t i = 0; dirs[i]; i++) {
		int n = snprintf(path, sizeof(path), "%s/%s/%s", self, dirs[i], name);

		if (n < 0 || (size_t)n >= sizeof(path)) {
			errno = ENAMETOOLONG;
			continue;
		}
		if (!access(path, mode))
			return realpath(path, NULL);
	}
	return NULL;
}
