/* SPDX-License-Identifier: MIT */
/* The target as /proc and its ELF files describe it (procfs.c). */
#ifndef STALLSCOPE_PROCFS_H
#define STALLSCOPE_PROCFS_H

#include <sys/types.h>

#include "trace.h"

/* Executable file-backed mappings of pid, with build ids (0 or -errno). */
int ss_proc_mappings(pid_t pid, struct ss_mapping **out, unsigned *n);
int ss_elf_build_id(const char *path, __u8 *id, __u8 *len);
/* /proc/PID/<what> into buf, NUL-terminated: bytes read or -errno. */
int ss_proc_read_string(pid_t pid, const char *what, char *buf, size_t len);

typedef void (*ss_thread_fn)(void *arg, int tid, const char *comm);
int ss_proc_threads(pid_t pid, ss_thread_fn fn, void *arg);

#endif
