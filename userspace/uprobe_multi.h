/* SPDX-License-Identifier: MIT */
/*
 * uprobe_multi links (kernel 6.6+): one BPF link attaches one program to
 * many sites of one file, each with its own cookie and semaphore, filtered
 * to one process.  Debian's libbpf 1.1 predates them, so this is the raw
 * BPF_LINK_CREATE.  The program must have been loaded as a kprobe-type
 * program with expected attach type SS_BPF_TRACE_UPROBE_MULTI.
 *
 * Owns: the kernel ABI of the attach (attach type, union bpf_attr layout).
 * Does not own: what to attach where (recorder_attach.c, usdt.c).
 *
 * A link is an fd: closing it detaches every site at once (milliseconds;
 * a perf-event uprobe waits an RCU grace period each).
 */
#ifndef STALLSCOPE_UPROBE_MULTI_H
#define STALLSCOPE_UPROBE_MULTI_H

#include <linux/types.h>
#include <sys/types.h>

/* enum bpf_attach_type's BPF_TRACE_UPROBE_MULTI (linux 6.6 uapi). */
#define SS_BPF_TRACE_UPROBE_MULTI 48

/* Attaches prog_fd at cnt file offsets of path (ref_ctr_offsets: each
 * site's semaphore, 0 for none, or NULL for none at all; cookies: what
 * bpf_get_attach_cookie() returns at each site), for process pid only
 * (0: every process).  Returns the link fd, or -errno. */
int ss_uprobe_multi_attach(int prog_fd, const char *path, pid_t pid,
			   const __u64 *offsets, const __u64 *ref_ctr_offsets,
			   const __u64 *cookies, unsigned cnt);
/* The same at the functions' returns (offsets: their entries). */
int ss_uretprobe_multi_attach(int prog_fd, const char *path, pid_t pid,
			      const __u64 *offsets, const __u64 *cookies, unsigned cnt);

#endif
