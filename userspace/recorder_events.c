/* SPDX-License-Identifier: MIT */
/*
 * The recorder (recorder_int.h): what arrives from BPF.  Records and ring
 * chunks from the BPF ring buffer (a chunk's slots through ringrec.c,
 * into the sink's blocks or as records; before the header a file's wait
 * in the ring buffer, other sinks' are held as records); the per-CPU
 * lost counts as `lost` records; the periodic pull of the rings of
 * threads that never leave their CPU; what /proc says at attach
 * (threads, sockets in epoll sets, workers).
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cli.h"
#include "outfile.h"
#include "prereq.h"
#include "procfs.h"
#include "recorder_int.h"
#include "ringrec.h"
#include "ringreg.h"
#include "bpf/ring.h"
#include "self.h"
#include "stallscope.skel.h"
#include "target.h"
#include "trace.h"
#include "uprobe_multi.h"

/* ---- records ----------------------------------------------------------------------- */

/* rec appended to a growing array (*a, *n of *cap): 0 or -ENOMEM. */
static int records_push(struct ss_record **a, size_t *n, size_t *cap, size_t first_cap,
			const struct ss_record *rec)
{
	if (*n == *cap) {
		size_t nc = *cap ? 2 * *cap : first_cap;
		struct ss_record *na = realloc(*a, nc * sizeof(*na));
		if (!na)
			return -ENOMEM;
		*a = na;
		*cap = nc;
	}
	(*a)[(*n)++] = *rec;
	return 0;
}

void rec_emit(struct ss_recorder *r, const struct ss_record *rec)
{
	if (r->started_sink) {
		int err = r->err ? r->err : r->o.on_records(r->o.arg, rec, 1);
		if (err && !r->err)
			r->err = err;
		return;
	}
	if (r->start_err)
		return;
	if (records_push(&r->pending, &r->npending, &r->cappending, 4096, rec) && !r->err)
		r->err = -ENOMEM;
}

_Static_assert(SS_BLOCK_SLOTS <= SS_BLOCK_MAX_SLOTS, "ringrec's blocks fit a trace file's");

/* Ring events as blocks (ringrec.h), packed, into the sink's buffer: once
 * the header is out (until then they wait in the ring buffer:
 * rec_holds_in_ring); none if the sink failed. */
static struct ss_ring_slot *ring_block_begin(void *arg, const struct ss_ring_chunk *hdr,
					     __u32 n, bool *pack)
{
	struct ss_recorder *r = arg;

	if (!r->started_sink || r->err)
		return NULL;
	*pack = true;
	return r->o.on_block_begin(r->o.arg, hdr, n);
}

static void ring_block_end(void *arg, const struct ss_ring_chunk *hdr,
			   const struct ss_block_done *d)
{
	struct ss_recorder *r = arg;
	int err;

	r->events += d->events;
	if ((err = r->o.on_block_end(r->o.arg, d)) && !r->err)
		r->err = err;
}

const struct ss_ringrec_blocks rec_ring_blocks = {
	.begin = ring_block_begin,
	.end = ring_block_end,
};

void rec_emit_ring_record(void *arg, const struct ss_record *rec)
{
	struct ss_recorder *r = arg;

	if (rec->type != SS_LOST)
		r->events++;
	rec_emit(r, rec);
}

int rec_on_event_record(struct ss_recorder *r, void *data, size_t size)
{
	if (size < sizeof(struct ss_record))
		return 0;
	if (((const struct ss_record *)data)->type == SS_RING_CHUNK) {
		/* A file's chunks wait in the ring buffer until its header
		 * is out (rec_holds_in_ring); one read before it (the ring
		 * buffer's positions could not be mapped) starts the header
		 * now, with what it knows then.  A sink that failed to
		 * start loses it, counted. */
		if (!r->started_sink && r->o.on_block_begin)
			(void)rec_start_sink(r);
		(void)ss_ringrec_chunk(r->rr, data, size);
		return 0;
	}
	r->events++;
	rec_emit(r, data);
	return 0;
}


int rec_on_event(void *ctx, void *data, size_t size)
{
	struct ss_recorder *r = ctx;

	if (size >= sizeof(struct ss_record) &&
	    ((const struct ss_record *)data)->type == SS_RING_WARM) {
		/* Read once, page by page: see rec_warm_ring. */
		for (size_t k = 0; k < size; k += 4096)
			(void)*(volatile const char *)((const char *)data + k);
		return 0;
	}
	r->consumed += size;
	if (r->consumed >= CONSUME_BUDGET_BYTES) {
		r->consumed = 0;
		r->more = true;
		/* Handled below; libbpf stops after this record. */
		rec_on_event_record(r, data, size);
		return BUDGET_SPENT;
	}
	return rec_on_event_record(r, data, size);
}


/* The periodic pull: the iterator drains the rings of threads that have
 * not left their CPU (bpf/stallscope.bpf.c, handle_ring_pull).  True if
 * a thread of the target had run since the last pull (or it cannot
 * tell): the next pull comes PULL_NS later, not backed off. */
bool rec_pull_rings(struct ss_recorder *r)
{
	char buf[256];
	ssize_t n;
	bool active = false;
	int fd;

	ss_ringrec_sample(r->rr);
	if (!r->pull)
		return false;
	fd = bpf_iter_create(bpf_link__fd(r->pull));
	if (fd < 0)
		return true;	/* (not known quiet) */
	/* A byte for each thread that was not quiet. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		active = true;
	close(fd);
	return active || n < 0;
}

/* Turns the BPF per-CPU lost counters into SS_LOST records (deltas). */
void rec_account_lost(struct ss_recorder *r)
{
	__u32 key = SS_COUNTER_LOST;
	__u64 vals[r->ncpus];

	if (bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.counters), &key, vals))
		return;
	for (int c = 0; c < r->ncpus; c++) {
		if (vals[c] <= r->lost_seen[c])
			continue;
		struct ss_record rec = { .ts = ss_mono_ns(), .type = SS_LOST,
					 .cpu = (__u32)c };
		rec.args[0] = vals[c] - r->lost_seen[c];
		r->lost += rec.args[0];
		r->lost_seen[c] = vals[c];
		rec_emit(r, &rec);
	}
}

static struct ss_record thread_at_attach(int tid, const char *comm)
{
	struct ss_record rec = { .ts = ss_mono_ns(), .type = SS_THREAD_AT_ATTACH,
				 .tid = (__u32)tid };
	strncpy((char *)rec.args, comm, 16);
	return rec;
}

void rec_thread_at_attach(void *arg, int tid, const char *comm)
{
	struct ss_record rec = thread_at_attach(tid, comm);

	rec_emit(arg, &rec);
}

void rec_hold_thread_at_attach(void *arg, int tid, const char *comm)
{
	struct ss_recorder *r = arg;
	struct ss_record rec = thread_at_attach(tid, comm);

	if (records_push(&r->attach_recs, &r->nattach, &r->capattach, 64, &rec))
		rec_emit(r, &rec);	/* out of order rather than lost */
}

/* Worker threads by name: wsrt's and Tokio's defaults. */
void rec_count_worker(void *arg, int tid, const char *comm)
{
	(void)tid;
	if (!strncmp(comm, "wsrt-w", 6) || !strncmp(comm, "tokio-runtime-w", 15))
		(*(__u32 *)arg)++;
}

