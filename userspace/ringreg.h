/* SPDX-License-Identifier: MIT */
/* Finding a running process's event rings (ringreg.c). */
#ifndef STALLSCOPE_RINGREG_H
#define STALLSCOPE_RINGREG_H

#include <limits.h>
#include <sys/types.h>
#include <linux/types.h>

#include "bpf/ring.h"

/* A library with rings: its file, and its ring_flush semaphore's offset
 * in that file (the anchor). */
struct ss_ringreg_anchor {
	char path[PATH_MAX];
	__u64 file_off;
	__u32 provider;		/* SS_RING_WSRT, SS_RING_SHIM */
};

/* Adds every live ring of pid's registries to the BPF rings map (fd)
 * that it does not hold yet; *unringed: the events the anchors count as
 * dropped for want of a ring, so far.  Returns the rings added. */
int ss_ringreg_scan(pid_t pid, const struct ss_ringreg_anchor *anchors,
		    unsigned n, int rings_fd, __u64 *unringed);

#endif
