/* SPDX-License-Identifier: MIT */
/*
 * Finding a running process's event rings (bpf/ring.h): through the
 * anchor each library with rings has — its ring_flush probe's semaphore,
 * whose file offset the USDT notes give — to its registry, and from there
 * into the BPF map of rings to drain.
 *
 * Owns: reading the target's anchors and registries (process_vm_readv),
 * adding what it finds to the map, and the anchors' count of events
 * dropped for want of a ring.  Does not own: attaching (recorder_attach.c) or
 * decoding (ringrec.c).
 *
 * Why it is needed: a ring announces itself (ring_flush, fired when it is
 * made) only once in its thread's life.  A thread that made its ring
 * under an earlier recording, and a process attached with -p after such
 * a recording, would otherwise stay unknown until its ring was half full
 * again.  Rings found here are drained from the oldest slot they hold;
 * the recorder keeps only what is younger than the recording.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "ringreg.h"

static int read_mem(pid_t pid, __u64 addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EFAULT;
}

/* The address at which pid maps byte file_off of path (0: not mapped). */
static __u64 file_addr(pid_t pid, const char *path, __u64 file_off)
{
	char maps[64], line[4352];
	__u64 addr = 0;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	if (!(f = fopen(maps, "re")))
		return 0;
	while (!addr && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		int pos = 0;

		if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &start, &end, &off,
			   &pos) < 3 || !pos)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line + pos, path) || file_off < off ||
		    file_off - off >= end - start)
			continue;
		addr = start + (file_off - off);
	}
	fclose(f);
	return addr;
}

int ss_ringreg_scan(pid_t pid, const struct ss_ringreg_anchor *anchors,
		    unsigned n, int rings_fd, __u64 *unringed)
{
	int found = 0;

	*unringed = 0;
	for (unsigned a = 0; a < n; a++) {
		__u64 at = file_addr(pid, anchors[a].path, anchors[a].file_off);
		struct ss_ring_anchor anchor;
		struct ss_ring_entry *e;
		size_t k;

		if (!at || read_mem(pid, at, &anchor, sizeof(anchor)) ||
		    anchor.abi != SS_RING_ABI)
			continue;
		*unringed += anchor.lost;
		k = anchor.used < anchor.nentries ? (size_t)anchor.used : anchor.nentries;
		if (!k || k > 65536 || !(e = calloc(k, sizeof(*e))))
			continue;
		if (!read_mem(pid, anchor.entries, e, k * sizeof(*e))) {
			for (size_t i = 0; i < k; i++) {
				struct ss_ring_state st = { .ring = e[i].ring };
				struct ss_ring ring;

				/* The thread is the ring's header's: the entry's
				 * tid is stored after the entry is taken. */
				if (!e[i].ring || read_mem(pid, e[i].ring, &ring, sizeof(ring)) ||
				    ring.magic != SS_RING_MAGIC || ring.abi != SS_RING_ABI ||
				    !ring.cap || (ring.cap & (ring.cap - 1)) || !ring.tid)
					continue;
				struct ss_ring_key key = { ring.tid, anchors[a].provider };
				st.cap = ring.cap;
				st.tail = ring.head >= ring.cap ? ring.head - ring.cap + 1 : 0;
				/* A ring BPF learnt already keeps its cursor. */
				if (!bpf_map_update_elem(rings_fd, &key, &st, BPF_NOEXIST))
					found++;
			}
		}
		free(e);
	}
	return found;
}
