/* SPDX-License-Identifier: MIT */
/*
 * uprobe_multi links through a raw BPF_LINK_CREATE (uprobe_multi.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "uprobe_multi.h"

/* The head of union bpf_attr's link_create and, at offset 16, its
 * uprobe_multi member, as linux 6.6 added them to include/uapi/linux/bpf.h
 * (the installed headers are older).  The kernel zero-checks everything
 * past what it knows, so the struct is the whole attr the call passes. */
struct link_create_uprobe_multi {
	__u32 prog_fd;
	__u32 target_fd;	/* 0 */
	__u32 attach_type;	/* SS_BPF_TRACE_UPROBE_MULTI */
	__u32 flags;		/* link flags: 0 */
	__aligned_u64 path;	/* const char * */
	__aligned_u64 offsets;	/* const __u64 [cnt] */
	__aligned_u64 ref_ctr_offsets; /* const __u64 [cnt], or 0 */
	__aligned_u64 cookies;	/* const __u64 [cnt], or 0 */
	__u32 cnt;
	__u32 flags_multi;	/* BPF_F_UPROBE_MULTI_RETURN (1) or 0 */
	__u32 pid;		/* 0: every process */
	__u32 pad;
};

_Static_assert(offsetof(struct link_create_uprobe_multi, path) == 16,
	       "link_create.uprobe_multi starts at 16");
_Static_assert(offsetof(struct link_create_uprobe_multi, cnt) == 48,
	       "link_create.uprobe_multi.cnt");
_Static_assert(offsetof(struct link_create_uprobe_multi, pid) == 56,
	       "link_create.uprobe_multi.pid");

static int attach(int prog_fd, const char *path, pid_t pid, const __u64 *offsets,
		  const __u64 *ref_ctr_offsets, const __u64 *cookies, unsigned cnt,
		  __u32 flags_multi)
{
	struct link_create_uprobe_multi attr;
	long fd;

	if (prog_fd < 0 || !path || !offsets || !cnt || pid < 0)
		return -EINVAL;
	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (__u32)prog_fd;
	attr.attach_type = SS_BPF_TRACE_UPROBE_MULTI;
	attr.path = (__u64)(uintptr_t)path;
	attr.offsets = (__u64)(uintptr_t)offsets;
	attr.ref_ctr_offsets = (__u64)(uintptr_t)ref_ctr_offsets;
	attr.cookies = (__u64)(uintptr_t)cookies;
	attr.cnt = cnt;
	attr.flags_multi = flags_multi;
	attr.pid = (__u32)pid;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : (int)fd;
}

int ss_uprobe_multi_attach(int prog_fd, const char *path, pid_t pid,
			   const __u64 *offsets, const __u64 *ref_ctr_offsets,
			   const __u64 *cookies, unsigned cnt)
{
	return attach(prog_fd, path, pid, offsets, ref_ctr_offsets, cookies, cnt, 0);
}

int ss_uretprobe_multi_attach(int prog_fd, const char *path, pid_t pid,
			      const __u64 *offsets, const __u64 *cookies, unsigned cnt)
{
	return attach(prog_fd, path, pid, offsets, NULL, cookies, cnt,
		      1 /* BPF_F_UPROBE_MULTI_RETURN */);
}
