/* SPDX-License-Identifier: MIT */
/* Files that come with this stallscope binary, found from where it is (self.c). */
#ifndef STALLSCOPE_SELF_H
#define STALLSCOPE_SELF_H

#include <stddef.h>

/* Where the shim and the examples are looked for, relative to the
 * directory of this binary, in order: installed (`make install`), then
 * the build tree (`make`: the examples sit next to stallscope). */
#define SS_SHIM_NAME	 "libstallscope-preload.so"
#define SS_SHIM_DIRS	 { "../lib", NULL }
#define SS_EXAMPLE_DIRS	 { "../libexec/stallscope", ".", NULL }

/* This binary's absolute path (/proc/self/exe) into buf: 0 or -errno. */
int ss_self_exe(char *buf, size_t len);
/* The first DIR/name, DIR relative to this binary's directory (dirs
 * NULL-terminated), that access() allows with mode, resolved (malloc'd);
 * NULL with errno set if there is none. */
char *ss_self_find(const char *const dirs[], const char *name, int mode);

#endif
